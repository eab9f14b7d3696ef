package host

import (
	"fmt"
	"strconv"
	"strings"
)

// PCIAddr is a PCI address, domain:bus:device.function.
type PCIAddr struct {
	Domain   uint32
	Bus      uint8
	Device   uint8 // 0..31
	Function uint8 // 0..7
}

// ParsePCIAddr accepts the full form "0000:01:00.0" and the short form
// "01:00.0" (domain 0), in either case, as DPDK and lspci print them.
func ParsePCIAddr(s string) (PCIAddr, error) {
	var a PCIAddr
	bad := func(why string) (PCIAddr, error) {
		return PCIAddr{}, fmt.Errorf("%q is not a PCI address (want [dddd:]bb:dd.f): %s", s, why)
	}
	rest, fn, ok := strings.Cut(s, ".")
	if !ok {
		return bad("no '.function'")
	}
	parts := strings.Split(rest, ":")
	switch len(parts) {
	case 2:
	case 3:
		if len(parts[0]) < 1 || len(parts[0]) > 8 {
			return bad("domain has 1 to 8 hex digits")
		}
		d, err := strconv.ParseUint(parts[0], 16, 32)
		if err != nil {
			return bad("bad domain")
		}
		a.Domain = uint32(d)
		parts = parts[1:]
	default:
		return bad("wrong number of ':'")
	}
	hex := func(f string, max uint64, what string) (uint64, bool) {
		if len(f) < 1 || len(f) > 2 {
			return 0, false
		}
		v, err := strconv.ParseUint(f, 16, 8)
		return v, err == nil && v <= max
	}
	b, ok := hex(parts[0], 0xff, "bus")
	if !ok {
		return bad("bad bus")
	}
	d, ok := hex(parts[1], 0x1f, "device")
	if !ok {
		return bad("bad device (00-1f)")
	}
	if len(fn) != 1 || fn[0] < '0' || fn[0] > '7' {
		return bad("bad function (0-7)")
	}
	a.Bus, a.Device, a.Function = uint8(b), uint8(d), fn[0]-'0'
	return a, nil
}

// String is the canonical sysfs form, "0000:01:00.0".
func (a PCIAddr) String() string {
	return fmt.Sprintf("%04x:%02x:%02x.%x", a.Domain, a.Bus, a.Device, a.Function)
}

// MarshalText makes a PCIAddr a JSON string.
func (a PCIAddr) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText parses either address form.
func (a *PCIAddr) UnmarshalText(b []byte) error {
	v, err := ParsePCIAddr(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// NormalizeMAC returns mac as lower-case "aa:bb:cc:dd:ee:ff". It accepts
// ':' or '-' separators.
func NormalizeMAC(mac string) (string, error) {
	f := strings.FieldsFunc(mac, func(r rune) bool { return r == ':' || r == '-' })
	if len(f) != 6 {
		return "", fmt.Errorf("%q is not a MAC address (want aa:bb:cc:dd:ee:ff)", mac)
	}
	for i, p := range f {
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil || len(p) > 2 {
			return "", fmt.Errorf("%q is not a MAC address (want aa:bb:cc:dd:ee:ff)", mac)
		}
		f[i] = fmt.Sprintf("%02x", v)
	}
	return strings.Join(f, ":"), nil
}

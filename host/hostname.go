package host

import (
	"os"
	"strings"
)

// Hostname is the machine's name: the kernel's for the live machine; under
// a root tree (a collected machine), the one its proc/sys/kernel/hostname
// or etc/hostname records, "" when it records none. Reports name the host
// they describe, not the one that printed them.
func (h *Host) Hostname() string {
	if h.Live() {
		if n, err := os.Hostname(); err == nil {
			return n
		}
	}
	for _, p := range []string{"/proc/sys/kernel/hostname", "/etc/hostname"} {
		if b, err := h.ReadRegularFile(p, 4096); err == nil {
			if n := strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]); n != "" {
				return n
			}
		}
	}
	return ""
}

package host

import (
	"strings"
	"testing"
)

func TestParseEALArgs(t *testing.T) {
	tests := []struct {
		name   string
		argv   string // space-separated
		check  func(*EALArgs) string
		prefix string
		probs  string
	}{
		{"defaults", "-l 0", nil, "rte", ""},
		{"two tokens", "--file-prefix gz --socket-mem 1024,0 --huge-dir /mnt/h", func(e *EALArgs) string {
			if e.SocketMem != "1024,0" || e.HugeDir != "/mnt/h" || e.Find("--file-prefix").Joined {
				return "values"
			}
			return ""
		}, "gz", ""},
		{"one token", "--file-prefix=gz --socket-mem=1024", func(e *EALArgs) string {
			if !e.Find("--file-prefix").Joined || e.SocketMem != "1024" {
				return "joined"
			}
			return ""
		}, "gz", ""},
		{"last prefix wins", "--file-prefix a --file-prefix=b", nil, "b", ""},
		{"abbreviation", "--file-pre x --proc secondary", func(e *EALArgs) string {
			if e.ProcType != "secondary" || e.Find("--file-prefix").Written != "--file-pre" {
				return "abbrev"
			}
			return ""
		}, "x", ""},
		{"ambiguous", "--no x", nil, "rte", "0:option '--no' is ambiguous"},
		{"aliases", "-w 01:00.0 --pci-whitelist 0000:02:00.0,x=1 -a net_null0 -b 0000:03:00.0 --pci-blacklist=04:00.0", func(e *EALArgs) string {
			var a, b []string
			for _, x := range e.AllowedPCI() {
				a = append(a, x.String())
			}
			for _, x := range e.BlockedPCI() {
				b = append(b, x.String())
			}
			if strings.Join(a, " ") != "0000:01:00.0 0000:02:00.0" || strings.Join(b, " ") != "0000:03:00.0 0000:04:00.0" || len(e.Allow) != 3 {
				return "allow " + strings.Join(a, " ") + " block " + strings.Join(b, " ")
			}
			return ""
		}, "rte", ""},
		{"short joined and clusters", "-l0-3 -c 0x3 -d /x/librte_net_mlx5.so -dlibB.so -vh", func(e *EALArgs) string {
			if e.Lcores != "0-3" || e.Coremask != "0x3" || strings.Join(e.Drivers, ",") != "/x/librte_net_mlx5.so,libB.so" || !e.Has("-v") || !e.Has("--help") {
				return "short"
			}
			return ""
		}, "rte", ""},
		{"flags", "--no-pci --legacy-mem --map-perfect --in-memory --no-shconf --no-huge --iova-mode va --base-virtaddr 0x100000000 --vdev net_pcap0,iface=lo --lcores 1@2", func(e *EALArgs) string {
			if !e.NoPCI || !e.LegacyMem || !e.MapPerfect || !e.InMemory || !e.NoShconf || !e.NoHuge || e.IOVAMode != "va" ||
				e.BaseVirtaddr != "0x100000000" || e.VDevs[0] != "net_pcap0,iface=lo" || e.Lcores != "1@2" || e.SharesConfig() {
				return "flags"
			}
			return ""
		}, "rte", ""},
		{"positional and --", "--syslog daemon extra -- --file-prefix z", func(e *EALArgs) string {
			if strings.Join(e.Positional, " ") != "extra --file-prefix z" {
				return "positional " + strings.Join(e.Positional, " ")
			}
			return ""
		}, "rte", ""},
		{"problems", "--bogus -q --file-prefix", nil, "rte", "0:unrecognized option '--bogus'|1:invalid option -- 'q'|2:option '--file-prefix' requires an argument"},
		{"no arg allowed", "--no-pci=1 -l", nil, "rte", "0:option '--no-pci' doesn't allow an argument|1:option requires an argument -- 'l'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ParseEALArgs(strings.Fields(tt.argv))
			if e.Prefix() != tt.prefix {
				t.Errorf("prefix %q, want %q", e.Prefix(), tt.prefix)
			}
			var probs []string
			for _, p := range e.Problems {
				probs = append(probs, strings.Join([]string{string(rune('0' + p.Index)), p.Message}, ":"))
			}
			if got := strings.Join(probs, "|"); !strings.HasPrefix(got, tt.probs) || (tt.probs == "") != (got == "") {
				t.Errorf("problems %q, want %q", got, tt.probs)
			}
			if tt.check != nil {
				if msg := tt.check(e); msg != "" {
					t.Errorf("%s: %+v", msg, e)
				}
			}
		})
	}
}

func TestProbesPCI(t *testing.T) {
	a, _ := ParsePCIAddr("0000:01:00.0")
	b, _ := ParsePCIAddr("0000:01:00.1")
	tests := []struct {
		argv string
		a, b bool
	}{
		{"-l 0", true, true},
		{"-a 01:00.0", true, false},
		{"-b 0000:01:00.0", false, true},
		{"--no-pci -a 01:00.0", false, false},
		{"-a net_null0", false, false},
	}
	for _, tt := range tests {
		e := ParseEALArgs(strings.Fields(tt.argv))
		if e.ProbesPCI(a) != tt.a || e.ProbesPCI(b) != tt.b {
			t.Errorf("%q: probes a=%v b=%v, want %v %v", tt.argv, e.ProbesPCI(a), e.ProbesPCI(b), tt.a, tt.b)
		}
	}
}

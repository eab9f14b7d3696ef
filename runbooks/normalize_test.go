package runbooks

import (
	"reflect"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want []logical
	}{
		{"plain", "EAL: Cannot init config", []logical{{"EAL: Cannot init config", "Cannot init config"}}},
		{"crlf", "EAL: Cannot init config\r\n", []logical{{"EAL: Cannot init config", "Cannot init config"}}},
		{"progress", "capturing 10\rcapturing 20\rEAL: Failed to hotplug add device\r", []logical{{"EAL: Failed to hotplug add device", "Failed to hotplug add device"}}},
		{"ansi", "\x1b[1;31mEAL: FATAL: Cannot init config\x1b[0m", []logical{{"EAL: FATAL: Cannot init config", "FATAL: Cannot init config"}}},
		{"syslog", "Apr  7 07:13:35 abcd collectd-dpdk[17283]: EAL: Cannot initialize tailq: RTE_DISTRIBUTOR",
			[]logical{{"EAL: Cannot initialize tailq: RTE_DISTRIBUTOR", "Cannot initialize tailq: RTE_DISTRIBUTOR"}}},
		{"journal short-iso", "2026-06-12T10:02:11+0800 host gazelle-pdump[38]: vdev_scan(): Failed to request vdev from primary",
			[]logical{{"vdev_scan(): Failed to request vdev from primary", "Failed to request vdev from primary"}}},
		{"bracket timestamp", "[2026-06-12 10:02:11.123] EAL: Cannot init config", []logical{{"EAL: Cannot init config", "Cannot init config"}}},
		{"dmesg", "[ 1234.567890] EAL: Cannot init config", []logical{{"EAL: Cannot init config", "Cannot init config"}}},
		{"glog", "F0404 01:10:36.908143     1 dpdk.cc:169] rte_eal_init() failed: ret = -1", []logical{{"rte_eal_init() failed: ret = -1", "rte_eal_init() failed: ret = -1"}}},
		{"json msg", `{"level":"error","msg":"EAL: 0000:44:00.3 VFIO group is not viable!"}`,
			[]logical{{"EAL: 0000:44:00.3 VFIO group is not viable!", "0000:44:00.3 VFIO group is not viable!"}}},
		{"journal json with newline", `{"MESSAGE":"EAL: a\nEAL: b","_PID":"1"}`, []logical{{"EAL: a", "a"}, {"EAL: b", "b"}}},
		{"glued", "EAL: secondary process attach failed, ethdev doesn't existEAL: Requested device 0000:5e:00.1 cannot be used",
			[]logical{{"EAL: secondary process attach failed, ethdev doesn't exist", "secondary process attach failed, ethdev doesn't exist"},
				{"EAL: Requested device 0000:5e:00.1 cannot be used", "Requested device 0000:5e:00.1 cannot be used"}}},
		{"24.11 prefixes", "PDUMP: pdump_prepare_client_request(): client request for pdump enable/disable failed",
			[]logical{{"PDUMP: pdump_prepare_client_request(): client request for pdump enable/disable failed", "client request for pdump enable/disable failed"}}},
		{"lstack prefix", "LSTACK: dpdk_eal_init:252 rte_eal_init failed init, rte_errno 19",
			[]logical{{"LSTACK: dpdk_eal_init:252 rte_eal_init failed init, rte_errno 19", "rte_eal_init failed init, rte_errno 19"}}},
		{"rte_exit cause", "  Cause: vdev creation failed:create_mp_ring_vdev:700", []logical{{"  Cause: vdev creation failed:create_mp_ring_vdev:700", "Cause: vdev creation failed:create_mp_ring_vdev:700"}}},
		{"invalid utf-8", "EAL: \xff\xfe bad", []logical{{"EAL: \uFFFD bad", "\uFFFD bad"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := normalize(tt.raw); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("normalize(%q)\n got %q\nwant %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestNormalizeCapsLongLines(t *testing.T) {
	got := normalize("EAL: " + strings.Repeat("x", 1<<20))
	if len(got) != 1 || len(got[0].Text) > maxMatchBytes {
		t.Errorf("long line: %d logical lines, %d bytes", len(got), len(got[0].Text))
	}
}

func TestErrnoValues(t *testing.T) {
	for in, want := range map[string]string{
		"-22": "EINVAL", "22": "EINVAL", "Unknown error -22": "EINVAL", "Invalid argument": "EINVAL",
		"Unknown error -17": "EEXIST", "Connection refused": "ECONNREFUSED", "13": "EACCES", "9999": "9999", "weird": "weird",
	} {
		if got := normalizeValue("errno", in); got != want {
			t.Errorf("errno %q = %q, want %q", in, got, want)
		}
	}
	if got := normalizeValue("device", "0000:5E:00.1"); got != "0000:5e:00.1" {
		t.Errorf("device = %q", got)
	}
	if got := normalizeValue("path", "/var/run/dpdk/rte/"); got != "/var/run/dpdk/rte" {
		t.Errorf("path = %q", got)
	}
}

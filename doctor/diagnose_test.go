package doctor

import (
	"testing"

	"github.com/gzdoctor/gzdoctor/runbooks"
)

// TestFindingsTarget: diagnose --live aims the checks at the first prefix
// and the first device the findings name; the tool's prefix before the
// primary's, the device asked for (device_id) before one merely probed.
func TestFindingsTarget(t *testing.T) {
	f := func(kv ...string) runbooks.Finding {
		v := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			v[kv[i]] = kv[i+1]
		}
		return runbooks.Finding{Values: v}
	}
	for _, tc := range []struct {
		name           string
		findings       []runbooks.Finding
		prefix, device string
	}{
		{"none", nil, "", ""},
		{"tool's prefix first", []runbooks.Finding{f("primary_prefix", "gazelle", "prefix", "gazele")}, "gazele", ""},
		{"primary's prefix", []runbooks.Finding{f("primary_prefix", "gazelle")}, "gazelle", ""},
		{"device asked for first", []runbooks.Finding{f("device", "0000:00:03.0", "device_id", "net_ring0")}, "", "net_ring0"},
		{"runtime dir only", []runbooks.Finding{f("runtime_dir", "/var/run/dpdk/adv3-nh")}, "adv3-nh", ""},
		{"a user's runtime dir", []runbooks.Finding{f("runtime_dir", "/run/user/1000/dpdk/gz/")}, "gz", ""},
		{"the placeholder is no prefix", []runbooks.Finding{f("runtime_dir", "/var/run/dpdk/<your prefix>")}, "", ""},
		{"a dir that is no runtime dir", []runbooks.Finding{f("runtime_dir", "/var/run/dpdk")}, "", ""},
		{"the first finding that names one, by its dir", []runbooks.Finding{f("runtime_dir", "/var/run/dpdk/b"), f("prefix", "a")}, "b", ""},
		{"first finding that names one", []runbooks.Finding{f("errno", "13"), f("device", "0000:01:00.0"), f("prefix", "a", "device_id", "net_ring1")}, "a", "0000:01:00.0"},
	} {
		p, d := findingsTarget(&runbooks.Report{Findings: tc.findings})
		if p != tc.prefix || d != tc.device {
			t.Errorf("%s: got %q, %q; want %q, %q", tc.name, p, d, tc.prefix, tc.device)
		}
	}
}

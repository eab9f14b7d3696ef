package elfcheck

import "testing"

// TestMeasurement pins the one rule by which the sweep and gzdoctor check's
// runtime-dir tell a measurement dir and its owner's liveness.
func TestMeasurement(t *testing.T) {
	alive := func(pid int) bool { return pid == 7001 }
	for _, tc := range []struct {
		name           string
		pid            int
		running, isOps bool
	}{
		{"gzdoctor-ops-7001-1796197863801126909", 7001, true, true},
		{"gzdoctor-ops-7002-1796197863001126909", 7002, false, true},
		{"gzdoctor-ops-x-1", 0, false, false},
		{"gzdoctor-ops-0-1", 0, false, false},
		{"gzdoctor-ops-7001", 0, false, false},
		{"gazelle", 0, false, false},
		{"gzdoctor-ops", 0, false, false},
	} {
		pid, running, ok := Measurement(tc.name, alive)
		if pid != tc.pid || running != tc.running || ok != tc.isOps {
			t.Errorf("Measurement(%q) = %d, %v, %v; want %d, %v, %v", tc.name, pid, running, ok, tc.pid, tc.running, tc.isOps)
		}
	}
}

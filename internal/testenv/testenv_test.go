package testenv

import "testing"

// recorder is a testing.TB that records how a test would have ended.
type recorder struct {
	testing.TB
	fatal, skip bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Fatalf(string, ...any) { r.fatal = true }
func (r *recorder) Skipf(string, ...any)  { r.skip = true }

func TestMissingToolSkipsLocallyAndFailsInCI(t *testing.T) {
	for _, ci := range []bool{false, true} {
		if ci {
			t.Setenv("GZDOCTOR_REQUIRE_LAB", "1")
		} else {
			t.Setenv("GZDOCTOR_REQUIRE_LAB", "")
		}
		r := &recorder{TB: t}
		Tool(r, "gzdoctor-no-such-tool", "nothing provides it")
		if r.fatal != ci || r.skip == ci {
			t.Errorf("CI %v: fatal %v skip %v", ci, r.fatal, r.skip)
		}
		r = &recorder{TB: t}
		File(r, "/nonexistent/gzdoctor", "nothing")
		if r.fatal != ci || r.skip == ci {
			t.Errorf("CI %v, file: fatal %v skip %v", ci, r.fatal, r.skip)
		}
	}
	r := &recorder{TB: t}
	if p := Tool(r, "sh", "base system"); p == "" || r.fatal || r.skip {
		t.Errorf("sh: %q fatal %v skip %v", p, r.fatal, r.skip)
	}
}

package host

import "testing"

// TestHalted: the states in which a primary answers no capture tool, and
// what each says; capture -D and check's primary check both print these.
func TestHalted(t *testing.T) {
	for _, tt := range []struct {
		state, want string
	}{
		{"R", ""},
		{"S", ""},
		{"D", ""},
		{"T", "stopped (state T: SIGSTOP or Ctrl-Z): it answers no capture tool until it continues (kill -CONT 42)"},
		{"t", "held stopped by a debugger (state t, tracer pid 7): it answers no capture tool until the debugger lets it run"},
		{"Z", "exited (state Z, zombie): there is no primary to capture from"},
		{"X", "exited (state X, zombie): there is no primary to capture from"},
	} {
		p := &Process{PID: 42, State: tt.state, TracerPID: 7}
		h := p.Halted()
		got := ""
		if h != nil {
			got = h.String()
		}
		if got != tt.want {
			t.Errorf("state %s: %q, want %q", tt.state, got, tt.want)
		}
	}
}

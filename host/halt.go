package host

import (
	"fmt"
	"strconv"
)

// Halt is why a process that still has a /proc entry answers nobody: its
// mp_socket and telemetry requests would only time out, and a capture tool
// attaching to it hangs. check's primary check, capture's preflight and
// capture -D all read it here.
type Halt struct {
	// State is the /proc/<pid>/status letter: T, t, Z or X.
	State string
	// Verb goes before Words in a sentence about the process: "is" or "has".
	Verb string
	// Words says what the state is ("stopped (state T: SIGSTOP or
	// Ctrl-Z)").
	Words string
	// Effect is what it means for a capture ("it answers no capture tool
	// until it continues").
	Effect string
	// Resume is the command that makes it answer again; "" when none does
	// (a traced process resumes in its debugger, an exited one never).
	Resume string
}

// Halted says why p answers nobody: stopped by a signal (T), held by a
// debugger (t), or exited and not reaped (Z, X). Nil when it runs.
func (p *Process) Halted() *Halt {
	switch p.State {
	case "T":
		return &Halt{State: p.State, Verb: "is", Words: "stopped (state T: SIGSTOP or Ctrl-Z)",
			Effect: "it answers no capture tool until it continues", Resume: fmt.Sprintf("kill -CONT %d", p.PID)}
	case "t":
		return &Halt{State: p.State, Verb: "is", Words: fmt.Sprintf("held stopped by a debugger (state t, tracer pid %d)", p.TracerPID),
			Effect: "it answers no capture tool until the debugger lets it run"}
	case "Z", "X":
		return &Halt{State: p.State, Verb: "has", Words: fmt.Sprintf("exited (state %s, zombie)", p.State),
			Effect: "there is no primary to capture from"}
	}
	return nil
}

// String is the halt in one clause: what the state is, what it means, and
// the command that resumes it.
func (h *Halt) String() string {
	s := h.Words + ": " + h.Effect
	if h.Resume != "" {
		s += " (" + h.Resume + ")"
	}
	return s
}

// ReadHalt is Halted for pid from /proc/<pid>/status alone: a capture asks
// once a second, and ReadProcess also reads the primary's maps.
func (h *Host) ReadHalt(pid int) (*Halt, error) {
	b, err := h.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return nil, err
	}
	p := &Process{PID: pid, UID: -1, EUID: -1}
	parseStatus(b, p)
	return p.Halted(), nil
}

package capture

import (
	"fmt"
	"time"

	"github.com/gzdoctor/gzdoctor/host"
)

// haltWatch reads the primary's process state while the capture runs: a
// primary stopped by SIGSTOP (or held by a debugger) answers neither
// telemetry nor pdump, so the watchdog has nothing to judge by and the
// progress line would only show 0 pkt/s. It names the state and the
// command that resumes it, as capture -D and check do (host.Halt).
type haltWatch struct {
	h     *host.Host
	pid   int
	every time.Duration
	next  time.Time
	cur   *host.Halt
}

func newHaltWatch(root string, pid int) *haltWatch {
	if pid <= 0 {
		return nil
	}
	return &haltWatch{h: host.New(orRoot(root)), pid: pid, every: watchEvery}
}

// check reads the state when a period has passed and returns the halt in
// words, "" when the primary runs.
func (hw *haltWatch) check(now time.Time) string {
	if hw == nil {
		return ""
	}
	if !now.Before(hw.next) {
		hw.next = now.Add(hw.every)
		// An unreadable status (the primary exited and was reaped) is
		// the supervisor's other signals' to tell.
		hw.cur, _ = hw.h.ReadHalt(hw.pid)
	}
	if hw.cur == nil {
		return ""
	}
	return haltWords(hw.pid, hw.cur)
}

// haltWords is the primary's halt in one clause, with its pid.
func haltWords(pid int, h *host.Halt) string {
	return fmt.Sprintf("the primary (pid %d) %s %s", pid, h.Verb, h.String())
}

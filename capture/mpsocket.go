package capture

import (
	"os"
	"path/filepath"

	"github.com/gzdoctor/gzdoctor/host"
)

// removeBackendSocket removes the mp_socket_<pid>_<tsc> that the backend
// (a DPDK secondary) bound in the primary's runtime dir and left there
// because it ended without EAL's cleanup (an abort, a kill): lab, a
// dpdk-pdump aborting on a --no-huge primary. Only sockets of the
// backend's own pid that nothing binds any more, and only once gzdoctor
// has reaped it: nothing another process made or uses.
func (s *supervisor) removeBackendSocket() {
	if s.cmd == nil || s.cmd.ProcessState == nil || s.p.runtimeDir == "" {
		return
	}
	pid := s.cmd.Process.Pid
	pre, err := host.New("/").ScanPrefix(s.p.runtimeDir)
	if err != nil {
		return
	}
	for _, sec := range pre.Secondaries {
		if sec.PID == pid && sec.Bound != nil && !*sec.Bound {
			os.Remove(filepath.Join(s.p.runtimeDir, sec.Name))
		}
	}
}

package elfcheck

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// AnalyzePID analyses a running process under opts.Root: its executable
// (/proc/N/exe) and the libraries it really mapped (/proc/N/maps), in map
// order, instead of a search. When opts.EALArgs is empty the process's own
// command line supplies the -d options.
func AnalyzePID(ctx context.Context, pid int, opts Options) (_ *Report, err error) {
	defer faultGuard()(&err)
	if pid <= 0 {
		return nil, fmt.Errorf("invalid pid %d", pid)
	}
	fs := newRootFS(opts.Root)
	procDir := "/proc/" + strconv.Itoa(pid)
	exeLink, err := fs.hostPathNoFollow(procDir + "/exe")
	if err != nil {
		return nil, err
	}
	exe, err := os.Readlink(exeLink)
	if err != nil {
		return nil, fmt.Errorf("process %d: %w", pid, err)
	}
	exe = strings.TrimSuffix(exe, " (deleted)")
	maps, err := fs.readFile(procDir+"/maps", 64<<20)
	if err != nil {
		return nil, fmt.Errorf("process %d: %w", pid, err)
	}
	mapped := []string{} // non-nil: analyzeObject uses it instead of a search
	seen := map[string]bool{}
	for _, line := range strings.Split(string(maps), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 6 || !strings.HasPrefix(fields[5], "/") {
			continue
		}
		p := strings.Join(fields[5:], " ")
		p = strings.TrimSuffix(p, " (deleted)")
		if seen[p] || p == exe || strings.HasPrefix(p, "/dev/") || strings.HasPrefix(p, "/memfd:") {
			continue
		}
		seen[p] = true
		mapped = append(mapped, p)
	}
	if len(opts.EALArgs) == 0 {
		if b, err := fs.readFile(procDir+"/cmdline", 1<<20); err == nil {
			args := strings.Split(string(bytes.TrimRight(b, "\x00")), "\x00")
			if len(args) > 1 {
				opts.EALArgs = args[1:]
			}
		}
	}
	hp, err := fs.hostPath(exe)
	if err != nil {
		return nil, fmt.Errorf("process %d executable %s: %w", pid, exe, err)
	}
	o, err := openObject(exe, hp)
	if err != nil {
		return nil, err
	}
	rep, err := analyzeObject(ctx, fs, o, opts, mapped)
	if err != nil {
		return nil, err
	}
	rep.PID = pid
	return rep, nil
}

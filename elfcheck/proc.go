package elfcheck

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
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
	fs.rec = opts.Recorder
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
	mapped, base, err := readMaps(fs, pid, exe)
	if err != nil {
		return nil, err
	}
	if len(opts.Preload) == 0 {
		if b, err := fs.readFile(procDir+"/environ", 1<<20); err == nil {
			for _, kv := range strings.Split(string(b), "\x00") {
				if v, ok := strings.CutPrefix(kv, "LD_PRELOAD="); ok {
					// ld.so splits LD_PRELOAD on spaces and colons.
					opts.Preload = strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ':' })
				}
			}
		}
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
	rep.Preload = opts.Preload
	if opts.NoMemory || !readLiveOps(fs, pid, rep, o, exe, base) {
		note := rep.DPDK.OpsTableNote
		rep.DPDK.predict(&rep.DPDK)
		if note != "" {
			rep.DPDK.OpsTableNote = note
		}
	}
	return rep, nil
}

// readLiveOps replaces the predicted mempool ops table by the one the
// process really has, read from its memory, when it can be read (root, the
// live machine, a known layout); otherwise the prediction stays and
// OpsTableNote says why.
func readLiveOps(fs rootFS, pid int, rep *Report, exeObj *object, exe string, base map[string]uint64) bool {
	type cand struct {
		o    *object
		path string
	}
	cands := []cand{{exeObj, exe}}
	for _, l := range rep.Libraries {
		if l.obj != nil {
			cands = append(cands, cand{l.obj, l.Path})
		}
	}
	for _, c := range cands {
		if c.o.scan == nil || !c.o.scan.hasOpsTable {
			continue
		}
		start, ok := base[c.path]
		if !ok {
			continue
		}
		table, err := readOpsTable(fs, pid, c.o, c.o.scan.opsTable, loadBias(c.o, start))
		if err != nil {
			rep.DPDK.OpsTableNote = fmt.Sprintf("reading %s in pid %d: %v; predicted from the load order instead", symOpsTable, pid, err)
			return false
		}
		rep.DPDK.OpsTable, rep.DPDK.OpsTableFrom = table, "memory"
		rep.DPDK.OpsTableNote = fmt.Sprintf("read from pid %d's memory (%s in %s)", pid, symOpsTable, path.Base(c.path))
		return true
	}
	return false
}

// readMaps lists the files process pid mapped, in map order (not exe, not
// devices), and where each one's mapping at file offset 0 starts.
func readMaps(fs rootFS, pid int, exe string) (mapped []string, base map[string]uint64, err error) {
	maps, err := fs.readFile("/proc/"+strconv.Itoa(pid)+"/maps", 64<<20)
	if err != nil {
		return nil, nil, fmt.Errorf("process %d: %w", pid, err)
	}
	mapped = []string{} // non-nil: analyzeObject uses it instead of a search
	seen := map[string]bool{}
	base = map[string]uint64{}
	for _, line := range strings.Split(string(maps), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 6 || !strings.HasPrefix(fields[5], "/") {
			continue
		}
		p := strings.Join(fields[5:], " ")
		p = strings.TrimSuffix(p, " (deleted)")
		if lo, _, ok := strings.Cut(fields[0], "-"); ok && strings.Trim(fields[2], "0") == "" {
			if v, err := strconv.ParseUint(lo, 16, 64); err == nil {
				if _, dup := base[p]; !dup {
					base[p] = v
				}
			}
		}
		if seen[p] || p == exe || strings.HasPrefix(p, "/dev/") || strings.HasPrefix(p, "/memfd:") {
			continue
		}
		seen[p] = true
		mapped = append(mapped, p)
	}
	return mapped, base, nil
}

package elfcheck

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// MeasureOps replaces rep's predicted mempool ops table by the one the
// capture tool really builds: it starts the tool (rep.Path, dpdk-pdump)
// under ptrace as a secondary of a file prefix no primary has, so that
// EAL loads the plugin directory (whose constructors register ops, in an
// order the prediction got wrong on 24.11) and then fails at
// rte_config_init, before any hugepage or shared memory is touched. At
// that stop (pdump's rte_panic abort, or its exit) the table is read from
// the tool's memory with the reader AnalyzePID uses for a primary, and the
// tool is killed before the abort is delivered (no core file). EAL creates
// only the empty runtime directory /var/run/dpdk/<prefix>, which is
// removed. On an error rep is unchanged and the caller keeps the
// prediction.
func MeasureOps(ctx context.Context, rep *Report, opts Options) error {
	if fs := newRootFS(opts.Root); !fs.live() {
		return errors.New("the capture tool is under --root, not on the live machine")
	}
	if os.Geteuid() != 0 {
		return errors.New("not root (starting the capture tool under ptrace and reading its memory need root)")
	}
	if base := path.Base(rep.Path); base != "dpdk-pdump" {
		return fmt.Errorf("only dpdk-pdump can be started without a primary (not %s)", base)
	}
	sweepRunDirs()
	prefix := fmt.Sprintf("%s%d-%d", opsPrefix, os.Getpid(), time.Now().UnixNano())
	runDir := "/var/run/dpdk/" + prefix
	if _, err := os.Lstat(runDir); err == nil {
		return fmt.Errorf("%s exists", runDir)
	}
	defer os.Remove(runDir) // EAL's mkdir; Remove refuses a non-empty directory
	type result struct {
		table []string
		note  string
		err   error
	}
	done := make(chan result, 1)
	pidc := make(chan int, 1)
	go func() {
		// ptrace requests must come from the thread that traces.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		t, n, err := traceOps(ctx, rep.Path, prefix, pidc)
		done <- result{t, n, err}
	}()
	var pid int
	select {
	case pid = <-pidc:
	case r := <-done:
		return r.err
	}
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		// The tracer waits in wait4; SIGKILL ends a stopped tracee too.
		syscall.Kill(pid, syscall.SIGKILL)
		r = <-done
		if r.err == nil {
			r.err = ctx.Err()
		}
	}
	if r.err != nil {
		return r.err
	}
	rep.DPDK.OpsTable, rep.DPDK.OpsTableFrom = r.table, "memory"
	rep.DPDK.OpsTableNote = r.note
	return nil
}

// traceOps runs tool under ptrace on the calling (locked) thread and
// returns its table. The tracee is always killed and reaped.
func traceOps(ctx context.Context, tool, prefix string, pidc chan<- int) ([]string, string, error) {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, "", err
	}
	defer null.Close()
	argv := []string{tool, "--file-prefix", prefix, "--", "--pdump", "port=0,queue=*,rx-dev=/dev/null"}
	fd := null.Fd()
	pid, err := syscall.ForkExec(tool, argv, &syscall.ProcAttr{
		Dir:   "/",
		Env:   []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"},
		Files: []uintptr{fd, fd, fd},
		Sys:   &syscall.SysProcAttr{Ptrace: true, Pdeathsig: syscall.SIGKILL},
	})
	if err != nil {
		return nil, "", fmt.Errorf("starting %s under ptrace: %w", tool, err)
	}
	pidc <- pid
	reaped := false
	defer func() {
		if !reaped {
			// The tracee may sit in a stop we have already waited for
			// (at PTRACE_EVENT_EXIT, where we read it): SIGKILL stays
			// pending there and wait4 would block for good (seen: pdumps
			// in state t with SIGKILL pending, their gzdoctor in
			// do_wait). Resume it after the kill, and after every stop
			// it reports on its way out.
			syscall.Kill(pid, syscall.SIGKILL)
			syscall.PtraceCont(pid, 0)
			var ws syscall.WaitStatus
			for {
				_, err := syscall.Wait4(pid, &ws, syscall.WALL, nil)
				if err == syscall.EINTR {
					continue
				}
				if err != nil || ws.Exited() || ws.Signaled() {
					break
				}
				syscall.PtraceCont(pid, 0)
			}
		}
	}()
	wait := func() (syscall.WaitStatus, error) {
		var ws syscall.WaitStatus
		for {
			_, err := syscall.Wait4(pid, &ws, syscall.WALL, nil)
			if err == syscall.EINTR {
				continue
			}
			if err == nil && (ws.Exited() || ws.Signaled()) {
				reaped = true
			}
			return ws, err
		}
	}
	ws, err := wait()
	if err != nil || !ws.Stopped() {
		return nil, "", fmt.Errorf("%s did not stop at exec under ptrace (%v)", tool, err)
	}
	if err := syscall.PtraceSetOptions(pid, syscall.PTRACE_O_TRACEEXIT|0x100000 /* PTRACE_O_EXITKILL */); err != nil {
		return nil, "", fmt.Errorf("ptrace: %w", err)
	}
	sig := 0
	for {
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		if err := syscall.PtraceCont(pid, sig); err != nil {
			return nil, "", fmt.Errorf("ptrace: %w", err)
		}
		ws, err = wait()
		if err != nil {
			return nil, "", err
		}
		if ws.Exited() || ws.Signaled() {
			if ctx.Err() != nil {
				return nil, "", ctx.Err()
			}
			return nil, "", fmt.Errorf("%s ended (%v) before it could be read", tool, ws)
		}
		stop := ws.StopSignal()
		if ws.TrapCause() == syscall.PTRACE_EVENT_EXIT || stop == syscall.SIGABRT {
			break
		}
		sig = 0
		if stop != syscall.SIGTRAP && stop != syscall.SIGSTOP {
			sig = int(stop) // the tool's own signals go on
		}
	}
	why := "its exit"
	if ws.StopSignal() == syscall.SIGABRT {
		why = "its abort (rte_panic: \"Cannot init EAL\")"
	}
	// The tracee is stopped: its maps and table are what its constructors
	// and EAL's plugin loading left. Only the objects that can define the
	// table are opened (the tool maps hundreds of plugins).
	table, err := liveOpsTable(pid)
	if err != nil {
		return nil, "", err
	}
	note := fmt.Sprintf("measured: %s started under ptrace as a secondary of the unused prefix %s (EAL loads its drivers and stops at the missing config), read at %s from its memory", path.Base(tool), prefix, why)
	return table, note + " (" + strconv.Itoa(len(table)) + " ops)", nil
}

// liveOpsTable reads process pid's rte_mempool_ops_table from the object
// that defines it: its executable (static DPDK) or librte_mempool.
func liveOpsTable(pid int) ([]string, error) {
	fs := newRootFS("")
	exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil {
		return nil, err
	}
	exe = strings.TrimSuffix(exe, " (deleted)")
	mapped, base, err := readMaps(fs, pid, exe)
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	exeObj, err := openObject(exe, exe)
	if err != nil {
		return nil, err
	}
	defer exeObj.close()
	exeObj.dpdk(false)
	for _, m := range mapped {
		if !strings.HasPrefix(path.Base(m), "librte_mempool.so") {
			continue
		}
		o, err := openObject(m, m)
		if err != nil {
			return nil, err
		}
		defer o.close()
		o.dpdk(false)
		rep.Libraries = append(rep.Libraries, &Library{Path: m, obj: o})
	}
	if !readLiveOps(fs, pid, rep, exeObj, exe, base) {
		if rep.DPDK.OpsTableNote != "" {
			return nil, errors.New(rep.DPDK.OpsTableNote)
		}
		return nil, fmt.Errorf("no %s in pid %d's executable or librte_mempool", symOpsTable, pid)
	}
	return rep.DPDK.OpsTable, nil
}

const opsPrefix = "gzdoctor-ops-"

// Measurement says whether the DPDK prefix name is a build-match
// measurement's (gzdoctor-ops-<pid>-<ns>, made by the pdump MeasureOps
// traces), whose gzdoctor and whether that gzdoctor still runs (alive is
// asked about its pid). The dir belongs to that gzdoctor while it runs: it
// removes it when the measurement ends, and the next measurement removes
// those of gzdoctors that ended first. Both the sweep and gzdoctor check's
// runtime-dir go by this one rule.
func Measurement(name string, alive func(pid int) bool) (pid int, running, ok bool) {
	rest, ok := strings.CutPrefix(name, opsPrefix)
	if !ok {
		return 0, false, false
	}
	owner, ns, _ := strings.Cut(rest, "-")
	pid, err := strconv.Atoi(owner)
	if err != nil || pid <= 0 || ns == "" {
		return 0, false, false
	}
	return pid, alive(pid), true
}

// processAlive is kill(pid, 0) on this machine: anything but "no such
// process" counts as alive (EPERM is someone else's live process).
func processAlive(pid int) bool { return syscall.Kill(pid, 0) != syscall.ESRCH }

// sweepRunDirs removes the empty runtime directories earlier measurements
// left when their gzdoctor ended first (a whole run's timeout can end
// gzdoctor while the ELF analysis still runs; the tracee dies with it,
// PTRACE_O_EXITKILL, but nothing removes the directory): only those of
// gzdoctor processes that no longer exist.
func sweepRunDirs() {
	es, err := os.ReadDir("/var/run/dpdk")
	if err != nil {
		return
	}
	for _, e := range es {
		if _, running, ok := Measurement(e.Name(), processAlive); !ok || running || !e.IsDir() {
			continue
		}
		os.Remove("/var/run/dpdk/" + e.Name()) // refuses a non-empty directory
	}
}

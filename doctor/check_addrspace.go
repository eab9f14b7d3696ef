package doctor

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// minMapCount is the kernel default of vm.max_map_count; DPDK maps one
// region per hugepage segment, so a lowered limit bites first.
const minMapCount = 65530

// checkAddressSpace (CHK-14): DPDK reserves tens of GiB of virtual address
// space up front (memseg lists), so a `ulimit -v` on the capture tool or the
// primary, or a low vm.max_map_count, makes EAL fail with "Cannot get a
// virtual area".
func checkAddressSpace(ctx context.Context, env *Env) Result {
	var problems, details, cmds []string
	if env.h.Live() {
		var lim unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_AS, &lim); err == nil {
			if lim.Cur != unix.RLIM_INFINITY {
				problems = append(problems, fmt.Sprintf("this shell's virtual memory is limited to %d MiB (ulimit -v)", lim.Cur>>20))
				cmds = append(cmds, "ulimit -v unlimited")
			} else {
				details = append(details, "this shell: ulimit -v unlimited")
			}
		}
	}
	if b, err := env.h.ReadFile("/proc/sys/vm/max_map_count"); err == nil {
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		switch {
		case err != nil:
			details = append(details, "vm.max_map_count unreadable: "+strings.TrimSpace(string(b)))
		case n < minMapCount:
			problems = append(problems, fmt.Sprintf("vm.max_map_count is %d (kernel default %d)", n, minMapCount))
			// Only ever raised: a count above the default is the
			// operator's, and lowering it is what this check warns of.
			cmds = append(cmds, fmt.Sprintf("sysctl -w vm.max_map_count=%d", minMapCount))
		default:
			details = append(details, fmt.Sprintf("vm.max_map_count %d", n))
		}
	}
	if p, err := env.Primary(ctx); err == nil && p != nil {
		if lim, err := processAddressLimit(env, p.PID); err == nil && lim != "" {
			if lim != "unlimited" {
				problems = append(problems, fmt.Sprintf("the primary (pid %d) runs with Max address space %s bytes", p.PID, lim))
				if !slices.Contains(cmds, "ulimit -v unlimited") {
					cmds = append([]string{"ulimit -v unlimited"}, cmds...)
				}
			} else {
				details = append(details, fmt.Sprintf("primary pid %d: Max address space unlimited", p.PID))
			}
		}
	}
	if len(problems) > 0 {
		return warn(strings.Join(problems, "; "),
			fix("DPDK reserves large virtual areas; remove the limit before starting the capture tool (and the primary)",
				cmds...),
			details...)
	}
	return ok("no address-space limit in the way", details...)
}

// processAddressLimit reads the soft "Max address space" of a process from
// /proc/<pid>/limits.
func processAddressLimit(env *Env, pid int) (string, error) {
	b, err := env.h.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Max address space"); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				return f[0], nil
			}
		}
	}
	return "", nil
}

package lab

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// hangReport says what a primary that ignored a signal was doing: per
// thread its name, scheduler state, kernel wait channel and kernel stack,
// then every thread's user-space backtrace from gdb when gdb is installed.
// A primary that does not stop must leave evidence: "ignored SIGINT" alone
// cannot tell a busy machine from a deadlock, or a lab bug from a capture
// that broke the primary it attached to.
func hangReport(pid int) string {
	var b strings.Builder
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/[0-9]*", pid))
	if err != nil || len(tasks) == 0 {
		return fmt.Sprintf("no /proc/%d/task: %v", pid, err)
	}
	sort.Slice(tasks, func(i, j int) bool {
		a, _ := strconv.Atoi(filepath.Base(tasks[i]))
		c, _ := strconv.Atoi(filepath.Base(tasks[j]))
		return a < c
	})
	fmt.Fprintf(&b, "threads of pid %d:\n", pid)
	for _, task := range tasks {
		comm := readTrim(filepath.Join(task, "comm"))
		state, utime, stime := taskStat(filepath.Join(task, "stat"))
		wchan := readTrim(filepath.Join(task, "wchan"))
		fmt.Fprintf(&b, "  tid %s %q state %s utime %s stime %s wchan %s\n", filepath.Base(task), comm, state, utime, stime, wchan)
		if stack := readTrim(filepath.Join(task, "stack")); stack != "" {
			for i, line := range strings.Split(stack, "\n") {
				if i == 6 {
					b.WriteString("      ...\n")
					break
				}
				fmt.Fprintf(&b, "      %s\n", line)
			}
		}
	}
	if gdb, err := exec.LookPath("gdb"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, gdb, "-nx", "-batch", "-p", strconv.Itoa(pid),
			"-ex", "thread apply all bt 16").CombinedOutput()
		fmt.Fprintf(&b, "gdb backtraces (%v):\n", err)
		for _, line := range strings.Split(string(out), "\n") {
			// gdb's chatter about symbol files is noise next to the frames.
			if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "Thread ") {
				fmt.Fprintf(&b, "  %s\n", line)
			}
		}
	} else {
		b.WriteString("no gdb on PATH: no user-space backtraces\n")
	}
	return b.String()
}

func readTrim(path string) string {
	b, _ := os.ReadFile(path)
	return strings.TrimSpace(string(b))
}

// taskStat returns a task's state, utime and stime (clock ticks) from its
// stat file; the comm field may hold spaces, so fields count from ')'.
func taskStat(path string) (state, utime, stime string) {
	b, _ := os.ReadFile(path)
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return "?", "?", "?"
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return "?", "?", "?"
	}
	// After ')': state is field 3 of stat(5), utime 14, stime 15.
	return f[0], f[11], f[12]
}

package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/internal/lab"
)

// complete runs cobra's __complete as the shell scripts do and returns
// the candidates (value<TAB>description) without the directive line.
func complete(t *testing.T, args ...string) []string {
	t.Helper()
	code, out, errOut := run(t, append([]string{"__complete"}, args...)...)
	if code != exitOK {
		t.Fatalf("__complete %v: exit %d %s", args, code, errOut)
	}
	var c []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l != "" && !strings.HasPrefix(l, ":") {
			c = append(c, l)
		}
	}
	return c
}

func hasCandidate(c []string, value string) bool {
	for _, l := range c {
		if v, _, _ := strings.Cut(l, "\t"); v == value {
			return true
		}
	}
	return false
}

func TestCompleteCheckIDs(t *testing.T) {
	c := complete(t, "check", "--only", "")
	if !hasCandidate(c, "prefix") || !hasCandidate(c, "busy") || len(c) < 10 {
		t.Errorf("check --only: %v", c)
	}
	// A comma-separated list: what is typed stays, a listed ID is not
	// offered again.
	c = complete(t, "check", "--skip", "prefix,pri")
	if !hasCandidate(c, "prefix,primary") || hasCandidate(c, "prefix,prefix") || hasCandidate(c, "primary") {
		t.Errorf("check --skip prefix,…: %v", c)
	}
	if c := complete(t, "runbooks", "show", ""); !hasCandidate(c, "file-prefix-mismatch") {
		t.Errorf("runbooks show: %v", c)
	}
}

// Live completion from real primaries: prefixes with their pid, ports by
// name and number from the primary's telemetry, and on DPDK 20.11 (whose
// telemetry lists ids only) names from its EAL arguments.
func TestCompleteLab(t *testing.T) {
	t.Parallel()
	p := lab.StartT(t, lab.Config{})
	if c := complete(t, "capture", "--prefix", ""); !hasCandidate(c, p.Prefix) || !strings.Contains(strings.Join(c, "\n"), p.Prefix+"\tpid "+fmt.Sprint(p.Pid)+" lab-primary") {
		t.Errorf("--prefix: %v, want %s with pid %d", c, p.Prefix, p.Pid)
	}
	if c := complete(t, "capture", "--prefix", p.Prefix, "-i", ""); len(c) != 1 || c[0] != p.Device+"\tport 0, 1 rx, 1 tx queues" {
		t.Errorf("-i: %q, want %s", c, p.Device)
	}
	if c := complete(t, "capture", "--prefix", p.Prefix, "--port", ""); len(c) != 1 || c[0] != "0\t"+p.Device+", 1 rx, 1 tx queues" {
		t.Errorf("--port: %q", c)
	}
	if c := complete(t, "check", "--prefix", p.Prefix, "--device", ""); !hasCandidate(c, p.Device) {
		t.Errorf("check --device: %q", c)
	}
	if c := complete(t, "capture", "--prefix", "no-such-prefix", "-i", ""); len(c) != 0 {
		t.Errorf("-i without a primary: %q, want nothing", c)
	}

	t.Run("20.11 names from the EAL arguments", func(t *testing.T) {
		p := lab.StartT(t, lab.Config{Release: lab.ReleaseBullseye})
		if c := complete(t, "capture", "--prefix", p.Prefix, "-i", ""); len(c) != 1 || c[0] != p.Device+"\tport 0, queues unknown, name from the EAL arguments" {
			t.Errorf("-i on 20.11: %q, want %s named from the EAL arguments", c, p.Device)
		}
	})
}

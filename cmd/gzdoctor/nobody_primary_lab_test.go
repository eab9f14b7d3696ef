package main

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/gzdoctor/gzdoctor/internal/lab"
	"github.com/gzdoctor/gzdoctor/internal/testenv"
)

// TestCheckAsNobodyYoungRootPrimary: a user who cannot list a root
// primary's runtime dir sees no telemetry socket in it. For a primary
// younger than the starting window, primary said "it started 3s ago and
// has no telemetry socket yet: … still in rte_eal_init" (seen on the lab,
// as uid 65534), a wrong reason: the socket is there and the permissions
// check says why it is not seen. It must say the dir cannot be listed.
func TestCheckAsNobodyYoungRootPrimary(t *testing.T) {
	t.Parallel()
	p := lab.StartT(t, lab.Config{Rate: -1})
	nb := agreeNobodyBinary(t, testenv.Binary(t))
	c := exec.Command("env", "-u", "XDG_RUNTIME_DIR", "HOME=/", nb, "-o", "json", "check", "--prefix", p.Prefix, "--only", "primary", "--timeout", mxCheckTimeout)
	c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out := agreeRun(t, mxScratch(t), c)
	var rep agreeReport
	agreeJSON(t, out, &rep)
	var finding string
	for _, r := range rep.Results {
		if r.ID == "primary" {
			finding = r.Status + ": " + r.Finding
		}
	}
	if !strings.Contains(finding, "cannot be listed by this user") || strings.Contains(finding, "rte_eal_init") {
		t.Errorf("check --only primary as uid 65534 on a root primary just started: %q, want the dir named as unreadable, not a primary still starting\n%s", finding, out.all())
	}
}

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/internal/lab"
	"github.com/gzdoctor/gzdoctor/internal/testenv"
)

// TestReleaseMatrixCore runs the scenario matrix's core rows on the other
// releases' real primaries (20.11, 24.11; 22.11 has the whole matrix), with
// gzdoctor and the capture tool of the release inside its chroot, as an
// operator of that release would. One primary per release goes through the
// rows in an order that leaves it usable for the next: healthy (check
// passes and a capture holds every packet asked for), the watchdog (a
// backend stopped before it captures), a stopped primary, a foreign pdump
// attached, then that pdump killed with -9 (poisoned). The debris of a
// typo'd prefix needs no primary of its own. The releases run side by side.
func TestReleaseMatrixCore(t *testing.T) {
	testenv.Tool(t, "tcpdump", "Debian package tcpdump")
	for _, r := range []lab.Release{lab.ReleaseBullseye, lab.ReleaseTrixie} {
		t.Run(r.String(), func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			t.Run("watchdog", func(t *testing.T) {
				t.Parallel()
				p := lab.StartT(t, lab.Config{Release: r})
				_, inside := r.TempDir(t)
				relWatchdog(t, r, p, inside)
			})
			t.Run("rows", func(t *testing.T) {
				t.Parallel()
				relRows(t, r)
			})
			t.Cleanup(func() { t.Logf("%s: core rows in %v", r, time.Since(start).Round(100*time.Millisecond)) })
		})
	}
}

// relRows runs the rows that share primaries on release r.
func relRows(t *testing.T, r lab.Release) {
	p := lab.StartT(t, lab.Config{Release: r})
	dir, inside := r.TempDir(t)
	s := &mxSit{prefix: p.Prefix, device: p.Device, p: p, dir: dir, healthy: true,
		vars: map[string]string{"pid": strconv.Itoa(p.Pid)}}
	n := 0
	check := func(what string, w mxWant) *mxOut {
		t.Helper()
		o := relGz(t, r, "-o", "json", "check", "--timeout", mxCheckTimeout, "--prefix", s.prefix)
		rep := &mxReport{}
		if !mxJSON(t, o, rep) {
			rep = nil
		}
		mxExpect(t, s, r.String()+" "+what+": check", w, o, rep.firstFail(), "", "", rep.summary())
		mxNoForbidden(t, s, what+": check", o)
		return o
	}
	capture := func(what string, w mxWant, extra ...string) (*mxOut, *mxCapture) {
		t.Helper()
		n++
		args := append([]string{"-o", "json", "-v", "capture", "--prefix", s.prefix, "-a", "duration:20",
			"-w", fmt.Sprintf("%s/c%d.pcapng", inside, n)}, extra...)
		o := relGz(t, r, args...)
		c := &mxCapture{}
		if !mxJSON(t, o, c) {
			c = nil
		}
		var ff, stopped, sum string
		if c != nil {
			ff, stopped, sum = c.Preflight.firstFail(), c.Stopped, c.Preflight.summary()
		}
		mxExpect(t, s, r.String()+" "+what+": capture", w, o, ff, stopped, c.firstCause(), sum)
		mxNoForbidden(t, s, what+": capture", o)
		return o, c
	}

	t.Run("healthy", func(t *testing.T) {
		// check passes ⇔ the capture succeeds, holding exactly the
		// packets asked for by tcpdump's count too.
		check("healthy", mxHealthyCheck)
		if _, c := capture("healthy", mxHealthyCapture, "-c", "50"); c != nil && len(c.Files) == 1 {
			if got := tcpdumpN(t, r.HostPath(c.Files[0].Path), ""); got != 50 || c.Files[0].Packets != 50 {
				t.Errorf("capture -c 50: %d packets by the result, %d by tcpdump", c.Files[0].Packets, got)
			}
		} else if c != nil {
			t.Errorf("capture wrote %+v, want one file", c.Files)
		}
		// After that clean capture check and a second capture still
		// agree. On 20.11 they agree on a refusal: dpdk-pdump 20.11 leaves
		// its MP_pdump_pool_0 in the primary after a clean exit, and a
		// second dpdk-pdump then spins after EAL init and captures
		// nothing (lab, measured by hand with the release's own pdump).
		w, wc := mxHealthyCheck, mxHealthyCapture
		if r == lab.ReleaseBullseye {
			w, wc = mxWant{exit: 1, firstFail: "busy", says: []string{"MP_pdump_pool_0"}}, mxWant{exit: 1, stopped: "busy"}
			s.healthy = false
			defer func() { s.healthy = true }()
		}
		check("after a capture", w)
		capture("after a capture", wc, "-c", "10")
	})
	// A primary of its own for the rows that stop or poison it: on 20.11
	// the first one can no longer be captured.
	p = lab.StartT(t, lab.Config{Release: r})
	s.prefix, s.device, s.p, s.vars["pid"] = p.Prefix, p.Device, p, strconv.Itoa(p.Pid)
	t.Run("stopped primary", func(t *testing.T) {
		t.Cleanup(func() { syscall.Kill(p.Pid, syscall.SIGCONT) })
		if err := syscall.Kill(p.Pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		mxWaitState(t, p.Pid, 'T')
		s.healthy = false
		defer func() { s.healthy = true }()
		check("stopped", mxWant{exit: 1, firstFail: "primary", says: []string{"kill -CONT {pid}"}})
		capture("stopped", mxWant{exit: 1, firstFail: "primary", stopped: "preflight", says: []string{"kill -CONT {pid}"}}, "-c", "10")
		syscall.Kill(p.Pid, syscall.SIGCONT)
	})
	// A foreign pdump, then the same killed with -9: the last rows, since
	// a poisoned primary stays so.
	pdump, done := relForeignPdump(t, r, p, dir, inside)
	s.vars["pdump"] = strconv.Itoa(pdump.Process.Pid)
	t.Run("foreign pdump attached", func(t *testing.T) {
		check("busy", mxWant{exit: 1, firstFail: "busy", says: []string{"{pdump}"}})
		capture("busy", mxWant{exit: 1, stopped: "busy", says: []string{"{pdump}"}}, "-c", "10")
	})
	t.Run("poisoned primary", func(t *testing.T) {
		pdump.Process.Kill()
		<-done
		s.healthy = false
		check("poisoned", mxWant{exit: 1, firstFail: "busy", says: []string{"restart"}})
		capture("poisoned", mxWant{exit: 1, stopped: "busy", says: []string{"restart"}}, "-c", "10")
	})
	t.Run("debris of a typo'd prefix", func(t *testing.T) { relTypo(t, r, p) })
}

// relGz runs the gzdoctor `make build` made inside release r.
func relGz(t *testing.T, r lab.Release, args ...string) *mxOut {
	t.Helper()
	start := time.Now()
	code, out, errOut := inRelease(t, r, args...)
	t.Logf("%s: gzdoctor %s: exit %d in %v", r, strings.Join(args, " "), code, time.Since(start).Round(10*time.Millisecond))
	return &mxOut{code: code, stdout: out, stderr: errOut, start: start}
}

// relForeignPdump attaches the release's own dpdk-pdump (not gzdoctor) to
// p and waits until it captures; the test's cleanup stops it.
func relForeignPdump(t *testing.T, r lab.Release, p *lab.Primary, dir, inside string) (*exec.Cmd, chan struct{}) {
	t.Helper()
	cmd := r.Command("dpdk-pdump", "--file-prefix", p.Prefix, "--",
		"--pdump", "port=0,queue=*,rx-dev="+inside+"/foreign-rx.pcap,tx-dev="+inside+"/foreign-tx.pcap,ring-size=1024,total-num-mbufs=4095")
	return cmd, startAttached(t, cmd, filepath.Join(dir, "foreign-rx.pcap"), r.String()+"'s dpdk-pdump")
}

// relWatchdog: the release's pdump, stopped (SIGSTOP) once gzdoctor
// started it, runs but writes nothing while the port has traffic; the
// watchdog ends the capture with that explanation (exit 1, stopped
// no-packets) instead of waiting forever, and leaves no pdump behind.
func relWatchdog(t *testing.T, r lab.Release, p *lab.Primary, inside string) {
	bin, err := r.Install(testenv.Binary(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(r.HostPath(filepath.Dir(bin))) })
	start := time.Now()
	g := startBackground(t, r.Command(bin, "-o", "json", "-v", "capture", "--prefix", p.Prefix, "-w", inside+"/watchdog.pcapng"))
	pdump := g.backend(20*time.Second, 0)
	syscall.Kill(pdump, syscall.SIGSTOP)
	err = g.wait(60 * time.Second)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitProblem {
		t.Fatalf("gzdoctor: %v, want exit 1\n%s\n%s", err, g.stdout.String(), g.stderr.String())
	}
	c := &mxCapture{}
	if !mxJSON(t, &mxOut{code: 1, stdout: g.stdout.String(), stderr: g.stderr.String()}, c) {
		return
	}
	if c.Stopped != "no-packets" || len(c.Notes) == 0 || !strings.Contains(c.Notes[0], "the backend runs but receives nothing") {
		t.Errorf("stopped %q notes %q, want no-packets saying the backend receives nothing", c.Stopped, c.Notes)
	}
	if syscall.Kill(pdump, 0) == nil {
		t.Errorf("pdump %d still runs", pdump)
		syscall.Kill(pdump, syscall.SIGKILL)
	}
	t.Logf("%s: watchdog ended the capture after %v: %q", r, time.Since(start).Round(time.Millisecond), c.Notes)
}

// relTypo: the release's dpdk-pdump run with a typo of p's prefix fails
// and leaves an empty runtime dir; check and capture call it debris with
// rmdir and name the live prefix, and diagnose of pdump's log names the
// missing primary.
func relTypo(t *testing.T, r lab.Release, p *lab.Primary) {
	typo := "gzlba" + strings.TrimPrefix(p.Prefix, "gzlab")
	rd := filepath.Join("/var/run/dpdk", typo)
	t.Cleanup(func() { os.Remove(rd) })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	arg := "device_id=" + p.Device + ",queue=*,rx-dev=/dev/null"
	cmd := r.Command("dpdk-pdump", "--file-prefix", typo, "--", "--pdump", arg)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil || err == nil {
		t.Fatalf("%s's dpdk-pdump with the typo %s: %v\n%s", r, typo, err, out)
	}
	if ents, err := os.ReadDir(rd); err != nil || len(ents) != 0 {
		t.Fatalf("%s's dpdk-pdump left %s with %d entries (%v), want an empty dir", r, rd, len(ents), err)
	}
	dir, inside := r.TempDir(t)
	log := fmt.Sprintf("$ dpdk-pdump --file-prefix %s -- --pdump '%s'\n%s", typo, arg, out)
	if err := os.WriteFile(filepath.Join(dir, "pdump.log"), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &mxSit{prefix: typo, dir: dir, healthy: true, vars: map[string]string{"live": p.Prefix}}
	o := relGz(t, r, "-o", "json", "check", "--timeout", mxCheckTimeout, "--prefix", typo)
	rep := &mxReport{}
	if !mxJSON(t, o, rep) {
		rep = nil
	}
	mxExpect(t, s, r.String()+" typo: check", mxWant{exit: 1, firstFail: "prefix", says: []string{"rmdir /var/run/dpdk/{P}", "{live}"}}, o, rep.firstFail(), "", "", rep.summary())
	mxNoForbidden(t, s, "typo: check", o)
	mxClosestFirst(t, s, rep)
	o = relGz(t, r, "-o", "json", "capture", "--prefix", typo, "-c", "10", "-w", inside+"/cap.pcapng")
	c := &mxCapture{}
	if !mxJSON(t, o, c) {
		c = nil
	}
	var ff, stopped string
	if c != nil {
		ff, stopped = c.Preflight.firstFail(), c.Stopped
	}
	mxExpect(t, s, r.String()+" typo: capture", mxWant{exit: 1, firstFail: "prefix", stopped: "preflight", says: []string{"rmdir /var/run/dpdk/{P}"}}, o, ff, stopped, c.firstCause(), "")
	o = relGz(t, r, "-o", "json", "diagnose", "--live", "--timeout", mxCheckTimeout, inside+"/pdump.log")
	d := &mxDiag{}
	if !mxJSON(t, o, d) {
		d = nil
	}
	mxExpect(t, s, r.String()+" typo: diagnose --live", mxWant{exit: 1, firstCause: "no-primary-config"}, o, "", "", d.firstCause(), "log:\n"+log)
	mxNoForbidden(t, s, "typo: diagnose", o)
}

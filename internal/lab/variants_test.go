package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests pin down, on real DPDK, the failures gzdoctor explains: what
// dpdk-pdump and the primary print for each broken set-up.

func TestVariantNoPdumpInit(t *testing.T) {
	t.Parallel()
	needTool(t, "dpdk-pdump")
	p := StartT(t, Config{NoPdumpInit: true})
	// pdump waits 5 s for each mp_pdump reply that never comes; the first
	// failure says all we need, so stop it there.
	out := runUntil(t, 20*time.Second, "client request for pdump enable/disable failed",
		"dpdk-pdump", "--file-prefix", p.Prefix, "--",
		"--pdump", "port=0,queue=*,rx-dev="+filepath.Join(t.TempDir(), "rx.pcap")+",ring-size=1024,total-num-mbufs=4095")
	want := "EAL: Fail to recv reply for request " + p.RuntimeDir + "/mp_socket:mp_pdump\n" +
		"pdump_prepare_client_request(): client request for pdump enable/disable failed\n"
	if !strings.Contains(out, want) {
		t.Errorf("pdump output lacks\n%s\ngot:\n%s", want, out)
	}
	waitOutput(t, p, "EAL: Cannot find action: mp_pdump\n")
	if c, err := p.Counters(); err != nil || c.PdumpInit {
		t.Errorf("counters say pdump_init for a --no-pdump-init primary: %+v, %v", c, err)
	}
}

func TestVariantHidePcapPMD(t *testing.T) {
	t.Parallel()
	needTool(t, "dpdk-pdump", "unshare")
	p := StartT(t, Config{HidePcapPMD: true})
	out, err := runTool(t, 30*time.Second, "dpdk-pdump", "--file-prefix", p.Prefix, "--",
		"--pdump", "port=0,queue=*,rx-dev="+filepath.Join(t.TempDir(), "rx.pcap")+",ring-size=1024,total-num-mbufs=4095")
	if err == nil {
		t.Errorf("dpdk-pdump succeeded against a primary without the pcap PMD:\n%s", out)
	}
	for _, re := range []string{
		`(?m)^EAL: Failed to hotplug add device$`,
		`(?m)^EAL: Error - exiting with code: 1$`,
		`(?m)^  Cause: vdev creation failed:create_mp_ring_vdev:\d+$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("pdump output does not match %s:\n%s", re, out)
		}
	}
	waitOutput(t, p, "EAL: failed to parse device \"vdev:net_pcap_rx_0\"\nEAL: Failed to hotplug add device on primary\n")
	// The namespace hides the PMD from the primary alone.
	maps, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p.Pid), "maps"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(maps), "librte_net_pcap") {
		t.Errorf("primary %d maps librte_net_pcap despite HidePcapPMD", p.Pid)
	}
	if _, err := os.Stat(filepath.Join(mustRead(t, filepath.Join(BuildDir(), "pmds-dir")), "librte_net_pcap.so")); err != nil {
		t.Errorf("the host's pcap PMD vanished outside the namespace: %v", err)
	}
}

// TestNormalPrimaryMapsPcapPMD is the control for TestVariantHidePcapPMD.
func TestNormalPrimaryMapsPcapPMD(t *testing.T) {
	t.Parallel()
	p := StartT(t, Config{})
	maps := mustRead(t, filepath.Join("/proc", strconv.Itoa(p.Pid), "maps"))
	if !strings.Contains(maps, "librte_net_pcap.so") {
		t.Errorf("a normal lab primary does not map librte_net_pcap.so")
	}
}

func TestVariantWrongPrefix(t *testing.T) {
	Require(t)
	t.Parallel()
	needTool(t, "dpdk-pdump")
	prefix := NewPrefix() // no primary runs with it
	t.Cleanup(func() { removePrefixFiles(prefix, RuntimeDir(prefix)) })
	out, err := runTool(t, 30*time.Second, "dpdk-pdump", "--file-prefix", prefix, "--",
		"--pdump", "port=0,queue=*,rx-dev="+filepath.Join(t.TempDir(), "rx.pcap"))
	if err == nil {
		t.Fatalf("dpdk-pdump succeeded without a primary:\n%s", out)
	}
	// DPDK 22.11 panics here; the seed guide's "Connection refused" text
	// belongs to a prefix whose primary died (TestVariantStalePrefix).
	want := "EAL: Cannot open '" + RuntimeDir(prefix) + "/config' for rte_mem_config\n" +
		"EAL: FATAL: Cannot init config\nEAL: Cannot init config\nPANIC in main():\nCannot init EAL\n"
	if !strings.Contains(out, want) {
		t.Errorf("pdump output lacks\n%s\ngot:\n%s", want, out)
	}
	// The failed secondary leaves an empty runtime dir behind.
	if ents, err := os.ReadDir(RuntimeDir(prefix)); err != nil || len(ents) != 0 {
		t.Errorf("after a failed attach, %s: entries %v, err %v; want an empty dir", RuntimeDir(prefix), ents, err)
	}
}

func TestVariantStalePrefix(t *testing.T) {
	t.Parallel()
	needTool(t, "dpdk-pdump")
	p := StartT(t, Config{})
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	out, err := runTool(t, 30*time.Second, "dpdk-pdump", "--file-prefix", p.Prefix, "--",
		"--pdump", "port=0,queue=*,rx-dev="+filepath.Join(t.TempDir(), "rx.pcap"))
	if err == nil {
		t.Fatalf("dpdk-pdump succeeded against a dead primary:\n%s", out)
	}
	want := "EAL: failed to send to (" + p.RuntimeDir + "/mp_socket) due to Connection refused\n" +
		"EAL: Fail to send request " + p.RuntimeDir + "/mp_socket:bus_vdev_mp\n" +
		"vdev_scan(): Failed to request vdev from primary\n"
	if !strings.Contains(out, want) {
		t.Errorf("pdump output lacks\n%s\ngot:\n%s", want, out)
	}
	// How it ends varies from run to run: when the dead primary's heap has
	// no room for the secondary's first rte_malloc, the EAL must ask the
	// primary for memory and fails there (the seed guide's error 2 ending);
	// otherwise it gets through init and finds no port.
	if !strings.Contains(out, "  Cause: No Ethernet ports - bye\n") &&
		!strings.Contains(out, "EAL: Cannot send message to primary\nEAL: error allocating rte services array\nEAL: FATAL: rte_service_init() failed\n") {
		t.Errorf("pdump output ends in neither 'No Ethernet ports - bye' nor the rte_service_init() failure:\n%s", out)
	}
}

// ---- helpers ----

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// runTool runs a command to its end (bounded by d) and returns its output.
func runTool(t *testing.T, d time.Duration, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish in %v:\n%s", name, d, out)
	}
	return string(out), err
}

// runUntil runs a command until its output contains marker, then kills it.
func runUntil(t *testing.T, d time.Duration, marker, name string, args ...string) string {
	t.Helper()
	var out outputBuffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	defer func() { cmd.Process.Kill(); <-done }()
	deadline := time.After(d)
	for !strings.Contains(out.String(), marker) {
		select {
		case <-done:
			if strings.Contains(out.String(), marker) {
				return out.String()
			}
			t.Fatalf("%s exited without printing %q:\n%s", name, marker, out.String())
		case <-deadline:
			t.Fatalf("%s did not print %q in %v:\n%s", name, marker, d, out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return out.String()
}

// waitOutput waits until the primary has printed s.
func waitOutput(t *testing.T, p *Primary, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.Output(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("primary never printed %q:\n%s", s, p.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestVariantPrimaryDiedInInit: a primary killed during its rte_eal_init()
// leaves a config never marked complete; pdump then hangs in its own EAL
// init and ignores SIGINT.
func TestVariantPrimaryDiedInInit(t *testing.T) {
	Require(t)
	t.Parallel()
	needTool(t, "dpdk-pdump")
	for attempt := 1; ; attempt++ {
		prefix := NewPrefix()
		t.Cleanup(func() { removePrefixFiles(prefix, RuntimeDir(prefix)) })
		prim := exec.Command(PrimaryBinary(), "--file-prefix", prefix, "--no-pci", "--vdev", DefaultVdev, "--")
		if err := prim.Start(); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 5000; i++ {
			if _, err := os.Stat(filepath.Join(RuntimeDir(prefix), "config")); err == nil {
				break
			}
			time.Sleep(time.Millisecond)
		}
		prim.Process.Kill()
		prim.Wait()

		var out outputBuffer
		pd := exec.Command("dpdk-pdump", "--file-prefix", prefix, "--", "--pdump", "port=0,queue=*,rx-dev="+filepath.Join(t.TempDir(), "rx.pcap"))
		pd.Stdout, pd.Stderr = &out, &out
		if err := pd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { pd.Wait(); close(done) }()
		hung := false
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			hung = true
		}
		if !hung {
			// The kill landed after the EAL had finished: not this case.
			if attempt < 3 {
				continue
			}
			t.Fatalf("pdump never hung in 3 attempts; last output:\n%s", out.String())
		}
		pd.Process.Signal(syscall.SIGINT)
		select {
		case <-done:
			t.Errorf("pdump obeyed SIGINT; it was expected to ignore it while stuck in EAL init:\n%s", out.String())
		case <-time.After(time.Second):
		}
		pd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
			t.Logf("pdump exited on SIGTERM")
		case <-time.After(time.Second):
			t.Logf("pdump ignored SIGTERM too")
			pd.Process.Kill()
			<-done
		}
		s := out.String()
		if !strings.HasSuffix(s, "EAL: Detected shared linkage of DPDK\n") || strings.Contains(s, "Multi-process socket") {
			t.Errorf("a stuck pdump should stop after the linkage line, before its mp socket:\n%s", s)
		}
		return
	}
}

// TestVariantPdumpDetachMidCallback pins a DPDK 22.11 race that can break
// a healthy primary when any capture detaches: rte_pdump_disable removes
// the primary's rx/tx callbacks without waiting for the lcore to leave
// them (no quiescence), and dpdk-pdump frees its ring and mempool right
// after the primary's reply. A primary whose lcore is inside the callback
// at that moment (preempted: a loaded machine) then copies into freed
// memory. Provoked here: build/pdumphold.so holds the lcore inside the
// callback while pdump detaches (SIGINT, as gzdoctor stops it) and exits.
// Measured on the lab: the primary dies of SIGSEGV when released. The same
// use-after-free can spin instead (a freed ring's tail never matches), a
// primary then deaf to SIGINT: what TestCaptureLabRing's cleanup met once
// in CI. Neither gzdoctor nor any pdump user can close the window.
func TestVariantPdumpDetachMidCallback(t *testing.T) {
	Require(t)
	t.Parallel()
	needTool(t, "dpdk-pdump")
	hold := filepath.Join(t.TempDir(), "hold")
	// Not StartT: its cleanup fails a test whose primary did not stop
	// cleanly, which is what this one expects.
	p, err := Start(context.Background(), Config{Rate: 1000, Env: []string{"LD_PRELOAD=" + PdumpHold(), "PDUMPHOLD_FILE=" + hold}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Cleanup)
	p.sigintWait = 2 * time.Second
	// pdump keeps at most 55 bytes of rx-dev: a short dir.
	dir, err := os.MkdirTemp("", "gzh")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	rx := filepath.Join(dir, "rx.pcap")
	pd := exec.Command("dpdk-pdump", "--file-prefix", p.Prefix, "--", "--pdump",
		"device_id="+p.Device+",queue=*,rx-dev="+rx+",tx-dev="+filepath.Join(dir, "tx.pcap")+",ring-size=1024,total-num-mbufs=4095")
	out := &outputBuffer{}
	pd.Stdout, pd.Stderr = out, out
	pd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := pd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { pd.Wait(); close(exited) }()
	t.Cleanup(func() { pd.Process.Kill(); <-exited })
	waitFor := func(what string, d time.Duration, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %v\nprimary:\n%s\npdump:\n%s", what, d, p.Output(), out.String())
			}
		}
	}
	waitFor("pdump capturing", 30*time.Second, func() bool { fi, err := os.Stat(rx); return err == nil && fi.Size() > 0 })
	if err := os.WriteFile(hold, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor("the lcore held in pdump's callback", 10*time.Second, func() bool {
		return strings.Contains(p.Output(), "pdumphold: holding the lcore")
	})
	pd.Process.Signal(syscall.SIGINT)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("pdump did not leave within 30 s of SIGINT while the lcore was held:\n%s", out.String())
	}
	os.Remove(hold)
	waitFor("the lcore released", 10*time.Second, func() bool {
		return strings.Contains(p.Output(), "pdumphold: copying into mempool")
	})
	select {
	case <-p.Exited():
		t.Logf("the primary died when released: %v", p.ExitErr())
		if !strings.Contains(fmt.Sprint(p.ExitErr()), "signal") {
			t.Errorf("the primary exited with %v, not by a signal", p.ExitErr())
		}
	case <-time.After(3 * time.Second):
		// Alive: a spinning primary ignores SIGINT (Stop says so); a
		// primary that stops cleanly means DPDK closed the window.
		if err := p.Stop(); err == nil {
			t.Errorf("the primary copied into pdump's freed pool and stopped cleanly: DPDK no longer frees under the callback; update docs/design.md and this test")
		} else {
			t.Logf("the primary, released: %v", err)
		}
	}
}

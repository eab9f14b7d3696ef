package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/internal/lab"
	"github.com/gzdoctor/gzdoctor/internal/testenv"
)

// inRelease runs the gzdoctor `make build` made inside release r, as an
// operator of that release would, and returns its exit code and output.
func inRelease(t *testing.T, r lab.Release, args ...string) (int, string, string) {
	t.Helper()
	bin, err := r.Install(testenv.Binary(t))
	if err != nil {
		t.Fatalf("installing gzdoctor in %s: %v", r, err)
	}
	if r != lab.ReleaseHost {
		// Each call installs afresh; the copy goes with the test.
		t.Cleanup(func() { os.RemoveAll(r.HostPath(filepath.Dir(bin))) })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := r.Command(bin, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		cmd.Process.Kill()
		<-done
		t.Fatalf("gzdoctor %v in %s did not end in 2 minutes\n%s\n%s", args, r, out.String(), errb.String())
	}
	var ee *exec.ExitError
	code := 0
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("gzdoctor %v in %s: %v", args, r, err)
	}
	return code, out.String(), errb.String()
}

type checkOut struct {
	Data struct {
		Results []struct {
			ID      string   `json:"id"`
			Status  string   `json:"status"`
			Finding string   `json:"finding"`
			Details []string `json:"details"`
		} `json:"results"`
	} `json:"data"`
}

// checkInRelease runs `gzdoctor -o json check` inside r and returns the
// findings by check id ("status: finding").
func checkInRelease(t *testing.T, r lab.Release, args ...string) (int, map[string]string, string) {
	t.Helper()
	// A generous limit: on the 2-core lab, with other tests' primaries
	// busy, the ELF analysis and telemetry take longer than check's default.
	code, out, errOut := inRelease(t, r, append([]string{"-o", "json", "check", "--timeout", "20s"}, args...)...)
	var c checkOut
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("check %v in %s: exit %d, not JSON (%v):\n%s\n%s", args, r, code, err, out, errOut)
	}
	m := map[string]string{}
	for _, res := range c.Data.Results {
		m[res.ID] = res.Status + ": " + res.Finding + " | " + strings.Join(res.Details, " | ")
	}
	return code, m, out
}

type captureOut struct {
	Data struct {
		Plan struct {
			Args []string `json:"args"`
		} `json:"plan"`
		Stopped            string          `json:"stopped"`
		Primary            json.RawMessage `json:"primary_stats"`
		PrimaryUnavailable string          `json:"primary_stats_unavailable"`
	} `json:"data"`
}

// captureInRelease runs `gzdoctor -o json capture` inside r, writing into
// a directory of the release, and returns the exit code, the tool's
// arguments and the output file as a path of this machine.
func captureInRelease(t *testing.T, r lab.Release, args ...string) (int, []string, string, string) {
	t.Helper()
	code, args, file, out, _ := captureInReleaseFull(t, r, args...)
	return code, args, file, out
}

func captureInReleaseFull(t *testing.T, r lab.Release, args ...string) (int, []string, string, string, captureOut) {
	t.Helper()
	dir, inside := r.TempDir(t)
	code, out, errOut := inRelease(t, r, append([]string{"-o", "json", "capture", "-w", inside + "/c.pcapng"}, args...)...)
	var c captureOut
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("capture %v in %s: exit %d, not JSON (%v):\n%s\n%s", args, r, code, err, out, errOut)
	}
	return code, c.Data.Plan.Args, filepath.Join(dir, "c.pcapng"), out + errOut, c
}

func countPackets(t *testing.T, file, filter string) int {
	t.Helper()
	args := []string{"-nr", file}
	if filter != "" {
		args = append(args, filter)
	}
	out, err := exec.Command("tcpdump", args...).Output()
	if err != nil {
		t.Fatalf("tcpdump %v: %v", args, err)
	}
	return strings.Count(string(out), "\n")
}

// TestReleasesLab runs check and capture, with the binary `make build`
// made, inside each release's chroot against that release's primary, as an
// operator of that release would: DPDK 20.11 (telemetry without port names,
// no memzone list, no dumpcap), 22.11 and 24.11.
func TestReleasesLab(t *testing.T) {
	testenv.Tool(t, "tcpdump", "Debian package tcpdump")
	for _, r := range lab.Releases() {
		t.Run(r.String(), func(t *testing.T) {
			p := lab.StartT(t, lab.Config{Release: r})
			code, res, out := checkInRelease(t, r, "--prefix", p.Prefix)
			// Measured in both processes (the tool started under ptrace):
			// 24.11's plugin order puts ring_mp_mc elsewhere than the old
			// prediction said, and the capture below works.
			wantCode, buildMatch := 0, "ok: dpdk-pdump matches the primary: DPDK "+r.DPDK()
			if code != wantCode {
				t.Errorf("check exit %d, want %d:\n%s", code, wantCode, out)
			}
			for id, want := range map[string]string{
				"primary":     "ok: ",
				"device":      "ok: no --device given; the primary drives one device: use device_id=" + p.Device + " ",
				"build-match": buildMatch,
			} {
				if !strings.HasPrefix(res[id], want) {
					t.Errorf("%s: %q, want it to start %q", id, res[id], want)
				}
			}
			t.Logf("build-match: %s", res["build-match"])
			if !strings.Contains(res["build-match"], "(measured in both)") || !strings.Contains(res["build-match"], "measured: dpdk-pdump started under ptrace") {
				t.Errorf("build-match does not say both ops tables were measured: %q", res["build-match"])
			}
			if !strings.Contains(res["primary"], "1 port (0:"+p.Device+")") {
				t.Errorf("primary: %q, want the port named 0:%s", res["primary"], p.Device)
			}
			if r == lab.ReleaseBullseye && !strings.Contains(res["primary"], "port names from the EAL arguments") {
				t.Errorf("primary on 20.11 does not say where the port name came from: %q", res["primary"])
			}

			capArgs := []string{"--prefix", p.Prefix, "-c", "100", "udp port 8080"}
			code, args, file, out, c := captureInReleaseFull(t, r, capArgs...)
			if code != 0 {
				t.Fatalf("capture exit %d:\n%s", code, out)
			}
			// The primary's own pdump counters (rte_pdump_stats, 21.11+).
			if r == lab.ReleaseBullseye {
				if len(c.Data.Primary) != 0 || !strings.Contains(c.Data.PrimaryUnavailable, "before 21.11") {
					t.Errorf("20.11: primary stats %s, unavailable %q; want none, saying why", c.Data.Primary, c.Data.PrimaryUnavailable)
				}
			} else if len(c.Data.Primary) == 0 || c.Data.PrimaryUnavailable != "" {
				t.Errorf("primary stats %s, unavailable %q; want the primary's counters", c.Data.Primary, c.Data.PrimaryUnavailable)
			}
			if !strings.Contains(strings.Join(args, " "), "device_id="+p.Device+",") {
				t.Errorf("pdump args %q, want device_id=%s", args, p.Device)
			}
			if n, other := countPackets(t, file, ""), countPackets(t, file, "not (udp port 8080)"); n != 100 || other != 0 {
				t.Errorf("capture -c 100 'udp port 8080' wrote %d packets, %d not matching", n, other)
			}
			if r.HasDumpcap() {
				dargs := []string{"--prefix", p.Prefix, "--backend", "dumpcap", "-c", "50"}
				code, args, file, out := captureInRelease(t, r, dargs...)
				if code != 0 {
					t.Fatalf("capture --backend dumpcap exit %d:\n%s", code, out)
				}
				if n := countPackets(t, file, ""); n != 50 {
					t.Errorf("dumpcap capture -c 50 wrote %d packets (args %q)", n, args)
				}
			}
		})
	}
}

// TestReleaseUnnamedPorts: on 20.11 with EAL arguments that do not name the
// port by themselves (PCI probing is on: every bound device could be a
// port), check's primary finding says the name is unknown, and capture,
// which has only telemetry's port ids, captures port=0.
func TestReleaseUnnamedPorts(t *testing.T) {
	testenv.Tool(t, "tcpdump", "Debian package tcpdump")
	r := lab.ReleaseBullseye
	// -b blocks a PCI address no machine has: PCI probing stays on, so the
	// arguments cannot tell which devices became ports.
	p := lab.StartT(t, lab.Config{Release: r, ExtraEAL: []string{"-b", "0000:ff:1f.7"}})
	code, res, out := checkInRelease(t, r, "--prefix", p.Prefix)
	if code != 0 {
		t.Errorf("check exit %d, want 0:\n%s", code, out)
	}
	if !strings.Contains(res["primary"], "1 port (0:?)") || !strings.Contains(res["primary"], "port names unknown") {
		t.Errorf("primary: %q", res["primary"])
	}
	// check's device finding reads the EAL arguments with sysfs (no PCI
	// device is bound to a DPDK driver here, so only the vdev can be a
	// port); capture, which reads telemetry alone, uses the id.
	if want := "ok: no --device given; the primary drives one device: use device_id=" + p.Device + " | the primary drives (telemetry /eal/params)"; !strings.HasPrefix(res["device"], want) {
		t.Errorf("device: %q, want it to start %q", res["device"], want)
	}
	code, args, file, out := captureInRelease(t, r, "--prefix", p.Prefix, "-c", "20")
	if code != 0 {
		t.Fatalf("capture exit %d:\n%s", code, out)
	}
	if a := strings.Join(args, " "); !strings.Contains(a, "--pdump port=0,") || strings.Contains(a, "device_id") {
		t.Errorf("pdump args %q, want port=0 and no device_id", args)
	}
	if n := countPackets(t, file, ""); n != 20 {
		t.Errorf("capture -c 20 wrote %d packets", n)
	}
}

// TestCrossReleaseNamesMismatch: the host's DPDK 22.11 tools against a
// 24.11 primary, for real. check's build-match must fail naming both
// versions before any capture, and diagnose of 22.11's dpdk-pdump's own
// output must name the version mismatch as the cause.
func TestCrossReleaseNamesMismatch(t *testing.T) {
	testenv.Tool(t, "dpdk-pdump", "Debian package dpdk")
	p := lab.StartT(t, lab.Config{Release: lab.ReleaseTrixie, Rate: 1000})
	code, res, out := checkInRelease(t, lab.ReleaseHost, "--prefix", p.Prefix)
	if code != 1 {
		t.Errorf("check exit %d, want 1:\n%s", code, out)
	}
	if b := res["build-match"]; !strings.HasPrefix(b, "fail: ") || !strings.Contains(b, "24.11") || !strings.Contains(b, "22.11") {
		t.Errorf("build-match: %q, want a fail naming 22.11 and 24.11", b)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log, _ := exec.CommandContext(ctx, "dpdk-pdump", "--file-prefix", p.Prefix, "--",
		"--pdump", "port=0,queue=*,rx-dev=/dev/null,ring-size=1024,total-num-mbufs=4095").CombinedOutput()
	if !strings.Contains(string(log), "Primary and secondary process DPDK version mismatch") {
		t.Fatalf("22.11's dpdk-pdump against 24.11 printed no mismatch:\n%s", log)
	}
	file := filepath.Join(t.TempDir(), "pdump.log")
	if err := os.WriteFile(file, log, 0o600); err != nil {
		t.Fatal(err)
	}
	code, dout, derr := inRelease(t, lab.ReleaseHost, "-o", "json", "diagnose", file)
	var d struct {
		Data struct {
			Findings []struct {
				ID string `json:"id"`
			} `json:"findings"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(dout), &d); err != nil {
		t.Fatalf("diagnose: exit %d, not JSON (%v):\n%s\n%s", code, err, dout, derr)
	}
	if code != 1 || len(d.Data.Findings) == 0 || d.Data.Findings[0].ID != "dpdk-version-mismatch" {
		t.Errorf("diagnose exit %d, findings %+v; want dpdk-version-mismatch first\n%s", code, d.Data.Findings, dout)
	}
}

// TestReleaseLstackBuildMatchFails: on 24.11 the liblstack-like primary is
// the pair dpdk-pdump captures nothing from (lab TestReleaseLstackKind:
// the primary floods "DPAA2_MEMPOOL: Failed to allocate IO portal"). With
// dpdk-pdump's mempool ops table measured, check's build-match refuses it,
// naming another driver at the capture pool's index in the primary.
func TestReleaseLstackBuildMatchFails(t *testing.T) {
	r := lab.ReleaseTrixie
	p := lab.StartT(t, lab.Config{Release: r, Kind: lab.KindLstack})
	code, res, out := checkInRelease(t, r, "--prefix", p.Prefix)
	if code != 1 {
		t.Errorf("check exit %d, want 1:\n%s", code, out)
	}
	b := res["build-match"]
	t.Logf("build-match: %s", b)
	if !strings.HasPrefix(b, "fail: dpdk-pdump and the primary are built differently: the capture tool's mbuf pool stores mempool ops index") ||
		!strings.Contains(b, "measured: dpdk-pdump started under ptrace") {
		t.Errorf("build-match: %q, want a fail from the measured tables", b)
	}
	// Its fix's command says the same.
	code, eout, eerr := inRelease(t, r, "elfcheck", "--pid", strconv.Itoa(p.Pid), "--match", "/usr/bin/dpdk-pdump")
	if code != 1 || !strings.Contains(eout, "in the primary index 11 is dpaa2") || !strings.Contains(eout, "measured: read from the tool started under ptrace") {
		t.Errorf("elfcheck --pid %d --match dpdk-pdump: exit %d, want 1 naming dpaa2 at 11 from the measured table:\n%s\n%s", p.Pid, code, eout, eerr)
	}
}

// TestReleaseNoTelemetry: a primary without telemetry v2 (DPDK 19.11 has
// none; emulated by a 20.11 primary started with --no-telemetry). check
// says what it could not establish without it; capture without -i reads
// the device from the primary's command line instead of asking for -i,
// and captures what it was asked for.
func TestReleaseNoTelemetry(t *testing.T) {
	testenv.Tool(t, "tcpdump", "Debian package tcpdump")
	r := lab.ReleaseBullseye
	p := lab.StartT(t, lab.Config{Release: r, ExtraEAL: []string{"--no-telemetry"}})
	if _, err := os.Stat(filepath.Join("/var/run/dpdk", p.Prefix, "dpdk_telemetry.v2")); err == nil {
		t.Fatal("--no-telemetry left a telemetry socket")
	}
	code, res, out := checkInRelease(t, r, "--prefix", p.Prefix)
	if code != 0 {
		t.Errorf("check exit %d, want 0:\n%s", code, out)
	}
	if pr := res["primary"]; !strings.HasPrefix(pr, "ok: ") || !strings.Contains(pr, "no telemetry socket") ||
		!strings.Contains(pr, "not established without telemetry: the ports' ids, names and queues") {
		t.Errorf("primary: %q, want ok saying what telemetry would have told", pr)
	}
	if want := "ok: no --device given; the primary drives one device: use device_id=" + p.Device + " | the primary drives (the command line of pid"; !strings.HasPrefix(res["device"], want) {
		t.Errorf("device: %q, want it to start %q", res["device"], want)
	}
	code, args, file, cout := captureInRelease(t, r, "--prefix", p.Prefix, "-c", "20")
	if code != 0 {
		t.Fatalf("capture without -i: exit %d, want 0 (the device from the command line):\n%s", code, cout)
	}
	if a := strings.Join(args, " "); !strings.Contains(a, "device_id="+p.Device+",") {
		t.Errorf("pdump args %q, want device_id=%s", args, p.Device)
	}
	if !strings.Contains(cout, "the command line of pid") || !strings.Contains(cout, "no telemetry lists the ports") {
		t.Errorf("capture does not say where the device came from:\n%s", cout)
	}
	if n := countPackets(t, file, ""); n != 20 {
		t.Errorf("capture -c 20 wrote %d packets", n)
	}
}

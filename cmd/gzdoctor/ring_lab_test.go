package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/capture"
	"github.com/gzdoctor/gzdoctor/internal/lab"
)

var labRingName = regexp.MustCompile(`_(\d{5})_(\d{14})\.pcapng$`)

// labRingFiles lists the ring files in dir, in order; nothing else may be
// left there but the names in also.
func labRingFiles(t *testing.T, dir string, also ...string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		switch {
		case labRingName.MatchString(e.Name()):
			out = append(out, filepath.Join(dir, e.Name()))
		case !slices.Contains(also, e.Name()):
			t.Errorf("left in %s: %s", dir, e.Name())
		}
	}
	slices.Sort(out)
	return out
}

// TestCaptureLabRing rotates real captures and holds the files against the
// primary's own counters (its rte_pdump_stats): the files together hold
// exactly what the primary copied for the capture, per direction, so no
// packet was lost or doubled where one file ended and the next began; and
// tshark and tcpdump read every file.
func TestCaptureLabRing(t *testing.T) {
	t.Parallel()
	needTools(t, "dpdk-pdump", "dpdk-dumpcap", "tshark", "tcpdump")
	p := lab.StartT(t, lab.Config{})

	t.Run("pdump by size", func(t *testing.T) {
		dir := t.TempDir()
		code, res, errOut := captureJSON(t, "--prefix", p.Prefix, "-a", "duration:2", "-b", "filesize:3000", "-w", filepath.Join(dir, "p.pcapng"))
		if code != 0 || res == nil || res.Ring == nil {
			t.Fatalf("exit %d, result %+v\n%s", code, res, errOut)
		}
		files := labRingFiles(t, dir)
		if len(files) < 3 || len(files) != res.Ring.Written {
			t.Fatalf("%d files, ring %+v", len(files), res.Ring)
		}
		var rx, tx int64
		for i, f := range files {
			if labRingName.FindStringSubmatch(f)[1] != fmt.Sprintf("%05d", i+1) {
				t.Errorf("file %d is %s", i+1, f)
			}
			rows := tsharkFields(t, f, "frame.packet_flags_direction")
			for _, d := range rows {
				switch d {
				case "0x00000001":
					rx++
				case "0x00000002":
					tx++
				default:
					t.Fatalf("%s: direction %q", f, d)
				}
			}
			if n := tcpdumpN(t, f, ""); n != len(rows) || int64(n) != res.Files[i].Packets {
				t.Errorf("%s: tshark reads %d, tcpdump %d, the result says %d", f, len(rows), n, res.Files[i].Packets)
			}
			if fi, err := os.Stat(f); err != nil || fi.Size() > 3_000_000 {
				t.Errorf("%s: %v %v, over -b filesize:3000", f, fi.Size(), err)
			}
		}
		ps := res.Primary
		if ps == nil {
			t.Fatalf("no primary counters: %s", res.PrimaryUnavailable)
		}
		if rx != int64(ps.Rx.Copied()) || tx != int64(ps.Tx.Copied()) || rx+tx != res.Counts.Packets() || rx < 5000 {
			t.Errorf("files hold rx %d tx %d, the primary copied rx %d tx %d for the capture (result %+v)", rx, tx, ps.Rx.Copied(), ps.Tx.Copied(), res.Counts)
		}
		t.Logf("%d files: rx %d tx %d; primary %+v", len(files), rx, tx, ps)
	})

	t.Run("dumpcap keeps 3 and runs -z", func(t *testing.T) {
		dir := t.TempDir()
		zdir := t.TempDir()
		log := filepath.Join(zdir, "z.log")
		prog := filepath.Join(zdir, "post")
		if err := os.WriteFile(prog, []byte("#!/bin/sh\nprintf '%s\\n' \"$1\" >> "+log+"\ntshark -r \"$1\" -T fields -e frame.number | wc -l >> "+log+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		code, res, errOut := captureJSON(t, "--prefix", p.Prefix, "--backend", "dumpcap", "-b", "filesize:700", "-b", "files:3", "-a", "files:6", "-z", prog, "-w", filepath.Join(dir, "d.pcapng"))
		if code != 0 || res == nil || res.Ring == nil || res.Stopped != capture.StopRingFiles {
			t.Fatalf("exit %d, result %+v\n%s", code, res, errOut)
		}
		files := labRingFiles(t, dir)
		if len(files) != 3 || res.Ring.Written != 6 || res.Ring.Removed != 3 {
			t.Fatalf("files %v, ring %+v", files, res.Ring)
		}
		var kept int64
		for i, f := range files {
			if want := []string{"00004", "00005", "00006"}[i]; labRingName.FindStringSubmatch(f)[1] != want {
				t.Errorf("kept %s, want number %s", f, want)
			}
			n := int64(tcpdumpN(t, f, ""))
			if n != res.Files[i].Packets || n == 0 {
				t.Errorf("%s: tcpdump reads %d, the result says %d", f, n, res.Files[i].Packets)
			}
			kept += n
		}
		b, _ := os.ReadFile(log)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != 12 || res.PostRotate == nil || res.PostRotate.Ran != 6 || res.PostRotate.Failures != 0 {
			t.Fatalf("-z log %q, result %+v", lines, res.PostRotate)
		}
		var zsum int64
		for i := 0; i < 12; i += 2 {
			if !strings.HasPrefix(lines[i], filepath.Join(dir, "d_0000")) {
				t.Errorf("-z ran on %q", lines[i])
			}
			var n int64
			for _, c := range strings.TrimSpace(lines[i+1]) {
				n = n*10 + int64(c-'0')
			}
			zsum += n
		}
		// -z read every file whole when it was closed, removed ones
		// included: together they are every packet written.
		if zsum != res.Counts.Packets() || kept+res.Ring.RemovedPackets != res.Counts.Packets() {
			t.Errorf("-z counted %d packets, kept %d + removed %d, result %d", zsum, kept, res.Ring.RemovedPackets, res.Counts.Packets())
		}
		t.Logf("ring %+v, -z counted %d, primary %+v", res.Ring, zsum, res.Primary)
	})
}

// TestCaptureLabStall stops pdump (SIGSTOP) in the middle of a capture,
// once its file holds packets, while the lab primary sends: the watchdog
// ends the capture saying why (pdump stopped, the primary dropping for a
// full ring), and what came before is written.
func TestCaptureLabStall(t *testing.T) {
	t.Parallel()
	needTools(t, "dpdk-pdump", "tcpdump")
	p := lab.StartT(t, lab.Config{})
	dir := t.TempDir()
	f := filepath.Join(dir, "s.pcapng")
	g := startBackground(t, gzdoctorCmd(t, dir, "-o", "json", "capture", "--prefix", p.Prefix, "-w", f))
	pdump := g.backend(60*time.Second, 200_000)
	syscall.Kill(pdump, syscall.SIGSTOP)
	stopped := time.Now()
	res := g.result(gzdoctorRunLimit, exitProblem)
	want := fmt.Sprintf("dpdk-pdump (pid %d) is stopped (state T: SIGSTOP, ^Z or a debugger; kill -CONT %d resumes it)", pdump, pdump)
	if res.Stopped != capture.StopStalled || len(res.Notes) == 0 || !strings.Contains(res.Notes[0], "the capture stalled: dpdk-pdump's files have not grown for") ||
		!strings.Contains(res.Notes[0], "for a full ring") || !strings.Contains(res.Notes[0], ": dpdk-pdump is not emptying its ring") || !strings.Contains(res.Notes[0], want) {
		t.Errorf("stopped %q notes %q\nwant %q", res.Stopped, res.Notes, want)
	}
	if n := tcpdumpN(t, f, ""); n < 100 || int64(n) != res.Counts.Packets() {
		t.Errorf("%s holds %d packets, result %+v", f, n, res.Counts)
	}
	if syscall.Kill(pdump, 0) == nil {
		t.Errorf("pdump %d still runs", pdump)
		syscall.Kill(pdump, syscall.SIGKILL)
	}
	t.Logf("stopped %v after the SIGSTOP: %s", time.Since(stopped).Round(100*time.Millisecond), res.Notes[0])
}

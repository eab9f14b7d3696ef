package capture

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/internal/lab"
	"github.com/gzdoctor/gzdoctor/internal/testenv"
)

// TestRefusedBusyNamesToolAttachedAfterListing provokes the moment
// TestCaptureLabOneCapturePerPrimary met under load: a dpdk-pdump attaches
// between refusedBusy's listing of the prefix dir and its reads of the
// primary's rings. The capture is refused, and the refusal names that
// pdump (its pid, the command to stop it), not "a capture" of nobody.
func TestRefusedBusyNamesToolAttachedAfterListing(t *testing.T) {
	t.Parallel()
	testenv.Tool(t, "dpdk-pdump", "dpdk, lab/packages.txt")
	p := lab.StartT(t, lab.Config{})
	h := host.New("/")
	d, err := h.ScanPrefix(p.RuntimeDir)
	if err != nil {
		t.Fatal(err)
	}
	pl := &Plan{Prefix: p.Prefix, runtimeDir: p.RuntimeDir, primaryPID: p.Pid, target: &capTarget{prefix: p.Prefix, dir: d}}
	// pdump keeps at most 55 bytes of rx-dev: a short dir.
	dir, err := os.MkdirTemp("", "gzb")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var pd *exec.Cmd
	exited := make(chan struct{})
	pl.afterListing = func() {
		pd = exec.Command("dpdk-pdump", "--file-prefix", p.Prefix, "--", "--pdump",
			"device_id="+p.Device+",queue=*,rx-dev="+filepath.Join(dir, "rx.pcap")+",total-num-mbufs=4095,ring-size=1024")
		pd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := pd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { pd.Wait(); close(exited) }()
		// Attached: its rings are in the primary's memzones.
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if mz, _ := h.MemzoneNames(p.RuntimeDir); slices.ContainsFunc(mz, func(m string) bool { return strings.HasPrefix(m, "RG_rx_ring") }) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("dpdk-pdump %d made no ring in 30 s", pd.Process.Pid)
			}
		}
	}
	t.Cleanup(func() {
		if pd == nil {
			return
		}
		pd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			pd.Process.Kill()
			<-exited
		}
	})
	res := &Result{}
	if !refusedBusy(context.Background(), h, pl, res) {
		t.Fatal("not refused while a dpdk-pdump is attached")
	}
	pid := pd.Process.Pid
	if res.Stopped != StopBusy || res.Holder == nil || res.Holder.PID != pid || !res.Holder.Foreign {
		t.Errorf("stopped %q, holder %+v; want busy, held by dpdk-pdump %d", res.Stopped, res.Holder, pid)
	}
	if notes := strings.Join(res.Notes, "\n"); !strings.Contains(notes, "kill -INT "+strconv.Itoa(pid)) {
		t.Errorf("the refusal does not give the command that stops pdump %d:\n%s", pid, notes)
	}
}

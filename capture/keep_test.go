package capture

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRefuseDirectoryOutput: -w DIR --force used to capture, find the
// target a directory, print ✓ and exit 0. It is refused before anything
// starts.
func TestRefuseDirectoryOutput(t *testing.T) {
	o := fakeOptions(t, fakeNormal)
	dir := filepath.Dir(o.Write)
	o.Write, o.Force, o.Count = dir, true, 10
	started := false
	o.beforeBackend = func(*Plan) { started = true }
	res, err := Run(context.Background(), o)
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), dir+" is a directory") {
		t.Fatalf("err %v (result %+v), want a usage error naming the directory", err, res)
	}
	if started {
		t.Error("the capture started before the output was refused")
	}
	noTemps(t, dir)
}

// TestFinalWriteFailureKeepsPackets: the final file cannot be written
// (here a directory appears at its path while the capture runs). The
// result is a failure (exit 3, ✗), names the kept files, which hold every
// packet, and gives the command that recovers them.
func TestFinalWriteFailureKeepsPackets(t *testing.T) {
	o := fakeOptions(t, fakeNormal)
	o.Count = 300
	o.beforeBackend = func(*Plan) {
		if err := os.Mkdir(o.Write, 0o755); err != nil {
			t.Error(err)
		}
	}
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Failed() || !strings.Contains(res.WriteError, "is a directory") || len(res.Files) != 0 {
		t.Fatalf("failed %v, write error %q, files %v", res.Failed(), res.WriteError, res.Files)
	}
	var n int
	for _, p := range res.TempFiles {
		pkts, _ := readAll(t, p)
		n += len(pkts)
	}
	if n < 300 {
		t.Errorf("the kept files %v hold %d packets, want at least the 300 counted", res.TempFiles, n)
	}
	if !strings.HasPrefix(res.Recover, "gzdoctor pcap merge "+res.TempFiles[0]) || !strings.Contains(res.Recover, "-w "+o.Write) {
		t.Errorf("recover %q", res.Recover)
	}
	var b strings.Builder
	res.RenderText(&b, noStyle, false)
	if !strings.Contains(b.String(), "✗ capture not saved: ") || strings.Contains(b.String(), "✓") || !strings.Contains(b.String(), "the packets are kept in "+res.Plan.TempDir) {
		t.Errorf("summary:\n%s", b.String())
	}
	os.RemoveAll(res.Plan.TempDir)
}

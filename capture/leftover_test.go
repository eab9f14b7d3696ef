package capture

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLeftoversOfAKilledCapture: gzdoctor killed with SIGKILL mid-capture
// leaves its private directory with the packets in it. The next capture
// writing there names it, says how many packets it holds and how to save
// them, and removes nothing.
func TestLeftoversOfAKilledCapture(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a capture for a few seconds")
	}
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), runnerEnv+"="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The runner's pid names its directory, wherever it was put; kill it
	// once its backend wrote packets there.
	var dead string
	for end := time.Now().Add(30 * time.Second); dead == "" && time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		for _, parent := range []string{dir, "/tmp", os.TempDir()} {
			m, _ := filepath.Glob(filepath.Join(parent, fmt.Sprintf(".gzdoctor-%d*", cmd.Process.Pid)))
			for _, d := range m {
				if fi, err := os.Stat(filepath.Join(d, "rx.pcap")); err == nil && fi.Size() > 20000 {
					dead = d
				}
			}
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if dead == "" {
		t.Fatalf("the capture never wrote into a private directory:\n%s", out.String())
	}
	t.Cleanup(func() { os.RemoveAll(dead) })
	// Its backend got SIGINT when the runner died and flushed; wait for
	// it to be gone before looking.
	time.Sleep(500 * time.Millisecond)

	o := fakeOptions(t, fakeNormal)
	o.Write = filepath.Join(dir, "next.pcapng")
	o.Count = 10
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, l := range res.Leftovers {
		if l.Path != dead {
			continue
		}
		found = true
		if l.Removed || l.Packets >= 0 && l.Packets < 100 || !strings.HasPrefix(l.Recover, "gzdoctor pcap merge "+dead+"/rx.pcap "+dead+"/tx.pcap --salvage -w ") {
			t.Errorf("leftover %+v", l)
		}
	}
	if !found {
		t.Fatalf("the next capture did not report %s: %+v", dead, res.Leftovers)
	}
	if _, err := os.Stat(dead); err != nil {
		t.Errorf("the killed capture's packets were removed: %v", err)
	}
	var b strings.Builder
	res.RenderText(&b, noStyle, false)
	if !strings.Contains(b.String(), dead+": left by a capture that was killed, with ") {
		t.Errorf("summary:\n%s", b.String())
	}
}

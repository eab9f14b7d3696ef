package elfcheck

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// includeTree writes a root whose /etc/ld.so.conf includes n files that
// each name a directory and include the same glob again, the shape that
// cost 474 s for n = 20 000.
func includeTree(t *testing.T, n int) (string, []string) {
	t.Helper()
	root := t.TempDir()
	d := filepath.Join(root, "etc/ld.so.conf.d")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/ld.so.conf"), []byte("/first\ninclude /etc/ld.so.conf.d/*.conf\n/last\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := []string{"/first"}
	for i := 0; i < n; i++ {
		// Zero-padded: glob's sorted order is the numeric order.
		body := fmt.Sprintf("/opt/l%06d\ninclude *.conf\ninclude /etc/ld.so.conf.d/*.conf\n", i)
		if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("%06d.conf", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprintf("/opt/l%06d", i))
	}
	return root, append(want, "/last")
}

func TestLdSoConfExpandsEachGlobOnce(t *testing.T) {
	const n = 1000
	root, want := includeTree(t, n)
	fs := newRootFS(root)
	fs.trace = &fsTrace{}
	got, err := ldSoConf(context.Background(), fs)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("dirs: got %d (%v …), want %d", len(got), got[:min(len(got), 4)], len(want))
	}
	// One glob per distinct pattern (the relative "*.conf" resolves to the
	// same absolute pattern), one read per file.
	if fs.trace.globs != 1 || fs.trace.reads != n+1 {
		t.Errorf("%d globs and %d reads for %d include files; want 1 and %d", fs.trace.globs, fs.trace.reads, n, n+1)
	}
}

// A depth-limited include reached again from a shallower file is still read.
func TestLdSoConfGlobAgainFromShallowerInclude(t *testing.T) {
	files := map[string][]byte{}
	// /etc/ld.so.conf → chain c1 … c16 (depth 16), c16 includes x/*.conf at
	// depth 16 (its matches would be depth 17: cut); then ld.so.conf itself
	// includes x/*.conf at depth 0.
	files["/etc/ld.so.conf"] = []byte("include /etc/c1.conf\ninclude /etc/x/*.conf\n")
	for i := 1; i <= 16; i++ {
		next := fmt.Sprintf("include /etc/c%d.conf\n", i+1)
		if i == 16 {
			next = "include /etc/x/*.conf\n"
		}
		files[fmt.Sprintf("/etc/c%d.conf", i)] = []byte(next)
	}
	files["/etc/x/a.conf"] = []byte("/from-x\n")
	root := writeRoot(t, files, nil)
	got, err := ldSoConf(context.Background(), newRootFS(root))
	if err != nil || !reflect.DeepEqual(got, []string{"/from-x"}) {
		t.Fatalf("got %v, %v; want [/from-x]", got, err)
	}
}

// A signal (the command's context) stops the reading of a large include
// tree at the next file: the cancel happens at a chosen read, not at a time.
func TestLdSoConfStopsOnCancel(t *testing.T) {
	const n, at = 1000, 200
	root, _ := includeTree(t, n)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fs := newRootFS(root)
	fs.trace = &fsTrace{onRead: func(i int) {
		if i == at {
			cancel()
		}
	}}
	_, err := ldSoConf(ctx, fs)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if fs.trace.reads != at {
		t.Errorf("%d files read, the context was cancelled at read %d: reading went on", fs.trace.reads, at)
	}
}

// Analyze honours the context all the way: a cancelled run returns
// context.Canceled, never a report of what it happened to reach.
func TestAnalyzeCancelledDuringLdSoConf(t *testing.T) {
	root, _ := includeTree(t, 50)
	exe := synthELF{needed: []string{"libx.so.1"}}.bytes()
	if err := os.WriteFile(filepath.Join(root, "app"), exe, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep, err := Analyze(ctx, "/app", Options{Root: root})
	if !errors.Is(err, context.Canceled) || rep != nil {
		t.Fatalf("Analyze = %v, %v; want nil, context.Canceled", rep, err)
	}
}

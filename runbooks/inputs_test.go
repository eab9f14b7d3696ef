package runbooks

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestReadInputs: files and stdin are read in turn, each its own source;
// a directory or a missing file stops the reading, named.
func TestReadInputs(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	os.WriteFile(a, []byte("EAL: Detected 2 lcore(s)\n"), 0o644)
	os.WriteFile(b, []byte("EAL: Detected 4 lcore(s)\n"), 0o644)

	m := c.NewMatcher()
	if err := m.ReadInputs(context.Background(), []string{a, "-", b}, strings.NewReader("hello\n")); err != nil {
		t.Fatal(err)
	}
	if got := m.Report().Sources; !slices.Equal(got, []string{a, "stdin", b}) {
		t.Errorf("sources %v", got)
	}
	for _, tc := range []struct{ name, want string }{
		{dir, dir + " is a directory"},
		{filepath.Join(dir, "missing.log"), "open " + filepath.Join(dir, "missing.log")},
	} {
		err := c.NewMatcher().ReadInputs(context.Background(), []string{tc.name}, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.NewMatcher().ReadInputs(ctx, nil, nil); err == nil {
		t.Error("a cancelled read is not an error")
	}
}

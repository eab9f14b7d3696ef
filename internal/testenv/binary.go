package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// Binary returns the gzdoctor binary `make build` makes (bin/gzdoctor at the
// repository's root), after running `make build` once per test process, so
// tests that run the program run the very file an operator gets: built
// without cgo, with the version stamp. Go's build cache makes the second and
// later builds cheap.
func Binary(t testing.TB) string {
	t.Helper()
	Tool(t, "make", "Debian package make")
	binOnce.Do(func() {
		root, err := repoRoot()
		if err != nil {
			binErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "make", "-s", "-C", root, "build").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("make build: %v\n%s", err, out)
			return
		}
		binPath = filepath.Join(root, "bin", "gzdoctor")
	})
	if binErr != nil {
		t.Fatalf("building gzdoctor: %v", binErr)
	}
	return binPath
}

// repoRoot is the nearest directory above the test's working directory
// that holds go.mod and the Makefile.
func repoRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "Makefile")); err == nil {
				return d, nil
			}
		}
		up := filepath.Dir(d)
		if up == d {
			return "", errors.New("no go.mod with a Makefile above the test's directory")
		}
		d = up
	}
}

package specpatch

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPackager(t *testing.T) {
	// git reads only the repository's own config here.
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(t.TempDir(), "none"))
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	repo := func(t *testing.T, kv ...string) string {
		dir := t.TempDir()
		cmds := [][]string{{"init", "-q"}}
		for i := 0; i < len(kv); i += 2 {
			cmds = append(cmds, []string{"config", kv[i], kv[i+1]})
		}
		for _, c := range cmds {
			cmd := exec.Command("git", c...)
			cmd.Dir = dir
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("git %v: %v\n%s", c, err, b)
			}
		}
		return dir
	}
	both := repo(t, "user.name", "Ann Git", "user.email", "ann@example.com")
	nameOnly := repo(t, "user.name", "Ann Git")
	for _, tc := range []struct {
		name, given, env, dir, want string
	}{
		{"flag first", "Flag <f@example.com>", "Env <e@example.com>", both, "Flag <f@example.com>"},
		{"then RPM_PACKAGER", "", "Env <e@example.com>", both, "Env <e@example.com>"},
		{"then git", "", "", both, "Ann Git <ann@example.com>"},
		{"git name alone", "", "", nameOnly, "Ann Git"},
		{"none", "", "", t.TempDir(), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("RPM_PACKAGER", tc.env)
			if got := Packager(context.Background(), tc.given, tc.dir); got != tc.want {
				t.Errorf("Packager = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestApplyBackup: --backup keeps an identical TARGET.orig, and refuses
// (writing nothing) when one with other bytes exists: it may be the only
// copy of an earlier original.
func TestApplyBackup(t *testing.T) {
	orig, err := os.ReadFile("../testdata/specs/reference/rhel9-22.11-e5a5f71.spec")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		old     []byte // the .orig already there; nil: none
		wantErr string
	}{
		{"no backup yet", nil, ""},
		{"same backup kept", orig, ""},
		{"other backup refused", []byte("an earlier original\n"), "exists and differs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := filepath.Join(t.TempDir(), "dpdk.spec")
			if err := os.WriteFile(spec, orig, 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.old != nil {
				if err := os.WriteFile(spec+".orig", tc.old, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			res, err := Apply(context.Background(), Request{Spec: spec, InPlace: true, Backup: true, Now: time.Now()})
			now, _ := os.ReadFile(spec)
			backup, _ := os.ReadFile(spec + ".orig")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				if !bytes.Equal(now, orig) || !bytes.Equal(backup, tc.old) {
					t.Error("something was written although the backup could not be kept")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Diff == "" || bytes.Equal(now, orig) || res.Written == "" {
				t.Fatalf("spec not patched (written %q)", res.Written)
			}
			if !bytes.Equal(backup, orig) || res.Backup != spec+".orig" {
				t.Errorf("backup %q is not the original", res.Backup)
			}
		})
	}
}

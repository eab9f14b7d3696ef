package host

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const unprivEnv = "GZDOCTOR_HOST_UNPRIV_HELPER"

type unprivResult struct {
	Init     *Process         `json:"init"`
	Bases    []RuntimeBaseDir `json:"bases"`
	Prefix   *Prefix          `json:"prefix"`
	Prefixes []Prefix         `json:"prefixes"`
	Errs     []string         `json:"errs"`
}

// TestUnprivilegedHelper runs only as the child of TestUnprivileged.
func TestUnprivilegedHelper(t *testing.T) {
	dir := os.Getenv(unprivEnv)
	if dir == "" {
		t.Skip("helper process only")
	}
	h := New("/")
	var r unprivResult
	var err error
	if r.Init, err = h.ReadProcess(1); err != nil {
		r.Errs = append(r.Errs, err.Error())
	}
	xdg := filepath.Dir(filepath.Dir(dir))
	if r.Prefix, err = h.ScanPrefix(dir); err != nil {
		r.Errs = append(r.Errs, err.Error())
	}
	r.Bases = h.RuntimeBases(65534, map[string]string{"XDG_RUNTIME_DIR": xdg})
	if r.Prefixes, err = h.Prefixes(r.Bases); err != nil {
		r.Errs = append(r.Errs, err.Error())
	}
	json.NewEncoder(os.Stdout).Encode(r)
}

// TestUnprivileged runs the probes as uid 65534 against root's files: what
// another user's process and a root 0700 runtime dir look like to a user
// without rights. Permission errors must come back as data.
func TestUnprivileged(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to start a child as another uid")
	}
	// The test binary lives in a 0700 build dir: copy it where nobody can
	// run it.
	exeDir, err := os.MkdirTemp("", "gzunpriv")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(exeDir)
	os.Chmod(exeDir, 0o755)
	exe := filepath.Join(exeDir, "host.test")
	copyFile(t, os.Args[0], exe, 0o755)

	// A root-owned runtime base (0755) holding a 0700 prefix dir.
	base := filepath.Join(exeDir, "dpdk")
	dir := filepath.Join(base, "rootonly")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(base, 0o755)
	if err := os.WriteFile(filepath.Join(dir, "config"), nil, 0o600); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(exe, "-test.run=^TestUnprivilegedHelper$")
	cmd.Env = []string{unprivEnv + "=" + dir}
	cmd.Dir = exeDir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	var r unprivResult
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		t.Fatalf("helper output %q: %v", out, err)
	}
	if len(r.Errs) != 0 {
		t.Errorf("errors instead of data: %q", r.Errs)
	}
	if r.Init == nil || r.Init.Name == "" {
		t.Fatalf("pid 1 = %+v", r.Init)
	}
	unreadable := strings.Join(r.Init.Unreadable, "; ")
	for _, f := range []string{"environ: permission denied", "maps: permission denied", "exe: permission denied"} {
		if !strings.Contains(unreadable, f) {
			t.Errorf("pid 1 unreadable = %q, want %q", unreadable, f)
		}
	}
	if r.Prefix == nil || r.Prefix.State != "unknown" || !strings.Contains(r.Prefix.Error, "permission denied") || r.Prefix.MPSocketBound == nil || *r.Prefix.MPSocketBound {
		t.Errorf("root's 0700 prefix seen by nobody = %+v", r.Prefix)
	}
	var ours []Prefix
	for _, p := range r.Prefixes {
		if p.Base == base {
			ours = append(ours, p)
		}
	}
	if len(ours) != 1 || ours[0].State != "unknown" {
		t.Errorf("Prefixes under %s = %+v, want the one unknown prefix", base, ours)
	}
	// Root's /var/run/dpdk is 0700: listed as a base nobody cannot read.
	for _, b := range r.Bases {
		if b.Path == RootRuntimeBase && b.Exists && !strings.Contains(b.Error, "permission denied") {
			t.Errorf("base %+v: want a permission error", b)
		}
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

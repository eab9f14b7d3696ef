package doctor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/host"
)

// writeTree creates files (path → content) under a temp root.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, p)
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// A non-root user cannot list root's /var/run/dpdk (mode 0700): the live
// prefixes there come from the bound mp_sockets in /proc/net/unix, and the
// holder from the command line carrying the --file-prefix. Measured on the
// lab: without this, a non-root check said "no primary has run" and counted
// the live primaries' hugepage files as left by dead ones.
func TestUnlistablePrefixes(t *testing.T) {
	root := writeTree(t, map[string]string{
		"var/run/dpdk/": "",
		"proc/net/unix": "Num       RefCount Protocol Flags    Type St Inode Path\n" +
			"0000000056b9e0001: 00000002 00000000 00000000 0002 01 917505 /var/run/dpdk/gz/mp_socket\n" +
			"0000000056b9e0002: 00000002 00000000 00000000 0002 01 917506 /var/run/dpdk/gz/mp_socket_77_1a2b\n" +
			"0000000056b9e0003: 00000002 00000000 00000000 0005 01 917507 /var/run/dpdk/gz/dpdk_telemetry.v2\n" +
			"0000000056b9e0004: 00000002 00000000 00000000 0002 01 917508 /tmp/dpdk/other/mp_socket\n",
		"proc/4242/status":  "Name:\tlab-primary\nPid:\t4242\nPPid:\t1\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n",
		"proc/4242/cmdline": "lab-primary\x00--file-prefix\x00gz\x00--no-pci\x00",
		"proc/77/status":    "Name:\tdpdk-pdump\nPid:\t77\nPPid:\t1\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n",
		"proc/77/cmdline":   "dpdk-pdump\x00--file-prefix\x00gz\x00--proc-type\x00secondary\x00",
	})
	env := NewEnv(Config{Host: host.New(root), User: &User{UID: 65534, GID: 65534}, Env: []string{}})
	bases := []host.RuntimeBaseDir{
		{Path: "/var/run/dpdk", Why: []string{"root"}, Exists: true, Error: "permission denied"},
		{Path: "/tmp/dpdk", Why: []string{"caller"}, Exists: false},
	}
	got := env.unlistablePrefixes(context.Background(), bases)
	if len(got) != 1 {
		t.Fatalf("got %d prefixes, want 1 (gz): %+v", len(got), got)
	}
	p := got[0]
	if p.Name != "gz" || p.Dir != "/var/run/dpdk/gz" || p.State != "live" || p.HugepageFilePrefix != "gzmap_" {
		t.Errorf("prefix = %+v", p)
	}
	if p.Lock.Holder == nil || p.Lock.Holder.PID != 4242 {
		t.Errorf("holder = %+v, want pid 4242 (the primary, not the secondary 77)", p.Lock.Holder)
	}
	if p.Owner == nil || p.Owner.UID != os.Getuid() {
		t.Errorf("owner = %+v, want the base dir's", p.Owner)
	}

	// A listable base needs no guessing.
	bases[0].Error = ""
	if got := env.unlistablePrefixes(context.Background(), bases); len(got) != 0 {
		t.Errorf("listable base: got %+v, want none", got)
	}
}

// The runtime-dir check names the cross-user case, with the prefix the
// capture is for, instead of "no primary has run".
func TestRuntimeDirUnlistableRootBase(t *testing.T) {
	env := NewEnv(Config{Host: host.New(t.TempDir()), User: &User{UID: 65534, GID: 65534}, Prefix: "gz", Env: []string{}})
	bound := true
	live := func(name string) host.Prefix {
		return host.Prefix{Name: name, Dir: "/var/run/dpdk/" + name, Base: "/var/run/dpdk", State: "live", MPSocketBound: &bound,
			Owner: &host.FileStat{UID: 0}, Lock: host.LockCheck{Method: host.LockBySocket}, HugepageFilePrefix: name + "map_"}
	}
	env.runtime.get(func() (*Runtime, error) {
		return &Runtime{CallerBase: "/tmp/dpdk",
			Bases:    []host.RuntimeBaseDir{{Path: "/var/run/dpdk", Exists: true, Error: "permission denied"}},
			Prefixes: []host.Prefix{live("aaa"), live("gz")}}, nil
	})
	r := checkRuntimeDir(context.Background(), env)
	if r.Status != Fail || !strings.Contains(r.Finding, "runs as root") || !strings.Contains(r.Finding, "/tmp/dpdk") {
		t.Errorf("finding = %s %q", r.Status, r.Finding)
	}
	if r.Fix == nil || len(r.Fix.Commands) == 0 || !strings.HasPrefix(r.Fix.Commands[0], "sudo gzdoctor ") || !strings.HasSuffix(r.Fix.Commands[0], " check --prefix gz") {
		t.Errorf("fix = %+v, want the sudo command for prefix gz", r.Fix)
	}
}

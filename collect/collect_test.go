package collect

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/host"
)

func TestRelPath(t *testing.T) {
	for _, tc := range []struct{ dir, abs, want string }{
		{"/var", "/run", "../run"},
		{"/proc/123", "/", "../.."},
		{"/", "/run", "run"},
		{"/a/b", "/a/b/c", "c"},
		{"/a/b", "/a/b", "."},
		{"/usr/lib", "/usr/lib64/x", "../lib64/x"},
	} {
		if got := relPath(tc.dir, tc.abs); got != tc.want {
			t.Errorf("relPath(%q, %q) = %q, want %q", tc.dir, tc.abs, got, tc.want)
		}
	}
}

func TestProcAllowed(t *testing.T) {
	for rest, want := range map[string]bool{
		"": true, "/status": true, "/cmdline": true, "/environ": true, "/maps": true, "/limits": true,
		"/exe": true, "/ns/mnt": true, "/root": true, "/net/unix": true, "/task/12/status": true,
		"/mem": false, "/pagemap": false, "/fd/3": false, "/task/12/mem": false, "/net/tcp": false,
		"/smaps": false, "/map_files/7f00-7f01": false,
	} {
		if got := procAllowed(rest); got != want {
			t.Errorf("procAllowed(%q) = %v, want %v", rest, got, want)
		}
	}
	for p, want := range map[string]bool{
		"/proc/1/exe": true, "/proc/1/ns/mnt": true, "/proc/1/task/2/exe": true,
		"/proc/1/root": false, "/proc/self": false, "/var/run": false,
	} {
		if got := magicLink(p); got != want {
			t.Errorf("magicLink(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestFilterEnviron(t *testing.T) {
	in := "PATH=/bin\x00LD_PRELOAD=/usr/lib64/liblstack.so\x00AWS_SECRET_ACCESS_KEY=hunter2\x00LSTACK_CONF_PATH=/etc/gazelle/lstack.conf\x00NOEQUALS\x00"
	got := string(filterEnviron([]byte(in)))
	want := "LD_PRELOAD=/usr/lib64/liblstack.so\x00LSTACK_CONF_PATH=/etc/gazelle/lstack.conf\x00"
	if got != want {
		t.Errorf("filterEnviron = %q, want %q", got, want)
	}
}

// A tree taken from a directory of this machine: an absolute symlink on
// the way becomes relative (it would read the replaying machine), a socket
// and an ELF file become described stand-ins, a file over the limit too,
// and what a replay reads through .fixture/stat is what stat said.
func TestTreeFromMachine(t *testing.T) {
	d := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(d, "real/dpdk/p"), 0o700))
	must(os.Symlink(filepath.Join(d, "real"), filepath.Join(d, "link"))) // absolute, like /var/run -> /run
	must(os.WriteFile(filepath.Join(d, "real/dpdk/p/config"), []byte("cfg"), 0o600))
	must(os.WriteFile(filepath.Join(d, "real/dpdk/p/big"), bytes.Repeat([]byte("x"), 100), 0o644))
	must(os.WriteFile(filepath.Join(d, "real/dpdk/p/tool"), []byte("\x7fELF\x02\x01\x01"), 0o755))
	l, err := net.Listen("unix", filepath.Join(d, "real/dpdk/p/mp_socket"))
	must(err)
	defer l.Close()

	rec := NewRecorder()
	for _, f := range []string{"config", "big", "tool", "mp_socket", "absent"} {
		rec.Accessed(filepath.Join(d, "link/dpdk/p", f))
	}
	bu := Build(Bundle{Name: "b", Recorder: rec, MaxFile: 50, Time: time.Unix(1700000000, 0)})
	out := t.TempDir()
	must(bu.Materialize(out))

	target, err := os.Readlink(filepath.Join(out, d, "link"))
	must(err)
	if target != "real" {
		t.Errorf("the symlink became %q, want the relative %q", target, "real")
	}
	if b, err := os.ReadFile(filepath.Join(out, d, "link/dpdk/p/config")); err != nil || string(b) != "cfg" {
		t.Errorf("config through the link: %q, %v", b, err)
	}
	h := host.New(out)
	for f, want := range map[string]string{"config": "file 0600 3", "big": "file 0644 100", "tool": "file 0755 7", "mp_socket": "socket"} {
		st, err := h.Stat(filepath.Join(d, "link/dpdk/p", f))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		got := st.Type
		if st.Type == "file" {
			got += " " + st.Mode + " " + itoa(st.Size)
		}
		if got != want {
			t.Errorf("stat %s in the tree = %q, want %q", f, got, want)
		}
	}
	m := bu.Manifest()
	why := map[string]string{}
	for _, n := range m.NotTaken {
		why[strings.TrimPrefix(n.Path, d)] = n.Why
	}
	if !strings.Contains(why["/real/dpdk/p/big"], "limit for one file") || !strings.Contains(why["/real/dpdk/p/tool"], "ELF") || len(why) != 2 {
		t.Errorf("not taken: %v", why)
	}

	// The tar holds the same tree under Name/, the symlink as a symlink.
	var buf bytes.Buffer
	must(bu.WriteTar(&buf))
	zr, err := gzip.NewReader(&buf)
	must(err)
	tr := tar.NewReader(zr)
	seen := map[string]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		must(err)
		seen[h.Name] = h.Typeflag
	}
	for name, typ := range map[string]byte{
		"b/": tar.TypeDir, "b" + d + "/link": tar.TypeSymlink, "b" + d + "/real/dpdk/p/config": tar.TypeReg,
		"b/.fixture/stat": tar.TypeReg, "b/.gzdoctor/manifest.json": tar.TypeReg,
	} {
		if seen[name] != typ {
			t.Errorf("tar entry %s: type %q, want %q", name, seen[name], typ)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

package host

import (
	"os"
	"path"
	"path/filepath"
	"reflect"
	"testing"
)

// fixture returns a Host reading testdata/hosts/<name>.
func fixture(t *testing.T, name string) *Host {
	t.Helper()
	root := filepath.Join("..", "testdata", "hosts", name)
	if _, err := os.Stat(root); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	return New(root)
}

func TestRuntimeBase(t *testing.T) {
	tests := []struct {
		name string
		uid  int
		env  map[string]string
		want string
	}{
		{"root", 0, nil, "/var/run/dpdk"},
		{"root ignores XDG", 0, map[string]string{"XDG_RUNTIME_DIR": "/run/user/0"}, "/var/run/dpdk"},
		{"user with XDG", 1000, map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}, "/run/user/1000/dpdk"},
		{"user without XDG", 1000, nil, "/tmp/dpdk"},
		{"user with empty XDG (DPDK keeps it)", 1000, map[string]string{"XDG_RUNTIME_DIR": ""}, "/dpdk"},
		{"systemd RuntimeDirectory wins for root", 0, map[string]string{"RUNTIME_DIRECTORY": "/run/app"}, "/run/app/dpdk"},
		{"systemd RuntimeDirectory wins for user", 1000, map[string]string{"RUNTIME_DIRECTORY": "/run/app", "XDG_RUNTIME_DIR": "/run/user/1000"}, "/run/app/dpdk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RuntimeBase(tt.uid, tt.env); got != tt.want {
				t.Errorf("RuntimeBase(%d, %v) = %q, want %q", tt.uid, tt.env, got, tt.want)
			}
		})
	}
}

func TestRuntimeBases(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		uid     int
		env     map[string]string
		want    []RuntimeBaseDir
	}{
		{
			"root caller on a machine with a user's dir", "rt-nonroot", 0, nil,
			[]RuntimeBaseDir{
				{Path: "/var/run/dpdk", Why: []string{"root", "caller"}},
				{Path: "/tmp/dpdk", Why: []string{"non-root without XDG_RUNTIME_DIR"}},
				{Path: "/run/user/1000/dpdk", Why: []string{"uid 1000 (XDG_RUNTIME_DIR)"}, Exists: true},
			},
		},
		{
			"the user asks where they would look", "rt-nonroot", 1000, map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"},
			[]RuntimeBaseDir{
				{Path: "/var/run/dpdk", Why: []string{"root"}},
				{Path: "/run/user/1000/dpdk", Why: []string{"caller", "uid 1000 (XDG_RUNTIME_DIR)"}, Exists: true},
				{Path: "/tmp/dpdk", Why: []string{"non-root without XDG_RUNTIME_DIR"}},
			},
		},
		{
			"user without XDG looks in /tmp", "rt-healthy", 1000, nil,
			[]RuntimeBaseDir{
				{Path: "/var/run/dpdk", Why: []string{"root"}, Exists: true},
				{Path: "/tmp/dpdk", Why: []string{"caller", "non-root without XDG_RUNTIME_DIR"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fixture(t, tt.fixture).RuntimeBases(tt.uid, tt.env)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("RuntimeBases =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestRuntimeBasesMergesSymlinkedRun(t *testing.T) {
	root := t.TempDir()
	mustMkdir(t, filepath.Join(root, "run", "dpdk", "rte"))
	mustMkdir(t, filepath.Join(root, "var"))
	if err := os.Symlink("../run", filepath.Join(root, "var", "run")); err != nil {
		t.Fatal(err)
	}
	// RUNTIME_DIRECTORY=/run names the same dir as /var/run/dpdk.
	got := New(root).RuntimeBases(0, map[string]string{"RUNTIME_DIRECTORY": "/run"})
	want := []RuntimeBaseDir{
		{Path: "/var/run/dpdk", Why: []string{"root", "caller"}, Exists: true},
		{Path: "/tmp/dpdk", Why: []string{"non-root without XDG_RUNTIME_DIR"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RuntimeBases =\n%+v\nwant\n%+v", got, want)
	}
}

func mustMkdir(t *testing.T, p string) {
	t.Helper()
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
}

func boolp(b bool) *bool { return &b }

func TestPrefixes(t *testing.T) {
	type want struct {
		name, dir, state, method string
		holder                   int // 0: none
		ownerUID                 int
		ownerMode                string
		mpBound                  *bool
		secondaries              []SecondarySocket
		telemetry                []string
		kinds                    map[string]string
	}
	tests := []struct {
		fixture string
		uid     int
		env     map[string]string
		want    []want
	}{
		{"rt-healthy", 0, nil, []want{{
			name: "gazelle", dir: "/var/run/dpdk/gazelle", state: "live", method: "proc-locks", holder: 1234,
			ownerMode: "0700", mpBound: boolp(true),
			secondaries: []SecondarySocket{{Name: "mp_socket_4242_3a1f9c0de", PID: 4242, Bound: boolp(true)}},
			telemetry:   []string{"/var/run/dpdk/gazelle/dpdk_telemetry.v2", "/var/run/dpdk/gazelle/dpdk_telemetry.v2:1"},
			kinds: map[string]string{
				"config": "config", "mp_socket": "mp_socket", "mp_socket_4242_3a1f9c0de": "mp_socket_secondary",
				"hugepage_info": "hugepage_info", "fbarray_memzone": "fbarray_memzone",
				"fbarray_memseg-2048k-0-0": "fbarray_memseg", "dpdk_telemetry.v2": "telemetry_v2",
				"dpdk_telemetry.v2:1": "telemetry_v2",
			},
		}}},
		{"rt-stale", 0, nil, []want{{
			name: "rte", dir: "/var/run/dpdk/rte", state: "stale", method: "proc-locks",
			ownerMode: "0700", mpBound: boolp(false),
			telemetry: []string{"/var/run/dpdk/rte/dpdk_telemetry.v2"},
		}}},
		{"rt-nonroot", 0, nil, []want{{
			name: "app", dir: "/run/user/1000/dpdk/app", state: "live", method: "proc-locks", holder: 2000,
			ownerUID: 1000, ownerMode: "0700", mpBound: boolp(true),
			telemetry: []string{"/run/user/1000/dpdk/app/dpdk_telemetry.v2"},
		}}},
		{"rt-1911-null", 0, nil, []want{{
			name: "(null)", dir: "/var/run/dpdk/(null)", state: "live", method: "proc-locks", holder: 3100,
			ownerMode: "0700", mpBound: boolp(true),
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			h := fixture(t, tt.fixture)
			got, err := h.Prefixes(h.RuntimeBases(tt.uid, tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d prefixes, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				p := got[i]
				if p.Name != w.name || p.Dir != w.dir || string(p.State) != w.state || string(p.Lock.Method) != w.method {
					t.Errorf("prefix = %q %q state %q method %q (lock %+v), want %q %q %q %q",
						p.Name, p.Dir, p.State, p.Lock.Method, p.Lock, w.name, w.dir, w.state, w.method)
				}
				gotHolder := 0
				if p.Lock.Holder != nil {
					gotHolder = p.Lock.Holder.PID
				}
				if gotHolder != w.holder {
					t.Errorf("holder = %d, want %d", gotHolder, w.holder)
				}
				if p.Owner == nil || p.Owner.UID != w.ownerUID || p.Owner.Mode != w.ownerMode {
					t.Errorf("owner = %+v, want uid %d mode %s", p.Owner, w.ownerUID, w.ownerMode)
				}
				if !reflect.DeepEqual(p.MPSocketBound, w.mpBound) {
					t.Errorf("mp_socket bound = %v, want %v", p.MPSocketBound, w.mpBound)
				}
				if !reflect.DeepEqual(p.Secondaries, w.secondaries) {
					t.Errorf("secondaries = %+v, want %+v", p.Secondaries, w.secondaries)
				}
				if !reflect.DeepEqual(p.Telemetry, w.telemetry) {
					t.Errorf("telemetry = %v, want %v", p.Telemetry, w.telemetry)
				}
				if p.HugepageFilePrefix != w.name+"map_" {
					t.Errorf("hugepage file prefix = %q", p.HugepageFilePrefix)
				}
				for name, kind := range w.kinds {
					found := false
					for _, f := range p.Files {
						if f.Name == name {
							found = true
							if f.Kind != kind {
								t.Errorf("%s: kind %q, want %q", name, f.Kind, kind)
							}
						}
					}
					if !found {
						t.Errorf("file %s not listed", name)
					}
				}
			}
		})
	}
}

func TestScanPrefixSocketTypeFromFixtureStat(t *testing.T) {
	p, err := fixture(t, "rt-healthy").ScanPrefix("/var/run/dpdk/gazelle")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range p.Files {
		wantType := "file"
		switch f.Kind {
		case "mp_socket", "mp_socket_secondary", "telemetry_v2":
			wantType = "socket"
		}
		if f.Stat == nil || f.Stat.Type != wantType {
			t.Errorf("%s: stat %+v, want type %s", f.Name, f.Stat, wantType)
		}
	}
}

func TestScanPrefixNoConfig(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "var", "run", "dpdk", "mem")
	mustMkdir(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "dpdk_telemetry.v2"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	mustMkdir(t, filepath.Join(root, "proc", "net"))
	p, err := New(root).ScanPrefix("/var/run/dpdk/mem")
	if err != nil {
		t.Fatal(err)
	}
	if p.State != "no-config" || p.Lock.Holder != nil || p.MPSocketBound != nil {
		t.Errorf("got state %q lock %+v bound %v, want no-config, no holder, bound unknown", p.State, p.Lock, p.MPSocketBound)
	}
}

func TestFixtureStatErrors(t *testing.T) {
	tests := []struct{ name, stat string }{
		{"relative path", "var/run/dpdk x=1\n"},
		{"not key=value", "/var/run/dpdk uid\n"},
		{"bad mode", "/var/run/dpdk mode=999\n"},
		{"bad dev", "/var/run/dpdk dev=zz\n"},
		{"unknown field", "/var/run/dpdk colour=blue\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			mustMkdir(t, filepath.Join(root, "var", "run", "dpdk"))
			mustMkdir(t, filepath.Join(root, ".fixture"))
			if err := os.WriteFile(filepath.Join(root, FixtureStatFile), []byte(tt.stat), 0o600); err != nil {
				t.Fatal(err)
			}
			if st, err := New(root).Stat("/var/run/dpdk"); err == nil {
				t.Errorf("Stat = %+v, want an error for %q", st, tt.stat)
			}
		})
	}
}

func TestRuntimeFileKind(t *testing.T) {
	tests := map[string]string{
		"config": "config", "mp_socket": "mp_socket", "mp_socket_157010_2fd9063deca7c": "mp_socket_secondary",
		"hugepage_info": "hugepage_info", "hugepage_data": "hugepage_data",
		"fbarray_memseg-1048576k-1-3": "fbarray_memseg", "fbarray_memzone": "fbarray_memzone",
		"dpdk_telemetry.v2": "telemetry_v2", "dpdk_telemetry.v2:12": "telemetry_v2",
		"telemetry": "telemetry_legacy", "dpdk_telemetry.v1": "telemetry_legacy", "core": "other",
	}
	for name, want := range tests {
		if got := RuntimeFileKind(name); got != want {
			t.Errorf("RuntimeFileKind(%q) = %q, want %q", name, got, want)
		}
	}
}

// A prefix dir removed between the listing of its base and its scan (a
// primary that ended and cleaned up) is skipped: the others are listed and
// the run does not fail. The hook removes the dir in exactly that window,
// before its Stat, and another one after its Stat, before its ReadDir.
func TestPrefixesSkipsDirRemovedDuringScan(t *testing.T) {
	root := t.TempDir()
	base := "/var/run/dpdk"
	for _, n := range []string{"a_gone", "b_kept", "c_gone_late"} {
		mustMkdir(t, filepath.Join(root, base, n))
		if err := os.WriteFile(filepath.Join(root, base, n, "config"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	h := New(root)
	var seen []string
	afterListing = func(dir string) {
		seen = append(seen, dir)
		if path.Base(dir) == "a_gone" {
			os.RemoveAll(h.Path(dir))
		}
	}
	afterStat = func(dir string) {
		if path.Base(dir) == "c_gone_late" {
			os.RemoveAll(h.Path(dir))
		}
	}
	t.Cleanup(func() { afterListing, afterStat = nil, nil })
	got, err := h.Prefixes([]RuntimeBaseDir{{Path: base, Exists: true}})
	if err != nil {
		t.Fatalf("a dir removed during the scan failed the listing: %v", err)
	}
	if len(seen) != 3 {
		t.Fatalf("the hook saw %q: the race was not provoked", seen)
	}
	if len(got) != 1 || got[0].Name != "b_kept" {
		t.Errorf("prefixes %+v, want b_kept alone", got)
	}
	// Without the removal, all three are listed: the skip is the removal's.
	afterListing, afterStat = nil, nil
	mustMkdir(t, filepath.Join(root, base, "a_gone"))
	if got, err := h.Prefixes([]RuntimeBaseDir{{Path: base, Exists: true}}); err != nil || len(got) != 2 {
		t.Errorf("prefixes %+v %v, want a_gone and b_kept", got, err)
	}
}

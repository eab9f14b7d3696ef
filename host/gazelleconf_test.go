package host

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/host/libconfig"
	gold "github.com/gzdoctor/gzdoctor/internal/golden"
)

// gazelleSamples are the real Gazelle configs plus our gotcha samples.
func gazelleSamples(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{
		filepath.Join(gazelleRefSamples, "*.conf"),
		filepath.Join(gazelleRefSamples, "*.conf.*"),
		"../testdata/conf/gazelle/*.conf",
	} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	if len(files) < 15 {
		t.Fatalf("only %d samples", len(files))
	}
	return files
}

func TestGazelleConfigGolden(t *testing.T) {
	for _, file := range gazelleSamples(t) {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			// Read through a Host rooted at the sample's dir so that
			// File is a stable machine path.
			h := New(filepath.Dir(file))
			c, err := h.ReadGazelleConfig("/" + name)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(c, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			gold.Check(t, filepath.Join("..", "testdata", "conf", "golden", name+".json"), got)
		})
	}
}

func gotchaIDs(c *GazelleConfig) map[string]ConfigGotcha {
	m := map[string]ConfigGotcha{}
	for _, g := range c.Gotchas {
		if _, ok := m[g.ID]; !ok {
			m[g.ID] = g // the first of each ID
		}
	}
	return m
}

func TestGazelleConfigModel(t *testing.T) {
	type want struct {
		role           GazelleRole
		prefix, source string
		primary        GazelleRole
		useLtran       bool
		gotchas        map[string]int // ID -> line (0: absent key)
		args           int
	}
	tests := map[string]want{
		// Real samples: the facts of gazelle-facts.md §2-§4.
		"lstack.conf": {RoleLstack, "rte", "default", RoleLstack, false, map[string]int{}, 6},
		"lstack.conf.tag-1.0.2": {RoleLstack, "gazelle_<pid>", "ltran-pid", RoleLtran, true, map[string]int{
			GotchaLtranMode: 13, GotchaMapPerfectOpenEuler: 11}, 8},
		"lstack.conf.tag-1.0.0":              {RoleLstack, "rte", "default", RoleLstack, false, map[string]int{GotchaMapPerfectOpenEuler: 11}, 8},
		"lstack-multinic-07.conf":            {RoleLstack, "07", "file-prefix", RoleLstack, false, map[string]int{}, 12},
		"lstack2-multinic-18.conf":           {RoleLstack, "18", "file-prefix", RoleLtran, true, map[string]int{GotchaLtranMode: 3, GotchaMapPerfectOpenEuler: 1}, 12},
		"ltran.conf":                         {RoleLtran, "rte", "default", RoleLtran, false, map[string]int{GotchaMapPerfectOpenEuler: 11}, 12},
		"ltran-multinic-08.conf":             {RoleLtran, "08", "file-prefix", RoleLtran, false, map[string]int{GotchaMapPerfectOpenEuler: 2}, 16},
		"ltran-functest-config_example.conf": {RoleLtran, "rte", "default", RoleLtran, false, map[string]int{}, 8},
		// Our gotcha samples.
		"lstack-one-token.conf": {RoleLstack, "gz1", "file-prefix", RoleLstack, false, map[string]int{
			GotchaOneTokenOption: 2, GotchaProcTypeOneToken: 3}, 7},
		"lstack-no-use-ltran.conf": {RoleLstack, "gazelle_<pid>", "ltran-pid", RoleLtran, true, map[string]int{
			GotchaUseLtranMissing: 0, GotchaLtranNeedsLegacyMem: 1}, 6},
		"lstack-map-perfect.conf": {RoleLstack, "rte", "default", RoleLstack, false, map[string]int{
			GotchaMapPerfectNoLegacy: 2, GotchaMapPerfectOpenEuler: 2}, 5},
		"lstack-types.conf": {RoleLstack, "gazelle_<pid>", "ltran-pid", RoleLtran, true, map[string]int{
			GotchaKeyType: 3, GotchaDevicesNotMAC: 5}, 0},
		"lstack-in-memory.conf": {RoleLstack, "b", "file-prefix", RoleLstack, false, map[string]int{
			GotchaNoSharedConfig: 1, GotchaFilePrefixRepeated: 1, GotchaEALArgProblem: 1}, 10},
		"lstack-include.conf":    {RoleLstack, "inc", "file-prefix", RoleLstack, false, map[string]int{}, 4},
		"ltran-doublespace.conf": {RoleLtran, "ltr", "file-prefix", RoleLtran, false, map[string]int{}, 9},
	}
	for _, file := range gazelleSamples(t) {
		name := filepath.Base(file)
		w, ok := tests[name]
		if !ok {
			t.Errorf("%s: no expectations in this table", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			c, err := New(filepath.Dir(file)).ReadGazelleConfig("/" + name)
			if err != nil {
				t.Fatal(err)
			}
			if c.Role != w.role || c.Prefix != w.prefix || c.PrefixSource != w.source || c.CapturePrimary != w.primary || c.UseLtran != w.useLtran {
				t.Errorf("role %s prefix %s (%s) capture primary %s use_ltran %v; want %s %s (%s) %s %v",
					c.Role, c.Prefix, c.PrefixSource, c.CapturePrimary, c.UseLtran, w.role, w.prefix, w.source, w.primary, w.useLtran)
			}
			if len(c.DPDKArgs) != w.args {
				t.Errorf("%d args %q, want %d", len(c.DPDKArgs), c.DPDKArgs, w.args)
			}
			got := gotchaIDs(c)
			for id, line := range w.gotchas {
				g, ok := got[id]
				if !ok {
					t.Errorf("missing gotcha %s; have %+v", id, c.Gotchas)
					continue
				}
				if g.Pos.Line != line {
					t.Errorf("gotcha %s at line %d, want %d (%s)", id, g.Pos.Line, line, g.Message)
				}
			}
			for id, g := range got {
				if _, ok := w.gotchas[id]; !ok {
					t.Errorf("unexpected gotcha %s: %s", id, g.Message)
				}
			}
		})
	}
}

func TestGazelleConfigDetails(t *testing.T) {
	dir := "../testdata/conf/gazelle"
	h := New(dir)
	c, err := h.ReadGazelleConfig("/lstack-one-token.conf")
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, g := range c.Gotchas {
		msgs = append(msgs, g.Message)
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{`"--socket-mem=1024,0" is one token`, `takes the next element ("--file-prefix=gz1")`, `"--file-prefix=gz1" is one token`, `write "--proc-type", "secondary"`} {
		if !strings.Contains(all, want) {
			t.Errorf("gotchas lack %q:\n%s", want, all)
		}
	}
	if c.Devices != "52:54:00:aa:bb:01" || c.EAL.ProcType != "secondary" || c.EAL.SocketMem != "1024,0" {
		t.Errorf("devices %q proc-type %q socket-mem %q", c.Devices, c.EAL.ProcType, c.EAL.SocketMem)
	}
	// The one-token --file-prefix gotcha points at its array element.
	if g := gotchaIDs(c)[GotchaOneTokenOption]; !strings.Contains(g.Message, `"--file-prefix=gz1" is one token`) || g.Pos.Line != 2 || g.Pos.Col != 37 {
		t.Errorf("first one-token gotcha %+v, want --file-prefix=gz1 at 2:37", g)
	}

	lt, err := h.ReadGazelleConfig("/ltran-doublespace.conf")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(lt.DPDKArgs, "|") != "-l|0,1|--socket-mem|1024,0|--huge-dir|/mnt/hugepages-ltran|--proc-type|primary|--file-prefix=ltr" {
		t.Errorf("ltran args %q", lt.DPDKArgs)
	}
	if strings.Join(lt.BondMacs, ",") != "aa:bb:cc:dd:ee:01,aa:bb:cc:dd:ee:02" || strings.Join(lt.BondPorts, ",") != "0x1,0x2" {
		t.Errorf("bond macs %q ports %q", lt.BondMacs, lt.BondPorts)
	}

	inc, err := h.ReadGazelleConfig("/lstack-include.conf")
	if err != nil {
		t.Fatal(err)
	}
	if inc.ArgsPos.File != "/lstack-include-args.inc" || inc.ArgsPos.Line != 1 {
		t.Errorf("included dpdk_args at %v", inc.ArgsPos)
	}
	if a := inc.EAL.AllowedPCI(); len(a) != 1 || a[0].String() != "0000:01:00.1" {
		t.Errorf("allowed %v", a)
	}
}

func TestGazelleConfigOctal(t *testing.T) {
	lc, err := libconfig.Parse("o.conf", []byte("dpdk_args = [\"-l\", \"0\"]\nuse_ltran = 0\nnic_vlan_mode = 010\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewGazelleConfig(lc, "lstack.conf")
	if err != nil {
		t.Fatal(err)
	}
	g, ok := gotchaIDs(c)[GotchaOctalInt]
	if !ok || g.Pos.Line != 3 || !strings.Contains(g.Message, "octal (8)") {
		t.Errorf("octal gotcha = %+v", c.Gotchas)
	}
}

func TestDetectRoleUndecided(t *testing.T) {
	lc, err := libconfig.Parse("x.conf", []byte("a = 1\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewGazelleConfig(lc, "x.conf"); err == nil || !strings.Contains(err.Error(), "cannot tell") {
		t.Errorf("err = %v", err)
	}
	if r, err := DetectRole(lc, "my-ltran.conf"); err != nil || r != RoleLtran {
		t.Errorf("by name: %v %v", r, err)
	}
}

func TestConfigPaths(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		flag     string
		env      map[string]string
		want     string
		explicit bool
	}{
		{"/x/lstack.conf", map[string]string{LstackConfEnv: "/y.conf"}, "/x/lstack.conf", true},
		{"", map[string]string{LstackConfEnv: "/y.conf"}, "/y.conf", true},
		{"", nil, DefaultLstackConf + "," + DefaultLtranConf, false},
	}
	for _, tt := range tests {
		got, explicit := ConfigPaths(tt.flag, env(tt.env))
		if strings.Join(got, ",") != tt.want || explicit != tt.explicit {
			t.Errorf("ConfigPaths(%q, %v) = %v %v, want %s %v", tt.flag, tt.env, got, explicit, tt.want, tt.explicit)
		}
	}
}

func TestLoadGazelleConfigs(t *testing.T) {
	root := t.TempDir()
	mustWrite := func(p, s string) {
		t.Helper()
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h := New(root)
	cs, err := h.LoadGazelleConfigs("", nil)
	if err != nil || len(cs) != 0 {
		t.Fatalf("no configs: %v %v", cs, err)
	}
	mustWrite("etc/gazelle/ltran.conf", "forward_kit_args = \"-l 0 --file-prefix lt\"\n")
	cs, err = h.LoadGazelleConfigs("", nil)
	if err != nil || len(cs) != 1 || cs[0].Role != RoleLtran || cs[0].Prefix != "lt" {
		t.Fatalf("ltran only: %+v %v", cs, err)
	}
	if _, err := h.LoadGazelleConfigs("/etc/gazelle/missing.conf", nil); err == nil {
		t.Errorf("an explicit missing file must be an error")
	}
	mustWrite("etc/gazelle/lstack.conf", "dpdk_args = [\"-l\", \"0\"\n")
	if _, err := h.LoadGazelleConfigs("", nil); err == nil || !strings.Contains(err.Error(), "/etc/gazelle/lstack.conf:2:1:") {
		t.Errorf("syntax error must carry file:line:col, got %v", err)
	}
}

package doctor

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/host"
)

// TestGazelleSocketsPerRelease: Gazelle 1.0.2 (tag 52bdb634, what openEuler
// 22.03 LTS ships) names its sockets gazelle_client.sock (ltran's
// registration, and the gazellectl socket of an lstack without ltran) and
// gazelle_cmd.sock (ltran's gazellectl socket); 1.0.3 renamed them. Seen on a
// real 1.0.2 lstack and ltran (testdata/logs/gazelle-1.0.2/README.md):
// gazellectl answered while gazelle-sockets warned that nothing listened at
// lstack_cmd.sock.
func TestGazelleSocketsPerRelease(t *testing.T) {
	cases := []struct {
		name, tree string
		// rename maps a socket path in the tree's /proc/net/unix to another
		// ("" drops it).
		rename map[string]string
		status map[string]Status
		says   map[string][]string // in the finding, fix or details
	}{
		{
			name: "1.0.3 names: lstack's socket", tree: "chk-healthy-2211",
			status: map[string]Status{"gazelle-sockets": OK},
			says:   map[string][]string{"gazelle-sockets": {"/var/run/gazelle/lstack_cmd.sock: bound by lstack in redis-server (pid 4242)"}},
		},
		{
			name: "1.0.2 names: lstack without ltran listens at gazelle_client.sock", tree: "chk-healthy-2211",
			rename: map[string]string{"/var/run/gazelle/lstack_cmd.sock": "/var/run/gazelle/gazelle_client.sock"},
			status: map[string]Status{"gazelle-sockets": OK},
			says:   map[string][]string{"gazelle-sockets": {"/var/run/gazelle/gazelle_client.sock: bound by lstack in redis-server (pid 4242)"}},
		},
		{
			name: "no socket under either name", tree: "chk-healthy-2211",
			rename: map[string]string{"/var/run/gazelle/lstack_cmd.sock": ""},
			status: map[string]Status{"gazelle-sockets": Warn},
			says: map[string][]string{"gazelle-sockets": {
				"nothing listens at /var/run/gazelle/lstack_cmd.sock (Gazelle 1.0.3 and later) or /var/run/gazelle/gazelle_client.sock (1.0.2 and before)",
			}},
		},
		{
			name: "1.0.2 names: ltran registers at gazelle_client.sock, gazellectl at gazelle_cmd.sock", tree: "chk-ltran-2111",
			rename: map[string]string{
				"/var/run/gazelle/ltran_client.sock": "/var/run/gazelle/gazelle_client.sock",
				"/var/run/gazelle/ltran_cmd.sock":    "/var/run/gazelle/gazelle_cmd.sock",
			},
			status: map[string]Status{"gazelle-ltran": OK, "gazelle-sockets": OK},
			says: map[string][]string{
				"gazelle-ltran":   {"use_ltran=1 and ltran runs (pid 3100), listening at /var/run/gazelle/gazelle_client.sock"},
				"gazelle-sockets": {"/var/run/gazelle/gazelle_cmd.sock: bound by ltran (pid 3100)"},
			},
		},
		{
			name: "ltran's registration socket under neither name", tree: "chk-ltran-2111",
			rename: map[string]string{"/var/run/gazelle/ltran_client.sock": ""},
			status: map[string]Status{"gazelle-ltran": Fail},
			says: map[string][]string{"gazelle-ltran": {
				"nothing listens at /var/run/gazelle/ltran_client.sock or /var/run/gazelle/gazelle_client.sock",
			}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), c.tree)
			if out, err := exec.Command("cp", "-a", filepath.Join(fixtures, c.tree), dir).CombinedOutput(); err != nil {
				t.Fatalf("cp: %v\n%s", err, out)
			}
			unix := filepath.Join(dir, "proc/net/unix")
			b, err := os.ReadFile(unix)
			if err != nil {
				t.Fatal(err)
			}
			var lines []string
			for _, l := range strings.SplitAfter(string(b), "\n") {
				for from, to := range c.rename {
					if strings.HasSuffix(strings.TrimSuffix(l, "\n"), " "+from) {
						l = strings.Replace(l, from, to, 1)
						if to == "" {
							l = ""
						}
					}
				}
				lines = append(lines, l)
			}
			if err := os.WriteFile(unix, []byte(strings.Join(lines, "")), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg := Config{User: root, Host: host.New(dir), Env: []string{"PATH=/usr/bin:/bin"}}
			rep, err := Run(context.Background(), NewEnv(cfg), Options{Only: []string{"gazelle-ltran", "gazelle-sockets"}})
			if err != nil {
				t.Fatal(err)
			}
			for id, want := range c.status {
				if r := mustResult(t, rep, id); r.Status != want {
					t.Errorf("%s: %s %q, want %s", id, r.Status, r.Finding, want)
				}
			}
			for id, subs := range c.says {
				r := mustResult(t, rep, id)
				text := r.Finding + "\n" + strings.Join(r.Details, "\n")
				if r.Fix != nil {
					text += "\n" + r.Fix.Text
				}
				for _, s := range subs {
					if !strings.Contains(text, s) {
						t.Errorf("%s does not say %q:\n%s", id, s, text)
					}
				}
			}
		})
	}
}

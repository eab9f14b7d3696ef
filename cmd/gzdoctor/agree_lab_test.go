package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/internal/lab"
	"github.com/gzdoctor/gzdoctor/internal/testenv"
)

// TestCheckCaptureAgree: every verdict holds from both sides. For each
// situation, built on lab primaries of the test's own, `check --json` and
// `capture --dry-run --json` (and, where cheap, a real one-second capture)
// must name the same target (prefix and where it came from), reach the same
// verdict (exit status), and fail on the same check for the same reason;
// and the fix check prints, run as printed, must make check pass, or be the
// operator's own next step with real values. Situations that depend on what
// else runs on the machine (other tests' primaries) are built so that the
// verdict does not: a --config chooses the target, never "the only live
// primary" or DPDK's default rte.
func TestCheckCaptureAgree(t *testing.T) {
	lab.Require(t)
	needTools(t, "dpdk-pdump", "fuser")
	bin := testenv.Binary(t)
	for _, row := range agreeRows() {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			s := row.build(t)
			s.bin = bin
			if s.dir == "" {
				s.dir = mxScratch(t)
			}
			chk := s.gz(t, append([]string{"-o", "json", "check", "--timeout", mxCheckTimeout}, s.check...)...)
			var rep agreeReport
			agreeJSON(t, chk, &rep)
			dry := s.gz(t, append([]string{"-o", "json", "capture", "--dry-run", "-w", s.dir + "/dry.pcapng"}, s.capture...)...)
			var plan agreeCapture
			agreeJSON(t, dry, &plan)

			// The verdict row.want names, on both sides.
			if got := rep.firstFail(); got != row.want {
				t.Errorf("check: first failing %q, want %q (exit %d)\n%s%s", got, row.want, chk.code, rep.summary(), chk.stderr)
			}
			if got := plan.Preflight.firstFail(); got != row.want {
				t.Errorf("capture --dry-run: first failing %q, want %q (exit %d)\n%s%s", got, row.want, dry.code, plan.Preflight.summary(), dry.all())
			}
			if chk.code != dry.code {
				t.Errorf("check exits %d, capture --dry-run %d", chk.code, dry.code)
			}
			if row.want != "" && plan.Stopped != "preflight" {
				t.Errorf("capture --dry-run: stopped %q, want preflight", plan.Stopped)
			}
			// The same target, from the same source.
			if rep.Target.Prefix != plan.Plan.Prefix && plan.Plan.Prefix != "" {
				t.Errorf("check's target is %q, the dry run's plan %q", rep.Target.Prefix, plan.Plan.Prefix)
			}
			if p := plan.Preflight; p != nil && (p.Target.Prefix != rep.Target.Prefix || p.Target.PrefixSource != rep.Target.PrefixSource) {
				t.Errorf("check's target is %q (%s), the preflight's %q (%s)", rep.Target.Prefix, rep.Target.PrefixSource, p.Target.Prefix, p.Target.PrefixSource)
			}
			// The same reason: the failing check's finding says the same
			// things on both sides.
			if row.want != "" {
				cf, pf := rep.result(row.want), plan.Preflight.result(row.want)
				for _, x := range s.expandAll(row.says) {
					if !strings.Contains(cf.Finding, x) || !strings.Contains(pf.Finding, x) {
						t.Errorf("the %s finding does not say %q on both sides:\ncheck:     %s\npreflight: %s", row.want, x, cf.Finding, pf.Finding)
					}
				}
			}
			if row.real {
				out := s.gz(t, append([]string{"-o", "json", "capture", "-a", "duration:1", "-w", s.dir + "/real.pcapng"}, s.capture...)...)
				var c agreeCapture
				agreeJSON(t, out, &c)
				if out.code != chk.code {
					t.Errorf("check exits %d, the capture %d (stopped %q, first failing %q)\n%s", chk.code, out.code, c.Stopped, c.Preflight.firstFail(), out.all())
				}
				if row.want == "" && (c.Stopped != "duration" || len(c.Files) != 1 || c.Files[0].Packets == 0) {
					t.Errorf("the capture check passed: stopped %q, files %+v", c.Stopped, c.Files)
				}
				if row.want == "busy" && c.Stopped == "busy" {
					// Refused under the capture lock, before the preflight,
					// by the busy check's own detector.
				} else if row.want != "" && c.Preflight.firstFail() != row.want {
					t.Errorf("the capture: first failing %q, want %q", c.Preflight.firstFail(), row.want)
				}
			}
			mxNoForbidden(t, &mxSit{prefix: s.prefix, p: s.p, healthy: s.healthy}, "check", chk)
			mxNoForbidden(t, &mxSit{prefix: s.prefix, p: s.p, healthy: s.healthy}, "capture --dry-run", dry)
			if row.after != nil {
				row.after(t, s, &rep, &plan)
			}
		})
	}
}

type agreeRow struct {
	name  string
	build func(t *testing.T) *agreeSit
	// want is the first failing check, on both sides ("" none).
	want string
	// says are what that check's finding says on both sides ({P} etc.).
	says []string
	// real: a real one-second capture too.
	real bool
	// after runs the fix check printed, or more assertions.
	after func(t *testing.T, s *agreeSit, rep *agreeReport, plan *agreeCapture)
}

type agreeSit struct {
	bin            string
	prefix         string
	p              *lab.Primary
	healthy        bool
	dir            string
	check, capture []string
	vars           map[string]string
}

func (s *agreeSit) expandAll(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		x = strings.ReplaceAll(x, "{P}", s.prefix)
		for k, v := range s.vars {
			x = strings.ReplaceAll(x, "{"+k+"}", v)
		}
		out[i] = x
	}
	return out
}

func (s *agreeSit) gz(t *testing.T, args ...string) *mxOut {
	t.Helper()
	return agreeRun(t, s.dir, exec.Command(s.bin, args...))
}

func agreeRun(t *testing.T, dir string, c *exec.Cmd) *mxOut {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), mxTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Path, c.Args[1:]...)
	cmd.Dir, cmd.Env, cmd.SysProcAttr = dir, c.Env, c.SysProcAttr
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%q: %v", c.Args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("%q did not end in %v:\n%s\n%s", c.Args, mxTimeout, stdout.String(), stderr.String())
	}
	return &mxOut{code: code, stdout: stdout.String(), stderr: stderr.String(), start: start}
}

type agreeResult struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Finding string `json:"finding"`
	Fix     *struct {
		Text     string   `json:"text"`
		Commands []string `json:"commands"`
	} `json:"fix"`
}

type agreeReport struct {
	Target struct {
		Prefix       string `json:"prefix"`
		PrefixSource string `json:"prefix_source"`
	} `json:"target"`
	Results []agreeResult `json:"results"`
}

func (r *agreeReport) firstFail() string {
	if r == nil {
		return ""
	}
	for _, x := range r.Results {
		if x.Status == "fail" {
			return x.ID
		}
	}
	return ""
}

func (r *agreeReport) result(id string) agreeResult {
	if r != nil {
		for _, x := range r.Results {
			if x.ID == id {
				return x
			}
		}
	}
	return agreeResult{}
}

func (r *agreeReport) summary() string {
	if r == nil {
		return "(no report)\n"
	}
	var b strings.Builder
	for _, x := range r.Results {
		if x.Status == "fail" || x.Status == "error" {
			b.WriteString("  " + x.Status + " " + x.ID + ": " + x.Finding + "\n")
		}
	}
	return b.String()
}

type agreeCapture struct {
	Plan struct {
		Prefix       string `json:"prefix"`
		PrefixSource string `json:"prefix_source"`
		Device       string `json:"device"`
	} `json:"plan"`
	Preflight *agreeReport `json:"preflight"`
	Stopped   string       `json:"stopped"`
	Files     []struct {
		Packets int64 `json:"packets"`
	} `json:"files"`
}

func agreeJSON(t *testing.T, o *mxOut, v any) {
	t.Helper()
	if strings.TrimSpace(o.stdout) == "" {
		return
	}
	env := struct {
		Data any `json:"data"`
	}{v}
	if err := json.Unmarshal([]byte(o.stdout), &env); err != nil {
		t.Errorf("not JSON (%v):\n%s", err, o.stdout)
	}
}

// agreeFix is the one fix command the check's failing result prints that
// starts with prefix.
func agreeFix(t *testing.T, rep *agreeReport, id, prefix string) string {
	t.Helper()
	r := rep.result(id)
	if r.Fix == nil {
		t.Fatalf("%s prints no fix", id)
	}
	var found []string
	for _, c := range r.Fix.Commands {
		if strings.HasPrefix(c, prefix) {
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s prints %d fix commands starting %q, want one: %q", id, len(found), prefix, r.Fix.Commands)
	}
	return found[0]
}

// agreeCheckPasses runs check on the situation's prefix and wants exit 0.
func agreeCheckPasses(t *testing.T, s *agreeSit, after string) {
	t.Helper()
	out := s.gz(t, "-o", "json", "check", "--timeout", mxCheckTimeout, "--prefix", s.prefix)
	var rep agreeReport
	agreeJSON(t, out, &rep)
	if out.code != 0 {
		t.Errorf("after %s, check exits %d:\n%s", after, out.code, rep.summary())
	}
}

// agreeShell runs a fix command as printed.
func agreeShell(t *testing.T, s *agreeSit, cmd string) {
	t.Helper()
	out := agreeRun(t, s.dir, exec.Command("sh", "-c", cmd))
	if out.code != 0 {
		t.Errorf("the fix %q: exit %d\n%s", cmd, out.code, out.all())
	}
}

// agreeConf writes an lstack.conf of the row's own.
func agreeConf(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, "lstack.conf")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func agreeRows() []agreeRow {
	return []agreeRow{
		{
			name: "healthy primary",
			build: func(t *testing.T) *agreeSit {
				p := lab.StartT(t, lab.Config{})
				return &agreeSit{prefix: p.Prefix, p: p, healthy: true,
					check: []string{"--prefix", p.Prefix}, capture: []string{"--prefix", p.Prefix}}
			},
			real: true,
			after: func(t *testing.T, s *agreeSit, rep *agreeReport, plan *agreeCapture) {
				if plan.Plan.Device != s.p.Device {
					t.Errorf("the dry run plans device %q, the primary drives %q", plan.Plan.Device, s.p.Device)
				}
			},
		},
		{
			// Two primaries, and a config that cannot name the prefix
			// (lstack in ltran mode, no ltran.conf): nothing chooses. The
			// config keeps another test's lstack from choosing for us.
			name: "two primaries, no --prefix",
			build: func(t *testing.T) *agreeSit {
				a, b := lab.StartT(t, lab.Config{}), lab.StartT(t, lab.Config{})
				dir := mxScratch(t)
				conf := agreeConf(t, dir, "dpdk_args = [\"--socket-mem\", \"64\", \"--legacy-mem\", \"--map-perfect\", \"--no-pci\"]\nuse_ltran = 1\n")
				// Not "healthy": the config describes an ltran host whose
				// ltran does not run, and the Gazelle checks may say to
				// start or restart ltran (it is none of these primaries).
				return &agreeSit{dir: dir, vars: map[string]string{"A": a.Prefix, "B": b.Prefix},
					check: []string{"--config", conf}, capture: []string{"--config", conf}}
			},
			want: "prefix", says: []string{"{A}", "{B}", "several primaries are running"},
		},
		{
			// The config names a prefix nothing runs; our own primary
			// runs beside it, so the machine disagrees with the config
			// whatever else runs.
			name: "config names a prefix with no primary",
			build: func(t *testing.T) *agreeSit {
				other := lab.StartT(t, lab.Config{})
				dir := mxScratch(t)
				gone := lab.NewPrefix()
				conf := agreeConf(t, dir, "dpdk_args = [\"--file-prefix\", \""+gone+"\", \"--no-pci\", \"--vdev\", \"net_null0\"]\nuse_ltran = 0\n")
				return &agreeSit{prefix: gone, dir: dir, healthy: true, vars: map[string]string{"other": other.Prefix, "conf": conf},
					check: []string{"--config", conf}, capture: []string{"--config", conf}}
			},
			want: "prefix", says: []string{`prefix "{P}" (from the config) has no runtime dir`, "{other}"},
			real: true,
			after: func(t *testing.T, s *agreeSit, rep *agreeReport, plan *agreeCapture) {
				// Without the preflight, capture still says what check says,
				// not "which device?".
				out := s.gz(t, "capture", "--config", s.vars["conf"], "--no-preflight", "-a", "duration:1", "-w", s.dir+"/np.pcapng")
				// What check said up to the list of running primaries,
				// which other tests change between the two runs.
				want, _, _ := strings.Cut("prefix: "+rep.result("prefix").Finding, ";")
				if out.code != exitProblem || !strings.Contains(out.stderr, want) || strings.Contains(out.stderr, "which device") {
					t.Errorf("capture --no-preflight: exit %d, want 1 saying %q:\n%s", out.code, want, out.all())
				}
			},
		},
		{
			// The config names no --file-prefix: DPDK's default, rte,
			// which this test does not own (another may run it), so only
			// agreement is asserted, and that capture names rte as check.
			name: "config naming no file-prefix (rte)",
			build: func(t *testing.T) *agreeSit {
				lab.StartT(t, lab.Config{})
				dir := mxScratch(t)
				conf := agreeConf(t, dir, "dpdk_args = [\"--no-pci\", \"--vdev\", \"net_null0\"]\nuse_ltran = 0\n")
				return &agreeSit{prefix: "rte", dir: dir, healthy: true, vars: map[string]string{"conf": conf},
					check: []string{"--config", conf}, capture: []string{"--config", conf}}
			},
			want: agreeRteWant(),
			says: []string{`prefix "rte" (from the config)`},
			after: func(t *testing.T, s *agreeSit, rep *agreeReport, plan *agreeCapture) {
				if rep.firstFail() == "" {
					return // an rte primary of someone else's runs
				}
				out := s.gz(t, "capture", "--config", s.vars["conf"], "--no-preflight", "-a", "duration:1", "-w", s.dir+"/np.pcapng")
				if out.code != exitProblem || !strings.Contains(out.stderr, `prefix "rte"`) || strings.Contains(out.stderr, "which device") {
					t.Errorf("capture --no-preflight: exit %d, want 1 naming prefix \"rte\":\n%s", out.code, out.all())
				}
			},
		},
		{
			name: "primary stopped (SIGSTOP)",
			build: func(t *testing.T) *agreeSit {
				p := lab.StartT(t, lab.Config{})
				t.Cleanup(func() { syscall.Kill(p.Pid, syscall.SIGCONT) })
				if err := syscall.Kill(p.Pid, syscall.SIGSTOP); err != nil {
					t.Fatal(err)
				}
				mxWaitState(t, p.Pid, 'T')
				return &agreeSit{prefix: p.Prefix, p: p, vars: map[string]string{"pid": strconv.Itoa(p.Pid)},
					check: []string{"--prefix", p.Prefix}, capture: []string{"--prefix", p.Prefix}}
			},
			want: "primary", says: []string{"pid {pid}", "stopped"},
			real: true,
			after: func(t *testing.T, s *agreeSit, rep *agreeReport, plan *agreeCapture) {
				fix := agreeFix(t, rep, "primary", "kill -CONT")
				agreeShell(t, s, fix)
				mxWaitState(t, s.p.Pid, 'S')
				agreeCheckPasses(t, s, fix)
			},
		},
		{
			name: "primary killed, its files left",
			build: func(t *testing.T) *agreeSit {
				p := lab.StartT(t, lab.Config{})
				// A live neighbour of our own: runtime-dir then warns of the
				// leftovers, whatever else runs, and the cleanup must not
				// touch it (its prefix extends the dead one's).
				n := lab.StartT(t, lab.Config{Prefix: p.Prefix + "x"})
				t.Cleanup(func() {
					if !n.Running() {
						t.Errorf("the neighbour %s died", n.Prefix)
					}
				})
				if err := p.Kill(); err != nil {
					t.Fatal(err)
				}
				return &agreeSit{prefix: p.Prefix, p: p,
					check: []string{"--prefix", p.Prefix}, capture: []string{"--prefix", p.Prefix}}
			},
			want: "primary", says: []string{"the primary of prefix {P} is gone"},
			real: true,
			after: func(t *testing.T, s *agreeSit, rep *agreeReport, plan *agreeCapture) {
				// The cleanup is the only fix to run: the dead primary's
				// files go, and check then says it is not running.
				fix := agreeFix(t, rep, "runtime-dir", "fuser -s /var/run/dpdk/"+s.prefix+"/*")
				// The test holds the files (lab's Kill) until now: the fix
				// removes nothing a process has open.
				s.p.ReleaseHugepages()
				agreeShell(t, s, fix)
				if _, err := os.Stat(s.p.RuntimeDir); !os.IsNotExist(err) {
					t.Errorf("after the cleanup, %s remains (%v)", s.p.RuntimeDir, err)
				}
				if f := lab.HugepageFiles(s.prefix); len(f) > 0 {
					t.Errorf("after the cleanup, hugepage files remain: %q", f)
				}
				out := s.gz(t, "-o", "json", "check", "--timeout", mxCheckTimeout, "--prefix", s.prefix)
				var after agreeReport
				agreeJSON(t, out, &after)
				// Nothing of it is left: the prefix is now a name nothing
				// runs under (the neighbour runs, so prefix says so).
				if r := after.result("prefix"); out.code != exitProblem || after.firstFail() != "prefix" || !strings.Contains(r.Finding, `prefix "`+s.prefix+`" (from --prefix) has no runtime dir`) {
					t.Errorf("after the cleanup: exit %d, first failing %q, prefix %q; want 1, prefix saying it has no runtime dir", out.code, after.firstFail(), r.Finding)
				}
			},
		},
		{
			name: "wrong -i device",
			build: func(t *testing.T) *agreeSit {
				p := lab.StartT(t, lab.Config{})
				return &agreeSit{prefix: p.Prefix, p: p, healthy: true, vars: map[string]string{"dev": p.Device},
					check: []string{"--prefix", p.Prefix, "--device", "net_bogus"}, capture: []string{"--prefix", p.Prefix, "-i", "net_bogus"}}
			},
			want: "device", says: []string{"net_bogus"},
			after: func(t *testing.T, s *agreeSit, rep *agreeReport, plan *agreeCapture) {
				// The preflight's fix is the operator's command corrected:
				// the dry run again, on the device the primary drives.
				fix := agreeFix(t, plan.Preflight, "device", "gzdoctor ")
				if !strings.Contains(fix, "-i "+s.p.Device) || strings.Contains(fix, "net_bogus") {
					t.Fatalf("the dry run's device fix is %q, want the command with -i %s", fix, s.p.Device)
				}
				args := strings.Fields(strings.TrimPrefix(fix, "gzdoctor "))
				out := s.gz(t, args...)
				if out.code != 0 {
					t.Errorf("the fix %q: exit %d\n%s", fix, out.code, out.all())
				}
			},
		},
		{
			name: "foreign pdump attached",
			build: func(t *testing.T) *agreeSit {
				s := mxPdumpOn(t, nil, false)
				return &agreeSit{prefix: s.prefix, p: s.p, dir: s.dir, healthy: true, vars: s.vars,
					check: []string{"--prefix", s.prefix}, capture: []string{"--prefix", s.prefix}}
			},
			want: "busy", says: []string{"pid {pdump}"},
			real: true,
			after: func(t *testing.T, s *agreeSit, rep *agreeReport, plan *agreeCapture) {
				fix := agreeFix(t, rep, "busy", "kill -INT")
				agreeShell(t, s, fix)
				pid, _ := strconv.Atoi(s.vars["pdump"])
				for deadline := time.Now().Add(15 * time.Second); syscall.Kill(pid, 0) == nil; time.Sleep(20 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatalf("pdump %d still runs 15 s after %q", pid, fix)
					}
				}
				agreeCheckPasses(t, s, fix)
			},
		},
		{
			// A primary run by uid 65534 (its runtime dir in /tmp/dpdk),
			// checked and captured by root.
			name: "primary of another user",
			build: func(t *testing.T) *agreeSit {
				p := lab.StartT(t, lab.Config{UID: 65534})
				// root's dpdk-pdump leaves its empty dir in /var/run/dpdk.
				t.Cleanup(func() { os.Remove(filepath.Join("/var/run/dpdk", p.Prefix)) })
				return &agreeSit{prefix: p.Prefix, p: p, healthy: true,
					check: []string{"--prefix", p.Prefix}, capture: []string{"--prefix", p.Prefix}}
			},
			want: "runtime-dir", says: []string{"{P}", "uid 65534", "/tmp/dpdk"},
			real: true,
			after: func(t *testing.T, s *agreeSit, rep *agreeReport, plan *agreeCapture) {
				// The fix: check as the primary's user. No sudo here: the
				// same uid, by credentials.
				fix := agreeFix(t, rep, "runtime-dir", "sudo -u '#65534' ")
				rest := strings.Fields(strings.TrimPrefix(fix, "sudo -u '#65534' "))
				want := []string{"env", "-u", "XDG_RUNTIME_DIR", "gzdoctor", "check", "--prefix", s.prefix}
				if strings.Join(rest, " ") != strings.Join(want, " ") {
					t.Fatalf("the fix is %q, want sudo -u '#65534' %s", fix, strings.Join(want, " "))
				}
				nb := agreeNobodyBinary(t, s.bin)
				c := exec.Command("env", append([]string{"-u", "XDG_RUNTIME_DIR", "HOME=/", nb}, append(rest[4:], "-o", "json", "--timeout", mxCheckTimeout)...)...)
				c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
				out := agreeRun(t, s.dir, c)
				var after agreeReport
				agreeJSON(t, out, &after)
				if out.code != 0 {
					t.Errorf("the fix %q run as uid 65534: exit %d\n%s%s", fix, out.code, after.summary(), out.stderr)
				}
			},
		},
		{
			// A primary of DPDK 24.11 (Debian 13's, in its chroot) and this
			// machine's 22.11 capture tool, which panics on the version
			// mismatch.
			name: "primary of another DPDK release",
			build: func(t *testing.T) *agreeSit {
				p := lab.StartT(t, lab.Config{Release: lab.ReleaseTrixie})
				return &agreeSit{prefix: p.Prefix, p: p, healthy: true,
					check: []string{"--prefix", p.Prefix}, capture: []string{"--prefix", p.Prefix}}
			},
			want: "build-match", says: []string{"24.11", "22.11"},
			real: true,
		},
	}
}

// agreeRteWant: the rte row fails on the prefix check, unless a primary
// of someone else's runs with rte (then nothing is asserted but agreement:
// see the row).
func agreeRteWant() string {
	if mxConfigLocked("/var/run/dpdk/rte/config") {
		return ""
	}
	return "prefix"
}

// agreeNobodyBinary is a copy of the binary uid 65534 can run.
func agreeNobodyBinary(t *testing.T, bin string) string {
	t.Helper()
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	d := mxScratch(t)
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	nb := filepath.Join(d, "gzdoctor")
	if err := os.WriteFile(nb, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return nb
}

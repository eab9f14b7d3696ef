package runbooks

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// hostileValues are what a pasted log can put where a fix's value goes:
// each must reach the command as itself, never as shell code.
var hostileValues = []string{"x *", "$(touch PWNED)", "a'b", "`touch PWNED`", "y;touch PWNED", "q\"$(touch PWNED)\"", "-rf"}

// recorder runs a command with every program recorded instead of run
// (PATH leads nowhere; command_not_found_handle records), the acting
// builtins shadowed, fuser answering "nobody uses them".
const recorder = `
rec() { { builtin printf '%s\0' "$@"; builtin printf '\1'; } >> "$GZ_LOG"; }
command_not_found_handle() { rec "$@"; [ "$1" != fuser ]; }
for b in echo printf kill ulimit cd exec source . trap read enable set unset export alias; do
	eval "$b() { rec $b \"\$@\"; [ $b != kill ]; }"
done
PATH=/nonexistent
`

var decoys = []string{"important1", "important2", "x", "a", "y", "q", "-rf"}

// recordCalls runs cmd under the recorder in a directory of decoys and
// returns the calls; a changed decoy or an injected touch fails the test.
func recordCalls(t *testing.T, cmd string) [][]string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range decoys {
		if err := os.WriteFile(filepath.Join(dir, d), []byte(d), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	log := filepath.Join(t.TempDir(), "log")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, "/bin/bash", "-c", recorder+cmd)
	c.Dir, c.Env = dir, []string{"GZ_LOG=" + log}
	out, _ := c.CombinedOutput()
	ents, _ := os.ReadDir(dir)
	if len(ents) != len(decoys) {
		t.Errorf("%q changed the working directory (%d entries): %s", cmd, len(ents), out)
	}
	b, _ := os.ReadFile(log)
	var calls [][]string
	for _, r := range strings.Split(string(b), "\x01") {
		if r == "" {
			continue
		}
		call := strings.Split(strings.TrimSuffix(r, "\x00"), "\x00")
		if call[0] == "touch" {
			t.Errorf("%q ran %q: the value's code", cmd, call)
		}
		calls = append(calls, call)
	}
	return calls
}

// TestCatalogueCommandsQuoteLogValues fills every catalogue command that
// prints a value with each hostile value: bash runs none of the value's
// code, touches no decoy, and every call gets the value whole in one
// argument.
func TestCatalogueCommandsQuoteLogValues(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, e := range c.Entries {
		for k, st := range e.Fix {
			if !strings.Contains(st.Command, "{{.") {
				continue
			}
			for _, v := range hostileValues {
				data := map[string]string{}
				for name := range e.Extract {
					data[name] = v
				}
				cmd := fillSteps(e, data)[k].Command
				calls := recordCalls(t, cmd)
				whole := slices.ContainsFunc(calls, func(call []string) bool {
					return slices.ContainsFunc(call, func(a string) bool { return strings.Contains(a, v) })
				})
				// Values inside $( ) or f=… reach a program through a
				// variable or a substitution the recorder stands in for.
				if !whole && !strings.Contains(st.Command, "f=") && !strings.Contains(st.Command, "$(fuser") {
					t.Errorf("%s step %d with %q: no call got the value whole: %q\n%s", e.ID, k+1, v, calls, cmd)
				}
				checked++
			}
		}
	}
	if checked < 100 {
		t.Errorf("only %d commands checked", checked)
	}
}

// TestShellTemplate: each value's quoting follows the quotes around it,
// $( ) included, and a value printed any other way is refused.
func TestShellTemplate(t *testing.T) {
	for in, want := range map[string]string{
		`a {{.x}} b`:                        `a {{shq .x}} b`,
		`'d={{.x}},q=*'`:                    `'d={{shsq .x}},q=*'`,
		`"$(fuser '{{.p}}/c')" {{.p}}`:      `"$(fuser '{{shsq .p}}/c')" {{shq .p}}`,
		`"{{.p}}" \'{{.p}}`:                 `"{{shdq .p}}" \'{{shq .p}}`,
		`{{if .p}}'{{.p}}'{{else}}x{{end}}`: `{{if .p}}'{{shsq .p}}'{{else}}x{{end}}`,
	} {
		got, err := shellTemplate(in)
		if err != nil || got != want {
			t.Errorf("shellTemplate(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{`{{printf "%s" .x}}`, "`{{.x}}`", `'{{.x}}`, `$({{.x}}`, `{{.x | html}}`} {
		if _, err := shellTemplate(bad); err == nil {
			t.Errorf("shellTemplate(%s) accepted", bad)
		}
	}
}

// TestContextCommandHostile: the operator's prefix and the log's values
// reach diagnose's rewritten commands quoted, and a pdump command's
// target is read back as the shell reads it.
func TestContextCommandHostile(t *testing.T) {
	var got CaptureTarget
	ctx := Context{Capture: func(tg CaptureTarget) string { got = tg; return "gzdoctor capture" }}
	cmd := fillCommand(`gazelle-pdump --file-prefix {{.prefix}} -- --pdump 'device_id={{.device_id}},queue=*,rx-dev=/tmp/capture.pcap'`,
		map[string]string{"prefix": "x *", "device_id": "a'b"}, nil)
	ctx.command(cmd, "")
	if got.Prefix != "x *" || got.Device != "a'b" || got.Queue != "*" {
		t.Errorf("target %+v from %s", got, cmd)
	}
	for _, p := range hostileValues {
		out := (&Context{}).command("gzdoctor check --only CHK-01", p)
		calls := recordCalls(t, out)
		if len(calls) != 1 || !slices.Equal(calls[0], []string{"gzdoctor", "check", "--prefix", p, "--only", "CHK-01"}) {
			t.Errorf("%q: %q", out, calls)
		}
	}
	// A quoted newline is part of a word, not the end of a command.
	out := (&Context{}).command("fuser -s '/var/run/dpdk/a\ngzdoctor check x'/*", "x y")
	if strings.Contains(out, "--prefix") {
		t.Errorf("rewrote inside a quoted word: %q", out)
	}
}

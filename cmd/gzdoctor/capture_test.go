package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/capture"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
	"github.com/gzdoctor/gzdoctor/ui"
)

// A second -i used to replace the first silently: every -i and --port is
// captured, by one pdump with one --pdump tuple each; what cannot be
// honoured is a usage error.
func TestCaptureRepeatedDevice(t *testing.T) {
	code, out, errOut := run(t, "capture", "--prefix", "gz", "-i", "net_ring0", "-i", "net_ring1", "--dry-run", "--no-preflight", "--pdump-bin", "/bin/true", "-w", "/c/x.pcapng")
	if code != 0 || strings.Count(out, "--pdump ") != 2 || !strings.Contains(out, "device_id=net_ring0,") || !strings.Contains(out, "device_id=net_ring1,") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-i", "any", "-i", "net_ring1"}, "-i any captures every port: give it alone"},
		{[]string{"-i", "net_ring0", "-i", "net_ring0"}, "-i net_ring0 given twice"},
		{[]string{"--port", "0", "--port", "0"}, "--port 0 given twice"},
		{[]string{"--port", "x"}, `--port "x": want a port number`},
		{[]string{"--port", "-1"}, `--port "-1": want a port number`},
		{[]string{"--all-ports", "--port", "1"}, "--all-ports captures every port: give it without -i or --port"},
		{[]string{"-w", ""}, `-w "": give a file name`},
		{[]string{"-w", "-", "-w", "/tmp/x.pcapng"}, "-w given 2 times (-, /tmp/x.pcapng)"},
		{[]string{"-b", "filesize:10", "-b", "filesize:20"}, "-b filesize:10 and -b filesize:20: give each -b key once"},
		{[]string{"-a", "duration:5", "-a", "duration:9"}, "-a duration:5 and -a duration:9: give each -a key once"},
		{[]string{"--duration", "0"}, `--duration "0": want a positive duration`},
		{[]string{"--duration", "soon"}, `--duration "soon": want a duration such as 500ms, 2s or 1m30s (a bare number is seconds)`},
		{[]string{"-b", "duration:x"}, "-b duration:x: want a positive number of seconds (or a duration: 1m30s)"},
		// Too long is said as such, not as "not a number".
		{[]string{"-a", "duration:99999999999"}, "-a duration:99999999999: too long"},
		{[]string{"-b", "duration:2000000000"}, "-b duration:2000000000: too long"},
	} {
		code, out, errOut := run(t, append([]string{"capture", "--prefix", "gz", "--dry-run", "--pdump-bin", "/bin/true"}, tt.args...)...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", tt.args, code, out, errOut)
		}
	}
}

// Without -i, a machine where no primary can be found gets the preflight's
// verdict (exit 1, the failed checks), not "which device?" (exit 2) or "no
// live primary" (exit 3): the preflight knows why.
func TestCaptureWithoutDevicePreflightFirst(t *testing.T) {
	for _, tt := range []struct {
		root, fails string
		args        []string
	}{
		{"chk-no-runtime", "primary", nil},                             // no primary at all
		{"chk-healthy-2211", "prefix", []string{"--prefix", "gazele"}}, // a typo'd prefix
	} {
		t.Run(tt.root, func(t *testing.T) {
			root := filepath.Join("..", "..", "testdata", "hosts", tt.root)
			args := append([]string{"--root", root}, tt.args...)
			args = append(args, "-c", "1", "-w", filepath.Join(t.TempDir(), "c.pcapng"))
			code, res, errOut := captureFixtureJSON(t, args...)
			if code != exitProblem || res == nil || res.Stopped != capture.StopPreflight || res.Preflight == nil || res.Preflight.Summary.Fail == 0 {
				t.Fatalf("exit %d, result %+v\n%s", code, res, errOut)
			}
			if r, ok := res.Preflight.Result(tt.fails); !ok || r.Status != "fail" {
				t.Errorf("%s check %+v", tt.fails, r)
			}
		})
	}
}

// -D lists; capture flags or a filter with it would be ignored, so they
// are refused.
func TestCaptureListInterfacesRefusesCaptureFlags(t *testing.T) {
	for _, args := range [][]string{{"-D", "-w", "x.pcapng"}, {"-D", "-i", "net_ring0"}, {"--list-interfaces", "udp"}} {
		code, out, errOut := run(t, append([]string{"capture"}, args...)...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, "-D lists the primaries and their ports; it takes no capture flags or filter") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

// tcpdump's rotation flags are refused with the -b options that do what
// they mean: gzdoctor's -C is a stop, not tcpdump's rotation.
func TestCaptureTcpdumpRotationRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-C", "100", "-W", "10"}, "-W is tcpdump's rotation; gzdoctor rotates with dumpcap's -b (and its -C only stops the capture): use -b filesize:100000 -b files:10"},
		{[]string{"-G", "60"}, "-G is tcpdump's rotation; gzdoctor rotates with dumpcap's -b (and its -C only stops the capture): use -b duration:60"},
		// adv3 F27: tcpdump's -G S -W K stops after K files; -W alone
		// rotates nothing (the -b files:K once suggested is refused).
		{[]string{"-G", "60", "-W", "5"}, "use -b duration:60 -a files:5"},
		{[]string{"-W", "5"}, "-W 5 alone rotates nothing (tcpdump takes it with -C or -G): keep the last 5 files of a ring with -b filesize:KB -b files:5, or stop after 5 files with -b duration:SECONDS -a files:5"},
		{[]string{"-C", "100", "-G", "60", "-W", "5"}, "use -b filesize:100000 -b duration:60\n"},
		{[]string{"-b", "files:3"}, "-b files:N and -a files:N need a condition that closes a file"},
		{[]string{"-b", "filesize:10", "-C", "5"}, "bound the disk with -b files:N"},
	} {
		code, out, errOut := run(t, append([]string{"capture", "--prefix", "gz", "-i", "net_ring0", "--dry-run"}, tc.args...)...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", tc.args, code, out, errOut)
		}
	}
}

// TestCaptureSummaryLineEnvelope: the -o json summary line on stderr
// carries the envelope's version and host, as the stdout document does.
func TestCaptureSummaryLineEnvelope(t *testing.T) {
	streams, _, out, errOut := ui.Test()
	a := &app{streams: streams, format: ui.FormatJSON, opts: globalOptions{Root: "/"}, started: time.Now()}
	if err := a.renderCapture(false, &capture.Result{}); err != nil {
		t.Fatal(err)
	}
	var doc, line map[string]any
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("stdout: %v\n%s", err, out)
	}
	if err := json.Unmarshal(errOut.Bytes(), &line); err != nil {
		t.Fatalf("stderr: %v\n%s", err, errOut)
	}
	for _, k := range []string{"gzdoctor_version", "host", "command", "schema_version"} {
		if doc[k] == "" || line[k] != doc[k] {
			t.Errorf("%s: summary line %q, document %q", k, line[k], doc[k])
		}
	}
}

// captureFixtureJSON is captureJSON on a fixture tree: users cannot
// capture under --root, tests of the preflight's verdict may.
func captureFixtureJSON(t *testing.T, args ...string) (int, *capture.Result, string) {
	t.Helper()
	streams, _, out, errOut := ui.Test()
	args = append([]string{"-o", "json", "capture"}, args...)
	code := execute(context.Background(), &app{streams: streams, args: args, started: time.Now(), fixtureCapture: true}, args)
	if out.Len() == 0 {
		return code, nil, errOut.String()
	}
	var env struct {
		Data *capture.Result `json:"data"`
	}
	if err := json.Unmarshal(out.Bytes(), &env); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return code, env.Data, errOut.String()
}

// TestCaptureRefusesRoot: a bundle under --root has no primary to capture
// from; capture would check the bundle and capture from this machine.
func TestCaptureRefusesRoot(t *testing.T) {
	root := filepath.Join("..", "..", "testdata", "hosts", "chk-healthy-2211")
	for _, args := range [][]string{
		{"capture", "-c", "1", "-w", filepath.Join(t.TempDir(), "c.pcapng")},
		{"capture", "-D"},
		{"capture", "--dry-run", "-i", "net_ring0", "-w", "x.pcapng"},
	} {
		code, out, errOut := run(t, append([]string{"--root", root}, args...)...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, "capture runs on this machine: --root") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

// TestCaptureOutputDirAsGiven: a missing directory in -w is refused even
// when a ".." after it would make the cleaned path exist.
func TestCaptureOutputDirAsGiven(t *testing.T) {
	dir := t.TempDir()
	w := dir + "/rel/../o2.pcapng"
	code, _, errOut := run(t, "capture", "--prefix", "gz", "-i", "net_ring0", "--pdump-bin", "/bin/true", "-c", "1", "-w", w)
	if code != exitUsage || !strings.Contains(errOut, "no such directory "+dir+"/rel/..") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Lstat(filepath.Join(dir, "o2.pcapng")); err == nil {
		t.Error("wrote o2.pcapng beside the missing directory")
	}
}

// A 0 where 0 means nothing is refused (adv3 F4): -c 0 silently captured
// without a limit (minutes, gigabytes), --ring-size 0 and the mbuf sizes
// silently took their defaults. -s 0 is tcpdump's "whole packets" and -c 1
// is fine: the dry run prints the command.
func TestCaptureZeroRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // "" accepted
	}{
		{[]string{"-c", "0"}, "-c 0: want a positive count; leave -c out to capture until Ctrl+C or another stop"},
		{[]string{"--count=00"}, "-c 0: want a positive count"},
		{[]string{"--ring-size", "0"}, "--ring-size 0: want a power of 2 from 2 to 1073741824; leave it out for the default 4096"},
		{[]string{"--mbuf-size", "0"}, "--mbuf-size 0: pdump takes 1646 to 65535; leave it out for the default 2176"},
		{[]string{"--total-num-mbufs", "0"}, "--total-num-mbufs 0: pdump takes 1025 to 65535; leave it out for the default 8191"},
		{[]string{"-c", "-1"}, "take positive values"},
		{[]string{"-c", "1"}, ""},
		{[]string{"-s", "0"}, ""},
	} {
		code, out, errOut := run(t, append([]string{"capture", "--prefix", "gz", "-i", "net_ring0", "--no-preflight", "--dry-run"}, tc.args...)...)
		if tc.want == "" {
			if code != exitOK || out == "" {
				t.Errorf("%v: exit %d, stdout %q, stderr %q", tc.args, code, out, errOut)
			}
			continue
		}
		if code != exitUsage || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and %q", tc.args, code, out, errOut, tc.want)
		}
	}
}

// A typo'd --prefix: the preflight's fix is the operator's own capture
// command with the running primary's prefix put in place of theirs, every
// other flag and the filter kept (adv3 F10: -c and -w were dropped, or
// with -i the fix was a raw dpdk-pdump writing rx only, as pcap, into the
// .pcapng name).
func TestCapturePrefixFixIsOwnCommand(t *testing.T) {
	root := filepath.Join("..", "..", "testdata", "hosts", "chk-healthy-2211")
	w := filepath.Join(t.TempDir(), "ty.pcapng")
	for _, tc := range []struct {
		args, want []string
	}{
		{[]string{"--prefix", "gazele", "-c", "100", "-w", w},
			[]string{"--prefix", "gazelle", "-c", "100", "-w", w}},
		{[]string{"--prefix=gazele", "-i", "0000:01:00.0", "-c", "100", "-w", w, "udp", "port", "53"},
			[]string{"--prefix", "gazelle", "-i", "0000:01:00.0", "-c", "100", "-w", w, "udp", "port", "53"}},
	} {
		args := append([]string{"--root", root}, tc.args...)
		code, res, errOut := captureFixtureJSON(t, args...)
		if code != exitProblem || res == nil || res.Preflight == nil {
			t.Fatalf("%v: exit %d, result %+v\n%s", tc.args, code, res, errOut)
		}
		r, ok := res.Preflight.Result("prefix")
		if !ok || r.Status != "fail" || r.Fix == nil {
			t.Fatalf("%v: prefix %+v", tc.args, r)
		}
		want := shquote.Join(append([]string{"gzdoctor", "-o", "json", "capture", "--root", root}, tc.want...))
		if !slices.Contains(r.Fix.Commands, want) {
			t.Errorf("%v: fix commands %q, want %q", tc.args, r.Fix.Commands, want)
		}
		for _, c := range r.Fix.Commands {
			if tool, _, _ := strings.Cut(c, " "); strings.Contains(tool, "pdump") || strings.Contains(tool, "dumpcap") {
				t.Errorf("%v: a capture tool's command in the fix: %q", tc.args, c)
			}
		}
	}
}

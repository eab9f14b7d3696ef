package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// EnvRecordLogs names the directory TestRecordReleaseLogs writes into
// (lab/record-logs.sh --releases sets it); unset, the recorder skips.
const EnvRecordLogs = "LAB_RECORD_LOGS"

// recording is one log the release recorder makes: a capture tool of one
// release run against a lab primary of another (or the same) release.
type recording struct {
	tool, primary Release
	// name is the file's name without the release prefix and .log.
	name string
	// arg is the --pdump argument ({D}: a scratch dir of the tool's
	// release; {nic}: the kernel-driven PCI NIC); prefix, when set,
	// replaces the primary's prefix (a typo of it).
	arg, prefix string
	// stopAfter: stop with SIGINT after this long, as ^C does (0: run to
	// its end, 60 s at most).
	stopAfter time.Duration
	expected  string
	also      []string
}

func (c recording) file() string {
	if c.tool == c.primary {
		return c.tool.DPDK() + "-pdump-" + c.name + ".log"
	}
	return c.tool.DPDK() + "-pdump-against-" + c.primary.DPDK() + "-primary.log"
}

// releaseRecordings are the logs of testdata/logs/lab-releases, all made
// by TestRecordReleaseLogs: each other release's failures gzdoctor
// explains, and each release's pdump against each other release's primary.
func releaseRecordings() []recording {
	var out []recording
	for _, r := range []Release{ReleaseBullseye, ReleaseTrixie} {
		out = append(out,
			recording{tool: r, primary: r, name: "healthy", stopAfter: 2 * time.Second, expected: "none",
				arg: "port=0,queue=*,rx-dev={D}/rec-h.pcap,tx-dev={D}/rec-h2.pcap,ring-size=1024,total-num-mbufs=4095"},
			recording{tool: r, primary: r, name: "bad-port", expected: "pdump-port-invalid",
				arg: "port=7,queue=*,rx-dev={D}/rec-p.pcap,ring-size=1024,total-num-mbufs=4095"},
			recording{tool: r, primary: r, name: "device-mismatch", expected: "pdump-device-not-in-primary", also: []string{"device-not-probed-by-primary"},
				arg: "device_id={nic},queue=*,rx-dev={D}/rec-d.pcap,ring-size=1024,total-num-mbufs=4095"},
			recording{tool: r, primary: r, name: "typo-prefix", expected: "no-primary-config", prefix: "typo",
				arg: "port=0,queue=*,rx-dev={D}/rec-t.pcap,ring-size=1024,total-num-mbufs=4095"},
		)
	}
	for _, tool := range Releases() {
		for _, prim := range Releases() {
			if tool != prim {
				out = append(out, recording{tool: tool, primary: prim, expected: "dpdk-version-mismatch",
					arg: "port=0,queue=*,rx-dev=/dev/null,tx-dev=/dev/null,ring-size=1024,total-num-mbufs=4095"})
			}
		}
	}
	return out
}

// kernelNIC is the PCI address of a NIC the kernel drives (this machine's
// virtio eth0): a device_id no lab primary drives.
func kernelNIC() string {
	ds, _ := filepath.Glob("/sys/bus/pci/devices/*")
	for _, d := range ds {
		if fi, err := os.Stat(filepath.Join(d, "net")); err == nil && fi.IsDir() {
			return filepath.Base(d)
		}
		if m, _ := filepath.Glob(filepath.Join(d, "virtio*", "net")); len(m) > 0 {
			return filepath.Base(d)
		}
	}
	return ""
}

// packageVersion is the release's dpdk package version ("20.11.10-1~deb11u1").
func packageVersion(r Release) string {
	out, err := r.Command("dpkg-query", "-W", "-f", "${Version}", "dpdk").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

func (r Release) debian() string {
	switch r {
	case ReleaseBullseye:
		return "Debian 11"
	case ReleaseTrixie:
		return "Debian 13"
	}
	return "Debian 12"
}

// TestRecordReleaseLogs records the real logs of testdata/logs/lab-releases
// (lab/record-logs.sh --releases): each log is the tool's stdout+stderr as
// it printed them, under a header that says how it was made.
func TestRecordReleaseLogs(t *testing.T) {
	dir := os.Getenv(EnvRecordLogs)
	if dir == "" {
		t.Skip(EnvRecordLogs + " unset: nothing to record (lab/record-logs.sh --releases sets it)")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	prims := map[Release]*Primary{}
	for _, r := range Releases() {
		prims[r] = StartT(t, Config{Release: r, Rate: 1000})
	}
	nic := kernelNIC()
	for _, c := range releaseRecordings() {
		t.Run(strings.TrimSuffix(c.file(), ".log"), func(t *testing.T) {
			if strings.Contains(c.arg, "{nic}") && nic == "" {
				t.Skip("no kernel-driven PCI NIC on this machine")
			}
			p := prims[c.primary]
			prefix := p.Prefix
			if c.prefix == "typo" {
				prefix = "gzrec_typo" + strings.TrimPrefix(p.Prefix, "gzlab")
				rd := filepath.Join("/var/run/dpdk", prefix)
				// The tool leaves the empty dir it created; the recorder's own.
				t.Cleanup(func() { os.Remove(rd) })
			}
			_, inside := c.tool.TempDir(t)
			arg := strings.NewReplacer("{D}", inside, "{nic}", nic).Replace(c.arg)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := c.tool.Command("dpdk-pdump", "--file-prefix", prefix, "--", "--pdump", arg)
			if c.stopAfter > 0 {
				time.AfterFunc(c.stopAfter, func() {
					if cmd.Process != nil {
						cmd.Process.Signal(syscall.SIGINT)
					}
				})
			}
			out, err := runCtx(ctx, cmd)
			end := "exit 0"
			if ee, ok := err.(*exec.ExitError); ok {
				end = fmt.Sprintf("exit %d", ee.ExitCode())
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					end = "killed by " + unix.SignalName(ws.Signal())
				}
			} else if err != nil {
				t.Fatalf("dpdk-pdump: %v\n%s", err, out)
			}
			against := "the lab primary of the same release (lab/setup-releases chroot)"
			if c.tool != c.primary {
				against = fmt.Sprintf("the lab primary of DPDK %s (%s)", packageVersion(c.primary), c.primary.debian())
			}
			if c.prefix == "typo" {
				against = "a typo of the lab primary's prefix (the primary runs; lab/setup-releases chroot)"
			}
			stop := end
			if c.stopAfter > 0 {
				stop = fmt.Sprintf("stopped with SIGINT after %v, %s", c.stopAfter, end)
			}
			var b strings.Builder
			fmt.Fprintf(&b, "# source: recorded on the lab by lab/record-logs.sh --releases: dpdk-pdump of DPDK %s (%s) against %s: dpdk-pdump --file-prefix %s -- --pdump '%s' (%s)\n",
				packageVersion(c.tool), c.tool.debian(), against, prefix, arg, stop)
			fmt.Fprintf(&b, "# expected: %s\n", c.expected)
			if len(c.also) > 0 {
				fmt.Fprintf(&b, "# also: %s\n", strings.Join(c.also, ", "))
			}
			b.WriteString(out)
			if err := os.WriteFile(filepath.Join(dir, c.file()), []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %s", c.file(), stop)
		})
	}
}

// TestReleaseLogsAreRecorded: testdata/logs/lab-releases holds exactly the
// recorder's logs, each with the recorder's header: none made by hand.
func TestReleaseLogsAreRecorded(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "logs", "lab-releases")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var have, want []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".log") {
			have = append(have, e.Name())
		}
	}
	for _, c := range releaseRecordings() {
		want = append(want, c.file())
		b, err := os.ReadFile(filepath.Join(dir, c.file()))
		if err != nil {
			continue
		}
		head := string(b)
		if !strings.HasPrefix(head, "# source: recorded on the lab by lab/record-logs.sh --releases: dpdk-pdump of DPDK "+c.tool.DPDK()) ||
			!strings.Contains(head, "\n# expected: "+c.expected+"\n") {
			t.Errorf("%s: not the recorder's header for DPDK %s expecting %s:\n%.400s", c.file(), c.tool.DPDK(), c.expected, head)
		}
	}
	slices.Sort(have)
	slices.Sort(want)
	if !slices.Equal(have, want) {
		t.Errorf("%s holds %q, the recorder makes %q (run lab/record-logs.sh --releases)", dir, have, want)
	}
}

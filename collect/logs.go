package collect

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"time"
)

// logLine picks the log lines about DPDK, Gazelle and the kernel's side of
// them (hugepages, VFIO, IOMMU). Everything else a log holds stays out of
// the bundle.
var logLine = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)\bEAL\b|dpdk|lstack|ltran|gazelle|pdump|dumpcap|telemetry|hugepage|hugetlb|vfio|iommu|igb_uio|mempool|mbuf|gzdoctor|rte_`)
})

// MaxLogLines bounds each log excerpt.
const MaxLogLines = 2000

// Logs gathers the recent log lines that match logLine: the journal of the
// last `since`, the kernel ring buffer, and the tail of /var/log/messages
// and /var/log/syslog where they exist.
func Logs(ctx context.Context, since time.Duration) []Output {
	var out []Output
	if _, err := exec.LookPath("journalctl"); err == nil {
		args := []string{"journalctl", "--no-pager", "-q", "-o", "short-iso", fmt.Sprintf("--since=-%ds", int(since.Seconds()))}
		out = append(out, commandLog(ctx, "logs/journal.txt", args))
	}
	if _, err := exec.LookPath("dmesg"); err == nil {
		out = append(out, commandLog(ctx, "logs/dmesg.txt", []string{"dmesg", "--time-format", "iso"}))
	}
	for _, f := range []string{"/var/log/messages", "/var/log/syslog"} {
		b, err := tail(f, 16<<20)
		if err != nil {
			continue
		}
		o := Output{Name: "logs" + f + ".txt"}
		o.Data, o.Note = filterLines(b)
		o.Note = strings.TrimSpace("the last 16 MiB of " + f + ", " + o.Note)
		out = append(out, o)
	}
	return out
}

func commandLog(ctx context.Context, name string, args []string) Output {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var stdout bytes.Buffer
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdout = &limitedWriter{w: &stdout, n: 64 << 20}
	err := cmd.Run()
	o := Output{Name: name, Command: args}
	if ee, ok := err.(*exec.ExitError); ok {
		o.Exit = ee.ExitCode()
	} else if err != nil {
		o.Exit = -1
		o.Note = err.Error()
	}
	var note string
	o.Data, note = filterLines(stdout.Bytes())
	o.Note = strings.TrimSpace(strings.TrimPrefix(o.Note+"; "+note, "; "))
	return o
}

// filterLines keeps the matching lines, the last MaxLogLines of them.
func filterLines(b []byte) ([]byte, string) {
	var keep [][]byte
	total := 0
	for _, l := range bytes.Split(b, []byte("\n")) {
		if len(l) > 0 && logLine().Match(l) {
			keep = append(keep, l)
			total++
		}
	}
	note := fmt.Sprintf("%d matching lines", total)
	if len(keep) > MaxLogLines {
		keep = keep[len(keep)-MaxLogLines:]
		note += fmt.Sprintf(", the last %d kept", MaxLogLines)
	}
	if len(keep) == 0 {
		return nil, note
	}
	return append(bytes.Join(keep, []byte("\n")), '\n'), note
}

// tail reads the last n bytes of the regular file p.
func tail(p string, n int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", p)
	}
	if fi.Size() > n {
		if _, err := f.Seek(fi.Size()-n, io.SeekStart); err != nil {
			return nil, err
		}
	}
	return io.ReadAll(io.LimitReader(f, n))
}

// limitedWriter drops what comes past n bytes, so a huge journal cannot
// fill memory.
type limitedWriter struct {
	w io.Writer
	n int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n <= 0 {
		return len(p), nil
	}
	q := p
	if int64(len(q)) > l.n {
		q = q[:l.n]
	}
	n, err := l.w.Write(q)
	l.n -= int64(n)
	if err != nil {
		return n, err
	}
	return len(p), nil
}

// Package telemetry is a client of DPDK's telemetry v2 socket
// (dpdk_telemetry.v2, SOCK_SEQPACKET, JSON): the greeting, one reply per
// command, and the typed calls gzdoctor makes. It reads no machine state of
// its own; package host resolves the socket under --root and composes the
// calls into a report (Host.ProbeTelemetry).
package telemetry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

// DefaultTimeout bounds each telemetry exchange whose context has
// no deadline of its own: a primary that hangs must not hang the doctor.
const DefaultTimeout = time.Second

// maxOutput caps the read buffer a greeting may ask for. DPDK
// uses 16 KiB (22.11) up to a few hundred KiB in later releases.
const maxOutput = 16 << 20

// Errors a telemetry call can wrap.
var (
	// ErrNull: the server answered {"<cmd>":null}, which DPDK
	// sends for an unknown command, bad parameters or a failed handler.
	ErrNull = errors.New("command unknown or failed (null reply)")
	// ErrTruncated: a reply longer than the buffer the greeting
	// announced; SOCK_SEQPACKET dropped the rest.
	ErrTruncated = errors.New("reply larger than max_output_len, truncated")
	// ErrClosed: the server closed the connection. DPDK does so
	// at once when it already serves its maximum of clients.
	ErrClosed = errors.New("telemetry server closed the connection")
)

// Info is the greeting (and /info) of a dpdk_telemetry.v2 socket.
type Info struct {
	Version      string `json:"version"` // "DPDK 22.11.11"
	PID          int    `json:"pid"`
	MaxOutputLen int    `json:"max_output_len"`
}

// DPDKVersion returns the bare version ("22.11.11") of the greeting's
// "DPDK 22.11.11".
func (i Info) DPDKVersion() string {
	return strings.TrimSpace(strings.TrimPrefix(i.Version, "DPDK"))
}

// Client is a connection to one DPDK telemetry v2 socket. It is not safe
// for concurrent use: the protocol is one request, one reply.
type Client struct {
	Path string `json:"path"`
	Info Info   `json:"info"`
	conn *net.UnixConn
	buf  []byte
	// unanswered counts requests that were sent but whose reply never
	// came in time. The server still answers them, in order, so the next
	// query must skip that many late replies before its own.
	unanswered int
}

// Dial connects to the socket at path (a real path: host.Host.DialTelemetry
// takes a machine path under --root) and reads its greeting.
func Dial(ctx context.Context, path string) (*Client, error) {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	c, err := dialBusy(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("connecting to telemetry %s: %w", path, unwrapOpErr(err))
	}
	t := &Client{Path: path, conn: c.(*net.UnixConn), buf: make([]byte, 4096)}
	greeting, err := t.read(ctx)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("telemetry %s: reading greeting: %w", path, err)
	}
	if err := json.Unmarshal(greeting, &t.Info); err != nil {
		c.Close()
		return nil, fmt.Errorf("telemetry %s: greeting is not JSON (%q): %w", path, clip(greeting), err)
	}
	switch n := t.Info.MaxOutputLen; {
	case n <= 0:
		// Pre-20.05 greetings lacked it; DPDK's fixed size then was 16 KiB.
		t.buf = make([]byte, 16<<10)
	case n > maxOutput:
		c.Close()
		return nil, fmt.Errorf("telemetry %s: greeting announces max_output_len %d, more than %d", path, n, maxOutput)
	default:
		t.buf = make([]byte, n)
	}
	return t, nil
}

// Close closes the connection.
func (t *Client) Close() error { return t.conn.Close() }

// Query sends cmd ("/ethdev/info,0") and returns the value of the reply's
// single key (the command without its parameters). A null value is
// ErrNull.
func (t *Client) Query(ctx context.Context, cmd string) (json.RawMessage, error) {
	// DPDK reads commands into a 1 KiB buffer and matches at most 56 bytes
	// of command name; anything else could never be answered.
	if !strings.HasPrefix(cmd, "/") || len(cmd) >= 1024 || strings.ContainsRune(cmd, 0) {
		return nil, fmt.Errorf("telemetry command %q: must start with / and be shorter than 1024 bytes", cmd)
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	stop := t.watch(ctx)
	defer stop()
	if _, err := t.conn.Write([]byte(cmd)); err != nil {
		return nil, fmt.Errorf("telemetry %s: sending %s: %w", t.Path, cmd, ctxErr(ctx, err))
	}
	name, _, _ := strings.Cut(cmd, ",")
	var v json.RawMessage
	for {
		reply, err := t.read(ctx)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				t.unanswered++
			}
			return nil, fmt.Errorf("telemetry %s: %s: %w", t.Path, cmd, err)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(reply, &m); err != nil {
			return nil, fmt.Errorf("telemetry %s: %s: reply is not a JSON object (%q): %w", t.Path, cmd, clip(reply), err)
		}
		var ok bool
		if v, ok = m[name]; ok && len(m) == 1 {
			break
		}
		if t.unanswered == 0 {
			return nil, fmt.Errorf("telemetry %s: %s: reply %q does not answer the command", t.Path, cmd, clip(reply))
		}
		t.unanswered-- // a late reply to an earlier, timed-out query
	}
	if string(v) == "null" {
		return nil, fmt.Errorf("telemetry %s: %s: %w", t.Path, cmd, ErrNull)
	}
	return v, nil
}

// QueryInto runs Query and unmarshals the value into v.
func (t *Client) QueryInto(ctx context.Context, cmd string, v any) error {
	raw, err := t.Query(ctx, cmd)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("telemetry %s: %s: unexpected reply %q: %w", t.Path, cmd, clip(raw), err)
	}
	return nil
}

// read reads one packet. SOCK_SEQPACKET keeps message boundaries, so one
// read is one reply; MSG_TRUNC tells a reply was cut to the buffer.
func (t *Client) read(ctx context.Context) ([]byte, error) {
	stop := t.watch(ctx)
	defer stop()
	n, _, flags, _, err := t.conn.ReadMsgUnix(t.buf, nil)
	if err == nil && n == 0 {
		err = io.EOF
	}
	if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
		return nil, ErrClosed
	}
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	if flags&syscall.MSG_TRUNC != 0 {
		return nil, fmt.Errorf("%w (buffer %d bytes)", ErrTruncated, len(t.buf))
	}
	return append([]byte(nil), t.buf[:n]...), nil
}

// watch applies ctx's deadline to the socket and unblocks it when ctx is
// cancelled; stop undoes both.
func (t *Client) watch(ctx context.Context) (stop func()) {
	dl, _ := ctx.Deadline()
	t.conn.SetDeadline(dl)
	fired := make(chan struct{})
	after := context.AfterFunc(ctx, func() {
		t.conn.SetDeadline(time.Unix(1, 0))
		close(fired)
	})
	return func() {
		// AfterFunc runs in its own goroutine: if it has started, wait
		// for it, or its past deadline could land on the next query.
		if !after() {
			<-fired
		}
		t.conn.SetDeadline(time.Time{})
	}
}

func withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, DefaultTimeout)
}

// ctxErr prefers the context's reason (deadline, cancel) over the socket's
// i/o timeout it caused. The socket's deadline is the context's, so a
// socket timeout is the context's deadline even when the context's own
// timer has not fired yet.
func ctxErr(ctx context.Context, err error) error {
	if ce := ctx.Err(); ce != nil {
		return fmt.Errorf("no answer: %w", ce)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("no answer: %w", context.DeadlineExceeded)
	}
	return unwrapOpErr(err)
}

func unwrapOpErr(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}

// clip shortens a reply for an error message.
func clip(b []byte) string {
	const n = 120
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// dialBusy connects to a unix seqpacket socket, trying again while its
// listen queue is full. DPDK's telemetry listens with a backlog of one and
// serves connections from one thread: a second client that connects while
// another is being accepted gets EAGAIN ("resource temporarily
// unavailable"), which says the primary is busy, not that it is deaf.
// Seen on the lab with several gzdoctor runs against one primary.
func dialBusy(ctx context.Context, path string) (net.Conn, error) {
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "unixpacket", path)
		if err == nil || !errors.Is(err, syscall.EAGAIN) {
			return c, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(10 * time.Millisecond):
		}
	}
}

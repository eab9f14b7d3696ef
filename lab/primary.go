// Package lab starts and stops the lab primary (lab/primary.c), a small real
// DPDK primary process that stands in for Gazelle's lstack, so tests of every
// package can run dpdk-pdump, dpdk-dumpcap and gzdoctor against real DPDK.
package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// DefaultVdev is the lab's port. The ring PMD's default device uses one ring
// for both tx and rx, so every frame the primary sends comes back on rx and a
// pdump capture holds real frames in both directions (net_null's rx returns
// blank mbufs).
const DefaultVdev = "net_ring0"

// DefaultRate is the primary's transmit rate in packets per second.
const DefaultRate = 10000

// readyTimeout bounds Start when the context has no deadline. The primary is
// ready in well under a second on the lab machine.
const readyTimeout = 30 * time.Second

// stopTimeout is how long Stop waits after SIGINT before SIGKILL.
const stopTimeout = 10 * time.Second

// Config says how to run a lab primary. The zero value is a working primary.
type Config struct {
	// Prefix is the DPDK --file-prefix; default: unique per call,
	// "gzlab_<pid>_<n>", so tests in different packages never collide.
	Prefix string
	// NoPdumpInit runs the primary without rte_pdump_init().
	NoPdumpInit bool
	// HidePcapPMD runs the primary in its own mount namespace with the EAL
	// plugin dir replaced by a copy that lacks librte_net_pcap.
	HidePcapPMD bool
	// Vdevs are the --vdev arguments; default: DefaultVdev.
	Vdevs []string
	// Rate is the transmit rate in packets per second; 0 means DefaultRate,
	// a negative rate means no traffic.
	Rate int
	// UDPClients is the number of UDP clients, 192.168.1.(10+i) port
	// 10001+i, talking to 192.168.1.1:8080; 0 means 3.
	UDPClients int
	// ExtraEAL are more EAL arguments, added after the lab's own.
	ExtraEAL []string
}

// Primary is a running (or stopped) lab primary.
type Primary struct {
	Pid        int
	Prefix     string
	RuntimeDir string
	// Device is the name of the primary's first port, e.g. "net_ring0".
	Device string
	// Args is the full command line the primary was started with.
	Args []string

	cmd      *exec.Cmd
	out      *outputBuffer
	done     chan struct{} // closed when the process has exited
	waitErr  error         // valid once done is closed
	statsDir string
	stats    string

	mu      sync.Mutex
	final   *Counters
	cleaned bool
	killed  atomic.Bool // we sent SIGKILL: its exit status is ours
}

var prefixSeq atomic.Int64

// NewPrefix returns a file prefix no other lab primary of this or another
// test process uses: the pid keeps processes apart, the counter calls.
func NewPrefix() string {
	return fmt.Sprintf("gzlab_%d_%d", os.Getpid(), prefixSeq.Add(1))
}

// eal returns the EAL arguments for cfg.
func (cfg Config) eal() []string {
	args := []string{"--file-prefix", cfg.Prefix}
	// The lab never drives PCI devices unless the caller asks for some; the
	// machine's own NIC stays with the kernel.
	if !slices.ContainsFunc(cfg.ExtraEAL, func(a string) bool {
		for _, o := range []string{"-a", "--allow", "-w", "--pci-whitelist", "-b", "--block", "--no-pci"} {
			if a == o || strings.HasPrefix(a, o+"=") {
				return true
			}
		}
		return false
	}) {
		args = append(args, "--no-pci")
	}
	for _, v := range cfg.Vdevs {
		args = append(args, "--vdev", v)
	}
	return append(args, cfg.ExtraEAL...)
}

// Start runs a lab primary and returns once it is ready: it printed its
// ready line and its mp_socket exists. If the primary dies or does not get
// ready in time, the error carries its output and nothing is left behind.
func Start(ctx context.Context, cfg Config) (*Primary, error) {
	bin := PrimaryBinary()
	if bin == "" {
		_, err := rootOnce()
		return nil, err
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("lab primary not built (run make -C lab): %w", err)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = NewPrefix()
	}
	if len(cfg.Vdevs) == 0 {
		cfg.Vdevs = []string{DefaultVdev}
	}
	rate := cfg.Rate
	switch {
	case rate == 0:
		rate = DefaultRate
	case rate < 0:
		rate = 0
	}

	statsDir, err := os.MkdirTemp("", "gzlab-stats-")
	if err != nil {
		return nil, fmt.Errorf("creating the stats dir: %w", err)
	}
	p := &Primary{
		Prefix:     cfg.Prefix,
		RuntimeDir: RuntimeDir(cfg.Prefix),
		out:        &outputBuffer{},
		done:       make(chan struct{}),
		statsDir:   statsDir,
		stats:      filepath.Join(statsDir, "stats"),
	}
	args := append([]string{bin}, cfg.eal()...)
	args = append(args, "--", "--rate", fmt.Sprint(rate), "--stats", p.stats)
	if cfg.UDPClients != 0 {
		args = append(args, "--udp-clients", fmt.Sprint(cfg.UDPClients))
	}
	if cfg.NoPdumpInit {
		args = append(args, "--no-pdump-init")
	}
	p.Args = args
	if cfg.HidePcapPMD {
		pmds, noPcap, err := pmdDirs()
		if err != nil {
			os.RemoveAll(statsDir)
			return nil, err
		}
		// unshare (util-linux) makes the new namespace's mounts private, so
		// the bind mount is seen by the primary alone; sh and unshare exec,
		// so the pid stays the primary's.
		args = append([]string{"unshare", "--mount", "--propagation", "private", "--",
			"/bin/sh", "-c", `mount --bind "$1" "$2" || exit 125; shift 2; exec "$@"`,
			"sh", noPcap, pmds}, args...)
	}

	p.cmd = exec.Command(args[0], args[1:]...)
	p.cmd.Stdout = p.out
	p.cmd.Stderr = p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{
		// Its own process group keeps a terminal's ^C away from it (tests
		// stop it themselves); SIGTERM on parent death stops it when the
		// test binary dies before its cleanups ran. startLocked makes
		// "parent" mean the test binary, not one of its threads.
		Setpgid:   true,
		Pdeathsig: syscall.SIGTERM,
	}
	if err := p.startLocked(); err != nil {
		os.RemoveAll(statsDir)
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	p.Pid = p.cmd.Process.Pid

	if err := p.waitReady(ctx); err != nil {
		p.signalAndWait(syscall.SIGKILL, stopTimeout)
		p.Cleanup()
		return nil, err
	}
	return p, nil
}

// startLocked starts p.cmd and reaps it (setting waitErr, closing done)
// on one goroutine locked to its OS thread. Linux sends the parent-death
// signal when the thread that forked the child ends, not the process, and
// the Go runtime ends a thread whenever a goroutine exits while locked to
// it (go.dev/issue/27505): a primary forked from an ordinary goroutine's
// thread could get SIGTERM in the middle of a test. The forking thread now
// lives until the primary is reaped, so the signal comes only when the test
// binary dies.
func (p *Primary) startLocked() error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := p.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	return <-started
}

var readyRE = regexp.MustCompile(`(?m)^lab-primary: ready pid=(\d+) .*device=(\S+) .*runtime_dir=(\S+)$`)

func (p *Primary) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if m := readyRE.FindStringSubmatch(p.out.String()); m != nil {
			p.Device = m[2]
			p.RuntimeDir = m[3]
			if _, err := os.Stat(filepath.Join(p.RuntimeDir, "mp_socket")); err == nil {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("lab primary (prefix %s) exited before it was ready (%v); its output:\n%s",
				p.Prefix, p.waitErr, p.out.String())
		case <-ctx.Done():
			return fmt.Errorf("lab primary (prefix %s) not ready: %w; its output:\n%s",
				p.Prefix, context.Cause(ctx), p.out.String())
		case <-tick.C:
		}
	}
}

// Running reports whether the primary process has not exited yet.
func (p *Primary) Running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Counters returns the primary's latest counters: from its stats file while
// it runs, the final ones it printed once it stopped.
func (p *Primary) Counters() (Counters, error) {
	p.mu.Lock()
	final := p.final
	p.mu.Unlock()
	if final != nil {
		return *final, nil
	}
	b, err := os.ReadFile(p.stats)
	if err != nil {
		return Counters{}, fmt.Errorf("reading lab primary counters: %w", err)
	}
	c, err := parseCounters(string(b))
	if err != nil {
		return Counters{}, fmt.Errorf("parsing %s: %w", p.stats, err)
	}
	return c, nil
}

// Stop sends SIGINT, waits for a clean exit (SIGKILL after 10 s), keeps the
// final counters, and removes the runtime dir and hugepage files. It
// reports an error when the primary did not exit cleanly by itself.
func (p *Primary) Stop() error {
	var err error
	if p.Running() {
		if !p.signalAndWait(syscall.SIGINT, stopTimeout) {
			p.signalAndWait(syscall.SIGKILL, stopTimeout)
			err = fmt.Errorf("lab primary %d (prefix %s) ignored SIGINT for %v; killed", p.Pid, p.Prefix, stopTimeout)
		}
	}
	<-p.done
	if err == nil && p.waitErr != nil && !p.killed.Load() {
		err = fmt.Errorf("lab primary %d (prefix %s): %w; its output:\n%s", p.Pid, p.Prefix, p.waitErr, p.out.String())
	}
	out := p.out.String()
	if i := strings.LastIndex(out, "lab-primary: stopped\n"); i >= 0 {
		if c, perr := parseCounters(out[i:]); perr == nil {
			p.mu.Lock()
			p.final = &c
			p.mu.Unlock()
		}
	}
	p.Cleanup()
	return err
}

// Kill sends SIGKILL and waits for the process to die. It leaves the
// runtime dir and the hugepage files behind, as a crashed lstack does.
func (p *Primary) Kill() error {
	if !p.signalAndWait(syscall.SIGKILL, stopTimeout) {
		return fmt.Errorf("lab primary %d did not die after SIGKILL", p.Pid)
	}
	return nil
}

// signalAndWait sends sig and reports whether the process exited within d.
func (p *Primary) signalAndWait(sig syscall.Signal, d time.Duration) bool {
	if !p.Running() {
		return true
	}
	if sig == syscall.SIGKILL {
		p.killed.Store(true)
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// Cleanup removes the primary's runtime dir, its <prefix>map_* hugepage
// files and its stats file. A primary still running is killed first: its
// files are about to go. Cleanup is idempotent.
func (p *Primary) Cleanup() {
	if p.Running() {
		p.signalAndWait(syscall.SIGKILL, stopTimeout)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cleaned {
		return
	}
	p.cleaned = true
	removePrefixFiles(p.Prefix, p.RuntimeDir)
	os.RemoveAll(p.statsDir)
}

// removePrefixFiles removes a prefix's runtime dir and hugepage files.
func removePrefixFiles(prefix, runtimeDir string) {
	if prefix == "" || strings.ContainsRune(prefix, '/') {
		return
	}
	os.RemoveAll(runtimeDir)
	for _, f := range hugepageFiles(prefix) {
		os.Remove(f)
	}
}

// Output is everything the primary printed so far (stdout and stderr).
func (p *Primary) Output() string { return p.out.String() }

// Exited is closed when the primary process has exited.
func (p *Primary) Exited() <-chan struct{} { return p.done }

// ExitErr is the process's exit status once Exited is closed.
func (p *Primary) ExitErr() error {
	select {
	case <-p.done:
		return p.waitErr
	default:
		return errors.New("lab primary still running")
	}
}

// outputBuffer collects a process's output. Past maxOutput it keeps the
// head and the latest tail, so a primary flooding errors cannot eat the
// test's memory while its start-up and its final counters stay readable.
type outputBuffer struct {
	mu      sync.Mutex
	head    bytes.Buffer
	tail    []byte
	dropped int64
}

const maxOutput = 1 << 20

func (b *outputBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(p)
	if room := maxOutput/2 - b.head.Len(); room > 0 {
		k := min(room, len(p))
		b.head.Write(p[:k])
		p = p[k:]
	}
	b.tail = append(b.tail, p...)
	if over := len(b.tail) - maxOutput/2; over > 0 {
		b.dropped += int64(over)
		b.tail = append(b.tail[:0], b.tail[over:]...)
	}
	return n, nil
}

func (b *outputBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropped > 0 {
		return fmt.Sprintf("%s\n[... %d bytes of output dropped ...]\n%s", b.head.String(), b.dropped, b.tail)
	}
	return b.head.String() + string(b.tail)
}

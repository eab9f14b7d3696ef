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
	"strconv"
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

// Kind is how a lab primary is built and loaded, after the primaries
// Gazelle users run.
type Kind string

const (
	// KindExecutable (the zero value) is build/lab-primary, an executable
	// linked the way dpdk-pdump is (pkg-config, --as-needed), on net_ring0.
	KindExecutable Kind = ""
	// KindLstack is the primary loaded the way Gazelle's liblstack.so is:
	// build/liblstack.so (linked --no-as-needed, driver libraries NEEDED)
	// LD_PRELOADed into build/lab-app, which has no DPDK of its own; its
	// constructor starts the EAL with the dpdk_args of the lstack.conf that
	// LSTACK_CONF_PATH names (Primary.Conf). Ports as KindExecutable.
	KindLstack Kind = "lstack"
	// KindLtran is shaped like ltran: an executable with two ports, port 0
	// net_af_packet0 on a veth into a network namespace (Primary.Net) and
	// port 1 net_bonding0 (mode 0) over it. The primary drives the bond;
	// the bonding driver drives port 0. (The bond cannot sit on net_ring:
	// bonding sets its members' MAC and net_ring cannot.) It sends the
	// lab's traffic out of the bond and reflects what the namespace sends.
	KindLtran Kind = "ltran"
	// KindAfPacket is an executable on net_af_packet0 over a veth whose
	// other end lives in a network namespace (Primary.Net): traffic from
	// the namespace's kernel (Netns.UDPEcho, Netns.TCPEcho, anything run
	// in Netns.Do) reaches the primary, which answers ARP for
	// NetnsPrimaryAddr and sends IPv4 back to its sender. Rate 0 means no
	// lab traffic of its own here; a positive Rate adds it.
	KindAfPacket Kind = "af_packet"
)

// Config says how to run a lab primary. The zero value is a working primary.
type Config struct {
	// Kind is the primary's shape; the zero value is the plain executable.
	Kind Kind
	// Release is the DPDK release the primary is built with and runs on:
	// the zero value is this machine's own; the others run in their chroot
	// (lab/setup-releases), built there on first use.
	Release Release
	// Prefix is the DPDK --file-prefix; default: unique per call,
	// "gzlab_<pid>_<n>", so tests in different packages never collide.
	Prefix string
	// NoPdumpInit runs the primary without rte_pdump_init().
	NoPdumpInit bool
	// HidePcapPMD runs the primary in its own mount namespace with the EAL
	// plugin dir replaced by a copy that lacks librte_net_pcap.
	HidePcapPMD bool
	// PrivateDirs runs the primary in its own mount namespace with an
	// empty tmpfs over each of these directories (which must exist): the
	// primary has its own directory under the caller's names, as in a
	// container with a private /tmp. Not with HidePcapPMD or KindLstack.
	PrivateDirs []string
	// Vdevs are the --vdev arguments; default: DefaultVdev (the network
	// kinds set their own and refuse others).
	Vdevs []string
	// Rate is the transmit rate in packets per second; 0 means DefaultRate,
	// a negative rate means no traffic.
	Rate int
	// UDPClients is the number of UDP clients, 192.168.1.(10+i) port
	// 10001+i, talking to 192.168.1.1:8080; 0 means 3.
	UDPClients int
	// ExtraEAL are more EAL arguments, added after the lab's own.
	ExtraEAL []string
	// Env are more variables for the primary's environment (this
	// machine's DPDK, KindExecutable).
	Env []string
	// UID, when not 0, runs the primary as that uid (and gid), without
	// XDG_RUNTIME_DIR: its runtime dir is then /tmp/dpdk/<prefix>, and its
	// --huge-dir a hugetlbfs mount of its own (size 128 MiB, owned by the
	// uid), unmounted by Cleanup. The plain executable on this machine's
	// DPDK only.
	UID int
}

// Primary is a running (or stopped) lab primary.
type Primary struct {
	Pid        int
	Prefix     string
	RuntimeDir string
	Kind       Kind
	Release    Release
	// Device is the name of the first port the primary drives, e.g.
	// "net_ring0" ("net_bonding0" for KindLtran).
	Device string
	// Ports are the names of all its ethdev ports, by port id.
	Ports []string
	// Args is the full command line the primary was started with (for
	// KindLstack the application's; the EAL arguments are in Conf).
	Args []string
	// Exe is the executable the process runs (build/lab-app for KindLstack),
	// as a path on this machine (inside the release's chroot for a release).
	Exe string
	// Conf is the lstack.conf of a KindLstack primary (LSTACK_CONF_PATH).
	Conf string
	// Env are the variables added to the process's environment.
	Env []string
	// Net is the network namespace of KindAfPacket and KindLtran.
	Net *Netns

	cmd      *exec.Cmd
	out      *outputBuffer
	done     chan struct{} // closed when the process has exited
	waitErr  error         // valid once done is closed
	statsDir string
	stats    string
	unmount  func() // gives the release's mounts back

	mu      sync.Mutex
	final   *Counters
	cleaned bool
	held    []*os.File  // hugepage files Kill keeps (a shared flock each)
	killed  atomic.Bool // we sent SIGKILL: its exit status is ours

	sigintWait time.Duration // Stop's wait after SIGINT; 0 is stopTimeout (a test's knob)
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
	// 20.11 pins its control threads (telemetry, the mp handler that
	// serves pdump) to the CPUs that are no lcore, and to the main lcore's
	// CPU when every CPU is one: on 2 cores the busy primary starves them
	// and telemetry stops answering. One lcore leaves them a CPU.
	if cfg.Release == ReleaseBullseye && !slices.ContainsFunc(cfg.ExtraEAL, func(a string) bool {
		return a == "-l" || a == "-c" || a == "--lcores" || strings.HasPrefix(a, "--lcores=")
	}) {
		args = append(args, "-l", "0")
	}
	return append(args, cfg.ExtraEAL...)
}

// Start runs a lab primary and returns once it is ready: it printed its
// ready line and its mp_socket exists. If the primary dies or does not get
// ready in time, the error carries its output and nothing is left behind.
func Start(ctx context.Context, cfg Config) (*Primary, error) {
	for attempt := 1; ; attempt++ {
		p, err := start(ctx, cfg)
		if err == nil || attempt == fanoutAttempts || !fanoutClash(cfg.Kind, err) || ctx.Err() != nil {
			return p, err
		}
	}
}

// fanoutAttempts bounds the restarts of an af_packet primary whose
// PACKET_FANOUT group collided with another's.
const fanoutAttempts = 3

// fanoutClash reports whether a network kind's start failed because its
// af_packet socket could not join its fanout group. DPDK's af_packet PMD
// (22.11) derives the group id from (its pid ^ the interface's ifindex) &
// 0xffff, and group ids are global in the network namespace: two primaries
// on two veths of the root namespace collide when those values meet (pids
// and ifindexes of parallel tests are close, so they do: seen in the
// scenario matrix as "could not set PACKET_FANOUT … Invalid argument").
// A new start has a new pid and a new veth, hence another group id.
func fanoutClash(k Kind, err error) bool {
	return (k == KindAfPacket || k == KindLtran) && strings.Contains(err.Error(), "PACKET_FANOUT")
}

func start(ctx context.Context, cfg Config) (*Primary, error) {
	bin, lib := PrimaryBinary(), LstackLibrary()
	if bin == "" {
		_, err := rootOnce()
		return nil, err
	}
	rel := cfg.Release
	unmount := func() {}
	if len(cfg.PrivateDirs) > 0 && (cfg.HidePcapPMD || cfg.Kind == KindLstack) {
		return nil, fmt.Errorf("lab: PrivateDirs goes with neither HidePcapPMD nor KindLstack")
	}
	if rel != ReleaseHost {
		if cfg.HidePcapPMD || len(cfg.PrivateDirs) > 0 {
			return nil, fmt.Errorf("lab: HidePcapPMD and PrivateDirs run on this machine's DPDK only, not on %s", rel)
		}
		var err error
		if unmount, err = rel.Mount(); err != nil {
			return nil, err
		}
		dir, err := rel.Build()
		if err != nil {
			unmount()
			return nil, err
		}
		// Paths as the primary sees them, inside the chroot.
		bin, lib = dir+"/build/lab-primary", dir+"/build/liblstack.so"
	}
	switch cfg.Kind {
	case KindExecutable:
	case KindLstack:
		bin = filepath.Join(filepath.Dir(bin), "lab-app")
		if _, err := os.Stat(rel.HostPath(lib)); err != nil {
			unmount()
			return nil, fmt.Errorf("lab liblstack.so not built (run make -C lab): %w", err)
		}
	case KindLtran, KindAfPacket:
		if len(cfg.Vdevs) > 0 {
			return nil, fmt.Errorf("lab: a %s primary sets its own vdevs; got %v", cfg.Kind, cfg.Vdevs)
		}
	default:
		unmount()
		return nil, fmt.Errorf("lab: unknown primary kind %q", cfg.Kind)
	}
	if _, err := os.Stat(rel.HostPath(bin)); err != nil {
		unmount()
		return nil, fmt.Errorf("lab primary not built (run make -C lab): %w", err)
	}
	if cfg.UID != 0 && (cfg.Kind != KindExecutable || rel != ReleaseHost || cfg.HidePcapPMD) {
		unmount()
		return nil, fmt.Errorf("lab: UID runs the plain executable on this machine's DPDK only")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = NewPrefix()
	}
	rate := cfg.Rate
	switch {
	case rate == 0 && cfg.Kind == KindAfPacket:
		rate = 0 // the namespace's kernel makes the traffic
	case rate == 0:
		rate = DefaultRate
	case rate < 0:
		rate = 0
	}

	tmp := ""
	if rel != ReleaseHost {
		tmp = rel.HostPath("/tmp")
	}
	statsDir, err := os.MkdirTemp(tmp, "gzlab-stats-")
	if err != nil {
		unmount()
		return nil, fmt.Errorf("creating the stats dir: %w", err)
	}
	if cfg.UID != 0 {
		// The uid's own hugepages: /mnt/huge is root's, and a mount of
		// its own leaves the machine's pool to everyone else.
		huge := filepath.Join(statsDir, "huge")
		um, err := uidHugeDir(statsDir, huge, cfg.UID)
		if err != nil {
			os.RemoveAll(statsDir)
			unmount()
			return nil, err
		}
		prev := unmount
		unmount = func() { um(); prev() }
		cfg.ExtraEAL = append([]string{"--huge-dir", huge}, cfg.ExtraEAL...)
	}
	// inside is a path of this machine as the primary sees it.
	inside := func(path string) string { return strings.TrimPrefix(path, rel.Root()) }
	p := &Primary{
		Kind:       cfg.Kind,
		Release:    rel,
		Prefix:     cfg.Prefix,
		RuntimeDir: RuntimeDir(cfg.Prefix),
		Exe:        rel.HostPath(bin),
		out:        &outputBuffer{},
		done:       make(chan struct{}),
		statsDir:   statsDir,
		stats:      filepath.Join(statsDir, "stats"),
		unmount:    unmount,
	}
	fail := func(err error) (*Primary, error) {
		if p.Net != nil {
			p.Net.remove()
		}
		// The mounts first: a UID primary's hugetlbfs is in statsDir.
		unmount()
		os.RemoveAll(statsDir)
		return nil, err
	}
	app := []string{"--rate", fmt.Sprint(rate), "--stats", inside(p.stats)}
	switch cfg.Kind {
	case KindLtran, KindAfPacket:
		if p.Net, err = newNetns(cfg.Prefix); err != nil {
			return fail(err)
		}
		cfg.Vdevs = []string{"net_af_packet0,iface=" + p.Net.HostIf}
		if cfg.Kind == KindLtran {
			// DPDK 22.11 names bonding members "slave" (23.11: "member").
			cfg.Vdevs = append(cfg.Vdevs, "net_bonding0,mode=0,slave=net_af_packet0")
			app = append(app, "--ports", "1")
		}
		app = append(app, "--reflect")
	}
	if len(cfg.Vdevs) == 0 {
		cfg.Vdevs = []string{rel.DefaultVdev()}
	}
	if cfg.UDPClients != 0 {
		app = append(app, "--udp-clients", fmt.Sprint(cfg.UDPClients))
	}
	if cfg.NoPdumpInit {
		app = append(app, "--no-pdump-init")
	}
	var args []string
	if cfg.Kind == KindLstack {
		p.Conf = filepath.Join(statsDir, "lstack.conf")
		if err := os.WriteFile(p.Conf, []byte(lstackConf(cfg.eal(), app)), 0o644); err != nil {
			return fail(fmt.Errorf("writing %s: %w", p.Conf, err))
		}
		p.Env = []string{"LD_PRELOAD=" + lib, "LSTACK_CONF_PATH=" + inside(p.Conf)}
		args = []string{bin}
	} else {
		args = append([]string{bin}, cfg.eal()...)
		args = append(append(args, "--"), app...)
	}
	p.Args = args
	if cfg.HidePcapPMD {
		pmds, noPcap, err := pmdDirs()
		if err != nil {
			return fail(err)
		}
		// unshare (util-linux) makes the new namespace's mounts private, so
		// the bind mount is seen by the primary alone; sh and unshare exec,
		// so the pid stays the primary's.
		args = append([]string{"unshare", "--mount", "--propagation", "private", "--",
			"/bin/sh", "-c", `mount --bind "$1" "$2" || exit 125; shift 2; exec "$@"`,
			"sh", noPcap, pmds}, args...)
		if cfg.Kind == KindLstack {
			// LD_PRELOAD would load the library into unshare and sh too;
			// env sets it for the application alone.
			args = append(args[:len(args)-1], append([]string{"env"}, append(p.Env, bin)...)...)
		}
	}
	if len(cfg.PrivateDirs) > 0 {
		// The tmpfs mounts are private to the new namespace: the caller
		// keeps its directories, the primary gets empty ones.
		wrap := []string{"unshare", "--mount", "--propagation", "private", "--",
			"/bin/sh", "-c", `while [ "$1" != -- ]; do mount -t tmpfs -o size=1m,mode=0755 gzlab "$1" || exit 125; shift; done; shift; exec "$@"`, "sh"}
		wrap = append(append(wrap, cfg.PrivateDirs...), "--")
		args = append(wrap, args...)
	}

	p.cmd = rel.Command(args[0], args[1:]...)
	if cfg.Kind == KindLstack && !cfg.HidePcapPMD {
		// env sets LD_PRELOAD for the application alone, not for chroot.
		p.cmd = rel.Command("env", append(p.Env, args...)...)
	}
	if len(cfg.Env) > 0 {
		if cfg.Kind != KindExecutable || rel != ReleaseHost {
			return fail(fmt.Errorf("lab: Env is for a plain primary on this machine's DPDK"))
		}
		p.cmd.Env = append(os.Environ(), cfg.Env...)
		p.Env = cfg.Env
	}
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
	if cfg.UID != 0 {
		// Go sets the parent-death signal after the uid changes (a change
		// would clear it).
		p.cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(cfg.UID), Gid: uint32(cfg.UID)}
		p.cmd.Env = []string{"HOME=/"}
		for _, e := range os.Environ() {
			if !strings.HasPrefix(e, "XDG_RUNTIME_DIR=") && !strings.HasPrefix(e, "HOME=") && !strings.HasPrefix(e, "RUNTIME_DIRECTORY=") {
				p.cmd.Env = append(p.cmd.Env, e)
			}
		}
		p.cmd.Env = append(p.cmd.Env, cfg.Env...)
	}
	if err := p.startLocked(); err != nil {
		return fail(fmt.Errorf("starting %s: %w", bin, err))
	}
	p.Pid = p.cmd.Process.Pid

	if err := p.waitReady(ctx); err != nil {
		p.signalAndWait(syscall.SIGKILL, stopTimeout)
		p.Cleanup()
		return nil, err
	}
	return p, nil
}

// lstackConf is an lstack.conf for the lab's liblstack.so: Gazelle's keys
// where lstack has them, the lab's own options in lab_args.
func lstackConf(eal, app []string) string {
	list := func(xs []string) string {
		q := make([]string, len(xs))
		for i, x := range xs {
			q[i] = strconv.Quote(x)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	return "# written by gzdoctor's lab for build/liblstack.so\n" +
		"dpdk_args = " + list(eal) + "\n" +
		"use_ltran = 0\n" +
		"kni_switch = 0\n" +
		"num_cpus = \"0\"\n" +
		"host_addr = \"192.168.1.1\"\n" +
		"mask_addr = \"255.255.255.0\"\n" +
		"gateway_addr = \"192.168.1.254\"\n" +
		"devices = \"02:00:00:00:00:01\"\n" +
		"lab_args = " + list(app) + "\n"
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

var readyRE = regexp.MustCompile(`(?m)^lab-primary: ready pid=(\d+) .*device=(\S+) .*all_ports=(\S+) runtime_dir=(.+)$`) // the dir, last, may hold spaces

func (p *Primary) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if m := readyRE.FindStringSubmatch(p.out.String()); m != nil {
			p.Device = m[2]
			p.Ports = strings.Split(m[3], ",")
			p.RuntimeDir = m[4]
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
		wait := stopTimeout
		if p.sigintWait > 0 {
			wait = p.sigintWait
		}
		if !p.signalAndWait(syscall.SIGINT, wait) {
			// Read before SIGKILL: the threads' states are the evidence.
			report := hangReport(p.Pid)
			p.signalAndWait(syscall.SIGKILL, stopTimeout)
			err = fmt.Errorf("lab primary %d (prefix %s) ignored SIGINT for %v; killed. What it was doing:\n%s\nits output:\n%s",
				p.Pid, p.Prefix, wait, report, p.out.String())
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
// runtime dir and the hugepage files behind, as a crashed lstack does, and
// keeps those files there until ReleaseHugepages or Cleanup: every DPDK
// primary that starts on this machine (another package's test, at the same
// moment) removes each *map_* file of its --huge-dir that no process holds
// a flock on (EAL's clear_hugedir, any prefix), so a crashed primary's
// files vanish under a test that counts them (host's
// TestLiveKilledPrimaryIsStale once found "0 hugepage files left"). The
// test process takes the primary's own kind of lock, a shared flock, on
// each file while the primary is stopped, before the kill. Those open files
// are seen by fuser: release them before running a fuser-guarded cleanup.
func (p *Primary) Kill() error {
	if p.Running() {
		// Stopped, it maps no new files while they are listed.
		if syscall.Kill(p.Pid, syscall.SIGSTOP) == nil && WaitState(p.Pid, 'T', stopTimeout) == nil {
			p.holdHugepages()
		}
	}
	if !p.signalAndWait(syscall.SIGKILL, stopTimeout) {
		return fmt.Errorf("lab primary %d did not die after SIGKILL", p.Pid)
	}
	return nil
}

// holdHugepages takes a shared flock on each of the prefix's hugepage files.
func (p *Primary) holdHugepages() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range hugepageFiles(p.Prefix) {
		h, err := os.Open(f)
		if err != nil {
			continue
		}
		if syscall.Flock(int(h.Fd()), syscall.LOCK_SH|syscall.LOCK_NB) != nil {
			h.Close()
			continue
		}
		p.held = append(p.held, h)
	}
}

// ReleaseHugepages closes the files Kill holds: from now on any primary
// that starts may remove them, and fuser no longer sees the test process.
func (p *Primary) ReleaseHugepages() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, h := range p.held {
		h.Close()
	}
	p.held = nil
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
	p.ReleaseHugepages()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cleaned {
		return
	}
	p.cleaned = true
	removePrefixFiles(p.Prefix, p.RuntimeDir)
	// The mounts first: a UID primary's hugetlbfs is in statsDir.
	if p.unmount != nil {
		p.unmount()
	}
	os.RemoveAll(p.statsDir)
	if p.Net != nil {
		p.Net.remove()
	}
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

// WaitState waits until /proc/<pid>/stat shows the state (T after
// SIGSTOP): kill returns before a multi-threaded process has stopped, and
// a test that checks a stopped primary must not race the kernel.
func WaitState(pid int, state byte, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if i := bytes.LastIndexByte(b, ')'); i > 0 && i+2 < len(b) && b[i+2] == state {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pid %d did not reach state %c within %v", pid, state, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// uidHugeDir mounts a hugetlbfs of 128 MiB owned by uid at dir, and lets
// uid into parent (the stats dir, where the primary writes its counters).
// It returns the unmount.
func uidHugeDir(parent, dir string, uid int) (func(), error) {
	if err := os.Chown(parent, uid, uid); err != nil {
		return nil, err
	}
	if err := os.Chmod(parent, 0o755); err != nil {
		return nil, err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	opts := fmt.Sprintf("uid=%d,gid=%d,size=128M,pagesize=2M", uid, uid)
	if out, err := exec.Command("mount", "-t", "hugetlbfs", "-o", opts, "nodev", dir).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("lab: mounting hugetlbfs for uid %d on %s: %v: %s", uid, dir, err, out)
	}
	return func() { exec.Command("umount", dir).Run() }, nil
}

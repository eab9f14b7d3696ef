package capture

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gzdoctor/gzdoctor/host"
)

// Where a loss happened, when the primary is an lstack and gazellectl is
// installed: the NIC (rx_missed_errors: no descriptor, nobody saw the
// packet), lstack (its stack threads' rx_drop/tx_drop and mbuf allocation
// failures: pdump's rx callback runs in rte_eth_rx_burst, before lstack,
// so the capture has those rx packets and the application does not), or
// the capture (the primary's pdump counters and the backend's own). The
// commands and their output are those of Gazelle's gazellectl
// (src/ltran/ltran_dfx.c, tags 1.0.2 and master): `gazellectl lstack show
// <ip|pid> [-u unix_prefix]` prints per stack thread
// `------ stack tid: N ------` blocks of `name: value` pairs, after a
// `Statistics of lstack in app:` heading in ltran mode (ltran's own view of
// the same lstack comes first and is skipped); `-x` prints the NIC's
// extended statistics as `name: value` lines.

// LstackStats are lstack's and its NIC's counters over the capture
// (reading after minus reading before).
type LstackStats struct {
	// Command is the gazellectl command read (without -x).
	Command string `json:"command"`
	Threads int    `json:"stack_threads"`
	RxPkts  uint64 `json:"rx_pkts"`
	RxDrop  uint64 `json:"rx_drop"`
	TxPkts  uint64 `json:"tx_pkts"`
	TxDrop  uint64 `json:"tx_drop"`
	// AllocFail are rx_allocmbuf_fail + tx_allocmbuf_fail (master only).
	AllocFail uint64 `json:"alloc_fail"`
	// NICMissed is the NIC's rx_missed_errors from -x; nil when -x gave
	// none.
	NICMissed *uint64 `json:"nic_rx_missed,omitempty"`
	NICErrors *uint64 `json:"nic_rx_errors,omitempty"`
}

// Lost is what lstack dropped after the NIC.
func (s LstackStats) Lost() uint64 { return s.RxDrop + s.TxDrop + s.AllocFail }

// lstackReading is one `gazellectl lstack show` (and -x) output, summed.
type lstackReading struct {
	threads                                   int
	rxPkts, rxDrop, txPkts, txDrop, allocFail uint64
	nicMissed, nicErrors                      uint64
	haveNIC                                   bool
}

var reCtlPair = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`([a-z_]+): (\d+)`) })

// parseLstackShow sums the per-thread counters of `gazellectl lstack show`.
// An output without a stack thread block is an error: gazellectl prints
// its connect failures and usage on stdout and may exit 0.
func parseLstackShow(out []byte) (lstackReading, error) {
	var r lstackReading
	if i := bytes.Index(out, []byte("Statistics of lstack in app:")); i >= 0 {
		out = out[i:]
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "------ stack tid:") {
			r.threads++
			continue
		}
		if r.threads == 0 {
			continue
		}
		for _, m := range reCtlPair().FindAllStringSubmatch(line, -1) {
			v, err := strconv.ParseUint(m[2], 10, 64)
			if err != nil {
				continue
			}
			switch m[1] {
			case "rx_pkts":
				r.rxPkts += v
			case "rx_drop":
				r.rxDrop += v
			case "tx_pkts":
				r.txPkts += v
			case "tx_drop":
				r.txDrop += v
			case "rx_allocmbuf_fail", "tx_allocmbuf_fail":
				r.allocFail += v
			}
		}
	}
	if r.threads == 0 {
		return r, fmt.Errorf("no stack thread in its output: %s", firstLine(out))
	}
	return r, nil
}

// parseNICXstats reads rx_missed_errors and rx_errors from `-x`.
func parseNICXstats(out []byte, r *lstackReading) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		name, val, ok := strings.Cut(strings.TrimSpace(sc.Text()), ": ")
		if !ok {
			continue
		}
		v, err := strconv.ParseUint(strings.TrimSpace(val), 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "rx_missed_errors":
			r.nicMissed, r.haveNIC = v, true
		case "rx_errors":
			r.nicErrors = v
		}
	}
}

func firstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return "(nothing)"
	}
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// gazellectlTimeout bounds each gazellectl run: it waits up to 5 s on its
// socket (GAZELLE_DFX_TIMEOUT), longer than a capture should wait to start.
var gazellectlTimeout = 3 * time.Second

// gazellectl is how the capture reads lstack's counters: the binary, the
// target (host_addr or pid) and the unix_prefix.
type gazellectl struct {
	bin    string
	args   []string // lstack show <target> [-u prefix]
	before lstackReading
}

func (g *gazellectl) command() string {
	return strings.Join(append([]string{"gazellectl"}, g.args...), " ")
}

func (g *gazellectl) read(ctx context.Context) (lstackReading, error) {
	run := func(extra ...string) ([]byte, error) {
		ctx, cancel := context.WithTimeout(ctx, gazellectlTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, g.bin, append(append([]string{}, g.args...), extra...)...)
		cmd.WaitDelay = time.Second
		out, err := cmd.Output()
		if ctx.Err() == context.DeadlineExceeded {
			return nil, fmt.Errorf("%s did not answer within %s", g.command(), gazellectlTimeout)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v: %s", g.command(), err, firstLine(out))
		}
		return out, nil
	}
	out, err := run()
	if err != nil {
		return lstackReading{}, err
	}
	r, err := parseLstackShow(out)
	if err != nil {
		return r, fmt.Errorf("%s: %w", g.command(), err)
	}
	if x, err := run("-x"); err == nil {
		parseNICXstats(x, &r)
	}
	return r, nil
}

// newGazellectl finds gazellectl on PATH and what to ask it: the primary
// must be an lstack whose config gives host_addr (else its pid is asked).
// The error says why lstack's counters will not be in the summary.
func newGazellectl(h *host.Host, root, configPath string, pid int) (*gazellectl, error) {
	if root != "" && root != "/" {
		return nil, errors.New("--root is not this machine: gazellectl is not run")
	}
	bin, err := exec.LookPath("gazellectl")
	if err != nil {
		return nil, errors.New("gazellectl is not on PATH")
	}
	var p *host.Process
	if pid > 0 {
		p, _ = h.ReadProcess(pid)
	}
	if p == nil || p.DPDK.Lstack == "" && !strings.Contains(p.Env["LD_PRELOAD"], "liblstack") {
		return nil, errors.New("the primary is not an lstack")
	}
	getenv := os.Getenv
	if v := p.Env[host.LstackConfEnv]; v != "" && configPath == "" {
		getenv = func(k string) string {
			if k == host.LstackConfEnv {
				return v
			}
			return os.Getenv(k)
		}
	}
	target, prefix := strconv.Itoa(pid), ""
	if cfs, err := h.LoadGazelleConfigs(configPath, getenv); err == nil {
		for _, c := range cfs {
			if c.Role == host.RoleLstack {
				if c.HostAddr != "" {
					target = c.HostAddr
				}
				prefix = c.UnixPrefix
				break
			}
		}
	}
	args := []string{"lstack", "show", target}
	if prefix != "" {
		args = append(args, "-u", prefix)
	}
	return &gazellectl{bin: bin, args: args}, nil
}

// lstackBefore takes the first reading; a failure leaves the reason in
// LstackUnavailable (shown with -v) and the capture goes on.
func (s *supervisor) lstackBefore(ctx context.Context) {
	g, err := newGazellectl(host.New(orRoot(s.o.Root)), s.o.Root, s.o.ConfigPath, s.p.primaryPID)
	if err == nil {
		g.before, err = g.read(ctx)
	}
	if err != nil {
		s.res.LstackUnavailable = err.Error()
		return
	}
	s.gzctl = g
}

// lstackAfter takes the second reading and keeps the difference.
func (s *supervisor) lstackAfter(ctx context.Context) {
	g := s.gzctl
	if g == nil {
		return
	}
	after, err := g.read(ctx)
	if err != nil {
		s.res.LstackUnavailable = "second reading: " + err.Error()
		return
	}
	s.res.Lstack = lstackDelta(g.command(), g.before, after)
}

// lstackDelta is after − before; a counter that went down (lstack
// restarted) counts from zero.
func lstackDelta(cmd string, b, a lstackReading) *LstackStats {
	d := func(x, y uint64) uint64 {
		if y < x {
			return y
		}
		return y - x
	}
	st := &LstackStats{Command: cmd, Threads: a.threads,
		RxPkts: d(b.rxPkts, a.rxPkts), RxDrop: d(b.rxDrop, a.rxDrop),
		TxPkts: d(b.txPkts, a.txPkts), TxDrop: d(b.txDrop, a.txDrop),
		AllocFail: d(b.allocFail, a.allocFail)}
	if a.haveNIC && b.haveNIC {
		m, e := d(b.nicMissed, a.nicMissed), d(b.nicErrors, a.nicErrors)
		st.NICMissed, st.NICErrors = &m, &e
	}
	return st
}

// lstackLines are the summary's lines for lstack's counters: the counts,
// and where a loss happened.
func (r *Result) lstackLines(sym func(string) string, verbose bool) []string {
	s := r.Lstack
	if s == nil {
		if r.LstackUnavailable != "" && verbose {
			return []string{"         lstack: unknown (" + r.LstackUnavailable + ")"}
		}
		return nil
	}
	line := fmt.Sprintf("         lstack: %s rx / %s tx packets, %s rx_drop, %s tx_drop, %s mbuf allocation failures over %d stack %s (%s)",
		group(int64(s.RxPkts)), group(int64(s.TxPkts)), group(int64(s.RxDrop)), group(int64(s.TxDrop)), group(int64(s.AllocFail)),
		s.Threads, threadWord(s.Threads), s.Command)
	out := []string{line}
	if s.NICMissed != nil {
		out = append(out, fmt.Sprintf("         nic:    %s rx_missed_errors, %s rx_errors (%s -x)", group(int64(*s.NICMissed)), group(int64(*s.NICErrors)), s.Command))
		if *s.NICMissed > 0 {
			out = append(out, fmt.Sprintf("  %s the NIC dropped %s packets (rx_missed_errors): neither lstack nor the capture saw them; give lstack more queues (num_cpus) or larger rings (nic_rxqueue_size)",
				sym("warn"), group(int64(*s.NICMissed))))
		}
	}
	if s.Lost() > 0 {
		out = append(out, fmt.Sprintf("  %s lstack dropped %s packets after the NIC (rx_drop/tx_drop/mbuf allocation failures): received ones are in the capture although the application never got them",
			sym("warn"), group(int64(s.Lost()))))
	}
	return out
}

func threadWord(n int) string {
	if n == 1 {
		return "thread"
	}
	return "threads"
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gzdoctor/gzdoctor/collect"
	"github.com/gzdoctor/gzdoctor/doctor"
	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/host/target"
	"github.com/gzdoctor/gzdoctor/internal/atomicfile"
	"github.com/gzdoctor/gzdoctor/internal/duration"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
	"github.com/gzdoctor/gzdoctor/ui"
	"github.com/spf13/cobra"
)

type collectOptions struct {
	File      string
	Device    string
	PdumpBin  string
	Timeout   time.Duration
	MaxSize   int64
	Binaries  bool
	LogsSince time.Duration
}

// replayTimeout is check's --timeout for collect's own replay.
const replayTimeout = 10 * time.Second

// maxCollectPrefixes bounds the per-prefix checks of one bundle.
const maxCollectPrefixes = 16

func newCollectCmd(a *app) *cobra.Command {
	var o collectOptions
	cmd := &cobra.Command{
		Use:   "collect [-w FILE]",
		Short: "Write a support bundle that gzdoctor --root replays offline",
		Long: `collect writes a support bundle (tar.gz) of this machine: laid out as a --root
tree, it holds what gzdoctor check reads (the DPDK runtime dirs, the DPDK
processes' /proc files, sysfs PCI and hugepage files, hugetlbfs mounts, the
Gazelle configs), the telemetry answers, recent log lines about DPDK and
Gazelle, the live outputs of check, elfcheck and version, and a manifest of
what was taken and what was not, with why.

Unpacked, 'gzdoctor --root DIR check' gives the live verdicts offline; collect
replays its own bundle before writing it and lists in the manifest every check
whose replay differs. Never packet data, hugepage contents or process memory;
process environments are cut to the variables gzdoctor reads.

The file is written under a temporary name and renamed, mode 0600, and an
existing file is never overwritten.`,
		Example: `  gzdoctor collect
  gzdoctor collect --prefix gazelle -w /tmp/gz.tar.gz
  mkdir b && tar -xzf /tmp/gz.tar.gz -C b && gzdoctor --root b/gzdoctor-collect-* check`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCollect(cmd.Context(), a, o)
		},
	}
	a.bindTarget(cmd)
	f := cmd.Flags()
	f.StringVarP(&o.File, "write", "w", "", "bundle file (default: gzdoctor-collect-HOST-TIME.tar.gz here)")
	f.StringVar(&o.Device, "device", "", "as check --device")
	f.StringVar(&o.PdumpBin, "pdump-bin", "", "as check --pdump-bin")
	duration.Var(f, &o.Timeout, "timeout", doctor.DefaultTimeout, "as check --timeout, for each check run")
	f.Int64Var(&o.MaxSize, "max-size", collect.DefaultMaxBytes, "limit in bytes for the machine files taken, before compression")
	f.BoolVar(&o.Binaries, "binaries", false, "take ELF files check reads too (executables, DPDK libraries), for an offline build-match")
	duration.Var(f, &o.LogsSince, "logs-since", time.Hour, "take log lines of this last period")
	return cmd
}

// collectResult is what collect prints.
type collectResult struct {
	File          string                  `json:"file"`
	Bytes         int64                   `json:"bytes"`
	TreeBytes     int64                   `json:"tree_bytes"`
	Files         int                     `json:"files"`
	NotTaken      int                     `json:"not_taken"`
	Prefixes      []string                `json:"prefixes"`
	Replay        string                  `json:"replay"`
	NotReplayable []collect.NotReplayable `json:"not_replayable"`
}

func (r collectResult) RenderText(w io.Writer, st ui.Style, verbose bool) error {
	fmt.Fprintf(w, "wrote %s (%d KiB; %d machine files, %d KiB before compression; %d not taken, see .gzdoctor/manifest.json)\n",
		r.File, (r.Bytes+1023)/1024, r.Files, (r.TreeBytes+1023)/1024, r.NotTaken)
	if len(r.Prefixes) > 0 {
		fmt.Fprintf(w, "checked: %s\n", strings.Join(r.Prefixes, ", "))
	}
	fmt.Fprintf(w, "replay offline: %s\n", r.Replay)
	differs := 0
	for _, n := range r.NotReplayable {
		if n.Kind == "differs" {
			differs++
		}
	}
	if differs == 0 {
		fmt.Fprintln(w, "replayed here before writing: every check gives the live verdict")
	}
	for _, n := range r.NotReplayable {
		if n.Kind == "not-compared" {
			fmt.Fprintf(w, "not compared: %s: %s\n", n.Check, n.Why)
			continue
		}
		fmt.Fprintf(w, "replay differs: %s: %s\n", n.Check, n.Why)
	}
	return nil
}

func runCollect(ctx context.Context, a *app, o collectOptions) error {
	if filepath.Clean(a.opts.Root) != "/" {
		return usageError("collect reads this machine: --root %s is for replaying a bundle (gzdoctor --root DIR check)", a.opts.Root)
	}
	if o.MaxSize <= 0 {
		return usageError("--max-size must be positive, got %d", o.MaxSize)
	}
	if o.LogsSince < 0 {
		return usageError("--logs-since must not be negative, got %s (the last hour is --logs-since 1h)", o.LogsSince)
	}
	// The bundle is not streamed: collect replays it before writing it and
	// prints where it went on stdout.
	if err := notStdout("-w", o.File, "give a FILE (./- if you mean that name)"); err != nil {
		return err
	}
	now := time.Now().UTC()
	hostname, _ := os.Hostname()
	name := "gzdoctor-collect-" + safeName(hostname) + "-" + now.Format("20060102T150405Z")
	file := o.File
	if file == "" {
		file = name + ".tar.gz"
	}
	if _, err := os.Lstat(file); err == nil {
		return usageError("%s exists: collect never overwrites a file (give another -w)", file)
	}
	dir := filepath.Dir(file)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return usageError("-w %s: %s is not a directory", file, dir)
	}

	rec := collect.NewRecorder()
	ver, _ := buildVersion()
	var outputs []collect.Output
	sub := func(name string, args ...string) collect.Output {
		out := runRecorded(ctx, rec, a.opts.Root, args)
		out.Name = name
		outputs = append(outputs, out)
		return out
	}
	checkArgs := func(prefix string) []string {
		args := []string{"check", "--timeout", o.Timeout.String()}
		if prefix != "" {
			args = append(args, "--prefix", prefix)
		}
		if a.opts.Config != "" {
			args = append(args, "--config", a.opts.Config)
		}
		if o.Device != "" {
			args = append(args, "--device", o.Device)
		}
		if o.PdumpBin != "" {
			args = append(args, "--pdump-bin", o.PdumpBin)
		}
		return args
	}
	b := collect.Bundle{
		Name: name, Recorder: rec, Extra: alwaysTaken(), PIDs: interestingPIDs(),
		HugeMounts: collect.HugetlbfsMounts(), MaxBytes: o.MaxSize, Binaries: o.Binaries,
		Hostname: hostname, Version: ver, Time: now, Command: append([]string{"gzdoctor"}, a.args...),
	}
	built := collect.Build(b)

	// The check as the operator would run it, then each live primary's.
	// The JSON run (the one replayed and compared) comes first and the
	// files it read are taken at once: its telemetry answers are the ones
	// recorded, and the tree is what it saw, not what came seconds later.
	runs := []checkRun{{prefix: a.opts.Prefix, file: "check"}}
	prefixes := livePrefixes()
	for _, p := range prefixes {
		if p.name != a.opts.Prefix && len(runs) <= maxCollectPrefixes {
			runs = append(runs, checkRun{prefix: p.name, file: "check-" + safeName(p.name)})
		}
	}
	for i := range runs {
		r := &runs[i]
		r.args = checkArgs(r.prefix)
		r.live = sub(r.file+".json", append(append([]string{}, r.args...), "-o", "json")...)
		built.SetPIDs(interestingPIDs())
		if i == 0 {
			built.TakeRecorded()
		} else {
			built.TakeLater()
		}
		sub(r.file+".txt", append(append([]string{}, r.args...), "-v")...)
	}
	for _, p := range prefixes {
		if p.pid > 0 {
			sub(fmt.Sprintf("elfcheck-pid%d.json", p.pid), "elfcheck", "--pid", strconv.Itoa(p.pid), "-o", "json")
		}
	}
	sub("version.json", "version", "-o", "json")
	built.SetPIDs(interestingPIDs())
	built.TakeLater()
	replayCmd := replayCommand(file, name, runs[0].args)
	built.SetReplay(replayCmd)
	for _, l := range collect.Logs(ctx, o.LogsSince) {
		built.AddOutput(l)
	}
	for _, out := range outputs {
		built.AddOutput(out)
	}

	// Replay every check run on the tree, as the operator will.
	nr, err := replay(ctx, built, runs)
	if err != nil {
		return failure(fmt.Errorf("replaying the bundle before writing it: %w", err))
	}
	built.SetNotReplayable(nr)

	// Mode 0600: the bundle holds root-only files of the machine.
	err = atomicfile.Write(file, 0o600, false, built.WriteTar)
	if errors.Is(err, atomicfile.ErrExists) {
		return failure(fmt.Errorf("%s appeared while the bundle was written: not overwritten", file))
	}
	if err != nil {
		return failure(err)
	}
	fi, err := os.Stat(file)
	if err != nil {
		return failure(err)
	}
	size := fi.Size()
	m := built.Manifest()
	res := collectResult{File: file, Bytes: size, TreeBytes: m.Bytes, NotTaken: len(m.NotTaken), Replay: replayCmd, NotReplayable: nr}
	for _, t := range m.Taken {
		if t.Kind != "dir" {
			res.Files++
		}
	}
	for _, r := range runs {
		if r.prefix != "" {
			res.Prefixes = append(res.Prefixes, r.prefix)
		}
	}
	if res.Prefixes == nil {
		res.Prefixes = []string{}
	}
	if err := a.render("collect", res); err != nil {
		return failure(err)
	}
	return nil
}

// replayCommand is the command that unpacks the bundle and replays its
// check, typed where collect ran: the bundle's path as -w gave it (a
// base name would not be found from another directory), quoted.
func replayCommand(file, name string, args []string) string {
	return fmt.Sprintf("mkdir b && tar -xzf %s -C b && gzdoctor --root %s %s",
		shquote.Quote(file), shquote.Quote("b/"+name), shquote.Join(args))
}

type checkRun struct {
	prefix string
	file   string
	args   []string
	live   collect.Output
}

// runRecorded runs gzdoctor args in this process, its host watched by rec,
// and returns what it printed on stdout.
func runRecorded(ctx context.Context, rec host.Recorder, root string, args []string) collect.Output {
	streams, _, out, errOut := ui.Test()
	args = append([]string{"--root", root, "--no-color"}, args...)
	code := execute(ctx, &app{streams: streams, args: args, recorder: rec, started: time.Now()}, args)
	o := collect.Output{Command: append([]string{"gzdoctor"}, args...), Exit: code, Data: out.Bytes()}
	if s := strings.TrimSpace(errOut.String()); s != "" {
		o.Note = "stderr: " + s
	}
	return o
}

// replay runs each check on the tree built so far and says which checks
// give another status than they gave live.
func replay(ctx context.Context, built *collect.Built, runs []checkRun) ([]collect.NotReplayable, error) {
	dir, err := os.MkdirTemp("", "gzdoctor-replay-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := built.Materialize(dir); err != nil {
		return nil, err
	}
	var out []collect.NotReplayable
	for _, r := range runs {
		streams, _, stdout, _ := ui.Test()
		// Offline nothing can hang: a longer limit keeps a loaded
		// machine's slowness from passing for a difference.
		args := append([]string{"--root", dir, "--no-color"}, append(append([]string{}, r.args...), "-o", "json", "--timeout", replayTimeout.String())...)
		execute(ctx, &app{streams: streams, args: args, started: time.Now()}, args)
		live, err1 := checkStatuses(r.live.Data)
		off, err2 := checkStatuses(stdout.Bytes())
		if err := errors.Join(err1, err2); err != nil {
			out = append(out, collect.NotReplayable{Check: "*", Kind: "differs", Why: fmt.Sprintf("%s: cannot compare: %v", strings.Join(r.args, " "), err)})
			continue
		}
		for _, id := range sortedKeys(live) {
			if off[id].status == live[id].status {
				continue
			}
			n := collect.NotReplayable{Check: id, Kind: "differs", Why: fmt.Sprintf("live %s, replay %s", live[id].status, off[id].status)}
			if f := off[id].finding; f != "" {
				n.Why += " (" + f + ")"
			}
			if live[id].status == "error" && strings.Contains(live[id].finding, "timed out") {
				// A run that ran out of time gave no verdict to replay.
				n.Kind = "not-compared"
				n.Why = "the live run timed out (" + live[id].finding + "); the replay says " + off[id].status
			}
			if r.prefix != "" {
				n.Why = "--prefix " + r.prefix + ": " + n.Why
			}
			out = append(out, n)
		}
	}
	return out, nil
}

type checkVerdict struct{ status, finding string }

// checkStatuses reads the check IDs and statuses of check -o json.
func checkStatuses(b []byte) (map[string]checkVerdict, error) {
	var env struct {
		Data struct {
			Results []struct {
				ID      string `json:"id"`
				Status  string `json:"status"`
				Finding string `json:"finding"`
			} `json:"results"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("check -o json: %w", err)
	}
	m := map[string]checkVerdict{}
	for _, r := range env.Data.Results {
		m[r.ID] = checkVerdict{r.Status, r.Finding}
	}
	return m, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type livePrefix struct {
	name string
	pid  int
}

// livePrefixes are the prefixes whose config a process holds, with the
// holder's pid.
func livePrefixes() []livePrefix {
	h := host.New("/")
	ps, _, _ := target.Scan(h)
	var out []livePrefix
	for _, p := range ps {
		if p.State == host.PrefixLive {
			lp := livePrefix{name: p.Name}
			if p.Lock.Holder != nil {
				lp.pid = p.Lock.Holder.PID
			}
			out = append(out, lp)
		}
	}
	return out
}

// interestingPIDs are the processes whose /proc files a bundle may hold:
// those running DPDK, those whose command line carries EAL options (a
// wrapper, a secondary), and this process (its mount namespace is the
// capture tool's).
func interestingPIDs() map[int]bool {
	h := host.New("/")
	pids := map[int]bool{os.Getpid(): true}
	ps, _ := h.DPDKProcesses()
	for _, p := range ps {
		pids[p.PID] = true
	}
	all, _ := h.PIDs()
	for _, pid := range all {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err == nil && host.LooksLikeEAL(strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")) {
			pids[pid] = true
		}
	}
	return pids
}

// alwaysTaken are machine paths a bundle holds whether or not the live
// check read them: the kernel's lists a replay needs in place of the
// live probes (fcntl on config, connect to a socket), and the files of
// /etc/gazelle.
func alwaysTaken() []string {
	out := []string{"/proc/locks", "/proc/net/unix", "/proc/mounts", "/proc/meminfo", "/proc/self/ns/mnt",
		// the JSON envelope of a replay names the collected host
		"/proc/sys/kernel/hostname", "/etc/hostname"}
	ents, err := os.ReadDir("/etc/gazelle")
	if err != nil {
		return out
	}
	out = append(out, "/etc/gazelle")
	for _, e := range ents {
		if e.Type().IsRegular() {
			out = append(out, "/etc/gazelle/"+e.Name())
		}
	}
	return out
}

// safeName keeps a name fit for a file name.
func safeName(s string) string {
	if s == "" {
		return "host"
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
}

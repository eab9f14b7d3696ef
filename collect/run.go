package collect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/host/target"
	"github.com/gzdoctor/gzdoctor/internal/atomicfile"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
	"github.com/gzdoctor/gzdoctor/ui"
)

// replayTimeout is check's --timeout for collect's own replay.
const replayTimeout = 10 * time.Second

// maxPrefixes bounds the per-prefix checks of one bundle.
const maxPrefixes = 16

// Request is one `gzdoctor collect`: where the bundle goes and what its
// check runs are given. Run needs gzdoctor itself (Gzdoctor) for the
// outputs a bundle holds and for the replays.
type Request struct {
	File     string // the bundle; it must not exist
	Name     string // the tarball's top directory (Name)
	Hostname string
	Time     time.Time
	Version  string   // gzdoctor's
	Command  []string // the command line, for the manifest

	// As check's flags, for every check run.
	Prefix, Config, Device, PdumpBin string
	Timeout                          time.Duration

	MaxSize   int64         // machine files taken, before compression
	Binaries  bool          // take the ELF files check reads too
	LogsSince time.Duration // log lines of this last period

	// Gzdoctor runs gzdoctor with args in this process, its host watched
	// by rec when rec is not nil, and returns its exit status and what it
	// printed.
	Gzdoctor func(ctx context.Context, rec host.Recorder, args []string) (code int, stdout []byte, stderr string)
}

// Name is a bundle's default name: gzdoctor-collect-HOST-TIME.
func Name(hostname string, t time.Time) string {
	return "gzdoctor-collect-" + safeName(hostname) + "-" + t.UTC().Format("20060102T150405Z")
}

// Run builds the bundle req names: the check as the operator would run
// it, then each live primary's, elfcheck of each primary and version, the
// machine files they read and the logs; replays every check on the tree
// built and lists what differs; then writes the tar.gz under a temporary
// name, mode 0600, never over an existing file.
func Run(ctx context.Context, req Request) (*Result, error) {
	file, name := req.File, req.Name
	rec := NewRecorder()
	var outputs []Output
	sub := func(name string, args ...string) Output {
		out := runRecorded(ctx, req, rec, args)
		out.Name = name
		outputs = append(outputs, out)
		return out
	}
	checkArgs := func(prefix string) []string {
		args := []string{"check", "--timeout", req.Timeout.String()}
		if prefix != "" {
			args = append(args, "--prefix", prefix)
		}
		if req.Config != "" {
			args = append(args, "--config", req.Config)
		}
		if req.Device != "" {
			args = append(args, "--device", req.Device)
		}
		if req.PdumpBin != "" {
			args = append(args, "--pdump-bin", req.PdumpBin)
		}
		return args
	}
	b := Bundle{
		Name: name, Recorder: rec, Extra: alwaysTaken(), PIDs: interestingPIDs(),
		HugeMounts: HugetlbfsMounts(), MaxBytes: req.MaxSize, Binaries: req.Binaries,
		Hostname: req.Hostname, Version: req.Version, Time: req.Time, Command: req.Command,
	}
	built := Build(b)

	// The check as the operator would run it, then each live primary's.
	// The JSON run (the one replayed and compared) comes first and the
	// files it read are taken at once: its telemetry answers are the ones
	// recorded, and the tree is what it saw, not what came seconds later.
	runs := []checkRun{{prefix: req.Prefix, file: "check"}}
	prefixes := livePrefixes()
	for _, p := range prefixes {
		if p.name != req.Prefix && len(runs) <= maxPrefixes {
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
	replayCmd := ReplayCommand(file, name, runs[0].args)
	built.SetReplay(replayCmd)
	for _, l := range Logs(ctx, req.LogsSince) {
		built.AddOutput(l)
	}
	for _, out := range outputs {
		built.AddOutput(out)
	}

	// Replay every check run on the tree, as the operator will.
	nr, err := replay(ctx, req, built, runs)
	if err != nil {
		return nil, fmt.Errorf("replaying the bundle before writing it: %w", err)
	}
	built.SetNotReplayable(nr)

	// Mode 0600: the bundle holds root-only files of the machine.
	err = atomicfile.Write(file, 0o600, false, built.WriteTar)
	if errors.Is(err, atomicfile.ErrExists) {
		return nil, fmt.Errorf("%s appeared while the bundle was written: not overwritten", file)
	}
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(file)
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	m := built.Manifest()
	res := &Result{File: file, Bytes: size, TreeBytes: m.Bytes, NotTaken: len(m.NotTaken), Replay: replayCmd, NotReplayable: nr}
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
	return res, nil
}

// Result is what collect prints: where the bundle went, what it holds,
// and how its replay compared.
type Result struct {
	File          string          `json:"file"`
	Bytes         int64           `json:"bytes"`
	TreeBytes     int64           `json:"tree_bytes"`
	Files         int             `json:"files"`
	NotTaken      int             `json:"not_taken"`
	Prefixes      []string        `json:"prefixes"`
	Replay        string          `json:"replay"`
	NotReplayable []NotReplayable `json:"not_replayable"`
}

func (r Result) RenderText(w io.Writer, st ui.Style, verbose bool) error {
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

// ReplayCommand is the command that unpacks the bundle and replays its
// check, typed where collect ran: the bundle's path as -w gave it (a
// base name would not be found from another directory), quoted.
func ReplayCommand(file, name string, args []string) string {
	return fmt.Sprintf("mkdir b && tar -xzf %s -C b && gzdoctor --root %s %s",
		shquote.Quote(file), shquote.Quote("b/"+name), shquote.Join(args))
}

type checkRun struct {
	prefix string
	file   string
	args   []string
	live   Output
}

// runRecorded runs gzdoctor args in this process, its host watched by rec,
// and returns what it printed on stdout.
func runRecorded(ctx context.Context, req Request, rec host.Recorder, args []string) Output {
	args = append([]string{"--root", "/", "--no-color"}, args...)
	code, out, errOut := req.Gzdoctor(ctx, rec, args)
	o := Output{Command: append([]string{"gzdoctor"}, args...), Exit: code, Data: out}
	if s := strings.TrimSpace(errOut); s != "" {
		o.Note = "stderr: " + s
	}
	return o
}

// replay runs each check on the tree built so far and says which checks
// give another status than they gave live.
func replay(ctx context.Context, req Request, built *Built, runs []checkRun) ([]NotReplayable, error) {
	dir, err := os.MkdirTemp("", "gzdoctor-replay-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := built.Materialize(dir); err != nil {
		return nil, err
	}
	var out []NotReplayable
	for _, r := range runs {
		// Offline nothing can hang: a longer limit keeps a loaded
		// machine's slowness from passing for a difference.
		args := append([]string{"--root", dir, "--no-color"}, append(append([]string{}, r.args...), "-o", "json", "--timeout", replayTimeout.String())...)
		_, stdout, _ := req.Gzdoctor(ctx, nil, args)
		live, err1 := CheckStatuses(r.live.Data)
		off, err2 := CheckStatuses(stdout)
		if err := errors.Join(err1, err2); err != nil {
			out = append(out, NotReplayable{Check: "*", Kind: "differs", Why: fmt.Sprintf("%s: cannot compare: %v", strings.Join(r.args, " "), err)})
			continue
		}
		for _, id := range slices.Sorted(maps.Keys(live)) {
			if off[id].Status == live[id].Status {
				continue
			}
			n := NotReplayable{Check: id, Kind: "differs", Why: fmt.Sprintf("live %s, replay %s", live[id].Status, off[id].Status)}
			if f := off[id].Finding; f != "" {
				n.Why += " (" + f + ")"
			}
			if live[id].Status == "error" && strings.Contains(live[id].Finding, "timed out") {
				// A run that ran out of time gave no verdict to replay.
				n.Kind = "not-compared"
				n.Why = "the live run timed out (" + live[id].Finding + "); the replay says " + off[id].Status
			}
			if r.prefix != "" {
				n.Why = "--prefix " + r.prefix + ": " + n.Why
			}
			out = append(out, n)
		}
	}
	return out, nil
}

// CheckVerdict is one check's result in check -o json.
type CheckVerdict struct{ Status, Finding string }

// CheckStatuses reads the check IDs and statuses of check -o json.
func CheckStatuses(b []byte) (map[string]CheckVerdict, error) {
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
	m := map[string]CheckVerdict{}
	for _, r := range env.Data.Results {
		m[r.ID] = CheckVerdict{r.Status, r.Finding}
	}
	return m, nil
}

type livePrefix struct {
	name string
	pid  int
}

// livePrefixes are the prefixes whose config a process holds, with the
// holder's pid.
func livePrefixes() []livePrefix {
	h := host.New("/")
	ps, _ := target.Scan(h)
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
//
// One pass over /proc: the process read once answers both questions.
func interestingPIDs() map[int]bool {
	h := host.New("/")
	pids := map[int]bool{os.Getpid(): true}
	all, _ := h.PIDs()
	for _, pid := range all {
		p, err := h.ReadProcess(pid)
		if err != nil {
			// Gone since the listing, or its status unreadable: nothing
			// of it to take.
			continue
		}
		if p.IsDPDK() || host.LooksLikeEAL(p.Cmdline) {
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

// Package collect makes gzdoctor's support bundle: a tar.gz laid out as a
// --root tree of the machine (what a live check read, and nothing else
// from /proc), plus the live outputs of check, elfcheck and version, the
// telemetry answers, recent logs and a manifest. `gzdoctor --root <tree>
// check` replays the check on it offline.
package collect

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/gzdoctor/gzdoctor/host"
)

// SchemaVersion is the manifest's schema version.
const SchemaVersion = 1

// MetaDir is the directory, at the top of the tree, that holds what is
// not a machine file: the manifest, the outputs, the logs.
const MetaDir = ".gzdoctor"

// Defaults for the size bounds.
const (
	DefaultMaxFile  = 4 << 20
	DefaultMaxBytes = 64 << 20
)

// Output is a file of MetaDir: a command's output or a log excerpt.
type Output struct {
	// Name is the path under MetaDir ("check.json", "logs/journal.txt").
	Name string `json:"file"`
	// Command is what produced it, when a command did.
	Command []string `json:"command,omitempty"`
	// Exit is the command's exit status.
	Exit int    `json:"exit"`
	Data []byte `json:"-"`
	// Note says what was cut or why it is empty.
	Note string `json:"note,omitempty"`
}

// Bundle is what Write puts in the tar.gz.
type Bundle struct {
	// Name is the tarball's top directory, the tree's root once unpacked.
	Name string
	// Recorder holds the paths and telemetry answers of the live runs.
	Recorder *Recorder
	// Extra are machine paths taken besides the recorded ones (configs).
	Extra   []string
	Outputs []Output
	// PIDs are the processes whose /proc files may be taken.
	PIDs map[int]bool
	// HugeMounts are the hugetlbfs mount points (no file content taken).
	HugeMounts []string
	// MaxFile bounds one file, MaxBytes the whole tree's file contents.
	MaxFile, MaxBytes int64
	// Binaries takes ELF files (executables, libraries) too.
	Binaries bool
	// NotReplayable names what a replay cannot reproduce.
	NotReplayable []NotReplayable
	// Manifest fields.
	Hostname, Version string
	Time              time.Time
	Command           []string
	Replay            string
}

// NotReplayable is a check whose replay offline differs from the live run,
// and why.
type NotReplayable struct {
	Check string `json:"check"`
	// Kind is "differs" (the replay gives another status) or
	// "not-compared" (the live run gave no verdict: it timed out).
	Kind string `json:"kind"`
	Why  string `json:"why"`
}

// Manifest is MetaDir/manifest.json: what the bundle holds and what it
// could not take.
type Manifest struct {
	SchemaVersion int             `json:"schema_version"`
	Name          string          `json:"name"`
	Hostname      string          `json:"hostname"`
	Time          time.Time       `json:"time"`
	Version       string          `json:"gzdoctor_version"`
	Command       []string        `json:"command"`
	Replay        string          `json:"replay"`
	Outputs       []Output        `json:"outputs"`
	Taken         []Taken         `json:"taken"`
	NotTaken      []NotTakenEntry `json:"not_taken"`
	// ProcessesLeftOut counts the processes whose /proc files a check
	// read (every process's cmdline is read to find EAL options) but that
	// are not DPDK's: never taken.
	ProcessesLeftOut int             `json:"processes_left_out"`
	NotReplayable    []NotReplayable `json:"not_replayable"`
	// Bytes is the tree's file content, before compression.
	Bytes int64 `json:"bytes"`
	// Telemetry lists the sockets whose answers were recorded.
	Telemetry []string `json:"telemetry"`
}

// Taken is one machine path in the tree.
type Taken struct {
	Path  string `json:"path"`
	Kind  string `json:"kind"` // dir, file, symlink, stand-in
	Bytes int    `json:"bytes,omitempty"`
}

// NotTakenEntry is a path a check read that the bundle does not hold in
// full, and why.
type NotTakenEntry struct {
	Path string `json:"path"`
	Why  string `json:"why"`
}

// Built is a bundle's tree and metadata, ready to be replayed
// (Materialize) and written (WriteTar).
type Built struct {
	b    Bundle
	tree *tree
	seen map[string]bool
}

// Build starts a bundle: it takes the extra paths, and the recorded ones
// so far, from the live machine. TakeRecorded takes what later runs read.
func Build(b Bundle) *Built {
	if b.MaxFile <= 0 {
		b.MaxFile = DefaultMaxFile
	}
	if b.MaxBytes <= 0 {
		b.MaxBytes = DefaultMaxBytes
	}
	bu := &Built{b: b, seen: map[string]bool{}, tree: newTree(b.MaxFile, b.MaxBytes, b.PIDs, b.HugeMounts, b.Binaries)}
	bu.take(b.Extra)
	bu.TakeRecorded()
	return bu
}

// TakeRecorded takes the paths the recorder has seen since the last call.
// Call it right after each run: the machine changes, and the tree should
// hold what that run saw, not what came seconds later.
func (bu *Built) TakeRecorded() {
	if bu.b.Recorder != nil {
		bu.take(bu.b.Recorder.Paths())
	}
}

// TakeLater takes what a later run read, except the machine-wide state the
// first run already read in full: the runtime dirs, the hugetlbfs mounts.
// Taking a primary that started since, with its hugepage files but
// without its lock (the first run's /proc/locks), would make a replay see
// a dead primary that never was.
func (bu *Built) TakeLater() {
	if bu.b.Recorder == nil {
		return
	}
	var keep []string
	for _, p := range bu.b.Recorder.Paths() {
		if !bu.seen[p] && !bu.machineWide(p) {
			keep = append(keep, p)
		}
	}
	bu.take(keep)
}

var runtimeBases = []string{"/var/run/dpdk", "/run/dpdk", "/tmp/dpdk", "/run/user"}

func (bu *Built) machineWide(p string) bool {
	for _, d := range append(append([]string{}, runtimeBases...), bu.tree.hugeMounts...) {
		if p == d || strings.HasPrefix(p, strings.TrimSuffix(d, "/")+"/") {
			return true
		}
	}
	return false
}

func (bu *Built) take(paths []string) {
	for _, p := range paths {
		if bu.seen[p] {
			continue
		}
		bu.seen[p] = true
		if strings.ContainsAny(p, "*?[") {
			// Globs the check expanded: take what they match now.
			matches, _ := globLive(p)
			for _, m := range matches {
				bu.tree.take(m)
			}
			continue
		}
		bu.tree.take(p)
	}
}

// SetPIDs replaces the processes whose /proc files may be taken: a
// primary that started since the last take is DPDK's too.
func (bu *Built) SetPIDs(pids map[int]bool) { bu.tree.pids = pids }

// AddOutput adds a file to MetaDir.
func (bu *Built) AddOutput(o Output) { bu.b.Outputs = append(bu.b.Outputs, o) }

// SetReplay sets the replay command the manifest and README give.
func (bu *Built) SetReplay(cmd string) { bu.b.Replay = cmd }

// SetNotReplayable records what a replay could not reproduce.
func (bu *Built) SetNotReplayable(n []NotReplayable) { bu.b.NotReplayable = n }

// Manifest describes the bundle as it stands.
func (bu *Built) Manifest() *Manifest {
	b, t := bu.b, bu.tree
	m := &Manifest{
		SchemaVersion: SchemaVersion, Name: b.Name, Hostname: b.Hostname, Time: b.Time.UTC(),
		Version: b.Version, Command: b.Command, Replay: b.Replay, Outputs: b.Outputs,
		ProcessesLeftOut: t.leftOutCount(), NotReplayable: b.NotReplayable, Bytes: t.bytes,
		Taken: []Taken{}, NotTaken: []NotTakenEntry{}, Telemetry: []string{},
	}
	if m.Outputs == nil {
		m.Outputs = []Output{}
	}
	if m.NotReplayable == nil {
		m.NotReplayable = []NotReplayable{}
	}
	for _, p := range t.sorted() {
		e := t.entries[p]
		k := e.kind
		if k == "file" && e.data == nil {
			k = "stand-in"
		}
		m.Taken = append(m.Taken, Taken{Path: p, Kind: k, Bytes: len(e.data)})
	}
	for p, why := range t.notTaken {
		m.NotTaken = append(m.NotTaken, NotTakenEntry{Path: p, Why: why})
	}
	sort.Slice(m.NotTaken, func(i, j int) bool { return m.NotTaken[i].Path < m.NotTaken[j].Path })
	if b.Recorder != nil {
		for p := range b.Recorder.Answers() {
			m.Telemetry = append(m.Telemetry, p)
		}
		sort.Strings(m.Telemetry)
	}
	return m
}

// meta returns the files that are not machine files, by tree path.
func (bu *Built) meta() (map[string][]byte, error) {
	meta := map[string][]byte{}
	if bu.b.Recorder != nil {
		tj, err := json.MarshalIndent(bu.b.Recorder.Answers(), "", "  ")
		if err != nil {
			return nil, err
		}
		meta[host.FixtureTelemetryFile] = append(tj, '\n')
	}
	meta[host.FixtureStatFile] = bu.tree.fixtureStat()
	for _, o := range bu.b.Outputs {
		meta[path.Join(MetaDir, o.Name)] = o.Data
	}
	mj, err := json.MarshalIndent(bu.Manifest(), "", "  ")
	if err != nil {
		return nil, err
	}
	meta[path.Join(MetaDir, "manifest.json")] = append(mj, '\n')
	meta[path.Join(MetaDir, "README")] = []byte(readme(bu.b))
	return meta, nil
}

// all merges the tree and the metadata, with the directories they need.
func (bu *Built) all() (map[string]*entry, []string, error) {
	meta, err := bu.meta()
	if err != nil {
		return nil, nil, err
	}
	all := map[string]*entry{}
	for p, e := range bu.tree.entries {
		all[p] = e
	}
	for p, data := range meta {
		for d := path.Dir("/" + p); d != "/"; d = path.Dir(d) {
			if _, ok := all[d]; !ok {
				all[d] = &entry{kind: "dir"}
			}
		}
		all["/"+p] = &entry{kind: "file", data: data}
	}
	keys := make([]string, 0, len(all))
	for p := range all {
		keys = append(keys, p)
	}
	// Sorted, a directory comes before what it holds.
	sort.Strings(keys)
	return all, keys, nil
}

// Materialize writes the tree into dir (which must exist), as unpacking
// the bundle would.
func (bu *Built) Materialize(dir string) error {
	all, keys, err := bu.all()
	if err != nil {
		return err
	}
	for _, p := range keys {
		e := all[p]
		n := path.Join(dir, p)
		switch e.kind {
		case "dir":
			err = os.MkdirAll(n, 0o755)
		case "symlink":
			err = os.Symlink(e.target, n)
		default:
			err = os.WriteFile(n, e.data, 0o644)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// WriteTar writes the bundle as tar.gz to w, the tree under Name/.
func (bu *Built) WriteTar(w io.Writer) error {
	all, keys, err := bu.all()
	if err != nil {
		return err
	}
	name, mtime := bu.b.Name, bu.b.Time
	zw := gzip.NewWriter(w)
	tw := tar.NewWriter(zw)
	hdr := func(h *tar.Header) error {
		h.ModTime = mtime
		h.Uname, h.Gname = "root", "root"
		h.Format = tar.FormatPAX
		return tw.WriteHeader(h)
	}
	if err := hdr(&tar.Header{Name: name + "/", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
		return err
	}
	for _, p := range keys {
		e := all[p]
		n := name + p
		var err error
		switch e.kind {
		case "dir":
			err = hdr(&tar.Header{Name: n + "/", Typeflag: tar.TypeDir, Mode: 0o755})
		case "symlink":
			err = hdr(&tar.Header{Name: n, Typeflag: tar.TypeSymlink, Linkname: e.target, Mode: 0o777})
		default:
			if err = hdr(&tar.Header{Name: n, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(e.data))}); err == nil {
				_, err = tw.Write(e.data)
			}
		}
		if err != nil {
			return fmt.Errorf("writing %s into the bundle: %w", n, err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

func readme(b Bundle) string {
	return fmt.Sprintf(`gzdoctor support bundle of %s, %s (gzdoctor %s)

This directory is laid out like the machine's /: what gzdoctor check read there
(runtime dirs, the DPDK processes' /proc files, sysfs, hugepage mounts with
empty stand-ins for hugepage files, Gazelle configs), owners and modes in
.fixture/stat, telemetry answers in .fixture/telemetry.json.

Replay the check offline:

  %s

.gzdoctor/manifest.json lists every file taken and what was not (and why);
.gzdoctor/check*.txt|json, elfcheck-*.json and version.json are the live outputs;
.gzdoctor/logs/ holds recent log lines about DPDK and Gazelle.
No packet data, no hugepage contents, no process memory; environments are cut
to the variables gzdoctor reads (%s).
`, b.Hostname, b.Time.UTC().Format(time.RFC3339), b.Version, b.Replay, strings.Join(host.ProcEnvKeys, ", "))
}

// HugetlbfsMounts reads the hugetlbfs mount points of the live machine.
func HugetlbfsMounts() []string {
	ms, err := host.New("/").Mounts()
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range ms {
		if m.FSType == "hugetlbfs" {
			out = append(out, m.Target)
		}
	}
	return out
}

package runbooks

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed catalogue/*.yaml
var embedded embed.FS

// Catalogue is the set of entries and signals, compiled for matching.
type Catalogue struct {
	Entries []*Entry
	Signals []*Signal

	byID     map[string]int // index into nodes
	nodes    []node
	patterns []*cpattern
	filter   *acFilter
}

// node is an entry or a signal: anything a condition can name.
type node struct {
	id     string
	entry  *Entry // nil for a signal
	signal *Signal
	// explains holds node indexes this node is the root of.
	explains []int
	// patterns holds the indexes of this node's patterns in c.patterns.
	patterns []int
}

// Load reads the embedded catalogue and every *.yaml file in extraDirs
// (gzdoctor's --runbooks). A local entry may not reuse an embedded ID: IDs
// keep one meaning.
func Load(extraDirs ...string) (*Catalogue, error) {
	var entries []Entry
	var signals []Signal
	es, ss, err := readFS(embedded, "catalogue", "")
	if err != nil {
		return nil, err
	}
	entries, signals = append(entries, es...), append(signals, ss...)
	for _, dir := range extraDirs {
		es, ss, err := readFS(os.DirFS(dir), ".", dir)
		if err != nil {
			return nil, err
		}
		entries, signals = append(entries, es...), append(signals, ss...)
	}
	return Compile(entries, signals)
}

// LoadDir reads only the files in dir, for `runbooks lint` on a
// contributor's directory.
func LoadDir(dir string) ([]Entry, []Signal, error) {
	return readFS(os.DirFS(dir), ".", dir)
}

// Embedded returns the raw entries and signals built into the binary.
func Embedded() ([]Entry, []Signal, error) {
	return readFS(embedded, "catalogue", "")
}

func readFS(fsys fs.FS, dir, label string) ([]Entry, []Signal, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.yaml"))
	if err != nil {
		return nil, nil, err
	}
	if len(names) == 0 && label != "" {
		if _, err := fs.Stat(fsys, dir); err != nil {
			return nil, nil, fmt.Errorf("reading runbooks %s: %w", label, err)
		}
	}
	sort.Strings(names)
	var entries []Entry
	var signals []Signal
	for _, n := range names {
		data, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, nil, fmt.Errorf("reading %s: %w", n, err)
		}
		shown := n
		if label != "" {
			shown = filepath.Join(label, path.Base(n))
		}
		var f file
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
			return nil, nil, fmt.Errorf("%s: %w", shown, err)
		}
		for i := range f.Entries {
			f.Entries[i].File = shown
		}
		for i := range f.Signals {
			f.Signals[i].File = shown
		}
		entries = append(entries, f.Entries...)
		signals = append(signals, f.Signals...)
	}
	return entries, signals, nil
}

// Compile validates entries and signals and builds the matcher tables. All
// problems are reported together, one per line.
func Compile(entries []Entry, signals []Signal) (*Catalogue, error) {
	c := &Catalogue{byID: map[string]int{}}
	var problems []string
	add := func(id, file string, n node) {
		if prev, ok := c.byID[id]; ok {
			problems = append(problems, fmt.Sprintf("%s: id %q already defined in %s", file, id, c.nodes[prev].file()))
			return
		}
		c.byID[id] = len(c.nodes)
		c.nodes = append(c.nodes, n)
	}
	for i := range entries {
		e := &entries[i]
		c.Entries = append(c.Entries, e)
		add(e.ID, e.File, node{id: e.ID, entry: e})
	}
	for i := range signals {
		s := &signals[i]
		c.Signals = append(c.Signals, s)
		add(s.ID, s.File, node{id: s.ID, signal: s})
	}
	facts := c.factNames()
	for i := range c.nodes {
		problems = append(problems, c.compileNode(i, facts)...)
	}
	if len(problems) > 0 {
		return nil, &SchemaError{Problems: problems}
	}
	for pi, p := range c.patterns {
		c.nodes[p.node].patterns = append(c.nodes[p.node].patterns, pi)
	}
	c.filter = buildFilter(c.patterns)
	return c, nil
}

// SchemaError lists everything wrong with a set of runbook files.
type SchemaError struct{ Problems []string }

func (e *SchemaError) Error() string {
	return "invalid runbooks:\n  " + strings.Join(e.Problems, "\n  ")
}

func (n node) file() string {
	if n.entry != nil {
		return n.entry.File
	}
	return n.signal.File
}

// Entry returns the entry with that ID, or nil.
func (c *Catalogue) Entry(id string) *Entry {
	if i, ok := c.byID[id]; ok {
		return c.nodes[i].entry
	}
	return nil
}

// Title returns the title of an entry or signal, or "".
func (c *Catalogue) Title(id string) string {
	if i, ok := c.byID[id]; ok {
		if e := c.nodes[i].entry; e != nil {
			return e.Title
		}
		return c.nodes[i].signal.Title
	}
	return ""
}

// Package runbooks holds the catalogue of known DPDK/Gazelle capture
// failures (YAML files embedded in the binary, plus local directories) and
// the matcher that turns a log into findings: which cause, which lines prove
// it, and how to fix it. `gzdoctor diagnose` uses it on pasted logs and the
// capture supervisor feeds it the backend's output line by line.
package runbooks

// Entry is one known cause. Its ID is an interface: once released it never
// changes meaning (docs/runbooks.md lists them).
type Entry struct {
	ID       string `yaml:"id" json:"id"`
	Ref      string `yaml:"ref,omitempty" json:"ref,omitempty"` // section in reference/eal-errors.md, e.g. A1
	Title    string `yaml:"title" json:"title"`
	Severity string `yaml:"severity" json:"severity"` // fatal, capture-fatal, warn, info
	Side     string `yaml:"side" json:"side"`         // secondary, primary, tool, either, any
	// Phase places the failure in DPDK's start-up order (§1.10); the
	// earliest phase is usually the root and later ones its fallout.
	Phase string `yaml:"phase" json:"phase"`
	// Benign entries classify lines that look alarming but are not causes.
	// They never produce a finding; the report lists their lines as harmless.
	Benign bool `yaml:"benign,omitempty" json:"benign,omitempty"`

	Patterns []Pattern `yaml:"patterns" json:"patterns"`
	// Evidence patterns add lines and values to a finding but never make
	// one on their own.
	Evidence []Pattern             `yaml:"evidence,omitempty" json:"evidence,omitempty"`
	Extract  map[string]Extraction `yaml:"extract,omitempty" json:"extract,omitempty"`
	Requires []Condition           `yaml:"requires,omitempty" json:"requires,omitempty"`
	Unless   []Condition           `yaml:"unless,omitempty" json:"unless,omitempty"`
	// Explains names causes this one produces as fallout; SymptomOf is the
	// same relation declared from the other side.
	Explains  []string `yaml:"explains,omitempty" json:"explains,omitempty"`
	SymptomOf []string `yaml:"symptom_of,omitempty" json:"symptom_of,omitempty"`

	Cause        string        `yaml:"cause" json:"cause"`
	Fix          []Step        `yaml:"fix" json:"fix"`
	Checks       []string      `yaml:"checks,omitempty" json:"checks,omitempty"`
	Alternatives []Alternative `yaml:"alternatives,omitempty" json:"alternatives,omitempty"`
	References   []string      `yaml:"references,omitempty" json:"references,omitempty"`
	Versions     string        `yaml:"versions,omitempty" json:"versions,omitempty"`

	// File is where the entry was read from (embedded path or local file).
	File string `yaml:"-" json:"file"`
}

// Signal is a named pattern that is not a cause but that conditions refer
// to: the primary's own mp_socket line, a pdump request failure, an exit
// cause. Signals share the ID namespace with entries.
type Signal struct {
	ID       string    `yaml:"id" json:"id"`
	Title    string    `yaml:"title" json:"title"`
	Patterns []Pattern `yaml:"patterns" json:"patterns"`
	// Facts: the values this signal's lines carry are facts of the whole
	// log (the file prefix, the runtime dir, the capture target), offered to
	// every finding whose entry asks for them with `fact: true`.
	Facts bool `yaml:"facts,omitempty" json:"facts,omitempty"`
	// Extract normalises the facts (same normalizers as an entry's).
	Extract map[string]Extraction `yaml:"extract,omitempty" json:"extract,omitempty"`
	File    string                `yaml:"-" json:"file"`
}

// Pattern is one wording of a message. Regex is Go RE2 syntax, matched
// against the normalised message (wrappers, timestamps and the
// `EAL:`/`fn():` prefixes removed); named groups become extracted values.
type Pattern struct {
	Regex string `yaml:"regex" json:"regex"`
	// Keyword is the literal the pre-filter looks for; when empty the
	// longest literal the regex cannot match without is used.
	Keyword    string      `yaml:"keyword,omitempty" json:"keyword,omitempty"`
	Versions   string      `yaml:"versions,omitempty" json:"versions,omitempty"`
	Confidence string      `yaml:"confidence,omitempty" json:"confidence,omitempty"` // high (default), medium, low
	Requires   []Condition `yaml:"requires,omitempty" json:"requires,omitempty"`
	Unless     []Condition `yaml:"unless,omitempty" json:"unless,omitempty"`
}

// Condition holds when some hit of any of the named entries or signals
// exists; Where restricts it to hits before or after this one, Within to a
// distance in lines, Differs to hits whose extracted value of that name is
// not this hit's (two prefixes in one paste), Same to hits whose value is
// (the device not driven is the one being captured).
type Condition struct {
	Any     []string `yaml:"any" json:"any"`
	Where   string   `yaml:"where,omitempty" json:"where,omitempty"` // "", before, after
	Within  int      `yaml:"within,omitempty" json:"within,omitempty"`
	Differs string   `yaml:"differs,omitempty" json:"differs,omitempty"`
	Same    string   `yaml:"same,omitempty" json:"same,omitempty"`
}

// Extraction describes a value taken from the named regex groups.
type Extraction struct {
	// Normalize: errno (-22, 22, "Invalid argument" → EINVAL), prefix,
	// device, or empty for the text as matched.
	Normalize string `yaml:"normalize,omitempty" json:"normalize,omitempty"`
	// Default is used in the fix when the log did not carry the value
	// and the value has a real default (DPDK's prefix rte).
	Default string `yaml:"default,omitempty" json:"default,omitempty"`
	// Unknown is what the cause and fix say when the log carried no value
	// and there is no default, in the reader's words ("<your prefix>").
	// Without it the value is empty, and a template may only use it inside
	// {{if .name}} (checked at load).
	Unknown string `yaml:"unknown,omitempty" json:"unknown,omitempty"`
	// Fact names a fact of the whole log (a value of a signal with
	// facts: true: prefix, runtime_dir, device_id) to use when the entry's
	// own lines do not carry the value and the log names exactly one.
	Fact string `yaml:"fact,omitempty" json:"fact,omitempty"`
}

// Step is one fix step: words, and a command when one fits. Both may use
// {{.name}} placeholders filled from extracted values.
type Step struct {
	Text    string `yaml:"text" json:"text"`
	Command string `yaml:"command,omitempty" json:"command,omitempty"`
	// When names a fact of the machine the step needs: prefix-dead (no
	// process has the prefix's runtime dir open) for a step that removes
	// it. Without live facts the step is printed, its command guarded by
	// itself; with them (diagnose --live) a step whose fact is false is
	// left out.
	When string `yaml:"when,omitempty" json:"when,omitempty"`
}

// Alternative is another cause the same lines could mean, and what tells
// the two apart.
type Alternative struct {
	ID   string `yaml:"id" json:"id"`
	Tell string `yaml:"tell" json:"tell"`
}

// file is the shape of one YAML file: entries, signals, or both.
type file struct {
	Entries []Entry  `yaml:"entries"`
	Signals []Signal `yaml:"signals"`
}

// Severities, sides, phases and confidences the schema accepts.
var (
	severities  = []string{"fatal", "capture-fatal", "warn", "info"}
	sides       = []string{"secondary", "primary", "tool", "either", "any"}
	confidences = []string{"high", "medium", "low"}
	// phases in DPDK's start-up order; earlier is more likely the root.
	phases = []string{
		"args", "config", "version", "mp", "bus-scan", "hugepage-info", "vfio",
		"memory", "tailq", "service", "probe", "tool", "runtime", "wrapper",
	}
	normalizers = []string{"", "errno", "prefix", "device", "path", "port"}
	// stepFacts are the facts a fix step may need (Step.When).
	stepFacts = []string{"prefix-dead"}
)

func phaseRank(p string) int {
	for i, q := range phases {
		if q == p {
			return i
		}
	}
	return len(phases)
}

func confidenceRank(c string) int {
	switch c {
	case "high", "":
		return 3
	case "medium":
		return 2
	case "low":
		return 1
	}
	return 0
}

package runbooks

import (
	"context"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestRenderedTextFilled diagnoses every sample of the corpus and reads
// what each finding prints. The rule (docs/runbooks.md, "Placeholders"):
//   - no cause or fix step keeps template syntax ({{…}});
//   - no cause or fix step shows a value's raw name (<prefix>, <arg>): a
//     value the log did not carry is left out of the sentence or shown as
//     the entry's unknown text, which speaks to the reader (<your prefix>);
//   - a fix step asks for the reader's prefix or device only when the log
//     does not name exactly one: this test finds them on its own, by a
//     plain scan of the log, not through the catalogue's patterns.
func TestRenderedTextFilled(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, s := range loadCorpus(t) {
		r, err := c.Diagnose(context.Background(), bytesReader(s.Body))
		if err != nil {
			t.Fatal(err)
		}
		name, _ := filepath.Rel(corpusDir, s.Path)
		prefix, device := scanPrefix(string(s.Body)), scanDeviceID(string(s.Body))
		for _, f := range r.Findings {
			e := c.Entry(f.ID)
			texts := []string{f.Cause}
			for _, st := range f.Fix {
				texts = append(texts, st.Text, st.Command)
			}
			for i, text := range texts {
				checked++
				if strings.Contains(text, "{{") || strings.Contains(text, "}}") {
					t.Errorf("%s: %s: template left in %q", name, f.ID, text)
				}
				for k := range e.Extract {
					if strings.Contains(text, "<"+k+">") {
						t.Errorf("%s: %s: raw placeholder <%s> in %q", name, f.ID, k, text)
					}
				}
				if i == 0 {
					continue // the cause may describe names in general (<prefix>map_N)
				}
				if prefix != "" && (strings.Contains(text, "<prefix>") || strings.Contains(text, "<your prefix>")) {
					t.Errorf("%s: %s: the log names prefix %q, the fix asks for it: %q", name, f.ID, prefix, text)
				}
				if device != "" && (strings.Contains(text, "<device>") || strings.Contains(text, "<your device>")) {
					t.Errorf("%s: %s: the log names device_id=%s, the fix asks for it: %q", name, f.ID, device, text)
				}
				// Every gzdoctor command aims at the log's primary.
				if prefix != "" && i%2 == 0 && (strings.HasPrefix(text, "gzdoctor check ") || strings.HasPrefix(text, "gzdoctor capture ")) && !strings.Contains(text, " --prefix ") {
					t.Errorf("%s: %s: the log names prefix %q, the command does not target it: %q", name, f.ID, prefix, text)
				}
			}
			if prefix != "" && f.Confirm != "" && !strings.Contains(f.Confirm, " --prefix ") {
				t.Errorf("%s: %s: the log names prefix %q, confirm does not target it: %q", name, f.ID, prefix, f.Confirm)
			}
		}
	}
	if checked < 200 {
		t.Errorf("only %d texts checked", checked)
	}
}

// TestRenderedTextFilledFromContext: what the operator told gzdoctor
// (--prefix, the capture's device) and what this machine has (only
// dpdk-pdump) fill every fix of every sample. No fix asks for the prefix
// or the device, every gzdoctor command targets the prefix, no command
// runs a pdump that is not installed, and a command that removes
// something guards itself and is marked for --live to gate.
func TestRenderedTextFilledFromContext(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	ctx := Context{Prefix: "ctxpfx", Device: "ctxdev", RuntimeDir: "/var/run/dpdk/ctxpfx", LookPath: func(name string) bool { return name == "dpdk-pdump" }}
	asks := []string{"<your prefix>", "<primary's prefix>", "<the primary's prefix>", "<prefix>", "<your device>", "<device>", "'…'", "'…,"}
	checked := 0
	for _, s := range loadCorpus(t) {
		m := c.NewMatcher()
		m.SetContext(ctx)
		m.SetSource("")
		if err := m.ReadFrom(context.Background(), bytesReader(s.Body)); err != nil {
			t.Fatal(err)
		}
		name, _ := filepath.Rel(corpusDir, s.Path)
		for _, f := range m.Findings() {
			if f.Confirm != "" && !strings.Contains(f.Confirm, "--prefix ctxpfx ") {
				t.Errorf("%s: %s: confirm does not target ctxpfx: %q", name, f.ID, f.Confirm)
			}
			for _, st := range f.Fix {
				for _, cmd := range strings.Split(st.Command, "\n") {
					if cmd == "" {
						continue
					}
					checked++
					for _, a := range asks {
						if strings.Contains(cmd, a) {
							t.Errorf("%s: %s: %s asked although the operator named it: %q", name, f.ID, a, cmd)
						}
					}
					if (strings.HasPrefix(cmd, "gzdoctor check ") || strings.HasPrefix(cmd, "gzdoctor capture ")) && !strings.Contains(cmd, " --prefix ctxpfx") {
						t.Errorf("%s: %s: gzdoctor command without --prefix ctxpfx: %q", name, f.ID, cmd)
					}
					if regexp.MustCompile(`(^|[ (])gazelle-pdump\b`).MatchString(cmd) {
						t.Errorf("%s: %s: runs gazelle-pdump, which this machine lacks: %q", name, f.ID, cmd)
					}
					if regexp.MustCompile(`\brm (-\w+ )*`).MatchString(cmd) && (st.When == "" || !strings.Contains(cmd, "fuser -s")) {
						t.Errorf("%s: %s: removes without a guard or a when: %q", name, f.ID, cmd)
					}
				}
			}
		}
	}
	if checked < 100 {
		t.Errorf("only %d commands checked", checked)
	}
}

// scanPrefix returns the file prefix the log names, when it names exactly
// one: a runtime dir (/var/run/dpdk/P, /run/user/N/dpdk/P, /tmp/dpdk/P)
// or an echoed --file-prefix P / --file-prefix=P.
func scanPrefix(log string) string {
	var seen []string
	add := func(p string) {
		p = strings.Trim(p, `'")`)
		if p != "" && !slices.Contains(seen, p) {
			seen = append(seen, p)
		}
	}
	for _, line := range strings.Split(log, "\n") {
		if strings.HasPrefix(line, "# ") {
			continue // sample headers
		}
		for rest := line; ; {
			i := strings.Index(rest, "/dpdk/")
			if i < 0 {
				break
			}
			base := rest[:i]
			rest = rest[i+len("/dpdk/"):]
			if !(strings.HasSuffix(base, "/var/run") || strings.HasSuffix(base, "/tmp") || strings.HasSuffix(base, "/run") ||
				regexp.MustCompile(`/run/user/\d+$`).MatchString(base)) {
				continue
			}
			end := strings.IndexAny(rest, "/ '\"")
			if end < 0 {
				end = len(rest)
			}
			add(rest[:end])
		}
		fields := strings.Fields(line)
		for i, w := range fields {
			w = strings.Trim(w, `'"`)
			if v, ok := strings.CutPrefix(w, "--file-prefix="); ok {
				add(v)
			}
			if w == "--file-prefix" && i+2 < len(fields) && strings.HasPrefix(fields[i+2], "-") {
				add(fields[i+1])
			}
		}
	}
	if len(seen) == 1 {
		return seen[0]
	}
	return ""
}

// scanDeviceID returns the device_id= the log names, when it names one.
func scanDeviceID(log string) string {
	var seen []string
	for _, line := range strings.Split(log, "\n") {
		if strings.HasPrefix(line, "# ") {
			continue
		}
		for rest := line; ; {
			i := strings.Index(rest, "device_id=")
			if i < 0 {
				break
			}
			rest = rest[i+len("device_id="):]
			end := strings.IndexAny(rest, ", '\"")
			if end < 0 {
				end = len(rest)
			}
			if d := rest[:end]; d != "" && !slices.Contains(seen, d) {
				seen = append(seen, d)
			}
		}
	}
	if len(seen) == 1 {
		return seen[0]
	}
	return ""
}

// TestFindingValues pins what the first finding of real samples says about
// the device and the prefix. The lab logs of a wrong device_id, a wrong
// queue and a PCI address the primary lacks are the same lines in the tool
// (lab/README.md): the probed NIC 0000:00:03.0 stays probed_device, and only
// a line naming the capture target makes a device_id. "-" means absent.
func TestFindingValues(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		sample string
		id     string
		values map[string]string
		cause  []string // substrings of the rendered cause
		fix    []string // substrings of some fix command
	}{
		{"lab/device-mismatch-vdev-pdump.log", "pdump-device-not-in-primary",
			map[string]string{"device_id": "-", "probed_device": "0000:00:03.0", "prefix": "gzrec"},
			[]string{"does not show which device", "also probed 0000:00:03.0"},
			[]string{"--file-prefix gzrec "}},
		{"lab/device-mismatch-pci-pdump.log", "pdump-device-not-in-primary",
			map[string]string{"device_id": "-", "probed_device": "0000:00:03.0", "prefix": "gzrec"},
			[]string{"if you asked for that device"}, []string{"--file-prefix gzrec "}},
		{"lab/device-mismatch-pci-dumpcap.log", "pdump-device-not-in-primary",
			map[string]string{"device_id": "0000:00:03.0", "probed_device": "0000:00:03.0", "prefix": "-"},
			[]string{"no port called 0000:00:03.0"}, []string{"--file-prefix <your prefix> "}},
		{"local-2211/22.11-dumpcap-bad-interface-name.log", "pdump-device-not-in-primary",
			map[string]string{"device_id": "net_bogus", "probed_device": "0000:00:03.0"},
			[]string{"no port called net_bogus", "also probed 0000:00:03.0"}, nil},
		{"local-2211/22.11-pdump-device-mismatch.log", "pdump-device-not-in-primary",
			map[string]string{"device_id": "-", "probed_device": "0000:00:03.0", "prefix": "gzrec22768"},
			[]string{"does not show which device"}, []string{"--file-prefix gzrec22768 "}},
		{"local-2211/22.11-pdump-queue-invalid.log", "pdump-device-not-in-primary",
			map[string]string{"device_id": "-", "probed_device": "0000:00:03.0", "prefix": "rb6"},
			[]string{"queue= past the port's queues"}, []string{"--file-prefix rb6 "}},
		{"public/01-gazelle-pdump-device-id-mismatch.log", "pdump-device-not-in-primary",
			map[string]string{"device_id": "-", "probed_device": "0000:02:08.0", "prefix": "-"},
			[]string{"Gazelle's documented case"}, []string{"--file-prefix <your prefix> "}},
		{"lab/healthy-primary.log", "pdump-device-not-in-primary",
			map[string]string{"device_id": "net_null0", "probed_device": "-"},
			[]string{"no port called net_null0"}, nil},
		{"synthetic/device-not-probed-by-primary-19.11-with-command.log", "pdump-device-not-in-primary",
			map[string]string{"device_id": "0000:02:08.0", "probed_device": "0000:02:08.0"},
			[]string{"no port called 0000:02:08.0"}, nil},
		{"local-2211/22.11-pdump-args-before-dashes.log", "pdump-bad-args",
			map[string]string{"arg": "-", "prefix": "-"},
			[]string{"rejected its arguments. "}, nil},
		{"synthetic/dumpcap-no-file-prefix-21.11.log", "dumpcap-no-file-prefix",
			map[string]string{"prefix": "gazelle"}, nil, []string{"--file-prefix gazelle "}},
		{"lab/stale-prefix-pdump.log", "mp-primary-unreachable",
			map[string]string{"path": "/var/run/dpdk/gzrec_stale", "prefix": "gzrec_stale"},
			nil, []string{"rm -r '/var/run/dpdk/gzrec_stale'"}},
	}
	byName := map[string]*Sample{}
	for _, s := range loadCorpus(t) {
		name, _ := filepath.Rel(corpusDir, s.Path)
		byName[name] = s
	}
	for _, tt := range tests {
		s := byName[tt.sample]
		if s == nil {
			t.Errorf("%s: not in the corpus", tt.sample)
			continue
		}
		r, err := c.Diagnose(context.Background(), bytesReader(s.Body))
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Findings) == 0 || r.Findings[0].ID != tt.id {
			t.Errorf("%s: findings %v, want %s first", tt.sample, ids(r.Findings), tt.id)
			continue
		}
		f := r.Findings[0]
		for k, want := range tt.values {
			got, ok := f.Values[k]
			if want == "-" && ok || want != "-" && got != want {
				t.Errorf("%s: %s = %q, want %q (values %v)", tt.sample, k, got, want, f.Values)
			}
		}
		for _, want := range tt.cause {
			if !strings.Contains(f.Cause, want) {
				t.Errorf("%s: cause lacks %q: %q", tt.sample, want, f.Cause)
			}
		}
		for _, want := range tt.fix {
			if !slices.ContainsFunc(f.Fix, func(st Step) bool { return strings.Contains(st.Command, want) }) {
				t.Errorf("%s: no fix command with %q: %+v", tt.sample, want, f.Fix)
			}
		}
	}
}

// A value that not every pattern carries, with neither default nor unknown
// text, may be printed only under {{if}}: otherwise a log without it
// leaves a hole in the sentence.
func TestCheckTemplateGuards(t *testing.T) {
	extract := map[string]Extraction{"arg": {}, "prefix": {Unknown: "<your prefix>"}, "socket": {Default: "0"}}
	tests := []struct {
		text   string
		always []string
		ok     bool
	}{
		{"rejected ({{.arg}})", nil, false},
		{"rejected{{if .arg}} ({{.arg}}){{end}}", nil, true},
		{"rejected{{if and .arg .prefix}} ({{.arg}}){{end}}", nil, true},
		{"rejected{{if eq .prefix \"x\"}} ({{.arg}}){{end}}", nil, false},
		{"rejected{{if .arg}}{{else}} ({{.arg}}){{end}}", nil, false},
		{"rejected ({{.arg}})", []string{"arg"}, true},
		{"--file-prefix {{.prefix}} on node{{.socket}}", nil, true},
		{"{{.nope}}", nil, false},
	}
	for _, tt := range tests {
		err := checkTemplate(tt.text, extract, tt.always)
		if (err == nil) != tt.ok {
			t.Errorf("%q (always %v): err %v, want ok=%v", tt.text, tt.always, err, tt.ok)
		}
	}
}

// TestFixCommandsHaveNoPlaceholders: a fix command is the next command to
// type. Its values come from the log, the context or the live machine; a
// value none of them may give is an entry's unknown text, which speaks to
// the reader (<your prefix>). A placeholder written into the command
// itself (<driver>, <bdf>, <core on the primary's node>) could never be
// filled: the step's text says how to find the value instead.
func TestFixCommandsHaveNoPlaceholders(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	tmpl := regexp.MustCompile(`\{\{.*?\}\}`)
	raw := regexp.MustCompile(`<[A-Za-z][^<>]*>`)
	for _, n := range c.nodes {
		e := n.entry
		if e == nil {
			continue
		}
		for i, st := range e.Fix {
			if m := raw.FindString(tmpl.ReplaceAllString(st.Command, "")); m != "" {
				t.Errorf("%s fix step %d: command holds %s: %s", e.ID, i+1, m, st.Command)
			}
		}
	}
}

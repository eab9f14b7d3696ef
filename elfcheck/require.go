package elfcheck

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// Requirement is one item of --require.
type Requirement struct {
	Name  string `json:"name"`            // pcap-pmd, pdump, dpdk, deps
	Value string `json:"value,omitempty"` // for dpdk=22.11
}

func (r Requirement) String() string {
	if r.Value != "" {
		return r.Name + "=" + r.Value
	}
	return r.Name
}

// RequirementResult is whether one file meets one requirement.
type RequirementResult struct {
	File        string `json:"file"`
	Requirement string `json:"requirement"`
	Met         bool   `json:"met"`
	Reason      string `json:"reason"`
}

// ParseRequirements parses "pcap-pmd,pdump,dpdk=22.11,deps".
func ParseRequirements(s string) ([]Requirement, error) {
	var out []Requirement
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, val, _ := strings.Cut(item, "=")
		switch name {
		case "pcap-pmd", "pdump", "deps":
			if val != "" {
				return nil, fmt.Errorf("requirement %q takes no value", name)
			}
		case "dpdk":
			if val == "" || strings.Trim(val, "0123456789.") != "" {
				return nil, fmt.Errorf("requirement dpdk needs a version, like dpdk=22.11 or dpdk=22.11.3")
			}
		default:
			return nil, fmt.Errorf("unknown requirement %q (known: pcap-pmd, pdump, dpdk=VERSION, deps)", name)
		}
		out = append(out, Requirement{Name: name, Value: val})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no requirement given")
	}
	return out, nil
}

// Check evaluates each requirement against the report.
func (r *Report) Check(reqs []Requirement) []RequirementResult {
	out := make([]RequirementResult, 0, len(reqs))
	d := &r.DPDK
	for _, q := range reqs {
		res := RequirementResult{File: r.Path, Requirement: q.String()}
		switch q.Name {
		case "pcap-pmd":
			res.Met = d.PcapPMD.Reachable
			if res.Met {
				res.Reason = "pcap PMD reachable via " + strings.Join(d.PcapPMD.Via, ", ") + ": " + strings.Join(d.PcapPMD.Where, ", ")
			} else {
				res.Reason = "pcap PMD not reachable: " + d.PcapPMD.Detail
			}
		case "pdump":
			switch {
			case d.Pdump.Referenced && d.Pdump.Defined:
				res.Met, res.Reason = true, "rte_pdump_init referenced and defined in "+strings.Join(d.Pdump.DefinedIn, ", ")
			case d.Pdump.Referenced:
				res.Reason = "rte_pdump_init referenced but no library in the tree defines it (librte_pdump missing)"
			case d.Pdump.Defined && d.Linkage != "shared":
				res.Met, res.Reason = true, "rte_pdump_init linked in statically ("+strings.Join(d.Pdump.DefinedIn, ", ")+")"
			case d.Pdump.Defined:
				res.Reason = "librte_pdump is loaded but nothing calls rte_pdump_init"
			default:
				res.Reason = "rte_pdump_init is neither referenced nor defined"
			}
		case "dpdk":
			have := d.Version
			switch {
			case have == "":
				res.Reason = "no DPDK version found"
			case have == q.Value || strings.HasPrefix(have, q.Value+"."):
				res.Met, res.Reason = true, "DPDK "+have
			case strings.Count(have, ".") == 1 && strings.HasPrefix(q.Value, have+"."):
				res.Reason = fmt.Sprintf("DPDK %s found, patch level unknown (need %s)", have, q.Value)
			default:
				res.Reason = fmt.Sprintf("DPDK %s, need %s", have, q.Value)
			}
		case "deps":
			res.Met = len(r.Missing) == 0 && !hasProblem(r, ProblemNoNeeded)
			if res.Met {
				res.Reason = fmt.Sprintf("%d libraries resolved", len(r.Libraries))
			} else {
				var names []string
				for _, m := range r.Missing {
					names = append(names, m.Name)
				}
				if hasProblem(r, ProblemNoNeeded) {
					names = append(names, "(no DT_NEEDED entries)")
				}
				res.Reason = "missing: " + strings.Join(names, ", ")
			}
		}
		out = append(out, res)
	}
	return out
}

func hasProblem(r *Report, id string) bool {
	for _, p := range r.Problems {
		if p.ID == id {
			return true
		}
	}
	return false
}

// WriteJUnit writes the results as JUnit XML: one test suite per file,
// one test case per requirement, so CI servers list each.
func WriteJUnit(w io.Writer, results []RequirementResult) error {
	type failure struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	}
	type testcase struct {
		Name      string   `xml:"name,attr"`
		Classname string   `xml:"classname,attr"`
		Failure   *failure `xml:"failure,omitempty"`
		SystemOut string   `xml:"system-out,omitempty"`
	}
	type suite struct {
		Name     string     `xml:"name,attr"`
		Tests    int        `xml:"tests,attr"`
		Failures int        `xml:"failures,attr"`
		Cases    []testcase `xml:"testcase"`
	}
	type suites struct {
		XMLName xml.Name `xml:"testsuites"`
		Suites  []*suite `xml:"testsuite"`
	}
	var doc suites
	byFile := map[string]*suite{}
	for _, r := range results {
		s := byFile[r.File]
		if s == nil {
			s = &suite{Name: "gzdoctor elfcheck " + r.File}
			byFile[r.File] = s
			doc.Suites = append(doc.Suites, s)
		}
		tc := testcase{Name: r.Requirement, Classname: "elfcheck." + r.File}
		if r.Met {
			tc.SystemOut = r.Reason
		} else {
			tc.Failure = &failure{Message: r.Reason, Text: r.Reason}
			s.Failures++
		}
		s.Tests++
		s.Cases = append(s.Cases, tc)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

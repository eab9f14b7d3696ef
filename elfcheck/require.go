package elfcheck

import (
	"fmt"
	"strings"
	"time"

	"github.com/gzdoctor/gzdoctor/internal/junit"
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
	// Fix says what makes an unmet requirement met; omitted when met.
	Fix string `json:"fix,omitempty"`
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
				res.Reason = "pcap PMD reachable via " + joinVia(d.PcapPMD.Via) + ": " + strings.Join(d.PcapPMD.Where, ", ")
			} else {
				res.Reason = "pcap PMD not reachable: " + d.PcapPMD.Detail
				res.Fix = "link librte_net_pcap with the file (-lrte_net_pcap inside -Wl,--no-as-needed … -Wl,--as-needed), or have the EAL load it: -d librte_net_pcap.so in its EAL arguments (lstack.conf dpdk_args, ltran.conf forward_kit_args); a DPDK built without the pcap PMD needs a rebuild with it (gzdoctor specpatch)"
			}
		case "pdump":
			switch {
			case d.Pdump.Referenced && d.Pdump.Defined:
				res.Met, res.Reason = true, "rte_pdump_init referenced and defined in "+strings.Join(d.Pdump.DefinedIn, ", ")
			case d.Pdump.Referenced:
				res.Reason = "rte_pdump_init referenced but no library in the tree defines it (librte_pdump missing)"
				res.Fix = "install the DPDK package that ships librte_pdump, or build DPDK with the pdump library (gzdoctor specpatch)"
			case d.Pdump.Defined && d.Linkage != LinkageShared:
				res.Met, res.Reason = true, "rte_pdump_init linked in statically ("+strings.Join(d.Pdump.DefinedIn, ", ")+")"
			case d.Pdump.Defined:
				res.Reason = "librte_pdump is loaded but nothing calls rte_pdump_init"
				res.Fix = "the primary must call rte_pdump_init() after rte_eal_init(): upgrade Gazelle (lstack since 2022-11, ltran since 2022-12) or add the call"
			default:
				res.Reason = "rte_pdump_init is neither referenced nor defined"
				res.Fix = "the primary must call rte_pdump_init() after rte_eal_init() and link -lrte_pdump: upgrade Gazelle (lstack since 2022-11, ltran since 2022-12) or add the call"
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
			if !res.Met {
				res.Fix = fmt.Sprintf("build the file against DPDK %s", q.Value)
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
				res.Fix = "install the missing libraries, or name their directory with --ld-library-path (as the loader's LD_LIBRARY_PATH or ld.so.conf would at run time)"
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

// JUnit is the results as JUnit test suites (internal/junit): one suite
// per file, one test case per requirement, an unmet one a failure whose
// body is its fix.
func JUnit(host string, started time.Time, results []RequirementResult) []junit.Suite {
	var out []junit.Suite
	byFile := map[string]int{}
	for _, r := range results {
		i, ok := byFile[r.File]
		if !ok {
			i = len(out)
			byFile[r.File] = i
			out = append(out, junit.Suite{Name: "gzdoctor elfcheck " + r.File, Host: host, Timestamp: started})
		}
		c := junit.Case{Name: r.Requirement, Classname: junit.Classname(host, "elfcheck", r.File)}
		if r.Met {
			c.Body = r.Reason
		} else {
			c.Failure, c.Body = r.Reason, r.Fix
		}
		out[i].Cases = append(out[i].Cases, c)
	}
	return out
}

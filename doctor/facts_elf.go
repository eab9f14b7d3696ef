package doctor

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path"
	"strings"

	"github.com/gzdoctor/gzdoctor/elfcheck"
	"github.com/gzdoctor/gzdoctor/host"
)

// elfFacts are what the primary's and the capture tool's ELF files say,
// read once per run (without executing anything).
type elfFacts struct {
	primary    *elfcheck.Report
	primaryErr error
	tool       *elfcheck.Report
	toolErr    error
	toolPath   string
}

// captureTools are the tools gzdoctor looks for on PATH, in this order.
var captureTools = []string{"gazelle-pdump", "dpdk-pdump", "dpdk-dumpcap"}

// extraToolDirs are searched after PATH: openEuler installs its DPDK tools
// in /usr/local/bin, which sudo's secure_path may leave out.
var extraToolDirs = []string{"/usr/local/bin", "/usr/bin", "/usr/sbin"}

// errNoCaptureTool: the capture tool is not there at all, so a capture
// cannot start (capture refuses the same --pdump-bin, or finds none).
var errNoCaptureTool = errors.New("no capture tool")

// CaptureTool finds the capture tool: --pdump-bin, else the first of
// gazelle-pdump, dpdk-pdump, dpdk-dumpcap on the capture user's PATH.
func (e *Env) CaptureTool() (string, error) {
	if e.cfg.PdumpBin != "" {
		p := e.cfg.PdumpBin
		if !strings.Contains(p, "/") {
			if found := e.lookPath(p); found != "" {
				return found, nil
			}
			return "", fmt.Errorf("--pdump-bin %s: not found on PATH: %w", p, errNoCaptureTool)
		}
		return p, nil
	}
	for _, name := range captureTools {
		if found := e.lookPath(name); found != "" {
			return found, nil
		}
	}
	return "", fmt.Errorf("no capture tool found: none of %s on PATH or in %s (give --pdump-bin): %w", strings.Join(captureTools, ", "), strings.Join(extraToolDirs, ", "), errNoCaptureTool)
}

// lookPath finds a program on the machine being examined: on the
// capture user's PATH, then in extraToolDirs; under --root in the tree.
// check's capture tool and diagnose's fix commands both ask it, so they
// cannot disagree about which tools are installed.
func (e *Env) lookPath(name string) string {
	dirs := strings.Split(e.getenv("PATH"), ":")
	dirs = append(dirs, extraToolDirs...)
	for _, d := range dirs {
		if d == "" || !path.IsAbs(d) {
			continue
		}
		p := path.Join(d, name)
		if st, err := e.h.Stat(p); err == nil && (st.Type == "file" || st.Type == "symlink") {
			if e.h.Live() {
				if _, err := exec.LookPath(p); err != nil {
					continue // not executable
				}
			}
			return p
		}
	}
	return ""
}

// installed says whether lookPath finds name (runbooks.Context.LookPath).
func (e *Env) installed(name string) bool { return e.lookPath(name) != "" }

// elf analyses the primary's executable and the capture tool.
func (e *Env) elf(ctx context.Context) (*elfFacts, error) {
	return e.elfs.await(ctx, "the ELF analysis of the primary and the capture tool", func() (*elfFacts, error) {
		ctx, cancel := e.factContext(ctx)
		defer cancel()
		f := &elfFacts{}
		p, err := e.Primary(ctx)
		switch {
		case err != nil:
			f.primaryErr = err
		case p == nil:
			f.primaryErr = errors.New("no live primary")
		case p.Exe == "":
			f.primaryErr = fmt.Errorf("the executable of pid %d is not readable", p.PID)
		default:
			// The process's maps, not the executable's DT_NEEDED tree: an
			// LD_PRELOADed liblstack.so and dlopen()ed drivers count too.
			opts := elfcheck.Options{Root: e.h.Root, Recorder: e.h.Recorder}
			if a, _ := e.PrimaryEAL(ctx, p); a != nil {
				opts.EALArgs = a.Argv // their -d options load drivers
			}
			f.primary, f.primaryErr = elfcheck.AnalyzePID(ctx, p.PID, opts)
		}
		f.toolPath, f.toolErr = e.CaptureTool()
		if f.toolErr == nil {
			f.tool, f.toolErr = elfcheck.Analyze(ctx, f.toolPath, elfcheck.Options{Root: e.h.Root, Recorder: e.h.Recorder})
		}
		if f.toolErr == nil && f.tool != nil {
			// The tool's table measured, not predicted: on 24.11 the
			// prediction was wrong both ways (docs/releases.md).
			if err := elfcheck.MeasureOps(ctx, f.tool, elfcheck.Options{Root: e.h.Root}); err != nil {
				f.tool.DPDK.OpsTableNote = "predicted, not measured: " + err.Error()
			}
		}
		return f, nil
	})
}

// PcapEvidence reads the primary's binaries for the pcap PMD.
func (e *Env) PcapEvidence(ctx context.Context, p *host.Process) (PcapEvidence, error) {
	var ev PcapEvidence
	f, err := e.elf(ctx)
	if err != nil {
		return ev, err
	}
	if f.primaryErr != nil {
		return ev, f.primaryErr
	}
	d := f.primary.DPDK
	ev.Inspected = true
	ev.PluginDir = d.PluginDir
	for i, via := range d.PcapPMD.Via {
		where := ""
		if i < len(d.PcapPMD.Where) {
			where = d.PcapPMD.Where[i]
		}
		switch via {
		case elfcheck.DriverStatic:
			ev.Static, ev.StaticIn = true, where
		case elfcheck.DriverPluginDir:
			ev.InPlugin = where
		}
		ev.Notes = append(ev.Notes, fmt.Sprintf("%s: pcap PMD via %s %s", f.primary.Path, via, where))
	}
	if d.PcapPMD.Detail != "" {
		ev.Notes = append(ev.Notes, d.PcapPMD.Detail)
	}
	return ev, nil
}

// PdumpReferenced tells whether the primary's executable or its libraries
// reference rte_pdump_init, and which.
func (e *Env) PdumpReferenced(ctx context.Context) (bool, string, error) {
	f, err := e.elf(ctx)
	if err != nil {
		return false, "", err
	}
	if f.primaryErr != nil {
		return false, "", f.primaryErr
	}
	u := f.primary.DPDK.Pdump
	if u.Referenced {
		return true, strings.Join(u.ReferencedBy, ", "), nil
	}
	return false, "", nil
}

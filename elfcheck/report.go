package elfcheck

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/gzdoctor/gzdoctor/host"
)

// Options control how a file is analysed.
type Options struct {
	// Root is the filesystem the file and its libraries live in (a sysroot
	// or an unpacked RPM tree); "" or "/" is the live machine.
	Root string
	// LDLibraryPath is used like the environment variable when non-empty
	// (colon-separated); it is never taken from gzdoctor's own environment.
	LDLibraryPath string
	// Platform overrides $PLATFORM (default: from the ELF machine).
	Platform string
	// EALArgs are the EAL arguments the process runs with (lstack.conf's
	// dpdk_args, a command line); their -d options load drivers.
	EALArgs []string
	// Preload are the process's LD_PRELOAD libraries (AnalyzePID reads
	// them from /proc/N/environ when empty): their constructors run with
	// the executable's, before anything the process dlopen()s.
	Preload []string
	// Recorder, when set, is told every machine path read (gzdoctor
	// collect takes what check's ELF analysis read).
	Recorder host.Recorder
	// NoMemory makes AnalyzePID predict the mempool ops table instead of
	// reading it from the process's memory.
	NoMemory bool
	// RealPaths fills Library.RealPath (symlinks resolved), which costs a
	// few system calls per library; the tree itself never needs it.
	RealPaths bool
}

// Problem is something wrong with the file whatever it is used for.
type Problem struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

// Problem IDs (stable; docs/elfcheck.md lists them).
const (
	ProblemMissingLibrary = "missing-library"
	ProblemNoNeeded       = "no-needed"
	ProblemNoInterpreter  = "missing-interpreter"
)

// Node is one line of the dependency tree, lddtree style: a library is
// expanded where it is first shown; Loop marks a dependency back onto the
// current chain.
type Node struct {
	Name     string  `json:"name"`
	Path     string  `json:"path,omitempty"`
	Missing  bool    `json:"missing,omitempty"`
	Loop     bool    `json:"loop,omitempty"`
	Children []*Node `json:"children,omitempty"`
}

// Report is everything elfcheck learned about one file.
type Report struct {
	Path     string `json:"path"`
	RealPath string `json:"real_path,omitempty"`
	Root     string `json:"root"`
	PID      int    `json:"pid,omitempty"`
	// Preload are the process's LD_PRELOAD libraries (--pid).
	Preload     []string   `json:"preload,omitempty"`
	Kind        string     `json:"kind"` // "ELF64 LSB x86-64"
	Type        string     `json:"type"` // executable, pie-executable, shared-object, static-executable, static-pie, relocatable, core
	Interpreter string     `json:"interpreter,omitempty"`
	Soname      string     `json:"soname,omitempty"`
	Needed      []string   `json:"needed"`
	RPath       string     `json:"rpath,omitempty"`
	RunPath     string     `json:"runpath,omitempty"`
	Libraries   []*Library `json:"libraries"` // in load order, as ldd lists them
	Missing     []*Library `json:"missing,omitempty"`
	Tree        *Node      `json:"tree"`
	DPDK        DPDKFacts  `json:"dpdk"`
	Warnings    []string   `json:"warnings,omitempty"`
	Problems    []Problem  `json:"problems,omitempty"`

	main *Library
	rec  host.Recorder // Options.Recorder, for Compare's reads
}

// Analyze reads the ELF file at path (a machine path; relative paths are
// taken relative to the working directory when Root is the live machine)
// and resolves its dependencies without executing anything. The error
// wraps ErrNotELF when the file is not ELF, and is non-nil when the file
// cannot be read as ELF at all; problems in its dependencies are reported
// in Report.Problems.
func Analyze(ctx context.Context, file string, opts Options) (_ *Report, err error) {
	defer faultGuard()(&err)
	fs := newRootFS(opts.Root)
	fs.rec = opts.Recorder
	if !path.IsAbs(file) {
		if !fs.live() {
			return nil, fmt.Errorf("%s: give an absolute path inside --root %s", file, fs.root)
		}
		abs, err := absPath(file)
		if err != nil {
			return nil, err
		}
		file = abs
	}
	hp, err := fs.hostPath(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	o, err := openObject(file, hp)
	if err != nil {
		return nil, err
	}
	return analyzeObject(ctx, fs, o, opts, nil)
}

func analyzeObject(ctx context.Context, fs rootFS, o *object, opts Options, mapped []string) (*Report, error) {
	main := &Library{Name: path.Base(o.path), Path: o.path, Soname: o.soname, Needed: o.needed, obj: o}
	if rp, err := fs.realpath(o.path); err == nil {
		main.RealPath = rp
	}
	rep := &Report{
		Path: o.path, RealPath: main.RealPath, Root: fs.root, Kind: o.kind(), Type: objectType(o),
		Interpreter: o.interp, Soname: o.soname, Needed: o.needed, RPath: o.rpath, RunPath: o.runpath,
		Libraries: []*Library{}, Warnings: o.warnings, main: main, rec: fs.rec,
	}
	if rep.Needed == nil {
		rep.Needed = []string{}
	}
	if rep.RealPath == rep.Path {
		rep.RealPath = ""
	}
	r, err := newResolver(ctx, fs, o, opts)
	if err != nil {
		return nil, err
	}
	defer r.closeAll()
	r.main = main
	r.register(main, main.Name, o.path)
	interp := o.interp
	if interp == "" && o.hasDynamic && o.typ == elf.ET_DYN {
		interp = defaultInterp(o.machine, o.class, o.data)
	}
	il := r.preloadInterp(interp)
	if o.interp != "" && il == nil {
		rep.Problems = append(rep.Problems, Problem{ProblemNoInterpreter, fmt.Sprintf("program interpreter %s not found under %s", o.interp, fs.root)})
	}
	if mapped != nil {
		r.adoptMapped(mapped)
	} else if err := r.run(); err != nil {
		return nil, err
	}
	if mapped == nil && il != nil && !il.listed && o.interp != "" {
		il.listed = true
		r.order = append(r.order, il) // ldd lists the interpreter even when nothing needs it by name
	}
	rep.Libraries = append(rep.Libraries, r.order...)
	rep.Missing = r.missing
	for _, m := range r.missing {
		msg := fmt.Sprintf("%s (needed by %s) not found", m.Name, m.NeededBy)
		if len(m.Skipped) > 0 {
			// A candidate that exists but is unreadable or of another
			// machine is the usual cause: say so without -v.
			msg += "; skipped " + strings.Join(m.Skipped, ", ")
		}
		rep.Problems = append(rep.Problems, Problem{ProblemMissingLibrary, msg})
	}
	if o.hasDynamic && len(o.needed) == 0 && !isStaticPIE(o) && !isInterpreter(o) && mapped == nil {
		rep.Problems = append(rep.Problems, Problem{ProblemNoNeeded, "dynamic ELF without DT_NEEDED entries: its dependencies cannot be checked"})
	}
	rep.Tree = buildTree(main, il)
	var preload []*Library
	for _, p := range opts.Preload {
		for _, l := range r.order {
			if l.Path == p || (!strings.Contains(p, "/") && l.Name == p) {
				preload = append(preload, l)
				break
			}
		}
	}
	rep.DPDK = dpdkFacts(fs, main, r.order, opts.EALArgs, preload, mapped != nil)
	for _, l := range r.order {
		if l.obj != nil {
			for _, w := range l.obj.warnings {
				rep.Warnings = append(rep.Warnings, l.Path+": "+w)
			}
		}
	}
	return rep, nil
}

func isStaticPIE(o *object) bool { return o.interp == "" && o.typ == elf.ET_DYN && o.flags1&dfPIE != 0 }

func isInterpreter(o *object) bool {
	return strings.HasPrefix(o.soname, "ld-") || strings.HasPrefix(o.soname, "ld64")
}

func objectType(o *object) string {
	switch o.typ {
	case elf.ET_EXEC:
		if o.hasDynamic {
			return "executable"
		}
		return "static-executable"
	case elf.ET_DYN:
		switch {
		case o.interp != "":
			return "pie-executable"
		case isStaticPIE(o):
			return "static-pie"
		}
		return "shared-object"
	case elf.ET_REL:
		return "relocatable"
	case elf.ET_CORE:
		return "core"
	}
	return o.typ.String()
}

// buildTree lays out the graph like lddtree: children not yet shown are
// marked shown before any of them is expanded.
func buildTree(main, interp *Library) *Node {
	shown := map[*Library]bool{main: true}
	if interp != nil {
		shown[interp] = true // shown in the header line
	}
	for _, d := range main.deps {
		shown[d] = true
	}
	var chain []*Library
	var walk func(l *Library, deps []*Library) *Node
	walk = func(l *Library, deps []*Library) *Node {
		n := &Node{Name: l.Name, Path: l.Path, Missing: l.Missing}
		chain = append(chain, l)
		var expand []*Library
		for _, d := range deps {
			if containsLib(chain, d) {
				n.Children = append(n.Children, &Node{Name: d.Name, Path: d.Path, Loop: true})
				continue
			}
			if l == main || !shown[d] {
				shown[d] = true
				expand = append(expand, d)
			}
		}
		for _, d := range expand {
			n.Children = append(n.Children, walk(d, d.deps))
		}
		chain = chain[:len(chain)-1]
		return n
	}
	return walk(main, main.deps)
}

func containsLib(ls []*Library, l *Library) bool {
	for _, x := range ls {
		if x == l {
			return true
		}
	}
	return false
}

// IsNotELF reports whether err means the input was not an ELF file at all.
func IsNotELF(err error) bool { return errors.Is(err, ErrNotELF) }

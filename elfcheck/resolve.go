package elfcheck

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
)

// LibVia is where the loader found a library: the search-path sources,
// in the loader's order (ld.so(8)), and the ways around them.
type LibVia string

const (
	ViaRPath       LibVia = "rpath"
	ViaLDLibPath   LibVia = "LD_LIBRARY_PATH"
	ViaRunPath     LibVia = "runpath"
	ViaLdSoConf    LibVia = "ld.so.conf"
	ViaDefault     LibVia = "default"
	ViaInterpreter LibVia = "interpreter"
	ViaPath        LibVia = "path"   // DT_NEEDED with a slash
	ViaMapped      LibVia = "mapped" // --pid: seen in /proc/N/maps
)

// SearchDir is one directory the loader looks in, and why.
type SearchDir struct {
	Dir string `json:"dir"`
	Via LibVia `json:"via"`
}

// Library is one resolved (or missing) dependency.
type Library struct {
	Name     string      `json:"name"`                // as written in DT_NEEDED
	Path     string      `json:"path,omitempty"`      // the path ld.so opens; empty when missing
	RealPath string      `json:"real_path,omitempty"` // Path with symlinks resolved (under --root)
	Soname   string      `json:"soname,omitempty"`
	FoundVia LibVia      `json:"found_via,omitempty"`
	NeededBy string      `json:"needed_by"` // the first object that needed it
	Depth    int         `json:"depth"`     // 1 = direct dependency
	Needed   []string    `json:"needed,omitempty"`
	Missing  bool        `json:"missing,omitempty"`
	Searched []SearchDir `json:"searched,omitempty"` // where a missing library was looked for
	Skipped  []string    `json:"skipped,omitempty"`  // candidates rejected: other class or machine
	DPDK     *LibDPDK    `json:"dpdk,omitempty"`     // set for librte_* libraries

	obj    *object
	deps   []*Library // resolution of each DT_NEEDED, in order
	listed bool       // in the load order
	queued bool       // its own DT_NEEDED entries are (being) resolved
}

// resolver walks the dependency graph breadth first, like
// _dl_map_object_deps, caching objects by name, SONAME and file identity.
type resolver struct {
	ctx       context.Context
	fs        rootFS
	main      *Library
	ldconf    []string
	defaults  []string
	libDir    string // $LIB
	platform  string // $PLATFORM
	ldLib     []string
	realPaths bool

	byName  map[string]*Library
	byFile  map[fileID]*Library
	objects map[string]*object // host path → parsed object, also for rejected candidates
	loader  map[*Library]*Library
	order   []*Library // load order (what ldd prints)
	missing []*Library
}

type fileID struct{ dev, ino uint64 }

func newResolver(ctx context.Context, fs rootFS, main *object, opts Options) (*resolver, error) {
	ldconf, err := ldSoConf(ctx, fs)
	if err != nil {
		return nil, err
	}
	r := &resolver{
		ctx:       ctx,
		fs:        fs,
		ldconf:    ldconf,
		defaults:  defaultDirs(main.machine, main.class),
		platform:  opts.Platform,
		realPaths: opts.RealPaths,
		byName:    map[string]*Library{},
		byFile:    map[fileID]*Library{},
		objects:   map[string]*object{},
		loader:    map[*Library]*Library{},
	}
	if r.platform == "" {
		r.platform = platformName(main.machine)
	}
	r.libDir = "lib"
	if t := multiarchTriplet(main.machine, main.class); t != "" && dirExists(fs, "/lib/"+t) {
		r.libDir = "lib/" + t
	} else if main.class == elf.ELFCLASS64 && dirExists(fs, "/lib64") {
		r.libDir = "lib64"
	}
	for _, d := range strings.Split(opts.LDLibraryPath, ":") {
		if d != "" {
			r.ldLib = append(r.ldLib, d)
		}
	}
	return r, nil
}

func dirExists(fs rootFS, p string) bool {
	hp, err := fs.hostPath(p)
	if err != nil {
		return false
	}
	fi, err := os.Stat(hp)
	return err == nil && fi.IsDir()
}

// origin is the directory $ORIGIN stands for in l's paths.
func (r *resolver) origin(l *Library) string {
	if l == r.main && l.RealPath != "" {
		return path.Dir(l.RealPath) // ld.so uses /proc/self/exe, symlinks resolved
	}
	// dirname without cleaning: ld.so keeps "bin/../lib" as it found it.
	if i := strings.LastIndexByte(l.Path, '/'); i > 0 {
		return l.Path[:i]
	}
	return "/"
}

// expand substitutes $ORIGIN, $LIB and $PLATFORM (also in ${} form).
func (r *resolver) expand(s string, l *Library) string {
	if !strings.Contains(s, "$") {
		return s
	}
	repl := strings.NewReplacer(
		"${ORIGIN}", r.origin(l), "$ORIGIN", r.origin(l),
		"${LIB}", r.libDir, "$LIB", r.libDir,
		"${PLATFORM}", r.platform, "$PLATFORM", r.platform,
	)
	return repl.Replace(s)
}

func (r *resolver) splitPath(list string, l *Library) []string {
	var out []string
	for _, d := range strings.Split(list, ":") {
		if d = strings.TrimSpace(d); d != "" {
			// Like glibc's fillin_rpath: trailing slashes go, ".." stays, so
			// paths read as ldd prints them.
			d = r.expand(d, l)
			if t := strings.TrimRight(d, "/"); t != "" {
				d = t
			}
			out = append(out, d)
		}
	}
	return out
}

// searchList is the ordered list of directories the loader tries for a
// dependency of l (glibc's _dl_map_object).
func (r *resolver) searchList(l *Library) []SearchDir {
	var dirs []SearchDir
	add := func(via LibVia, ds ...string) {
		for _, d := range ds {
			dirs = append(dirs, SearchDir{Dir: d, Via: via})
		}
	}
	if !l.obj.hasRun {
		// DT_RPATH of the object, then of each object that loaded it, up to
		// the executable; an object's RPATH is void if it has a RUNPATH.
		for a := l; a != nil; a = r.loader[a] {
			if a.obj != nil && a.obj.rpath != "" {
				add(ViaRPath, r.splitPath(a.obj.rpath, a)...)
			}
		}
	}
	add(ViaLDLibPath, r.ldLib...)
	if l.obj.hasRun {
		add(ViaRunPath, r.splitPath(l.obj.runpath, l)...) // direct dependencies only
	}
	if l.obj.flags1&dfNodeflib == 0 {
		add(ViaLdSoConf, r.ldconf...)
		add(ViaDefault, r.defaults...)
	}
	return dirs
}

// load parses the object at machine path p, memoised.
func (r *resolver) load(p string) (*object, string, error) {
	hp, err := r.fs.hostPath(p)
	if err != nil {
		return nil, "", err
	}
	if o, ok := r.objects[hp]; ok {
		return o, hp, nil
	}
	o, err := openObject(p, hp)
	if err != nil {
		return nil, hp, err
	}
	r.objects[hp] = o
	return o, hp, nil
}

func (r *resolver) realpath(p string) string {
	if !r.realPaths {
		return ""
	}
	rp, err := r.fs.realpath(p)
	if err != nil {
		return ""
	}
	return rp
}

// adopt registers a found object as loaded.
func (r *resolver) adopt(name, p string, o *object, via LibVia, by *Library) *Library {
	lib := &Library{Name: name, Path: p, RealPath: r.realpath(p), Soname: o.soname, FoundVia: via, NeededBy: by.Path, Depth: by.Depth + 1, Needed: o.needed, obj: o}
	r.register(lib, name)
	r.loader[lib] = by
	r.order = append(r.order, lib)
	lib.listed = true
	return lib
}

func (r *resolver) register(lib *Library, names ...string) {
	for _, n := range append(names, lib.Soname) {
		if n != "" {
			if _, ok := r.byName[n]; !ok {
				r.byName[n] = lib
			}
		}
	}
	if lib.obj != nil && lib.obj.id != (fileID{}) {
		if _, dup := r.byFile[lib.obj.id]; !dup {
			r.byFile[lib.obj.id] = lib
		}
	}
}

// find resolves one DT_NEEDED name of l.
func (r *resolver) find(l *Library, name string) *Library {
	if lib, ok := r.byName[name]; ok {
		return lib
	}
	try := func(p string, via LibVia) (*Library, bool, string) {
		// One open per candidate, as ld.so does; a miss costs one syscall.
		o, _, err := r.load(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
				return nil, false, ""
			}
			return nil, false, fmt.Sprintf("%s: %v", p, err)
		}
		if !r.main.obj.compatible(o) {
			return nil, false, fmt.Sprintf("%s (%s)", p, o.kind())
		}
		if lib, ok := r.byFile[o.id]; ok && o.id != (fileID{}) {
			r.byName[name] = lib // same file under another name: not loaded twice
			return lib, true, ""
		}
		return r.adopt(name, p, o, via, l), true, ""
	}
	miss := &Library{Name: name, NeededBy: l.Path, Depth: l.Depth + 1, Missing: true}
	if strings.Contains(name, "/") {
		p := r.expand(name, l)
		if !path.IsAbs(p) {
			p = "/" + p // relative to the working directory, unknown here; the root is the best guess
		}
		if lib, ok, why := try(path.Clean(p), ViaPath); ok {
			return lib
		} else if why != "" {
			miss.Skipped = append(miss.Skipped, why)
		}
		miss.Searched = []SearchDir{{Dir: path.Dir(p), Via: ViaPath}}
		r.missing = append(r.missing, miss)
		return miss
	}
	for _, sd := range r.searchList(l) {
		if r.ctx.Err() != nil {
			break // run() returns the context's error
		}
		if lib, ok, why := try(joinDir(sd.Dir, name), sd.Via); ok {
			return lib
		} else if why != "" {
			miss.Skipped = append(miss.Skipped, why)
		}
		miss.Searched = append(miss.Searched, sd)
	}
	r.missing = append(r.missing, miss)
	return miss
}

// run resolves the whole graph breadth first.
func (r *resolver) run() error {
	r.main.queued = true
	queue := []*Library{r.main}
	for len(queue) > 0 {
		if err := r.ctx.Err(); err != nil {
			return err
		}
		l := queue[0]
		queue = queue[1:]
		if l.obj == nil {
			continue
		}
		for _, n := range l.obj.needed {
			dep := r.find(l, n)
			if err := r.ctx.Err(); err != nil {
				return err
			}
			l.deps = append(l.deps, dep)
			if dep.FoundVia == ViaInterpreter && !dep.listed {
				// The interpreter is listed where it is first needed, as ldd does.
				dep.listed, dep.NeededBy, dep.Depth = true, l.Path, l.Depth+1
				r.order = append(r.order, dep)
				r.loader[dep] = l
			}
			if dep.obj != nil && !dep.queued {
				dep.queued = true
				queue = append(queue, dep)
			}
		}
	}
	return nil
}

// preloadInterp registers the program interpreter, which the kernel maps
// before ld.so resolves anything; DT_NEEDED entries naming its SONAME match
// it without a search.
func (r *resolver) preloadInterp(p string) *Library {
	if p == "" {
		return nil
	}
	o, _, err := r.load(p)
	if err != nil || !r.main.obj.compatible(o) {
		return nil
	}
	lib := &Library{Name: path.Base(p), Path: p, RealPath: r.realpath(p), Soname: o.soname, FoundVia: ViaInterpreter, NeededBy: r.main.Path, Depth: 1, Needed: o.needed, obj: o}
	r.register(lib, path.Base(p), p)
	r.loader[lib] = r.main
	return lib
}

// adoptMapped records the libraries a running process really mapped, in
// the order /proc/N/maps lists them, and links each DT_NEEDED entry to the
// mapped object that satisfies it.
func (r *resolver) adoptMapped(paths []string) {
	for _, p := range paths {
		if p == r.main.Path {
			continue
		}
		if lib, ok := r.byName[p]; ok {
			if !lib.listed {
				lib.listed = true
				r.order = append(r.order, lib)
			}
			continue
		}
		o, _, err := r.load(p)
		if err != nil {
			continue // a mapped non-ELF file (locale archive, a data file)
		}
		lib := &Library{Name: path.Base(p), Path: p, RealPath: r.realpath(p), Soname: o.soname, FoundVia: ViaMapped, NeededBy: r.main.Path, Depth: 1, Needed: o.needed, obj: o, listed: true}
		r.register(lib, p, path.Base(p))
		r.order = append(r.order, lib)
	}
	for _, l := range append([]*Library{r.main}, r.order...) {
		if l.obj == nil {
			continue
		}
		for _, n := range l.obj.needed {
			if dep, ok := r.byName[n]; ok {
				l.deps = append(l.deps, dep)
			} else {
				miss := &Library{Name: n, NeededBy: l.Path, Depth: l.Depth + 1, Missing: true}
				l.deps = append(l.deps, miss)
				r.missing = append(r.missing, miss)
			}
		}
	}
}

// closeAll closes every file the resolver opened, and the main object.
func (r *resolver) closeAll() {
	for _, o := range r.objects {
		o.close()
	}
	if r.main != nil && r.main.obj != nil {
		r.main.obj.close()
	}
}

// joinDir appends a file name to a search directory without cleaning it.
func joinDir(dir, name string) string {
	if strings.HasSuffix(dir, "/") {
		return dir + name
	}
	return dir + "/" + name
}

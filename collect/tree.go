package collect

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/gzdoctor/gzdoctor/host"
	"golang.org/x/sys/unix"
)

// entry is one file of the bundle's tree, at its machine path.
type entry struct {
	kind   string // dir, file, symlink
	data   []byte
	target string // symlink
	// stat is the .fixture/stat line's fields: what the tar entry cannot
	// say (owner, mode, socket, device and inode, a stand-in's size).
	stat map[string]string
}

// tree is the --root tree being built from the live machine ("/").
type tree struct {
	entries map[string]*entry
	// taken and notTaken feed the manifest.
	notTaken map[string]string
	// leftOut counts the /proc/<pid> paths of processes that are not
	// DPDK's: their files are never taken.
	leftOut map[int]bool
	// aliases maps a path asked for to the path a symlink led it to.
	aliases map[string]string
	bytes   int64

	maxFile, maxBytes int64
	pids              map[int]bool // processes whose /proc files may be taken
	hugeMounts        []string     // hugetlbfs mount points: no file content taken
	binaries          bool
}

func newTree(maxFile, maxBytes int64, pids map[int]bool, hugeMounts []string, binaries bool) *tree {
	return &tree{
		entries: map[string]*entry{}, notTaken: map[string]string{}, leftOut: map[int]bool{}, aliases: map[string]string{},
		maxFile: maxFile, maxBytes: maxBytes, pids: pids, hugeMounts: hugeMounts, binaries: binaries,
	}
}

var procPidRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^/proc/([0-9]+)(/.*)?$`) })

// procFilesTaken are the /proc/<pid>/ files a bundle may hold (environ
// filtered). Never mem, pagemap, fd contents or the like.
var procFilesTaken = map[string]bool{
	"status": true, "stat": true, "cmdline": true, "environ": true, "maps": true, "limits": true,
	"mountinfo": true, "mounts": true, "cgroup": true, "exe": true, "root": true, "cwd": true,
	"ns": true, "task": true,
}

// procAllowed says whether /proc/<pid>/<rest> may be taken.
func procAllowed(rest string) bool {
	rest = strings.TrimPrefix(rest, "/")
	if rest == "" {
		return true
	}
	parts := strings.Split(rest, "/")
	// task/<tid>/<file> is a thread's view of the same files.
	if parts[0] == "task" {
		if len(parts) <= 2 {
			return true
		}
		parts = parts[2:]
	}
	if parts[0] == "ns" {
		return true
	}
	// /proc/net/unix is /proc/self/net/unix: the bound sockets.
	if len(parts) == 2 && parts[0] == "net" && parts[1] == "unix" {
		return true
	}
	if len(parts) == 1 && parts[0] == "net" {
		return true
	}
	return len(parts) == 1 && procFilesTaken[parts[0]]
}

// magicLink reports whether the machine path p is a /proc link whose text
// is the fact (exe, ns/mnt): kept verbatim, never followed.
func magicLink(p string) bool {
	m := procPidRe().FindStringSubmatch(p)
	if m == nil {
		return false
	}
	rest := strings.TrimPrefix(m[2], "/")
	if parts := strings.Split(rest, "/"); len(parts) >= 3 && parts[0] == "task" {
		rest = strings.Join(parts[2:], "/")
	}
	return rest == "exe" || strings.HasPrefix(rest, "ns/")
}

// take adds the machine path p, and every directory and symlink on the
// way to it, to the tree.
func (t *tree) take(p string) {
	p = path.Clean(p)
	if final := t.takeDepth(p, 0); final != "" && final != p {
		// .fixture/stat is looked up by the path the check asks for
		// (/var/run/dpdk/x/config), which a symlink on the machine led
		// to another (/run/dpdk/x/config).
		t.aliases[p] = final
	}
}

// takeDepth takes p and returns the path it was found at once every
// symlink on the way was followed ("" when nothing was taken).
func (t *tree) takeDepth(p string, depth int) string {
	if depth > 16 {
		t.notTaken[p] = "too many levels of symbolic links"
		return ""
	}
	if m := procPidRe().FindStringSubmatch(p); m != nil {
		pid, _ := strconv.Atoi(m[1])
		if !t.pids[pid] {
			t.leftOut[pid] = true
			return ""
		}
		if !procAllowed(m[2]) {
			t.notTaken[p] = "not a /proc file gzdoctor takes (only status, cmdline, environ filtered, maps, limits, exe, ns, mountinfo)"
			return ""
		}
	}
	comps := strings.Split(strings.TrimPrefix(p, "/"), "/")
	cur := "/"
	for i, c := range comps {
		if c == "" {
			continue
		}
		next := path.Join(cur, c)
		last := i == len(comps)-1
		fi, err := os.Lstat(next)
		if err != nil {
			// What is absent on the machine is absent in the tree:
			// the replay reads the same absence.
			if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
				t.notTaken[next] = unwrap(err)
			}
			return ""
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(next)
			if err != nil {
				t.notTaken[next] = unwrap(err)
				return ""
			}
			if last && magicLink(next) {
				t.add(next, &entry{kind: "symlink", target: target})
				return next
			}
			abs := target
			if !path.IsAbs(abs) {
				abs = path.Join(cur, target)
			}
			abs = path.Clean(abs)
			// An absolute target would leave the tree once unpacked (and
			// read the replaying machine): it becomes relative.
			rel := relPath(cur, abs)
			t.add(next, &entry{kind: "symlink", target: rel})
			rest := path.Join(append([]string{abs}, comps[i+1:]...)...)
			return t.takeDepth(rest, depth+1)
		}
		if !last {
			if !fi.IsDir() {
				return ""
			}
			t.addDir(next, fi)
			cur = next
			continue
		}
		t.addFinal(next, fi)
		return next
	}
	return ""
}

// leftOutCount counts the processes never taken (a pid left out early
// may have been taken later, once it ran DPDK).
func (t *tree) leftOutCount() int {
	n := 0
	for pid := range t.leftOut {
		if !t.pids[pid] {
			n++
		}
	}
	return n
}

// relPath is the relative symlink text from directory dir to abs.
// filepath.Rel fails only when one path is relative and the other not;
// takeDepth gives it two absolute ones.
func relPath(dir, abs string) string {
	rel, err := filepath.Rel(dir, abs)
	if err != nil {
		return abs
	}
	return rel
}

func (t *tree) add(p string, e *entry) {
	if old, ok := t.entries[p]; ok && old.kind == e.kind {
		return
	}
	t.entries[p] = e
}

func statFields(fi fs.FileInfo) map[string]string {
	st := map[string]string{"mode": fmt.Sprintf("%04o", fi.Mode().Perm())}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st["uid"] = strconv.Itoa(int(sys.Uid))
		st["gid"] = strconv.Itoa(int(sys.Gid))
		st["dev"] = fmt.Sprintf("%02x:%02x", unix.Major(sys.Dev), unix.Minor(sys.Dev))
		st["ino"] = strconv.FormatUint(sys.Ino, 10)
	}
	return st
}

func (t *tree) addDir(p string, fi fs.FileInfo) {
	if _, ok := t.entries[p]; ok {
		return
	}
	t.entries[p] = &entry{kind: "dir", stat: statFields(fi)}
}

func (t *tree) inHugetlbfs(p string) bool {
	for _, m := range t.hugeMounts {
		if p != m && strings.HasPrefix(p, strings.TrimSuffix(m, "/")+"/") {
			return true
		}
	}
	return false
}

// standIn adds an empty file that .fixture/stat describes as the machine
// file was: a socket, a device, a hugepage file, a file not taken.
func (t *tree) standIn(p string, fi fs.FileInfo, typ string) {
	st := statFields(fi)
	st["size"] = strconv.FormatInt(fi.Size(), 10)
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st["blocks"] = strconv.FormatInt(sys.Blocks, 10)
	}
	if typ != "" {
		st["type"] = typ
	}
	t.entries[p] = &entry{kind: "file", stat: st}
}

func (t *tree) addFinal(p string, fi fs.FileInfo) {
	if e, ok := t.entries[p]; ok && e.kind != "dir" {
		return
	}
	switch m := fi.Mode(); {
	case m.IsDir():
		t.addDir(p, fi)
	case m&fs.ModeSocket != 0:
		t.standIn(p, fi, "socket")
	case !m.IsRegular():
		t.standIn(p, fi, "other")
	case t.inHugetlbfs(p):
		// Hugepage files hold the primary's memory, packets included:
		// never their content, only how much they hold.
		t.standIn(p, fi, "")
	default:
		t.addRegular(p, fi)
	}
}

func (t *tree) addRegular(p string, fi fs.FileInfo) {
	data, err := readBounded(p, t.maxFile)
	if errors.Is(err, errHugetlbfs) {
		// A hugetlbfs mounted after the list of mounts was read.
		t.standIn(p, fi, "")
		return
	}
	if err != nil {
		t.notTaken[p] = unwrap(err)
		t.standIn(p, fi, "")
		return
	}
	if m := procPidRe().FindStringSubmatch(p); m != nil && path.Base(p) == "environ" {
		data = filterEnviron(data)
	}
	if !t.binaries && bytes.HasPrefix(data, []byte("\x7fELF")) {
		t.notTaken[p] = "an ELF binary (collect --binaries takes them)"
		t.standIn(p, fi, "")
		return
	}
	if t.bytes+int64(len(data)) > t.maxBytes {
		t.notTaken[p] = fmt.Sprintf("the bundle reached its %d-byte limit (--max-size)", t.maxBytes)
		t.standIn(p, fi, "")
		return
	}
	t.bytes += int64(len(data))
	st := statFields(fi)
	t.entries[p] = &entry{kind: "file", data: data, stat: st}
}

// errHugetlbfs refuses to read a file on hugetlbfs: DPDK's memory.
var errHugetlbfs = errors.New("on hugetlbfs (DPDK memory): content never taken")

// hugetlbfsMagic is HUGETLBFS_MAGIC of linux/magic.h.
const hugetlbfsMagic = 0x958458f6

// readBounded reads at most limit bytes of the regular file p; a larger
// file is an error. /proc and /sys files say size 0 or 4096 whatever they
// hold, so the limit is applied to what is read, not to the size stat
// gives. A file on hugetlbfs is never read, whatever the mount list said:
// the filesystem of the open descriptor decides.
func readBounded(p string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &sfs); err != nil {
		return nil, err
	}
	if uint32(sfs.Type) == hugetlbfsMagic {
		return nil, errHugetlbfs
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("larger than the %d-byte limit for one file", limit)
	}
	return b, nil
}

// filterEnviron keeps the variables gzdoctor reads (host.ProcEnvKeys):
// the rest of a process's environment may hold secrets.
func filterEnviron(b []byte) []byte {
	var out []byte
	for _, kv := range bytes.Split(b, []byte{0}) {
		k, _, ok := bytes.Cut(kv, []byte("="))
		if !ok {
			continue
		}
		for _, want := range host.ProcEnvKeys {
			if string(k) == want {
				out = append(append(out, kv...), 0)
			}
		}
	}
	return out
}

func unwrap(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// fixtureStat renders .fixture/stat for the tree.
func (t *tree) fixtureStat() []byte {
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	fmt.Fprintln(w, "# what stat(2) said on the collected machine (host.FixtureStatFile)")
	for _, p := range t.sorted() {
		e := t.entries[p]
		// .fixture/stat is split on blanks: a path with one keeps the
		// tar entry's owner and mode (root, 0644/0755) instead.
		if e.kind == "symlink" || len(e.stat) == 0 || strings.ContainsAny(p, " \t\n") {
			continue
		}
		writeStat(w, p, e.stat)
	}
	aliases := make([]string, 0, len(t.aliases))
	for p := range t.aliases {
		aliases = append(aliases, p)
	}
	sort.Strings(aliases)
	for _, p := range aliases {
		if e, ok := t.entries[t.aliases[p]]; ok && e.kind != "symlink" && len(e.stat) > 0 && !strings.ContainsAny(p, " \t\n") {
			writeStat(w, p, e.stat)
		}
	}
	w.Flush()
	return b.Bytes()
}

func (t *tree) sorted() []string {
	out := make([]string, 0, len(t.entries))
	for p := range t.entries {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// globLive expands a glob pattern a check used, on the live machine.
func globLive(pattern string) ([]string, error) { return filepath.Glob(pattern) }

func writeStat(w *bufio.Writer, p string, st map[string]string) {
	keys := make([]string, 0, len(st))
	for k := range st {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	w.WriteString(p)
	for _, k := range keys {
		fmt.Fprintf(w, " %s=%s", k, st[k])
	}
	w.WriteByte('\n')
}

package pcapfile

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gzdoctor/gzdoctor/internal/shquote"
)

// A gzdoctor killed with SIGKILL (or a machine that lost power) leaves its
// temporary files: a capture's private directory (.gzdoctor-<pid>, with
// the tool's packets in it) or an output file that was being written
// (.<name>.gzdoctor-tmp-<n>, internal/atomicfile). Both hold an flock while their writer lives, which
// the kernel drops when it dies, so the next run can tell a dead writer's
// files from a live one's, in any pid namespace, without trusting pids.

// Leftover is a temporary file or directory an earlier run left.
type Leftover struct {
	Path string `json:"path"`
	// Kind is "capture" (a capture's private directory, or the files an
	// older gzdoctor left beside the output) or "output" (an output file
	// that was never finished; its data is still in its source).
	Kind    string `json:"kind"`
	Packets int64  `json:"packets"` // intact packets in it; -1: not counted (large files are not read)
	Size    int64  `json:"size"`    // bytes
	// Removed: it held nothing worth keeping (no packet, or an unfinished
	// output) and was removed.
	Removed bool `json:"removed,omitempty"`
	// Recover is the command that saves its packets; "" when removed.
	Recover string `json:"recover,omitempty"`
}

var (
	reCaptureDir = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\.gzdoctor-(\d+)(-\d+)?(-x\d+)?$`) })
	reOldCapture = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^\.gzdoctor-(\d+)(-\d+)?\.(rx\.pcap|tx\.pcap|pcapng)$`)
	})
	reOutputTemp  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\..+\.gzdoctor-tmp-\d+$`) })
	leftoverQuiet = time.Minute // an unlocked output temporary younger than this may be an older gzdoctor's, alive
)

// FindLeftovers lists what dead gzdoctor runs left in dir. With clean, it
// removes what holds nothing worth keeping: a dead capture's directory
// without a packet, and a dead writer's unfinished output (owned by
// gzdoctor's user, untouched for a minute). Packets are never removed:
// those leftovers are reported with the command that saves them.
func FindLeftovers(dir string, clean bool) []Leftover {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []Leftover
	euid := uint32(os.Geteuid())
	for _, e := range ents {
		name := e.Name()
		path := filepath.Join(dir, name)
		switch {
		case e.IsDir() && reCaptureDir().MatchString(name):
			if !lockFree(path, true) {
				continue // a capture runs
			}
			l := Leftover{Path: path, Kind: "capture"}
			var files []string
			foreign := false // anything but the capture tool's files: not ours to remove
			inner, _ := os.ReadDir(path)
			for _, f := range inner {
				switch f.Name() {
				case "rx.pcap", "tx.pcap", "all.pcapng":
				default:
					foreign = true
				}
				if !f.Type().IsRegular() {
					foreign = true
					continue
				}
				p := filepath.Join(path, f.Name())
				n, size := countPackets(p)
				if n < 0 || l.Packets < 0 {
					l.Packets = -1
				} else {
					l.Packets += n
				}
				l.Size += size
				files = append(files, p)
			}
			if l.Packets == 0 && clean && !foreign && ownedBy(path, euid) && os.RemoveAll(path) == nil {
				l.Removed = true
			} else if l.Packets != 0 {
				l.Recover = recoverWords(files, filepath.Join(dir, "recovered-"+name[1:]+".pcapng")) + " && rm -r " + shquote.Quote(path)
			}
			out = append(out, l)
		case e.Type().IsRegular() && reOldCapture().MatchString(name):
			// An older gzdoctor held no lock: only a pid that is gone
			// says it is dead, and only in this pid namespace.
			pid, _ := strconv.Atoi(reOldCapture().FindStringSubmatch(name)[1])
			if pid > 0 && unix.Kill(pid, 0) == nil {
				continue
			}
			l := Leftover{Path: path, Kind: "capture"}
			l.Packets, l.Size = countPackets(path)
			if l.Packets != 0 {
				l.Recover = recoverWords([]string{path}, filepath.Join(dir, "recovered"+name+".pcapng")) + " && rm " + shquote.Quote(path)
			}
			out = append(out, l)
		case e.Type().IsRegular() && reOutputTemp().MatchString(name):
			fi, err := e.Info()
			if err != nil || time.Since(fi.ModTime()) < leftoverQuiet || !lockFree(path, false) {
				continue
			}
			l := Leftover{Path: path, Kind: "output", Size: fi.Size()}
			if clean && ownedBy(path, euid) && os.Remove(path) == nil {
				l.Removed = true
			}
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// lockFree reports whether nobody holds an flock on path: its writer is
// dead. It never follows a symlink.
func lockFree(path string, dir bool) bool {
	flags := os.O_RDONLY | unix.O_NOFOLLOW | unix.O_NONBLOCK
	if dir {
		flags |= unix.O_DIRECTORY
	}
	f, err := os.OpenFile(path, flags, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return false
	}
	unix.Flock(int(f.Fd()), unix.LOCK_UN)
	return true
}

func ownedBy(path string, uid uint32) bool {
	var st unix.Stat_t
	return unix.Lstat(path, &st) == nil && st.Uid == uid
}

// scanLimit bounds what FindLeftovers reads: every capture start runs it,
// and a killed capture may have left gigabytes. Larger files count as
// holding packets, which only means they are never removed.
const scanLimit = 256 << 10

// countPackets counts the intact packets of a capture file (-1 when it is
// larger than scanLimit) and gives its size.
func countPackets(path string) (int64, int64) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return 0, 0
	}
	if fi.Size() > scanLimit {
		return -1, fi.Size()
	}
	res, _ := Scan(f)
	return res.Packets, fi.Size()
}

func recoverWords(files []string, out string) string {
	s := "gzdoctor pcap merge"
	for _, f := range files {
		s += " " + shquote.Quote(f)
	}
	return s + " --salvage -w " + shquote.Quote(out)
}

// Words describes a leftover in one line.
func (l Leftover) Words() string {
	switch {
	case l.Kind == "output" && l.Removed:
		return fmt.Sprintf("removed %s: an output a killed run never finished (its data is still in its source)", l.Path)
	case l.Kind == "output":
		return fmt.Sprintf("%s: an output a killed run never finished (its data is still in its source); remove it with: rm %s", l.Path, shquote.Quote(l.Path))
	case l.Removed:
		return fmt.Sprintf("removed %s: left by a capture that was killed, with no packet in it", l.Path)
	case l.Packets == 0:
		return fmt.Sprintf("%s: left by a capture that was killed, with no packet in it; remove it with: rm -r %s", l.Path, shquote.Quote(l.Path))
	}
	held := fmt.Sprintf("%d packets", l.Packets)
	if l.Packets < 0 {
		held = fmt.Sprintf("%d bytes of captured packets", l.Size)
	}
	return fmt.Sprintf("%s: left by a capture that was killed, with %s in it; save them with: %s", l.Path, held, l.Recover)
}

package capture

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// Neither capture tool says anything when its disk fills: the pcap PMD
// ignores fwrite's errors and dumpcap's are lost with its stderr's last
// lines. Seen: a 2 MB filesystem, the progress line at 0 pkt/s for 90 s,
// "✓ captured" and no file. So gzdoctor watches the free space itself and
// stops while the final file still fits, instead of learning it from a
// file that stopped growing.

// spaceEvery is how often the free space is read.
const spaceEvery = 100 * time.Millisecond

// fsSpace is what statfs says of one filesystem, in bytes.
type fsSpace struct {
	free  int64 // what gzdoctor's user may still write
	total int64
}

func statSpace(path string) (fsSpace, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return fsSpace{}, err
	}
	free := st.Bavail
	if os.Geteuid() == 0 {
		// The blocks reserved for root are the backend's too: pdump and
		// the primary run as root.
		free = st.Bfree
	}
	return fsSpace{free: int64(free) * int64(st.Bsize), total: int64(st.Blocks) * int64(st.Bsize)}, nil
}

// spaceWatch follows the filesystems of the backend's files and of the
// final files.
type spaceWatch struct {
	temp, out string // a directory on each
	same      bool   // one filesystem: the final file needs room beside the temporaries
	stat      func(string) (fsSpace, error)
	last      time.Time
	lastTemp  int64 // the temporaries' size at the last reading
	rate      int64 // their growth per second, last measured
}

func newSpaceWatch(p *Plan, stat func(string) (fsSpace, error)) *spaceWatch {
	w := &spaceWatch{temp: p.TempDir, out: filepath.Dir(p.Outputs[0].Path), stat: stat}
	if w.stat == nil {
		w.stat = statSpace
	}
	if p.Stream {
		// -w -: no final file anywhere (filepath.Dir("-") would be the
		// working directory); only the tool's files take room.
		w.out = ""
		return w
	}
	var a, b unix.Stat_t
	w.same = unix.Stat(w.temp, &a) == nil && unix.Stat(w.out, &b) == nil && a.Dev == b.Dev
	return w
}

// margin is the room kept free for what the backend writes after it was
// told to stop (pdump empties its ring, up to 4096 packets by default) and
// during one reading interval: a sixteenth of the filesystem, between 64 KiB
// and 16 MiB, plus half a second of the current rate.
func (w *spaceWatch) margin(fs fsSpace) int64 {
	m := fs.total / 16
	m = max(m, 64<<10)
	m = min(m, 16<<20)
	return m + w.rate/2
}

// check returns why the capture must stop ("" when it need not): the
// temporaries' filesystem cannot take more, or the final file (finalBytes,
// as counted so far) would not fit where it goes.
func (w *spaceWatch) check(now time.Time, tempBytes, finalBytes int64) string {
	if now.Sub(w.last) < spaceEvery {
		return ""
	}
	if !w.last.IsZero() && tempBytes >= w.lastTemp {
		w.rate = int64(float64(tempBytes-w.lastTemp) / now.Sub(w.last).Seconds())
	}
	w.last, w.lastTemp = now, tempBytes
	ts, err := w.stat(w.temp)
	if err != nil {
		return ""
	}
	if w.out == "" {
		finalBytes = 0
	}
	need := w.margin(ts)
	if w.same {
		need += finalBytes
	}
	if ts.free < need {
		what := "the capture tool's files"
		if w.same {
			what = fmt.Sprintf("the capture tool's files and the %s final file", byteSize(finalBytes))
		}
		where := w.temp
		if w.same {
			where = w.out
		}
		return fmt.Sprintf("%s free of %s on the filesystem of %s, too little for %s%s",
			byteSize(ts.free), byteSize(ts.total), where, what, fitWords(ts.free, finalBytes, w.same))
	}
	if w.same || w.out == "" {
		return ""
	}
	os, err := w.stat(w.out)
	if err != nil {
		return ""
	}
	if need := finalBytes + w.margin(os); os.free < need {
		return fmt.Sprintf("%s free of %s on the filesystem of %s, too little for the %s final file%s",
			byteSize(os.free), byteSize(os.total), w.out, byteSize(finalBytes), fitWords(os.free, finalBytes, true))
	}
	return ""
}

// tempSize is the bytes the backend's files hold now.
func tempSize(p *Plan) int64 {
	var n int64
	for _, t := range p.Temps {
		if fi, err := os.Stat(t.Path); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// fitWords says whether the stop came in time: with room left for the
// final file, or after the filesystem filled between two readings (the
// tool's last writes may have failed).
func fitWords(free, final int64, needFinal bool) string {
	if free <= 0 || needFinal && free < final {
		return ": it filled up between two readings, so the tool's last writes may have failed"
	}
	return ": stopped while what was captured still fits"
}

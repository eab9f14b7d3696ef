package capture

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
)

// finish explains how the backend ended and writes the final files.
func (s *supervisor) finish(ctx context.Context) {
	res, p := s.res, s.p
	rep := s.matcher.Report()
	res.Findings = rep.Findings
	if res.Stopped == StopBackendEnd || res.Stopped == StopDiagnosis || res.Stopped == StopNoPackets || res.Stopped == StopStalled {
		res.LastLines = s.tail
	}
	if res.Killed && p.Backend == BackendPdump {
		s.note("pdump was killed before it could disable the capture: the primary still holds its rings and pcap vdevs, so the next pdump on this primary fails ('RING: Cannot reserve memory') and reopens (truncates) these temporary files until the primary restarts")
	}
	if res.Stopped == StopBackendEnd && len(res.Findings) == 0 {
		s.note(fmt.Sprintf("%s exited by itself (%s) before any stop condition; no known cause in its output (run with -v to see it all)",
			filepath.Base(p.Binary), res.ExitStatus))
	}
	if s.ring != nil {
		s.finishRing()
		return
	}
	if p.Stream {
		s.finishStream()
		return
	}
	// The first Ctrl+C cancelled ctx; writing the file must go on.
	fin, err := finalize(context.WithoutCancel(ctx), p, s.sel, s.o)
	if err != nil {
		keepTemps(res, p, err)
		return
	}
	res.Repaired = fin.repaired
	if res.Stopped == StopCount && fin.sizeFull {
		// -c and -C were both reached in one poll (a burst): the file
		// ends at -C, in time order, short of -c's packets; saying
		// "100 packets reached" over a file of two would be false.
		res.Stopped = StopSize
	}
	res.Ports = s.portResults(fin.ports)
	validate(p, s.o, res, s.started, s.ended)
	s.clockWords()
	removeTemps(p)
	if fin.counts.Packets() == 0 && failedCapture(res.Stopped) {
		// Nothing was captured and the capture failed: an empty file
		// would only look like a result.
		for _, f := range fin.files {
			os.Remove(f.Path)
		}
		return
	}
	res.Files = fin.files
	res.Counts = fin.counts
	if p.PostRotate != "" {
		s.post = newPostRunner(p.PostRotate)
		for _, f := range fin.files {
			s.post.run(f.Path)
		}
		s.waitPost()
	}
	res.setSpan(fin.first, fin.last)
}

// deviceLabel names the captured ports: "net_ring0", "port1",
// "net_ring0+net_ring1".
func deviceLabel(p *Plan) string {
	var names []string
	for _, pp := range planPorts(p) {
		names = append(names, pp.label())
	}
	return strings.Join(names, "+")
}

// setSpan sets First, Last and SpanSec from the first and last packets'
// stamps (ns); nothing when no packet was written.
func (r *Result) setSpan(first, last uint64) {
	if first == 0 {
		return
	}
	r.First = pcapfile.TimeOf(first).UTC().Format(time.RFC3339Nano)
	r.Last = pcapfile.TimeOf(last).UTC().Format(time.RFC3339Nano)
	// Two's complement: a file whose last packet is older than its first
	// gives a negative span, not a huge one.
	r.SpanSec = float64(int64(last-first)) / 1e9
}

// failedCapture reports whether the capture failed in a way that makes an
// empty file look like a result.
func failedCapture(stopped string) bool {
	switch stopped {
	case StopDiagnosis, StopBackendEnd, StopNoPackets, StopDiskFull:
		return true
	}
	return false
}

// drainRing reads the backend's files to their end once it has ended,
// writes what was held for ordering, and ends the live scan.
func (s *supervisor) drainRing(cnt *counter) {
	if err := cnt.pollToEnd(nil, nil); err != nil {
		s.pollFailed(err)
	}
	if err := cnt.emit(time.Now(), true); err != nil {
		s.pollFailed(err)
	}
	s.endScan(cnt, "read")
}

// endScan ends the live scan of the drained files (a drain's last step):
// the validation's findings, and a note when the files could not be
// freed as they were read (how: "read", "streamed").
func (s *supervisor) endScan(cnt *counter, how string) {
	s.scan, s.scanRepaired, s.scanErr = cnt.scanEnd(uint64(s.ended.Add(windowSlack).UnixNano()))
	if cnt.punchErr != nil {
		s.note(fmt.Sprintf("the tool's files could not be freed as they were %s (%v): they held the whole capture in %s until the end", how, cnt.punchErr, s.p.TempDir))
	}
}

// finishRing closes the ring's last file and sums the capture up.
func (s *supervisor) finishRing() {
	res, p, r := s.res, s.p, s.ring
	keep := r.total.Packets() > 0 || !failedCapture(res.Stopped)
	if err := r.finish(keep); err != nil && res.WriteError == "" {
		res.WriteError = err.Error()
	}
	res.Repaired = append(res.Repaired, s.scanRepaired...)
	judge(p, s.o, res, s.started, s.ended, s.scan, s.scanErr)
	if s.cnt != nil && s.cnt.ringLost > 0 && res.Validation != nil {
		res.Validation.Problems = append(res.Validation.Problems, fmt.Sprintf("%s packets read from %s's files are not in the ring's files although older than the newest one saved: the saved span has holes",
			group(s.cnt.ringLost), filepath.Base(p.Binary)))
	}
	s.clockWords()
	for _, n := range r.res.NamesTaken {
		s.note(fmt.Sprintf("%s existed: the ring never replaces a file without --force, so that file took the next number", n))
	}
	if res.WriteError != "" && len(p.Temps) > 0 {
		// The ring could not go on: the tool's files hold what it had
		// not freed yet (it frees what it read, per MiB), at least every
		// packet the ring's files do not; they are kept, as for -w FILE.
		res.TempFiles = tempPaths(p)
		releaseTemps(p)
		if s.cnt == nil || !s.cnt.punched {
			res.Recover = recoverCommand(p)
		} else {
			s.note(fmt.Sprintf("the tool's files kept in %s lack what gzdoctor had read and freed before the failure; those packets are in the ring's files kept", p.TempDir))
		}
	} else {
		removeTemps(p)
	}
	res.Files = append([]OutputFile{}, r.kept...)
	res.Counts = r.total
	res.Ports = s.portResults(r.ports)
	res.setSpan(r.first, r.last)
	s.waitPost()
	rr := r.res
	res.Ring = &rr
}

// postWaitNote is how long -z may keep gzdoctor before it says why it
// has not exited.
const postWaitNote = time.Second

// waitPost waits for -z and the ring's removals to finish. A Ctrl+C (or
// SIGTERM, SIGHUP) stops the waiting, not the command: it runs in its own
// process group and finishes its file; the summary lists what was left.
func (s *supervisor) waitPost() {
	if s.post == nil {
		return
	}
	s.post.close()
	said := time.NewTimer(postWaitNote)
	defer said.Stop()
	unfinished := false
wait:
	for {
		select {
		case <-s.post.done:
			break wait
		case <-said.C:
			if cur, queued := s.post.busy(); cur != "" && s.o.Progress != nil {
				fmt.Fprintf(s.o.Progress, "waiting for -z %s on %s (%d more queued); Ctrl+C stops waiting\n", filepath.Base(s.p.PostRotate), cur, queued)
			}
		case <-s.o.Interrupts:
			unfinished = true
			break wait
		}
	}
	pr, rmErrs := s.post.result(unfinished)
	if s.p.PostRotate != "" {
		s.res.PostRotate = pr
		if unfinished && len(pr.Unfinished) > 0 {
			s.note(fmt.Sprintf("gzdoctor stopped waiting for -z: it goes on in the background on %s, and does not run on %d more queued file(s)", pr.Unfinished[0], len(pr.Unfinished)-1))
		}
	}
	if s.ring != nil {
		s.ring.res.RemoveErrors = rmErrs
		s.post.mu.Lock()
		s.ring.res.Removed, s.ring.res.Gone = s.post.removed, s.post.gone
		s.ring.res.GonePaths = append([]string(nil), s.post.gonePaths...)
		s.post.mu.Unlock()
	}
	if s.p.PostRotate != "" {
		// The summary says what is on disk, not what was written: -z
		// may have moved the files.
		for i := range s.res.Files {
			s.res.Files[i].State = FileExists
			if _, err := os.Lstat(s.res.Files[i].Path); errors.Is(err, fs.ErrNotExist) {
				s.res.Files[i].State = FileMissing
			}
		}
	}
}

// clockWords completes dpdk-dumpcap's clock warning with how far ahead its
// clock is, measured against when gzdoctor read the packets, and the
// command that writes a copy with the dates shifted back. gzdoctor does
// not shift them itself: it knows the offset to within a poll (0.1 s) and
// the tool's flush, not each packet's true time; the file keeps what the
// tool stamped, the evidence as taken.
func (s *supervisor) clockWords() {
	v := s.res.Validation
	if v == nil || v.clockWarning == 0 || s.cnt == nil || !s.cnt.haveAhead {
		return
	}
	secs := float64(s.cnt.ahead) / 1e9
	v.ToolClockAhead = secs
	in := s.p.Outputs[0].Path
	if len(s.res.Files) > 0 {
		in = s.res.Files[0].Path
	}
	shift := strconv.FormatFloat(-secs, 'f', 1, 64)
	ext := filepath.Ext(in)
	fixed := strings.TrimSuffix(in, ext) + "-clock" + ext
	each := ""
	if s.ring != nil {
		each = " (each file)"
	}
	if s.p.Stream {
		v.Warnings[v.clockWarning-1] += fmt.Sprintf("; its clock is %s s ahead of the time gzdoctor read the packets (to within about 0.2 s): shift a saved copy with editcap -t %s",
			strconv.FormatFloat(secs, 'f', 1, 64), shift)
		return
	}
	v.Warnings[v.clockWarning-1] += fmt.Sprintf("; its clock is %s s (%.1f years) ahead of the time gzdoctor read the packets (to within about 0.2 s). The file keeps the stamps as the tool wrote them; a copy with the dates shifted back%s: %s",
		strconv.FormatFloat(secs, 'f', 1, 64), secs/(365.25*86400), each, shquote.Join([]string{"editcap", "-t", shift, in, fixed}))
}

// portResults is what each port of the plan captured (counts, in its
// order) beside the primary's own counters for it.
func (s *supervisor) portResults(counts []Counts) []PortResult {
	var out []PortResult
	for i, pp := range planPorts(s.p) {
		pr := PortResult{Device: pp.Device, Port: pp.Port, Counts: counts[i]}
		if i < len(s.primaryPorts) {
			pr.Primary = &s.primaryPorts[i]
		}
		out = append(out, pr)
	}
	return out
}

package capture

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/gzdoctor/gzdoctor/runbooks"
	"github.com/gzdoctor/gzdoctor/ui"
)

// RenderText prints the dry-run command, the preflight failure, the
// diagnosis, or the capture's summary.
func (r *Result) RenderText(w io.Writer, st ui.Style, verbose bool) error {
	p := r.Plan
	var b strings.Builder
	if r.DryRun {
		fmt.Fprintf(&b, "%s\n", st.Dim(fmt.Sprintf("# prefix %s (%s), %s, backend %s", p.Prefix, p.PrefixWhy, deviceWords(p), p.Backend)))
		fmt.Fprintf(&b, "%s\n", p.Command)
		fmt.Fprintf(&b, "%s\n", st.Dim("# then: "+r.afterWords()))
		if len(p.Drivers) > 0 {
			fmt.Fprintf(&b, "%s\n", st.Dim("# -d: the primary's PMDs "+filepath.Base(p.Binary)+" does not load by itself (from the primary's /proc/<pid>/maps)"))
		}
		if p.DriversNote != "" {
			fmt.Fprintf(&b, "%s\n", st.Dim("# note: "+p.DriversNote))
		}
		if p.TempNote != "" {
			fmt.Fprintf(&b, "%s\n", st.Dim("# note: "+p.TempNote))
		}
		if r.Preflight != nil && (r.Stopped == StopPreflight || verbose) {
			b.WriteString("\n" + st.Bold("preflight") + " (gzdoctor check, capture-relevant checks)\n")
			if err := r.Preflight.RenderText(&b, st, verbose); err != nil {
				return err
			}
			if r.Stopped == StopPreflight {
				fmt.Fprintf(&b, "\n%s the capture would not start: fix the failed checks above (or skip them with --no-preflight)\n", st.Symbol("fail"))
			}
		} else if r.Preflight == nil && (p.busy != nil || len(p.PdumpVdevs) > 0) {
			// --no-preflight: what the plan saw holding the primary.
			fmt.Fprintf(&b, "%s %s\n", st.Symbol("warn"), busyWords(p))
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	if r.Preflight != nil && (r.Stopped == StopPreflight || verbose) {
		b.WriteString(st.Bold("preflight") + " (gzdoctor check, capture-relevant checks)\n")
		if err := r.Preflight.RenderText(&b, st, verbose); err != nil {
			return err
		}
		if r.Stopped == StopPreflight {
			fmt.Fprintf(&b, "\n%s capture not started: fix the failed checks above (or skip them with --no-preflight)\n", st.Symbol("fail"))
			_, err := io.WriteString(w, b.String())
			return err
		}
		b.WriteByte('\n')
	}
	if r.Stopped == StopBusy {
		fmt.Fprintf(&b, "%s %s\n", st.Symbol("fail"), st.Bold("capture not started"))
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "  %s\n", n)
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	tool := filepath.Base(p.Binary)
	if len(r.Findings) > 0 {
		rep := &runbooks.Report{Sources: []string{tool}, Findings: r.Findings}
		if err := rep.RenderText(&b, st, verbose); err != nil {
			return err
		}
		b.WriteByte('\n')
	}
	if len(r.LastLines) > 0 && (len(r.Findings) == 0 || verbose) {
		fmt.Fprintf(&b, "last lines of %s (%s):\n", tool, r.ExitStatus)
		for _, l := range r.LastLines {
			fmt.Fprintf(&b, "  %s\n", st.Dim(l))
		}
		b.WriteByte('\n')
	}
	sym, head := st.Symbol("ok"), "captured"
	switch {
	case r.Stopped == StopDiagnosis:
		sym, head = st.Symbol("fail"), "capture failed"
	case r.Stopped == StopBackendEnd:
		sym, head = st.Symbol("fail"), tool+" ended the capture by itself"
	case r.Stopped == StopNoPackets:
		sym, head = st.Symbol("fail"), "capture stopped"
	case r.Stopped == StopDiskFull:
		sym, head = st.Symbol("fail"), "capture stopped"
	case r.Stopped == StopWriteError, r.Stopped == StopStalled:
		sym, head = st.Symbol("fail"), "capture stopped"
	case !r.Validation.OK():
		sym, head = st.Symbol("fail"), "captured, but the file failed validation"
	case r.Drops() > 0:
		sym, head = st.Symbol("warn"), "captured with losses"
	case r.Killed || r.Validation != nil && len(r.Validation.Warnings) > 0 || r.PostRotate != nil && r.PostRotate.Failures > 0:
		sym = st.Symbol("warn")
	}
	if r.WriteError != "" {
		// The capture's own ending comes second: without its file it is
		// no success, whatever stopped it.
		fmt.Fprintf(&b, "%s\n", r.FailureLine(st))
		fmt.Fprintf(&b, "  stop   %s (%s)\n", stopWords(r.Stopped, p), r.ExitStatus)
	} else {
		fmt.Fprintf(&b, "%s %s: %s (%s)\n", sym, st.Bold(head), stopWords(r.Stopped, p), r.ExitStatus)
	}
	if r.DiskFull != "" {
		fmt.Fprintf(&b, "  %s %s\n", st.Symbol("fail"), r.DiskFull)
	}
	if len(r.Files) > 0 || r.Counts.Packets() > 0 {
		fmt.Fprintf(&b, "  rx     %s packets, %s\n", group(r.Counts.RxPackets), byteSize(r.Counts.RxBytes))
		fmt.Fprintf(&b, "  tx     %s packets, %s\n", group(r.Counts.TxPackets), byteSize(r.Counts.TxBytes))
		fmt.Fprintf(&b, "  span   %.3f s (%s … %s)\n", r.SpanSec, orDash(r.First), orDash(r.Last))
	}
	if len(r.Ports) > 1 {
		for _, pt := range r.Ports {
			line := fmt.Sprintf("  port   %s: rx %s, tx %s packets", PlanPort{Device: pt.Device, Port: pt.Port}.label(), group(pt.Counts.RxPackets), group(pt.Counts.TxPackets))
			if pt.Primary != nil {
				line += fmt.Sprintf(" (primary copied rx %s, tx %s)", group(int64(pt.Primary.Rx.Copied())), group(int64(pt.Primary.Tx.Copied())))
			}
			fmt.Fprintln(&b, line)
		}
	}
	fmt.Fprintf(&b, "  drops  %s\n", r.dropWords())
	switch {
	case r.Primary != nil:
		fmt.Fprintf(&b, "         primary: %s\n", r.Primary.words())
		if r.Primary.Lost() > 0 {
			fmt.Fprintf(&b, "  %s the primary lost %s packets before %s saw them: raise --ring-size (ring full) or --total-num-mbufs (no mbuf)\n",
				st.Symbol("warn"), group(int64(r.Primary.Lost())), tool)
		}
	case r.PrimaryUnavailable != "" && verbose:
		fmt.Fprintf(&b, "         primary: unknown (%s)\n", r.PrimaryUnavailable)
	}
	for _, l := range r.lstackLines(st.Symbol, verbose) {
		fmt.Fprintln(&b, l)
	}
	if pr := r.Promisc; pr != nil && (p.Backend == BackendDumpcap || pr.Changed()) {
		fmt.Fprintf(&b, "  promisc %s\n", pr.words(deviceLabel(p), tool))
	}
	if rg := r.Ring; rg != nil {
		fmt.Fprintf(&b, "  ring   %d file%s written", rg.Written, plural(rg.Written))
		switch {
		case rg.Gone > 0:
			fmt.Fprintf(&b, ", %d removed (files:%d); %d more were gone when the ring came to remove them (-z moved or renamed them), so what -z made of them stays: files:%d does not bound the disk", rg.Removed, p.Ring.Files, rg.Gone, p.Ring.Files)
		case rg.Removed > 0:
			fmt.Fprintf(&b, ", the oldest %d removed (files:%d) with %s packets", rg.Removed, p.Ring.Files, group(rg.RemovedPackets))
		}
		fmt.Fprintf(&b, "; %s\n", p.Ring.words())
	}
	for i, f := range r.Files {
		if n := len(r.Files); n > maxFileLines && i >= maxFileLines/2 && i < n-maxFileLines/2 {
			if i == maxFileLines/2 {
				fmt.Fprintf(&b, "  file   … %d more\n", n-maxFileLines)
			}
			continue
		}
		if f.Path == "-" {
			fmt.Fprintf(&b, "  stdout %s packets, %s written (%s)\n", group(f.Packets), byteSize(f.Size), f.Format)
			continue
		}
		gone := ""
		if f.State == FileMissing {
			gone = "; no longer there after -z"
		}
		fmt.Fprintf(&b, "  file   %s (%s, %s packets, %s%s)\n", st.Bold(f.Path), f.Format, group(f.Packets), byteSize(f.Size), gone)
	}
	if s := r.Stream; s != nil {
		if s.Closed {
			fmt.Fprintf(&b, "  %s the reader closed stdout: packets captured after that were not written\n", st.Symbol("warn"))
		}
		if s.OutOfOrder > 0 {
			fmt.Fprintf(&b, "  %s %s packets were written after later ones (a direction was silent for more than %s, then delivered older packets)\n", st.Symbol("warn"), group(s.OutOfOrder), streamHold)
		}
		if s.LatePastCount > 0 {
			fmt.Fprintf(&b, "  %s %s older packets came after the %s written (a direction was silent for more than %s): the stream's %s are not the first in time order (-c %d with -w FILE keeps those)\n",
				st.Symbol("warn"), group(s.LatePastCount), group(p.Count), streamHold, group(p.Count), p.Count)
		}
	}
	if len(r.Files) == 0 && p.Stream {
		fmt.Fprintf(&b, "  stdout no packet written\n")
	} else if len(r.Files) == 0 {
		fmt.Fprintf(&b, "  file   none written\n")
	}
	if v := r.Validation; v != nil {
		for _, pr := range v.Problems {
			fmt.Fprintf(&b, "  %s %s\n", st.Symbol("fail"), pr)
		}
		for _, w := range v.Warnings {
			fmt.Fprintf(&b, "  %s %s\n", st.Symbol("warn"), w)
		}
	}
	if pr := r.PostRotate; pr != nil {
		sym := st.Symbol("ok")
		if pr.Failures > 0 || len(pr.Unfinished) > 0 {
			sym = st.Symbol("fail")
		}
		fmt.Fprintf(&b, "  %s %s\n", sym, pr.words())
		for _, f := range pr.Failed {
			line := fmt.Sprintf("-z on %s: %s", f.File, f.Status)
			if f.Output != "" {
				line += ": " + f.Output
			}
			fmt.Fprintf(&b, "    %s %s (the file is left as it was)\n", st.Symbol("fail"), line)
		}
		for _, f := range pr.Unfinished {
			fmt.Fprintf(&b, "    %s -z not finished on %s\n", st.Symbol("fail"), f)
		}
	}
	if rg := r.Ring; rg != nil {
		for _, e := range rg.RemoveErrors {
			fmt.Fprintf(&b, "  %s could not remove an old ring file: %s\n", st.Symbol("warn"), e)
		}
	}
	for _, rp := range r.Repaired {
		fmt.Fprintf(&b, "  %s repaired %s\n", st.Symbol("warn"), rp)
	}
	for _, t := range r.TempFiles {
		fmt.Fprintf(&b, "  %s kept %s\n", st.Symbol("warn"), t)
	}
	if r.Recover != "" {
		fmt.Fprintf(&b, "  recover with: %s\n", r.Recover)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "  %s %s\n", st.Symbol("warn"), n)
	}
	if p.TempNote != "" {
		fmt.Fprintf(&b, "  %s %s\n", st.Symbol("warn"), p.TempNote)
	}
	if p.DriversNote != "" && verbose {
		fmt.Fprintf(&b, "  %s %s\n", st.Symbol("warn"), p.DriversNote)
	}
	for _, l := range r.Leftovers {
		fmt.Fprintf(&b, "  %s %s\n", st.Symbol("warn"), l.Words())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func deviceWords(p *Plan) string {
	if len(p.Ports) > 1 {
		var list []string
		for _, pp := range p.Ports {
			if pp.Device != "" && pp.Port >= 0 {
				list = append(list, fmt.Sprintf("%s (port %d)", pp.Device, pp.Port))
			} else {
				list = append(list, pp.label())
			}
		}
		return fmt.Sprintf("%d ports %s, queue %s", len(p.Ports), strings.Join(list, ", "), p.Queue)
	}
	switch {
	case p.Device != "" && p.Port >= 0:
		return fmt.Sprintf("device %s (port %d), queue %s", p.Device, p.Port, p.Queue)
	case p.Device != "" && p.DeviceWhy != "":
		return fmt.Sprintf("device %s (%s), queue %s", p.Device, p.DeviceWhy, p.Queue)
	case p.Device != "":
		return fmt.Sprintf("device %s, queue %s", p.Device, p.Queue)
	}
	return fmt.Sprintf("port %d, queue %s", p.Port, p.Queue)
}

// afterWords says what gzdoctor does with the backend's files.
func (r *Result) afterWords() string {
	p := r.Plan
	var stops []string
	if p.Count > 0 {
		stops = append(stops, fmt.Sprintf("%d packets", p.Count))
	}
	if p.Duration > 0 {
		stops = append(stops, fmt.Sprintf("%gs", p.Duration))
	}
	if p.MaxSize > 0 {
		stops = append(stops, byteSize(p.MaxSize))
	}
	stops = append(stops, "Ctrl+C")
	if p.Stream {
		s := fmt.Sprintf("stop at %s with SIGINT, or when the reader of stdout closes it; ", strings.Join(stops, " or "))
		if p.Filter != "" && !p.FilterByBackend {
			s += fmt.Sprintf("keep packets matching %q; ", p.Filter)
		}
		return s + fmt.Sprintf("write %s to stdout as packets arrive (rx and tx merged in time order, held at most %s)", p.Outputs[0].Format, streamHold)
	}
	var outs []string
	for _, o := range p.Outputs {
		dirs := "rx+tx"
		if !o.Rx {
			dirs = "tx"
		} else if !o.Tx {
			dirs = "rx"
		}
		outs = append(outs, fmt.Sprintf("%s (%s, %s)", o.Path, o.Format, dirs))
	}
	if r := p.Ring; r != nil && r.StopFiles > 0 {
		stops = append(stops[:len(stops)-1], fmt.Sprintf("%d files", r.StopFiles), "Ctrl+C")
	}
	s := fmt.Sprintf("stop at %s with SIGINT; ", strings.Join(stops, " or "))
	if p.Filter != "" && !p.FilterByBackend {
		s += fmt.Sprintf("keep packets matching %q; ", p.Filter)
	}
	if p.Ring != nil {
		s += "write " + p.Ring.words() + " (mode 0600)"
	} else {
		s += "write " + strings.Join(outs, ", ") + " (mode 0600)"
	}
	if p.PostRotate != "" {
		s += "; run " + p.PostRotate + " FILE on each closed file"
	}
	return s
}

// words says how the ring rotates, for the dry run and the summary.
func (r *RingPlan) words() string {
	var when []string
	if r.FileSize > 0 {
		when = append(when, byteSize(r.FileSize))
	}
	if r.Packets > 0 {
		when = append(when, fmt.Sprintf("%d packets", r.Packets))
	}
	if r.Duration > 0 {
		when = append(when, fmt.Sprintf("%gs", r.Duration))
	}
	keep := "keeping every file"
	if r.Files > 0 {
		keep = fmt.Sprintf("keeping the last %d", r.Files)
	}
	return fmt.Sprintf("a ring of files %s, the next one at %s, %s", r.Names, strings.Join(when, " or "), keep)
}

func stopWords(why string, p *Plan) string {
	switch why {
	case StopCount:
		return fmt.Sprintf("%d packets reached", p.Count)
	case StopDuration:
		return fmt.Sprintf("%gs elapsed", p.Duration)
	case StopSize:
		return fmt.Sprintf("size limit %s reached", byteSize(p.MaxSize))
	case StopInterrupt:
		return "interrupted"
	case StopDiagnosis:
		return "stopped on a known failure"
	case StopBackendEnd:
		return "the backend exited before any stop condition"
	case StopNoPackets:
		return "the backend runs but receives nothing"
	case StopDiskFull:
		return "output filesystem full"
	case StopReaderGone:
		return "stdout closed by its reader"
	case StopRingFiles:
		return fmt.Sprintf("%d files written", p.Ring.StopFiles)
	case StopWriteError:
		return "a file could not be written"
	case StopStalled:
		return "the capture stalled"
	}
	return why
}

// dropWords is the drops line: every loss gzdoctor knows of, then who
// reported what.
func (r *Result) dropWords() string {
	var parts []string
	if r.Primary != nil {
		parts = append(parts, fmt.Sprintf("primary: %s lost", group(int64(r.Primary.Lost()))))
	}
	b := r.Backend
	switch {
	case b.Dropped != nil:
		parts = append(parts, fmt.Sprintf("dumpcap: %d received, %d dropped for a full ring or no mbuf", deref(b.Received), *b.Dropped))
	case b.Freed != nil:
		parts = append(parts, fmt.Sprintf("pdump: %d dequeued, %d written, %d freed unwritten", deref(b.Dequeued), deref(b.Transmitted), *b.Freed))
	default:
		parts = append(parts, r.Plan.Backend+" reported none")
	}
	n := "unknown"
	if d := r.Drops(); d >= 0 {
		n = group(d)
	}
	return n + " (" + strings.Join(parts, "; ") + ")"
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// words sums up the primary's counters: what its callbacks copied for the
// capture and what they lost.
func (s PrimaryStats) words() string {
	d := func(c PdumpCounters) string {
		w := fmt.Sprintf("%s copied, %s lost (ring full %s, no mbuf %s)", group(int64(c.Accepted-c.RingFull)), group(int64(c.Lost())), group(int64(c.RingFull)), group(int64(c.NoMbuf)))
		if c.Filtered > 0 {
			w += fmt.Sprintf(", %s filtered", group(int64(c.Filtered)))
		}
		return w
	}
	return "rx " + d(s.Rx) + "; tx " + d(s.Tx)
}

// FailureLine is the one line that says why gzdoctor could not do its
// job (see Failed), for the summary and, with -q, for stderr.
func (r *Result) FailureLine(st ui.Style) string {
	switch {
	case r.WriteError != "":
		where := "nothing was kept"
		if r.Ring != nil {
			where = fmt.Sprintf("the %d file(s) closed before are kept", len(r.Files))
		}
		if len(r.TempFiles) > 0 {
			where = "the packets are kept in " + r.Plan.TempDir + "/"
		}
		return fmt.Sprintf("%s %s: %s; %s", st.Symbol("fail"), st.Bold("capture not saved"), r.WriteError, where)
	case r.Stopped == StopDiskFull:
		var paths []string
		for _, f := range r.Files {
			paths = append(paths, f.Path)
		}
		saved := "no packet was captured"
		if len(paths) > 0 {
			saved = "what was captured is in " + strings.Join(paths, ", ")
		}
		return fmt.Sprintf("%s %s: output filesystem full (%s); %s", st.Symbol("fail"), st.Bold("capture stopped"), r.DiskFull, saved)
	}
	return ""
}

// maxFileLines is how many files the summary names; a long ring's middle
// is counted, not listed (JSON lists them all).
const maxFileLines = 10

package capture

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
)

// OutputFile is one file the capture wrote.
type OutputFile struct {
	Path    string          `json:"path"`
	Format  pcapfile.Format `json:"format"`
	Packets int64           `json:"packets"`
	Bytes   int64           `json:"bytes"` // captured bytes
	Size    int64           `json:"size"`  // file size
	// State is set with -z, once it finished; the path is what gzdoctor
	// wrote.
	State FileState `json:"state,omitempty"`
}

// FileState says whether a file the capture wrote is still there once -z
// ran.
type FileState string

const (
	FileExists  FileState = "exists"
	FileMissing FileState = "missing" // -z moved or renamed it (gzip)
)

// finalResult is what finalize wrote.
type finalResult struct {
	files    []OutputFile
	counts   Counts
	ports    []Counts // per port of Plan.Ports
	first    uint64   // ns; 0 when no packet
	last     uint64
	repaired []string
	// sizeFull: -C ended the file, before -c had its packets.
	sizeFull bool
}

// finalInput is one temp file being merged.
type finalInput struct {
	temp Temp
	f    *os.File
	r    *pcapfile.Reader
}

// finalOutput is one final file being written.
type finalOutput struct {
	out   Output
	af    *pcapfile.AtomicFile
	w     pcapfile.Writer
	ifc   map[ifKey]int // port and direction → pcapng interface
	res   OutputFile
	first uint64
	last  uint64
}

// finalize turns the backend's temp files into the final files: it repairs
// a truncated last record, merges the files in time order, keeps what the
// selector keeps (directions, filter), cuts packets to the snap length,
// stops at the count and the size, marks directions, and writes each file
// under a temporary name with mode 0600 before renaming it into place.
func finalize(ctx context.Context, p *Plan, sel *selector, o *Options) (*finalResult, error) {
	res := &finalResult{ports: make([]Counts, len(planPorts(p)))}
	ins, err := openTemps(p, res)
	defer func() {
		for _, in := range ins {
			in.f.Close()
		}
	}()
	if err != nil {
		return nil, err
	}
	link := pcapLink
	if len(ins) > 0 {
		link = ins[0].r.Interfaces()[0]
	}
	// size counts the final files whole (see size.go): the overhead
	// first, then each record, so the files never exceed -C.
	size, err := overhead(p, o, link)
	if err != nil {
		return nil, err
	}
	if p.MaxSize > 0 && size > p.MaxSize {
		return nil, fmt.Errorf("-C %d: the output's headers alone take %d bytes", p.MaxSize, size)
	}
	outs, err := createOutputs(p, o, link)
	if err != nil {
		return nil, err
	}
	if err := merge(ctx, p, sel, ins, outs, res, size); err != nil {
		abortOutputs(outs)
		return nil, err
	}
	if err := closeOutputs(outs, res); err != nil {
		abortOutputs(outs)
		return nil, err
	}
	for i, fo := range outs {
		if err := fo.af.Commit(); err != nil {
			abortOutputs(outs[i+1:])
			return nil, err
		}
		res.files = append(res.files, fo.res)
	}
	return res, nil
}

// openTemps opens the backend's files that hold anything, each repaired
// first (res.repaired says what was cut). The files opened are returned
// with an error too, to be closed.
func openTemps(p *Plan, res *finalResult) ([]*finalInput, error) {
	var ins []*finalInput
	for _, t := range p.Temps {
		if fi, err := os.Stat(t.Path); err != nil {
			return ins, err
		} else if fi.Size() == 0 {
			continue // the backend never wrote to it: no packets
		}
		rep, err := pcapfile.Repair(t.Path)
		if err != nil {
			return ins, fmt.Errorf("validating %s: %w", t.Path, err)
		}
		if rep.Truncated() {
			res.repaired = append(res.repaired, fmt.Sprintf("%s: cut %d bytes of an unfinished last record (%s)", t.Path, rep.Size-rep.Kept, rep.Damage))
		}
		f, err := os.Open(t.Path)
		if err != nil {
			return ins, err
		}
		r, err := pcapfile.NewReader(f)
		if err != nil {
			f.Close()
			return ins, fmt.Errorf("reading %s: %w", t.Path, err)
		}
		ins = append(ins, &finalInput{temp: t, f: f, r: r})
	}
	return ins, nil
}

// createOutputs starts each final file under its temporary name, its
// header written.
func createOutputs(p *Plan, o *Options, link pcapfile.Interface) ([]*finalOutput, error) {
	var outs []*finalOutput
	for _, out := range p.Outputs {
		af, err := pcapfile.CreateAtomic(out.Path, 0o600, o.Force)
		if err != nil {
			abortOutputs(outs)
			return nil, err
		}
		fo := &finalOutput{out: out, af: af, res: OutputFile{Path: out.Path, Format: out.Format}}
		outs = append(outs, fo)
		w, ifcs, err := newOutputWriter(af, out, p, o, link)
		if err != nil {
			abortOutputs(outs)
			return nil, err
		}
		fo.w, fo.ifc = w, ifcs
	}
	return outs, nil
}

func abortOutputs(outs []*finalOutput) {
	for _, fo := range outs {
		fo.af.Abort()
	}
}

// merge writes the packets of ins in time order into outs, as the
// selector keeps them, until -c packets or the -C size (size is what the
// files take before the first packet).
func merge(ctx context.Context, p *Plan, sel *selector, ins []*finalInput, outs []*finalOutput, res *finalResult, size int64) error {
	rs := make([]*pcapfile.Reader, len(ins))
	names := make([]string, len(ins))
	for i, in := range ins {
		rs[i], names[i] = in.r, "reading "+in.temp.Path
	}
	packets, err := pcapfile.NewPackets(ctx, rs, pcapfile.PacketsOptions{Names: names})
	if err != nil {
		return err
	}
	for p.Count == 0 || res.counts.Packets() < p.Count {
		i, pk, err := packets.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		in := ins[i]
		ok, dir, err := sel.keep(in.temp.Dir, in.r.Interfaces()[pk.Interface], pk)
		if err != nil {
			return err
		}
		// pdump writes one file per port; dumpcap captures one port.
		idx := in.temp.Index
		if !ok || idx < 0 {
			continue
		}
		fo := outputFor(outs, dir)
		n := sel.capLen(pk)
		rec := pcapfile.RecordSize(fo.out.Format, n)
		if p.MaxSize > 0 && size+rec > p.MaxSize {
			res.sizeFull = true
			return nil
		}
		size += rec
		if err := fo.write(pk, idx, dir, n); err != nil {
			return err
		}
		res.counts.add(dir, n)
		res.ports[idx].add(dir, n)
		if res.first == 0 {
			res.first = pk.Timestamp
		}
		res.last = pk.Timestamp
	}
	return nil
}

// write writes the first n bytes of pk, from port idx's direction dir.
func (fo *finalOutput) write(pk *pcapfile.Packet, idx int, dir string, n int) error {
	pk.Data = pk.Data[:n]
	markPacket(pk, fo.ifc, idx, dir)
	if err := fo.w.WritePacket(pk); err != nil {
		return fmt.Errorf("writing %s: %w", fo.out.Path, err)
	}
	fo.res.Packets++
	fo.res.Bytes += int64(n)
	if fo.first == 0 {
		fo.first = pk.Timestamp
	}
	fo.last = pk.Timestamp
	return nil
}

// closeOutputs finishes each file: for pcapng the interface statistics
// (what was delivered per port and direction, and when), then its size.
func closeOutputs(outs []*finalOutput, res *finalResult) error {
	for _, fo := range outs {
		setInterfaceStats(fo.w, fo.ifc, fo.first, fo.last, func(k ifKey) int64 { return res.ports[k.index].packets(k.dir) })
		if err := fo.w.Close(); err != nil {
			return fmt.Errorf("writing %s: %w", fo.out.Path, err)
		}
		if fi, err := fo.af.Stat(); err == nil {
			fo.res.Size = fi.Size()
		}
	}
	return nil
}

func outputFor(outs []*finalOutput, dir string) *finalOutput {
	for _, fo := range outs {
		if dir == dirRx && fo.out.Rx || dir == dirTx && fo.out.Tx {
			return fo
		}
	}
	return outs[0]
}

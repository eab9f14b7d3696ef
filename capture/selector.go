package capture

import (
	"fmt"

	"github.com/gzdoctor/gzdoctor/capture/bpf"
	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
)

// selector decides, the same way while counting and while writing the
// final file, which packets a capture keeps and in which direction: the
// direction of their file (pdump) or of their flags (dumpcap), the
// directions asked for, and the filter when gzdoctor applies it.
type selector struct {
	wantRx, wantTx bool
	filter         string // applied by gzdoctor; "" when none or the backend filters
	snapLen        int
	progs          map[[2]int]*bpf.Program
}

func newSelector(p *Plan) *selector {
	s := &selector{wantRx: p.wants(true), wantTx: p.wants(false), snapLen: p.SnapLen, progs: map[[2]int]*bpf.Program{}}
	if !p.FilterByBackend {
		s.filter = p.Filter
	}
	return s
}

// compile returns the filter program for an interface's link type.
func (s *selector) compile(ifc pcapfile.Interface) (*bpf.Program, error) {
	k := [2]int{int(ifc.LinkType), int(ifc.SnapLen)}
	if prog, ok := s.progs[k]; ok {
		return prog, nil
	}
	prog, err := bpf.Compile(s.filter, k[0], k[1])
	if err != nil {
		return nil, err
	}
	s.progs[k] = prog
	return prog, nil
}

// direction of a packet read from a temp file holding dir.
func direction(dir string, p *pcapfile.Packet) string {
	switch dir {
	case dirRx, dirTx:
		return dir
	}
	switch p.Direction() {
	case pcapfile.DirInbound:
		return dirRx
	case pcapfile.DirOutbound:
		return dirTx
	}
	return ""
}

// keep reports whether the packet is kept and its direction.
func (s *selector) keep(dir string, ifc pcapfile.Interface, p *pcapfile.Packet) (bool, string, error) {
	d := direction(dir, p)
	switch {
	case d == dirRx && !s.wantRx, d == dirTx && !s.wantTx:
		return false, d, nil
	case d == "":
		// dumpcap marks every packet; an unmarked one cannot be placed.
		return false, d, nil
	}
	if s.filter == "" {
		return true, d, nil
	}
	prog, err := s.compile(ifc)
	if err != nil {
		return false, d, fmt.Errorf("compiling the filter: %w", err)
	}
	return prog.Match(p.Data, p.OrigLen), d, nil
}

// capLen is the captured length the final file will hold.
func (s *selector) capLen(p *pcapfile.Packet) int {
	if s.snapLen > 0 && len(p.Data) > s.snapLen {
		return s.snapLen
	}
	return len(p.Data)
}

// recordSize is the bytes a packet of caplen n takes in format f, as
// pcapfile's writers write it (pcapng with its epb_flags option).
func recordSize(f pcapfile.Format, n int) int64 {
	if f == pcapfile.FormatPcap {
		return 16 + int64(n)
	}
	return 32 + int64(n+(4-n&3)&3) + 12
}

type bpfProgram = bpf.Program

// ethernet is the interface a filter is checked against before capturing.
var ethernet = pcapfile.Interface{LinkType: pcapfile.LinkTypeEthernet, SnapLen: 262144}

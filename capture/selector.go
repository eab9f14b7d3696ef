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
	progs          *bpf.Programs
}

func newSelector(p *Plan) *selector {
	s := &selector{wantRx: p.wants(true), wantTx: p.wants(false), snapLen: p.SnapLen}
	if !p.FilterByBackend {
		s.filter = p.Filter
	}
	s.progs = bpf.NewPrograms(s.filter)
	return s
}

// compile returns the filter program for an interface's link type.
func (s *selector) compile(ifc pcapfile.Interface) (*bpf.Program, error) {
	return s.progs.For(int(ifc.LinkType), int(ifc.SnapLen))
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

// ethernet is the interface a filter is checked against before capturing.
var ethernet = pcapfile.Interface{LinkType: pcapfile.LinkTypeEthernet, SnapLen: 262144}

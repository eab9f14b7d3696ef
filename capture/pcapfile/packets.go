package pcapfile

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Packets is the one packet loop of every tool that reads captures (filter,
// stats, merge, capture's finalisation): one or more readers read in
// timestamp order, cancellation checked every 4096 packets, io.EOF at the
// end, and, with salvage, an input's damage ending that input instead of
// the loop.
//
// Among equal timestamps the packet of the last input comes first:
// mergecap's choice, so `pcap merge` writes what mergecap writes, and
// capture's finalisation orders the backend's files the same way.
type Packets struct {
	ctx     context.Context
	ins     []packetSource
	salvage bool
	flush   func() error
	n       int
	last    int // input whose packet Next returned last; advanced on the next call
	// Damage lists the inputs that ended at damage (salvage only), each as
	// "<name>: <error>" ("<error>" for an input without a name).
	Damage []string
}

type packetSource struct {
	r    *Reader
	p    Packet
	live bool
	name string
}

// PacketsOptions control NewPackets.
type PacketsOptions struct {
	// Names label the inputs in errors ("<name>: <error>") and in Damage.
	Names []string
	// Salvage ends an input at its first damaged record (keeping what came
	// before) instead of failing.
	Salvage bool
	// Flush, when set, is called before a read that may wait for a writer
	// (the reader holds nothing buffered): in a live pipeline what was
	// written goes on before gzdoctor waits for more.
	Flush func() error
}

// NewPackets reads the first packet of each reader. An error there is the
// same as one from Next.
func NewPackets(ctx context.Context, rs []*Reader, o PacketsOptions) (*Packets, error) {
	m := &Packets{ctx: ctx, ins: make([]packetSource, len(rs)), salvage: o.Salvage, flush: o.Flush, last: -1}
	for i, r := range rs {
		m.ins[i].r = r
		if i < len(o.Names) {
			m.ins[i].name = o.Names[i]
		}
		if err := m.advance(i); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Packets) advance(i int) error {
	in := &m.ins[i]
	if m.flush != nil && in.r.Buffered() == 0 {
		if err := m.flush(); err != nil {
			return err
		}
	}
	err := in.r.Next(&in.p)
	if err == nil {
		in.live = true
		return nil
	}
	in.live = false
	if err == io.EOF {
		return nil
	}
	var fe *FormatError
	if m.salvage && errors.As(err, &fe) {
		m.Damage = append(m.Damage, m.label(in, err))
		return nil
	}
	if in.name == "" {
		return err
	}
	return fmt.Errorf("%s: %w", in.name, err)
}

func (m *Packets) label(in *packetSource, err error) string {
	if in.name == "" {
		return err.Error()
	}
	return in.name + ": " + err.Error()
}

// Next returns the earliest pending packet and the index of its input; the
// packet is valid, and may be changed by the caller, until the next call.
// It returns io.EOF when every input has ended, ctx's error once it is
// done.
func (m *Packets) Next() (int, *Packet, error) {
	if m.last >= 0 {
		if err := m.advance(m.last); err != nil {
			m.last = -1
			return -1, nil, err
		}
		m.last = -1
	}
	if m.n&4095 == 0 && m.ctx.Err() != nil {
		return -1, nil, m.ctx.Err()
	}
	m.n++
	best := -1
	for i := range m.ins {
		if m.ins[i].live && (best < 0 || m.ins[i].p.Timestamp <= m.ins[best].p.Timestamp) {
			best = i
		}
	}
	if best < 0 {
		return -1, nil, io.EOF
	}
	m.last = best
	return best, &m.ins[best].p, nil
}

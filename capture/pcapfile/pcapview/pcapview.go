// Package pcapview is the view of `gzdoctor pcap`: the reports of filter,
// merge and stats and their text form (their JSON is their fields, through
// ui.Render like every result). It keeps package pcapfile, the file
// library capture also uses, free of the terminal and its styles.
package pcapview

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
	"github.com/gzdoctor/gzdoctor/ui"
)

// FilterReport is the result of `gzdoctor pcap filter`.
type FilterReport struct {
	Input      string          `json:"input"`
	Output     string          `json:"output"`
	Format     pcapfile.Format `json:"format"`
	Expression string          `json:"expression"`
	// StdoutClosed: the output was stdout (-w -) and its reader closed
	// it, which stopped the command early.
	StdoutClosed bool `json:"stdout_closed,omitempty"`
	pcapfile.FilterResult
}

// outputName names an output path in a report: "-" is stdout.
func outputName(path string) string {
	if path == "-" {
		return "stdout"
	}
	return path
}

// inputName names an input path in a report: "-" is standard input.
func inputName(path string) string {
	if path == "-" {
		return "standard input"
	}
	return path
}

// RenderText implements ui.TextRenderer.
func (r FilterReport) RenderText(w io.Writer, st ui.Style, verbose bool) error {
	expr := r.Expression
	if expr == "" {
		expr = "(no filter: every packet)"
	}
	if r.Damage != "" {
		fmt.Fprintf(w, "%s %s is damaged %s; kept the %d intact packets before it\n", st.Yellow(st.Symbol("warn")), inputName(r.Input), r.Damage, r.Read)
	}
	if r.StdoutClosed {
		fmt.Fprintf(w, "%s stdout closed by its reader: stopped after %d packets read, %d matched %s\n", st.Yellow(st.Symbol("warn")), r.Read, r.Matched, expr)
		return nil
	}
	fmt.Fprintf(w, "%s %d of %d packets matched %s\n", st.Green(st.Symbol("ok")), r.Matched, r.Read, expr)
	fmt.Fprintf(w, "  wrote %s (%s, %d bytes of packet data)\n", outputName(r.Output), r.Format, r.Bytes)
	return nil
}

// MergeReport is the result of `gzdoctor pcap merge`.
type MergeReport struct {
	Inputs []string        `json:"inputs"`
	Output string          `json:"output"`
	Format pcapfile.Format `json:"format"`
	// StdoutClosed: as in FilterReport.
	StdoutClosed bool `json:"stdout_closed,omitempty"`
	pcapfile.MergeResult
}

// RenderText implements ui.TextRenderer.
func (r MergeReport) RenderText(w io.Writer, st ui.Style, verbose bool) error {
	for _, d := range r.Damage {
		fmt.Fprintf(w, "%s %s; kept the intact packets before it\n", st.Yellow(st.Symbol("warn")), d)
	}
	if r.StdoutClosed {
		fmt.Fprintf(w, "%s stdout closed by its reader: stopped after merging %d packets of %d files\n", st.Yellow(st.Symbol("warn")), r.Packets, len(r.Inputs))
		return nil
	}
	fmt.Fprintf(w, "%s merged %d files: %d packets in time order\n", st.Green(st.Symbol("ok")), len(r.Inputs), r.Packets)
	fmt.Fprintf(w, "  wrote %s (%s, %d bytes of packet data)\n", outputName(r.Output), r.Format, r.Bytes)
	return nil
}

// StatsReport is the result of `gzdoctor pcap stats`: one Stats per file.
type StatsReport struct {
	Files []*pcapfile.Stats `json:"files"`
}

// RenderText implements ui.TextRenderer.
func (r StatsReport) RenderText(w io.Writer, st ui.Style, verbose bool) error {
	for i, s := range r.Files {
		if i > 0 {
			fmt.Fprintln(w)
		}
		renderStats(w, st, s)
	}
	return nil
}

const timeLayout = "2006-01-02 15:04:05.000000000 UTC"

// renderStats is one file's part of StatsReport's text.
func renderStats(w io.Writer, st ui.Style, s *pcapfile.Stats) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\t%s\n", st.Bold("File:"), st.Bold(inputName(s.File)))
	if s.Damage != "" {
		fmt.Fprintf(tw, "%s\t%s damaged %s (figures cover the intact part)\n", "Damage:", st.Yellow(st.Symbol("warn")), s.Damage)
	}
	fmt.Fprintf(tw, "Format:\t%s, %d bytes\n", s.Format, s.FileSize)
	for i, f := range s.Interfaces {
		fmt.Fprintf(tw, "Interface %d:\t%s\n", i, describeInterface(f))
	}
	fmt.Fprintf(tw, "Packets:\t%d\n", s.Packets)
	fmt.Fprintf(tw, "Bytes:\t%d captured, %d on the wire\n", s.CapturedBytes, s.OriginalBytes)
	if s.First != nil {
		fmt.Fprintf(tw, "First packet:\t%s\n", s.First.Format(timeLayout))
		fmt.Fprintf(tw, "Last packet:\t%s\n", s.Last.Format(timeLayout))
		fmt.Fprintf(tw, "Span:\t%s\n", time.Duration(s.SpanSeconds*1e9).String())
		fmt.Fprintf(tw, "Rates:\t%.1f packets/s, %s, average packet %.1f bytes\n", s.PacketsPerSecond, bitRate(s.BitsPerSecond), s.AveragePacketSize)
		if !s.TimeOrdered {
			fmt.Fprintf(tw, "Time order:\t%s not in time order\n", st.Yellow(st.Symbol("warn")))
		}
	}
	if d := s.Directions; d != nil {
		fmt.Fprintf(tw, "Directions:\t%d in, %d out, %d unknown\n", d.Inbound, d.Outbound, d.Unknown)
	}
	p := s.Protocols
	if s.Packets > 0 {
		var mix []string
		for _, c := range []struct {
			name string
			n    int64
		}{{"IPv4", p.IPv4}, {"IPv6", p.IPv6}, {"TCP", p.TCP}, {"UDP", p.UDP}, {"ICMP", p.ICMP}, {"ICMPv6", p.ICMPv6}, {"other IP", p.OtherIP}, {"ARP", p.ARP}, {"non-IP", p.NonIP}, {"VLAN-tagged", p.VLAN}} {
			if c.n > 0 {
				mix = append(mix, fmt.Sprintf("%s %d (%.1f%%)", c.name, c.n, 100*float64(c.n)/float64(s.Packets)))
			}
		}
		fmt.Fprintf(tw, "Protocols:\t%s\n", strings.Join(mix, ", "))
		var ets []string
		for _, e := range p.EtherTypes {
			name := e.EtherType
			if e.Name != "" {
				name += " " + e.Name
			}
			ets = append(ets, fmt.Sprintf("%s %d", name, e.Packets))
		}
		if len(ets) > 0 {
			fmt.Fprintf(tw, "EtherTypes:\t%s\n", strings.Join(ets, ", "))
		}
	}
	tw.Flush()
	if len(s.TopTalkers) > 0 {
		fmt.Fprintln(w, "Top talkers:")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "  address\tpackets\tbytes\t\n")
		for _, t := range s.TopTalkers {
			fmt.Fprintf(tw, "  %s\t%d\t%d\t\n", t.Address, t.Packets, t.Bytes)
		}
		tw.Flush()
	}
	if len(s.Conversations) > 0 {
		fmt.Fprintln(w, "Conversations:")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  proto\tA\tB\tpackets\tbytes\n")
		for _, c := range s.Conversations {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%d\n", c.Protocol, c.A, c.B, c.Packets, c.Bytes)
		}
		tw.Flush()
	}
	if s.TalkersTruncated {
		fmt.Fprintf(w, "%s more than %d addresses or conversations: the rest are not ranked\n", st.Yellow(st.Symbol("warn")), pcapfile.MaxTracked)
	}
}

func describeInterface(f pcapfile.Interface) string {
	var parts []string
	if f.Name != "" {
		parts = append(parts, f.Name)
	}
	parts = append(parts, linkTypeName(f.LinkType))
	if f.SnapLen != 0 {
		parts = append(parts, fmt.Sprintf("snaplen %d", f.SnapLen))
	}
	switch f.Resolution() {
	case pcapfile.Micro:
		parts = append(parts, "µs")
	case pcapfile.Nano:
		parts = append(parts, "ns")
	default:
		parts = append(parts, fmt.Sprintf("1/%d s", f.Resolution()))
	}
	if f.Filter != "" {
		parts = append(parts, fmt.Sprintf("filter %q", f.Filter))
	}
	return strings.Join(parts, ", ")
}

func linkTypeName(l pcapfile.LinkType) string {
	switch l {
	case pcapfile.LinkTypeNull:
		return "BSD loopback"
	case pcapfile.LinkTypeEthernet:
		return "Ethernet"
	case pcapfile.LinkTypeRaw, 12, 14:
		return "raw IP"
	case pcapfile.LinkTypeLinuxSLL:
		return "Linux cooked"
	case pcapfile.LinkTypeLinuxSLL2:
		return "Linux cooked v2"
	case pcapfile.LinkTypeIPv4:
		return "raw IPv4"
	case pcapfile.LinkTypeIPv6:
		return "raw IPv6"
	}
	return fmt.Sprintf("link type %d", l)
}

func bitRate(bps float64) string {
	switch {
	case bps >= 1e9:
		return fmt.Sprintf("%.2f Gbit/s", bps/1e9)
	case bps >= 1e6:
		return fmt.Sprintf("%.2f Mbit/s", bps/1e6)
	case bps >= 1e3:
		return fmt.Sprintf("%.2f kbit/s", bps/1e3)
	}
	return fmt.Sprintf("%.0f bit/s", bps)
}

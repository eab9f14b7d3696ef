package pcapfile

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	gold "github.com/gzdoctor/gzdoctor/internal/golden"

	"github.com/gzdoctor/gzdoctor/ui"
)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	gold.Check(t, filepath.Join(fixtures, "golden", name), got)
}

func statsFor(t *testing.T, name string, data []byte) *Stats {
	r, err := NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	s, err := ComputeStats(context.Background(), r, StatsOptions{Top: 5, Salvage: true})
	if err != nil {
		t.Fatal(err)
	}
	s.File, s.FileSize = name, int64(len(data))
	return s
}

func TestStatsGolden(t *testing.T) {
	var pk []Packet
	for i, p := range frames(400) {
		p.SetDirection(Direction(1 + i%2))
		pk = append(pk, p)
	}
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, FormatPcapNG, []Interface{{LinkType: LinkTypeEthernet, SnapLen: 65535, Name: "net_ring0"}}, NGOptions{})
	for i := range pk {
		w.WritePacket(&pk[i])
	}
	w.Close()
	multi, _ := os.ReadFile(filepath.Join(fixtures, "multi.pcapng"))
	nano, _ := os.ReadFile(filepath.Join(fixtures, "le-nano.pcap"))
	rep := StatsReport{Files: []*Stats{
		statsFor(t, "traffic.pcapng", buf.Bytes()),
		statsFor(t, "multi.pcapng", multi),
		statsFor(t, "le-nano-cut.pcap", nano[:len(nano)-5]),
	}}
	var text bytes.Buffer
	if err := rep.RenderText(&text, ui.Style{}, false); err != nil {
		t.Fatal(err)
	}
	golden(t, "stats.txt", text.Bytes())
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "stats.json", append(js, '\n'))
}

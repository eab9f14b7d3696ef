package pcapview

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
	gold "github.com/gzdoctor/gzdoctor/internal/golden"
	"github.com/gzdoctor/gzdoctor/internal/pcapgen"
	"github.com/gzdoctor/gzdoctor/ui"
)

const fixtures = "../../../testdata/pcap"

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	gold.Check(t, filepath.Join(fixtures, "golden", name), got)
}

func statsFor(t *testing.T, name string, data []byte) *pcapfile.Stats {
	r, err := pcapfile.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	s, err := pcapfile.ComputeStats(context.Background(), r, pcapfile.StatsOptions{Top: 5, Salvage: true})
	if err != nil {
		t.Fatal(err)
	}
	s.File, s.FileSize = name, int64(len(data))
	return s
}

func TestStatsGolden(t *testing.T) {
	var buf bytes.Buffer
	w, _ := pcapfile.NewWriter(&buf, pcapfile.FormatPcapNG, []pcapfile.Interface{{LinkType: pcapfile.LinkTypeEthernet, SnapLen: 65535, Name: "net_ring0"}}, pcapfile.NGOptions{})
	for i, f := range pcapgen.Traffic(400, 3, 1_700_000_000_123456789, 50_000) {
		p := pcapfile.Packet{Timestamp: f.Timestamp, Data: f.Data, OrigLen: f.OrigLen}
		p.SetDirection(pcapfile.Direction(1 + i%2))
		w.WritePacket(&p)
	}
	w.Close()
	multi, _ := os.ReadFile(filepath.Join(fixtures, "multi.pcapng"))
	nano, _ := os.ReadFile(filepath.Join(fixtures, "le-nano.pcap"))
	rep := StatsReport{Files: []*pcapfile.Stats{
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

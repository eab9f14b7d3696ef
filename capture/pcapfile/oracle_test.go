package pcapfile

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/internal/testenv"
)

func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		testenv.Tool(t, tool, "Debian packages tcpdump, tshark, wireshark-common")
	}
}

// writeFile writes pkts as a pcap (res Micro or Nano) or pcapng file.
func writeFile(t *testing.T, path string, f Format, res uint64, pkts []Packet) {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, f, []Interface{{LinkType: LinkTypeEthernet, SnapLen: 65535, TsResolution: res}}, NGOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range pkts {
		if err := w.WritePacket(&pkts[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// mergeInputs are three captures whose timestamps interleave and collide,
// within and across files, so the order of equal timestamps matters.
func mergeInputs(t *testing.T, dir string) []string {
	all := frames(900)
	var a, b, c []Packet
	for i, p := range all {
		p.Timestamp -= p.Timestamp % 1_000_000 // millisecond steps: many ties
		switch i % 3 {
		case 0:
			a = append(a, p)
		case 1:
			b = append(b, p)
		default:
			p.Timestamp -= 20_000_000
			c = append(c, p)
		}
	}
	paths := []string{filepath.Join(dir, "a.pcap"), filepath.Join(dir, "b.pcapng"), filepath.Join(dir, "c.pcap")}
	writeFile(t, paths[0], FormatPcap, Micro, a)
	writeFile(t, paths[1], FormatPcapNG, Nano, b)
	writeFile(t, paths[2], FormatPcap, Nano, c)
	return paths
}

func openAll(t *testing.T, paths []string) []*Reader {
	var rs []*Reader
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		r, err := NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	return rs
}

func TestMergeLikeMergecap(t *testing.T) {
	needTools(t, "mergecap")
	dir := t.TempDir()
	paths := mergeInputs(t, dir)
	for _, f := range []Format{FormatPcap, FormatPcapNG} {
		t.Run(f.String(), func(t *testing.T) {
			ref := filepath.Join(dir, "ref."+f.String())
			if out, err := exec.Command("mergecap", append([]string{"-F", f.String(), "-w", ref}, paths...)...).CombinedOutput(); err != nil {
				t.Fatalf("mergecap: %v\n%s", err, out)
			}
			var buf bytes.Buffer
			res, err := Merge(context.Background(), &buf, openAll(t, paths), MergeOptions{Format: f})
			if err != nil {
				t.Fatal(err)
			}
			refB, _ := os.ReadFile(ref)
			_, want := readAll(t, refB)
			gr, got := readAll(t, buf.Bytes())
			if res.Packets != int64(len(want)) || len(got) != len(want) {
				t.Fatalf("merged %d (%d read back), mergecap %d", res.Packets, len(got), len(want))
			}
			for i := range got {
				if got[i].Timestamp != want[i].Timestamp || !bytes.Equal(got[i].Data, want[i].Data) || got[i].OrigLen != want[i].OrigLen {
					t.Fatalf("packet %d differs from mergecap's: ts %d vs %d", i, got[i].Timestamp, want[i].Timestamp)
				}
			}
			if f == FormatPcapNG && len(gr.Interfaces()) != 3 {
				t.Errorf("%d interfaces, want one per input interface (3)", len(gr.Interfaces()))
			}
		})
	}
}

func TestMergeDirectionsAndErrors(t *testing.T) {
	dir := t.TempDir()
	paths := mergeInputs(t, dir)
	var buf bytes.Buffer
	_, err := Merge(context.Background(), &buf, openAll(t, paths[:2]), MergeOptions{Directions: []Direction{DirInbound, DirOutbound}})
	if err != nil {
		t.Fatal(err)
	}
	_, got := readAll(t, buf.Bytes())
	for i, p := range got {
		if want := []Direction{DirInbound, DirOutbound}[p.Interface]; p.Direction() != want {
			t.Fatalf("packet %d from interface %d has direction %v", i, p.Interface, p.Direction())
		}
	}
	// A damaged input fails the merge, or with Salvage ends that input.
	b, _ := os.ReadFile(paths[0])
	cut := filepath.Join(dir, "cut.pcap")
	os.WriteFile(cut, b[:len(b)-7], 0o600)
	if _, err := Merge(context.Background(), &buf, openAll(t, []string{cut, paths[1]}), MergeOptions{}); err == nil || !strings.Contains(err.Error(), "byte offset") {
		t.Errorf("damaged input: %v", err)
	}
	res, err := Merge(context.Background(), &buf, openAll(t, []string{cut, paths[1]}), MergeOptions{Salvage: true, Names: []string{"cut.pcap", "b"}})
	if err != nil || len(res.Damage) != 1 || !strings.HasPrefix(res.Damage[0], "cut.pcap: ") || res.Packets != 599 {
		t.Errorf("salvage: %+v %v", res, err)
	}
}

// capinfos prints, with -T -M -r -c -d -a -e -S: file, packets, data size
// (bytes on the wire), duration, first and last time in seconds.
func capinfos(t *testing.T, path string) []string {
	out, err := exec.Command("capinfos", "-T", "-M", "-r", "-c", "-d", "-u", "-a", "-e", "-S", path).Output()
	if err != nil {
		t.Fatalf("capinfos %s: %v", path, err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\t")
}

func secString(ns int64) string {
	return fmt.Sprintf("%d.%09d", ns/1e9, ns%1e9)
}

func TestStatsLikeCapinfos(t *testing.T) {
	needTools(t, "capinfos")
	dir := t.TempDir()
	paths := mergeInputs(t, dir)
	fx, _ := filepath.Glob(filepath.Join(fixtures, "*.pcap"))
	for _, path := range append(paths, fx...) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			b, _ := os.ReadFile(path)
			r, err := NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			s, err := ComputeStats(context.Background(), r, StatsOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ci := capinfos(t, path)
			// capinfos prints its times with the file's precision.
			prec := 6
			if r.Resolution() == Nano {
				prec = 9
			}
			trim := func(s string) string { return s[:len(s)-(9-prec)] }
			got := []string{
				strconv.FormatInt(s.Packets, 10),
				strconv.FormatInt(s.OriginalBytes, 10),
				trim(secString(s.Last.UnixNano() - s.First.UnixNano())),
				trim(secString(s.First.UnixNano())),
				trim(secString(s.Last.UnixNano())),
			}
			if strings.Join(got, " ") != strings.Join(ci[1:], " ") {
				t.Errorf("gzdoctor %v, capinfos %v", got, ci[1:])
			}
		})
	}
}

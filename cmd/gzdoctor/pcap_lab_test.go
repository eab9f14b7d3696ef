package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
	"github.com/gzdoctor/gzdoctor/capture/pcapfile/pcapview"
	"github.com/gzdoctor/gzdoctor/internal/lab"
)

// labFilterExprs are run through `gzdoctor pcap filter` and tcpdump on real
// captures of the lab primary's traffic (UDP from three clients, TCP
// handshakes, ICMP, ARP, VLAN 100, IPv6): hosts, nets, ports, protocols,
// boolean operators, VLAN, byte offsets, lengths and TCP flags.
var labFilterExprs = []string{
	"",
	"src host 192.168.1.10",
	"dst host 192.168.1.1 and udp",
	"host 192.168.1.11 or host 192.168.1.12",
	"net 192.168.1.0/28",
	"src net 192.168.1.8/30 and dst port 8080",
	"not net 192.168.0.0/16",
	"udp port 8080",
	"udp src port 10002",
	"tcp dst port 80",
	"portrange 10001-10002",
	"udp and not port 8080",
	"ip",
	"ip6",
	"ip6 and udp dst port 8080",
	"arp",
	"arp[7] = 1",
	"icmp",
	"icmp[icmptype] = icmp-echoreply",
	"tcp",
	"tcp[tcpflags] & tcp-syn != 0",
	"tcp[tcpflags] & (tcp-syn|tcp-ack) = (tcp-syn|tcp-ack)",
	"tcp[tcpflags] = tcp-ack",
	"vlan",
	"vlan 100 and udp dst port 5001",
	"vlan 200",
	"udp[8:2] > 0",
	"udp[4:2] > 30",
	"ether[12:2] = 0x0806",
	"ether[12:2] = 0x8100 or ether[12:2] = 0x86dd",
	"ether src 02:00:00:00:00:10",
	"ether broadcast",
	"ip[2:2] > 100",
	"ip[8] = 64",
	"len > 100",
	"len < 70",
	"greater 128",
	"less 64",
	"not ip and not ip6",
	"(udp or icmp) and src host 192.168.1.10",
	"icmp or arp or ip6",
}

// labCapture runs the real dpdk-pdump against a lab primary for d (both
// directions into rx.pcap and tx.pcap, stopped with SIGINT) and the real
// dpdk-dumpcap for n packets (pcapng).
func labCapture(t *testing.T) (rx, tx, ng string) {
	for _, tool := range []string{"dpdk-pdump", "dpdk-dumpcap", "tcpdump", "mergecap", "capinfos"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not installed (lab/setup installs it)", tool)
		}
	}
	p := lab.StartT(t, lab.Config{})
	dir := t.TempDir()
	rx, tx, ng = filepath.Join(dir, "rx.pcap"), filepath.Join(dir, "tx.pcap"), filepath.Join(dir, "dumpcap.pcapng")
	pdump := startBackground(t, exec.Command("dpdk-pdump", "--file-prefix", p.Prefix, "--",
		"--pdump", fmt.Sprintf("device_id=%s,queue=*,rx-dev=%s,tx-dev=%s,ring-size=1024,total-num-mbufs=4095", p.Device, rx, tx)))
	// Stop once both files hold the 1000 packets TestPcapLab needs (about
	// 210 kB at the lab's mix of sizes; pdump's stdio buffers reach the
	// file 4 KiB at a time), however long a loaded machine takes to attach.
	grown := func(f string) bool { fi, err := os.Stat(f); return err == nil && fi.Size() >= 512<<10 }
	for deadline := time.Now().Add(30 * time.Second); !grown(rx) || !grown(tx); {
		if time.Now().After(deadline) {
			t.Fatalf("dpdk-pdump wrote no 512 KiB to %s and %s within 30 s:\n%s", rx, tx, pdump.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := pdump.interrupt(15 * time.Second); err != nil {
		t.Fatalf("dpdk-pdump: %v\n%s%s", err, pdump.stdout.String(), pdump.stderr.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if b, err := exec.CommandContext(ctx, "dpdk-dumpcap", "--file-prefix", p.Prefix, "-i", p.Device, "-w", ng, "-c", "2000").CombinedOutput(); err != nil {
		t.Fatalf("dpdk-dumpcap: %v\n%s", err, b)
	}
	return rx, tx, ng
}

func samePackets(t *testing.T, what string, got, want []pcapfile.Packet) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d packets, reference %d", what, len(got), len(want))
		return
	}
	// Classic pcap stores 32-bit seconds: a reference written as pcap
	// holds timestamps past 2106 modulo 2^32 s (DPDK 22.11's dpdk-dumpcap
	// stamps packets in the year 2251).
	wrap := func(ns uint64) uint64 { return (ns/1e9)%(1<<32)*1e9 + ns%1e9 }
	for i := range got {
		if wrap(got[i].Timestamp) != wrap(want[i].Timestamp) || got[i].OrigLen != want[i].OrigLen || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Errorf("%s: packet %d differs (ts %d vs %d, %d vs %d bytes)", what, i, got[i].Timestamp, want[i].Timestamp, len(got[i].Data), len(want[i].Data))
			return
		}
	}
}

// TestPcapLab is the differential test on real captures: every expression
// selects the same packets as tcpdump, merge equals mergecap, stats agree
// with capinfos.
func TestPcapLab(t *testing.T) {
	rx, tx, ng := labCapture(t)
	dir := t.TempDir()
	for _, in := range []string{rx, tx, ng} {
		if _, pk := readCapture(t, in); len(pk) < 1000 {
			t.Fatalf("%s holds only %d packets", in, len(pk))
		}
	}
	if len(labFilterExprs) < 30 {
		t.Fatalf("%d expressions, want at least 30", len(labFilterExprs))
	}
	var mu sync.Mutex // Main shares nothing, but keep the output readable
	for _, in := range []string{rx, tx, ng} {
		name := filepath.Base(in)
		_, all := readCapture(t, in)
		t.Run(name, func(t *testing.T) {
			nonEmpty := 0
			for i, expr := range labFilterExprs {
				ours := filepath.Join(dir, fmt.Sprintf("%s-%d.out", name, i))
				ref := filepath.Join(dir, fmt.Sprintf("%s-%d.ref", name, i))
				args := []string{"pcap", "filter", in, "-w", ours}
				if expr != "" {
					args = append(args, "-f", expr)
				}
				mu.Lock()
				code, _, stderr := run(t, args...)
				mu.Unlock()
				if code != exitOK {
					t.Fatalf("%q: exit %d: %s", expr, code, stderr)
				}
				targs := []string{"--time-stamp-precision=nano", "-r", in, "-w", ref}
				if expr != "" {
					targs = append(targs, expr)
				}
				if b, err := exec.Command("tcpdump", targs...).CombinedOutput(); err != nil {
					t.Fatalf("tcpdump %q: %v\n%s", expr, err, b)
				}
				_, got := readCapture(t, ours)
				_, want := readCapture(t, ref)
				samePackets(t, fmt.Sprintf("%s %q", name, expr), got, want)
				if len(want) > 0 && len(want) < len(all) {
					nonEmpty++
				}
			}
			// The test only means something if expressions actually split the
			// traffic.
			if nonEmpty < len(labFilterExprs)/2 {
				t.Errorf("only %d expressions select a proper subset of %s", nonEmpty, name)
			}
		})
	}

	t.Run("merge", func(t *testing.T) {
		// gzdoctor's pcap output keeps nanoseconds when an input has them,
		// which is mergecap's "nsecpcap".
		for f, mf := range map[string]string{"pcap": "nsecpcap", "pcapng": "pcapng"} {
			ours, ref := filepath.Join(dir, "merged."+f), filepath.Join(dir, "mergecap."+f)
			if code, _, stderr := run(t, "pcap", "merge", rx, tx, ng, "-F", f, "-w", ours); code != exitOK {
				t.Fatalf("merge: %s", stderr)
			}
			if b, err := exec.Command("mergecap", "-F", mf, "-w", ref, rx, tx, ng).CombinedOutput(); err != nil {
				t.Fatalf("mergecap: %v\n%s", err, b)
			}
			_, got := readCapture(t, ours)
			_, want := readCapture(t, ref)
			samePackets(t, "merge -F "+f, got, want)
		}
	})

	t.Run("stats", func(t *testing.T) {
		code, stdout, stderr := run(t, "-o", "json", "pcap", "stats", rx, tx, ng)
		if code != exitOK {
			t.Fatalf("stats: %s", stderr)
		}
		var env struct {
			Data pcapview.StatsReport `json:"data"`
		}
		if err := json.Unmarshal([]byte(stdout), &env); err != nil {
			t.Fatal(err)
		}
		for i, in := range []string{rx, tx, ng} {
			out, err := exec.Command("capinfos", "-T", "-M", "-r", "-c", "-d", "-u", "-a", "-e", "-S", in).Output()
			if err != nil {
				t.Fatal(err)
			}
			ci := strings.Split(strings.TrimSpace(string(out)), "\t")
			s := env.Data.Files[i]
			prec := len(ci[4]) - strings.IndexByte(ci[4], '.') - 1
			// Seconds and nanoseconds apart: dumpcap's times are past
			// what int64 nanoseconds (UnixNano) hold.
			ts := func(sec int64, ns int) string {
				v := fmt.Sprintf("%d.%09d", sec, ns)
				return v[:len(v)-(9-prec)]
			}
			at := func(t *time.Time) string { return ts(t.Unix(), t.Nanosecond()) }
			span := s.Last.Sub(*s.First)
			got := []string{fmt.Sprint(s.Packets), fmt.Sprint(s.OriginalBytes), ts(int64(span/time.Second), int(span%time.Second)), at(s.First), at(s.Last)}
			if strings.Join(got, " ") != strings.Join(ci[1:], " ") {
				t.Errorf("%s: gzdoctor %v, capinfos %v", filepath.Base(in), got, ci[1:])
			}
			if s.Protocols.UDP == 0 || s.Protocols.ARP == 0 || len(s.TopTalkers) == 0 {
				t.Errorf("%s: protocol mix %+v, %d talkers", filepath.Base(in), s.Protocols, len(s.TopTalkers))
			}
		}
	})
	_ = os.RemoveAll(dir)
}

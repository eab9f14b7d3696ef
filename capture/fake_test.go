package capture

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
)

// The test binary doubles as a fake pdump: with GZDOCTOR_FAKE_BACKEND set
// it parses --pdump like dpdk-pdump, writes frames into rx-dev/tx-dev as
// the pcap PMD does (a flush per burst), and behaves as the variable says.
// It lets the supervisor's stop logic be tested without DPDK.
const fakeEnv = "GZDOCTOR_FAKE_BACKEND"

// fakePrefix is this test process's prefix for fake captures: the capture
// lock and the search for other capture tools are per prefix, and other
// test processes (other packages, other worktrees) run fake captures too.
func fakePrefix() string { return "fake" + strconv.Itoa(os.Getpid()) }

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeEnv); mode != "" {
		os.Exit(fakeBackend(mode, os.Args[1:]))
	}
	if dir := os.Getenv(runnerEnv); dir != "" {
		os.Exit(fakeRunner(dir))
	}
	os.Exit(m.Run())
}

// Fake backend modes.
const (
	fakeNormal   = "normal"   // capture until SIGINT, print pdump's stats, exit 0
	fakeDeaf     = "deaf"     // ignore SIGINT
	fakeWrongPfx = "wrongpfx" // print 22.11's wrong-prefix panic, exit 134
	fakeDie      = "die"      // write 100 packets, exit 1 without a word
	fakeTorn     = "torn"     // write 50 packets and half a record, then hang
	fakeSilent   = "silent"   // say it captures, write the file headers, never a packet
	fakeMute     = "mute"     // never say it captures, never write
	fakeZeroLen  = "zerolen"  // capture, with a zero-length record stamped 1970 in every burst
	fakeOrphan   = "orphan"   // start a child holding its stdout and stderr, write 100 packets, exit 1
)

func fakeBackend(mode string, args []string) int {
	var rx, tx string
	prefix := "rte"
	for i, a := range args {
		if a == "--file-prefix" && i+1 < len(args) {
			prefix = args[i+1]
		}
		if a == "--pdump" && i+1 < len(args) {
			for _, kv := range strings.Split(args[i+1], ",") {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "rx-dev":
					rx = v
				case "tx-dev":
					tx = v
				}
			}
		}
	}
	fmt.Println("EAL: Detected CPU lcores: 2")
	if mode == fakeWrongPfx {
		fmt.Fprintf(os.Stderr, "EAL: Cannot open '/var/run/dpdk/%s/config' for rte_mem_config\n", prefix)
		fmt.Fprintln(os.Stderr, "EAL: FATAL: Cannot init config")
		fmt.Fprintln(os.Stderr, "EAL: Cannot init config")
		fmt.Fprintln(os.Stderr, "PANIC in main():")
		fmt.Fprintln(os.Stderr, "Cannot init EAL")
		return 134
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT)
	if mode == fakeDeaf {
		signal.Ignore(syscall.SIGINT)
	}
	type out struct {
		f *os.File
		w *pcapfile.PcapWriter
	}
	var outs []out
	for _, p := range []string{rx, tx} {
		if p == "" {
			continue
		}
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		w, _ := pcapfile.NewPcapWriter(f, pcapfile.LinkTypeEthernet, 65535, pcapfile.Nano)
		outs = append(outs, out{f, w})
	}
	var log *os.File
	if p := os.Getenv(fakeBackendLog); p != "" {
		log, _ = os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		fmt.Fprintf(log, "pid %d\n", os.Getpid())
	}
	if mode == fakeMute || mode == fakeSilent {
		if mode == fakeSilent {
			for _, o := range outs {
				o.w.Flush()
			}
			fmt.Println(" core (0), capture for (1) tuples")
		}
		<-sig
		fmt.Println("\n\nSignal 2 received, preparing to exit...")
		return 0
	}
	if mode == fakeOrphan {
		// The child outlives the fake: it holds the fake's stdout and
		// stderr, so they do not close when the fake exits.
		c := exec.Command("sleep", "300")
		c.Stdout, c.Stderr = os.Stdout, os.Stderr
		if err := c.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("orphan %d\n", c.Process.Pid)
	}
	fmt.Println(" core (0), capture for (1) tuples")
	frame := make([]byte, 100)
	var n int64
	tick := time.NewTicker(2 * time.Millisecond)
	for {
		select {
		case <-sig:
			if log != nil {
				fmt.Fprintf(log, "sigint %d\n", time.Now().UnixNano())
			}
			fmt.Println("\n\nSignal 2 received, preparing to exit...")
			fmt.Println("##### PDUMP DEBUG STATS #####")
			fmt.Printf(" -packets dequeued:\t\t\t%d\n", n)
			fmt.Printf(" -packets transmitted to vdev:\t\t%d\n", n)
			fmt.Printf(" -packets freed:\t\t\t0\n")
			return 0
		case <-tick.C:
		}
		for range 10 { // a burst
			for _, o := range outs {
				frame[0] = byte(n)
				p := pcapfile.Packet{Timestamp: uint64(time.Now().UnixNano()), OrigLen: uint32(len(frame)), Data: frame}
				o.w.WritePacket(&p)
				n++
				if mode == fakeZeroLen {
					o.w.WritePacket(&pcapfile.Packet{Timestamp: uint64(n)})
				}
			}
		}
		for _, o := range outs {
			o.w.Flush()
		}
		switch {
		case (mode == fakeDie || mode == fakeOrphan) && n >= 100:
			return 1
		case mode == fakeTorn && n >= 50:
			outs[0].f.Write([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 200, 0, 0, 0, 200, 0, 0, 0, 1, 2})
			select {}
		}
	}
}

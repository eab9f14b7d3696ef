package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gzdoctor/gzdoctor/host"
)

// statsFixture builds, under a fake root, what openPdumpStats reads of a
// live primary: its fbarray_memzone (RTE_MAX_MEMZONE 2560, 4 KiB pages),
// its /proc/<pid>/maps and a sparse /proc/<pid>/mem holding the memzone
// at its address, as DPDK 22.11 lays it out with RTE_MAX_ETHPORTS 32.
type statsFixture struct {
	root, dir string
	pid       int
	addr      uint64 // the memzone
	ports     int
	length    uint64 // the memzone's len
	mzVA      uint64 // where the primary maps fbarray_memzone
	idx       int    // the memzone's element
	backPtr   uint64 // the struct's tail pointer; default mzVA+idx*72
	name      string
}

func newStatsFixture(t *testing.T) *statsFixture {
	f := &statsFixture{root: t.TempDir(), pid: 4242, addr: 0x1005fffc0, ports: 32, mzVA: 0x7f0000001000, idx: 5, name: pdumpStatsMemzone}
	f.length = uint64(2*f.ports*maxQueuesPerPort*pdumpStatsRow + 64)
	f.dir = "/var/run/dpdk/fx"
	return f
}

// row is the offset of a direction's (0 rx, 1 tx) port/queue row.
func (f *statsFixture) row(dir, port, queue int) int64 {
	return int64(f.addr) + int64(((dir*f.ports+port)*maxQueuesPerPort+queue)*pdumpStatsRow)
}

func (f *statsFixture) write(t *testing.T, rows map[int64][8]uint64) *host.Host {
	t.Helper()
	const n = 2560
	data := n * memzoneElt
	words := (n + 63) / 64
	size := (data + 8 + 8*words + 4095) / 4096 * 4096
	fb := make([]byte, size)
	binary.LittleEndian.PutUint32(fb[data:], uint32(words))
	use := func(i int, name string, addr, length uint64) {
		e := fb[i*memzoneElt:]
		copy(e, name)
		binary.LittleEndian.PutUint64(e[40:], addr)
		binary.LittleEndian.PutUint64(e[48:], length)
		binary.LittleEndian.PutUint64(e[56:], 2<<20)
		m := fb[data+8+8*(i/64):]
		binary.LittleEndian.PutUint64(m, binary.LittleEndian.Uint64(m)|1<<(i%64))
	}
	use(0, "MP_rte_pdump_pool", 0x100000000, 4096)
	use(f.idx, f.name, f.addr, f.length)
	dir := filepath.Join(f.root, f.dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	fbPath := filepath.Join(dir, "fbarray_memzone")
	if err := os.WriteFile(fbPath, fb, 0o600); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(fbPath)
	ino := fi.Sys().(*syscall.Stat_t).Ino
	proc := filepath.Join(f.root, "proc", fmt.Sprint(f.pid))
	os.MkdirAll(proc, 0o700)
	// The primary opened it as /run/dpdk/...: /var/run is a link.
	maps := fmt.Sprintf("55d0a0000000-55d0a0001000 r-xp 00000000 08:01 1234 /usr/bin/primary\n"+
		"%x-%x rw-s 00000000 00:1a %d /run/dpdk/fx/fbarray_memzone\n", f.mzVA, f.mzVA+uint64(size), ino)
	if err := os.WriteFile(filepath.Join(proc, "maps"), []byte(maps), 0o600); err != nil {
		t.Fatal(err)
	}
	mem, err := os.Create(filepath.Join(proc, "mem"))
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	if err := mem.Truncate(int64(f.addr + f.length)); err != nil {
		t.Fatal(err)
	}
	back := f.backPtr
	if back == 0 {
		back = f.mzVA + uint64(f.idx*memzoneElt)
	}
	tail := binary.LittleEndian.AppendUint64(nil, back)
	if _, err := mem.WriteAt(tail, int64(f.addr)+int64(2*f.ports*maxQueuesPerPort*pdumpStatsRow)); err != nil {
		t.Fatal(err)
	}
	for off, r := range rows {
		var b []byte
		for _, v := range r {
			b = binary.LittleEndian.AppendUint64(b, v)
		}
		if _, err := mem.WriteAt(b, off); err != nil {
			t.Fatal(err)
		}
	}
	return host.New(f.root)
}

func TestPdumpStatsRead(t *testing.T) {
	f := newStatsFixture(t)
	h := f.write(t, map[int64][8]uint64{
		f.row(0, 1, 0):    {100, 1, 2, 30},
		f.row(0, 1, 3):    {50, 0, 0, 5},
		f.row(1, 1, 0):    {70, 0, 4, 7},
		f.row(0, 0, 0):    {999, 999, 999, 999}, // another port
		f.row(1, 2, 1023): {999, 999, 999, 999},
	})
	for _, tc := range []struct {
		queue int
		want  PrimaryStats
	}{
		{-1, PrimaryStats{Rx: PdumpCounters{150, 1, 2, 35}, Tx: PdumpCounters{70, 0, 4, 7}}},
		{3, PrimaryStats{Rx: PdumpCounters{50, 0, 0, 5}}},
	} {
		r, err := openPdumpStats(h, f.dir, f.pid, 1, tc.queue)
		if err != nil {
			t.Fatal(err)
		}
		if r.ports != 32 {
			t.Errorf("ports %d, want 32 from the length", r.ports)
		}
		got, err := r.read()
		if err != nil || got != tc.want {
			t.Errorf("queue %d: read %+v, %v; want %+v", tc.queue, got, err, tc.want)
		}
	}
}

func TestPdumpStatsRefusesWhatItDoesNotKnow(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*statsFixture)
		port   int
		want   string
	}{
		{"no memzone", func(f *statsFixture) { f.name = "rte_other" }, 0, "no rte_pdump_stats memzone"},
		{"odd length", func(f *statsFixture) { f.length -= 64 }, 0, "not the rte_pdump_stats layout"},
		{"wrong back pointer", func(f *statsFixture) { f.backPtr = 0xdead000 }, 0, "back pointer"},
		{"port past the build's ports", func(f *statsFixture) {}, 32, "past the primary's 32 ports"},
		{"unknown port", func(f *statsFixture) {}, -1, "port number is unknown"},
		{"no pid", func(f *statsFixture) { f.pid = 0 }, 0, "pid is not visible"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newStatsFixture(t)
			tc.change(f)
			pid := f.pid
			if pid == 0 {
				f.pid = 1
			}
			h := f.write(t, nil)
			_, err := openPdumpStats(h, f.dir, pid, tc.port, -1)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	t.Run("reserved words set", func(t *testing.T) {
		f := newStatsFixture(t)
		h := f.write(t, map[int64][8]uint64{f.row(1, 0, 7): {1, 0, 0, 0, 0, 0, 9, 0}})
		r, err := openPdumpStats(h, f.dir, f.pid, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.read(); err == nil || !strings.Contains(err.Error(), "reserved") {
			t.Errorf("err = %v, want the reserved words refused", err)
		}
	})
	f := newStatsFixture(t)
	f.name = "rte_other"
	_, err := openPdumpStats(f.write(t, nil), f.dir, f.pid, 0, -1)
	if !errors.Is(err, errNoPdumpStats) {
		t.Errorf("err = %v, want errNoPdumpStats", err)
	}
}

func TestPrimaryStatsRendered(t *testing.T) {
	res := &Result{Plan: &Plan{Backend: BackendPdump, Binary: "/usr/bin/dpdk-pdump", Port: 0}, Stopped: StopDuration, ExitStatus: "exit status 0",
		Primary: &PrimaryStats{Rx: PdumpCounters{Accepted: 1000, RingFull: 900}, Tx: PdumpCounters{Accepted: 500, NoMbuf: 3, Filtered: 7}}}
	var b strings.Builder
	if err := res.RenderText(&b, noStyle, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"primary: rx 100 copied, 900 lost (ring full 900, no mbuf 0); tx 500 copied, 3 lost (ring full 0, no mbuf 3), 7 filtered",
		"the primary lost 903 packets before dpdk-pdump saw them",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %q in:\n%s", want, b.String())
		}
	}
	res.Primary, res.PrimaryUnavailable = nil, "the primary's pid is not visible"
	b.Reset()
	res.RenderText(&b, noStyle, true)
	if !strings.Contains(b.String(), "primary: unknown (the primary's pid is not visible)") {
		t.Errorf("-v does not say why:\n%s", b.String())
	}
}

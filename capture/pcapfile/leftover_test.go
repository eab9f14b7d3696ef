package pcapfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func writePcap(t *testing.T, path string, packets int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if packets < 0 {
		return // an empty file, as the capture creates it
	}
	w, err := NewPcapWriter(f, LinkTypeEthernet, 65535, Nano)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < packets; i++ {
		p := Packet{Timestamp: uint64(i), OrigLen: 60, Data: make([]byte, 60)}
		w.WritePacket(&p)
	}
	w.Flush()
}

// TestFindLeftovers: what killed runs leave is told from what live ones
// hold by the flock their writers keep; packets are never removed.
func TestFindLeftovers(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		return p
	}
	withPackets := mk(".gzdoctor-4000001")
	writePcap(t, filepath.Join(withPackets, "rx.pcap"), 5)
	writePcap(t, filepath.Join(withPackets, "tx.pcap"), 3)
	empty := mk(".gzdoctor-4000002-3")
	writePcap(t, filepath.Join(empty, "rx.pcap"), -1)
	writePcap(t, filepath.Join(empty, "tx.pcap"), 0)
	live := mk(".gzdoctor-4000003")
	writePcap(t, filepath.Join(live, "rx.pcap"), 7)
	lock, err := os.Open(live)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	unix.Flock(int(lock.Fd()), unix.LOCK_EX)
	foreign := mk(".gzdoctor-4000004")
	os.WriteFile(filepath.Join(foreign, "notes.txt"), []byte("mine"), 0o600)

	old := time.Now().Add(-time.Hour)
	deadOut := filepath.Join(dir, ".out.pcapng.gzdoctor-tmp-123")
	writePcap(t, deadOut, 9)
	os.Chtimes(deadOut, old, old)
	af, err := CreateAtomic(filepath.Join(dir, "busy.pcapng"), 0o600, false)
	if err != nil {
		t.Fatal(err)
	}
	defer af.Abort()
	os.Chtimes(af.Name(), old, old) // only its lock says it is alive
	oldStyle := filepath.Join(dir, ".gzdoctor-4000005.rx.pcap")
	writePcap(t, oldStyle, 4)
	unrelated := filepath.Join(dir, ".notes.tmp-1")
	os.WriteFile(unrelated, nil, 0o600)
	os.Chtimes(unrelated, old, old)

	got := map[string]Leftover{}
	for _, l := range FindLeftovers(dir, true) {
		got[filepath.Base(l.Path)] = l
	}
	for name, want := range map[string]struct {
		packets int64
		removed bool
		words   string
	}{
		".gzdoctor-4000001":            {8, false, "with 8 packets in it; save them with: gzdoctor pcap merge " + withPackets + "/rx.pcap " + withPackets + "/tx.pcap --salvage -w " + dir + "/recovered-gzdoctor-4000001.pcapng && rm -r " + withPackets},
		".gzdoctor-4000002-3":          {0, true, "removed " + empty},
		".gzdoctor-4000004":            {0, false, "remove it with: rm -r " + foreign},
		".out.pcapng.gzdoctor-tmp-123": {0, true, "an output a killed run never finished"},
		".gzdoctor-4000005.rx.pcap":    {4, false, "with 4 packets in it"},
	} {
		l, ok := got[name]
		if !ok {
			t.Errorf("%s not found", name)
			continue
		}
		if l.Packets != want.packets || l.Removed != want.removed || !strings.Contains(l.Words(), want.words) {
			t.Errorf("%s: %+v\n%s", name, l, l.Words())
		}
		delete(got, name)
	}
	if len(got) > 0 {
		t.Errorf("reported as well: %+v", got)
	}
	for _, p := range []string{withPackets, live, foreign, oldStyle, unrelated, af.Name()} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s removed: %v", p, err)
		}
	}
	for _, p := range []string{empty, deadOut} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s kept", p)
		}
	}
}

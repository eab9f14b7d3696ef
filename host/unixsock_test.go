package host

import (
	"net"
	"path/filepath"
	"reflect"
	"testing"
)

func TestParseProcNetUnix(t *testing.T) {
	in := "Num       RefCount Protocol Flags    Type St Inode Path\n" +
		"0000000056b9055f: 00000002 00000000 00000000 0002 01 20591 /var/run/dpdk/rte/mp_socket\n" +
		"000000005bb3bc65: 00000002 00000000 00010000 0005 01 19775 /var/run/dpdk/rte/dpdk_telemetry.v2\n" +
		"0000000000000001: 00000003 00000000 00000000 0001 03 1147\n" +
		"00000000abcdef00: 00000002 00000000 00010000 0001 01 3001 @/tmp/.X11-unix/X0\n" +
		"00000000abcdef01: 00000002 00000000 00010000 0001 01 3002 /tmp/with space/sock\n"
	got, err := ParseProcNetUnix([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := UnixSockets{
		{Path: "/var/run/dpdk/rte/mp_socket", Type: "dgram", Inode: 20591},
		{Path: "/var/run/dpdk/rte/dpdk_telemetry.v2", Type: "seqpacket", Listening: true, Inode: 19775},
		{Path: "/tmp/with space/sock", Type: "stream", Listening: true, Inode: 3002},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseProcNetUnix =\n%+v\nwant\n%+v", got, want)
	}
	for _, tt := range []struct {
		path string
		want bool
	}{
		{"/var/run/dpdk/rte/mp_socket", true},
		{"/run/dpdk/rte/mp_socket", true},
		{"/run/dpdk/rte/../rte/mp_socket", true},
		{"/var/run/dpdk/gazelle/mp_socket", false},
		{"/tmp/.X11-unix/X0", false},
	} {
		if got := got.Bound(tt.path); got != tt.want {
			t.Errorf("Bound(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
	if _, err := ParseProcNetUnix([]byte("0000: 2 0 zz 0002 01 1 /x\n")); err == nil {
		t.Error("bad flags: want an error")
	}
	if _, err := ParseProcNetUnix([]byte("0000: 2 0\n")); err == nil {
		t.Error("short line: want an error")
	}
}

// TestUnixSocketsLive binds sockets of the two kinds DPDK uses and finds
// them in the real /proc/net/unix.
func TestUnixSocketsLive(t *testing.T) {
	dir := t.TempDir()
	mp := filepath.Join(dir, "mp_socket")
	dg, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: mp, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer dg.Close()
	tel := filepath.Join(dir, "dpdk_telemetry.v2")
	sp, err := net.Listen("unixpacket", tel)
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()

	socks, err := New("/").UnixSockets()
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]UnixSocket{}
	for _, s := range socks {
		kinds[s.Path] = s
	}
	if s := kinds[mp]; s.Type != "dgram" || s.Listening {
		t.Errorf("mp_socket = %+v, want unlistening dgram", s)
	}
	if s := kinds[tel]; s.Type != "seqpacket" || !s.Listening {
		t.Errorf("telemetry = %+v, want listening seqpacket", s)
	}
	if socks.Bound(filepath.Join(dir, "absent")) {
		t.Error("an absent socket is bound")
	}
}

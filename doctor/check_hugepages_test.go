package doctor

import (
	"testing"

	"github.com/gzdoctor/gzdoctor/host"
)

// TestPoolThatFits: the pool the hugepages fix proposes fits the room by
// the same measure the check uses, and is the largest 2^k-1 that does.
func TestPoolThatFits(t *testing.T) {
	for _, tc := range []struct {
		room uint64
		want int
	}{
		{6 << 20, 2047},        // the matrix's 24 MiB mount with 18 MiB used: 2047 captured there
		{20 << 20, 4095},       // 8191 mbufs need 21 MiB: one size down
		{captureNeed(0), 8191}, // exactly the default pool's need
		{1 << 20, 0},           // not even the overhead: no pool fits
		{4 << 20, 0},           // 1023 would fit, but pdump takes no pool below 1025 (adversarial F21)
		{1 << 30, 65535},       // room for more, but pdump takes no pool above 65535
	} {
		got := poolThatFits(tc.room)
		if got != tc.want {
			t.Errorf("poolThatFits(%d MiB) = %d, want %d", tc.room>>20, got, tc.want)
		}
		if got > 0 && captureNeed(got) > tc.room {
			t.Errorf("poolThatFits(%d) = %d needs %d", tc.room, got, captureNeed(got))
		}
	}
	if captureNeed(0) != captureNeed(defaultCaptureMbufs) {
		t.Errorf("no pool given is not gzdoctor capture's default")
	}
}

// TestReserveCommand: the pool grows by what is missing from its own
// size; a fixed number (it was 1024) would shrink a larger pool, which
// frees pages a healthy system reserved.
func TestReserveCommand(t *testing.T) {
	mi := func(total uint64) *host.Hugepages {
		return &host.Hugepages{Meminfo: &host.Meminfo{HugePagesTotal: total, HugepagesizeKB: 2048},
			Sizes: []host.HugepageSize{{SizeKB: 2048, Nr: total}, {SizeKB: 1048576, Nr: 0}}}
	}
	for _, tt := range []struct {
		hp         *host.Hugepages
		free, need uint64
		want       string
	}{
		{mi(4096), 32 << 20, 160 << 20, "echo 4160 > /proc/sys/vm/nr_hugepages"},
		{mi(0), 0, 160 << 20, "echo 80 > /proc/sys/vm/nr_hugepages"},
		{mi(100), 3 << 20, 4 << 20, "echo 101 > /proc/sys/vm/nr_hugepages"},
		{mi(100), 200 << 20, 160 << 20, ""}, // nothing is missing
		{&host.Hugepages{}, 0, 160 << 20, ""},
	} {
		if got := reserveCommand(tt.hp, tt.need, tt.free); got != tt.want {
			t.Errorf("reserveCommand(total %v, free %d MiB, need %d MiB) = %q, want %q", tt.hp.Meminfo, tt.free>>20, tt.need>>20, got, tt.want)
		}
	}
}

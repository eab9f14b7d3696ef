package doctor

import "testing"

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

package lab

import (
	"errors"
	"testing"
)

// Only an af_packet port's fanout failure is worth a new start; any other
// start failure (and the same words from a kind without af_packet) is
// returned as it is.
func TestFanoutClash(t *testing.T) {
	clash := errors.New("lab primary (prefix gzlab_1_2) exited before it was ready (exit status 1); its output:\n" +
		"AFPACKET: net_af_packet0: could not set PACKET_FANOUT on AF_PACKET socket for gzv1h\n" +
		"vdev_probe(): failed to initialize net_af_packet0 device")
	other := errors.New("lab primary (prefix gzlab_1_2) exited before it was ready (exit status 1); its output:\nEAL: Cannot get hugepage information.")
	for _, tc := range []struct {
		kind Kind
		err  error
		want bool
	}{
		{KindAfPacket, clash, true},
		{KindLtran, clash, true},
		{KindExecutable, clash, false},
		{KindLstack, clash, false},
		{KindAfPacket, other, false},
	} {
		if got := fanoutClash(tc.kind, tc.err); got != tc.want {
			t.Errorf("fanoutClash(%q, %.60q…) = %v, want %v", tc.kind, tc.err, got, tc.want)
		}
	}
}

package capture

import (
	"slices"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
)

// The one merge of the stream and the ring, provoked step by step: each
// step reads packets (file, stamp) or records only (kept false: filtered
// out, still a sign of how far the file has come), then releases at a
// time after the start, and the packets released are what the step says.
func TestHoldMerge(t *testing.T) {
	const hold = time.Second
	type rec struct {
		file int
		ts   uint64
		skip bool // a record the selector did not keep
	}
	type step struct {
		at      time.Duration // when read and released
		read    []rec
		damaged int // 1+file that turned out damaged
		all     bool
		want    []uint64
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"each file shows a later one", []step{
			{at: 0, read: []rec{{0, 10, false}, {0, 30, false}, {1, 20, false}}, want: []uint64{10, 20}},
			{at: hold / 2, want: nil},
			{at: hold / 2, read: []rec{{1, 35, false}}, want: []uint64{30}},
		}},
		{"a file not read yet holds back until the hold", []step{
			{at: 0, read: []rec{{0, 10, false}}, want: nil},
			{at: hold - time.Millisecond, want: nil},
			{at: hold, want: []uint64{10}},
		}},
		{"a filtered record shows how far its file has come", []step{
			{at: 0, read: []rec{{0, 10, false}, {1, 15, true}}, want: []uint64{10}},
		}},
		{"held for the hold, a packet goes whatever the other file says", []step{
			{at: 0, read: []rec{{0, 50, false}, {1, 5, false}}, want: []uint64{5}},
			{at: hold / 2, read: []rec{{1, 40, true}}, want: nil},
			{at: hold, read: []rec{{1, 45, true}}, want: []uint64{50}},
		}},
		// pdump's file of a slow direction reaches the disk 4 KiB at a
		// time: quiet for a while, then older packets. Each packet of
		// the other waits for it, up to the hold (the ring's rule let a
		// file quiet for the hold hold nothing back, and 25 came late).
		{"a quiet file holds back, for the hold", []step{
			{at: 0, read: []rec{{0, 10, false}, {1, 5, false}}, want: []uint64{5}},
			{at: hold + time.Millisecond, read: []rec{{0, 20, false}}, want: []uint64{10}},
			{at: hold + 2*time.Millisecond, read: []rec{{0, 30, false}}, want: nil},
			{at: hold + 3*time.Millisecond, read: []rec{{1, 25, false}}, want: []uint64{20, 25}},
			// Held for the hold, it goes whatever the quiet file says.
			{at: 2*hold + 2*time.Millisecond, want: []uint64{30}},
		}},
		{"a damaged file holds nothing back", []step{
			{at: 0, read: []rec{{0, 10, false}}, damaged: 2, want: []uint64{10}},
		}},
		{"stamped alike: in the order read", []step{
			{at: 0, read: []rec{{1, 10, false}, {0, 10, false}, {0, 20, false}, {1, 20, false}}, all: true, want: []uint64{10, 10, 20, 20}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t0 := time.Now()
			m := newHoldMerge(hold, 2)
			for i, st := range tc.steps {
				now := t0.Add(st.at)
				for _, r := range st.read {
					if r.skip {
						m.saw(r.file, r.ts)
						continue
					}
					m.add(r.file, heldPacket{p: pcapfile.Packet{Timestamp: r.ts, Data: []byte{byte(r.file)}}, idx: r.file, read: now})
				}
				if st.damaged > 0 {
					m.stop(st.damaged - 1)
				}
				var got []uint64
				var files []int
				if err := m.release(now, st.all, func(h *heldPacket) error {
					got = append(got, h.p.Timestamp)
					files = append(files, h.idx)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, st.want) {
					t.Errorf("step %d: released %v, want %v", i, got, st.want)
				}
				if tc.name == "stamped alike: in the order read" && !slices.Equal(files, []int{1, 0, 0, 1}) {
					t.Errorf("step %d: files %v, want the order read [1 0 0 1]", i, files)
				}
			}
			if want := int64(len(m.pending)); m.bytes != want {
				t.Errorf("%d bytes held for %d packets of 1 byte", m.bytes, want)
			}
		})
	}
}

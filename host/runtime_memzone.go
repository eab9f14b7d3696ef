package host

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"path"
)

// rte_memzone is a packed struct whose first member is char name[32]; on
// 64-bit builds it is 72 bytes (name, iova, addr, len, hugepage_sz,
// socket_id, flags) from DPDK 18.05, when memzones moved into an
// rte_fbarray, to at least 25.11.
const (
	memzoneNameSize = 32
	memzoneEltSize  = 72
)

// ErrFbarrayLayout is returned when fbarray_memzone does not have the
// layout MemzoneNames knows; no names are guessed then.
var ErrFbarrayLayout = errors.New("fbarray_memzone layout not recognised")

// MemzoneNames reads the names of the memzones in use from the prefix
// dir's fbarray_memzone, the shared array the primary keeps its
// rte_memzone table in. It is the offline evidence of rte_pdump_init()
// (PdumpMemzone) when telemetry cannot be asked, and it still answers for
// a dead primary's leftover dir.
//
// The file is len elements of elt_sz bytes followed by the "used" bitmask
// (uint32 n_masks, padding, uint64 words). Neither len (RTE_MAX_MEMZONE, a
// build option) nor the page size is stored, so every len that fits the
// file size is tried and accepted only when its mask header, the unused
// tail of its mask and the names of its used elements are all consistent;
// anything else is ErrFbarrayLayout.
func (h *Host) MemzoneNames(dir string) ([]string, error) {
	p := path.Join(dir, "fbarray_memzone")
	b, err := h.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	names, err := ParseFbarrayMemzone(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return names, nil
}

// ParseFbarrayMemzone returns the used memzone names of an fbarray_memzone
// file's contents (see MemzoneNames).
func ParseFbarrayMemzone(b []byte) ([]string, error) {
	size := len(b)
	var found [][]string
	for n := 1; n*memzoneEltSize < size; n++ {
		if !fbarraySizeFits(size, memzoneEltSize, n) {
			continue
		}
		if names, ok := fbarrayNames(b, memzoneEltSize, n); ok {
			found = append(found, names)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return nil, fmt.Errorf("%w (%d bytes)", ErrFbarrayLayout, size)
	}
	return nil, fmt.Errorf("%w: %d layouts fit %d bytes", ErrFbarrayLayout, len(found), size)
}

// fbarrayMaskSize mirrors calc_mask_size: a header of 8 bytes (uint32 and
// alignment for the uint64 words) and one word per 64 elements.
func fbarrayMaskSize(n int) int {
	return 8 + 8*((n+63)/64)
}

// fbarraySizeFits reports whether a file of size bytes is elements plus
// mask rounded up to some page size DPDK runs with (4 KiB, 16 KiB, 64 KiB).
func fbarraySizeFits(size, elt, n int) bool {
	data := elt*n + fbarrayMaskSize(n)
	for _, page := range []int{4 << 10, 16 << 10, 64 << 10} {
		if (data+page-1)/page*page == size {
			return true
		}
	}
	return false
}

func fbarrayNames(b []byte, elt, n int) ([]string, bool) {
	off := elt * n
	words := (n + 63) / 64
	if off+fbarrayMaskSize(n) > len(b) {
		return nil, false
	}
	if int(binary.LittleEndian.Uint32(b[off:])) != words {
		return nil, false
	}
	mask := make([]uint64, words)
	for i := range mask {
		mask[i] = binary.LittleEndian.Uint64(b[off+8+8*i:])
	}
	// Bits past the last element are never set.
	if rem := n % 64; rem != 0 && mask[words-1]>>rem != 0 {
		return nil, false
	}
	names := []string{}
	for i := 0; i < n; i++ {
		if mask[i/64]>>(i%64)&1 == 0 {
			continue
		}
		raw := b[i*elt : i*elt+memzoneNameSize]
		end := bytes.IndexByte(raw, 0)
		if end <= 0 {
			return nil, false
		}
		for _, c := range raw[:end] {
			if c < 0x20 || c > 0x7e {
				return nil, false
			}
		}
		names = append(names, string(raw[:end]))
	}
	return names, true
}

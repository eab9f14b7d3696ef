package host

import (
	"encoding/binary"
	"errors"
	"reflect"
	"testing"
)

// TestMemzoneNamesReal reads an fbarray_memzone captured from a DPDK
// 22.11.11 primary (dpdk-testpmd, net_null0) whose telemetry listed, at the
// same moment, exactly these memzones.
func TestMemzoneNamesReal(t *testing.T) {
	got, err := fixture(t, "rt-stale").MemzoneNames("/var/run/dpdk/rte")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"rte_eth_dev_data", "rte_pdump_stats", "MP_mb_pool_0", "RG_MP_mb_pool_0", "MP_mb_pool_0_0", "RTE_METRICS"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MemzoneNames = %q, want %q", got, want)
	}
}

// buildFbarray lays out an rte_fbarray of n memzones as eal_common_fbarray.c
// does, with the named elements marked used, padded to page.
func buildFbarray(n, page int, used map[int]string) []byte {
	data := memzoneEltSize*n + fbarrayMaskSize(n)
	b := make([]byte, (data+page-1)/page*page)
	off := memzoneEltSize * n
	binary.LittleEndian.PutUint32(b[off:], uint32((n+63)/64))
	for i, name := range used {
		copy(b[i*memzoneEltSize:], name)
		w := off + 8 + 8*(i/64)
		binary.LittleEndian.PutUint64(b[w:], binary.LittleEndian.Uint64(b[w:])|1<<(i%64))
	}
	return b
}

func TestParseFbarrayMemzone(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want []string
		err  bool
	}{
		{"default RTE_MAX_MEMZONE, 4 KiB pages", buildFbarray(2560, 4096, map[int]string{0: "a", 2: PdumpMemzone, 2559: "last"}), []string{"a", PdumpMemzone, "last"}, false},
		{"custom size, 64 KiB pages (aarch64)", buildFbarray(1000, 64<<10, map[int]string{999: "z", 64: "b"}), []string{"b", "z"}, false},
		{"no memzone in use", buildFbarray(2560, 4096, nil), []string{}, false},
		{"empty file", nil, nil, true},
		{"not page-rounded", buildFbarray(2560, 4096, nil)[:5000], nil, true},
		{"zeros (no mask header)", make([]byte, 188416), nil, true},
		{"used element without a name", buildFbarray(2560, 4096, map[int]string{3: ""}), nil, true},
		{"binary garbage in a name", buildFbarray(2560, 4096, map[int]string{3: "ok\x01"}), nil, true},
		{"name fills all 32 bytes (no NUL)", buildFbarray(2560, 4096, map[int]string{3: "0123456789abcdef0123456789abcdef"}), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFbarrayMemzone(tt.b)
			if tt.err {
				if !errors.Is(err, ErrFbarrayLayout) {
					t.Errorf("got %q, %v; want ErrFbarrayLayout", got, err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestParseFbarrayMaskTail(t *testing.T) {
	// A bit set past the last element: not a layout DPDK writes.
	b := buildFbarray(100, 4096, map[int]string{1: "x"})
	off := memzoneEltSize*100 + 8 + 8
	b[off+7] |= 0x80 // bit 127 of the second word; only bits 64..99 exist
	if _, err := ParseFbarrayMemzone(b); !errors.Is(err, ErrFbarrayLayout) {
		t.Errorf("err = %v, want ErrFbarrayLayout", err)
	}
}

func TestMemzoneNamesMissing(t *testing.T) {
	if _, err := fixture(t, "rt-healthy").MemzoneNames("/var/run/dpdk/nope"); err == nil {
		t.Error("want an error for a missing file")
	}
	// rt-1911-null's fbarray_memzone is an empty placeholder.
	if _, err := fixture(t, "rt-1911-null").MemzoneNames("/var/run/dpdk/(null)"); !errors.Is(err, ErrFbarrayLayout) {
		t.Errorf("err = %v, want ErrFbarrayLayout", err)
	}
}

func FuzzParseFbarrayMemzone(f *testing.F) {
	f.Add(buildFbarray(64, 4096, map[int]string{1: "rte_pdump_stats"}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		names, err := ParseFbarrayMemzone(b)
		if err == nil {
			for _, n := range names {
				if n == "" || len(n) >= memzoneNameSize {
					t.Errorf("bad name %q", n)
				}
			}
		}
	})
}

package doctor

import (
	"testing"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/host/libconfig"
)

func parseGazelle(t *testing.T, name, src string) *host.GazelleConfig {
	t.Helper()
	lc, err := libconfig.Parse(name, []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := host.NewGazelleConfig(lc, name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The pool arithmetic, against numbers worked out by hand from Gazelle's
// formula (docs/checks.md, gazelle-hugepages).
func TestGazelleBudget(t *testing.T) {
	const args = `dpdk_args=["--socket-mem", "2048,0"]` + "\n"
	cpuNode := map[int]int{0: 0, 1: 0, 2: 1, 3: 1}
	for _, tc := range []struct {
		name, file, src string
		// want: MiB per node (rounded up), threads
		want    map[int]int64
		threads int
	}{
		// (9216 + 4096 + 2048 + 255000) × 2496 B = 674,818,560 B = 644 MiB, + 100 MiB.
		{"defaults, one thread", "lstack.conf", args, map[int]int64{0: 744}, 1},
		// per thread 9216+4096+2048+127500 = 142860 mbufs = 356,578,560 B; two on node 0: 680.1 + 100 MiB.
		{"two threads on one node", "lstack.conf", args + `num_cpus="0,1"`, map[int]int64{0: 781}, 2},
		// one thread per node: 340 MiB each, the fixed 100 MiB on the first thread's node.
		{"threads on two nodes", "lstack.conf", args + `num_cpus="1,2"`, map[int]int64{0: 441, 1: 341}, 2},
		// 9216 + 512 + 512 + 1000×10 = 20240 mbufs = 50,519,040 B = 49 MiB, + 100.
		{"small", "lstack.conf", args + "tcp_conn_count=1000\nmbuf_count_per_conn=10\nnic_rxqueue_size=512\nnic_txqueue_size=512\n", map[int]int64{0: 149}, 1},
		// (307200 + 30720) × 2496 = 843,448,320 B = 805 MiB.
		{"ltran defaults", "ltran.conf", `forward_kit_args="-l 2 --socket-mem 0,1024"`, map[int]int64{1: 805}, 0},
		// two bond ports × (1000 + 1000) × 2496 = 9,984,000 B = 10 MiB.
		{"ltran two bonds", "ltran.conf", "forward_kit_args=\"-l 0\"\nbond_ports=\"0x1,0x2\"\nrx_mbuf_pool_size=1000\ntx_mbuf_pool_size=1000\n", map[int]int64{0: 10}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := parseGazelle(t, tc.file, tc.src)
			var b gazelleBudget
			if c.Role == host.RoleLtran {
				b = ltranBudget(c, cpuNode)
			} else {
				b = lstackBudget(c, cpuNode)
			}
			got := map[int]int64{}
			for n, v := range b.NeedByNode {
				got[n] = mibOf(v)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("need %v MiB, want %v (%s)", got, tc.want, b.Formula)
			}
			for n, v := range tc.want {
				if got[n] != v {
					t.Errorf("node %d: %d MiB, want %d (%s)", n, got[n], v, b.Formula)
				}
			}
			if c.Role == host.RoleLstack && b.Threads != tc.threads {
				t.Errorf("%d threads, want %d", b.Threads, tc.threads)
			}
		})
	}
}

func TestPageWords(t *testing.T) {
	for kb, want := range map[uint64]string{2048: "2M", 1048576: "1G", 64: "64K"} {
		if got := pageWords(kb); got != want {
			t.Errorf("pageWords(%d) = %s, want %s", kb, got, want)
		}
	}
}

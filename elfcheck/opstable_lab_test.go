package elfcheck

import (
	"context"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/internal/lab"
)

// TestOpsTablePredictionMatchesMemory pins the load-order model on real
// processes: for each kind of lab primary the mempool ops table predicted
// from its maps, its LD_PRELOAD and the plugin directory's directory order
// equals the table read from its memory.
func TestOpsTablePredictionMatchesMemory(t *testing.T) {
	lab.Require(t)
	t.Parallel()
	for _, kind := range []lab.Kind{lab.KindExecutable, lab.KindLstack, lab.KindLtran} {
		t.Run(string(kind), func(t *testing.T) {
			p := lab.StartT(t, lab.Config{Kind: kind, Rate: -1})
			ctx := context.Background()
			mem, err := AnalyzePID(ctx, p.Pid, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if mem.DPDK.OpsTableFrom != "memory" || len(mem.DPDK.OpsTable) == 0 {
				t.Fatalf("ops table not read from memory: %q %v (%s)", mem.DPDK.OpsTableFrom, mem.DPDK.OpsTable, mem.DPDK.OpsTableNote)
			}
			pred, err := AnalyzePID(ctx, p.Pid, Options{NoMemory: true})
			if err != nil {
				t.Fatal(err)
			}
			if pred.DPDK.OpsTableFrom != "predicted" || strings.Join(pred.DPDK.OpsTable, ",") != strings.Join(mem.DPDK.OpsTable, ",") {
				t.Errorf("predicted %v\n   memory %v", pred.DPDK.OpsTable, mem.DPDK.OpsTable)
			}
			// The liblstack-like primary registers the ring ops first
			// (NEEDED by the preloaded library); the executables get them
			// from the plugin directory, like dpdk-pdump.
			if kind == lab.KindLstack && mem.DPDK.OpsTable[0] != "ring_mp_mc" {
				t.Errorf("liblstack-like primary: ops[0] = %s, want ring_mp_mc", mem.DPDK.OpsTable[0])
			}
			// Every tailq owner the capture tool has is registered in the
			// process: it maps them all.
			for _, want := range []string{"librte_mempool.so", "librte_ring.so", "librte_mbuf.so"} {
				found := false
				for _, tq := range pred.DPDK.Tailqs {
					found = found || strings.HasPrefix(tq, want)
				}
				if !found {
					t.Errorf("tailq registrants %v lack %s", pred.DPDK.Tailqs, want)
				}
			}
		})
	}
}

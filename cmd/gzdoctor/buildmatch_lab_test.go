package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/capture"
	"github.com/gzdoctor/gzdoctor/doctor"
	"github.com/gzdoctor/gzdoctor/internal/lab"
)

// TestBuildMatchAgreesWithCapture: on each kind of lab primary, build-match
// passes (ok or a warning, never a failure) exactly when a zero-flag
// capture with Debian's dpdk-pdump succeeds. The liblstack-like primary is
// the field's shape `check` used to refuse ("registers tailqs the primary
// does not: mbuf, mempool, ring") while pdump captured everything.
func TestBuildMatchAgreesWithCapture(t *testing.T) {
	t.Parallel()
	needTools(t, "dpdk-pdump", "tcpdump")
	for _, tc := range []struct {
		kind   lab.Kind
		device string // -i, for a primary with several ports
		status doctor.Status
	}{
		{lab.KindExecutable, "", doctor.OK},
		// liblstack.so NEEDs librte_mempool_ring: the primary's ops index
		// of pdump's pool is ring_mp_sc, the same ring single-consumer.
		{lab.KindLstack, "", doctor.Warn},
		{lab.KindLtran, "net_bonding0", doctor.OK},
		{lab.KindAfPacket, "", doctor.OK},
	} {
		name := string(tc.kind)
		if name == "" {
			name = "executable"
		}
		t.Run(name, func(t *testing.T) {
			p := lab.StartT(t, lab.Config{Kind: tc.kind})
			code, out, errOut := run(t, "-o", "json", "check", "--prefix", p.Prefix, "--timeout", "10s")
			var env struct {
				Data doctor.Report `json:"data"`
			}
			if err := json.Unmarshal([]byte(out), &env); err != nil {
				t.Fatalf("check: exit %d, not JSON (%v):\n%s\n%s", code, err, out, errOut)
			}
			var bm *doctor.Result
			for i, r := range env.Data.Results {
				if r.ID == "build-match" {
					bm = &env.Data.Results[i]
				}
			}
			if bm == nil {
				t.Fatalf("no build-match result:\n%s", out)
			}
			if bm.Status != tc.status {
				t.Errorf("build-match %s, want %s: %s\n%v", bm.Status, tc.status, bm.Finding, bm.Details)
			}

			// The namespace talks while a network primary captures.
			stop := make(chan struct{})
			var wg sync.WaitGroup
			if p.Net != nil {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						case <-time.After(50 * time.Millisecond):
						}
						ctx, cancel := context.WithTimeout(context.Background(), time.Second)
						p.Net.UDPEcho(ctx, 9000+i%4, []byte(fmt.Sprint("gzdoctor ", i)))
						cancel()
					}
				}()
			}
			f := filepath.Join(t.TempDir(), "c.pcapng")
			args := []string{"--prefix", p.Prefix, "-c", "50", "-w", f}
			if tc.device != "" {
				args = append(args, "-i", tc.device)
			}
			ccode, res, cerr := captureJSON(t, args...)
			close(stop)
			wg.Wait()
			captured := ccode == 0 && res != nil && res.Stopped == capture.StopCount && tcpdumpN(t, f, "") >= 50
			if passes := bm.Status != doctor.Fail; passes != captured {
				t.Errorf("build-match %s but capture exit %d (%+v)\n%s", bm.Status, ccode, res, cerr)
			}
			if !captured {
				t.Errorf("capture on the %s primary failed: exit %d\n%s", tc.kind, ccode, cerr)
			}
		})
	}
}

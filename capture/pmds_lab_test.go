package capture

import (
	"context"
	"os/exec"
	"slices"
	"testing"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/internal/lab"
)

// TestPMDsLabKinds derives the -d list from real primaries of each lab
// kind: with Debian's dpdk-pdump, whose plugin dir holds every driver,
// nothing is passed; with a tool that loads no driver by itself (what a
// gazelle-pdump linked without them is), the PMDs of the primary's ports
// are: the bond and af_packet of the ltran-like primary, net_ring of the
// others (which map all 54 drivers of the plugin dir).
func TestPMDsLabKinds(t *testing.T) {
	t.Parallel()
	pdump, err := exec.LookPath("dpdk-pdump")
	if err != nil {
		t.Skip("no dpdk-pdump")
	}
	for _, tt := range []struct {
		kind lab.Kind
		want []string // components that must be derived
	}{
		{lab.KindExecutable, []string{"net_ring"}},
		{lab.KindLstack, []string{"net_ring"}},
		{lab.KindLtran, []string{"net_af_packet", "net_bond"}},
	} {
		name := string(tt.kind)
		if name == "" {
			name = "executable"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := lab.StartT(t, lab.Config{Kind: tt.kind})
			h := host.New("/")
			tg := &capTarget{prefix: p.Prefix, dir: &host.Prefix{Dir: p.RuntimeDir, Telemetry: []string{"dpdk_telemetry.v2"}}}
			tg.probePorts(context.Background(), h)
			if tg.portsErr != nil {
				t.Fatal(tg.portsErr)
			}
			plan := func(bin string) *Plan {
				pl := &Plan{Backend: BackendPdump, Binary: bin, primaryPID: p.Pid, target: tg}
				planPMDs(context.Background(), h, pl)
				return pl
			}
			if pl := plan(pdump); len(pl.Drivers) != 0 || pl.DriversNote != "" {
				t.Errorf("dpdk-pdump loads its plugin dir, yet -d %q (%s)", pl.Drivers, pl.DriversNote)
			}
			pl := plan("/bin/true")
			var got []string
			for _, d := range pl.Drivers {
				got = append(got, pmdComponent(d))
			}
			slices.Sort(got)
			if want := slices.Sorted(slices.Values(tt.want)); !slices.Equal(got, want) {
				t.Errorf("-d for %q, want %q (%s)", got, want, pl.DriversNote)
			}
			t.Logf("%s primary, ports %s: -d %q for a tool without drivers", tt.kind, portList(tg.ports), pl.Drivers)
		})
	}
}

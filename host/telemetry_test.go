package host

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/gzdoctor/gzdoctor/internal/telemetrytest"
)

func TestProbeTelemetry(t *testing.T) {
	f := telemetrytest.Start(t, &telemetrytest.Server{Greeting: telemetrytest.Greeting2211, Reply: telemetrytest.DPDK2211})
	r, err := New("/").ProbeTelemetry(context.Background(), f.Path)
	if err != nil {
		t.Fatal(err)
	}
	if r.DPDKVersion != "22.11.11" || r.PdumpInit == nil || !*r.PdumpInit || len(r.Ports) != 2 || len(r.EALParams) != 10 {
		t.Errorf("report = %+v", r)
	}
	if !reflect.DeepEqual(r.Memzones, []string{"rte_eth_dev_data", "rte_pdump_stats", "RTE_METRICS"}) {
		t.Errorf("Memzones = %q", r.Memzones)
	}
	if len(r.Errors) != 0 {
		t.Errorf("Errors = %v", r.Errors)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Error(err)
	}
}

func TestProbeTelemetryPdumpInit(t *testing.T) {
	tests := []struct {
		name     string
		greeting string
		memzones func(string) (string, bool)
		want     *bool
	}{
		{"22.11 without pdump memzone", telemetrytest.Greeting2211, func(cmd string) (string, bool) {
			switch cmd {
			case "/eal/memzone_list":
				return `{"/eal/memzone_list":[0]}`, true
			case "/eal/memzone_info,0":
				return `{"/eal/memzone_info":{"Zone":0,"Name":"rte_eth_dev_data"}}`, true
			}
			return telemetrytest.DPDK2211(cmd)
		}, boolp(false)},
		{"22.11, one memzone unreadable", telemetrytest.Greeting2211, func(cmd string) (string, bool) {
			if cmd == "/eal/memzone_info,1" {
				return `{"/eal/memzone_info":null}`, true
			}
			if cmd == "/eal/memzone_list" {
				return `{"/eal/memzone_list":[0,1]}`, true
			}
			return telemetrytest.DPDK2211(cmd)
		}, nil},
		{"20.11 has no pdump memzone to show", `{"version":"DPDK 20.11.0","pid":1,"max_output_len":16384}`, func(cmd string) (string, bool) {
			if cmd == "/eal/memzone_list" {
				return `{"/eal/memzone_list":[0]}`, true
			}
			return telemetrytest.DPDK2211(cmd)
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := telemetrytest.Start(t, &telemetrytest.Server{Greeting: tt.greeting, Reply: tt.memzones})
			r, err := New("/").ProbeTelemetry(context.Background(), f.Path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r.PdumpInit, tt.want) {
				t.Errorf("PdumpInit = %v, want %v", r.PdumpInit, tt.want)
			}
		})
	}
}

func TestReleaseAtLeast(t *testing.T) {
	for _, tt := range []struct {
		v    string
		want bool
	}{{"22.11.11", true}, {"21.11", true}, {"21.08.0", false}, {"19.11.0", false}, {"", false}, {"x", false}, {"23.03", true}} {
		if got := ReleaseAtLeast(tt.v, 21, 11); got != tt.want {
			t.Errorf("ReleaseAtLeast(%q, 21, 11) = %v", tt.v, got)
		}
	}
}

package doctor

import (
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// The Prometheus form of check (docs/fleet.md lists the series). Label
// values are IDs, prefixes, statuses and roles only: never a finding or a
// path, so a series keeps its identity from one run to the next and the
// number of series stays bounded.

type metrics struct {
	status, ready, primaryUp, buildMatch            *prometheus.GaugeVec
	duration, stalePrefixes, staleFiles, staleBytes prometheus.Gauge
	hugeFree, hugeTotal                             *prometheus.GaugeVec
	// set remembers which gauges got a value: a gauge that says nothing
	// (machine facts that could not be read) is not registered, rather than
	// exported as a 0 that reads as "nothing stale".
	set map[prometheus.Collector]bool
}

func newMetrics() *metrics {
	g := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	}
	s := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	}
	return &metrics{
		status:        g("gzdoctor_check_status", "1 for the status a check ended with, 0 for the other statuses (ok, warn, fail, skip, error).", "check", "chk", "prefix", "status"),
		ready:         g("gzdoctor_capture_ready", "1 when every check a capture needs ran and none failed or errored; 0 when one failed or errored; absent when only some checks ran.", "prefix"),
		primaryUp:     g("gzdoctor_primary_up", "1 when the prefix's primary runs and answers (the primary check passed), 0 when it failed.", "prefix", "role"),
		buildMatch:    g("gzdoctor_build_match", "1 when the capture tool is built like the primary (build-match passed), 0 when it failed.", "prefix"),
		duration:      s("gzdoctor_run_duration_seconds", "How long the gzdoctor check run took."),
		stalePrefixes: s("gzdoctor_stale_prefixes", "DPDK runtime dirs no process uses (dead primaries, failed capture tools)."),
		staleFiles:    s("gzdoctor_stale_hugepage_files", "Hugepage files of prefixes no running primary holds."),
		staleBytes:    s("gzdoctor_stale_hugepage_bytes", "Memory held by hugepage files of prefixes no running primary holds."),
		hugeFree:      g("gzdoctor_hugepages_free_pages", "Free hugepages per page size (kB) and NUMA node (node=\"all\": the kernel shows no nodes).", "size_kb", "node"),
		hugeTotal:     g("gzdoctor_hugepages_pool_pages", "Hugepages in the pool (nr_hugepages) per page size (kB) and NUMA node.", "size_kb", "node"),
		set:           map[prometheus.Collector]bool{},
	}
}

var statuses = []Status{OK, Warn, Fail, Skip, Error}

func (m *metrics) report(r Report) {
	prefix := r.Target.Prefix
	for _, res := range r.Results {
		chk := strings.Join(res.Covers, ",")
		for _, s := range statuses {
			v := 0.0
			if res.Status == s {
				v = 1
			}
			m.status.WithLabelValues(res.ID, chk, prefix, string(s)).Set(v)
		}
	}
	if len(r.Results) > 0 {
		m.set[m.status] = true
	}
	switch r.Summary.Verdict {
	case VerdictOK, VerdictWarn:
		m.ready.WithLabelValues(prefix).Set(1)
		m.set[m.ready] = true
	case VerdictFail, VerdictError:
		m.ready.WithLabelValues(prefix).Set(0)
		m.set[m.ready] = true
	}
	if res, ok := r.Result("primary"); ok && (res.Status == OK || res.Status == Warn || res.Status == Fail) {
		role := r.Target.PrimaryRole
		if role == "" {
			role = "none"
		}
		m.primaryUp.WithLabelValues(prefix, role).Set(passed(res))
		m.set[m.primaryUp] = true
	}
	if res, ok := r.Result("build-match"); ok && (res.Status == OK || res.Status == Warn || res.Status == Fail) {
		m.buildMatch.WithLabelValues(prefix).Set(passed(res))
		m.set[m.buildMatch] = true
	}
}

func passed(r Result) float64 {
	if r.Status == OK || r.Status == Warn {
		return 1
	}
	return 0
}

func (m *metrics) machine(mc *Machine) {
	if mc == nil {
		return
	}
	if mc.StalePrefixes != nil {
		m.stalePrefixes.Set(float64(len(mc.StalePrefixes)))
		m.set[m.stalePrefixes] = true
	}
	if mc.StaleHugepageBytes != nil {
		m.staleBytes.Set(float64(*mc.StaleHugepageBytes))
		m.staleFiles.Set(float64(*mc.StaleHugepageFiles))
		m.set[m.staleBytes], m.set[m.staleFiles] = true, true
	}
	for _, p := range mc.Hugepages {
		node := "all"
		if p.Node != nil {
			node = strconv.Itoa(*p.Node)
		}
		size := strconv.FormatUint(p.SizeKB, 10)
		m.hugeFree.WithLabelValues(size, node).Set(float64(p.Free))
		m.hugeTotal.WithLabelValues(size, node).Set(float64(p.Total))
		m.set[m.hugeFree], m.set[m.hugeTotal] = true, true
	}
}

func (m *metrics) register(reg prometheus.Registerer) error {
	m.set[m.duration] = true
	for _, c := range []prometheus.Collector{m.status, m.ready, m.primaryUp, m.buildMatch, m.duration,
		m.stalePrefixes, m.staleFiles, m.staleBytes, m.hugeFree, m.hugeTotal} {
		if !m.set[c] {
			continue
		}
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// RegisterMetrics is the report's Prometheus form (ui.MetricsRenderer).
func (r Report) RegisterMetrics(reg prometheus.Registerer) error {
	m := newMetrics()
	m.report(r)
	m.machine(r.Machine)
	m.duration.Set(r.Duration.Seconds())
	return m.register(reg)
}

// RegisterMetrics is the Prometheus form of a run over all prefixes: the
// series of each report, told apart by their prefix label.
func (a AllReport) RegisterMetrics(reg prometheus.Registerer) error {
	m := newMetrics()
	for _, r := range a.Reports {
		m.report(r)
	}
	m.machine(a.Machine)
	m.duration.Set(a.Duration.Seconds())
	return m.register(reg)
}

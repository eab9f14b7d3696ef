package host

import (
	"context"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/internal/lab"
)

// The tests in this file run the real DPDK lab primary (lab.StartT): they
// need root, hugepages and the built lab, and are skipped loudly otherwise
// (failed when GZDOCTOR_REQUIRE_LAB=1).

// TestLivePrimary: a running primary is found with the right pid, prefix and
// exe, holds its config lock (by both probes), has its mp_socket bound, and
// its telemetry lists its port, EAL params, version and pdump memzone.
func TestLivePrimary(t *testing.T) {
	p := lab.StartT(t, lab.Config{})
	h := New("/")

	pre, err := h.ScanPrefix(p.RuntimeDir)
	if err != nil {
		t.Fatal(err)
	}
	if pre.Name != p.Prefix || pre.State != "live" || pre.Lock.Method != "fcntl" || pre.Lock.Holder == nil || pre.Lock.Holder.PID != p.Pid {
		t.Fatalf("prefix %s: state %q lock %+v, want live, held by %d via fcntl", pre.Name, pre.State, pre.Lock, p.Pid)
	}
	ph, err := h.procLocksHolder(path.Join(p.RuntimeDir, "config"))
	if err != nil || ph == nil || ph.PID != p.Pid || ph.Class != "POSIX" {
		t.Errorf("/proc/locks holder = %+v, %v, want POSIX lock of %d", ph, err, p.Pid)
	}
	// Both probes see the same byte range: DPDK locks mem_config->memsegs only.
	if ph != nil && (ph.Start != pre.Lock.Holder.Start || ph.End != pre.Lock.Holder.End || ph.Start == 0) {
		t.Errorf("ranges differ or start at 0: fcntl %+v, /proc/locks %+v", pre.Lock.Holder, ph)
	}
	if pre.MPSocketBound == nil || !*pre.MPSocketBound {
		t.Errorf("mp_socket bound = %v, want true", pre.MPSocketBound)
	}
	for _, kind := range []string{"config", "mp_socket", "hugepage_info", "fbarray_memzone", "fbarray_memseg", "telemetry_v2"} {
		if !pre.Has(kind) {
			t.Errorf("prefix dir lacks a %s file: %+v", kind, pre.Files)
		}
	}

	// The prefix is found among all prefixes too.
	all, err := h.Prefixes(h.RuntimeBases(os.Getuid(), EnvMap(os.Environ())))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(all, func(q Prefix) bool { return q.Name == p.Prefix && q.State == "live" }) {
		t.Errorf("Prefixes does not list %s as live", p.Prefix)
	}

	proc, err := h.ReadProcess(p.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if proc.Exe != lab.PrimaryBinary() {
		t.Errorf("exe = %q, want %q", proc.Exe, lab.PrimaryBinary())
	}
	if proc.DPDK.Prefix != p.Prefix || runAlias(proc.DPDK.RuntimeDir) != runAlias(p.RuntimeDir) {
		t.Errorf("prefix from maps = %q (%q), want %q (%q)", proc.DPDK.Prefix, proc.DPDK.RuntimeDir, p.Prefix, p.RuntimeDir)
	}
	inst, err := h.FindDPDK()
	if err != nil || inst == nil {
		t.Fatalf("FindDPDK = %v, %v", inst, err)
	}
	if proc.DPDK.EAL == "" || proc.DPDK.Release != inst.Release || proc.DPDK.Pdump == "" || proc.DPDK.PcapPMD == "" {
		t.Errorf("DPDK from maps = %+v, want EAL of release %s, pdump and pcap PMD", proc.DPDK, inst.Release)
	}
	if len(proc.DPDK.HugepageFiles) == 0 {
		t.Errorf("no hugepage files mapped")
	}
	self, _ := os.Readlink("/proc/self/ns/mnt")
	if proc.MountNS != self {
		t.Errorf("mount ns = %q, want ours %q", proc.MountNS, self)
	}
	procs, err := h.DPDKProcesses()
	if err != nil {
		t.Fatal(err)
	}
	if got := ProcessesByPrefixDir(procs, p.RuntimeDir); len(got) != 1 || got[0].PID != p.Pid {
		t.Errorf("processes of %s = %d, want the primary alone", p.RuntimeDir, len(got))
	}

	// Correctness, not latency, is under test here: a loaded 2-core CI
	// machine can take more than the 1 s default to answer.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if len(pre.Telemetry) == 0 {
		t.Fatal("no telemetry socket")
	}
	r, err := h.ProbeTelemetry(ctx, pre.Telemetry[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Errors) != 0 {
		t.Errorf("telemetry errors: %v", r.Errors)
	}
	// The installed DPDK (dpkg/pkg-config) is the oracle for the version.
	if r.Info.PID != p.Pid || r.DPDKVersion != inst.Version || !strings.HasPrefix(r.DPDKVersion, inst.Release+".") {
		t.Errorf("telemetry info = %+v (version %q), want pid %d, version %s", r.Info, r.DPDKVersion, p.Pid, inst.Version)
	}
	// The EAL params are the lab's command line up to "--".
	wantParams := slices.Clone(p.Args[:slices.Index(p.Args, "--")])
	wantParams[0] = filepath.Base(wantParams[0])
	gotParams := slices.Clone(r.EALParams)
	if len(gotParams) > 0 {
		gotParams[0] = filepath.Base(gotParams[0])
	}
	if !slices.Equal(gotParams, wantParams) {
		t.Errorf("EAL params = %q, want %q", r.EALParams, wantParams)
	}
	if i := slices.Index(r.EALParams, "--file-prefix"); i < 0 || i+1 >= len(r.EALParams) || r.EALParams[i+1] != p.Prefix {
		t.Errorf("EAL params %q lack --file-prefix %s", r.EALParams, p.Prefix)
	}
	if len(r.Ports) == 0 || r.Ports[0].Name != p.Device || !r.Ports[0].Started {
		t.Errorf("ports = %+v, want %s started", r.Ports, p.Device)
	}
	if r.PdumpInit == nil || !*r.PdumpInit {
		t.Errorf("pdump init = %v, memzones %q", r.PdumpInit, r.Memzones)
	}
	// The offline reading of fbarray_memzone agrees with telemetry.
	names, err := h.MemzoneNames(p.RuntimeDir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, r.Memzones) {
		t.Errorf("fbarray_memzone names %q, telemetry %q", names, r.Memzones)
	}
}

// TestLiveNoPdumpInit: without rte_pdump_init() the pdump memzone is absent,
// by telemetry and in fbarray_memzone.
func TestLiveNoPdumpInit(t *testing.T) {
	p := lab.StartT(t, lab.Config{NoPdumpInit: true})
	h := New("/")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	r, err := h.ProbeTelemetry(ctx, path.Join(p.RuntimeDir, "dpdk_telemetry.v2"))
	if err != nil {
		t.Fatal(err)
	}
	if r.PdumpInit == nil || *r.PdumpInit || len(r.Memzones) == 0 {
		t.Errorf("pdump init = %v with memzones %q, want false", r.PdumpInit, r.Memzones)
	}
	names, err := h.MemzoneNames(p.RuntimeDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 || slices.Contains(names, PdumpMemzone) {
		t.Errorf("fbarray_memzone names = %q, want some, without %s", names, PdumpMemzone)
	}
}

// TestLiveHiddenPcapPMD: a primary whose mount namespace hides the pcap PMD
// maps none, and its mount namespace differs from ours.
func TestLiveHiddenPcapPMD(t *testing.T) {
	p := lab.StartT(t, lab.Config{HidePcapPMD: true})
	proc, err := New("/").ReadProcess(p.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if proc.DPDK.EAL == "" || proc.DPDK.PcapPMD != "" {
		t.Errorf("DPDK = %+v, want EAL without a pcap PMD", proc.DPDK)
	}
	self, _ := os.Readlink("/proc/self/ns/mnt")
	if proc.MountNS == "" || proc.MountNS == self {
		t.Errorf("mount ns = %q, ours %q: want a different one", proc.MountNS, self)
	}
}

// TestLiveKilledPrimaryIsStale: after SIGKILL the prefix is stale (nobody
// holds config, mp_socket unbound) and every hugepage file the primary had
// mapped is left in the hugetlbfs mount.
func TestLiveKilledPrimaryIsStale(t *testing.T) {
	p := lab.StartT(t, lab.Config{})
	h := New("/")
	proc, err := h.ReadProcess(p.Pid)
	if err != nil {
		t.Fatal(err)
	}
	mapped := 0
	var dirs []string
	for d, n := range proc.DPDK.HugepageFiles {
		mapped += n
		dirs = append(dirs, d)
	}
	if mapped == 0 {
		t.Fatal("the primary mapped no hugepage files")
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	pre, err := h.ScanPrefix(p.RuntimeDir)
	if err != nil {
		t.Fatal(err)
	}
	if pre.State != "stale" || pre.Lock.Holder != nil || pre.Lock.Method != "fcntl" {
		t.Errorf("after kill: state %q lock %+v, want stale, no holder", pre.State, pre.Lock)
	}
	if pre.MPSocketBound == nil || *pre.MPSocketBound {
		t.Errorf("after kill: mp_socket bound = %v, want false", pre.MPSocketBound)
	}
	if ph, err := h.procLocksHolder(path.Join(p.RuntimeDir, "config")); err != nil || ph != nil {
		t.Errorf("/proc/locks after kill: %+v, %v", ph, err)
	}
	// Count the leftovers here (host-system's hugepage model counts them
	// for the doctor); the maps of the living primary are the oracle.
	left := 0
	for _, d := range dirs {
		files, _ := filepath.Glob(filepath.Join(d, pre.HugepageFilePrefix+"*"))
		left += len(files)
	}
	if left != mapped {
		t.Errorf("%d hugepage files left in %v, the primary had %d mapped", left, dirs, mapped)
	}
	// The dead primary's memzones can still be read offline.
	names, err := h.MemzoneNames(p.RuntimeDir)
	if err != nil || !slices.Contains(names, PdumpMemzone) {
		t.Errorf("memzones of the dead primary = %q, %v", names, err)
	}
}

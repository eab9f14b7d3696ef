package runbooks

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const corpusDir = "../testdata/logs"

func loadCorpus(t *testing.T) []*Sample {
	t.Helper()
	samples, unlabelled, err := ReadSamples(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range unlabelled {
		// The lab records into lab/ on its own schedule; its new logs wait
		// for a line in lab.expected. Anywhere else a header is required.
		if strings.HasPrefix(u, filepath.Join(corpusDir, "lab")+"/") {
			t.Logf("%s: not in lab.expected yet, skipped", u)
			continue
		}
		t.Errorf("%s: no expectation", u)
	}
	if len(samples) < 60 {
		t.Fatalf("only %d samples in %s", len(samples), corpusDir)
	}
	return samples
}

// TestCorpus runs every sample through the whole catalogue: the expected
// cause first, no cause the sample does not name, nothing on healthy logs,
// and every entry found in a sample of its own.
func TestCorpus(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	samples := loadCorpus(t)
	res, err := Lint(context.Background(), c, nil, samples)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Problems {
		t.Error(p)
	}
	t.Logf("%d entries, %d samples", res.Entries, res.Samples)
}

// TestCorpusHealthy lists the healthy logs explicitly, so that a sample
// losing its header cannot quietly shrink the set.
func TestCorpusHealthy(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	healthy := []string{
		"public/06-dpvs-pdump-unused-ports-not-driven.log",
		"public/23-gazelle-ltran-healthy-null-prefix.log",
		"public/24-gazelle-lstack-healthy-auto-file-prefix.log",
		"local-2211/22.11-pdump-healthy.log",
		"synthetic/device-not-driven-18.11-glued-healthy.log",
		"gazelle-1.0.2/lstack-start-healthy.log",
	}
	for _, name := range healthy {
		s, err := ReadSample(filepath.Join(corpusDir, name))
		if err != nil {
			t.Fatal(err)
		}
		r, err := c.Diagnose(context.Background(), bytesReader(s.Body))
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Findings) != 0 {
			t.Errorf("%s: healthy, found %s", name, r.Findings[0].ID)
		}
		if s.Expected != "none" {
			t.Errorf("%s: header says %s", name, s.Expected)
		}
	}
	if _, err := os.Stat(filepath.Join(corpusDir, "README.md")); err != nil {
		t.Errorf("corpus README with provenance: %v", err)
	}
}

// Two dpdk-pdump at once on one primary collide on ring names exactly as a
// killed pdump's leftovers do (lab, 22.11); restarting the primary would end
// the other capture, so the finding must offer the running capture and say
// how to tell.
func TestStaleRingsOffersRunningCapture(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	s, err := ReadSample(filepath.Join(corpusDir, "local-2211/22.11-pdump-while-another-captures.log"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Diagnose(context.Background(), bytesReader(s.Body))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) == 0 || r.Findings[0].ID != "pdump-stale-rings" {
		t.Fatalf("findings %v", ids(r.Findings))
	}
	f := r.Findings[0]
	var tell string
	for _, a := range f.Alternatives {
		if a.ID == "pdump-already-capturing" {
			tell = a.Tell
		}
	}
	if !strings.Contains(tell, "pgrep") {
		t.Errorf("alternative pdump-already-capturing with a way to tell: %+v", f.Alternatives)
	}
	if len(f.Fix) == 0 || !strings.Contains(f.Fix[0].Command, "pgrep") {
		t.Errorf("first fix step should look for a running capture before a restart: %+v", f.Fix)
	}
}

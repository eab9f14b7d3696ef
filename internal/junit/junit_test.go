package junit

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gzdoctor/gzdoctor/internal/testenv"
)

// TestWrite: counts per suite and in total, one outcome per case, and text
// XML cannot carry (a finding quoting a terminal escape or a NUL from a
// file) replaced rather than making the report unreadable.
func TestWrite(t *testing.T) {
	at := time.Date(2026, 12, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	suites := []Suite{
		{Name: "a", Host: "h", Timestamp: at, Duration: 1500 * time.Millisecond, Cases: []Case{
			{Name: "ok", Classname: Classname("h", "check", "p"), Body: "fine"},
			{Name: "bad", Classname: "h/check/p", Failure: "it \x1b[31mbroke\x00", Body: "fix: run <this> & that"},
			{Name: "err", Classname: "h/check/p", Error: "timed out"},
			{Name: "skip", Classname: "h/check/p", Skipped: "needs bad"},
		}},
		{Name: "b", Timestamp: at, Cases: []Case{{Name: "x", Classname: Classname("", "elfcheck", "/usr/bin/x")}}},
	}
	var b bytes.Buffer
	if err := Write(&b, "gzdoctor test", suites...); err != nil {
		t.Fatal(err)
	}
	var doc xmlSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b.String())
	}
	if doc.Tests != 5 || doc.Failures != 1 || doc.Errors != 1 || doc.Skipped != 1 || doc.Time != "1.500" {
		t.Errorf("totals %+v", doc)
	}
	s := doc.Suites[0]
	if s.Tests != 4 || s.Timestamp != "2026-12-02T02:04:05" || s.Hostname != "h" || doc.Suites[1].Hostname != "localhost" {
		t.Errorf("suite %+v", s)
	}
	if f := s.Cases[1].Failure; f == nil || f.Message != "it \uFFFD[31mbroke\uFFFD" || f.Text != "fix: run <this> & that" {
		t.Errorf("failure %+v", f)
	}
	if c := doc.Suites[1].Cases[0]; c.Classname != "localhost/elfcheck//usr/bin/x" || c.Failure != nil || c.Error != nil || c.Skipped != nil {
		t.Errorf("case %+v", c)
	}
	xmllint := testenv.Tool(t, "xmllint", "Debian package libxml2-utils")
	path := filepath.Join(t.TempDir(), "r.xml")
	if err := WriteFile(path, "gzdoctor test", suites...); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(xmllint, "--noout", "--schema", "testdata/junit.xsd", path).CombinedOutput(); err != nil {
		t.Errorf("xmllint: %v\n%s", err, out)
	}
	// The schema is strict enough to fail: a case with two outcomes.
	bad := strings.Replace(b.String(), `<error message="timed out" type="error"></error>`, `<error message="timed out" type="error"></error><skipped message="x"></skipped>`, 1)
	if bad == b.String() {
		t.Fatal("the document has no error element to double")
	}
	os.WriteFile(path, []byte(bad), 0o644)
	if err := exec.Command(xmllint, "--noout", "--schema", "testdata/junit.xsd", path).Run(); err == nil {
		t.Error("xmllint accepted a test case with two outcomes")
	}
}

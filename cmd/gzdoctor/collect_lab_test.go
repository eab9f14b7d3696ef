package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/collect"
	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/internal/lab"
	"github.com/gzdoctor/gzdoctor/internal/testenv"
)

// collect on the live lab, unpack with tar, replay with the made binary:
// every check of each lab primary gives its live status, but build-match,
// which needs the ELF files a bundle leaves out without --binaries (and
// says so). No secret from a primary's environment and no hugepage content
// reaches the bundle; an existing file is never overwritten.
func TestLabCollectReplay(t *testing.T) {
	secret := "gzdoctor-collect-secret-" + lab.NewPrefix()
	t.Setenv("GZDOCTOR_TEST_SECRET", secret) // the primaries inherit it
	bin := testenv.Binary(t)
	exe := lab.StartT(t, lab.Config{})
	lst := lab.StartT(t, lab.Config{Kind: lab.KindLstack})

	dir := t.TempDir()
	file := filepath.Join(dir, "bundle.tar.gz")
	// Generous limits, here and for the replays: the comparison needs
	// verdicts, not timeouts of a loaded machine (a replay of this bundle
	// ran out of 10 s at a load average of 37; a run that finishes
	// sooner is not held up by them).
	cmd := exec.Command(bin, "collect", "--prefix", exe.Prefix, "--timeout", "30s", "-w", file, "-o", "json")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("collect: %v\n%s", err, out)
	}
	var res struct {
		Data collect.Result `json:"data"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("collect -o json: %v\n%s", err, out)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() != res.Data.Bytes {
		t.Errorf("bundle mode %v size %d, want 0600 and %d", fi.Mode().Perm(), fi.Size(), res.Data.Bytes)
	}
	t.Logf("bundle %d bytes (%d before compression, %d machine files, %d not taken)", fi.Size(), res.Data.TreeBytes, res.Data.Files, res.Data.NotTaken)
	if fi.Size() > 4<<20 {
		t.Errorf("bundle is %d bytes: more than 4 MiB without --binaries", fi.Size())
	}

	// No clobber: a second collect to the same name changes nothing.
	before, _ := os.ReadFile(file)
	if b, err := exec.Command(bin, "collect", "-w", file).CombinedOutput(); exitCodeOf(err) != exitUsage || !strings.Contains(string(b), "never overwrites") {
		t.Errorf("collect over an existing file: exit %d, %s", exitCodeOf(err), b)
	}
	if after, _ := os.ReadFile(file); !bytes.Equal(before, after) {
		t.Errorf("collect changed an existing file")
	}

	// tar is the oracle of the bundle's format.
	unpacked := filepath.Join(dir, "u")
	if err := os.Mkdir(unpacked, 0o755); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("tar", "-xzf", file, "-C", unpacked).CombinedOutput(); err != nil {
		t.Fatalf("tar -xzf: %v\n%s", err, b)
	}
	ents, _ := os.ReadDir(unpacked)
	if len(ents) != 1 || !ents[0].IsDir() {
		t.Fatalf("the bundle holds %v, want one directory", ents)
	}
	tree := filepath.Join(unpacked, ents[0].Name())
	var m collect.Manifest
	readJSON(t, filepath.Join(tree, collect.MetaDir, "manifest.json"), &m)

	for _, p := range []*lab.Primary{exe, lst} {
		liveFile := "check.json"
		if p != exe {
			liveFile = "check-" + p.Prefix + ".json"
		}
		b, err := os.ReadFile(filepath.Join(tree, collect.MetaDir, liveFile))
		if err != nil {
			t.Fatalf("the bundle has no live check of %s: %v", p.Prefix, err)
		}
		live, err := collect.CheckStatuses(b)
		if err != nil {
			t.Fatal(err)
		}
		rb, _ := exec.Command(bin, "--root", tree, "check", "--prefix", p.Prefix, "--timeout", "60s", "-o", "json").Output()
		replayed, err := collect.CheckStatuses(rb)
		if err != nil {
			t.Fatalf("replay of %s: %v\n%s", p.Prefix, err, rb)
		}
		if len(live) < 10 || live["primary"].Status != "ok" || live["pdump"].Status != "ok" {
			t.Fatalf("live check of %s is not of a healthy primary: %v", p.Prefix, live)
		}
		for id, l := range live {
			r := replayed[id]
			if r.Status == l.Status {
				continue
			}
			listed := false
			for _, n := range m.NotReplayable {
				listed = listed || n.Check == id && strings.Contains(n.Why, "--prefix "+p.Prefix+":")
			}
			if id == "build-match" && strings.Contains(r.Finding, "not an ELF file") && listed {
				continue // the ELF files are not in the bundle, and the manifest says so
			}
			if debrisOfOthers(id, l.Finding, r.Finding) && listed {
				// Other packages' tests kill primaries and clean up after
				// them while this one runs (a fresh-clone CI run saw it):
				// the live check and the files collected a moment later saw
				// different debris, and the manifest says they differ.
				t.Logf("%s %s: live %s, replay %s: other tests' debris came or went during the collect", p.Prefix, id, l.Status, r.Status)
				continue
			}
			t.Errorf("%s %s: live %s, replay %s (%s); manifest lists it: %v", p.Prefix, id, l.Status, r.Status, r.Finding, listed)
		}
	}
	if !strings.Contains(strings.Join(m.Telemetry, " "), exe.Prefix+"/dpdk_telemetry.v2") {
		t.Errorf("no telemetry answer recorded for %s: %v", exe.Prefix, m.Telemetry)
	}

	// Nothing secret, no packet data.
	hugeMounts := collect.HugetlbfsMounts()
	allowedEnv := regexp.MustCompile(`^(` + strings.Join(host.ProcEnvKeys, "|") + `)=`)
	sawLstackEnv := false
	err = filepath.WalkDir(tree, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Type()&fs.ModeSymlink != 0 {
			return err
		}
		machine := strings.TrimPrefix(path, tree)
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the primaries' secret environment variable", machine)
		}
		if regexp.MustCompile(`^/proc/[0-9]+/(mem|pagemap|fd/)`).MatchString(machine) {
			t.Errorf("%s is in the bundle", machine)
		}
		for _, hm := range hugeMounts {
			if strings.HasPrefix(machine, hm+"/") && len(b) > 0 {
				t.Errorf("%s: %d bytes of hugepage content in the bundle", machine, len(b))
			}
		}
		if filepath.Base(machine) == "environ" {
			for _, kv := range strings.Split(strings.TrimRight(string(b), "\x00"), "\x00") {
				if kv != "" && !allowedEnv.MatchString(kv) {
					t.Errorf("%s keeps %q", machine, kv)
				}
			}
			if strings.Contains(machine, "/"+strconv.Itoa(lst.Pid)+"/") && strings.Contains(string(b), "LSTACK_CONF_PATH=") {
				sawLstackEnv = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !sawLstackEnv {
		t.Errorf("the lstack's environ in the bundle lacks LSTACK_CONF_PATH, which check reads")
	}
}

func readJSON(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

func exitCodeOf(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// debrisOfOthers reports whether a machine-wide check's verdicts differ
// only by what dead primaries left (runtime-dir's "left behind",
// hugepages' files of primaries that are gone).
func debrisOfOthers(id string, findings ...string) bool {
	if id != "runtime-dir" && id != "hugepages" {
		return false
	}
	for _, f := range findings {
		if strings.Contains(f, "left behind: ") || strings.Contains(f, "primaries that are gone") {
			return true
		}
	}
	return false
}

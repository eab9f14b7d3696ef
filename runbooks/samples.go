package runbooks

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Sample is a log in the corpus with what diagnosing it must give. Its
// header lines ("# expected: id|none", "# also: id, id", "# source: …",
// "# synthetic: built from …") are blanked in Body so that line numbers
// stay those of the file.
type Sample struct {
	Path      string
	Expected  string   // the cause that must come first, or "none"
	Also      []string // causes that may follow it (symptoms, annotations)
	Synthetic bool
	Body      []byte
}

// ReadSample parses one sample file.
func ReadSample(path string) (*Sample, error) {
	return readSample(path, nil)
}

// readSample parses a sample; manifest supplies the expectations of logs
// kept verbatim, without a header (the lab's recordings).
func readSample(path string, manifest map[string]*Sample) (*Sample, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := &Sample{Path: path}
	lines := bytes.Split(data, []byte("\n"))
	for i, l := range lines {
		text := strings.TrimRight(string(l), "\r")
		if !strings.HasPrefix(text, "# ") {
			continue
		}
		key, val, ok := strings.Cut(text[2:], ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch key {
		case "expected":
			s.Expected = val
		case "also":
			for _, id := range strings.Split(val, ",") {
				if id = strings.TrimSpace(id); id != "" {
					s.Also = append(s.Also, id)
				}
			}
		case "synthetic":
			s.Synthetic = true
		case "source", "catalogue-expected", "note":
		default:
			continue
		}
		lines[i] = nil
	}
	if m, ok := manifest[path]; ok && s.Expected == "" {
		s.Expected, s.Also = m.Expected, m.Also
	}
	if s.Expected == "" {
		return nil, fmt.Errorf("%s: %w", path, errNoExpectation)
	}
	s.Body = bytes.Join(lines, []byte("\n"))
	return s, nil
}

// ReadSamples reads every *.log under dir, recursively, in name order.
// Files dir/*.expected name the expectations of logs without a header, one
// "path/under/dir.log: cause-id|none [| also-id, also-id]" per line. Logs
// with no expectation anywhere are returned apart, as unlabelled.
func ReadSamples(dir string) (samples []*Sample, unlabelled []string, err error) {
	manifest, err := readManifests(dir)
	if err != nil {
		return nil, nil, err
	}
	var paths []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".log") {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(paths)
	for _, p := range paths {
		s, err := readSample(p, manifest)
		if errors.Is(err, errNoExpectation) {
			unlabelled = append(unlabelled, p)
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		samples = append(samples, s)
	}
	return samples, unlabelled, nil
}

var errNoExpectation = errors.New("no '# expected: <cause-id>|none' header")

func readManifests(dir string) (map[string]*Sample, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.expected"))
	if err != nil {
		return nil, err
	}
	out := map[string]*Sample{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for n, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			path, rest, ok := strings.Cut(line, ": ")
			if !ok {
				return nil, fmt.Errorf("%s:%d: want \"path: cause [| also, …]\"", f, n+1)
			}
			exp, also, _ := strings.Cut(rest, "|")
			s := &Sample{Expected: strings.TrimSpace(exp)}
			for _, id := range strings.Split(also, ",") {
				if id = strings.TrimSpace(id); id != "" {
					s.Also = append(s.Also, id)
				}
			}
			out[filepath.Join(dir, path)] = s
		}
	}
	return out, nil
}

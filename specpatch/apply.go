package specpatch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Request is one specpatch run: the spec, how to patch it, and where the
// result goes. At most one of Check, InPlace and Out; Backup goes with
// InPlace, Force with Out.
type Request struct {
	Spec     string
	Branch   string    // as Options.Branch
	Bump     string    // as Options.Bump; ignored with Check
	Packager string    // the %changelog author; empty: found as Packager finds it
	Check    bool      // change nothing, only say whether a change is needed
	InPlace  bool      // replace Spec (WriteInPlace)
	Backup   bool      // with InPlace: keep the original as TARGET.orig
	Out      string    // write the patched spec to this new file (WriteNew)
	Force    bool      // with Out: replace the file if it exists
	Now      time.Time // date of the %changelog entry
}

// Apply reads req.Spec, patches it and writes the result where req says.
// Nothing is written when the spec cannot be read or parsed, or when the
// backup cannot be kept. With Out, an existing file (and no Force) is
// ErrExists.
func Apply(ctx context.Context, req Request) (*Result, error) {
	data, err := ReadSpec(req.Spec)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", req.Spec, err)
	}
	opts := Options{File: req.Spec, Branch: req.Branch, Now: req.Now}
	if req.Bump != "" && !req.Check {
		opts.Bump = req.Bump
		opts.Packager = Packager(ctx, req.Packager, filepath.Dir(req.Spec))
	}
	res, out, err := Patch(data, opts)
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s: %w", req.Spec, err)
		}
		return nil, err
	}
	res.Check = req.Check
	switch {
	case req.Check:
	case req.InPlace && res.Diff != "":
		if req.Backup {
			if res.Backup, err = keepBackup(req.Spec, data); err != nil {
				return nil, err
			}
		}
		if res.Written, err = WriteInPlace(req.Spec, out); err != nil {
			return nil, err
		}
	case req.Out != "":
		// With nothing to change the output is the spec as it is.
		if res.Diff == "" {
			out = data
		}
		if err := WriteNew(req.Out, out, req.Spec, req.Force); err != nil {
			return nil, err
		}
		res.Written = req.Out
	}
	return res, nil
}

// keepBackup keeps the original spec as TARGET.orig beside the file
// WriteInPlace replaces. An existing backup may be the only copy of an
// earlier original: it is kept when it holds the same bytes and is never
// replaced otherwise.
func keepBackup(spec string, data []byte) (string, error) {
	target, err := filepath.EvalSymlinks(spec)
	if err != nil {
		return "", err
	}
	backup := target + ".orig"
	if old, err := os.ReadFile(backup); err == nil {
		if !bytes.Equal(old, data) {
			return "", fmt.Errorf("%s exists and differs from %s: move it away or drop --backup; nothing was written", backup, spec)
		}
		return backup, nil
	}
	return WriteBackup(spec, data)
}

// Packager finds the %changelog author as rpmdev-packager does: given
// (the --packager flag), RPM_PACKAGER, then git's user.name and user.email
// as git sees them in dir (the spec's directory). "" when none is set.
func Packager(ctx context.Context, given, dir string) string {
	if given != "" {
		return given
	}
	if v := os.Getenv("RPM_PACKAGER"); v != "" {
		return v
	}
	git := func(key string) string {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "git", "config", "--get", key)
		cmd.Dir = dir
		b, err := cmd.Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	name, email := git("user.name"), git("user.email")
	if name != "" && email != "" {
		return name + " <" + email + ">"
	}
	return name
}

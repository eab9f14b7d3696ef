package capture

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/gzdoctor/gzdoctor/capture/pcapfile"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
)

// keepTemps records a final write that failed: the backend's files stay
// where they are, they hold the only copy of the packets, and the result
// says where and how to turn them into a capture.
func keepTemps(res *Result, p *Plan, err error) {
	res.TempFiles = tempPaths(p)
	releaseTemps(p)
	res.WriteError = err.Error()
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		res.WriteError = "output filesystem full: " + res.WriteError
	}
	if errors.Is(err, pcapfile.ErrExists) {
		// Another process made the file while the capture ran (the
		// no-clobber commit refused to replace it): the recovery goes to
		// a free name beside it, and nothing says --force, which would
		// destroy that other file.
		q := *p
		q.Outputs = slices.Clone(p.Outputs)
		var taken, into []string
		for i, o := range q.Outputs {
			q.Outputs[i].Path = freeName(o.Path, strings.TrimPrefix(filepath.Base(p.TempDir), ".gzdoctor-"))
			taken, into = append(taken, o.Path), append(into, q.Outputs[i].Path)
		}
		res.WriteError = fmt.Sprintf("%s appeared while the capture ran (another process wrote it); gzdoctor never replaces a file it did not write, so the packets stay in %s and the command below writes them to %s",
			strings.Join(taken, ", "), p.TempDir, strings.Join(into, ", "))
		res.Recover = recoverCommand(&q)
		return
	}
	res.Recover = recoverCommand(p)
}

// freeName is a name beside path that does not exist yet:
// <name>-recovered-<tag><ext>, then -2, -3... if that is taken too.
func freeName(path, tag string) string {
	ext := filepath.Ext(path)
	stem := strings.TrimSuffix(path, ext) + "-recovered-" + tag
	name := stem + ext
	for i := 2; i < 100; i++ {
		if _, err := os.Lstat(name); errors.Is(err, fs.ErrNotExist) {
			return name
		}
		name = fmt.Sprintf("%s-%d%s", stem, i, ext)
	}
	return name
}

// recoverCommand is the command that writes the kept files into the
// output the capture was asked for.
func recoverCommand(p *Plan) string {
	var ins []string
	for _, t := range p.Temps {
		ins = append(ins, shquote.Quote(t.Path))
	}
	out := p.Outputs[0]
	args := []string{"gzdoctor", "pcap", "merge"}
	args = append(args, ins...)
	args = append(args, "--salvage", "-F", out.Format.String(), "-w", shquote.Quote(out.Path))
	if len(p.Outputs) > 1 || !out.Rx || !out.Tx {
		// --rx/--tx: one file per direction, each from its own file.
		var cmds []string
		for _, o := range p.Outputs {
			for _, t := range p.Temps {
				if t.Dir == dirRx && o.Rx || t.Dir == dirTx && o.Tx {
					cmds = append(cmds, strings.Join([]string{"gzdoctor", "pcap", "filter", shquote.Quote(t.Path), "--salvage", "-F", o.Format.String(), "-w", shquote.Quote(o.Path)}, " "))
				}
			}
		}
		return strings.Join(cmds, " && ") + " && rm -r " + shquote.Quote(p.TempDir)
	}
	return strings.Join(args, " ") + " && rm -r " + shquote.Quote(filepath.Clean(p.TempDir))
}

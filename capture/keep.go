package capture

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"

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
	res.Recover = recoverCommand(p)
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

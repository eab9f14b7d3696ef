package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/host/libconfig"
)

// errNoConfig: no --config, no LSTACK_CONF_PATH (the live lstack's or the
// capture user's), and no file at the default paths. Not an error for the run: Gazelle may not be configured
// here (a plain DPDK primary).
var errNoConfig = errors.New("no Gazelle config: no --config, no LSTACK_CONF_PATH (in a running lstack's environment or yours), no /etc/gazelle/lstack.conf or ltran.conf")

// GazelleConfig is the Gazelle configuration in use: the files read and
// the one that decides how the capture attaches.
type GazelleConfig struct {
	Files []*host.GazelleConfig `json:"files"`
	// Capture is the config of the process that owns the NIC: lstack's
	// own, or ltran's when lstack runs in ltran mode. Nil when lstack is in
	// ltran mode and no ltran.conf was found.
	Capture *host.GazelleConfig `json:"capture,omitempty"`
	// Path is the file Capture was read from (or the first file).
	Path string `json:"path"`
	// Prefix is the --file-prefix the capture must use according to the
	// config; empty when the config cannot say.
	Prefix    string `json:"prefix,omitempty"`
	PrefixWhy string `json:"prefix_why,omitempty"`
	// PathFrom names the live lstack whose LSTACK_CONF_PATH chose the
	// file, when one did.
	PathFrom string `json:"path_from,omitempty"`
	// Conflict lists the live lstacks' LSTACK_CONF_PATHs when they
	// disagree ("/opt/a/lstack.conf (pid 5001, app1)"): the file read is
	// then none of theirs (--config, the capture user's or the default),
	// and it cannot say which of them a capture is for.
	Conflict []string `json:"conflict,omitempty"`
}

// lstackConfPath is the LSTACK_CONF_PATH of the live lstack primary (the
// one holding --prefix, when given): the file lstack really read, which
// the capture user's own environment rarely names. Empty when no live
// lstack has one; when several disagree, empty with each in conflict.
func (e *Env) lstackConfPath(ctx context.Context) (confPath, from string, conflict []string) {
	rt, err := e.Runtime(ctx)
	if err != nil {
		return "", "", nil
	}
	var seen []string
	for _, pr := range rt.Live() {
		if pr.Lock.Holder == nil || pr.Lock.Holder.PID <= 0 || e.cfg.Prefix != "" && pr.Name != e.cfg.Prefix {
			continue
		}
		p, err := e.h.ReadProcess(pr.Lock.Holder.PID)
		if err != nil || p.DPDK.Lstack == "" && !strings.Contains(p.Env["LD_PRELOAD"], "liblstack") {
			continue
		}
		v := p.Env["LSTACK_CONF_PATH"]
		if !path.IsAbs(v) {
			continue // unset, or relative to a working dir gzdoctor does not share
		}
		conflict = append(conflict, fmt.Sprintf("%s (pid %d, %s)", v, p.PID, p.Name))
		if confPath == "" {
			confPath, from = v, fmt.Sprintf("LSTACK_CONF_PATH of pid %d (%s)", p.PID, p.Name)
		}
		if !slices.Contains(seen, v) {
			seen = append(seen, v)
		}
	}
	if len(seen) > 1 {
		return "", "", conflict
	}
	return confPath, from, nil
}

// GazelleConfig reads the config once per run. errNoConfig when there is
// none; a parse error or a missing explicit file is returned as is.
func (e *Env) GazelleConfig(ctx context.Context) (*GazelleConfig, error) {
	return e.config.await(ctx, "the Gazelle config", func() (*GazelleConfig, error) {
		getenv := e.getenv
		confPath, from := "", ""
		var conflict []string
		if e.cfg.ConfigPath == "" {
			confPath, from, conflict = e.lstackConfPath(ctx)
		}
		if confPath != "" {
			getenv = func(k string) string {
				if k == "LSTACK_CONF_PATH" {
					return confPath
				}
				return e.getenv(k)
			}
		}
		files, err := e.h.LoadGazelleConfigs(e.cfg.ConfigPath, getenv)
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, errNoConfig
		}
		g := &GazelleConfig{Files: files, Path: files[0].File, PathFrom: from, Conflict: conflict}
		var lstack, ltran *host.GazelleConfig
		for _, f := range files {
			switch {
			case f.Role == host.RoleLstack && lstack == nil:
				lstack = f
			case f.Role == host.RoleLtran && ltran == nil:
				ltran = f
			}
		}
		switch {
		case lstack != nil && lstack.CapturePrimary == host.RoleLtran:
			if ltran == nil && e.cfg.ConfigPath != "" {
				// --config named lstack.conf: ltran's is at its default path.
				if c, err := e.h.ReadGazelleConfig(host.DefaultLtranConf); err == nil {
					g.Files = append(g.Files, c)
					ltran = c
				} else if !errors.Is(err, fs.ErrNotExist) {
					return nil, err
				}
			}
			if ltran == nil {
				g.PrefixWhy = fmt.Sprintf("%s runs lstack in ltran mode, where ltran owns the NIC, but no ltran.conf was found", lstack.File)
				return g, nil
			}
			g.Capture = ltran
			g.PrefixWhy = fmt.Sprintf("lstack runs in ltran mode (%s): the capture attaches to ltran; ", lstack.File)
		case lstack != nil:
			g.Capture = lstack
		default:
			g.Capture = ltran
		}
		g.Path = g.Capture.File
		g.Prefix = g.Capture.Prefix
		key := "dpdk_args"
		if g.Capture.Role == host.RoleLtran {
			key = "forward_kit_args"
		}
		switch g.Capture.PrefixSource {
		case "file-prefix":
			pos := g.Capture.ArgsPos
			if a := g.Capture.EAL.Find("--file-prefix"); a != nil && a.Index < len(g.Capture.ArgPos) {
				pos = g.Capture.ArgPos[a.Index]
			}
			g.PrefixWhy += fmt.Sprintf("--file-prefix %s in %s (%s)", g.Prefix, key, posWords(pos, g.Capture.File))
		default:
			g.PrefixWhy += fmt.Sprintf("no --file-prefix in %s (%s): DPDK's default %s", key, posWords(g.Capture.ArgsPos, g.Capture.File), host.DefaultFilePrefix)
		}
		return g, nil
	})
}

// posWords prints a config position as file:line.
func posWords(p libconfig.Pos, file string) string {
	f := p.File
	if f == "" {
		f = file
	}
	if p.Line == 0 {
		return f
	}
	return fmt.Sprintf("%s:%d", f, p.Line)
}

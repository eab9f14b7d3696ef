package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/gzdoctor/gzdoctor/host"
)

// errNoConfig: no --config, no $LSTACK_CONF_PATH, and no file at the
// default paths. Not an error for the run: Gazelle may not be configured
// here (a plain DPDK primary).
var errNoConfig = errors.New("no Gazelle config found (--config, $LSTACK_CONF_PATH, /etc/gazelle/{lstack,ltran}.conf)")

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
}

// GazelleConfig reads the config once per run. errNoConfig when there is
// none; a parse error or a missing explicit file is returned as is.
func (e *Env) GazelleConfig(context.Context) (*GazelleConfig, error) {
	return e.config.get(func() (*GazelleConfig, error) {
		files, err := e.h.LoadGazelleConfigs(e.cfg.ConfigPath, e.getenv)
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, errNoConfig
		}
		g := &GazelleConfig{Files: files, Path: files[0].File}
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
func posWords(p host.Pos, file string) string {
	f := p.File
	if f == "" {
		f = file
	}
	if p.Line == 0 {
		return f
	}
	return fmt.Sprintf("%s:%d", f, p.Line)
}

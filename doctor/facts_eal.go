package doctor

import (
	"context"
	"fmt"

	"github.com/gzdoctor/gzdoctor/host"
)

// PrimaryEAL returns the EAL arguments the primary runs with and where they
// were read: telemetry's /eal/params (what EAL really got), else, for
// Gazelle's processes, the config (lstack takes them from lstack.conf, not
// from the application's command line), else the command line.
func (e *Env) PrimaryEAL(ctx context.Context, p *host.Process) (*host.EALArgs, string) {
	a, src, _ := e.primaryEAL(ctx, p)
	return a, src
}

// primaryEAL is PrimaryEAL that also returns the config the arguments were
// read from, when they were, for positions.
func (e *Env) primaryEAL(ctx context.Context, p *host.Process) (*host.EALArgs, string, *host.GazelleConfig) {
	if tel, err := e.Telemetry(ctx); err == nil && tel != nil && len(tel.EALParams) > 1 {
		return host.ParseEALArgs(tel.EALParams[1:]), "telemetry /eal/params", nil
	}
	role := host.GazelleRole("")
	switch {
	case p.DPDK.Lstack != "":
		role = host.RoleLstack
	case p.Name == "ltran":
		role = host.RoleLtran
	}
	if role != "" {
		if cf, err := e.GazelleConfig(ctx); err == nil {
			for _, f := range cf.Files {
				if f.Role == role {
					return f.EAL, fmt.Sprintf("%s of %s", argsKey(role), f.File), f
				}
			}
		}
	}
	if len(p.Cmdline) > 1 && host.LooksLikeEAL(p.Cmdline) {
		return host.ParseEALArgs(p.Cmdline[1:]), fmt.Sprintf("the command line of pid %d", p.PID), nil
	}
	return nil, "", nil
}

// argWhere says where option name is set in a config: "--huge-dir in
// /etc/gazelle/lstack.conf:3".
func argWhere(c *host.GazelleConfig, name string) string {
	pos := c.ArgsPos
	if a := c.EAL.Find(name); a != nil && a.Index < len(c.ArgPos) {
		pos = c.ArgPos[a.Index]
	}
	return name + " in " + posWords(pos, c.File)
}

func argsKey(r host.GazelleRole) string {
	if r == host.RoleLtran {
		return "forward_kit_args"
	}
	return "dpdk_args"
}

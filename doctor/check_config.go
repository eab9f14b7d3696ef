package doctor

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gzdoctor/gzdoctor/host/libconfig"
)

// checkConfig (CHK-04): the lstack.conf / ltran.conf in use parses, and the
// Gazelle gotchas that affect capture (gazelle-facts.md §13) are reported
// with their line numbers.
func checkConfig(ctx context.Context, env *Env) Result {
	cf, err := env.GazelleConfig(ctx)
	switch {
	case errors.Is(err, errNoConfig):
		return skip(err.Error())
	case err != nil:
		var le *libconfig.Error
		if errors.As(err, &le) {
			return fail(fmt.Sprintf("%s does not parse: %s", orUnknown(le.Pos.File), err),
				fix(fmt.Sprintf("fix the syntax at %s; lstack/ltran refuse to start with it (`Read config file ... error`)", le.Pos)))
		}
		return fail(err.Error(), fix("give the config in use with --config"))
	}
	var errs, warns, details []string
	if cf.PathFrom != "" {
		details = append(details, "config chosen by the "+cf.PathFrom)
	}
	if len(cf.Conflict) > 0 {
		details = append(details, "not the config of the running lstacks, which read their own: "+strings.Join(cf.Conflict, "; "))
	}
	for _, f := range cf.Files {
		details = append(details, fmt.Sprintf("%s: %s, dpdk args [%s], prefix %s (%s)", f.File, f.Role, strings.Join(f.DPDKArgs, " "), f.Prefix, f.PrefixSource))
		for _, g := range f.Gotchas {
			line := fmt.Sprintf("%s: %s [%s]", posWords(g.Pos, f.File), g.Message, g.ID)
			switch g.Severity {
			case "error":
				errs = append(errs, line)
			case "warn":
				warns = append(warns, line)
			default:
				details = append(details, line)
			}
		}
	}
	var names []string
	for _, f := range cf.Files {
		names = append(names, f.File)
	}
	what := strings.Join(names, ", ")
	if cf.Prefix != "" {
		details = append(details, "capture prefix: "+cf.PrefixWhy)
	} else if cf.PrefixWhy != "" {
		warns = append(warns, cf.PrefixWhy)
	}
	switch {
	case len(errs) > 0:
		return fail(errs[0],
			fix("correct the config; it takes effect when lstack/ltran next starts (a running primary that the other checks pass needs no restart for a capture):\n"+strings.Join(append(errs, warns...), "\n")),
			details...)
	case len(warns) > 0:
		return warn(warns[0],
			fix(strings.Join(warns, "\n")), details...)
	}
	return ok(fmt.Sprintf("%s %s; nothing in %s stands in the way of a capture", what, plural(len(names), "parses", "parse"), plural(len(names), "it", "them")), details...)
}

package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/gzdoctor/gzdoctor/host"
)

// checkPrefix (CHK-04 with CHK-02): which --file-prefix the capture must
// use, and whether the config and the live prefixes agree on it.
func checkPrefix(ctx context.Context, env *Env) Result {
	t, err := env.Target(ctx)
	if err != nil {
		return errored(err.Error())
	}
	rt, err := env.Runtime(ctx)
	if err != nil {
		return errored(err.Error())
	}
	if len(t.Ambiguous) > 0 {
		return fail(fmt.Sprintf("several live prefixes (%s) and nothing says which one the capture is for", strings.Join(t.Ambiguous, ", ")),
			fix("say which primary to capture from: pass --prefix to gzdoctor (or --config with the lstack.conf/ltran.conf in use), and the same --file-prefix to the capture tool",
				"gzdoctor check --prefix "+t.Ambiguous[0]))
	}
	var details []string
	details = append(details, "chosen from: "+t.Why)
	if cf, _ := env.GazelleConfig(ctx); cf != nil && t.Source == SourceFlag && cf.Prefix != "" && cf.Prefix != t.Name {
		details = append(details, fmt.Sprintf("note: %s implies --file-prefix %s (%s)", cf.Path, cf.Prefix, cf.PrefixWhy))
	}
	live := rt.Live()
	if t.Dir != nil && t.Dir.State == "live" {
		return ok(fmt.Sprintf("prefix %q (%s) is live: use --file-prefix %s", t.Name, t.Source, t.Name), details...)
	}
	// The chosen prefix has no live primary. If another prefix is live, the
	// config (or --prefix) and the machine disagree: name the live one.
	var others []string
	for _, p := range live {
		if p.Name != t.Name {
			others = append(others, p.Name)
		}
	}
	state := "has no runtime dir"
	if t.Dir != nil {
		state = fmt.Sprintf("is %s (%s)", t.Dir.State, t.Dir.Dir)
	}
	if len(others) == 0 {
		// Nothing else is live: the primary check says what is wrong with
		// this prefix (not started, or dead and stale).
		return ok(fmt.Sprintf("prefix %q (%s); it %s, and no other prefix is live", t.Name, t.Source, state), details...)
	}
	use := others[0]
	finding := fmt.Sprintf("prefix %q (%s) %s, but %s live: %s", t.Name, t.Source, state,
		plural(len(others), "this prefix is", "these prefixes are"), prefixNames(filterLive(live, others)))
	f := fix(fmt.Sprintf("capture from the live primary with --file-prefix %s", use),
		fmt.Sprintf("gazelle-pdump --file-prefix %s -- --pdump 'device_id=...,queue=*,rx-dev=/tmp/capture.pcap'", use),
		fmt.Sprintf("gzdoctor check --prefix %s", use))
	if t.Source == SourceConfig {
		f.Text += fmt.Sprintf("; or, if %q is the primary you want, (re)start it: it is not running", t.Name)
	}
	if t.Dir != nil {
		// A stale dir of the chosen name: maybe the right name of a dead
		// primary. The primary check fails with the cleanup; here, warn.
		return warn(finding, f, details...)
	}
	return fail(finding, f, details...)
}

func filterLive(live []host.Prefix, names []string) []host.Prefix {
	var out []host.Prefix
	for _, p := range live {
		for _, n := range names {
			if p.Name == n {
				out = append(out, p)
			}
		}
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

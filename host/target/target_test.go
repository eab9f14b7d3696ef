package target

import (
	"slices"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/host"
)

func live(base, name string, pid, uid int) host.Prefix {
	return host.Prefix{Name: name, Base: base, Dir: base + "/" + name, State: host.PrefixLive,
		Owner: &host.FileStat{UID: uid}, Lock: host.LockCheck{Holder: &host.LockHolder{PID: pid}}}
}

func stale(base, name string) host.Prefix {
	return host.Prefix{Name: name, Base: base, Dir: base + "/" + name, State: host.PrefixStale, Owner: &host.FileStat{UID: 0}}
}

// TestResolve: every source of the target, and what is ambiguous. The
// config facts are what doctor.Env.GazelleConfig reads (lstack.conf's
// dpdk_args, or ltran.conf's forward_kit_args in ltran mode, from a live
// lstack's LSTACK_CONF_PATH, --config, the caller's LSTACK_CONF_PATH or the
// default paths).
func TestResolve(t *testing.T) {
	const root, user = "/var/run/dpdk", "/run/user/1000/dpdk"
	lstackConf := &Config{Path: "/etc/gazelle/lstack.conf", Prefix: "gazelle", Why: "--file-prefix gazelle in dpdk_args (/etc/gazelle/lstack.conf:3)"}
	ltranConf := &Config{Path: "/etc/gazelle/ltran.conf", Prefix: "ltran", Why: "lstack runs in ltran mode (/etc/gazelle/lstack.conf): the capture attaches to ltran; --file-prefix ltran in forward_kit_args (/etc/gazelle/ltran.conf:1)"}
	envConf := &Config{Path: "/opt/app/lstack.conf", Prefix: "app", Why: "--file-prefix app in dpdk_args (/opt/app/lstack.conf:2)"}
	noPrefixConf := &Config{Path: "/etc/gazelle/lstack.conf", Why: "/etc/gazelle/lstack.conf runs lstack in ltran mode, where ltran owns the NIC, but no ltran.conf was found"}
	defaultConf := &Config{Path: "/etc/gazelle/lstack.conf", Prefix: "rte", Why: "no --file-prefix in dpdk_args (/etc/gazelle/lstack.conf:3): DPDK's default rte"}
	gz, other := live(root, "gazelle", 4242, 0), live(root, "other", 5000, 0)
	for _, tt := range []struct {
		name       string
		req        Request
		facts      Facts
		prefix     string
		via        Via
		dir        string
		pid        int
		candidates []string
		why        string // a part of Why
	}{
		{name: "flag, its primary live", req: Request{Prefix: "gazelle"}, facts: Facts{Prefixes: []host.Prefix{gz, other}, CallerBase: root, Config: envConf},
			prefix: "gazelle", via: ViaFlag, dir: root + "/gazelle", pid: 4242, why: "--prefix gazelle"},
		{name: "flag, nothing runs", req: Request{Prefix: "typo"}, facts: Facts{Prefixes: []host.Prefix{gz}, CallerBase: root},
			prefix: "typo", via: ViaFlag},
		{name: "all-prefixes", req: Request{Prefix: "other", Via: ViaAll}, facts: Facts{Prefixes: []host.Prefix{gz, other}, CallerBase: root},
			prefix: "other", via: ViaAll, dir: root + "/other", pid: 5000, why: "--all-prefixes"},
		{name: "the capture tool's log (diagnose --live)", req: Request{Prefix: "gazelle", Via: ViaLog}, facts: Facts{Prefixes: []host.Prefix{gz, other}, CallerBase: root, Config: envConf},
			prefix: "gazelle", via: ViaLog, dir: root + "/gazelle", pid: 4242, why: "the capture tool's log"},
		{name: "lstack.conf beats the live primaries", facts: Facts{Prefixes: []host.Prefix{gz, other}, CallerBase: root, Config: lstackConf},
			prefix: "gazelle", via: ViaConfig, dir: root + "/gazelle", pid: 4242, why: "/etc/gazelle/lstack.conf:3"},
		{name: "ltran.conf in ltran mode", facts: Facts{Prefixes: []host.Prefix{gz, live(root, "ltran", 77, 0)}, CallerBase: root, Config: ltranConf},
			prefix: "ltran", via: ViaConfig, dir: root + "/ltran", pid: 77, why: "forward_kit_args"},
		{name: "LSTACK_CONF_PATH's config, its primary not started", facts: Facts{Prefixes: []host.Prefix{gz}, CallerBase: root, Config: envConf},
			prefix: "app", via: ViaConfig, why: "/opt/app/lstack.conf"},
		{name: "a config without --file-prefix names rte", facts: Facts{Prefixes: []host.Prefix{gz}, CallerBase: root, Config: defaultConf},
			prefix: "rte", via: ViaConfig, why: "DPDK's default rte"},
		{name: "the only live primary", facts: Facts{Prefixes: []host.Prefix{gz, stale(root, "dead")}, CallerBase: root},
			prefix: "gazelle", via: ViaLive, dir: root + "/gazelle", pid: 4242, why: "the only running primary's"},
		{name: "a config that cannot say, one primary runs", facts: Facts{Prefixes: []host.Prefix{gz}, CallerBase: root, Config: noPrefixConf},
			prefix: "gazelle", via: ViaLive, dir: root + "/gazelle", pid: 4242},
		{name: "none: DPDK's default, said", facts: Facts{Prefixes: []host.Prefix{stale(root, "dead")}, CallerBase: root},
			prefix: "rte", via: ViaDefault, why: "no --prefix, no config, no running primary: DPDK's default"},
		{name: "ambiguous: two live primaries", facts: Facts{Prefixes: []host.Prefix{other, gz}, CallerBase: root},
			candidates: []string{"gazelle", "other"}, why: "several primaries are running (gazelle, other)"},
		{name: "ambiguous: a config that cannot say and two live", facts: Facts{Prefixes: []host.Prefix{other, gz}, CallerBase: root, Config: noPrefixConf},
			candidates: []string{"gazelle", "other"}, why: "several primaries"},
		{name: "ambiguous: a config that cannot say, nothing runs (not rte)", facts: Facts{CallerBase: root, Config: noPrefixConf},
			why: "no ltran.conf was found; and no primary is running"},
		{name: "the capture user's dir first: a non-root tool opens its own", req: Request{Prefix: "gazelle"},
			facts:  Facts{Prefixes: []host.Prefix{gz, {Name: "gazelle", Base: user, Dir: user + "/gazelle", State: host.PrefixNoConfig, Owner: &host.FileStat{UID: 1000}}}, CallerBase: user},
			prefix: "gazelle", via: ViaFlag, dir: user + "/gazelle"},
		{name: "a live primary as another user: its dir, its pid", facts: Facts{Prefixes: []host.Prefix{live(user, "mine", 900, 1000)}, CallerBase: root},
			prefix: "mine", via: ViaLive, dir: user + "/mine", pid: 900},
		{name: "/var/run and /run are one", req: Request{Prefix: "gazelle"}, facts: Facts{Prefixes: []host.Prefix{stale("/tmp/dpdk", "gazelle"), live("/run/dpdk", "gazelle", 9, 0)}, CallerBase: root},
			prefix: "gazelle", via: ViaFlag, dir: "/run/dpdk/gazelle", pid: 9},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Resolve(tt.req, tt.facts)
			if got.Prefix != tt.prefix || got.Via != tt.via || got.RuntimeDir != tt.dir || got.PID != tt.pid {
				t.Errorf("got prefix %q via %q dir %q pid %d, want %q %q %q %d", got.Prefix, got.Via, got.RuntimeDir, got.PID,
					tt.prefix, tt.via, tt.dir, tt.pid)
			}
			if got.Ambiguous() != (tt.prefix == "") || !slices.Equal(got.CandidateNames(), tt.candidates) {
				t.Errorf("ambiguous %v, candidates %v, want %v", got.Ambiguous(), got.CandidateNames(), tt.candidates)
			}
			if !contains(got.Why, tt.why) {
				t.Errorf("why %q lacks %q", got.Why, tt.why)
			}
			if got.Dir != nil && got.Dir.Dir != got.RuntimeDir {
				t.Errorf("Dir %s, RuntimeDir %s", got.Dir.Dir, got.RuntimeDir)
			}
		})
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

package doctor

import (
	"context"
	"fmt"
	"path"
	"slices"

	"github.com/gzdoctor/gzdoctor/host"
)

// checkPdump (CHK-11): the primary called rte_pdump_init(). Since DPDK 21.11
// that call reserves the memzone rte_pdump_stats, which telemetry lists and
// the prefix's fbarray_memzone holds: strong evidence either way. Older
// primaries leave no such trace; then rte_pdump_init being referenced by
// the executable or a mapped library is the (weaker) evidence.
func checkPdump(ctx context.Context, env *Env) Result {
	t, err := env.Target(ctx)
	if err != nil {
		return errored(err.Error())
	}
	if t.Dir == nil {
		return skip("no runtime dir for prefix " + t.Prefix)
	}
	p, _ := env.Primary(ctx)
	release := ""
	if p != nil {
		release = p.DPDK.Release
	}
	var details []string
	noInit := func(how string) Result {
		if age, young := env.primaryStarting(p); young {
			// rte_pdump_init comes after rte_eal_init returns: a
			// primary still starting has not reached it yet.
			return fail(fmt.Sprintf("no %s memzone yet (%s), but the primary started %s ago: it may not have reached rte_pdump_init() yet, and a capture tool attached now fails", host.PdumpMemzone, how, startingWords(age)),
				fix("wait until it has started, then check again; if the memzone is still missing then, the primary does not call rte_pdump_init()", env.gzdoctorCheck(t.Prefix)), details...)
		}
		return fail(fmt.Sprintf("the primary did not call rte_pdump_init(): no %s memzone (%s)", host.PdumpMemzone, how),
			pdumpFix(),
			details...)
	}

	tel, err := env.Telemetry(ctx)
	if err != nil {
		details = append(details, "telemetry: "+err.Error())
	}
	if tel != nil && tel.PdumpInit != nil {
		if *tel.PdumpInit {
			return ok(fmt.Sprintf("rte_pdump_init() was called: memzone %s present (telemetry /eal/memzone_list)", host.PdumpMemzone), details...)
		}
		return noInit("telemetry /eal/memzone_list")
	}

	names, err := env.h.MemzoneNames(t.Dir.Dir)
	if err != nil {
		details = append(details, "fbarray_memzone: "+err.Error())
	} else {
		if slices.Contains(names, host.PdumpMemzone) {
			return ok(fmt.Sprintf("rte_pdump_init() was called: memzone %s present (%s/fbarray_memzone)", host.PdumpMemzone, t.Dir.Dir), details...)
		}
		details = append(details, fmt.Sprintf("fbarray_memzone holds %d memzones, none named %s", len(names), host.PdumpMemzone))
		if host.ReleaseAtLeast(release, 21, 11) {
			return noInit(t.Dir.Dir + "/fbarray_memzone")
		}
	}

	// No memzone evidence (DPDK before 21.11, or unreadable): fall back to
	// the symbol reference, and say it is weaker.
	ref, where, err := env.PdumpReferenced(ctx)
	switch {
	case err != nil && p != nil && p.DPDK.Pdump != "":
		details = append(details, "symbol check: "+err.Error())
		return warn(fmt.Sprintf("the primary maps %s but whether it called rte_pdump_init() cannot be proven (weakest evidence: DPDK %s leaves no memzone, and its binaries could not be read)", path.Base(p.DPDK.Pdump), orUnknown(release)),
			fix("if the capture fails with \"mp_pdump\" errors, make sure the primary calls rte_pdump_init() after rte_eal_init()"),
			details...)
	case err != nil:
		details = append(details, "symbol check: "+err.Error())
		return skip("no evidence either way: no memzone list (DPDK "+orUnknown(release)+") and the primary's binaries could not be read", details...)
	case ref:
		return warn(fmt.Sprintf("rte_pdump_init is referenced by %s (weaker evidence: DPDK %s leaves no memzone to prove the call ran)", where, orUnknown(release)),
			fix("if the capture fails with \"mp_pdump\" errors, make sure the primary calls rte_pdump_init() after rte_eal_init()"),
			details...)
	}
	return fail("rte_pdump_init is referenced by neither the primary's executable nor its libraries: pdump cannot work (weaker evidence than a memzone, but a missing reference is conclusive)",
		pdumpFix(), details...)
}

func pdumpFix() *Fix {
	return fix("the primary must call rte_pdump_init() after rte_eal_init(): Gazelle's lstack does so since 2022-11 (non-ltran mode) and ltran since 2022-12; upgrade gazelle, or in ltran mode capture from ltran (its --file-prefix), not lstack")
}

package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/host/telemetry"
)

// checkBusy (CHK-11): no capture runs on the primary, and none left its
// vdevs, rings or pools in it. Both make the next capture fail with
// messages that read like other causes (see Busy).
func checkBusy(ctx context.Context, env *Env) Result {
	t, err := env.Target(ctx)
	if err != nil {
		return errored(err.Error())
	}
	if t.Dir == nil || t.Dir.State != host.PrefixLive {
		return skip("no running primary to look at")
	}
	b := env.Busy(ctx)
	var details []string
	for _, c := range b.Captures {
		details = append(details, "capture tool attached: "+c.Words())
	}
	for _, c := range b.Others {
		details = append(details, "other secondary attached (not a capture tool): "+c.Words())
	}
	for _, pid := range b.Gone {
		details = append(details, fmt.Sprintf("secondary pid %d is gone; its mp_socket_%d_* remains", pid, pid))
	}
	if len(b.Vdevs) > 0 {
		details = append(details, "pdump vdevs among the primary's ports: "+strings.Join(b.Vdevs, ", "))
	}
	if len(b.Memzones) > 0 {
		details = append(details, "capture memzones in the primary: "+strings.Join(b.Memzones, ", "))
	}
	for _, u := range b.Unknown {
		details = append(details, "could not read: "+u)
	}
	if b.Held() {
		p, _ := env.Primary(ctx)
		return fail(b.Finding(t.Prefix), b.Fix(p), details...)
	}
	if len(b.Unknown) == 2 {
		return skip("cannot tell whether a capture holds the primary: neither its ports nor its memzones could be read", details...)
	}
	return ok(fmt.Sprintf("no capture is attached to prefix %s and none left its vdevs or rings in the primary", t.Prefix), details...)
}

// Busy runs DetectBusy on the target primary with the telemetry the run
// already has.
func (e *Env) Busy(ctx context.Context) *Busy {
	t, err := e.Target(ctx)
	if err != nil || t.Dir == nil {
		return &Busy{}
	}
	var ports []telemetry.EthPort
	var memzones []string
	known := false
	if tel, err := e.Telemetry(ctx); err == nil && tel != nil {
		if tel.Errors["ports"] == "" {
			ports, known = tel.Ports, true
		}
		if tel.Errors["memzones"] == "" {
			memzones = tel.Memzones
		}
	}
	return DetectBusy(e.h, t.Dir, ports, known, memzones)
}

package capture

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/gzdoctor/gzdoctor/host"
)

// PromiscState is the captured port's promiscuous mode before the backend
// started and after it ended, from the primary's telemetry (/ethdev/info):
// the proof that the capture left it as it was, or the news that it did
// not.
type PromiscState struct {
	Port   int   `json:"port"`
	Before *bool `json:"before"` // nil: could not be read
	After  *bool `json:"after"`
	// Asked: --promisc (dumpcap may turn it on for the capture).
	Asked bool `json:"asked,omitempty"`
}

// Changed reports whether the capture left the port otherwise than it
// found it.
func (s *PromiscState) Changed() bool {
	return s != nil && s.Before != nil && s.After != nil && *s.Before != *s.After
}

// readPromisc asks the primary's telemetry for the port's promiscuous
// mode; nil when it cannot.
func (s *supervisor) readPromisc(ctx context.Context) *bool {
	if s.p.telemetry == "" || s.p.Port < 0 {
		return nil
	}
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	t, err := host.New(orRoot(s.o.Root)).DialTelemetry(qctx, s.p.telemetry)
	if err != nil {
		return nil
	}
	defer t.Close()
	var info struct {
		Promiscuous *int `json:"promiscuous"`
	}
	if err := t.QueryInto(qctx, "/ethdev/info,"+strconv.Itoa(s.p.Port), &info); err != nil || info.Promiscuous == nil {
		return nil
	}
	on := *info.Promiscuous != 0
	return &on
}

func onOff(b *bool) string {
	switch {
	case b == nil:
		return "unknown"
	case *b:
		return "on"
	}
	return "off"
}

// words is the summary's promisc line.
func (s *PromiscState) words(device, tool string) string {
	w := fmt.Sprintf("%s: %s before, %s after", device, onOff(s.Before), onOff(s.After))
	switch {
	case s.Changed():
		w += fmt.Sprintf(": %s changed the port's promiscuous mode", tool)
	case s.Asked && s.Before != nil && !*s.Before:
		w += " (--promisc: on during the capture)"
	case s.Before != nil && s.After != nil:
		w += " (left as it was)"
	}
	return w
}

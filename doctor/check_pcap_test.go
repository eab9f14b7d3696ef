package doctor

import (
	"context"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/host"
)

// A root primary's maps are unreadable to a non-root gzdoctor: the pcap PMD
// is then unknown (skip), not "linked statically".
func TestPcapPMDUnreadableMaps(t *testing.T) {
	env := NewEnv(Config{Host: host.New(t.TempDir()), User: &User{UID: 65534, GID: 65534}, Env: []string{}})
	env.primary.get(func() (*host.Process, error) {
		return &host.Process{PID: 4242, UID: 0, Name: "lab-primary", Unreadable: []string{"maps: permission denied", "exe: permission denied"}}, nil
	})
	r := checkPcapPMD(context.Background(), env)
	if r.Status != Skip || !strings.Contains(r.Finding, "cannot read /proc/4242/maps") {
		t.Errorf("got %s %q", r.Status, r.Finding)
	}
	if strings.Contains(r.Finding, "statically") {
		t.Errorf("claims a static build: %q", r.Finding)
	}
}

package shquote

import (
	"os/exec"
	"testing"
)

// Every quoted word reads back as itself in a real sh.
func TestQuoteRoundTrip(t *testing.T) {
	words := []string{"", "plain", "/var/run/dpdk/(null)", "it's", "a b", "device_id=net_ring0,queue=*", "$HOME", "x\ny", "user@host:%1+2"}
	for _, w := range words {
		out, err := exec.Command("sh", "-c", "printf %s "+Quote(w)).Output()
		if err != nil {
			t.Fatalf("%q: %v", w, err)
		}
		if string(out) != w {
			t.Errorf("Quote(%q) = %s reads back as %q", w, Quote(w), out)
		}
	}
	if got := Join([]string{"rm", "-r", "/var/run/dpdk/(null)"}); got != "rm -r '/var/run/dpdk/(null)'" {
		t.Errorf("Join = %s", got)
	}
	if got := Quote("--file-prefix=gazelle"); got != "--file-prefix=gazelle" {
		t.Errorf("a safe word is quoted: %s", got)
	}
}

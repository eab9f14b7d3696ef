package doctor

import (
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/internal/shquote"
)

func TestClosestFirst(t *testing.T) {
	tests := []struct {
		typo  string
		names []string
		want  string
	}{
		// Alphabetical order would put aaa first: distance decides.
		{"gazele", []string{"aaa", "gazelle", "zz_other"}, "gazelle aaa zz_other"},
		{"ltarn", []string{"gazelle", "ltran", "lstack"}, "ltran lstack gazelle"},
		{"gzlab_1_1x", []string{"gzlab_1_2", "gzlab_1_1", "gzlab_1_11"}, "gzlab_1_1 gzlab_1_11 gzlab_1_2"},
	}
	for _, tt := range tests {
		var ps []host.Prefix
		for _, n := range tt.names {
			ps = append(ps, host.Prefix{Name: n})
		}
		var got []string
		for _, p := range closestFirst(ps, tt.typo) {
			got = append(got, p.Name)
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("closestFirst(%s) = %v, want %s", tt.typo, got, tt.want)
		}
	}
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "abc", 3}, {"gazele", "gazelle", 1}, {"ltarn", "ltran", 2}, {"same", "same", 0}} {
		if got := editDistance(c.a, c.b); got != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
	}
}

func TestShellJoin(t *testing.T) {
	got := shquote.Join([]string{"dpdk-pdump", "--file-prefix", "gz", "--", "--pdump", "device_id=net_ring0,queue=*,rx-dev=/tmp/a b.pcap", "it's"})
	want := `dpdk-pdump --file-prefix gz -- --pdump 'device_id=net_ring0,queue=*,rx-dev=/tmp/a b.pcap' 'it'\''s'`
	if got != want {
		t.Errorf("shellJoin = %s\nwant       %s", got, want)
	}
}

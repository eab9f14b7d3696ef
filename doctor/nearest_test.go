package doctor

import "testing"

func TestNearestPrefix(t *testing.T) {
	for _, tc := range []struct {
		names []string
		typo  string
		want  string
	}{
		{[]string{"gazelle", "ltran"}, "gazele", "gazelle"},
		{[]string{"gazelle", "ltran"}, "ltarn", "ltran"},
		{[]string{"gzlab_1_1", "gzlab_1_2"}, "gzlab_1_3", ""}, // a tie: the operator chooses
		{[]string{"gazelle"}, "something-else", ""},           // too far to be a typo
		{[]string{"gazelle", "gazelle"}, "gazele", "gazelle"}, // one name seen twice
		{nil, "gazele", ""},
	} {
		if got := NearestPrefix(tc.names, tc.typo); got != tc.want {
			t.Errorf("NearestPrefix(%q, %q) = %q, want %q", tc.names, tc.typo, got, tc.want)
		}
	}
}

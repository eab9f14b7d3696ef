package host

import (
	"reflect"
	"testing"
)

func TestParseCPUList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		bad  bool
	}{
		{"2", []int{2}, false},
		{"0,2,4", []int{0, 2, 4}, false},
		{"2-5", []int{2, 3, 4, 5}, false},
		{"0-1,8\n", []int{0, 1, 8}, false},
		{"1,1,0-1", []int{1, 0}, false},
		{"", nil, true},
		{"a", nil, true},
		{"5-2", nil, true},
		{"-1", nil, true},
	} {
		got, err := ParseCPUList(tc.in)
		if (err != nil) != tc.bad || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseCPUList(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

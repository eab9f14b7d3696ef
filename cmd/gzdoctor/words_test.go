package main

import "testing"

func TestInOurWords(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`required flag(s) "write" not set`, "--write is required"},
		{`required flag(s) "a", "b" not set`, "--a and --b are required"},
		{`if any flags in the group [check write] are set none of the others can be; [check write] were all set`, "--check and --write cannot be used together"},
		{`accepts 1 arg(s), received 0`, "expected 1 argument, got 0"},
		{`requires at least 2 arg(s), only received 1`, "expected at least 2 arguments, got 1"},
		{`unknown flag: --config`, "unknown flag: --config (only check, capture, collect and diagnose read --config)"},
		{`unknown flag: --nope`, "unknown flag: --nope"},
	} {
		if got := inOurWords(tc.in); got != tc.want {
			t.Errorf("inOurWords(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

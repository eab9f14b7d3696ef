package duration

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"2s", 2 * time.Second, ""},
		{"500ms", 500 * time.Millisecond, ""},
		{"1m30s", 90 * time.Second, ""},
		{"-1h", -time.Hour, ""},
		{"0s", 0, ""},
		{"10", 10 * time.Second, ""},
		{"2.5", 2500 * time.Millisecond, ""},
		{".5", 500 * time.Millisecond, ""},
		{"0", 0, ""},
		{"", 0, "want a duration"},
		{"x", 0, "want a duration"},
		{"1.2.3", 0, "want a duration"},
		{"inf", 0, "want a duration"},
		{"1e3", 0, "want a duration"},
		{"0x10", 0, "want a duration"},
		{"+5", 0, "want a duration"},
		{"10 s", 0, "want a duration"},
		{"99999999999999999999", 0, "too long"},
	} {
		got, err := Parse(tc.in)
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("Parse(%q) = %v, %v; want an error with %q", tc.in, got, err, tc.wantErr)
		case tc.wantErr == "" && (err != nil || got != tc.want):
			t.Errorf("Parse(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// TestVarHelp: the flag reads in help as pflag's own duration flag did.
func TestVarHelp(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	var a, b time.Duration
	Var(fs, &a, "timeout", time.Second, "time limit")
	Var(fs, &b, "duration", 0, "stop after this long")
	usage := fs.FlagUsages()
	if !strings.Contains(usage, "--timeout duration    time limit (default 1s)") {
		t.Errorf("usage %q", usage)
	}
	if strings.Contains(usage, "default 0") {
		t.Errorf("a zero default is shown: %q", usage)
	}
	if err := fs.Parse([]string{"--timeout", "2.5", "--duration", "1m"}); err != nil || a != 2500*time.Millisecond || b != time.Minute {
		t.Errorf("parsed %v, %v, %v", a, b, err)
	}
	err := fs.Parse([]string{"--timeout", "soon"})
	if err == nil || !strings.Contains(err.Error(), `invalid argument "soon" for "--timeout" flag`) {
		t.Errorf("bad value: %v", err)
	}
}

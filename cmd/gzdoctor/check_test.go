package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gzdoctor/gzdoctor/doctor"
)

func TestCheckList(t *testing.T) {
	code, out, _ := run(t, "check", "--list")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, c := range doctor.Checks() {
		if !strings.Contains(out, c.ID) {
			t.Errorf("--list lacks %s:\n%s", c.ID, out)
		}
	}
}

func TestCheckUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"check", "--only", "no-such-check"}, `unknown check "no-such-check"`},
		{[]string{"check", "--skip", "CHK-77"}, `unknown check "CHK-77"`},
		{[]string{"check", "--timeout", "0s"}, "--timeout must be positive"},
		{[]string{"check", "extra"}, "unknown command"},
	}
	for _, tt := range tests {
		code, _, stderr := run(t, tt.args...)
		if code != exitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}

func TestCheckJSONOnly(t *testing.T) {
	code, out, _ := run(t, "-o", "json", "check", "--only", "CHK-09")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, out)
	}
	var env struct {
		Command string        `json:"command"`
		Data    doctor.Report `json:"data"`
	}
	if err := json.Unmarshal([]byte(out), &env); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if env.Command != "check" || len(env.Data.Results) != 1 || env.Data.Results[0].ID != "aslr" {
		t.Errorf("got %+v", env)
	}
}

// Package duration is gzdoctor's one rule for a duration on its command
// line (docs/design.md, the flag vocabulary): a Go duration ("500ms",
// "2s", "1m30s"), or a bare number of seconds ("10", "2.5"), which is
// dumpcap's spelling (-a duration:S, -b duration:S) and what the first
// releases documented for capture --duration. One parser for every flag,
// so no flag refuses what another takes.
package duration

import (
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/spf13/pflag"
)

// ErrTooLong is a number of seconds past what a time.Duration holds.
var ErrTooLong = errors.New("too long")

// Parse reads s by the rule. Zero and negative durations parse; whether
// they make sense is the flag's to say.
func Parse(s string) (time.Duration, error) {
	if isSeconds(s) {
		secs, err := strconv.ParseFloat(s, 64)
		if err != nil || secs*float64(time.Second) > math.MaxInt64 {
			return 0, ErrTooLong
		}
		return time.Duration(secs * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("want a duration such as 500ms, 2s or 1m30s (a bare number is seconds)")
	}
	return d, nil
}

// isSeconds: decimal digits with at most one point, nothing else (not
// ParseFloat's "inf", "1e9", "0x1p4" or signs).
func isSeconds(s string) bool {
	digits, points := 0, 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			points++
		default:
			return false
		}
	}
	return digits > 0 && points <= 1
}

// Var defines a duration flag on fs read with Parse. Its help reads as
// pflag's own DurationVar's ("--timeout duration ... (default 1s)"); a
// zero default is not shown.
func Var(fs *pflag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	VarP(fs, p, name, "", value, usage)
}

// VarP is Var with a one-letter shorthand.
func VarP(fs *pflag.FlagSet, p *time.Duration, name, short string, value time.Duration, usage string) {
	*p = value
	fs.VarP((*flagValue)(p), name, short, usage)
}

type flagValue time.Duration

func (v *flagValue) Set(s string) error {
	d, err := Parse(s)
	if err != nil {
		return err
	}
	*v = flagValue(d)
	return nil
}

func (v *flagValue) Type() string { return "duration" }

func (v *flagValue) String() string {
	if *v == 0 {
		// pflag prints a default unless it reads as a zero value ("0").
		return "0"
	}
	return time.Duration(*v).String()
}

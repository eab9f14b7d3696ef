package capture

import (
	"bufio"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func TestScanLines(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"newlines", "a\nb\n", []string{"a", "b"}},
		{"no final newline", "a\nb", []string{"a", "b"}},
		{"crlf is one break", "a\r\nb\r\n", []string{"a", "b"}},
		{"carriage return progress", "Packets: 1\rPackets: 2\rPackets: 3\n", []string{"Packets: 1", "Packets: 2", "Packets: 3"}},
		{"backspaces", "Packets captured: 0 \b\b4 \b\b10 \n", []string{"Packets captured: 0 ", "4 ", "10 "}},
		{"blank lines dropped", "\n\nSignal 2 received, preparing to exit...\n", []string{"Signal 2 received, preparing to exit..."}},
		{"tabs kept", " -packets dequeued:\t\t\t29863\n", []string{" -packets dequeued:\t\t\t29863"}},
		{"empty", "", nil},
		{"only breaks", "\r\n\r\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Whole input, and one byte at a time (a pipe delivering
			// "\r" and "\n" in separate reads).
			for _, r := range []io.Reader{strings.NewReader(tc.in), iotest.OneByteReader(strings.NewReader(tc.in))} {
				sc := bufio.NewScanner(r)
				sc.Split(scanLines)
				var got []string
				for sc.Scan() {
					got = append(got, sc.Text())
				}
				if err := sc.Err(); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("got %q, want %q", got, tc.want)
				}
			}
		})
	}
}

func TestScanLinesCutsLongLines(t *testing.T) {
	long := strings.Repeat("x", maxLine+10) + "\nshort\n"
	ch := make(chan backendLine, 10)
	readLines(strings.NewReader(long), "stderr", ch)
	close(ch)
	var got []backendLine
	for l := range ch {
		got = append(got, l)
	}
	if len(got) != 3 || len(got[0].text) != maxLine || got[2].text != "short" || got[2].stream != "stderr" {
		t.Errorf("got %d lines, first %d bytes, last %+v", len(got), len(got[0].text), got[len(got)-1])
	}
}

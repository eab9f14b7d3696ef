package runbooks

import (
	"bytes"
	"context"
	"fmt"
	"testing"
)

// benchLog is 32 MiB of corpus lines: healthy samples repeated, once with
// unique timestamps in front (a journal), once verbatim.
func benchLog(b *testing.B, stamped bool) []byte {
	b.Helper()
	samples, _, err := ReadSamples(corpusDir)
	if err != nil {
		b.Fatal(err)
	}
	var lines [][]byte
	for _, s := range samples {
		if s.Expected == "none" {
			for _, l := range bytes.Split(s.Body, []byte("\n")) {
				if len(l) > 0 {
					lines = append(lines, l)
				}
			}
		}
	}
	var buf bytes.Buffer
	for i := 0; buf.Len() < 32<<20; i++ {
		if stamped {
			fmt.Fprintf(&buf, "2026-06-12T10:%02d:%02d.%06d+0800 host app[42]: ", i/60000%60, i/1000%60, i%1000000)
		}
		buf.Write(lines[i%len(lines)])
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

func benchmarkDiagnose(b *testing.B, stamped bool) {
	c, err := Load()
	if err != nil {
		b.Fatal(err)
	}
	data := benchLog(b, stamped)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		if _, err := c.Diagnose(context.Background(), bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDiagnoseRepeated(b *testing.B) { benchmarkDiagnose(b, false) }
func BenchmarkDiagnoseJournal(b *testing.B)  { benchmarkDiagnose(b, true) }

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

// benchmarkDiagnose is the whole reader (parallel chunks) on data.
func benchmarkDiagnose(b *testing.B, data []byte) {
	c, err := Load()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		if _, err := c.Diagnose(context.Background(), bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad is what every diagnose and capture pays before its first
// line (bench/runbooks.bench.sh times it as a whole process).
func BenchmarkLoad(b *testing.B) {
	for range b.N {
		if _, err := Load(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDiagnoseRepeated(b *testing.B) { benchmarkDiagnose(b, benchLog(b, false)) }
func BenchmarkDiagnoseJournal(b *testing.B)  { benchmarkDiagnose(b, benchLog(b, true)) }

// healthyLog is the common case of a big log: the healthy samples repeated
// to size with one failing sample in the middle (issue 17: a failure every
// ~200 MB). Almost no line holds a keyword.
func healthyLog(b *testing.B, size int) []byte {
	b.Helper()
	samples, _, err := ReadSamples(corpusDir)
	if err != nil {
		b.Fatal(err)
	}
	var healthy, failing []byte
	for _, s := range samples {
		switch {
		case s.Expected == "none":
			healthy = append(healthy, s.Body...)
		case failing == nil:
			failing = s.Body
		}
	}
	var buf bytes.Buffer
	for buf.Len() < size {
		if buf.Len() >= size/2 && failing != nil {
			buf.Write(failing)
			failing = nil
		}
		buf.Write(healthy)
	}
	return buf.Bytes()
}

// BenchmarkDiagnoseHealthy is the whole reader (parallel chunks) on a big
// healthy log.
func BenchmarkDiagnoseHealthy(b *testing.B) { benchmarkDiagnose(b, healthyLog(b, 32<<20)) }

// BenchmarkScanHealthy is one worker's scan of one chunk of a big healthy
// log: the pre-filter's cost alone, without the pipeline.
func BenchmarkScanHealthy(b *testing.B) {
	c, err := Load()
	if err != nil {
		b.Fatal(err)
	}
	data := healthyLog(b, chunkSize)
	data = data[:bytes.LastIndexByte(data, '\n')+1]
	cache := newLineCache()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		c.scanChunk(data, c.filter.find, cache, nil)
	}
}

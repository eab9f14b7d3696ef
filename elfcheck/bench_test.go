package elfcheck

import (
	"context"
	"os"
	"testing"
)

// BenchmarkAnalyzeTestpmd is the in-process half of bench/elfcheck.bench.sh.
func BenchmarkAnalyzeTestpmd(b *testing.B) {
	const bin = "/usr/bin/dpdk-testpmd"
	if _, err := os.Stat(bin); err != nil {
		b.Skipf("%s not present (Debian package dpdk)", bin)
	}
	for b.Loop() {
		if _, err := Analyze(context.Background(), bin, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

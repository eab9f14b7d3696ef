package doctor

import (
	"context"
	"fmt"
	"strings"
)

// checkASLR (CHK-09): with ASLR on, a secondary's own mappings may sit where
// the primary mapped shared memory; DPDK usually copes, but when a mapping
// error appears this is the cause to look at first.
func checkASLR(_ context.Context, env *Env) Result {
	b, err := env.h.ReadFile("/proc/sys/kernel/randomize_va_space")
	if err != nil {
		return skip("cannot read /proc/sys/kernel/randomize_va_space: " + err.Error())
	}
	v := strings.TrimSpace(string(b))
	switch v {
	case "0":
		return ok("ASLR is off (randomize_va_space=0): secondaries map the primary's memory at the same addresses")
	case "1", "2":
		return ok(fmt.Sprintf("ASLR is on (randomize_va_space=%s); DPDK secondaries usually cope", v),
			"if the capture tool fails with \"Cannot mmap memory for rte_config\" or \"Could not map memory from primary process\",",
			"run it under `setarch $(uname -m) -R` or restart the primary with --base-virtaddr 0x2000000000")
	}
	return warn(fmt.Sprintf("unexpected randomize_va_space value %q", v), nil)
}

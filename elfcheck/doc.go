// Package elfcheck inspects ELF executables and shared objects the way the
// dynamic loader would see them, without ever executing them: the
// dependency tree (ld.so's search rules under a sysroot), the DPDK they carry
// (shared librte libraries, statically linked DPDK, drivers, the pcap PMD,
// rte_pdump_init), the differences between a primary and its capture tool,
// and the link lines that build them.
//
// Entry points: Analyze (one file), AnalyzePID (a running process), Compare
// (primary vs capture tool), ParseRequirements/Report.Check (CI gate),
// ParseLinkLine/CheckLinkLine, SuggestPdumpLink and DynamicSymbols.
package elfcheck

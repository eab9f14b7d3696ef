// Package doctor holds the checks behind `gzdoctor check`: everything that
// will make a capture on a Gazelle/DPDK machine fail, found before the
// capture starts.
//
// A check is a small value (Check) with a stable ID, a title and a Run
// function that returns a Result. The one ordered list of checks is
// Checks(); Run executes a selection of them concurrently against an Env,
// which gathers each fact about the machine once (runtime dirs, the
// primary's process, telemetry answers...) and shares it between checks.
//
// Check IDs are an interface: runbooks and capture preflight name them.
// Every reference check CHK-01 … CHK-16 (see docs/checks.md) maps to the
// check that implements it, so Select accepts either form.
package doctor

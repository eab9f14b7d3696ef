package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/gzdoctor/gzdoctor/host"
	"github.com/gzdoctor/gzdoctor/ui"
	"github.com/spf13/cobra"
)

// version is set at link time (-ldflags "-X main.version=…"); otherwise the
// VCS revision the Go toolchain recorded is used.
var version = ""

type versionInfo struct {
	// root is where DPDK was looked for ("/" is this machine).
	root      string
	Version   string            `json:"version"`
	Revision  string            `json:"revision,omitempty"`
	GoVersion string            `json:"go_version"`
	Platform  string            `json:"platform"`
	DPDK      *host.DPDKInstall `json:"dpdk"`
}

func (v versionInfo) RenderText(w io.Writer, st ui.Style, verbose bool) error {
	fmt.Fprintf(w, "gzdoctor %s", v.Version)
	if v.Revision != "" {
		fmt.Fprintf(w, " (%s)", v.Revision)
	}
	fmt.Fprintf(w, "\n%s %s\n", v.GoVersion, v.Platform)
	switch {
	case v.DPDK == nil && (v.root == "" || v.root == "/"):
		fmt.Fprintln(w, "DPDK: not found on this machine")
	case v.DPDK == nil:
		fmt.Fprintf(w, "DPDK: not found under %s\n", v.root)
	default:
		ver := v.DPDK.Version
		if ver == "" {
			ver = v.DPDK.Release
		}
		fmt.Fprintf(w, "DPDK %s", ver)
		if v.DPDK.ABI != "" {
			fmt.Fprintf(w, " (ABI %s, %s)", v.DPDK.ABI, v.DPDK.EALPath)
		}
		fmt.Fprintln(w)
	}
	return nil
}

func buildVersion() (ver, rev string) {
	ver = version
	if bi, ok := debug.ReadBuildInfo(); ok {
		if ver == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			ver = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = s.Value[:12]
			}
		}
	}
	if ver == "" {
		ver = "devel"
	}
	return ver, rev
}

func newVersionCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print gzdoctor's version, Go's, and the DPDK found on this machine",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVersion(a)
		},
	}
}

func runVersion(a *app) error {
	d, err := a.host().FindDPDK()
	if err != nil {
		return failure(err)
	}
	ver, rev := buildVersion()
	if err := a.render("version", versionInfo{
		root:      a.opts.Root,
		Version:   ver,
		Revision:  rev,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
		DPDK:      d,
	}); err != nil {
		return failure(err)
	}
	return nil
}

package doctor

import (
	"context"
	"path"
	"strings"

	"github.com/gzdoctor/gzdoctor/internal/shquote"
)

// A fix is the next command to type: these build the commands fixes print
// from what the run knows (the operator's flags, the capture tool on this
// machine, the device the primary drives), never with a placeholder.

// gzdoctorCheck is `gzdoctor check` as the operator ran it, with --prefix
// prefix and the extra flags: the flags they gave are kept, so the command
// checks the same capture.
func (e *Env) gzdoctorCheck(prefix string, extra ...string) string {
	args := []string{"gzdoctor"}
	if e.h.Root != "" && e.h.Root != "/" {
		args = append(args, "--root", e.h.Root)
	}
	args = append(args, "check")
	if prefix != "" {
		args = append(args, "--prefix", prefix)
	}
	if e.cfg.ConfigPath != "" && prefix == "" {
		args = append(args, "--config", e.cfg.ConfigPath)
	}
	if e.cfg.Device != "" {
		args = append(args, "--device", e.cfg.Device)
	}
	if e.cfg.PdumpBin != "" {
		args = append(args, "--pdump-bin", e.cfg.PdumpBin)
	}
	if e.cfg.CaptureFile != "" {
		args = append(args, "--capture-file", e.cfg.CaptureFile)
	}
	args = append(args, extra...)
	return shquote.Join(args)
}

// gzdoctorCheckAll is `gzdoctor check --all-prefixes` with the flags the
// operator gave that apply to every primary (--device names one
// primary's device, and --all-prefixes refuses it).
func (e *Env) gzdoctorCheckAll() string {
	args := []string{"gzdoctor"}
	if e.h.Root != "" && e.h.Root != "/" {
		args = append(args, "--root", e.h.Root)
	}
	args = append(args, "check", "--all-prefixes")
	if e.cfg.ConfigPath != "" {
		args = append(args, "--config", e.cfg.ConfigPath)
	}
	if e.cfg.PdumpBin != "" {
		args = append(args, "--pdump-bin", e.cfg.PdumpBin)
	}
	if e.cfg.CaptureFile != "" {
		args = append(args, "--capture-file", e.cfg.CaptureFile)
	}
	return shquote.Join(args)
}

// captureCommand is the command that captures from prefix on device: the
// operator's own capture command when gzdoctor capture runs the check
// (Config.Recapture), else one with the capture tool this machine has
// (gazelle-pdump, else dpdk-pdump, else dpdk-dumpcap), writing where
// --capture-file says (else /tmp). Without a device it is gzdoctor
// capture, which lists the primary's ports; without any capture tool, ""
// (the build-match check says so).
func (e *Env) captureCommand(prefix, device string) string {
	if e.cfg.Recapture != nil {
		if c := e.cfg.Recapture(prefix, device); c != "" {
			return c
		}
	}
	tool, err := e.CaptureTool()
	if err != nil {
		return ""
	}
	name := path.Base(tool)
	if e.lookPath(name) != tool {
		name = tool // not found by name on PATH: give the path
	}
	if device == "" {
		return shquote.Join([]string{"gzdoctor", "capture", "--prefix", prefix})
	}
	out := e.cfg.CaptureFile
	if strings.Contains(path.Base(tool), "dumpcap") {
		if out == "" {
			out = "/tmp/capture.pcapng"
		}
		return shquote.Join([]string{name, "--file-prefix=" + prefix, "-i", device, "-w", out})
	}
	if out == "" {
		out = "/tmp/capture.pcap"
	}
	return shquote.Join([]string{name, "--file-prefix", prefix, "--", "--pdump", "device_id=" + device + ",queue=*,rx-dev=" + out})
}

// knownDevice is the device a capture on the target would use: --device,
// the config's, else the primary's only (or first) port; "" when unknown.
func (e *Env) knownDevice(ctx context.Context) string {
	if e.cfg.Device != "" {
		return e.cfg.Device
	}
	if d, _ := e.configDevice(ctx); d != "" {
		return d
	}
	if p, err := e.Primary(ctx); err == nil && p != nil {
		if driven, _ := e.drivenDevices(ctx, p); len(driven) > 0 {
			return driven[0]
		}
	}
	return ""
}

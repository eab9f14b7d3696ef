package host

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// UnixSocket is one bound unix socket from /proc/net/unix.
type UnixSocket struct {
	Path string `json:"path"`
	// Type is "stream", "dgram" or "seqpacket" (mp_socket is dgram,
	// dpdk_telemetry.v2 seqpacket).
	Type      string `json:"type"`
	Listening bool   `json:"listening"`
	Inode     uint64 `json:"inode"`
}

// UnixSockets are the bound, named unix sockets of the reader's network
// namespace.
type UnixSockets []UnixSocket

// UnixSockets parses /proc/net/unix. Only sockets bound to a filesystem
// path are kept: abstract (@...) and unnamed ones cannot be a DPDK
// runtime-dir socket.
func (h *Host) UnixSockets() (UnixSockets, error) {
	b, err := h.ReadFile("/proc/net/unix")
	if err != nil {
		return nil, fmt.Errorf("reading /proc/net/unix: %w", err)
	}
	return ParseProcNetUnix(b)
}

// ParseProcNetUnix parses the text of /proc/net/unix.
func ParseProcNetUnix(b []byte) (UnixSockets, error) {
	var out UnixSockets
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if n == 1 && strings.HasPrefix(line, "Num") {
			continue
		}
		// Num RefCount Protocol Flags Type St Inode [Path]; the path may
		// contain spaces, so split off only the first seven fields.
		f := strings.Fields(line)
		if len(f) < 7 {
			return nil, fmt.Errorf("/proc/net/unix line %d: %d fields, want 7 or more", n, len(f))
		}
		if len(f) == 7 {
			continue
		}
		p := pathAfterFields(line, 7)
		if !strings.HasPrefix(p, "/") {
			continue
		}
		flags, err1 := strconv.ParseUint(f[3], 16, 32)
		typ, err2 := strconv.ParseUint(f[4], 16, 16)
		ino, err3 := strconv.ParseUint(f[6], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			return nil, fmt.Errorf("/proc/net/unix line %d: malformed %q", n, line)
		}
		s := UnixSocket{Path: p, Inode: ino, Listening: flags&0x10000 != 0}
		switch typ {
		case 1:
			s.Type = "stream"
		case 2:
			s.Type = "dgram"
		case 5:
			s.Type = "seqpacket"
		default:
			s.Type = strconv.FormatUint(typ, 10)
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

// pathAfterFields returns the rest of line after n whitespace-separated
// fields, keeping inner spaces.
func pathAfterFields(line string, n int) string {
	rest := line
	for i := 0; i < n; i++ {
		rest = strings.TrimLeft(rest, " \t")
		j := strings.IndexAny(rest, " \t")
		if j < 0 {
			return ""
		}
		rest = rest[j:]
	}
	return strings.TrimLeft(rest, " \t")
}

// Bound reports whether a socket is bound at the machine path p. DPDK binds
// the path it computed (/var/run/dpdk/...), while a reader may name it
// through /run; both spellings match.
func (s UnixSockets) Bound(p string) bool {
	want := runAlias(path.Clean(p))
	for _, u := range s {
		if runAlias(path.Clean(u.Path)) == want {
			return true
		}
	}
	return false
}

// SameRunPath reports whether two paths name one file once /var/run is
// read as /run (its symlink on every current distribution).
func SameRunPath(a, b string) bool { return runAlias(a) == runAlias(b) }

// runAlias folds /var/run onto /run, the symlink every systemd-era
// distribution (openEuler, Debian) ships.
func runAlias(p string) string {
	if rest, ok := strings.CutPrefix(p, "/var/run/"); ok {
		return "/run/" + rest
	}
	if p == "/var/run" {
		return "/run"
	}
	return p
}

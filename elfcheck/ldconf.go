package elfcheck

import (
	"context"
	"debug/elf"
	"fmt"
	"path"
	"strings"
)

// ldSoConf reads /etc/ld.so.conf under the root: one directory per line,
// '#' comments, "include GLOB" (relative globs resolve against the including
// file's directory, expanded sorted as glibc's glob does), "hwcap" lines
// ignored. Include loops are cut off; unreadable includes are skipped like
// ldconfig does.
//
// A pattern is expanded once: every file it matched is already read (or
// being read) when another file includes it again, so expanding it again
// adds nothing. Expanding it for each includer made a tree of 20 000
// include files that each include the same glob cost 474 s. The context is
// checked for every file, so a signal stops a hostile tree promptly.
func ldSoConf(ctx context.Context, fs rootFS) ([]string, error) {
	var dirs []string
	seenDir := map[string]bool{}
	seenFile := map[string]bool{}
	expandedAt := map[string]int{} // pattern → the shallowest depth it was expanded at
	var read func(file string, depth int) error
	read = func(file string, depth int) error {
		if depth > ldSoConfMaxDepth || seenFile[file] {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		seenFile[file] = true
		b, err := fs.readFile(file, 1<<20)
		if err != nil {
			return nil
		}
		for _, line := range strings.Split(string(b), "\n") {
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = line[:i]
			}
			line = strings.TrimSpace(line)
			if line == "" {
				continue
			}
			if rest, ok := strings.CutPrefix(line, "include"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
				for _, pat := range strings.Fields(rest) {
					if !path.IsAbs(pat) {
						pat = path.Join(path.Dir(file), pat)
					}
					// Matches cut off by the depth limit before may be
					// reached now from a shallower include.
					if d, done := expandedAt[pat]; done && d <= depth {
						continue
					}
					expandedAt[pat] = depth
					for _, m := range fs.glob(pat) {
						if err := read(m, depth+1); err != nil {
							return err
						}
					}
				}
				continue
			}
			if strings.HasPrefix(line, "hwcap ") {
				continue
			}
			// Old syntax allowed several dirs per line and "dir=type".
			for _, d := range strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' || r == ':' || r == ',' }) {
				if i := strings.IndexByte(d, '='); i >= 0 {
					d = d[:i]
				}
				d = path.Clean(d)
				if path.IsAbs(d) && !seenDir[d] {
					seenDir[d] = true
					dirs = append(dirs, d)
				}
			}
		}
		return nil
	}
	if err := read("/etc/ld.so.conf", 0); err != nil {
		return nil, fmt.Errorf("interrupted while reading /etc/ld.so.conf and its includes (%d files read): %w", len(seenFile)-1, err)
	}
	return dirs, nil
}

// ldSoConfMaxDepth cuts off include chains (and loops through distinct
// names of one file).
const ldSoConfMaxDepth = 16

// multiarchTriplet is Debian's multiarch directory name for a machine.
func multiarchTriplet(m elf.Machine, c elf.Class) string {
	switch m {
	case elf.EM_X86_64:
		if c == elf.ELFCLASS32 {
			return "x86_64-linux-gnux32"
		}
		return "x86_64-linux-gnu"
	case elf.EM_386:
		return "i386-linux-gnu"
	case elf.EM_AARCH64:
		return "aarch64-linux-gnu"
	case elf.EM_ARM:
		return "arm-linux-gnueabihf"
	case elf.EM_PPC64:
		return "powerpc64le-linux-gnu"
	case elf.EM_RISCV:
		return "riscv64-linux-gnu"
	case elf.EM_S390:
		return "s390x-linux-gnu"
	case elf.EM_LOONGARCH:
		return "loongarch64-linux-gnu"
	}
	return ""
}

// defaultDirs are the loader's built-in trusted directories: Debian's
// multiarch pair, the RPM distributions' lib64 pair for 64-bit objects,
// then /lib and /usr/lib. Candidates of the wrong class found in them are
// skipped by the compatibility test, as ld.so does.
func defaultDirs(m elf.Machine, c elf.Class) []string {
	var dirs []string
	if t := multiarchTriplet(m, c); t != "" {
		dirs = append(dirs, "/lib/"+t, "/usr/lib/"+t)
	}
	if c == elf.ELFCLASS64 {
		dirs = append(dirs, "/lib64", "/usr/lib64")
	}
	return append(dirs, "/lib", "/usr/lib")
}

// defaultInterp is the PT_INTERP a dynamic executable of this machine
// would carry; used when the analysed file is a shared object, which has
// none, so the tree shows the loader that would run it (as ldd does).
func defaultInterp(m elf.Machine, c elf.Class, d elf.Data) string {
	switch {
	case m == elf.EM_X86_64 && c == elf.ELFCLASS64:
		return "/lib64/ld-linux-x86-64.so.2"
	case m == elf.EM_386:
		return "/lib/ld-linux.so.2"
	case m == elf.EM_AARCH64 && d == elf.ELFDATA2LSB:
		return "/lib/ld-linux-aarch64.so.1"
	case m == elf.EM_AARCH64:
		return "/lib/ld-linux-aarch64_be.so.1"
	case m == elf.EM_PPC64:
		return "/lib64/ld64.so.2"
	case m == elf.EM_RISCV:
		return "/lib/ld-linux-riscv64-lp64d.so.1"
	case m == elf.EM_LOONGARCH:
		return "/lib64/ld-linux-loongarch-lp64d.so.1"
	}
	return ""
}

// platformName is the value of $PLATFORM (AT_PLATFORM) for a machine.
func platformName(m elf.Machine) string {
	switch m {
	case elf.EM_X86_64:
		return "x86_64"
	case elf.EM_386:
		return "i686"
	case elf.EM_AARCH64:
		return "aarch64"
	case elf.EM_PPC64:
		return "power8"
	case elf.EM_RISCV:
		return "riscv64"
	}
	return strings.ToLower(strings.TrimPrefix(m.String(), "EM_"))
}

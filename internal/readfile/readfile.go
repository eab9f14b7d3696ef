// Package readfile reads input files that a hostile user may have chosen:
// regular files only, bounded in size.
package readfile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
)

// Regular reads the file at path, which must be a regular file (after
// symlinks) of at most limit bytes; name is the path to put in errors. It
// opens without blocking, so a FIFO cannot hang it, and checks the type on
// the open descriptor, so the file read is the file checked. The size is
// checked on the bytes read, not on the stat: a file may grow.
func Regular(path, name string, limit int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is %s, not a regular file", name, Describe(fi.Mode()))
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &TooLargeError{Name: name, Limit: limit}
	}
	return b, nil
}

// TooLargeError is a file past its reader's limit.
type TooLargeError struct {
	Name  string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is larger than the %d-byte (%d MiB) limit", e.Name, e.Limit, e.Limit>>20)
}

// Describe names a file type for a message: "a directory", "a FIFO", ...
func Describe(m fs.FileMode) string {
	return "a " + strings.TrimSuffix(Kind(m), " (named pipe)")
}

// Kind names what a file mode is, in the words of ls and stat(1).
func Kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "regular file"
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeNamedPipe != 0:
		return "FIFO (named pipe)"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return "special file"
}

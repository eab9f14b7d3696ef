package runbooks

import (
	"context"
	"fmt"
	"io"
	"os"
)

// ReadInputs reads each of names in turn, "-" being stdin, each under its
// own source name ("stdin" for "-"), and stops at the first that cannot
// be read. A directory is refused, not read as empty.
func (m *Matcher) ReadInputs(ctx context.Context, names []string, stdin io.Reader) error {
	for _, name := range names {
		if name == "-" {
			m.SetSource("stdin")
			if err := m.ReadFrom(ctx, stdin); err != nil {
				return fmt.Errorf("reading stdin: %w", err)
			}
			continue
		}
		if err := m.readFile(ctx, name); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func (m *Matcher) readFile(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err // *PathError already names the file
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	m.SetSource(path)
	if err := m.ReadFrom(ctx, f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

package host

import (
	"fmt"

	"github.com/gzdoctor/gzdoctor/host/libconfig"
)

// ReadLibconfig reads and parses the machine file p, with includes read
// under the same root. Only regular files are read, each at most
// libconfig.MaxBytes: a device, FIFO or directory named by --config or by an
// @include is refused before a byte is read.
func (h *Host) ReadLibconfig(p string) (*libconfig.Config, error) {
	read := func(p string) ([]byte, error) { return h.ReadRegularFile(p, libconfig.MaxBytes) }
	src, err := read(p)
	if err != nil {
		return nil, fmt.Errorf("reading config %s: %w", p, err)
	}
	return libconfig.Parse(p, src, read)
}

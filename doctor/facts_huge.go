package doctor

import (
	"context"
	"sort"

	"github.com/gzdoctor/gzdoctor/host"
)

// Hugepages reads the hugepage pools and hugetlbfs mounts once per run.
func (e *Env) Hugepages(ctx context.Context) (*host.Hugepages, error) {
	return e.huge.await(ctx, "the hugepage pools and mounts", e.h.Hugepages)
}

// hugepageFiles lists the DPDK hugepage files in every hugetlbfs mount,
// once per run.
func (e *Env) hugepageFiles(ctx context.Context) ([]host.HugepageFiles, error) {
	return e.hugeFiles.await(ctx, "the hugepage files in hugetlbfs", func() ([]host.HugepageFiles, error) {
		hp, err := e.Hugepages(ctx)
		if err != nil {
			return nil, err
		}
		return e.h.HugepageFiles(hp.Mounts)
	})
}

// HugeLeftovers are the hugepage files one prefix holds, over all mounts.
type HugeLeftovers struct {
	Files int      `json:"files"`
	Bytes int64    `json:"bytes"`
	Dirs  []string `json:"dirs,omitempty"`
}

// HugepageLeftovers counts the <prefix>map_* files in the hugetlbfs mounts.
// filePrefix is the name the files start with ("gazellemap_" → "gazelle").
func (e *Env) HugepageLeftovers(ctx context.Context, filePrefix string) (HugeLeftovers, error) {
	var l HugeLeftovers
	all, err := e.hugepageFiles(ctx)
	if err != nil {
		return l, err
	}
	prefix := filePrefix
	if len(prefix) > len("map_") && prefix[len(prefix)-len("map_"):] == "map_" {
		prefix = prefix[:len(prefix)-len("map_")]
	}
	for _, g := range host.HugepageFilesOf(all, prefix) {
		l.Files += g.Count
		l.Bytes += g.Bytes
		l.Dirs = append(l.Dirs, g.Mount)
	}
	sort.Strings(l.Dirs)
	return l, nil
}

// hugepageDirs are the hugetlbfs mount points, for cleanup commands; the
// usual /mnt/huge when they cannot be read.
func (e *Env) hugepageDirs() []string {
	hp, err := e.Hugepages(context.Background())
	if err != nil || len(hp.Mounts) == 0 {
		return []string{"/mnt/huge"}
	}
	var dirs []string
	for _, m := range hp.Mounts {
		dirs = append(dirs, m.Path)
	}
	return dirs
}

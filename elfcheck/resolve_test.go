package elfcheck

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	gold "github.com/gzdoctor/gzdoctor/internal/golden"

	"github.com/gzdoctor/gzdoctor/ui"
)

// writeRoot creates files (machine path → content) under a new root.
func writeRoot(t *testing.T, files map[string][]byte, links map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, b := range files {
		hp := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(hp), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(hp, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for p, target := range links {
		hp := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(hp), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, hp); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const ldso = "/lib64/ld-linux-x86-64.so.2"

func lib(soname string, needed ...string) []byte {
	return synthELF{soname: soname, needed: needed}.bytes()
}

// paths maps each NEEDED name to the path it resolved to ("" if missing).
func paths(r *Report) map[string]string {
	m := map[string]string{}
	for _, l := range r.Libraries {
		m[l.Name] = l.Path
	}
	for _, l := range r.Missing {
		m[l.Name] = ""
	}
	return m
}

func TestResolveRules(t *testing.T) {
	base := map[string][]byte{
		"/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2": lib("ld-linux-x86-64.so.2"),
		"/lib/x86_64-linux-gnu/libc.so.6":            lib("libc.so.6", "ld-linux-x86-64.so.2"),
	}
	baseLinks := map[string]string{ldso: "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"}
	exe := func(s synthELF) []byte { s.typ, s.interp = elf.ET_DYN, ldso; return s.bytes() }
	tests := []struct {
		name  string
		files map[string][]byte
		links map[string]string
		opts  Options
		want  map[string]string
		via   map[string]LibVia
	}{
		{
			name: "RUNPATH with $ORIGIN, direct deps only",
			files: map[string][]byte{
				"/opt/app/bin/app":       exe(synthELF{needed: []string{"liba.so.1", "libc.so.6"}, runpath: "$ORIGIN/../lib"}),
				"/opt/app/lib/liba.so.1": lib("liba.so.1", "libb.so.1"),
				"/opt/app/lib/libb.so.1": lib("libb.so.1"),
			},
			want: map[string]string{"liba.so.1": "/opt/app/bin/../lib/liba.so.1", "libb.so.1": "", "libc.so.6": "/lib/x86_64-linux-gnu/libc.so.6", "ld-linux-x86-64.so.2": ldso},
			via:  map[string]LibVia{"liba.so.1": ViaRunPath, "libc.so.6": ViaDefault},
		},
		{
			name: "RPATH inherited by indirect deps",
			files: map[string][]byte{
				"/opt/app/bin/app":       exe(synthELF{needed: []string{"liba.so.1"}, rpath: "${ORIGIN}/../lib"}),
				"/opt/app/lib/liba.so.1": lib("liba.so.1", "libb.so.1"),
				"/opt/app/lib/libb.so.1": lib("libb.so.1"),
			},
			want: map[string]string{"liba.so.1": "/opt/app/bin/../lib/liba.so.1", "libb.so.1": "/opt/app/bin/../lib/libb.so.1"},
			via:  map[string]LibVia{"libb.so.1": ViaRPath},
		},
		{
			name: "RPATH ignored when RUNPATH exists",
			files: map[string][]byte{
				"/opt/app/bin/app": exe(synthELF{needed: []string{"liba.so.1"}, rpath: "/r", runpath: "/u"}),
				"/r/liba.so.1":     lib("liba.so.1"),
				"/u/liba.so.1":     lib("liba.so.1"),
			},
			want: map[string]string{"liba.so.1": "/u/liba.so.1"},
		},
		{
			name: "LD_LIBRARY_PATH before RUNPATH, after RPATH",
			files: map[string][]byte{
				"/opt/app/bin/app": exe(synthELF{needed: []string{"liba.so.1", "libb.so.1"}, runpath: "/u"}),
				"/env/liba.so.1":   lib("liba.so.1"),
				"/u/liba.so.1":     lib("liba.so.1"),
				"/u/libb.so.1":     lib("libb.so.1"),
			},
			opts: Options{LDLibraryPath: "/env:/nonexistent"},
			want: map[string]string{"liba.so.1": "/env/liba.so.1", "libb.so.1": "/u/libb.so.1"},
			via:  map[string]LibVia{"liba.so.1": ViaLDLibPath},
		},
		{
			name: "ld.so.conf include glob before default dirs",
			files: map[string][]byte{
				"/opt/app/bin/app":                    exe(synthELF{needed: []string{"liba.so.1"}}),
				"/etc/ld.so.conf":                     []byte("# comment\ninclude /etc/ld.so.conf.d/*.conf\n"),
				"/etc/ld.so.conf.d/z.conf":            []byte("/opt/z\n"),
				"/etc/ld.so.conf.d/a.conf":            []byte("/opt/a # first by glob order\ninclude a.conf\n"),
				"/opt/z/liba.so.1":                    lib("liba.so.1"),
				"/opt/a/liba.so.1":                    lib("liba.so.1"),
				"/usr/lib/x86_64-linux-gnu/liba.so.1": lib("liba.so.1"),
			},
			want: map[string]string{"liba.so.1": "/opt/a/liba.so.1"},
			via:  map[string]LibVia{"liba.so.1": ViaLdSoConf},
		},
		{
			name: "wrong class and byte order skipped like ld.so",
			files: map[string][]byte{
				"/opt/app/bin/app":     exe(synthELF{needed: []string{"libz.so.1"}}),
				"/lib64/libz.so.1":     synthELF{class: elf.ELFCLASS32, machine: elf.EM_386, soname: "libz.so.1"}.bytes(),
				"/usr/lib64/libz.so.1": synthELF{order: binary.BigEndian, machine: elf.EM_AARCH64, soname: "libz.so.1"}.bytes(),
				"/lib/libz.so.1":       lib("libz.so.1"),
			},
			want: map[string]string{"libz.so.1": "/lib/libz.so.1"},
		},
		{
			name: "$LIB and $PLATFORM",
			files: map[string][]byte{
				"/opt/app/bin/app":                    exe(synthELF{needed: []string{"liba.so.1", "libb.so.1"}, runpath: "/opt/$LIB:/opt/${PLATFORM}"}),
				"/opt/lib/x86_64-linux-gnu/liba.so.1": lib("liba.so.1"),
				"/opt/x86_64/libb.so.1":               lib("libb.so.1"),
			},
			want: map[string]string{"liba.so.1": "/opt/lib/x86_64-linux-gnu/liba.so.1", "libb.so.1": "/opt/x86_64/libb.so.1"},
		},
		{
			name: "default dirs",
			files: map[string][]byte{
				"/opt/app/bin/app":   exe(synthELF{needed: []string{"libq.so.1"}}),
				"/usr/lib/libq.so.1": lib("libq.so.1"),
			},
			want: map[string]string{"libq.so.1": "/usr/lib/libq.so.1"},
			via:  map[string]LibVia{"libq.so.1": ViaDefault},
		},
		{
			name: "DF_1_NODEFLIB skips ld.so.conf and default dirs",
			files: map[string][]byte{
				"/opt/app/bin/app":   exe(synthELF{needed: []string{"libq.so.1"}, flags1: dfNodeflib}),
				"/usr/lib/libq.so.1": lib("libq.so.1"),
			},
			want: map[string]string{"libq.so.1": ""},
		},
		{
			name: "dependency loop terminates",
			files: map[string][]byte{
				"/opt/app/bin/app": exe(synthELF{needed: []string{"libx.so"}, runpath: "/l"}),
				"/l/libx.so":       synthELF{soname: "libx.so", needed: []string{"liby.so"}, runpath: "/l"}.bytes(),
				"/l/liby.so":       synthELF{soname: "liby.so", needed: []string{"libx.so"}, runpath: "/l"}.bytes(),
			},
			want: map[string]string{"libx.so": "/l/libx.so", "liby.so": "/l/liby.so"},
		},
		{
			name: "absolute symlink resolved inside the root",
			files: map[string][]byte{
				"/opt/app/bin/app":      exe(synthELF{needed: []string{"liba.so.1"}, runpath: "/opt/app/lib"}),
				"/opt/real/liba.so.1.2": lib("liba.so.1"),
			},
			links: map[string]string{"/opt/app/lib/liba.so.1": "/opt/real/liba.so.1.2"},
			want:  map[string]string{"liba.so.1": "/opt/app/lib/liba.so.1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string][]byte{}
			for k, v := range base {
				files[k] = v
			}
			for k, v := range tt.files {
				files[k] = v
			}
			links := map[string]string{}
			for k, v := range baseLinks {
				links[k] = v
			}
			for k, v := range tt.links {
				links[k] = v
			}
			root := writeRoot(t, files, links)
			tt.opts.Root = root
			r, err := Analyze(context.Background(), "/opt/app/bin/app", tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := paths(r)
			for name, want := range tt.want {
				if got[name] != want {
					t.Errorf("%s => %q, want %q (all: %v)", name, got[name], want, got)
				}
			}
			for name, via := range tt.via {
				for _, l := range r.Libraries {
					if l.Name == name && l.FoundVia != via {
						t.Errorf("%s found via %s, want %s", name, l.FoundVia, via)
					}
				}
			}
		})
	}
}

func TestSkippedAndSearchedAreReported(t *testing.T) {
	root := writeRoot(t, map[string][]byte{
		"/opt/app/bin/app": synthELF{typ: elf.ET_EXEC, needed: []string{"libz.so.1", "libgone.so.3"}, runpath: "/u"}.bytes(),
		"/lib64/libz.so.1": synthELF{class: elf.ELFCLASS32, machine: elf.EM_386, soname: "libz.so.1"}.bytes(),
	}, nil)
	r, err := Analyze(context.Background(), "/opt/app/bin/app", Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Missing) != 2 {
		t.Fatalf("missing %v", paths(r))
	}
	z := r.Missing[0]
	if len(z.Skipped) != 1 || !strings.Contains(z.Skipped[0], "/lib64/libz.so.1 (ELF32 LSB i386)") {
		t.Errorf("skipped %v", z.Skipped)
	}
	if z.Searched[0] != (SearchDir{"/u", ViaRunPath}) {
		t.Errorf("searched %v", z.Searched)
	}
	if len(r.Problems) != 2 || r.Problems[0].ID != ProblemMissingLibrary || !strings.Contains(r.Problems[0].Message, "skipped /lib64/libz.so.1 (ELF32 LSB i386)") {
		t.Errorf("problems %v", r.Problems)
	}
	if strings.Contains(r.Problems[1].Message, "skipped") {
		t.Errorf("libgone had no candidate: %v", r.Problems[1])
	}
}

func TestTreeGolden(t *testing.T) {
	root := writeRoot(t, map[string][]byte{
		"/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2": lib("ld-linux-x86-64.so.2"),
		"/lib/x86_64-linux-gnu/libc.so.6":            lib("libc.so.6", "ld-linux-x86-64.so.2"),
		"/opt/app/bin/app":                           synthELF{interp: ldso, needed: []string{"liba.so.1", "libc.so.6"}, runpath: "$ORIGIN/../lib"}.bytes(),
		"/opt/app/lib/liba.so.1":                     lib("liba.so.1", "libb.so.1", "libc.so.6", "libgone.so.2"),
		"/usr/lib/x86_64-linux-gnu/libb.so.1":        lib("libb.so.1", "liba.so.1", "libc.so.6"),
	}, map[string]string{ldso: "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"})
	r, err := Analyze(context.Background(), "/opt/app/bin/app", Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		golden string
		tr     ui.TextRenderer
	}{
		{"tree.golden", r},
		{"flat.golden", FlatList{r}},
	} {
		var buf bytes.Buffer
		if err := tc.tr.RenderText(&buf, ui.Style{}, true); err != nil {
			t.Fatal(err)
		}
		gold.Check(t, filepath.Join("testdata", tc.golden), buf.Bytes())
	}
	wantOrder := []string{"liba.so.1", "libc.so.6", "libb.so.1", "ld-linux-x86-64.so.2"}
	var order []string
	for _, l := range r.Libraries {
		order = append(order, l.Name)
	}
	if !reflect.DeepEqual(order, wantOrder) {
		t.Errorf("load order %v, want %v (breadth first, like ld.so)", order, wantOrder)
	}
}

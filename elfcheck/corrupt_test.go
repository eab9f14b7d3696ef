package elfcheck

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"
)

// putU64/putU16 patch a little-endian ELF64 header field.
func putU64(b []byte, off int, v uint64) []byte {
	c := bytes.Clone(b)
	binary.LittleEndian.PutUint64(c[off:], v)
	return c
}

func putU16(b []byte, off int, v uint16) []byte {
	c := bytes.Clone(b)
	binary.LittleEndian.PutUint16(c[off:], v)
	return c
}

// realSmallELF returns a small real ELF with section headers: this test
// binary's own interpreter is not small, so use the system's libdl/ld.so
// stub when present, else a synthetic file.
func realSmallELF(t testing.TB) []byte {
	for _, p := range []string{"/lib/x86_64-linux-gnu/libdl.so.2", "/usr/lib64/libdl.so.2", "/lib/x86_64-linux-gnu/librte_kvargs.so.23"} {
		if b, err := os.ReadFile(p); err == nil && len(b) < 1<<20 {
			return b
		}
	}
	return synthELF{soname: "libx.so", needed: []string{"libc.so.6"}}.bytes()
}

func TestCorruptInputs(t *testing.T) {
	good := synthELF{soname: "libx.so", needed: []string{"libc.so.6"}, interp: ldso}.bytes()
	real := realSmallELF(t)
	tests := []struct {
		name    string
		data    []byte
		wantErr string // "" means it must parse
		notELF  bool
		check   func(t *testing.T, o *object)
	}{
		{name: "empty", data: nil, notELF: true},
		{name: "bad magic", data: append([]byte("\x7fELG"), good[4:]...), notELF: true},
		{name: "text file", data: []byte("#!/bin/sh\necho hi\n"), notELF: true},
		{name: "truncated header", data: good[:20], wantErr: "truncated"},
		{name: "truncated in program headers", data: good[:80], wantErr: "ELF"},
		{name: "truncated dynamic", data: good[:len(good)-20], wantErr: "outside the file"},
		{name: "huge phnum", data: putU16(good, 0x38, 0xffff), wantErr: "ELF"},
		{name: "phoff past EOF", data: putU64(good, 0x20, 1<<40), wantErr: "ELF"},
		{name: "section header offset past EOF, program headers fine", data: putU16(putU64(real, 0x28, 1<<40), 0x3C, 30),
			check: func(t *testing.T, o *object) {
				if len(o.warnings) == 0 || !strings.Contains(o.warnings[0], "section headers unreadable") {
					t.Errorf("warnings %v", o.warnings)
				}
				if len(o.needed) == 0 && o.soname == "" {
					t.Errorf("no dynamic facts read from PT_DYNAMIC")
				}
			}},
		{name: "huge section count", data: putU16(real, 0x3C, 0xfeff), check: func(t *testing.T, o *object) {
			if len(o.warnings) == 0 {
				t.Errorf("expected a warning about section headers")
			}
		}},
		{name: "no section headers: PT_DYNAMIC still read", data: good, check: func(t *testing.T, o *object) {
			if !o.noSections || len(o.needed) != 1 || o.needed[0] != "libc.so.6" || o.soname != "libx.so" || o.interp != ldso {
				t.Errorf("needed %v soname %q interp %q", o.needed, o.soname, o.interp)
			}
		}},
		{name: "32-bit big-endian", data: synthELF{class: elf.ELFCLASS32, order: binary.BigEndian, machine: elf.EM_PPC, needed: []string{"libc.so.6"}}.bytes(),
			check: func(t *testing.T, o *object) {
				if o.kind() != "ELF32 MSB EM_PPC" || len(o.needed) != 1 {
					t.Errorf("kind %q needed %v", o.kind(), o.needed)
				}
			}},
	}
	// DT_STRSZ absurdly large: find the DT_STRSZ entry and patch its value.
	{
		b := bytes.Clone(good)
		for i := 0; i+16 <= len(b); i += 8 {
			if binary.LittleEndian.Uint64(b[i:]) == uint64(elf.DT_STRSZ) && i+16 <= len(b) {
				binary.LittleEndian.PutUint64(b[i+8:], 1<<50)
			}
		}
		tests = append(tests, struct {
			name    string
			data    []byte
			wantErr string
			notELF  bool
			check   func(t *testing.T, o *object)
		}{name: "huge DT_STRSZ", data: b, wantErr: "DT_STRSZ"})
	}
	for _, tt := range tests {
		// Both ways openObject reads: pread (mem nil) and a mapping.
		for _, mapped := range []bool{false, true} {
			name := tt.name + "/pread"
			var mem []byte
			if mapped {
				name, mem = tt.name+"/mmap", tt.data
			}
			t.Run(name, func(t *testing.T) {
				o, err := readObject(bytes.NewReader(tt.data), int64(len(tt.data)), mem)
				switch {
				case tt.notELF:
					if !errors.Is(err, ErrNotELF) {
						t.Fatalf("err %v, want ErrNotELF", err)
					}
				case tt.wantErr != "":
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Fatalf("err %v, want %q", err, tt.wantErr)
					}
				default:
					if err != nil {
						t.Fatal(err)
					}
					if tt.check != nil {
						tt.check(t, o)
					}
					// The rest of the reading code must not fail badly either.
					o.dynSymbols()
					o.dpdk(true)
				}
			})
		}
	}
}

// FuzzReadObject feeds arbitrary bytes to everything that reads an ELF
// file: headers, PT_DYNAMIC, dynamic symbols (also via the hash tables),
// read-only data, .symtab and .init_array. It must never panic or allocate
// beyond the input's size.
func FuzzReadObject(f *testing.F) {
	f.Add(synthELF{soname: "libx.so", needed: []string{"libc.so.6"}, interp: ldso, runpath: "$ORIGIN"}.bytes())
	f.Add(synthELF{class: elf.ELFCLASS32, order: binary.BigEndian, machine: elf.EM_PPC, needed: []string{"a"}}.bytes())
	real := realSmallELF(f)
	f.Add(real)
	f.Add(putU64(real, 0x28, 1<<40))
	f.Add(real[:len(real)/2])
	f.Add([]byte("\x7fELF"))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := readObject(bytes.NewReader(data), int64(len(data)), data)
		if err != nil {
			return
		}
		o.dynSymbols()
		sc := o.dpdk(true)
		_ = sc
		o.initArray()
		o.kind()
	})
}

// A library truncated while it is mapped faults on access (SIGBUS); the
// entry points turn that into an error instead of a crash.
func TestTruncatedWhileMapped(t *testing.T) {
	src := realSmallELF(t)
	p := t.TempDir() + "/libshrinks.so"
	if err := os.WriteFile(p, src, 0o644); err != nil {
		t.Fatal(err)
	}
	o, err := openObject(p, p)
	if err != nil {
		t.Fatal(err)
	}
	defer o.close()
	if o.mem == nil {
		t.Skip("file not mapped")
	}
	if err := os.Truncate(p, 0); err != nil {
		t.Fatal(err)
	}
	err = func() (err error) {
		defer faultGuard()(&err)
		o.dpdk(true) // reads .rodata and the dynamic symbols from the mapping
		return nil
	}()
	if err == nil || !strings.Contains(err.Error(), "changed while it was read") {
		t.Fatalf("err %v, want a fault turned into an error", err)
	}
}

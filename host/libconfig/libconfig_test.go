package libconfig

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

const (
	libconfigSamples  = "../../testdata/conf/libconfig"
	gazelleRefSamples = "../../testdata/conf/reference"
)

func parseFile(t *testing.T, file string) (*Config, error) {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return Parse(file, src, os.ReadFile)
}

// buildOracle compiles testdata/conf/oracle/lcdump.c against the real
// libconfig (libconfig-dev, installed by lab/setup).
func buildOracle(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/include/libconfig.h"); err != nil {
		t.Fatalf("libconfig-dev is not installed (run `make setup` or apt-get install libconfig-dev): %v", err)
	}
	bin := filepath.Join(t.TempDir(), "lcdump")
	out, err := exec.Command("gcc", "-O1", "-Wall", "-o", bin, "../../testdata/conf/oracle/lcdump.c", "-lconfig").CombinedOutput()
	if err != nil {
		t.Fatalf("building the libconfig oracle: %v\n%s", err, out)
	}
	return bin
}

// oracleSamples are the files whose result the real libconfig must agree
// with: the Gazelle reference configs, host's gotcha samples and our ok-/bad-
// cases.
func oracleSamples(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{
		filepath.Join(gazelleRefSamples, "*.conf"),
		filepath.Join(gazelleRefSamples, "*.conf.*"),
		"../../testdata/conf/gazelle/*.conf",
		filepath.Join(libconfigSamples, "ok-*.conf"),
		filepath.Join(libconfigSamples, "bad-*.conf"),
	} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	if len(files) < 20 {
		t.Fatalf("only %d samples found", len(files))
	}
	return files
}

// Where the error line legitimately differs (both sides reject the file).
var oracleLineDiffers = map[string]string{
	"bad-include-cycle.conf": "libconfig follows the cycle and trips over the duplicate setting; we stop at the cycle",
}

func TestLibconfigMatchesRealLibconfig(t *testing.T) {
	oracle := buildOracle(t)
	for _, file := range oracleSamples(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			var stdout bytes.Buffer
			cmd := exec.Command(oracle, file)
			cmd.Stdout = &stdout
			runErr := cmd.Run()
			want := stdout.String()

			cfg, err := parseFile(t, file)
			if strings.HasPrefix(want, "ERROR\t") {
				if runErr == nil {
					t.Fatalf("oracle printed an error but exited 0")
				}
				if err == nil {
					t.Fatalf("libconfig rejects the file (%s) but we parse it:\n%s", strings.TrimSpace(want), cfg.Dump())
				}
				var le *Error
				if !errors.As(err, &le) {
					t.Fatalf("error is %T, want *Error: %v", err, err)
				}
				wantLine, _ := strconv.Atoi(strings.Split(want, "\t")[1])
				if _, ok := oracleLineDiffers[filepath.Base(file)]; !ok && le.Pos.Line != wantLine {
					t.Errorf("error at line %d, libconfig says line %d (%s): %v", le.Pos.Line, wantLine, strings.TrimSpace(want), err)
				}
				return
			}
			if runErr != nil {
				t.Fatalf("oracle failed: %v", runErr)
			}
			if err != nil {
				t.Fatalf("libconfig accepts the file but we reject it: %v", err)
			}
			if got := cfg.Dump(); got != want {
				t.Errorf("tree differs from libconfig's\n--- ours\n%s--- libconfig\n%s", got, want)
			}
		})
	}
}

func TestLibconfigErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      string // full error text
	}{
		{"missing value", "a = 1;\nb = ;\n", "t.conf:2:5: expected a value, found \";\""},
		{"missing equals", "a = 1\nb 2\n", "t.conf:2:3: expected '=' or ':' after \"b\", found \"2\""},
		{"mixed array", "arr = [ 1,\n  \"two\" ]\n", "t.conf:2:3: mismatched element type in array: string after int"},
		{"duplicate", "a = 1\nb = 2\n  a = 3\n", "t.conf:3:3: duplicate setting name \"a\" (first set at t.conf:1:1)"},
		{"garbage", "a = 1\nb = 2 $\n", "t.conf:2:7: unexpected character '$'"},
		{"garbage utf8", "a = «1»\n", "t.conf:1:5: unexpected character '«'"},
		{"column counts runes", "s = \"été\" ?\n", "t.conf:1:11: unexpected character '?'"},
		{"unterminated string", "a = 1\nb = \"never\nc = 3\n", "t.conf:2:5: unterminated string (missing closing '\"')"},
		{"trailing comma", "l = ( 1, 2, )\n", "t.conf:1:13: expected a value, found \")\""},
		{"nested array", "a = [ [ 1 ] ]\n", "t.conf:1:7: an array holds only scalar values, found \"[\""},
		{"unclosed group", "g = {\n  a = 1;\n", "t.conf:3:1: expected a setting name or '}', found end of file"},
		{"bad list separator", "l = ( 1 2 )\n", "t.conf:1:9: expected ',' or ')', found \"2\""},
		{"value is a bare word", "use_ltran = yes\n", "t.conf:1:13: expected a value, found name \"yes\""},
		{"setting name expected", "= 1\n", "t.conf:1:1: expected a setting name, found \"=\""},
		{"int overflow", "a = 99999999999999999999\n", "t.conf:1:5: integer 99999999999999999999 is out of range"},
		{"int64 overflow", "a = 99999999999999999999L\n", "t.conf:1:5: integer 99999999999999999999L is out of range"},
		{"octal digit", "a = 09\n", "t.conf:1:5: integer 09 is not valid: a leading 0 makes libconfig read it as octal"},
		{"sign alone", "a = -\n", "t.conf:1:5: unexpected character '-'"},
		{"include midline", "a = 1 @include \"x\"\n", "t.conf:1:7: unexpected character '@'"},
		{"include without quote", "@include x\n", "t.conf:1:1: expected @include \"file\""},
		{"include empty name", "@include \"\"\n", "t.conf:1:1: @include with an empty file name"},
		{"include unterminated", "@include \"x\n", "t.conf:1:1: unterminated @include file name"},
		{"include missing", "a = 1\n  @include \"nope.conf\"\n", "t.conf:2:3: cannot open include file \"nope.conf\": no such file"},
		{"too deep", strings.Repeat("(", maxNesting+1), "t.conf:1:257: values nested more than 256 deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.src
			if tt.name == "too deep" {
				src = "a = " + src
				tt.want = "t.conf:1:261: values nested more than 256 deep"
			}
			_, err := Parse("t.conf", []byte(src), func(p string) ([]byte, error) {
				return nil, os.ErrNotExist
			})
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got %q\nwant %q", err.Error(), tt.want)
			}
			var le *Error
			if !errors.As(err, &le) {
				t.Errorf("error is %T, want *Error", err)
			}
		})
	}
}

func TestLibconfigValues(t *testing.T) {
	src := `# values and their positions
i = 42; o = 010
big = 3000000000; l = 5L; h = 0xFFFFFFFF; h64 = 0x100000000L
f = .5; g = 1e3; dot = .
b1 = TRUE; b2 = false
s = "a\x41\x00b" "c" // adjacent
u = "back\qslash\x4"
grp : { inner = ( "x", 2, { deep = [1.5, 2.5] } ) }
`
	cfg, err := Parse("v.conf", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	ints := map[string]struct {
		v    int64
		kind Kind
	}{
		"i": {42, Int}, "o": {8, Int}, "big": {3000000000, Int64},
		"l": {5, Int64}, "h": {-1, Int}, "h64": {1 << 32, Int64},
	}
	for name, want := range ints {
		s := cfg.Lookup(name)
		if s == nil {
			t.Fatalf("%s missing", name)
		}
		got, ok := s.Value.AsInt()
		if !ok || got != want.v || s.Value.Kind != want.kind {
			t.Errorf("%s = %d (%s), want %d (%s)", name, got, s.Value.Kind, want.v, want.kind)
		}
	}
	if s := cfg.Lookup("neg"); s != nil {
		t.Errorf("neg = %v: -0x10 is not a libconfig number, want a syntax error instead", s.Value)
	}
	floats := map[string]float64{"f": 0.5, "g": 1000, "dot": 0}
	for name, want := range floats {
		if v := cfg.Lookup(name).Value; v.Kind != Float || v.Float != want {
			t.Errorf("%s = %v %v, want float %v", name, v.Kind, v.Float, want)
		}
	}
	if v := cfg.Lookup("o").Value; !v.Octal {
		t.Errorf("o not marked octal")
	}
	if v := cfg.Lookup("b1").Value; v.Kind != Bool || !v.Bool {
		t.Errorf("b1 = %+v", v)
	}
	if got, _ := cfg.Lookup("s").Value.AsString(); got != "aAbc" {
		t.Errorf("s = %q, want %q", got, "aAbc")
	}
	if got, _ := cfg.Lookup("u").Value.AsString(); got != `back\qslash\x4` {
		t.Errorf("u = %q", got)
	}
	deep := cfg.Lookup("grp.inner").Value.Elems[2].Setting("deep").Value
	if deep.Kind != Array || len(deep.Elems) != 2 || deep.Elems[1].Float != 2.5 {
		t.Errorf("deep = %+v", deep)
	}
	if p := cfg.Lookup("grp.inner").Pos; p != (Pos{File: "v.conf", Line: 8, Col: 9}) {
		t.Errorf("grp.inner at %v", p)
	}
	if p := deep.Elems[1].Pos; p.Line != 8 || p.Col != 42 {
		t.Errorf("deep[1] at %v, want 8:42", p)
	}
	if cfg.Lookup("grp.missing") != nil || cfg.Lookup("i.x") != nil {
		t.Errorf("lookup through a missing or scalar setting must be nil")
	}
}

func TestLibconfigNegativeHexIsSyntaxError(t *testing.T) {
	_, err := Parse("n.conf", []byte("neg = -0x10\n"), nil)
	// libconfig reads the int -0, then a new setting named x10 that lacks
	// its '=': the error is at the end of the file (the real libconfig says
	// line 2 too).
	if err == nil || !strings.HasPrefix(err.Error(), "n.conf:2:1: expected '=' or ':' after \"x10\"") {
		t.Fatalf("err = %v", err)
	}
}

func TestLibconfigIncludes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("main.conf", "a = 1\n@include \"sub/part.conf\"\nz = 26\n")
	write("sub/part.conf", "b = 2\n  @include \"leaf.conf\"\n")
	write("sub/leaf.conf", "\n\nc = \"leaf\"\n")
	write("loop.conf", "x = 1\n@include \"loop2.conf\"\n")
	write("loop2.conf", "@include \"loop.conf\"\n")
	write("deep0.conf", "@include \"deep1.conf\"\n")
	for i := 1; i <= 12; i++ {
		write("deep"+strconv.Itoa(i)+".conf", "@include \"deep"+strconv.Itoa(i+1)+".conf\"\n")
	}
	write("deep13.conf", "end = 1\n")

	cfg, err := parseFile(t, filepath.Join(dir, "main.conf"))
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Lookup("c")
	if c == nil || c.Pos.Line != 3 || c.Pos.File != filepath.Join(dir, "sub/leaf.conf") {
		t.Fatalf("c = %+v, want it from sub/leaf.conf line 3 (includes resolve against the including file's dir)", c)
	}
	if len(cfg.Files) != 3 || cfg.Lookup("z") == nil {
		t.Errorf("files = %v, z = %v", cfg.Files, cfg.Lookup("z"))
	}

	_, err = parseFile(t, filepath.Join(dir, "loop.conf"))
	if err == nil || !strings.Contains(err.Error(), "include cycle") || !strings.HasPrefix(err.Error(), filepath.Join(dir, "loop2.conf")+":1:1:") {
		t.Errorf("loop: err = %v", err)
	}
	_, err = parseFile(t, filepath.Join(dir, "deep0.conf"))
	if err == nil || !strings.Contains(err.Error(), "nesting too deep") {
		t.Errorf("deep: err = %v", err)
	}
}

func TestLibconfigDivergences(t *testing.T) {
	// Files where Debian's libconfig 1.5 differs from 1.7 (see the README
	// next to them); we follow 1.7 and say so here.
	cfg, err := parseFile(t, filepath.Join(libconfigSamples, "div-int-promote.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if v := cfg.Lookup("big").Value; v.Kind != Int64 || v.Int != 3000000000 {
		t.Errorf("big = %+v, want int64 3000000000", v)
	}
	if v := cfg.Lookup("octal").Value; v.Int != 8 || !v.Octal {
		t.Errorf("octal = %+v, want 8", v)
	}
	eof, err := parseFile(t, filepath.Join(libconfigSamples, "div-comment-at-eof.conf"))
	if err != nil || eof.Lookup("a") == nil {
		t.Errorf("comment on the last line without a newline: %v", err)
	}
	for _, f := range []string{"div-int-overflow.conf", "div-octal-invalid.conf", "div-unterminated-string.conf"} {
		if _, err := parseFile(t, filepath.Join(libconfigSamples, f)); err == nil {
			t.Errorf("%s: no error", f)
		}
	}
}

func FuzzLibconfig(f *testing.F) {
	for _, pat := range []string{
		filepath.Join(gazelleRefSamples, "*"),
		filepath.Join(libconfigSamples, "*.conf"),
		"../../testdata/conf/gazelle/*.conf",
	} {
		files, _ := filepath.Glob(pat)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, err := Parse("f.conf", src, func(p string) ([]byte, error) {
			if p == "f.conf" || p == "self.conf" {
				return src, nil
			}
			return nil, os.ErrNotExist
		})
		if err != nil {
			var le *Error
			if !errors.As(err, &le) {
				t.Fatalf("error %T is not a *Error: %v", err, err)
			}
			if le.Pos.Line < 1 || le.Pos.Col < 1 {
				t.Fatalf("error without a position: %v", err)
			}
			return
		}
		_ = cfg.Dump()
		// What parses must parse again from its own positions' file.
		if cfg.Root == nil || cfg.Root.Kind != Group {
			t.Fatalf("root is %+v", cfg.Root)
		}
	})
}

// oneLineConfig is a valid lstack.conf-like file of about n bytes on a
// single line: many settings, strings and lists, no newline until the end.
func oneLineConfig(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "k%d = \"vé%d\"; l%d = (1, 2.5, \"x\"); ", i, i, i)
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// The work spent on columns must grow linearly with a line's length: it
// used to be counted from the line's start for every token (quadratic: a
// 200 kB line took 8 s). Counted in bytes examined, not in seconds.
func TestLibconfigLongLineLinear(t *testing.T) {
	work := func(n int) (int, int) {
		src := oneLineConfig(n)
		cfg, p, err := parse("long.conf", src, nil)
		if err != nil {
			t.Fatal(err)
		}
		// The last setting's column is right, so the counting was not skipped.
		last := cfg.Root.Settings[len(cfg.Root.Settings)-1]
		if want := utf8.RuneCount(src[:bytes.LastIndex(src, []byte("l"))]) + 1; last.Pos.Col != want {
			t.Fatalf("last setting at column %d, want %d", last.Pos.Col, want)
		}
		return p.lex.colWork, len(src)
	}
	// Small sizes first, so that a quadratic parser fails in seconds rather
	// than minutes; then the 1 MB line.
	for _, size := range []int{128 << 10, 512 << 10} {
		w1, n1 := work(size)
		w2, n2 := work(2 * size)
		if w1 > 2*n1 || w2 > 2*n2 {
			t.Fatalf("column work %d for %d bytes, %d for %d: more than twice the input", w1, n1, w2, n2)
		}
		if r := float64(w2) / float64(w1) / (float64(n2) / float64(n1)); r > 1.2 {
			t.Fatalf("doubling the line from %d bytes multiplied the work by %.1f times the size ratio: not linear", n1, r)
		}
	}
}

package libconfig

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Pos is a place in a configuration file. Line and Col are 1-based; Col
// counts characters (runes), as editors do.
type Pos struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line"`
	Col  int    `json:"col"`
}

func (p Pos) String() string {
	if p.File == "" {
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Kind is the type of a libconfig value, named as libconfig names
// its CONFIG_TYPE_* constants.
type Kind string

// The libconfig value types.
const (
	Int    Kind = "int"
	Int64  Kind = "int64"
	Float  Kind = "float"
	Bool   Kind = "bool"
	String Kind = "string"
	Array  Kind = "array" // [ scalars of one type ]
	List   Kind = "list"  // ( any values )
	Group  Kind = "group" // { settings }
)

// Value is one parsed value. Only the field that matches Kind is
// meaningful.
type Value struct {
	Kind Kind `json:"kind"`
	Pos  Pos  `json:"pos"`
	// Int holds int and int64 values (an int is a 32-bit value in libconfig).
	Int int64 `json:"int,omitempty"`
	// Hex records that an integer was written in hex (libconfig keeps that
	// as the setting's format).
	Hex bool `json:"hex,omitempty"`
	// Octal records a plain integer with a leading 0, which libconfig 1.7
	// reads as octal ("010" is 8): usually not what the writer meant.
	Octal    bool       `json:"octal,omitempty"`
	Float    float64    `json:"float,omitempty"`
	Bool     bool       `json:"bool,omitempty"`
	Str      string     `json:"string,omitempty"`
	Elems    []*Value   `json:"elems,omitempty"`    // array, list
	Settings []*Setting `json:"settings,omitempty"` // group
}

// Setting is a named value: `name = value;`.
type Setting struct {
	Name  string `json:"name"`
	Pos   Pos    `json:"pos"`
	Value *Value `json:"value"`
}

// Config is a parsed libconfig file (with its includes expanded).
type Config struct {
	File string `json:"file"`
	// Files lists every file read: File first, then includes in the order
	// they were opened.
	Files []string `json:"files"`
	Root  *Value   `json:"root"`
}

// Error is a syntax or semantic error at a position in a file.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Lookup finds a setting by its dotted path ("a.b.c") from the root group.
// It returns nil when any part is missing or not a group.
func (c *Config) Lookup(path string) *Setting {
	if c == nil || c.Root == nil {
		return nil
	}
	v := c.Root
	var s *Setting
	for _, name := range strings.Split(path, ".") {
		if v == nil || v.Kind != Group {
			return nil
		}
		s = v.Setting(name)
		if s == nil {
			return nil
		}
		v = s.Value
	}
	return s
}

// Setting returns the child setting name of a group, or nil.
func (v *Value) Setting(name string) *Setting {
	if v == nil || v.Kind != Group {
		return nil
	}
	for _, s := range v.Settings {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// AsInt returns the value of an int or int64.
func (v *Value) AsInt() (int64, bool) {
	if v == nil || (v.Kind != Int && v.Kind != Int64) {
		return 0, false
	}
	return v.Int, true
}

// AsString returns the value of a string.
func (v *Value) AsString() (string, bool) {
	if v == nil || v.Kind != String {
		return "", false
	}
	return v.Str, true
}

// AsStrings returns the elements of an array or list when all are strings.
func (v *Value) AsStrings() ([]string, bool) {
	if v == nil || (v.Kind != Array && v.Kind != List) {
		return nil, false
	}
	out := make([]string, 0, len(v.Elems))
	for _, e := range v.Elems {
		if e.Kind != String {
			return nil, false
		}
		out = append(out, e.Str)
	}
	return out, true
}

// Describe is a short human description of the value's type, for messages
// such as "dpdk_args is an int, want a list of strings".
func (v *Value) Describe() string {
	if v == nil {
		return "missing"
	}
	switch v.Kind {
	case Int, Int64:
		return "an integer (" + strconv.FormatInt(v.Int, 10) + ")"
	case String:
		return "a string (" + strconv.Quote(v.Str) + ")"
	case Array:
		return "an array"
	}
	return "a " + string(v.Kind)
}

// Dump prints the tree in the canonical one-line-per-node form that the
// libconfig oracle in testdata/conf/oracle prints, so the two can be
// compared line by line: path, type, value, line of the setting.
func (c *Config) Dump() string {
	var b strings.Builder
	dumpGroup(&b, "", c.Root)
	return b.String()
}

func dumpGroup(b *strings.Builder, prefix string, g *Value) {
	for _, s := range g.Settings {
		dumpValue(b, prefix+s.Name, s.Value, s.Pos.Line)
	}
}

func dumpValue(b *strings.Builder, path string, v *Value, line int) {
	fmt.Fprintf(b, "%s\t%s\t", path, v.Kind)
	switch v.Kind {
	case Int, Int64:
		fmt.Fprintf(b, "%d", v.Int)
		if v.Hex {
			b.WriteString(" hex")
		}
	case Float:
		switch {
		case math.IsInf(v.Float, 1):
			b.WriteString("inf") // as C's printf spells it
		case math.IsInf(v.Float, -1):
			b.WriteString("-inf")
		default:
			b.WriteString(strconv.FormatFloat(v.Float, 'g', 17, 64))
		}
	case Bool:
		fmt.Fprintf(b, "%t", v.Bool)
	case String:
		fmt.Fprintf(b, "%x", v.Str)
	case Array, List:
		fmt.Fprintf(b, "%d", len(v.Elems))
	case Group:
		fmt.Fprintf(b, "%d", len(v.Settings))
	}
	if line > 0 {
		fmt.Fprintf(b, "\t%d", line)
	}
	b.WriteByte('\n')
	switch v.Kind {
	case Array, List:
		for i, e := range v.Elems {
			dumpValue(b, fmt.Sprintf("%s[%d]", path, i), e, 0)
		}
	case Group:
		dumpGroup(b, path+".", v)
	}
}

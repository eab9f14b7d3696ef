package ui

import "github.com/fatih/color"

// Style paints text for one stream. When colour is off every method returns
// its input unchanged, so renderers never branch on colour themselves.
type Style struct {
	on bool
}

// OutStyle is the style for stdout, ErrStyle for stderr.
func (s *Streams) OutStyle() Style { return Style{on: s.OutColor} }
func (s *Streams) ErrStyle() Style { return Style{on: s.ErrColor} }

func (st Style) paint(text string, attrs ...color.Attribute) string {
	if !st.on {
		return text
	}
	c := color.New(attrs...)
	c.EnableColor() // fatih/color decides from stdout alone; the stream decided already.
	return c.Sprint(text)
}

func (st Style) Green(s string) string  { return st.paint(s, color.FgGreen) }
func (st Style) Yellow(s string) string { return st.paint(s, color.FgYellow) }
func (st Style) Red(s string) string    { return st.paint(s, color.FgRed) }
func (st Style) Bold(s string) string   { return st.paint(s, color.Bold) }
func (st Style) Dim(s string) string    { return st.paint(s, color.Faint) }
func (st Style) Cyan(s string) string   { return st.paint(s, color.FgCyan) }

// Status symbols shared by every command that reports findings.
const (
	SymbolOK   = "✓"
	SymbolWarn = "!"
	SymbolFail = "✗"
	SymbolSkip = "-"
)

// Symbol returns the coloured symbol for a status word
// (ok, warn, fail, skip, error).
func (st Style) Symbol(status string) string {
	switch status {
	case "ok":
		return st.Green(SymbolOK)
	case "warn":
		return st.Yellow(SymbolWarn)
	case "fail", "error":
		return st.Red(SymbolFail)
	default:
		return st.Dim(SymbolSkip)
	}
}

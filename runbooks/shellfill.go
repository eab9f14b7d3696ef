package runbooks

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"text/template"

	"github.com/gzdoctor/gzdoctor/internal/shquote"
)

// A fix command's values come from the pasted log: a prefix, a device, a
// path anyone could have written. Each is quoted for the shell where it
// stands in the command: a word or part of one gets shquote.Quote, one
// inside '…' has its quotes closed and reopened, one inside "…" has \ " $ `
// escaped. A value the catalogue itself gave (a default, an <unknown>
// placeholder) stays as written: it is the catalogue's text.

var reField = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\{\{-?\s*(\.[A-Za-z_][A-Za-z0-9_]*)\s*-?\}\}$`) })

// shellTemplate rewrites every {{.x}} of a command template to
// {{shq .x}}, {{shsq .x}} or {{shdq .x}} by the quoting around it, and
// leaves the other actions ({{if}}, {{else}}, {{end}}) alone. A value that
// prints in any other way ({{printf}}, a pipeline) or inside backquotes,
// whose quoting this cannot follow, is an error, found when the catalogue
// loads.
func shellTemplate(text string) (string, error) {
	var out strings.Builder
	// The quoting in effect: 0 outside quotes, '\'' or '"'; $( starts a
	// new command inside any of them but '…', and ) ends it.
	stack := []byte{0}
	for i := 0; i < len(text); i++ {
		top := stack[len(stack)-1]
		if strings.HasPrefix(text[i:], "{{") {
			end := strings.Index(text[i:], "}}")
			if end < 0 {
				return "", errors.New("unterminated {{")
			}
			act := text[i : i+end+2]
			i += end + 1
			m := reField().FindStringSubmatch(act)
			if m == nil {
				if strings.Contains(strings.NewReplacer("{{if", "", "{{else", "", "{{end", "", "{{- if", "", "{{- else", "", "{{- end", "").Replace(act), "{{") {
					return "", fmt.Errorf("%s: a command prints a value only as {{.name}}, which is quoted for the shell", act)
				}
				out.WriteString(act)
				continue
			}
			fn := map[byte]string{0: "shq", '\'': "shsq", '"': "shdq"}[top]
			out.WriteString("{{" + fn + " " + m[1] + "}}")
			continue
		}
		c := text[i]
		out.WriteByte(c)
		switch {
		case c == '`' && top != '\'':
			return "", errors.New("a command with values uses $( ), not backquotes")
		case top == '\'':
			if c == '\'' {
				stack = stack[:len(stack)-1]
			}
		case c == '\\' && i+1 < len(text):
			i++
			out.WriteByte(text[i])
		case c == '$' && i+1 < len(text) && text[i+1] == '(':
			i++
			out.WriteByte('(')
			stack = append(stack, 0)
		case top == '"':
			if c == '"' {
				stack = stack[:len(stack)-1]
			}
		case c == ')' && len(stack) > 1:
			stack = stack[:len(stack)-1]
		case c == '\'' || c == '"':
			stack = append(stack, c)
		}
	}
	if len(stack) != 1 {
		return "", errors.New("unbalanced quotes or $( )")
	}
	return out.String(), nil
}

// shellFuncs quote a value for where shellTemplate found it; trusted
// values (the catalogue's own) pass as they are.
func shellFuncs(trusted map[string]bool) template.FuncMap {
	keep := func(f func(string) string) func(string) string {
		return func(s string) string {
			if trusted[s] {
				return s
			}
			return f(s)
		}
	}
	return template.FuncMap{
		"shq":  keep(shquote.Quote),
		"shsq": keep(func(s string) string { return strings.ReplaceAll(s, "'", `'\''`) }),
		"shdq": keep(strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`").Replace),
	}
}

// fillCommand fills a command template with its values quoted for the
// shell (shellTemplate); trusted are the values the catalogue gave.
func fillCommand(text string, data map[string]string, trusted map[string]bool) string {
	if !strings.Contains(text, "{{") {
		return strings.TrimSpace(text)
	}
	shell, err := shellTemplate(text)
	if err != nil {
		return text // refused at load; never reached
	}
	t, err := template.New("").Option("missingkey=error").Funcs(shellFuncs(trusted)).Parse(shell)
	if err != nil {
		return text
	}
	var sb strings.Builder
	if err := t.Execute(&sb, data); err != nil {
		return text
	}
	return strings.TrimSpace(sb.String())
}

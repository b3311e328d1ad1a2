package recipe

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/proctable"
)

// The engine runs a recipe's CEL expression only for the execs whose
// arguments hold the literals the expression needs (celfilter.go): that
// prefilter must never turn away an exec the expression holds for, or a
// detection is lost without a trace.

// exprGen writes CEL expressions over args from the fuzzer's bytes: each
// byte picks the next choice of a small grammar, 0 once they run out, so
// that every byte string is an expression. Its literals are the fuzzer's
// own, or pieces of the arguments, so that expressions often hold.
type exprGen struct {
	choices []byte
	args    []string
	lit, re string
	vars    int // comprehension variables made so far
}

func (g *exprGen) next(n int) int {
	if len(g.choices) == 0 {
		return 0
	}
	c := int(g.choices[0])
	g.choices = g.choices[1:]
	return c % n
}

// literal is a CEL string literal: the fuzzer's, a piece of an argument
// (in another case, sometimes), or empty.
func (g *exprGen) literal() string {
	s := g.lit
	switch g.next(4) {
	case 1, 2:
		if len(g.args) > 0 {
			a := g.args[g.next(len(g.args))]
			i := g.next(len(a) + 1)
			s = a[i : i+g.next(len(a)-i+1)]
		}
		if g.next(4) == 0 {
			s = strings.ToUpper(s)
		}
	case 3:
		s = ""
	}
	return strconv.QuoteToASCII(strings.ToValidUTF8(s, "\uFFFD"))
}

// regex is a CEL string literal holding a regular expression: the
// fuzzer's, or one built around a literal.
func (g *exprGen) regex() string {
	lit, _ := strconv.Unquote(g.literal())
	q := regexp.QuoteMeta(lit)
	forms := []string{g.re, q, "^" + q, q + "$", "(?i)" + q, q + "+[0-9]*", "(?:" + q + "|" + g.re + ")", "[" + q + "]"}
	return strconv.QuoteToASCII(strings.ToValidUTF8(forms[g.next(len(forms))], "\uFFFD"))
}

// element is a test of v, an element of args or not.
func (g *exprGen) element(v string, depth int) string {
	switch g.next(12) {
	case 0:
		return v + ".startsWith(" + g.literal() + ")"
	case 1:
		return v + ".endsWith(" + g.literal() + ")"
	case 2:
		return v + ".contains(" + g.literal() + ")"
	case 3:
		return v + " == " + g.literal()
	case 4:
		return g.literal() + " == " + v
	case 5:
		return v + ".matches(" + g.regex() + ")"
	case 6:
		return v + " in [" + g.literal() + ", " + g.literal() + "]"
	case 7:
		return "!(" + g.element(v, depth-1) + ")"
	case 8:
		return "(" + g.element(v, depth-1) + " || " + g.element(v, depth-1) + ")"
	case 9:
		return "(" + g.element(v, depth-1) + " && " + g.element(v, depth-1) + ")"
	case 10:
		return fmt.Sprintf("%s.size() > %d", v, g.next(8))
	}
	return g.expr(depth - 1)
}

// expr is a boolean expression.
func (g *exprGen) expr(depth int) string {
	if depth <= 0 {
		return []string{"true", "false", "args.size() > 1", `name == "x"`}[g.next(4)]
	}
	v := fmt.Sprintf("v%d", g.vars)
	if g.next(8) == 0 {
		v = "args" // a variable that hides args
	}
	g.vars++
	switch g.next(16) {
	case 0:
		return "args.exists(" + v + ", " + g.element(v, depth-1) + ")"
	case 1:
		return "(" + g.expr(depth-1) + " || " + g.expr(depth-1) + ")"
	case 2:
		return "(" + g.expr(depth-1) + " && " + g.expr(depth-1) + ")"
	case 3:
		return "!(" + g.expr(depth-1) + ")"
	case 4:
		return "(" + g.expr(depth-1) + " ? " + g.expr(depth-1) + " : " + g.expr(depth-1) + ")"
	case 5:
		return "args.all(" + v + ", " + g.element(v, depth-1) + ")"
	case 6:
		return "args.exists_one(" + v + ", " + g.element(v, depth-1) + ")"
	case 7:
		return g.literal() + " in args"
	case 8:
		return g.element(fmt.Sprintf("args[%d]", g.next(4)), depth-1)
	case 9:
		return "[" + g.literal() + ", " + g.literal() + "].exists(" + v + ", " + g.element(v, depth-1) + ")"
	case 10:
		return "args.filter(" + v + ", " + g.element(v, depth-1) + ").size() > 0"
	case 11:
		return `args.map(` + v + `, ` + v + ` + "x").exists(w, ` + g.element("w", depth-1) + `)`
	case 12:
		return "args.exists(" + v + ", [" + v + "].exists(w, " + g.element("w", depth-1) + "))"
	case 13:
		return "parent_args.exists(" + v + ", " + g.element(v, depth-1) + ")"
	case 14:
		return g.element("name", depth-1)
	}
	return "args.exists(" + v + ", " + g.expr(depth-1) + ")"
}

// FuzzCELPrefilter compares, for expressions from a small grammar and
// any arguments, the engine's test (prefilter, then CEL) with CEL alone.
func FuzzCELPrefilter(f *testing.F) {
	// args.exists(v0, v0.matches("^--pass(word)?="))
	f.Add([]byte{1, 0, 5, 0, 0}, "tar\x00--password=hunter2", "pass", `^--pass(word)?=`)
	// (args.exists(v1, v1.startsWith("curl")) && "sh" in args)
	f.Add([]byte{1, 2, 1, 0, 0, 0, 1, 7, 1, 0, 0, 2, 1}, "sh\x00curl x | sh", "curl", "")
	// args[1] == "-c"
	f.Add([]byte{1, 8, 1, 3, 1, 1, 0, 2, 1}, "sh\x00-c\x00id", "", "")
	// args.exists(v0, v0.matches("(?i)curl")), and the Kelvin sign that (?i)k matches
	f.Add([]byte{1, 0, 5, 0, 4}, "sh\x00CURL", "curl", "")
	f.Add([]byte{1, 0, 5, 0, 4}, "\u212a\x00x", "k", "")
	// a variable that hides args, alternatives, negations, ternaries
	f.Add([]byte{0, 0, 8, 1, 1, 1, 0, 6, 0, 0, 3, 1, 3, 1, 4, 1, 0, 2}, "git\x00clone\x00https://x", "clone", "[cl]one")
	scope, err := newCELScope()
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, choices []byte, args, lit, re string) {
		argv := strings.Split(args, "\x00")
		g := &exprGen{choices: choices, args: argv, lit: lit, re: re}
		expr := g.expr(4)
		prg, needs, err := compileCEL(scope, expr)
		if err != nil {
			return // the grammar writes some expressions CEL refuses, wrong regular expressions among them
		}
		m := matcher{cel: prg, celArgs: needs}
		in := &Input{
			Event:   &event.Event{Kind: event.KindExec, ExePath: "/usr/bin/x", Args: argv},
			Process: &proctable.Process{PID: 2, PPID: 1, Exe: "/usr/bin/x", Args: argv},
		}
		var x exec
		x.reset(in)
		if prg.eval(&x) {
			require.True(t, m.celMayHold(argv), "the prefilter turned away an exec %s holds for, args %q", expr, argv)
		}
	})
}

package redact

import "strings"

// The walk: a command's tokens, argv or a string's words, are read once for
// the flags of every rule, each flag's value taken where its rule says it
// stands, and programs gated so that a rule with Programs fires only in
// their commands.

// hit is a secret in token tok of a walk.
type hit struct {
	tok int
	span
}

// walk looks for the flags of the rules of allowed (nil for all) among
// toks, the arguments or words of a command, and for the patterns of
// argument rules in the arguments of their programs, and appends to dst
// where their secret values are, in the order of the tokens but for the
// last arguments of rules of ValueLast. exe names the program besides the
// tokens themselves; it may be empty.
func (x *ruleIndex) walk(allowed ruleSet, exe string, toks []string, dst []hit) []hit {
	var buf [2]uint64
	active := x.active(allowed, exe, toks, buf[:0])
	cmd := 0         // the current command's first token
	var gates []gate // per rule, made when a rule with Programs first needs it
	args := active.meets(x.arguments)
	for i := 0; i < len(toks); i++ {
		a := toks[i]
		if separator(a) {
			cmd = i + 1
			continue
		}
		if args {
			for r := range active.all() {
				if fr := &x.flags[r]; fr.arguments {
					gates = gatesFor(gates, len(x.flags))
					if gates[r].named(fr.programs, exe, toks, cmd, i) {
						dst = fr.secrets(dst, i, a, span{0, len(a)})
					}
				}
			}
		}
		if t := parseToken(a); x.letters.maybe(&t) {
			var skip bool
			dst, skip = x.flag(active, &gates, &t, exe, toks, cmd, i, dst)
			if skip {
				i++
			}
		}
		if strings.HasSuffix(a, ";") {
			cmd = i + 1
		}
	}
	return dst
}

// flag tries token t, token i of toks, as a flag of each rule of active in
// turn, and appends the secret of the first that it is; skip says the
// value was the next token, which the walk then passes over.
func (x *ruleIndex) flag(active ruleSet, gates *[]gate, t *token, exe string, toks []string, cmd, i int, dst []hit) (_ []hit, skip bool) {
	for r := range active.all() {
		fr := &x.flags[r]
		if !fr.letters.maybe(t) {
			continue
		}
		v, next, ok := fr.value(t)
		if !ok {
			continue
		}
		if len(fr.programs) > 0 {
			*gates = gatesFor(*gates, len(x.flags))
			if !(*gates)[r].named(fr.programs, exe, toks, cmd, i) {
				continue
			}
		}
		switch {
		case fr.form == ValueLast:
			// Out of the order of the tokens: Args sorts.
			if tok, v, ok := lastArg(toks, i); ok {
				dst = fr.secrets(dst, tok, toks[tok], v)
			}
		case next:
			if i+1 == len(toks) || separator(toks[i+1]) || x.secretFlag(toks[i+1]) {
				break
			}
			dst, skip = fr.secrets(dst, i+1, toks[i+1], span{0, len(toks[i+1])}), true
		default:
			dst = fr.secrets(dst, i, t.s, v)
		}
		break
	}
	return dst, skip
}

// gatesFor returns gates, made for n rules if it is not yet.
func gatesFor(gates []gate, n int) []gate {
	if gates == nil {
		gates = make([]gate, n)
	}
	return gates
}

// value reports whether t is one of the rule's flags, alone or bundled,
// and where its value is: the span v of a, or (next) the whole of the
// next token. For ValueLast, only ok counts.
func (fr *flagRule) value(t *token) (v span, next, ok bool) {
	a := t.s
	for i := range fr.flags {
		f := &fr.flags[i]
		rest, ok := f.match(t)
		if !ok && f.short {
			rest, ok = fr.bundled(t, f.name[0])
		}
		switch {
		case !ok:
			continue
		case fr.form == ValueLast:
			return span{}, false, true
		case rest == len(a):
			return span{}, true, fr.form != ValueAttached
		case a[rest] == '=':
			return span{rest + 1, len(a)}, false, true
		case f.short:
			return span{rest, len(a)}, false, fr.form != ValueNext
		}
	}
	return span{}, false, false
}

// secrets appends the secret parts of the value v of token a, which is
// token tok.
func (fr *flagRule) secrets(dst []hit, tok int, a string, v span) []hit {
	if fr.pattern == nil {
		return append(dst, hit{tok, v})
	}
	for _, sp := range fr.pattern.find(a[v.start:v.end], v.start, nil) {
		dst = append(dst, hit{tok, sp})
	}
	return dst
}

// secretFlag reports whether a is an option with a long name that a rule
// for every program recognises: no flag's value, but the next secret
// flag, as in keytool -storepasswd -storepass VALUE.
func (x *ruleIndex) secretFlag(a string) bool {
	t := parseToken(a)
	if t.dashes == 0 || t.end-t.dashes < 2 || !x.letters.maybe(&t) {
		return false
	}
	for r := range x.free.all() {
		if fr := &x.flags[r]; fr.letters.maybe(&t) {
			if _, _, ok := fr.value(&t); ok {
				return true
			}
		}
	}
	return false
}

// lastArg returns the last argument of the command of token i, and the
// span of its value: less the ";" that may end the command. ok is false
// when there is none after token i, or when it is an option.
func lastArg(toks []string, i int) (tok int, v span, ok bool) {
	tok = i
	for j := i + 1; j < len(toks) && !strings.HasSuffix(toks[j-1], ";") && !separator(toks[j]) && !redirection(toks[j]); j++ {
		tok = j
	}
	a := toks[tok]
	if tok == i || strings.HasPrefix(a, "-") {
		return 0, span{}, false
	}
	return tok, span{0, len(strings.TrimSuffix(a, ";"))}, true
}

// redirection reports whether a shell word redirects the command's input
// or output (> file, 2>&1, <in, &>log): the command's arguments end
// before it.
func redirection(a string) bool {
	a = strings.TrimLeft(a, "0123456789&")
	return a != "" && (a[0] == '>' || a[0] == '<')
}

// separator reports whether a shell word ends one command and starts
// another.
func separator(a string) bool {
	switch a {
	case ";", "|", "||", "&", "&&":
		return true
	}
	return false
}

// gate remembers, for one rule, how far the tokens of the current command
// have been searched for its programs, so that a walk stays linear however
// many flags it meets.
type gate struct {
	from  int  // tokens before from have been searched
	found bool // and they name one of the programs, subcommand and all
	// matched counts, per program, how many of its words they have shown;
	// nil until the gate is first used.
	matched []uint8
}

// named reports whether exe or the tokens of the command that starts at
// cmd, before token i, name one of programs: its first word as the base
// name of exe or of a token, each further word as a later token.
func (g *gate) named(programs [][]string, exe string, toks []string, cmd, i int) bool {
	if g.matched == nil || g.from < cmd { // a new command
		*g = gate{from: cmd, matched: append(g.matched[:0], make([]uint8, len(programs))...)}
		if exe != "" {
			g.see(programs, base(exe))
		}
	}
	for ; !g.found && g.from < i; g.from++ {
		g.see(programs, toks[g.from])
	}
	return g.found
}

// see advances each program whose next word the token t is.
func (g *gate) see(programs [][]string, t string) {
	for p, words := range programs {
		n := g.matched[p]
		if n == 0 && words[0] == base(t) || n > 0 && int(n) < len(words) && words[n] == t {
			n++
			g.matched[p] = n
		}
		if int(n) == len(words) {
			g.found = true
		}
	}
}

// base is the last element of a slash-separated path.
func base(p string) string {
	return p[strings.LastIndexByte(p, '/')+1:]
}

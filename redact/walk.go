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

// walk looks for the flags of rules among toks, the arguments or words of
// a command, and for the patterns of argument rules in the arguments of
// their programs, and appends to dst where their secret values are, in the
// order of the tokens. exe names the program besides the tokens
// themselves; it may be empty. lets holds the letters of all the rules'
// flags, or of more: most tokens are passed over on it alone.
func walk(rules []flagRule, lets *letters, exe string, toks []string, dst []hit) []hit {
	cmd := 0               // the current command's first token
	var gates []gate       // per rule, made when a rule with Programs first needs it
	var mentions []mention // per rule, likewise
	var argRules []int     // the argument rules whose programs exe or toks name
	for r := range rules {
		if rules[r].arguments && rules[r].mentioned(exe, toks) {
			argRules = append(argRules, r)
		}
	}
	for i := 0; i < len(toks); i++ {
		a := toks[i]
		if separator(a) {
			cmd = i + 1
			continue
		}
		for _, r := range argRules {
			if gates == nil {
				gates = make([]gate, len(rules))
			}
			if fr := &rules[r]; gates[r].named(fr.programs, exe, toks, cmd, i) {
				dst = fr.secrets(dst, i, a, span{0, len(a)})
			}
		}
		t := parseToken(a)
		for r := 0; r < len(rules) && lets.maybe(&t); r++ {
			fr := &rules[r]
			if !fr.letters.maybe(&t) {
				continue
			}
			v, next, ok := fr.value(&t)
			if !ok {
				continue
			}
			if len(fr.programs) > 0 {
				if mentions == nil {
					mentions = make([]mention, len(rules))
				}
				if !mentions[r].of(fr, exe, toks) {
					continue
				}
				if gates == nil {
					gates = make([]gate, len(rules))
				}
				if !gates[r].named(fr.programs, exe, toks, cmd, i) {
					continue
				}
			}
			tok := i
			if next {
				if i+1 == len(toks) || separator(toks[i+1]) {
					break
				}
				i++
				tok, v = i, span{0, len(toks[i])}
			}
			dst = fr.secrets(dst, tok, toks[tok], v)
			break
		}
		if strings.HasSuffix(a, ";") {
			cmd = i + 1
		}
	}
	return dst
}

// mention says, once looked for in one walk, whether a rule's programs
// are named among its tokens at all: a command of many flags of the rule,
// none of its programs named, would otherwise be searched once per flag,
// in time that grows as the square of its length.
type mention int8

const (
	mentionUnknown mention = iota
	mentionFound
	mentionAbsent
)

// of reports whether exe or toks name one of fr's programs, looking for
// them the first time only.
func (m *mention) of(fr *flagRule, exe string, toks []string) bool {
	if *m == mentionUnknown {
		*m = mentionAbsent
		if fr.mentioned(exe, toks) {
			*m = mentionFound
		}
	}
	return *m == mentionFound
}

// value reports whether t is one of the rule's flags, and where its value
// is: the span v of a, or (next) the whole of the next token.
func (fr *flagRule) value(t *token) (v span, next, ok bool) {
	a := t.s
	for i := range fr.flags {
		f := &fr.flags[i]
		rest, ok := f.match(t)
		switch {
		case !ok:
			continue
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

package redact

import (
	"fmt"
	"strings"
)

// flag is one entry of Rule.Flags, parsed.
type flag struct {
	name   string // without dashes and "*"; lower case with "_" as "-" unless short
	dashes int    // as written: 0, 1 or 2
	suffix bool   // written with "*": any name that ends in name
	short  bool   // one letter after one dash: case-sensitive, value may be attached
}

// parseFlag parses one entry of Rule.Flags.
func parseFlag(f string) (flag, error) {
	name := strings.TrimLeft(f, "-")
	fl := flag{dashes: len(f) - len(name)}
	name, fl.suffix = strings.CutPrefix(name, "*")
	if fl.dashes > 2 || name == "" || strings.ContainsAny(name, "*= \t\n") {
		return flag{}, fmt.Errorf("flag %q: want a name such as --password, --*password, -p or aws_secret_access_key", f)
	}
	fl.short = fl.dashes == 1 && len(name) == 1 && !fl.suffix
	fl.name = name
	if !fl.short {
		fl.name = strings.ReplaceAll(strings.ToLower(name), "_", "-")
	}
	return fl, nil
}

// token is an argument or word, split as an option: dashes, then a name
// up to the first "=".
type token struct {
	s      string
	dashes int  // leading dashes, up to 3
	end    int  // end of the name: the index of "=", or len(s)
	neg    bool // the name starts with "no-", as psql's --no-password
}

// parseToken splits a; walk does it once for all the flags it tries.
func parseToken(a string) token {
	t := token{s: a, end: len(a)}
	for t.dashes < len(a) && t.dashes < 3 && a[t.dashes] == '-' {
		t.dashes++
	}
	if eq := strings.IndexByte(a, '='); eq >= 0 {
		t.end = eq
	}
	t.neg = t.end-t.dashes > 3 && sameName(a[t.dashes:t.dashes+3], "no-")
	return t
}

// match reports whether t is this flag, and if so the index in t.s where
// what follows the flag's name begins: "=VALUE", an attached value, or
// nothing.
func (f *flag) match(t *token) (rest int, ok bool) {
	switch d := t.dashes; {
	case f.dashes == 2 && d != 1 && d != 2, f.dashes < 2 && d != f.dashes:
		return 0, false
	case f.short:
		return 2, len(t.s) >= 2 && t.s[1] == f.name[0]
	}
	n := t.s[t.dashes:t.end]
	if f.suffix && len(n) > len(f.name) {
		if t.neg {
			return 0, false // a negation takes no value
		}
		n = n[len(n)-len(f.name):]
	}
	return t.end, sameName(n, f.name)
}

// sameName reports whether the flag name n, as written in an argument, is
// name: ASCII case and the difference between "_" and "-" do not count.
func sameName(n, name string) bool {
	if len(n) != len(name) {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case c == '_':
			c = '-'
		}
		if c != name[i] {
			return false
		}
	}
	return true
}

// flagRule is a compiled rule with Flags, or with Programs and a Pattern
// but no Flags: an argument rule.
type flagRule struct {
	flags    []flag
	letters  *letters // of flags
	form     ValueForm
	programs [][]string // each a program's name and subcommand words
	pattern  *pattern   // picks the secret within the value; nil: all of it
	// names holds the programs' first words, for a quick test of whether
	// a command line may name one (see mentioned).
	names map[string]bool
	// arguments marks an argument rule: no flags, and the pattern is
	// tried on every argument that follows one of the programs.
	arguments bool
}

// newFlagRule compiles a rule that validate has accepted.
func newFlagRule(rule Rule, p *pattern) flagRule {
	fr := flagRule{form: rule.Value, pattern: p, arguments: len(rule.Flags) == 0}
	for _, prog := range rule.Programs {
		fr.programs = append(fr.programs, strings.Fields(prog))
	}
	if len(fr.programs) > 0 {
		fr.names = make(map[string]bool, len(fr.programs))
		for _, words := range fr.programs {
			fr.names[words[0]] = true
		}
	}
	if fr.form == "" {
		fr.form = ValueNext
	}
	for _, f := range rule.Flags {
		fl, _ := parseFlag(f) // validated
		fr.flags = append(fr.flags, fl)
	}
	fr.letters = &letters{}
	fr.letters.add(fr.flags)
	return fr
}

// keywords returns the words of which one is in every string where the
// rule can find a flag: the programs' names, or else a part of each
// flag's name (the longest between dashes, as "-" may be written "_").
func (fr *flagRule) keywords() []string {
	if len(fr.programs) > 0 {
		names := make([]string, len(fr.programs))
		for i, words := range fr.programs {
			names[i] = words[0]
		}
		return names
	}
	var kw []string
	for _, f := range fr.flags {
		best := ""
		for part := range strings.SplitSeq(f.name, "-") {
			if len(part) > len(best) {
				best = part
			}
		}
		kw = append(kw, best)
	}
	return kw
}

// mentioned reports whether exe or one of toks is, by its base name, the
// first word of one of the rule's programs: a cheap test, without
// allocation, before the gate that says where the program stands.
func (fr *flagRule) mentioned(exe string, toks []string) bool {
	if exe != "" && fr.names[base(exe)] {
		return true
	}
	for _, t := range toks {
		if fr.names[base(t)] {
			return true
		}
	}
	return false
}

// hit is a secret in token tok of a walk.
type hit struct {
	tok int
	span
}

// letters tells cheaply which tokens may be a flag of some rules, so that
// most arguments are passed over without trying each flag: by its letter
// for a short flag, by the last letter of its name for the others.
type letters struct {
	short [256]bool
	last  [2][256]bool // in each way sameName matches it; [0] for bare words, [1] with dashes
}

// add adds the letters of flags.
func (l *letters) add(flags []flag) {
	for _, f := range flags {
		if f.short {
			l.short[f.name[0]] = true
			continue
		}
		last := &l.last[min(f.dashes, 1)]
		switch c := f.name[len(f.name)-1]; {
		case 'a' <= c && c <= 'z':
			last[c], last[c-'a'+'A'] = true, true
		case c == '-':
			last['-'], last['_'] = true, true
		default:
			last[c] = true
		}
	}
}

// maybe reports whether t may be one of the flags.
func (l *letters) maybe(t *token) bool {
	if t.dashes == 1 && len(t.s) >= 2 && l.short[t.s[1]] {
		return true
	}
	if t.end == t.dashes {
		return false
	}
	return l.last[min(t.dashes, 1)][t.s[t.end-1]]
}

// walk looks for the flags of rules among toks, the arguments or words of
// a command, and for the patterns of argument rules in the arguments of
// their programs, and appends to dst where their secret values are, in the
// order of the tokens. exe names the program besides the tokens
// themselves; it may be empty. lets holds the letters of all the rules'
// flags, or of more: most tokens are passed over on it alone.
func walk(rules []flagRule, lets *letters, exe string, toks []string, dst []hit) []hit {
	cmd := 0           // the current command's first token
	var gates []gate   // per rule, made when a rule with Programs first needs it
	var argRules []int // the argument rules whose programs exe or toks name
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
				if !fr.mentioned(exe, toks) {
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

// shellWords splits s into words at white space, as a shell would but
// without expansions: a quoted part ('…' or "…") belongs to its word
// whatever it holds, and quotes around a whole word are dropped. offs are
// the words' offsets in s. The words and offsets are appended to words and
// offs, which may have room for them.
func shellWords(s string, words []string, offs []int) ([]string, []int) {
	for i := 0; i < len(s); {
		if space(s[i]) {
			i++
			continue
		}
		start := i
		var quote byte
		for ; i < len(s) && (quote != 0 || !space(s[i])); i++ {
			switch c := s[i]; {
			case c == quote:
				quote = 0
			case quote == 0 && (c == '\'' || c == '"'):
				quote = c
			}
		}
		w, off := s[start:i], start
		if len(w) >= 2 && (w[0] == '\'' || w[0] == '"') && w[len(w)-1] == w[0] {
			w, off = w[1:len(w)-1], start+1
		}
		words = append(words, w)
		offs = append(offs, off)
	}
	return words, offs
}

// space reports whether c is ASCII white space.
func space(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

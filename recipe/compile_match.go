package recipe

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/vigil-otel/vigil/internal/literal"
)

// match checks a Match spec and compiles it; field is its path.
func (c *compiler) match(field string, m *Match) matcher {
	out := matcher{
		exe:            c.file(field+".executable", &m.Executable),
		script:         c.str(field+".script", &m.Script),
		args:           c.args(field+".args", &m.Args),
		prevExecutable: c.str(field+".previous_executable", &m.PrevExecutable),
		cwd:            c.str(field+".cwd", &m.Cwd),
		user: userMatcher{
			uid: slices.Clone(m.User.UID), euid: slices.Clone(m.User.EUID),
			loginUID: slices.Clone(m.User.LoginUID), loggedIn: clonePtr(m.User.LoggedIn),
		},
	}
	if m.Parent != nil {
		out.parent = c.process(field+".parent", m.Parent)
	}
	if a := m.Ancestor; a != nil {
		out.ancestor = c.process(field+".ancestor", &a.ProcessMatch)
		out.ancestorDepth = a.Depth
		if a.Depth < 1 {
			c.fail(field+".ancestor.depth", "%d is not a whole number of at least 1", a.Depth)
		}
	}
	for _, f := range []struct {
		want *bool
		bit  flagSet
	}{
		{m.TTY, flagTTY}, {m.Container, flagContainer}, {m.SetID, flagSetID}, {m.Loader, flagLoader},
		{m.Memfd, flagMemfd}, {m.Deleted, flagDeleted}, {m.OverlayUpper, flagOverlayUpper},
		{m.UserWritable, flagUserWritable},
	} {
		if f.want == nil {
			continue
		}
		out.flagMask |= f.bit
		if *f.want {
			out.flagWant |= f.bit
		}
	}
	out.env = c.env(field+".env", m.Env)
	out.anyOf = make([]matcher, len(m.AnyOf))
	for i := range m.AnyOf {
		out.anyOf[i] = c.match(fmt.Sprintf("%s.any_of[%d]", field, i), &m.AnyOf[i])
	}
	if m.CEL != "" {
		prg, need, err := compileCEL(c.cel, m.CEL)
		if err != nil {
			c.fail(field+".cel", "%v", err)
		}
		out.cel, out.celArgs = prg, need
	}
	return out
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// maxEnvName is the longest variable name the sensor can read (its
// kernel compares "NAME=" in 64 bytes).
const maxEnvName = 63

func (c *compiler) env(field string, env []EnvMatch) []envMatcher {
	out := make([]envMatcher, len(env))
	seen := make(map[string]bool, len(env))
	for i, e := range env {
		f := field + "." + e.Name
		switch name := e.Name; {
		case name == "" || len(name) > maxEnvName || strings.ContainsAny(name, "=\x00"):
			c.fail(f, "%q is not an environment variable name: want 1 to %d bytes without '=' or NUL", name, maxEnvName)
		case seen[name]:
			c.fail(f, "repeated")
		}
		seen[e.Name] = true
		out[i] = envMatcher{name: e.Name, value: c.str(f, &e.Value)}
	}
	return out
}

func (c *compiler) file(field string, m *FileMatch) fileMatcher {
	return fileMatcher{path: c.str(field+".path", &m.Path), name: c.str(field+".name", &m.Name), dir: c.str(field+".dir", &m.Dir)}
}

func (c *compiler) process(field string, m *ProcessMatch) *processMatcher {
	return &processMatcher{exe: c.file(field+".executable", &m.Executable), args: c.args(field+".args", &m.Args)}
}

func (c *compiler) args(field string, m *ArgsMatch) argsMatcher {
	out := argsMatcher{any: c.str(field+".any", &m.Any), none: c.str(field+".none", &m.None), minCount: m.MinCount, maxCount: -1}
	out.all = make([]strMatcher, len(m.All))
	for i := range m.All {
		out.all[i] = c.str(fmt.Sprintf("%s.all[%d]", field, i), &m.All[i])
	}
	if m.MinCount < 0 {
		c.fail(field+".min_count", "%d is not a whole number of at least 0", m.MinCount)
	}
	if m.MaxCount != nil {
		out.maxCount = *m.MaxCount
		if *m.MaxCount < 0 {
			c.fail(field+".max_count", "%d is not a whole number of at least 0", *m.MaxCount)
		}
	}
	return out
}

// str checks a StringMatch spec and compiles it: the values of each form
// into one set, the regular expressions into one alternation.
func (c *compiler) str(field string, m *StringMatch) strMatcher {
	out := strMatcher{
		exact:    slices.Clone(m.Exact),
		prefixes: slices.Clone(m.Prefix),
		globs:    slices.Clone(m.Glob),
		others:   len(m.Suffix) + len(m.Contains) + len(m.Glob) + len(m.Regex),
	}
	out.empty = len(m.Exact)+len(m.Prefix)+out.others == 0
	if len(m.Exact) >= exactSetLen {
		out.exactSet = newStrSet(m.Exact)
	}
	// A set is keyed by its values' first or last bytes: none may be empty.
	complete := true
	for _, form := range []struct {
		name   string
		values []string
	}{{"prefix", m.Prefix}, {"suffix", m.Suffix}, {"contains", m.Contains}} {
		for i, v := range form.values {
			if v == "" {
				c.fail(fmt.Sprintf("%s.%s[%d]", field, form.name, i), "empty string")
				complete = false
			}
		}
	}
	if complete {
		out.prefix = literal.NewSet(m.Prefix, false)
		out.suffix = literal.NewSuffixSet(m.Suffix)
		out.contains = literal.NewSet(m.Contains, false)
	}
	for i, g := range m.Glob {
		if _, err := path.Match(g, ""); err != nil {
			c.fail(fmt.Sprintf("%s.glob[%d]", field, i), "%v", err)
		}
	}
	if len(m.Regex) > 0 {
		re, filter, err := compileRegex(m.Regex)
		var bad *regexError
		switch {
		case errors.As(err, &bad):
			c.fail(fmt.Sprintf("%s.regex[%d]", field, bad.index), "%v", bad.err)
		case err != nil:
			c.fail(field+".regex", "%v", err)
		}
		out.re, out.filter = re, filter
	}
	return out
}

// regexError is an expression of a list that does not compile.
type regexError struct {
	index int
	err   error
}

func (e *regexError) Error() string { return e.err.Error() }

// compileRegex compiles exprs as one alternation, and the prefilter that
// spares it most strings. When the alternation does not compile, the
// error names the expression at fault.
func compileRegex(exprs []string) (*regexp.Regexp, literal.Filter, error) {
	expr := "(?:" + strings.Join(exprs, ")|(?:") + ")"
	re, err := regexp.Compile(expr)
	if err != nil {
		for i, e := range exprs {
			if _, ierr := regexp.Compile(e); ierr != nil {
				return nil, literal.Filter{}, &regexError{index: i, err: ierr}
			}
		}
		return nil, literal.Filter{}, err
	}
	filter, err := literal.NewFilter(expr)
	return re, filter, err
}

// Bounds of a sequence: its steps, its captures, its tree.
const (
	maxSequenceSteps   = 8
	maxSequenceDepth   = 8
	maxBurstDistinct   = 32
	maxCapturesPerStep = 4
)

// sequence checks a Sequence spec and compiles it: steps in bounds, each
// value required after a step captured it.
func (c *compiler) sequence(field string, s *Sequence) *seqProgram {
	out := &seqProgram{within: s.Within, depth: s.Depth, distinct: s.Distinct, steps: make([]stepProgram, len(s.Steps))}
	if s.Within <= 0 {
		c.fail(field+".within", "%v is not a positive duration such as 1m or 30s", s.Within)
	}
	if s.Depth < 0 || s.Depth > maxSequenceDepth {
		c.fail(field+".depth", "%d is not a depth from 0 to %d", s.Depth, maxSequenceDepth)
	}
	switch {
	case s.Distinct == 1 || s.Distinct < 0 || s.Distinct > maxBurstDistinct:
		c.fail(field+".distinct", "%d is not a count of programs from 2 to %d", s.Distinct, maxBurstDistinct)
	case s.Distinct > 0 && len(s.Steps) != 1:
		c.fail(field+".steps", "a burst (distinct) has one step, the execs it counts; this has %d", len(s.Steps))
	case s.Distinct == 0 && (len(s.Steps) < 2 || len(s.Steps) > maxSequenceSteps):
		c.fail(field+".steps", "a sequence has 2 to %d steps; this has %d", maxSequenceSteps, len(s.Steps))
	}
	captured := map[string]bool{}
	for i := range s.Steps {
		st, f := &s.Steps[i], fmt.Sprintf("%s.steps[%d]", field, i)
		out.steps[i] = stepProgram{match: c.match(f+".match", &st.Match), require: slices.Clone(st.Require)}
		for _, r := range st.Require {
			switch {
			case !captured[r.Name]:
				c.fail(f+".require."+r.Name, "no earlier step captures %q", r.Name)
			case r.In != InArgument && r.In != InExecutable:
				c.fail(f+".require."+r.Name, "unknown place %q, want argument or executable", r.In)
			}
		}
		if len(st.Capture) > maxCapturesPerStep {
			c.fail(f+".capture", "at most %d captures in a step", maxCapturesPerStep)
		}
		for _, cp := range st.Capture {
			out.steps[i].capture = append(out.steps[i].capture, c.capture(f+".capture."+cp.Name, &cp))
			captured[cp.Name] = true
		}
	}
	return out
}

func (c *compiler) capture(field string, cp *Capture) capturer {
	out := capturer{name: cp.Name, after: slices.Clone(cp.After), path: cp.Path}
	if (len(cp.After) == 0) == (cp.Arg == "") {
		c.fail(field, "give after (options) or arg (a regular expression), one of them")
	}
	for i, o := range cp.After {
		if !strings.HasPrefix(o, "-") {
			c.fail(fmt.Sprintf("%s.after[%d]", field, i), "%q is not an option (it starts with -)", o)
		}
	}
	if cp.Arg != "" {
		re, err := regexp.Compile(cp.Arg)
		if err != nil {
			c.fail(field+".arg", "%v", err)
		}
		out.arg = re
	}
	return out
}

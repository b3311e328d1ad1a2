package recipe

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Sequence makes a recipe fire on a series of execs instead of one: steps
// in order, in one process tree, within a time window, a value captured
// by one step required by a later one. Downloading a file, making it
// executable and running it are three routine execs; the three on the
// same file, in one job, are an intrusion.
type Sequence struct {
	Steps []SequenceStep
	// Within bounds the time from the first step to the last.
	Within time.Duration
	// Depth bounds how far above each step's process the steps' common
	// ancestor may be: 0 is the process itself, 1 its parent. The steps
	// of one script share its shell at depth 1.
	Depth int
	// Distinct, when above zero, makes the sequence a burst: its one step
	// matched by execs of Distinct different programs.
	Distinct int
}

// SequenceStep is one exec of a sequence.
type SequenceStep struct {
	Match Match
	// Capture names values this step's exec gives to later steps.
	Capture []Capture
	// Require names values of earlier steps that this step's exec must
	// hold.
	Require []Require
}

// Capture takes a value from an exec's arguments.
type Capture struct {
	Name string
	// After lists options whose value is captured: the next argument, or
	// the rest of the same one (--output=FILE, -oFILE).
	After []string
	// Arg, when After is empty, captures the first argument it matches:
	// its first parenthesized group, or all of it.
	Arg *regexp.Regexp
	// Path resolves the value against the exec's working directory, as
	// the program would.
	Path bool
}

// RequireIn says where a later step must hold a captured value.
type RequireIn string

// Where a required value may be.
const (
	// InArgument: one of the exec's arguments (resolved as a path when
	// the value was captured as one).
	InArgument RequireIn = "argument"
	// InExecutable: the program the exec runs, or the script it runs.
	InExecutable RequireIn = "executable"
)

// Require asks for a captured value in a later exec.
type Require struct {
	Name string
	In   RequireIn
}

// Bounds of a sequence: its steps, its captures, the values it keeps.
const (
	maxSequenceSteps   = 8
	maxSequenceDepth   = 8
	maxBurstDistinct   = 32
	maxCaptureLen      = 4096
	defaultWithin      = 5 * time.Minute
	defaultTreeDepth   = 3
	maxCapturesPerStep = 4
)

// sequence parses a recipe's sequence:
//
//	sequence:
//	  within: 10m
//	  depth: 3
//	  steps:
//	    - match: {executable: {name: [curl, wget]}}
//	      capture: {file: {after: [-o, -O, --output], path: true}}
//	    - match: {executable: {name: chmod}}
//	      require: {file: argument}
//	    - require: {file: executable}
func (p *parser) sequence(n *yaml.Node, field string) *Sequence {
	s := &Sequence{Within: defaultWithin, Depth: defaultTreeDepth}
	var stepsNode *yaml.Node
	p.mapping(n, field, map[string]func(*yaml.Node, string){
		"within": func(n *yaml.Node, f string) { p.duration(n, f, &s.Within) },
		"depth": func(n *yaml.Node, f string) {
			p.integer(n, f, &s.Depth, 0)
			if s.Depth > maxSequenceDepth {
				p.fail(n, f, "at most %d", maxSequenceDepth)
			}
		},
		"distinct": func(n *yaml.Node, f string) {
			p.integer(n, f, &s.Distinct, 2)
			if s.Distinct > maxBurstDistinct {
				p.fail(n, f, "at most %d", maxBurstDistinct)
			}
		},
		"steps": func(n *yaml.Node, f string) {
			stepsNode = n
			s.Steps = parseList(p, n, f, "a list of steps", p.sequenceStep)
		},
	})
	if n.Kind != yaml.MappingNode {
		return s
	}
	switch {
	case stepsNode == nil:
		p.fail(n, field+".steps", "missing")
	case s.Distinct > 0 && len(s.Steps) != 1:
		p.fail(stepsNode, field+".steps", "a burst (distinct) has one step, the execs it counts; this has %d", len(s.Steps))
	case s.Distinct == 0 && (len(s.Steps) < 2 || len(s.Steps) > maxSequenceSteps):
		p.fail(stepsNode, field+".steps", "a sequence has 2 to %d steps; this has %d", maxSequenceSteps, len(s.Steps))
	}
	// A value is required only after a step captured it.
	captured := map[string]bool{}
	for i, st := range s.Steps {
		for _, r := range st.Require {
			if !captured[r.Name] {
				p.fail(stepsNode.Content[i], fmt.Sprintf("%s.steps[%d].require.%s", field, i, r.Name),
					"no earlier step captures %q", r.Name)
			}
		}
		for _, c := range st.Capture {
			captured[c.Name] = true
		}
	}
	return s
}

func (p *parser) sequenceStep(n *yaml.Node, field string, st *SequenceStep) {
	st.Match.Args = ArgsMatch{MinCount: -1, MaxCount: -1}
	p.mapping(n, field, map[string]func(*yaml.Node, string){
		"match": func(n *yaml.Node, f string) { p.match(n, f, &st.Match) },
		"capture": func(n *yaml.Node, f string) {
			if !p.kind(n, f, yaml.MappingNode, "a mapping of names to captures") {
				return
			}
			if len(n.Content)/2 > maxCapturesPerStep {
				p.fail(n, f, "at most %d captures in a step", maxCapturesPerStep)
			}
			for i := 0; i+1 < len(n.Content); i += 2 {
				c := Capture{Name: n.Content[i].Value}
				p.capture(n.Content[i+1], f+"."+c.Name, &c)
				st.Capture = append(st.Capture, c)
			}
		},
		"require": func(n *yaml.Node, f string) {
			if !p.kind(n, f, yaml.MappingNode, "a mapping of names to where they must be") {
				return
			}
			for i := 0; i+1 < len(n.Content); i += 2 {
				r := Require{Name: n.Content[i].Value}
				var in string
				p.str(n.Content[i+1], f+"."+r.Name, &in)
				switch RequireIn(in) {
				case InArgument, InExecutable:
					r.In = RequireIn(in)
				default:
					p.fail(n.Content[i+1], f+"."+r.Name, "unknown place %q, want argument or executable", in)
				}
				st.Require = append(st.Require, r)
			}
		},
	})
}

func (p *parser) capture(n *yaml.Node, field string, c *Capture) {
	p.mapping(n, field, map[string]func(*yaml.Node, string){
		"after": func(n *yaml.Node, f string) {
			p.strs(n, f, &c.After, func(s string) error {
				if !strings.HasPrefix(s, "-") {
					return fmt.Errorf("%q is not an option (it starts with -)", s)
				}
				return nil
			})
		},
		"arg": func(n *yaml.Node, f string) {
			var src string
			p.str(n, f, &src)
			re, err := regexp.Compile(src)
			if err != nil {
				p.fail(n, f, "%v", err)
				return
			}
			c.Arg = re
		},
		"path": func(n *yaml.Node, f string) { p.boolean(n, f, &c.Path) },
	})
	if n.Kind == yaml.MappingNode && (len(c.After) == 0) == (c.Arg == nil) && !p.reported(field) {
		p.fail(n, field, "give after (options) or arg (a regular expression), one of them")
	}
}

func (p *parser) duration(n *yaml.Node, field string, dst *time.Duration) {
	var s string
	p.str(n, field, &s)
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		p.fail(n, field, "%q is not a positive duration such as 1m or 30s", s)
		return
	}
	*dst = d
}

// take returns the value c captures from an exec's arguments (argv[0]
// aside), and whether there is one.
func (c *Capture) take(args []string, cwd string) (string, bool) {
	if len(args) > 0 {
		args = args[1:]
	}
	var v string
	var ok bool
	if len(c.After) > 0 {
		v, ok = optionValue(args, c.After)
	} else {
		for _, a := range args {
			if m := c.Arg.FindStringSubmatch(a); m != nil {
				v, ok = m[0], true
				if len(m) > 1 {
					v = m[1]
				}
				break
			}
		}
	}
	// A URL is no file: curl's -O takes none, and the next argument it
	// finds is the address.
	if !ok || v == "" || len(v) > maxCaptureLen || c.Path && strings.Contains(v, "://") {
		return "", false
	}
	if c.Path {
		v = resolve(v, cwd)
	}
	return v, true
}

// optionValue returns the value of the first of the options in args:
// "-o FILE", "--output FILE", "--output=FILE", "-oFILE" for a one-letter
// option, and only when none of those is there, one-letter flags bundled
// before it, "-sSo FILE" (a compiler's -flto is no bundle).
func optionValue(args, options []string) (string, bool) {
	for i, a := range args {
		for _, o := range options {
			short := len(o) == 2 && o[0] == '-' && o[1] != '-'
			switch {
			case a == o:
				if i+1 < len(args) {
					return args[i+1], true
				}
			case strings.HasPrefix(o, "--") && strings.HasPrefix(a, o+"="):
				return a[len(o)+1:], true
			case short && len(a) > 2 && strings.HasPrefix(a, o):
				return a[2:], true
			}
		}
	}
	for i, a := range args[:max(len(args)-1, 0)] {
		for _, o := range options {
			if len(o) == 2 && o[0] == '-' && o[1] != '-' && bundled(a, o[1]) {
				return args[i+1], true
			}
		}
	}
	return "", false
}

// bundled says whether a is one-letter flags bundled together, "-sSo",
// ending with the option letter o, whose value is then the next argument.
func bundled(a string, o byte) bool {
	if len(a) < 3 || a[0] != '-' || a[1] == '-' || a[len(a)-1] != o {
		return false
	}
	for i := 1; i < len(a); i++ {
		if c := a[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// resolve makes p absolute against cwd, as the kernel would open it.
// Without a working directory a relative path stays as it is.
func resolve(p, cwd string) string {
	if !path.IsAbs(p) && cwd != "" {
		p = path.Join(cwd, p)
	}
	return path.Clean(p)
}

// scriptOperand returns the file a shell or an interpreter was handed to
// run (`sh FILE`, `bash -x FILE`, `python3 FILE`), resolved against cwd, or
// "" when the exec is no such program or reads no file: its program text
// is on the command line (-c, -e, -m...) or comes from standard input. A
// script run without its #! line takes this form too: the shell that
// fails to exec it runs `/bin/sh FILE` instead.
func scriptOperand(exe string, args []string, cwd string) string {
	name := path.Base(exe)
	if name == "busybox" && len(args) > 0 {
		// An applet through its link (sh FILE) or named (busybox sh FILE).
		if a := path.Base(args[0]); a != "busybox" {
			name = a
		} else if len(args) > 1 {
			name, args = args[1], args[1:]
		}
	}
	var text, valued string // options whose program text or value follows
	switch {
	case slices.Contains([]string{"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash", "posh"}, name):
		text, valued = "cs", "oO"
	case strings.HasPrefix(name, "python") || strings.HasPrefix(name, "pypy"):
		text, valued = "cm", "WX"
	case strings.HasPrefix(name, "perl") || strings.HasPrefix(name, "ruby"):
		text, valued = "eE", ""
	case slices.Contains([]string{"node", "nodejs", "bun", "deno"}, name):
		text, valued = "ep", "r"
	case strings.HasPrefix(name, "php"):
		text, valued = "rR", "dc"
	default:
		return ""
	}
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			if i+1 < len(args) {
				return resolve(args[i+1], cwd)
			}
			return ""
		case a == "-" || a == "":
			return ""
		case strings.HasPrefix(a, "--"):
			if slices.Contains([]string{"--eval", "--print", "--command"}, a) || strings.HasPrefix(a, "--eval=") {
				return ""
			}
		case a[0] == '-' || a[0] == '+' && text == "cs":
			// Flags bundled or alone (-x, -ex, +o): one that takes program
			// text ends the search, one that takes a value as the next
			// argument skips it. Other shapes (-I/dir) are passed over.
			if !letters(a[1:]) {
				continue
			}
			if strings.ContainsAny(a[1:], text) {
				return ""
			}
			if strings.ContainsAny(a[len(a)-1:], valued) {
				i++
			}
		default:
			return resolve(a, cwd)
		}
	}
	return ""
}

// letters says whether s is ASCII letters only, and not empty.
func letters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return s != ""
}

// checkSequence checks what a sequence recipe asks of the rest of the
// recipe: no match of its own, no supersedes, tests of several execs; and
// that a plain recipe's tests are single execs.
func (p *parser) checkSequence(n *yaml.Node, r *Recipe, hasMatch bool) {
	if r.Sequence == nil {
		for i, fx := range r.Tests {
			if len(fx.Execs) > 0 {
				p.fail(&yaml.Node{Line: fx.Line}, fmt.Sprintf("tests[%d].execs", i), "only a sequence recipe's test lists execs; give this one an exec")
			}
		}
		return
	}
	if hasMatch {
		p.fail(n, "match", "a sequence recipe matches in its steps: move this match into them")
	}
	if len(r.Supersedes) > 0 {
		p.fail(n, "supersedes", "a sequence recipe neither supersedes another nor is superseded")
	}
	for i, fx := range r.Tests {
		if len(fx.Execs) == 0 {
			p.fail(&yaml.Node{Line: fx.Line}, fmt.Sprintf("tests[%d].execs", i), "missing: a sequence recipe's test lists its execs, in order")
		}
	}
}

package recipe

import (
	"fmt"
	"maps"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

func (p *parser) match(n *yaml.Node, field string, m *Match) {
	u := &m.User
	p.mapping(n, field, map[string]func(*yaml.Node, string){
		"executable": func(n *yaml.Node, f string) { p.fileMatch(n, f, &m.Executable) },
		"script":     func(n *yaml.Node, f string) { p.stringMatch(n, f, &m.Script) },
		"args":       func(n *yaml.Node, f string) { p.argsMatch(n, f, &m.Args) },
		"parent": func(n *yaml.Node, f string) {
			m.Parent = &ProcessMatch{}
			p.processMatch(n, f, m.Parent, nil)
		},
		"ancestor": func(n *yaml.Node, f string) {
			m.Ancestor = &AncestorMatch{Depth: DefaultAncestorDepth}
			p.processMatch(n, f, &m.Ancestor.ProcessMatch, map[string]func(*yaml.Node, string){
				"depth": func(n *yaml.Node, f string) { p.integer(n, f, &m.Ancestor.Depth) },
			})
		},
		"previous_executable": func(n *yaml.Node, f string) { p.stringMatch(n, f, &m.PrevExecutable) },
		"user": func(n *yaml.Node, f string) {
			p.mapping(n, f, map[string]func(*yaml.Node, string){
				"uid":       func(n *yaml.Node, f string) { p.ids(n, f, &u.UID) },
				"euid":      func(n *yaml.Node, f string) { p.ids(n, f, &u.EUID) },
				"loginuid":  func(n *yaml.Node, f string) { p.ids(n, f, &u.LoginUID) },
				"logged_in": p.flag(&u.LoggedIn),
			})
		},
		"any_of":        func(n *yaml.Node, f string) { m.AnyOf = parseList(p, n, f, "a list of matches", p.match) },
		"cwd":           func(n *yaml.Node, f string) { p.stringMatch(n, f, &m.Cwd) },
		"tty":           p.flag(&m.TTY),
		"container":     p.flag(&m.Container),
		"setid":         p.flag(&m.SetID),
		"loader":        p.flag(&m.Loader),
		"memfd":         p.flag(&m.Memfd),
		"deleted":       p.flag(&m.Deleted),
		"overlay_upper": p.flag(&m.OverlayUpper),
		"user_writable": p.flag(&m.UserWritable),
		"env":           func(n *yaml.Node, f string) { m.Env = p.envMatch(n, f) },
		"cel":           func(n *yaml.Node, f string) { p.str(n, f, &m.CEL) },
	})
}

// stringMatch reads a string test: a string or a list of strings (exact),
// or a mapping of forms: exact, prefix, suffix, contains, glob, regex.
func (p *parser) stringMatch(n *yaml.Node, field string, m *StringMatch) {
	if n.Kind != yaml.MappingNode {
		p.strs(n, field, &m.Exact)
		return
	}
	p.mapping(n, field, map[string]func(*yaml.Node, string){
		"exact":    func(n *yaml.Node, f string) { p.strs(n, f, &m.Exact) },
		"prefix":   func(n *yaml.Node, f string) { p.strs(n, f, &m.Prefix) },
		"suffix":   func(n *yaml.Node, f string) { p.strs(n, f, &m.Suffix) },
		"contains": func(n *yaml.Node, f string) { p.strs(n, f, &m.Contains) },
		"glob":     func(n *yaml.Node, f string) { p.strs(n, f, &m.Glob) },
		"regex":    func(n *yaml.Node, f string) { p.strs(n, f, &m.Regex) },
	})
}

func (p *parser) fileMatch(n *yaml.Node, field string, m *FileMatch) {
	p.mapping(n, field, map[string]func(*yaml.Node, string){
		"path": func(n *yaml.Node, f string) { p.stringMatch(n, f, &m.Path) },
		"name": func(n *yaml.Node, f string) { p.stringMatch(n, f, &m.Name) },
		"dir":  func(n *yaml.Node, f string) { p.stringMatch(n, f, &m.Dir) },
	})
}

func (p *parser) argsMatch(n *yaml.Node, field string, m *ArgsMatch) {
	p.mapping(n, field, map[string]func(*yaml.Node, string){
		"any":       func(n *yaml.Node, f string) { p.stringMatch(n, f, &m.Any) },
		"none":      func(n *yaml.Node, f string) { p.stringMatch(n, f, &m.None) },
		"all":       func(n *yaml.Node, f string) { m.All = parseList(p, n, f, "a list of argument tests", p.stringMatch) },
		"min_count": func(n *yaml.Node, f string) { p.integer(n, f, &m.MinCount) },
		"max_count": func(n *yaml.Node, f string) {
			m.MaxCount = new(int)
			p.integer(n, f, m.MaxCount)
		},
	})
}

func (p *parser) processMatch(n *yaml.Node, field string, m *ProcessMatch, extra map[string]func(*yaml.Node, string)) {
	handlers := map[string]func(*yaml.Node, string){
		"executable": func(n *yaml.Node, f string) { p.fileMatch(n, f, &m.Executable) },
		"args":       func(n *yaml.Node, f string) { p.argsMatch(n, f, &m.Args) },
	}
	maps.Copy(handlers, extra)
	p.mapping(n, field, handlers)
}

// envMatch reads a mapping of environment variable names to string tests,
// in the order written: an empty test ({}) only asks that the variable be
// set.
func (p *parser) envMatch(n *yaml.Node, field string) []EnvMatch {
	if !p.kind(n, field, yaml.MappingNode, "a mapping of variable names to string tests") {
		return nil
	}
	var out []EnvMatch
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		em := EnvMatch{Name: key.Value}
		f := field + "." + em.Name
		p.at[f] = key
		p.stringMatch(val, f, &em.Value)
		out = append(out, em)
	}
	return out
}

// sequence reads a recipe's sequence, by default within 5 minutes and 3
// levels of the tree:
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
	s := &Sequence{Within: 5 * time.Minute, Depth: 3}
	p.mapping(n, field, map[string]func(*yaml.Node, string){
		"within":   func(n *yaml.Node, f string) { p.duration(n, f, &s.Within) },
		"depth":    func(n *yaml.Node, f string) { p.integer(n, f, &s.Depth) },
		"distinct": func(n *yaml.Node, f string) { p.integer(n, f, &s.Distinct) },
		"steps":    func(n *yaml.Node, f string) { s.Steps = parseList(p, n, f, "a list of steps", p.sequenceStep) },
	})
	return s
}

func (p *parser) sequenceStep(n *yaml.Node, field string, st *SequenceStep) {
	p.mapping(n, field, map[string]func(*yaml.Node, string){
		"match": func(n *yaml.Node, f string) { p.match(n, f, &st.Match) },
		"capture": func(n *yaml.Node, f string) {
			if !p.kind(n, f, yaml.MappingNode, "a mapping of names to captures") {
				return
			}
			for i := 0; i+1 < len(n.Content); i += 2 {
				c := Capture{Name: n.Content[i].Value}
				p.at[f+"."+c.Name] = n.Content[i+1]
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
				p.at[f+"."+r.Name] = n.Content[i+1]
				p.str(n.Content[i+1], f+"."+r.Name, &in)
				r.In = RequireIn(in)
				st.Require = append(st.Require, r)
			}
		},
	})
}

func (p *parser) capture(n *yaml.Node, field string, c *Capture) {
	p.mapping(n, field, map[string]func(*yaml.Node, string){
		"after": func(n *yaml.Node, f string) { p.strs(n, f, &c.After) },
		"arg":   func(n *yaml.Node, f string) { p.str(n, f, &c.Arg) },
		"path":  func(n *yaml.Node, f string) { p.boolean(n, f, &c.Path) },
	})
}

// ids reads user ids: a number or a list of numbers.
func (p *parser) ids(n *yaml.Node, field string, dst *[]uint32) {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	for i, item := range items {
		f := field
		if n.Kind == yaml.SequenceNode {
			f = fmt.Sprintf("%s[%d]", field, i)
		}
		if !p.kind(item, f, yaml.ScalarNode, "a user id") {
			continue
		}
		v, err := strconv.ParseUint(item.Value, 10, 32)
		if err != nil {
			p.fail(item, f, "%v", err)
			continue
		}
		*dst = append(*dst, uint32(v))
	}
}

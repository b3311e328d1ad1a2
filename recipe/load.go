package recipe

import (
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-otel/vigil/internal/located"
	"github.com/vigil-otel/vigil/recipe/attack"
)

// Error is a problem with one recipe or one recipe file, located precisely
// enough for its author to fix it.
type Error struct {
	File   string
	Line   int
	Column int
	// Recipe is the name of the recipe at fault, empty when unknown.
	Recipe string
	// Field is the path of the faulty field, such as "match.executable.basename[1]".
	Field  string
	Reason string
}

func (e *Error) Error() string {
	what := ""
	if e.Recipe != "" {
		what = fmt.Sprintf("recipe %q", e.Recipe)
	}
	return located.Format(e.File, e.Line, e.Column, what, e.Field, e.Reason)
}

// validName says whether s is a recipe name: lower-case letters, digits
// and underscores, starting with a letter.
func validName(s string) bool {
	for i, c := range s {
		if !('a' <= c && c <= 'z' || i > 0 && ('0' <= c && c <= '9' || c == '_')) {
			return false
		}
	}
	return s != ""
}

// validTactic says whether s is an ATT&CK tactic id such as TA0042.
func validTactic(s string) bool {
	digits, ok := strings.CutPrefix(s, "TA")
	return ok && allDigits(digits, 4)
}

// validTechnique says whether s is an ATT&CK technique id such as T1059 or
// T1059.004.
func validTechnique(s string) bool {
	id, ok := strings.CutPrefix(s, "T")
	if !ok {
		return false
	}
	technique, sub, hasSub := strings.Cut(id, ".")
	return allDigits(technique, 4) && (!hasSub || allDigits(sub, 3))
}

func allDigits(s string, n int) bool {
	return len(s) == n && strings.Trim(s, "0123456789") == ""
}

// yamlErrorLine finds the line number in one of the YAML library's error
// messages ("yaml: line 5: ...").
func yamlErrorLine(msg string) int {
	_, rest, ok := strings.Cut(msg, "line ")
	if !ok {
		return 0
	}
	end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(rest)
	}
	n, _ := strconv.Atoi(rest[:end])
	return n
}

// Parse reads the recipes of one YAML file. file names it in errors. Each
// broken recipe is left out and reported; the others are returned.
func Parse(file string, data []byte, ruleset string) ([]*Recipe, []error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		e := &Error{File: file, Reason: strings.TrimPrefix(err.Error(), "yaml: ")}
		if line, reason, ok := strings.Cut(e.Reason, ": "); ok && strings.HasPrefix(line, "line ") {
			e.Line, e.Column, e.Reason = yamlErrorLine(line), 1, reason
		}
		return nil, []error{e}
	}
	scope, err := newCELScope()
	if err != nil {
		return nil, []error{err}
	}
	p := &parser{file: file, cel: scope}
	if len(doc.Content) == 0 {
		return nil, []error{&Error{File: file, Reason: "empty file: want a mapping with a recipes list"}}
	}
	var items []*yaml.Node
	p.mapping(doc.Content[0], "", map[string]func(*yaml.Node, string){
		"recipes": func(n *yaml.Node, field string) {
			if p.kind(n, field, yaml.SequenceNode, "a list of recipes") {
				items = n.Content
			}
		},
	})
	var recipes []*Recipe
	for _, item := range items {
		p.recipe = ""
		errs := len(p.errs)
		r := p.parseRecipe(item)
		if len(p.errs) == errs {
			r.Ruleset = ruleset
			r.Source = fmt.Sprintf("%s:%d", file, item.Line)
			recipes = append(recipes, r)
		}
	}
	return recipes, p.errs
}

// parser walks a recipe file's YAML tree, collecting located errors.
type parser struct {
	file   string
	recipe string
	errs   []error
	cel    *celScope
}

func (p *parser) fail(n *yaml.Node, field, format string, args ...any) {
	p.errs = append(p.errs, &Error{
		File: p.file, Line: n.Line, Column: n.Column,
		Recipe: p.recipe, Field: field, Reason: fmt.Sprintf(format, args...),
	})
}

func (p *parser) kind(n *yaml.Node, field string, want yaml.Kind, what string) bool {
	if n.Kind != want {
		p.fail(n, field, "want %s", what)
		return false
	}
	return true
}

// mapping hands each key of n to its handler, reporting unknown and
// repeated keys. field is n's own path.
func (p *parser) mapping(n *yaml.Node, field string, handlers map[string]func(n *yaml.Node, field string)) {
	if !p.kind(n, field, yaml.MappingNode, "a mapping") {
		return
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		path := key.Value
		if field != "" {
			path = field + "." + key.Value
		}
		handle, ok := handlers[key.Value]
		switch {
		case !ok:
			known := make([]string, 0, len(handlers))
			for k := range handlers {
				known = append(known, k)
			}
			slices.Sort(known)
			p.fail(key, path, "unknown field, want one of %s", strings.Join(known, ", "))
		case seen[key.Value]:
			p.fail(key, path, "repeated")
		default:
			seen[key.Value] = true
			handle(val, path)
		}
	}
}

// parseList reads a list whose items each parses, naming each item's
// field by its index.
func parseList[T any](p *parser, n *yaml.Node, field, what string, each func(*yaml.Node, string, *T)) []T {
	if !p.kind(n, field, yaml.SequenceNode, what) {
		return nil
	}
	out := make([]T, len(n.Content))
	for i, item := range n.Content {
		each(item, fmt.Sprintf("%s[%d]", field, i), &out[i])
	}
	return out
}

func (p *parser) str(n *yaml.Node, field string, dst *string) {
	if p.kind(n, field, yaml.ScalarNode, "a string") {
		*dst = n.Value
	}
}

// strs accepts a string or a list of strings, each checked by valid.
func (p *parser) strs(n *yaml.Node, field string, dst *[]string, valid func(string) error) {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	for i, item := range items {
		path := field
		if n.Kind == yaml.SequenceNode {
			path = fmt.Sprintf("%s[%d]", field, i)
		}
		if !p.kind(item, path, yaml.ScalarNode, "a string") {
			continue
		}
		if err := valid(item.Value); err != nil {
			p.fail(item, path, "%v", err)
			continue
		}
		*dst = append(*dst, item.Value)
	}
}

// idName parses an ATT&CK {id, name} pair, checking the id's form.
func (p *parser) idName(n *yaml.Node, field string, dst *ATTACK, validID func(string) bool, example string) bool {
	p.mapping(n, field, map[string]func(*yaml.Node, string){
		"id": func(n *yaml.Node, f string) {
			p.str(n, f, &dst.ID)
			if dst.ID != "" && !validID(dst.ID) {
				p.fail(n, f, "%q is not a MITRE ATT&CK id like %s", dst.ID, example)
				dst.ID = ""
			}
		},
		"name": func(n *yaml.Node, f string) { p.str(n, f, &dst.Name) },
	})
	if n.Kind == yaml.MappingNode && (dst.ID == "" || dst.Name == "") {
		if !p.reported(field) {
			p.fail(n, field, "needs both id and name")
		}
		return false
	}
	return n.Kind == yaml.MappingNode
}

// tactic parses a recipe's tactic, which must be one of ATT&CK's under the
// name ATT&CK gives it, so that every recipe files its detections where a
// security backend looks for them.
func (p *parser) tactic(n *yaml.Node, field string, dst *ATTACK) {
	if !p.idName(n, field, dst, validTactic, "TA0042") {
		return
	}
	t, ok := attack.LookupTactic(dst.ID)
	switch {
	case !ok:
		p.fail(n, field+".id", "%s is not an ATT&CK %s Enterprise tactic", dst.ID, attack.Version)
	case t.Name != dst.Name:
		p.fail(n, field+".name", "ATT&CK %s calls %s %q, not %q", attack.Version, t.ID, t.Name, dst.Name)
	}
}

// technique parses one technique, a technique or a sub-technique of
// ATT&CK; for a sub-technique, ATT&CK's table gives the technique it
// belongs to.
func (p *parser) technique(n *yaml.Node, field string, dst *Technique) {
	var named ATTACK
	if !p.idName(n, field, &named, validTechnique, "T1059 or T1059.004") {
		return
	}
	t, ok := attack.LookupTechnique(named.ID)
	if !ok {
		p.fail(n, field+".id", "%s is not an ATT&CK %s Enterprise technique (revoked and deprecated ones are not: %s names the one that replaced it)",
			named.ID, attack.Version, attack.URL(named.ID))
		return
	}
	parentID, isSub := t.Parent()
	if !isSub {
		dst.ATTACK = named
		return
	}
	parent, _ := attack.LookupTechnique(parentID)
	dst.ATTACK = ATTACK{ID: parent.ID, Name: parent.Name}
	dst.Sub = named
}

func (p *parser) parseRecipe(n *yaml.Node) *Recipe {
	r := &Recipe{Version: 1, Enabled: true}
	// Name the recipe in every error, even those about fields before its name.
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "name" {
				p.recipe = n.Content[i+1].Value
			}
		}
	}
	var hasMatch bool
	var techniqueNode, techniquesNode *yaml.Node
	p.mapping(n, "", map[string]func(*yaml.Node, string){
		"name": func(n *yaml.Node, f string) {
			p.str(n, f, &r.Name)
			if r.Name != "" && !validName(r.Name) {
				p.fail(n, f, "%q must be lower case letters, digits and underscores, starting with a letter", r.Name)
			}
		},
		"version":     func(n *yaml.Node, f string) { p.integer(n, f, &r.Version, 1) },
		"description": func(n *yaml.Node, f string) { p.str(n, f, &r.Description) },
		"tactic":      func(n *yaml.Node, f string) { p.tactic(n, f, &r.Tactic) },
		"technique": func(n *yaml.Node, f string) {
			var t Technique
			p.technique(n, f, &t)
			r.Techniques = append(r.Techniques, t)
			techniqueNode = n
		},
		"techniques": func(n *yaml.Node, f string) {
			r.Techniques = append(r.Techniques, parseList(p, n, f, "a list of ATT&CK techniques", p.technique)...)
			techniquesNode = n
		},
		"importance": func(n *yaml.Node, f string) {
			var s string
			p.str(n, f, &s)
			if s == "" {
				return
			}
			imp, err := ParseImportance(s)
			if err != nil {
				p.fail(n, f, "%v", err)
			}
			r.Importance = imp
		},
		"enabled":       func(n *yaml.Node, f string) { p.boolean(n, f, &r.Enabled) },
		"reference":     func(n *yaml.Node, f string) { p.str(n, f, &r.Reference) },
		"documentation": func(n *yaml.Node, f string) { p.documentation(n, f, &r.Documentation) },
		"match": func(n *yaml.Node, f string) {
			hasMatch = true
			p.match(n, f, &r.Match)
		},
		"sequence": func(n *yaml.Node, f string) { r.Sequence = p.sequence(n, f) },
		"unless":   func(n *yaml.Node, f string) { r.Unless = parseList(p, n, f, "a list of matches", p.match) },
		"supersedes": func(n *yaml.Node, f string) {
			r.Supersedes = parseList(p, n, f, "a list of recipe names", func(n *yaml.Node, f string, dst *string) {
				p.str(n, f, dst)
				if !validName(*dst) {
					p.fail(n, f, "%q is not a recipe name", *dst)
				}
			})
		},
		"limit": func(n *yaml.Node, f string) { r.Limit = p.limit(n, f) },
		"tests": func(n *yaml.Node, f string) { r.Tests = p.fixtures(n, f) },
	})
	if n.Kind != yaml.MappingNode {
		return r
	}
	p.checkSequence(n, r, hasMatch)
	if techniqueNode != nil && techniquesNode != nil {
		p.fail(techniquesNode, "techniques", "a recipe names its techniques under technique (one) or techniques (several), not both")
	}
	if techniquesNode != nil && len(r.Techniques) == 0 && !p.reported("techniques") {
		p.fail(techniquesNode, "techniques", "empty: name at least one technique")
	}
	// In the order of a recipe's fields, so that the errors come in a
	// stable order.
	for _, f := range []struct {
		field   string
		missing bool
	}{
		{"name", r.Name == ""},
		{"description", r.Description == ""},
		{"tactic", r.Tactic == ATTACK{}},
		{"technique", techniqueNode == nil && techniquesNode == nil},
		{"importance", r.Importance == 0},
		{"match", !hasMatch && r.Sequence == nil},
	} {
		if f.missing && !p.reported(f.field) {
			p.fail(n, f.field, "missing")
		}
	}
	return r
}

// reported says whether an error about field of the current recipe is
// already recorded, so that a bad value is not reported again as missing.
func (p *parser) reported(field string) bool {
	for _, err := range p.errs {
		var e *Error
		if errors.As(err, &e) && e.Recipe == p.recipe && (e.Field == field || strings.HasPrefix(e.Field, field+".")) {
			return true
		}
	}
	return false
}

func (p *parser) integer(n *yaml.Node, field string, dst *int, least int) {
	if !p.kind(n, field, yaml.ScalarNode, "a whole number") {
		return
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || v < least {
		p.fail(n, field, "%q is not a whole number of at least %d", n.Value, least)
		return
	}
	*dst = v
}

func (p *parser) boolean(n *yaml.Node, field string, dst *bool) {
	if !p.kind(n, field, yaml.ScalarNode, "true or false") {
		return
	}
	switch n.Value {
	case "true":
		*dst = true
	case "false":
		*dst = false
	default:
		p.fail(n, field, "%q is not true or false", n.Value)
	}
}

func (p *parser) flag(dst **bool) func(*yaml.Node, string) {
	return func(n *yaml.Node, f string) {
		var b bool
		p.boolean(n, f, &b)
		*dst = &b
	}
}

func (p *parser) documentation(n *yaml.Node, field string, d *Documentation) {
	p.mapping(n, field, map[string]func(*yaml.Node, string){
		"summary":  func(n *yaml.Node, f string) { p.str(n, f, &d.Summary) },
		"analysis": func(n *yaml.Node, f string) { p.str(n, f, &d.Analysis) },
		"pipeline": func(n *yaml.Node, f string) { p.str(n, f, &d.Pipeline) },
		"actions": func(n *yaml.Node, f string) {
			p.strs(n, f, &d.Actions, func(string) error { return nil })
		},
	})
}

// stringMatch reads a string test: a string or a list of strings (exact),
// or a mapping of forms: exact, prefix, suffix, contains, glob, regex.
func (p *parser) stringMatch(n *yaml.Node, field string, m *StringMatch) {
	anyString := func(string) error { return nil }
	var regexes []string // the sources of m.Regex
	if n.Kind != yaml.MappingNode {
		p.strs(n, field, &m.Exact, anyString)
	} else {
		p.mapping(n, field, map[string]func(*yaml.Node, string){
			"exact":    func(n *yaml.Node, f string) { p.strs(n, f, &m.Exact, anyString) },
			"prefix":   func(n *yaml.Node, f string) { p.strs(n, f, &m.Prefix, nonEmpty) },
			"suffix":   func(n *yaml.Node, f string) { p.strs(n, f, &m.Suffix, nonEmpty) },
			"contains": func(n *yaml.Node, f string) { p.strs(n, f, &m.Contains, nonEmpty) },
			"glob": func(n *yaml.Node, f string) {
				p.strs(n, f, &m.Glob, func(g string) error {
					_, err := path.Match(g, "")
					return err
				})
			},
			"regex": func(n *yaml.Node, f string) {
				var exprs []string
				p.strs(n, f, &exprs, func(e string) error {
					_, err := regexp.Compile(e)
					return err
				})
				if len(exprs) == 0 {
					return
				}
				// One alternation is one pass over the string, not one per
				// expression.
				expr := "(?:" + strings.Join(exprs, ")|(?:") + ")"
				re, err := regexp.Compile(expr)
				if err != nil {
					p.fail(n, f, "%v", err)
					return
				}
				m.Regex = append(m.Regex, re)
				regexes = append(regexes, expr)
			},
		})
	}
	if err := m.compile(regexes); err != nil {
		p.fail(n, field, "%v", err)
	}
}

func nonEmpty(s string) error {
	if s == "" {
		return errors.New("empty string")
	}
	return nil
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
		"min_count": func(n *yaml.Node, f string) { p.integer(n, f, &m.MinCount, 0) },
		"max_count": func(n *yaml.Node, f string) { p.integer(n, f, &m.MaxCount, 0) },
	})
}

func (p *parser) processMatch(n *yaml.Node, field string, m *ProcessMatch, extra map[string]func(*yaml.Node, string)) {
	m.Args = ArgsMatch{MinCount: -1, MaxCount: -1}
	handlers := map[string]func(*yaml.Node, string){
		"executable": func(n *yaml.Node, f string) { p.fileMatch(n, f, &m.Executable) },
		"args":       func(n *yaml.Node, f string) { p.argsMatch(n, f, &m.Args) },
	}
	maps.Copy(handlers, extra)
	p.mapping(n, field, handlers)
}

func (p *parser) match(n *yaml.Node, field string, m *Match) {
	m.Args = ArgsMatch{MinCount: -1, MaxCount: -1}
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
				"depth": func(n *yaml.Node, f string) { p.integer(n, f, &m.Ancestor.Depth, 1) },
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
		"cel": func(n *yaml.Node, f string) {
			p.str(n, f, &m.CEL)
			if m.CEL == "" {
				return
			}
			prg, need, err := compileCEL(p.cel, m.CEL)
			if err != nil {
				p.fail(n, f, "%v", err)
				return
			}
			m.program, m.celArgs = prg, need
		},
	})
	m.compileFlags()
}

// maxEnvName is the longest variable name the sensor can read (its
// kernel compares "NAME=" in 64 bytes).
const maxEnvName = 63

// envMatch reads a mapping of environment variable names to string tests,
// in the order written: an empty test ({}) only asks that the variable be
// set.
func (p *parser) envMatch(n *yaml.Node, field string) []EnvMatch {
	if !p.kind(n, field, yaml.MappingNode, "a mapping of variable names to string tests") {
		return nil
	}
	var out []EnvMatch
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		name, path := key.Value, field+"."+key.Value
		switch {
		case name == "" || len(name) > maxEnvName || strings.ContainsAny(name, "=\x00"):
			p.fail(key, path, "%q is not an environment variable name: want 1 to %d bytes without '=' or NUL", name, maxEnvName)
			continue
		case seen[name]:
			p.fail(key, path, "repeated")
			continue
		}
		seen[name] = true
		em := EnvMatch{Name: name}
		p.stringMatch(val, path, &em.Value)
		out = append(out, em)
	}
	return out
}

func (p *parser) ids(n *yaml.Node, field string, dst *[]uint32) {
	var raw []string
	p.strs(n, field, &raw, func(s string) error {
		_, err := strconv.ParseUint(s, 10, 32)
		return err
	})
	for _, s := range raw {
		v, _ := strconv.ParseUint(s, 10, 32)
		*dst = append(*dst, uint32(v))
	}
}

func (p *parser) limit(n *yaml.Node, field string) *Limit {
	l := &Limit{Count: 1, Per: PerExecutable, Window: time.Minute}
	p.mapping(n, field, map[string]func(*yaml.Node, string){
		"count": func(n *yaml.Node, f string) { p.integer(n, f, &l.Count, 1) },
		"per": func(n *yaml.Node, f string) {
			var s string
			p.str(n, f, &s)
			switch k := LimitKey(s); k {
			case PerRecipe, PerExecutable, PerParent, PerAncestry, PerProcess:
				l.Per = k
			default:
				p.fail(n, f, "unknown value %q, want recipe, executable, parent, ancestry or process", s)
			}
		},
		"window": func(n *yaml.Node, f string) {
			var s string
			p.str(n, f, &s)
			d, err := time.ParseDuration(s)
			if err != nil || d <= 0 {
				p.fail(n, f, "%q is not a positive duration such as 1m or 30s", s)
				return
			}
			l.Window = d
		},
	})
	return l
}

package recipe

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
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
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	if e.Recipe != "" {
		fmt.Fprintf(&b, ": recipe %q", e.Recipe)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": field %s", e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
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
	p := &parser{file: file}
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

func (p *parser) attack(n *yaml.Node, field string, dst *ATTACK, validID func(string) bool, example string) {
	p.mapping(n, field, map[string]func(*yaml.Node, string){
		"id": func(n *yaml.Node, f string) {
			p.str(n, f, &dst.ID)
			if dst.ID != "" && !validID(dst.ID) {
				p.fail(n, f, "%q is not a MITRE ATT&CK id like %s", dst.ID, example)
			}
		},
		"name": func(n *yaml.Node, f string) { p.str(n, f, &dst.Name) },
	})
	if n.Kind == yaml.MappingNode && (dst.ID == "" || dst.Name == "") {
		p.fail(n, field, "needs both id and name")
	}
}

func (p *parser) parseRecipe(n *yaml.Node) *Recipe {
	r := &Recipe{}
	// Name the recipe in every error, even those about fields before its name.
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "name" {
				p.recipe = n.Content[i+1].Value
			}
		}
	}
	p.mapping(n, "", map[string]func(*yaml.Node, string){
		"name": func(n *yaml.Node, f string) {
			p.str(n, f, &r.Name)
			if r.Name != "" && !validName(r.Name) {
				p.fail(n, f, "%q must be lower case letters, digits and underscores, starting with a letter", r.Name)
			}
		},
		"description": func(n *yaml.Node, f string) { p.str(n, f, &r.Description) },
		"tactic":      func(n *yaml.Node, f string) { p.attack(n, f, &r.Tactic, validTactic, "TA0042") },
		"technique":   func(n *yaml.Node, f string) { p.attack(n, f, &r.Technique, validTechnique, "T1059 or T1059.004") },
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
		"match": func(n *yaml.Node, f string) { p.match(n, f, &r.Match) },
	})
	if n.Kind != yaml.MappingNode {
		return r
	}
	for field, missing := range map[string]bool{
		"name":        r.Name == "",
		"description": r.Description == "",
		"tactic":      r.Tactic == ATTACK{},
		"technique":   r.Technique == ATTACK{},
		"importance":  r.Importance == 0,
		"match":       r.Match.Executable.empty(),
	} {
		if missing && !p.reported(field) {
			p.fail(n, field, "missing")
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

func (p *parser) match(n *yaml.Node, field string, m *Match) {
	p.mapping(n, field, map[string]func(*yaml.Node, string){
		"executable": func(n *yaml.Node, f string) {
			p.mapping(n, f, map[string]func(*yaml.Node, string){
				"basename": func(n *yaml.Node, f string) {
					p.strs(n, f, &m.Executable.Basename, func(s string) error {
						if s == "" || strings.Contains(s, "/") {
							return fmt.Errorf("%q is not a file name", s)
						}
						return nil
					})
				},
				"path": func(n *yaml.Node, f string) {
					p.strs(n, f, &m.Executable.Path, func(s string) error {
						if !filepath.IsAbs(s) || filepath.Clean(s) != s {
							return fmt.Errorf("%q is not a clean absolute path", s)
						}
						return nil
					})
				},
			})
		},
	})
}

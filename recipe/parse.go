package recipe

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-otel/vigil/internal/located"
)

// Parse reads the recipes of one YAML file into specs. file names it in
// errors. Each recipe is checked as the engine will compile it, every
// problem located at its field's line and column; each broken recipe is
// left out and reported, the others are returned.
func Parse(file string, data []byte, ruleset string) ([]*Recipe, []error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, col, reason := located.YAMLSyntax(data, err)
		return nil, []error{&Error{File: file, Line: line, Column: col, Reason: reason}}
	}
	if len(doc.Content) == 0 {
		return nil, []error{&Error{File: file, Reason: "empty file: want a mapping with a recipes list"}}
	}
	scope, err := newCELScope()
	if err != nil {
		return nil, []error{err}
	}
	p := &parser{file: file, at: map[string]*yaml.Node{}}
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
		start := len(p.errs)
		r := p.parseRecipe(item)
		if item.Kind == yaml.MappingNode {
			_, errs := compile(r, scope)
			p.locate(errs, start)
		}
		// In the order of the file, the parser's and the compiler's.
		slices.SortStableFunc(p.errs[start:], func(a, b *Error) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
		})
		if len(p.errs) == start {
			r.Ruleset = ruleset
			r.Source = fmt.Sprintf("%s:%d", file, item.Line)
			recipes = append(recipes, r)
		}
	}
	errs := make([]error, len(p.errs))
	for i, e := range p.errs {
		errs[i] = e
	}
	return recipes, errs
}

// parser walks a recipe file's YAML tree into specs, collecting located
// errors about what the file says: its shape, and values that do not
// read (a number, a duration). Whether the values make sense is the
// compiler's to say; the parser locates what it says.
type parser struct {
	file   string
	recipe string
	errs   []*Error
	// at holds the node of each field of the current recipe read so far,
	// by its path ("" is the recipe's own).
	at map[string]*yaml.Node
}

func (p *parser) fail(n *yaml.Node, field, format string, args ...any) {
	p.errs = append(p.errs, &Error{
		File: p.file, Line: n.Line, Column: n.Column,
		Recipe: p.recipe, Field: field, Reason: fmt.Sprintf(format, args...),
	})
}

// locate adds the compiler's errors about the current recipe, placing
// each at the node of its field, or of the nearest field that holds it.
// An error about a field the parser already reported on is left out: it
// would only repeat the problem.
func (p *parser) locate(errs []*Error, start int) {
	reported := slices.Clone(p.errs[start:])
	for _, e := range errs {
		if slices.ContainsFunc(reported, func(r *Error) bool { return related(r.Field, e.Field) }) {
			continue
		}
		n, field := p.nodeOf(e.Field)
		e.File, e.Line, e.Column, e.Field = p.file, n.Line, n.Column, field
		p.errs = append(p.errs, e)
	}
}

// nodeOf returns the node of field, or of the nearest field that holds
// it, and the field's name as the file spells it: an item of a list that
// the file gives as a single value is that value, and a recipe's one
// technique is under technique.
func (p *parser) nodeOf(field string) (*yaml.Node, string) {
	for f := field; ; {
		if n, ok := p.at[f]; ok {
			if list, ok := cutIndex(field); ok && list == f && n.Kind == yaml.ScalarNode {
				return n, f
			}
			return n, field
		}
		if rest, ok := strings.CutPrefix(f, "technique"); ok && (rest == "" || rest[0] == '.') {
			if n, ok := p.at["techniques[0]"+rest]; ok {
				return n, field
			}
			if n, ok := p.at["techniques"]; ok && rest == "" {
				return n, field
			}
		}
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			return p.at[""], field
		}
		f = f[:i]
	}
}

// cutIndex returns the list of which field is an item, "a.b" for
// "a.b[2]".
func cutIndex(field string) (string, bool) {
	i := strings.LastIndexByte(field, '[')
	if i < 0 || !strings.HasSuffix(field, "]") {
		return "", false
	}
	digits := field[i+1 : len(field)-1]
	return field[:i], digits != "" && strings.Trim(digits, "0123456789") == ""
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
			known := slices.Sorted(maps.Keys(handlers))
			p.fail(key, path, "unknown field, want one of %s", strings.Join(known, ", "))
		case seen[key.Value]:
			p.fail(key, path, "repeated")
		default:
			seen[key.Value] = true
			p.at[path] = val
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
		f := fmt.Sprintf("%s[%d]", field, i)
		p.at[f] = item
		each(item, f, &out[i])
	}
	return out
}

func (p *parser) str(n *yaml.Node, field string, dst *string) {
	if p.kind(n, field, yaml.ScalarNode, "a string") {
		*dst = n.Value
	}
}

// strs reads a string or a list of strings.
func (p *parser) strs(n *yaml.Node, field string, dst *[]string) {
	if n.Kind != yaml.SequenceNode {
		var s string
		p.str(n, field, &s)
		if n.Kind == yaml.ScalarNode {
			*dst = append(*dst, s)
		}
		return
	}
	for i, item := range n.Content {
		f := fmt.Sprintf("%s[%d]", field, i)
		p.at[f] = item
		if p.kind(item, f, yaml.ScalarNode, "a string") {
			*dst = append(*dst, item.Value)
		}
	}
}

func (p *parser) integer(n *yaml.Node, field string, dst *int) {
	if !p.kind(n, field, yaml.ScalarNode, "a whole number") {
		return
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		p.fail(n, field, "%q is not a whole number", n.Value)
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

// flag reads an optional boolean, set only when the file gives it.
func (p *parser) flag(dst **bool) func(*yaml.Node, string) {
	return func(n *yaml.Node, f string) {
		var b bool
		p.boolean(n, f, &b)
		*dst = &b
	}
}

func (p *parser) duration(n *yaml.Node, field string, dst *time.Duration) {
	var s string
	p.str(n, field, &s)
	d, err := time.ParseDuration(s)
	if err != nil {
		p.fail(n, field, "%q is not a positive duration such as 1m or 30s", s)
		return
	}
	*dst = d
}

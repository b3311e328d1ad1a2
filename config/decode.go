package config

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-otel/vigil/internal/located"
	"github.com/vigil-otel/vigil/redact"
)

// Error is one problem in a configuration file, located precisely enough
// for its author to fix it: the same file:line:col: field form as the
// errors of recipe files.
type Error struct {
	File   string
	Line   int
	Column int
	// Field is the path of the faulty field, such as "otlp.headers" or
	// "redaction.rules[1]"; empty for the file as a whole.
	Field  string
	Reason string
}

func (e *Error) Error() string {
	return located.Format(e.File, e.Line, e.Column, "", e.Field, e.Reason)
}

// setter is a value that parses itself from a string, as flag values do
// (spans.Mode): the file then accepts exactly what the flag does.
type setter interface{ Set(string) error }

// decoder fills a Go value from a YAML tree strictly: a key that names no
// field and a value of the wrong kind are errors, each located at its
// node. Struct fields are named by their yaml tags; it keeps the node of
// every field it fills, so that checks made after decoding can be located
// too.
type decoder struct {
	file  string
	nodes map[string]*yaml.Node
	errs  []error
	// redactor, made at the first error, redacts what errors quote.
	redactor *redact.Redactor
}

func (d *decoder) failAt(n *yaml.Node, field, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Column: n.Column, Field: field, Reason: d.reason(format, args...)})
}

// reason words a problem, the secrets of what it quotes redacted: a value
// the file got wrong may hold one (an endpoint's token), and errors are
// printed where others read them, such as a CI job's log.
func (d *decoder) reason(format string, args ...any) string {
	s := fmt.Sprintf(format, args...)
	if d.redactor == nil {
		r, err := redact.New(redact.Default())
		if err != nil {
			return s
		}
		d.redactor = r
	}
	return d.redactor.String(s)
}

// check reports err, what a check shared with the flags found wrong with
// field's value, at that value; a field the file does not give is not
// judged.
func (d *decoder) check(field string, err error) {
	if n := d.nodes[field]; err != nil && n != nil && n.ShortTag() != "!!null" {
		d.failAt(n, field, "%v, got %q", err, n.Value)
	}
}

// fail reports a problem with a field that was decoded, at its value.
func (d *decoder) fail(field, format string, args ...any) {
	if n := d.nodes[field]; n != nil {
		d.failAt(n, field, format, args...)
		return
	}
	d.errs = append(d.errs, &Error{File: d.file, Field: field, Reason: d.reason(format, args...)})
}

// decode fills v, which is addressable, from n. field is n's path.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, field string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	d.nodes[field] = n
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // "key:" with no value says nothing
	}
	t := v.Type()
	switch {
	case t == reflect.TypeFor[time.Duration]():
		if !d.scalar(n, field, "a duration such as 10s") {
			return
		}
		dur, err := time.ParseDuration(n.Value)
		if err != nil || dur < 0 {
			d.failAt(n, field, "want a duration such as 10s or 500ms, got %q", n.Value)
			return
		}
		v.SetInt(int64(dur))
		return
	case reflect.PointerTo(t).Implements(reflect.TypeFor[setter]()):
		if d.scalar(n, field, "a string") {
			if err := v.Addr().Interface().(setter).Set(n.Value); err != nil {
				d.failAt(n, field, "%v, got %q", err, n.Value)
			}
		}
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		elem := reflect.New(t.Elem())
		d.decode(n, elem.Elem(), field)
		v.Set(elem)
	case reflect.Struct:
		d.structure(n, v, field)
	case reflect.Map:
		d.mapping(n, v, field)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.failAt(n, field, "want a list")
			return
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", field, i))
		}
		v.Set(s)
	case reflect.String:
		if d.scalar(n, field, "a string") {
			v.SetString(n.Value)
		}
	case reflect.Bool:
		if !d.scalar(n, field, "true or false") {
			return
		}
		// Only YAML's own true and false: a quoted "true" is a string.
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err != nil || n.ShortTag() != "!!bool" {
			d.failAt(n, field, "want true or false, got %q", n.Value)
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Int32:
		if !d.scalar(n, field, "a whole number") {
			return
		}
		i, err := strconv.ParseInt(n.Value, 0, t.Bits())
		if err != nil || n.ShortTag() != "!!int" {
			d.failAt(n, field, "want a whole number, got %q", n.Value)
			return
		}
		v.SetInt(i)
	default:
		// A programming error, not the file's: every field of File is one
		// of the kinds above.
		panic(fmt.Sprintf("config: field %s has unsupported type %s", field, t))
	}
}

func (d *decoder) scalar(n *yaml.Node, field, what string) bool {
	if n.Kind != yaml.ScalarNode {
		d.failAt(n, field, "want %s", what)
		return false
	}
	return true
}

// structure fills the fields of struct v from mapping n, by their yaml
// tags, reporting unknown and repeated keys.
func (d *decoder) structure(n *yaml.Node, v reflect.Value, field string) {
	if n.Kind != yaml.MappingNode {
		d.failAt(n, field, "want a mapping")
		return
	}
	fields := make(map[string][]int)
	yamlFields(v.Type(), nil, fields)
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		path := join(field, key.Value)
		idx, ok := fields[key.Value]
		switch {
		case !ok:
			d.failAt(key, path, "unknown field, want one of %s", strings.Join(slices.Sorted(maps.Keys(fields)), ", "))
		case seen[key.Value]:
			d.failAt(key, path, "repeated")
		default:
			seen[key.Value] = true
			d.decode(val, v.FieldByIndex(idx), path)
		}
	}
}

// yamlFields files the fields of struct type t by their yaml names, with
// their index from the outer struct (prefix); the fields of an embedded
// struct tagged ",inline" count as t's own.
func yamlFields(t reflect.Type, prefix []int, fields map[string][]int) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		idx := append(slices.Clone(prefix), i)
		switch {
		case opts == "inline" && f.Type.Kind() == reflect.Struct:
			yamlFields(f.Type, idx, fields)
		case name != "" && name != "-":
			fields[name] = idx
		}
	}
}

// mapping fills map v, whose keys are strings, from mapping n.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, field string) {
	if n.Kind != yaml.MappingNode {
		d.failAt(n, field, "want a mapping")
		return
	}
	m := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		path := join(field, key.Value)
		if key.Kind != yaml.ScalarNode {
			d.failAt(key, field, "want string keys")
			continue
		}
		if m.MapIndex(reflect.ValueOf(key.Value)).IsValid() {
			d.failAt(key, path, "repeated")
			continue
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, elem, path)
		m.SetMapIndex(reflect.ValueOf(key.Value), elem)
	}
	v.Set(m)
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

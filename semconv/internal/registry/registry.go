// Package registry reads vigil's semantic-convention registry: YAML files
// in OpenTelemetry Weaver's definition format (a manifest.yaml and files of
// "groups"), resolves the attributes it references from the upstream
// OpenTelemetry registry it depends on, and renders the result as Markdown.
//
// Weaver is the reference tool for such registries; this package reads the
// subset of its format vigil uses, strictly, so that a file Weaver would
// read differently fails here too.
package registry

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// manifestFile is the name Weaver looks for first in a registry directory.
const manifestFile = "manifest.yaml"

// Group types vigil's registry uses, as Weaver names them.
const (
	AttributeGroup = "attribute_group"
	EventGroup     = "event"
	SpanGroup      = "span"
	MetricGroup    = "metric"
)

// Manifest names the registry and the upstream registry it depends on.
type Manifest struct {
	SchemaURL    string       `yaml:"schema_url"`
	Description  string       `yaml:"description"`
	Stability    string       `yaml:"stability"`
	Dependencies []Dependency `yaml:"dependencies"`
}

// Dependency is a registry whose attributes this one references.
type Dependency struct {
	SchemaURL    string `yaml:"schema_url"`
	RegistryPath string `yaml:"registry_path"`
}

// Group is one entry of a file's "groups": a set of attributes, or a signal
// (event, span, metric) with the attributes it carries.
type Group struct {
	ID          string      `yaml:"id"`
	Type        string      `yaml:"type"`
	Name        string      `yaml:"name"`
	DisplayName string      `yaml:"display_name"`
	Brief       string      `yaml:"brief"`
	Note        string      `yaml:"note"`
	Stability   string      `yaml:"stability"`
	SpanKind    string      `yaml:"span_kind"`
	MetricName  string      `yaml:"metric_name"`
	Instrument  string      `yaml:"instrument"`
	Unit        string      `yaml:"unit"`
	Attributes  []Attribute `yaml:"attributes"`

	// File is the registry file the group is read from.
	File string `yaml:"-"`
}

// Attribute is either a definition (ID set) or a reference to an attribute
// defined elsewhere in the registry or upstream (Ref set).
type Attribute struct {
	ID               string    `yaml:"id"`
	Ref              string    `yaml:"ref"`
	Type             string    `yaml:"type"`
	Stability        string    `yaml:"stability"`
	Brief            string    `yaml:"brief"`
	Note             string    `yaml:"note"`
	Examples         yaml.Node `yaml:"examples"`
	RequirementLevel yaml.Node `yaml:"requirement_level"`
}

// Key is the attribute's key, whether defined or referenced.
func (a Attribute) Key() string {
	if a.Ref != "" {
		return a.Ref
	}
	return a.ID
}

// Registry is a registry directory as read, before resolution.
type Registry struct {
	Manifest Manifest
	Groups   []Group
}

// Load reads the registry in dir: its manifest and every other .yaml file,
// in name order.
func Load(dir string) (*Registry, error) {
	var r Registry
	if err := decodeFile(filepath.Join(dir, manifestFile), &r.Manifest); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read registry %s: %w", dir, err)
	}
	for _, e := range entries {
		if e.IsDir() || filepath.Ext(e.Name()) != ".yaml" || e.Name() == manifestFile {
			continue
		}
		var f struct {
			Groups []Group `yaml:"groups"`
		}
		if err := decodeFile(filepath.Join(dir, e.Name()), &f); err != nil {
			return nil, err
		}
		for _, g := range f.Groups {
			g.File = e.Name()
			r.Groups = append(r.Groups, g)
		}
	}
	return &r, nil
}

// decodeFile decodes one YAML document from path into v, rejecting fields v
// does not have, as Weaver does.
func decodeFile(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read registry file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}

// validStability reports whether s is a stability level a definition may
// declare.
func validStability(s string) bool {
	switch s {
	case "stable", "release_candidate", "development":
		return true
	}
	return false
}

// validType reports whether t is a primitive or array type a definition may
// declare.
func validType(t string) bool {
	switch t {
	case "string", "int", "double", "boolean", "string[]", "int[]", "double[]", "boolean[]":
		return true
	}
	return false
}

// oneLine folds a YAML block of prose into one line for a table cell.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// This file is one job: resolving the registry's references into the
// attributes its tables show; kept whole because its checks and the
// formatting of examples serve Resolve alone.

package registry

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Resolved is the registry with every reference replaced by what it refers
// to, as Weaver's resolver would give it.
type Resolved struct {
	Manifest Manifest
	Groups   []ResolvedGroup
}

// ResolvedGroup is a group whose attributes are resolved.
type ResolvedGroup struct {
	ID          string
	Type        string
	Name        string
	DisplayName string
	Brief       string
	Note        string
	Stability   string
	SpanKind    string
	MetricName  string
	Instrument  string
	Unit        string
	Attributes  []ResolvedAttribute
}

// ResolvedAttribute is an attribute with its definition, wherever that is.
type ResolvedAttribute struct {
	Key              string
	Type             string
	Stability        string
	Brief            string
	Note             string
	Examples         string
	RequirementLevel string
	// Upstream is set when the upstream registry defines the attribute.
	Upstream bool
	// UpstreamFunc names, for an upstream template attribute, the function
	// of the upstream Go package that makes one (see Upstream.Func).
	UpstreamFunc string
}

// DisplayKey is the key as a table shows it: a template's with the
// ".<key>" each attribute adds.
func (a ResolvedAttribute) DisplayKey() string {
	if IsTemplate(a.Type) {
		return a.Key + ".<key>"
	}
	return a.Key
}

// Resolve checks r and resolves its references against its own definitions
// and the upstream registry's attributes. Every key is listed by exactly one
// attribute group; signals (events, spans, metrics) only reference listed
// keys.
func Resolve(r *Registry, upstream map[string]Upstream) (*Resolved, error) {
	var errs []error
	if r.Manifest.SchemaURL == "" {
		errs = append(errs, errors.New("manifest: schema_url is required"))
	}
	if len(r.Manifest.Dependencies) > 1 {
		errs = append(errs, errors.New("manifest: Weaver supports one direct dependency"))
	}

	defs := map[string]Attribute{}
	listedBy := map[string]string{}
	// stated holds the stabilities that attribute groups state for the
	// upstream templates they list; signals take them from there.
	stated := map[string]string{}
	groupIDs := map[string]bool{}
	for _, g := range r.Groups {
		if groupIDs[g.ID] {
			errs = append(errs, fmt.Errorf("%s: group %q is defined twice", g.File, g.ID))
		}
		groupIDs[g.ID] = true
		errs = append(errs, checkGroup(g)...)
		for _, a := range g.Attributes {
			if a.ID != "" {
				if _, ok := defs[a.ID]; ok {
					errs = append(errs, fmt.Errorf("%s: attribute %q is defined twice", g.File, a.ID))
				}
				defs[a.ID] = a
			}
			if g.Type != AttributeGroup {
				continue
			}
			if other, ok := listedBy[a.Key()]; ok {
				errs = append(errs, fmt.Errorf("%s: attribute %q is already listed by group %q", g.File, a.Key(), other))
			}
			listedBy[a.Key()] = g.ID
			if a.Ref != "" && a.Stability != "" {
				stated[a.Ref] = a.Stability
			}
		}
	}

	res := &Resolved{Manifest: r.Manifest}
	for _, g := range r.Groups {
		rg := ResolvedGroup{
			ID: g.ID, Type: g.Type, Name: g.Name, DisplayName: g.DisplayName,
			Brief: oneLine(g.Brief), Note: oneLine(g.Note), Stability: g.Stability, SpanKind: g.SpanKind,
			MetricName: g.MetricName, Instrument: g.Instrument, Unit: g.Unit,
		}
		for _, a := range g.Attributes {
			if g.Type != AttributeGroup && a.Stability != "" {
				errs = append(errs, fmt.Errorf("%s: group %q: ref %q: only the attribute group that lists an attribute may state its stability", g.File, g.ID, a.Ref))
				continue
			}
			if g.Type != AttributeGroup && a.Ref != "" {
				a.Stability = stated[a.Ref]
			}
			ra, err := resolveAttribute(a, defs, upstream)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: group %q: %w", g.File, g.ID, err))
				continue
			}
			if _, ok := listedBy[ra.Key]; !ok {
				errs = append(errs, fmt.Errorf("%s: group %q: attribute %q is listed by no attribute group", g.File, g.ID, ra.Key))
			}
			rg.Attributes = append(rg.Attributes, ra)
		}
		res.Groups = append(res.Groups, rg)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("registry is invalid: %w", err)
	}
	return res, nil
}

// checkGroup checks what a group must declare for its type.
func checkGroup(g Group) []error {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: group %q: %s", g.File, g.ID, fmt.Sprintf(format, args...)))
	}
	if g.ID == "" || g.Brief == "" {
		fail("id and brief are required")
	}
	switch g.Type {
	case AttributeGroup:
	case EventGroup:
		if g.Name == "" {
			fail("an event needs a name")
		}
	case SpanGroup:
		if g.SpanKind == "" {
			fail("a span needs a span_kind")
		}
	case MetricGroup:
		switch g.Instrument {
		case "counter", "updowncounter", "gauge", "histogram":
		default:
			fail("instrument %q is not counter, updowncounter, gauge or histogram", g.Instrument)
		}
		if g.MetricName == "" || g.Unit == "" {
			fail("a metric needs a metric_name and a unit")
		}
	default:
		fail("type %q is not one vigil's registry uses (%s, %s, %s, %s)", g.Type, AttributeGroup, EventGroup, SpanGroup, MetricGroup)
	}
	if g.Type != AttributeGroup && !validStability(g.Stability) {
		fail("stability %q is not stable, release_candidate or development", g.Stability)
	}
	for _, a := range g.Attributes {
		if a.ID != "" && g.Type != AttributeGroup {
			fail("attribute %q: signals reference attributes; attribute groups define them", a.ID)
		}
	}
	return errs
}

// resolveAttribute resolves a against the registry's definitions and the
// upstream registry. A reference may refine the brief, add a note and give
// vigil's own examples; it keeps the definition's type and stability. The
// one exception is an upstream template attribute, whose stability the Go
// package read offline does not document: the reference must state it, as
// the upstream YAML has it (Weaver lets a reference state a stability).
func resolveAttribute(a Attribute, defs map[string]Attribute, upstream map[string]Upstream) (ResolvedAttribute, error) {
	up, isUpstream := upstream[a.Ref]
	unstated := isUpstream && up.Stability == ""
	switch {
	case a.ID != "" && a.Ref != "":
		return ResolvedAttribute{}, fmt.Errorf("attribute %q: id and ref are exclusive", a.ID)
	case a.ID != "":
		return resolveDefinition(a, upstream)
	case a.Ref == "":
		return ResolvedAttribute{}, errors.New("an attribute needs an id or a ref")
	case a.Type != "" || a.Stability != "" && !unstated:
		return ResolvedAttribute{}, fmt.Errorf("ref %q: a reference takes the type and stability of its definition", a.Ref)
	case unstated && !validStability(a.Stability):
		return ResolvedAttribute{}, fmt.Errorf("ref %q: the upstream Go package does not say this template's stability: state the upstream YAML's (stable, release_candidate or development)", a.Ref)
	}
	var ra ResolvedAttribute
	if def, ok := defs[a.Ref]; ok {
		var err error
		if ra, err = resolveDefinition(def, upstream); err != nil {
			return ResolvedAttribute{}, err
		}
		// The definition's note is in its own group's table; a reference
		// says what it adds where it stands.
		ra.Note = ""
	} else if isUpstream {
		ra = ResolvedAttribute{Key: a.Ref, Type: up.Type, Stability: up.Stability, Brief: up.Brief, Examples: up.Examples,
			Upstream: true, UpstreamFunc: up.Func}
		if unstated {
			ra.Stability = a.Stability
		}
	} else {
		return ResolvedAttribute{}, fmt.Errorf("ref %q: no such attribute in the registry or upstream", a.Ref)
	}
	if a.Brief != "" {
		ra.Brief = oneLine(a.Brief)
	}
	if a.Note != "" {
		ra.Note = oneLine(a.Note)
	}
	if a.Examples.Kind != 0 {
		ra.Examples = formatExamples(&a.Examples)
	}
	ra.RequirementLevel = requirementLevel(&a.RequirementLevel)
	return ra, nil
}

// resolveDefinition checks a definition of vigil's own.
func resolveDefinition(a Attribute, upstream map[string]Upstream) (ResolvedAttribute, error) {
	var errs []error
	if _, ok := upstream[a.ID]; ok {
		errs = append(errs, errors.New("the upstream registry defines it: reference it instead"))
	}
	if !validType(a.Type) {
		errs = append(errs, fmt.Errorf("type %q is not a primitive or array type", a.Type))
	}
	if !validStability(a.Stability) {
		errs = append(errs, fmt.Errorf("stability %q is not stable, release_candidate or development", a.Stability))
	}
	if a.Brief == "" {
		errs = append(errs, errors.New("brief is required"))
	}
	if strings.HasPrefix(a.Type, "string") && a.Examples.Kind == 0 {
		errs = append(errs, errors.New("examples are required for string attributes"))
	}
	if err := errors.Join(errs...); err != nil {
		return ResolvedAttribute{}, fmt.Errorf("attribute %q: %w", a.ID, err)
	}
	return ResolvedAttribute{
		Key: a.ID, Type: a.Type, Stability: a.Stability, Brief: oneLine(a.Brief), Note: oneLine(a.Note),
		Examples: formatExamples(&a.Examples), RequirementLevel: requirementLevel(&a.RequirementLevel),
	}, nil
}

// formatExamples writes examples as the Go package's doc comments do:
// strings quoted, numbers bare, separated by commas; an array example is
// bracketed.
func formatExamples(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!str" {
			return strconv.Quote(n.Value)
		}
		return n.Value
	case yaml.SequenceNode:
		parts := make([]string, len(n.Content))
		for i, c := range n.Content {
			parts[i] = formatExamples(c)
			if c.Kind == yaml.SequenceNode {
				parts[i] = "[" + parts[i] + "]"
			}
		}
		return strings.Join(parts, ", ")
	}
	return ""
}

// requirementLevel writes a requirement level: a word, or a word and its
// condition. Weaver's default is "recommended".
func requirementLevel(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.ScalarNode:
		return n.Value
	case n.Kind == yaml.MappingNode && len(n.Content) == 2:
		return n.Content[0].Value + ": " + oneLine(n.Content[1].Value)
	}
	return "recommended"
}

// LoadResolved loads the registry in dir and resolves it against the
// attributes of its upstream dependency, found from the module holding dir.
func LoadResolved(dir string) (*Resolved, error) {
	r, err := Load(dir)
	if err != nil {
		return nil, err
	}
	upstream := map[string]Upstream{}
	for _, dep := range r.Manifest.Dependencies {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, fmt.Errorf("locate the registry: %w", err)
		}
		if upstream, err = LoadUpstream(dep, abs); err != nil {
			return nil, err
		}
	}
	return Resolve(r, upstream)
}

package recipe

import (
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-otel/vigil/recipe/attack"
)

// parseRecipe reads one recipe, with the defaults of what the file leaves
// out: version 1, enabled.
func (p *parser) parseRecipe(n *yaml.Node) *Recipe {
	r := &Recipe{Version: 1, Enabled: true}
	p.recipe, p.at = "", map[string]*yaml.Node{"": n}
	// Name the recipe in every error, even those about fields before its name.
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "name" {
				p.recipe = n.Content[i+1].Value
			}
		}
	}
	var techniqueNode, techniquesNode *yaml.Node
	p.mapping(n, "", map[string]func(*yaml.Node, string){
		"name":        func(n *yaml.Node, f string) { p.str(n, f, &r.Name) },
		"version":     func(n *yaml.Node, f string) { p.integer(n, f, &r.Version) },
		"description": func(n *yaml.Node, f string) { p.str(n, f, &r.Description) },
		"tactic":      func(n *yaml.Node, f string) { p.attack(n, f, &r.Tactic) },
		"technique": func(n *yaml.Node, f string) {
			var t Technique
			p.technique(n, f, &t)
			r.Techniques = append(r.Techniques, t)
			techniqueNode = n
		},
		"techniques": func(n *yaml.Node, f string) {
			techniquesNode = n
			r.Techniques = append(r.Techniques, parseList(p, n, f, "a list of ATT&CK techniques", p.technique)...)
		},
		"importance": func(n *yaml.Node, f string) {
			var s string
			p.str(n, f, &s)
			if s == "" {
				return
			}
			imp, err := ParseImportance(s)
			if err != nil {
				p.fail(n, f, "%v, got %q", err, s)
			}
			r.Importance = imp
		},
		"enabled":       func(n *yaml.Node, f string) { p.boolean(n, f, &r.Enabled) },
		"reference":     func(n *yaml.Node, f string) { p.str(n, f, &r.Reference) },
		"documentation": func(n *yaml.Node, f string) { p.documentation(n, f, &r.Documentation) },
		"match":         func(n *yaml.Node, f string) { p.match(n, f, &r.Match) },
		"sequence":      func(n *yaml.Node, f string) { r.Sequence = p.sequence(n, f) },
		"unless":        func(n *yaml.Node, f string) { r.Unless = parseList(p, n, f, "a list of matches", p.match) },
		"supersedes": func(n *yaml.Node, f string) {
			r.Supersedes = parseList(p, n, f, "a list of recipe names", p.str)
		},
		"limit": func(n *yaml.Node, f string) { r.Limit = p.limit(n, f) },
		"tests": func(n *yaml.Node, f string) { r.Tests = p.fixtures(n, f) },
	})
	if techniqueNode != nil && techniquesNode != nil {
		p.fail(techniquesNode, "techniques", "a recipe names its techniques under technique (one) or techniques (several), not both")
	}
	return r
}

// attack reads an ATT&CK {id, name} pair.
func (p *parser) attack(n *yaml.Node, field string, dst *ATTACK) {
	p.mapping(n, field, map[string]func(*yaml.Node, string){
		"id":   func(n *yaml.Node, f string) { p.str(n, f, &dst.ID) },
		"name": func(n *yaml.Node, f string) { p.str(n, f, &dst.Name) },
	})
}

// technique reads one technique, which a file names by its id and name,
// a technique or a sub-technique of ATT&CK; for a sub-technique, ATT&CK's
// table gives the technique it belongs to.
func (p *parser) technique(n *yaml.Node, field string, dst *Technique) {
	var named ATTACK
	p.attack(n, field, &named)
	dst.ATTACK = named
	t, ok := attack.LookupTechnique(named.ID)
	if parentID, isSub := t.Parent(); ok && isSub {
		parent, _ := attack.LookupTechnique(parentID)
		dst.ATTACK, dst.Sub = ATTACK{ID: parent.ID, Name: parent.Name}, named
	}
}

func (p *parser) documentation(n *yaml.Node, field string, d *Documentation) {
	p.mapping(n, field, map[string]func(*yaml.Node, string){
		"summary":  func(n *yaml.Node, f string) { p.str(n, f, &d.Summary) },
		"analysis": func(n *yaml.Node, f string) { p.str(n, f, &d.Analysis) },
		"pipeline": func(n *yaml.Node, f string) { p.str(n, f, &d.Pipeline) },
		"actions":  func(n *yaml.Node, f string) { p.strs(n, f, &d.Actions) },
	})
}

// limit reads a limit, by default one detection per executable per
// minute.
func (p *parser) limit(n *yaml.Node, field string) *Limit {
	l := &Limit{Count: 1, Per: PerExecutable, Window: time.Minute}
	p.mapping(n, field, map[string]func(*yaml.Node, string){
		"count": func(n *yaml.Node, f string) { p.integer(n, f, &l.Count) },
		"per": func(n *yaml.Node, f string) {
			var s string
			p.str(n, f, &s)
			l.Per = LimitKey(s)
		},
		"window": func(n *yaml.Node, f string) { p.duration(n, f, &l.Window) },
	})
	return l
}

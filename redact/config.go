package redact

import (
	"fmt"
	"slices"
)

// Config is the redaction part of vigil's configuration. User rules add to
// the defaults; a default rule is turned off by naming it in Disable:
//
//	redaction:
//	  disable: [jwt]
//	  rules:
//	    - name: acme-token
//	      pattern: '\bacme_[0-9a-f]{32}\b'
//	    - name: deploy-key
//	      flags: ["--deploy-key"]
//	      programs: [deployctl]
type Config struct {
	// Disable names default rules to leave out.
	Disable []string `yaml:"disable,omitempty"`
	// Rules are used besides the defaults; their names must differ from
	// those of the defaults.
	Rules []Rule `yaml:"rules,omitempty"`
}

// Redactor compiles the default rules, less those disabled, and the
// configured ones. Naming a rule in Disable that is not a default is an
// error, so that a misspelt name does not go unnoticed.
func (c Config) Redactor() (*Redactor, error) {
	rules := Default()
	for _, name := range c.Disable {
		i := slices.IndexFunc(rules, func(r Rule) bool { return r.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("redaction: disable %q: no default rule has that name", name)
		}
		rules = slices.Delete(rules, i, i+1)
	}
	return New(append(rules, c.Rules...))
}

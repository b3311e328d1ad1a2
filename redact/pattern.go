package redact

import (
	"fmt"
	"regexp"

	"github.com/vigil-otel/vigil/internal/literal"
)

// Most strings hold no secret, and running a few dozen regular expressions
// over each would cost microseconds. So each rule has keywords, one of
// which is in every string the rule can match (as gitleaks does), and one
// pass of a literal.Index over the string finds which rules' keywords are
// there; only those rules then run. The keywords of a Pattern are read from
// the regular expression itself, so user rules get them too.

// pattern is a compiled Pattern.
type pattern struct {
	re *regexp.Regexp
	// secret holds the indexes of the groups named "secret", one per
	// alternative that captures the secret; {0}, the whole match, when
	// none has that name.
	secret []int
	// filter is what every match holds, tested before running re; its
	// most selective need gives the rule's keywords.
	filter literal.Filter
}

// compile compiles a Pattern and finds what its matches must hold.
func compile(expr string) (*pattern, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	filter, err := literal.NewFilter(expr)
	if err != nil { // regexp.Compile parsed it the same way
		return nil, fmt.Errorf("prefilter: %w", err)
	}
	p := &pattern{re: re, filter: filter}
	for i, name := range re.SubexpNames() {
		if name == "secret" {
			p.secret = append(p.secret, i)
		}
	}
	if p.secret == nil {
		p.secret = []int{0}
	}
	return p, nil
}

// keywords returns strings one of which is in every match, none when not
// known; fold says the expression ignores their case.
func (p *pattern) keywords() (lits []string, fold bool) {
	if needs := p.filter.Needs(); len(needs) > 0 {
		return needs[0].Lits, needs[0].Fold
	}
	return nil, false
}

// find appends to dst the spans of the secrets in s, offset by off.
func (p *pattern) find(s string, off int, dst []span) []span {
	if !p.filter.Pass(s) {
		return dst
	}
	for _, m := range p.re.FindAllStringSubmatchIndex(s, -1) {
		for _, g := range p.secret {
			if m[2*g] >= 0 {
				dst = append(dst, span{off + m[2*g], off + m[2*g+1]})
			}
		}
	}
	return dst
}

package redact

import (
	"fmt"
	"slices"
	"strings"
)

// A rule, as a configuration file writes it, and the checks that it is
// whole before New compiles it.

// Rule says what a secret looks like. It has a Pattern, Flags, or both.
//
// In a configuration file a rule is written in YAML, for example:
//
//	name: vault-login
//	flags: ["-token"]   # also matches --token
//	programs: [vault]
type Rule struct {
	// Name identifies the rule in errors and in [Config.Disable]. It is
	// required and unique among the rules given to [New].
	Name string `yaml:"name"`

	// Pattern is a regular expression in the syntax of package regexp.
	//
	// Alone, it is searched for in every string and every argument: the
	// part of each match captured by the group named "secret", or the
	// whole match when there is no such group, is replaced. Alternatives
	// may each have a group of that name. Use (?i) for case-insensitive
	// matching.
	//
	// With Flags, it is searched for only in the value of one of the
	// flags, and picks the part of that value that is secret: for
	// curl -u user:password, the pattern :(?P<secret>.+) keeps the user.
	//
	// With Programs and no Flags, it is searched for in each argument
	// (or word) that follows one of the programs in its command, each
	// argument on its own: a secret that no option introduces, as the
	// password in Impacket's DOMAIN/user:password@host. Anchor it (^…$)
	// to test whole arguments.
	Pattern string `yaml:"pattern,omitempty"`

	// Flags are the options whose value is secret, written with their
	// leading dashes:
	//
	//   - "--password" matches --password and -password, and takes its
	//     value from --password=VALUE or from the next argument (see
	//     Value). Names compare without regard to case, and "-" and "_"
	//     are the same letter: --api-key matches --API_KEY.
	//   - "--*password" (a "*" after the dashes) matches every name that
	//     ends so: --db-password, --ftp-password, but not --password-file,
	//     nor a negation such as --no-password.
	//   - "-p", one letter after one dash, is a short option: it is
	//     case-sensitive (-P is often something else) and its value may
	//     also be attached, -pVALUE, when Value allows it.
	//   - A name without dashes matches a bare word, as in
	//     aws configure set aws_secret_access_key VALUE.
	//
	// Flags are found both among the elements of argv and among the words
	// of a single string, such as the script of sh -c, where a quoted
	// value ('a b' or "a b") counts as one word.
	Flags []string `yaml:"flags,omitempty"`

	// Value says where a flag's value stands; empty means [ValueNext].
	Value ValueForm `yaml:"value,omitempty"`

	// Programs limits a rule to the command lines of these programs,
	// named by the base name of their executable (mysql, not
	// /usr/bin/mysql). A program counts when it is the executable, argv[0],
	// or any earlier argument of the same command, so that sudo mysql -p…
	// and docker exec db mysql -p… are covered; in a string, an earlier
	// word since the last ;, |, & or && counts. A program may be followed
	// by subcommand words: "docker login" counts when a later argument of
	// the same command, before the flag, is login, so that docker login's
	// -p is a password and docker run's a port. Without Programs a rule
	// applies to every program. With a Pattern and no Flags, the pattern
	// is tried on the arguments that follow the program (see Pattern).
	Programs []string `yaml:"programs,omitempty"`

	// Bundle lists the one-letter options of the programs that take no
	// value and that, as getopt allows, may be written together with a
	// one-letter flag of Flags in one argument, before it: with Bundle
	// "sS", curl -su user:password and curl -sSu user:password are read
	// as curl -s -S -u user:password. A letter that takes a value ends
	// the bundle, as it does for getopt: what follows it is that value.
	// For [ValueLast], the flag may also come first: htpasswd -nbB.
	Bundle string `yaml:"bundle,omitempty"`
}

// ValueForm says where the value of a flag stands.
type ValueForm string

const (
	// ValueNext: --flag=VALUE, or --flag VALUE with the value as the next
	// argument (or word).
	ValueNext ValueForm = "next"
	// ValueAttached: --flag=VALUE, or -fVALUE for a one-letter flag; never
	// the next argument. This is mysql's -p: alone it makes mysql prompt
	// for the password, and the next argument is the database name.
	ValueAttached ValueForm = "attached"
	// ValueAny: any of --flag=VALUE, --flag VALUE and -fVALUE (sshpass -p).
	ValueAny ValueForm = "any"
	// ValueLast: the flag takes no value of its own but says that the
	// last argument of its command is secret, as htpasswd -b FILE USER
	// PASSWORD. The last argument is the one before the end of the
	// command (;, |, &&, ...) or a redirection (> file); it is kept when
	// it is an option (starts with "-") or the flag itself.
	ValueLast ValueForm = "last"
)

// validate reports what is wrong with one rule, given the names of those
// before it.
func validate(rule Rule, seen map[string]bool) error {
	switch {
	case rule.Name == "":
		return fmt.Errorf("no name")
	case seen[rule.Name]:
		return fmt.Errorf("a rule of that name comes earlier")
	case rule.Pattern == "" && len(rule.Flags) == 0:
		return fmt.Errorf("neither pattern nor flags")
	}
	switch rule.Value {
	case "", ValueNext, ValueAttached, ValueAny, ValueLast:
	default:
		return fmt.Errorf("value %q: want %q, %q, %q or %q", rule.Value, ValueNext, ValueAttached, ValueAny, ValueLast)
	}
	if rule.Value == ValueLast && len(rule.Flags) == 0 {
		return fmt.Errorf("value %q needs flags", ValueLast)
	}
	if rule.Bundle != "" {
		if i := strings.IndexFunc(rule.Bundle, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == '-' || r == '=' }); i >= 0 {
			return fmt.Errorf("bundle %q: want one-letter options such as \"sSfL\", without dashes", rule.Bundle)
		}
		if !slices.ContainsFunc(rule.Flags, func(f string) bool { fl, err := parseFlag(f); return err == nil && fl.short }) {
			return fmt.Errorf("bundle %q: no one-letter flag such as -u to bundle with", rule.Bundle)
		}
	}
	for _, f := range rule.Flags {
		if _, err := parseFlag(f); err != nil {
			return err
		}
	}
	for _, p := range rule.Programs {
		if words := strings.Fields(p); len(words) == 0 || strings.ContainsRune(words[0], '/') || slices.ContainsFunc(words, separator) {
			return fmt.Errorf("program %q: want a base name such as mysql, or one and its subcommand such as \"docker login\"", p)
		}
	}
	return nil
}

package atomic

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// The programs a test's commands run, read roughly from its script, so that
// the sandbox can give a stand-in to each one this machine lacks.

// Programs returns the programs a test's commands run, roughly: the first
// word of each command, past variable assignments and the wrappers that
// run another program (or, for which, name one). A program named by an
// absolute path is returned with its path, any other by its name. The
// sandbox gives each one missing a stand-in.
func Programs(command string) []string {
	var out []string
	for _, seg := range commandSep().Split(command, -1) {
		words := strings.Fields(seg)
		for len(words) > 0 && (strings.Contains(words[0], "=") || wrappers()[words[0]] || strings.HasPrefix(words[0], "-")) {
			words = words[1:]
		}
		// timeout runs the program after its options and its duration.
		if len(words) > 1 && words[0] == "timeout" {
			words = words[1:]
			for len(words) > 0 && strings.HasPrefix(words[0], "-") {
				words = words[1:]
			}
			if len(words) > 0 {
				words = words[1:]
			}
		}
		if len(words) == 0 {
			continue
		}
		word := strings.Trim(words[0], `"'{}`)
		name := filepath.Base(word)
		// A path built from variables is not known until it runs.
		if !programName().MatchString(name) || shellWords()[name] || strings.Contains(word, "$") {
			continue
		}
		if strings.HasPrefix(word, "/") && !strings.ContainsAny(word, `#*?"'\`) {
			name = word
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// commandSep splits a script where a new command starts.
func commandSep() *regexp.Regexp { return regexp.MustCompile("\n|;|&&|\\|\\||\\||&|\\$\\(|`|\\(|\\)") }

// programName is the shape of a program's name worth a stand-in.
func programName() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._+-]{0,63}$`) }

// wrappers run the program named after them (which only finds it).
func wrappers() map[string]bool {
	return map[string]bool{"sudo": true, "nohup": true, "exec": true, "env": true, "command": true, "time": true, "nice": true, "which": true}
}

// shellWords are the shell's own: keywords and builtins.
func shellWords() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`if then else elif fi for while until do done case esac in function select
		echo printf cd export unset set read source alias unalias return exit break continue shift eval trap
		local declare typeset true false test wait history umask ulimit hash type let readonly pwd kill jobs fg bg`) {
		m[w] = true
	}
	return m
}

package recipe

import (
	"path"
	"regexp"
	"slices"
	"strings"
)

// What a sequence's steps take from execs, and how they find it again in
// later ones.

// maxCaptureLen bounds a captured value.
const maxCaptureLen = 4096

// capturer is a compiled Capture.
type capturer struct {
	name  string
	after []string
	arg   *regexp.Regexp // nil when after is set
	path  bool
}

// take returns the value c captures from an exec's arguments (argv[0]
// aside), and whether there is one.
func (c *capturer) take(args []string, cwd string) (string, bool) {
	if len(args) > 0 {
		args = args[1:]
	}
	var v string
	var ok bool
	if len(c.after) > 0 {
		v, ok = optionValue(args, c.after)
	} else {
		for _, a := range args {
			if m := c.arg.FindStringSubmatch(a); m != nil {
				v, ok = m[0], true
				if len(m) > 1 {
					v = m[1]
				}
				break
			}
		}
	}
	// A URL is no file: curl's -O takes none, and the next argument it
	// finds is the address.
	if !ok || v == "" || len(v) > maxCaptureLen || c.path && strings.Contains(v, "://") {
		return "", false
	}
	if c.path {
		v = resolve(v, cwd)
	}
	return v, true
}

// optionValue returns the value of the first of the options in args:
// "-o FILE", "--output FILE", "--output=FILE", "-oFILE" for a one-letter
// option, and only when none of those is there, one-letter flags bundled
// before it, "-sSo FILE" (a compiler's -flto is no bundle).
func optionValue(args, options []string) (string, bool) {
	for i, a := range args {
		for _, o := range options {
			short := len(o) == 2 && o[0] == '-' && o[1] != '-'
			switch {
			case a == o:
				if i+1 < len(args) {
					return args[i+1], true
				}
			case strings.HasPrefix(o, "--") && strings.HasPrefix(a, o+"="):
				return a[len(o)+1:], true
			case short && len(a) > 2 && strings.HasPrefix(a, o):
				return a[2:], true
			}
		}
	}
	for i, a := range args[:max(len(args)-1, 0)] {
		for _, o := range options {
			if len(o) == 2 && o[0] == '-' && o[1] != '-' && bundled(a, o[1]) {
				return args[i+1], true
			}
		}
	}
	return "", false
}

// bundled says whether a is one-letter flags bundled together, "-sSo",
// ending with the option letter o, whose value is then the next argument.
func bundled(a string, o byte) bool {
	if len(a) < 3 || a[0] != '-' || a[1] == '-' || a[len(a)-1] != o {
		return false
	}
	for i := 1; i < len(a); i++ {
		if c := a[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// resolve makes p absolute against cwd, as the kernel would open it.
// Without a working directory a relative path stays as it is.
func resolve(p, cwd string) string {
	if !path.IsAbs(p) && cwd != "" {
		p = path.Join(cwd, p)
	}
	return path.Clean(p)
}

// scriptOperand returns the file a shell or an interpreter was handed to
// run (`sh FILE`, `bash -x FILE`, `python3 FILE`), resolved against cwd, or
// "" when the exec is no such program or reads no file: its program text
// is on the command line (-c, -e, -m...) or comes from standard input. A
// script run without its #! line takes this form too: the shell that
// fails to exec it runs `/bin/sh FILE` instead.
func scriptOperand(exe string, args []string, cwd string) string {
	name := path.Base(exe)
	if name == "busybox" && len(args) > 0 {
		// An applet through its link (sh FILE) or named (busybox sh FILE).
		if a := path.Base(args[0]); a != "busybox" {
			name = a
		} else if len(args) > 1 {
			name, args = args[1], args[1:]
		}
	}
	var text, valued string // options whose program text or value follows
	switch {
	case slices.Contains([]string{"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash", "posh"}, name):
		text, valued = "cs", "oO"
	case strings.HasPrefix(name, "python") || strings.HasPrefix(name, "pypy"):
		text, valued = "cm", "WX"
	case strings.HasPrefix(name, "perl") || strings.HasPrefix(name, "ruby"):
		text, valued = "eE", ""
	case slices.Contains([]string{"node", "nodejs", "bun", "deno"}, name):
		text, valued = "ep", "r"
	case strings.HasPrefix(name, "php"):
		text, valued = "rR", "dc"
	default:
		return ""
	}
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			if i+1 < len(args) {
				return resolve(args[i+1], cwd)
			}
			return ""
		case a == "-" || a == "":
			return ""
		case strings.HasPrefix(a, "--"):
			if slices.Contains([]string{"--eval", "--print", "--command"}, a) || strings.HasPrefix(a, "--eval=") {
				return ""
			}
		case a[0] == '-' || a[0] == '+' && text == "cs":
			// Flags bundled or alone (-x, -ex, +o): one that takes program
			// text ends the search, one that takes a value as the next
			// argument skips it. Other shapes (-I/dir) are passed over.
			if !letters(a[1:]) {
				continue
			}
			if strings.ContainsAny(a[1:], text) {
				return ""
			}
			if strings.ContainsAny(a[len(a)-1:], valued) {
				i++
			}
		default:
			return resolve(a, cwd)
		}
	}
	return ""
}

// letters says whether s is ASCII letters only, and not empty.
func letters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return s != ""
}

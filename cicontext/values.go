package cicontext

import (
	"strings"
	"unicode/utf8"
)

// maxValueLen bounds an attribute value, in bytes: CI variables hold names,
// ids and addresses, and a job may set them to anything.
const maxValueLen = 1024

// clean bounds a variable's value and makes it valid UTF-8, with U+FFFD for
// each invalid sequence. A valid value within the bound is returned as is,
// without allocating.
func clean(s string) string {
	s = truncate(s, maxValueLen)
	if !utf8.ValidString(s) {
		s = truncate(strings.ToValidUTF8(s, "\uFFFD"), maxValueLen)
	}
	return s
}

// truncate cuts s to at most n bytes, at the start of a rune when one is
// within reach so that a valid string stays valid.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for i := n; i > n-utf8.UTFMax && i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i]
		}
	}
	return s[:n]
}

// isNumber says s is a non-empty run of decimal digits.
func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// repositoryURL turns a Git remote into the repository's web address, as
// vcs.repository.url.full wants it: without the credentials a remote may
// carry (https://user:token@host/...), with an SSH remote in scp form
// (git@host:owner/repo) written as https://host/owner/repo, and without
// ".git". Other addresses keep their scheme.
func repositoryURL(remote string) string {
	u := strings.TrimSuffix(strings.TrimSuffix(remote, "/"), ".git")
	if scheme, rest, ok := strings.Cut(u, "://"); ok {
		authority, _, _ := strings.Cut(rest, "/")
		if i := strings.LastIndexByte(authority, '@'); i >= 0 {
			u = scheme + "://" + rest[i+1:]
		}
		return u
	}
	// scp form: [user@]host:path, the host without a '/'.
	host, path, ok := strings.Cut(u, ":")
	if !ok || strings.Contains(host, "/") {
		return u
	}
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:]
	}
	return "https://" + host + "/" + strings.TrimPrefix(path, "/")
}

package cicontext

import (
	"strings"

	"github.com/vigil-otel/vigil/redact"
)

// maxValueLen bounds an attribute value, in bytes: CI variables hold names,
// ids and addresses, and a job may set them to anything.
const maxValueLen = 1024

// clean bounds a variable's value and makes it safe to export and show
// (redact.Clean). A value that needs nothing is returned as is.
func clean(s string) string { return redact.Clean(s, maxValueLen) }

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

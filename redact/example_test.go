package redact_test

import (
	"fmt"

	"github.com/vigil-otel/vigil/redact"
)

// A command line goes through the default rules, then Clean, before it is
// exported: only the secrets go, and the command stays readable.
func ExampleRedactor_Args() {
	r, err := redact.New(redact.Default())
	if err != nil {
		panic(err)
	}
	args := []string{"mysql", "-uci", "-phunter2", "-h", "db", "shop"}
	fmt.Println(r.Args("/usr/bin/mysql", args))
	args = []string{"docker", "login", "-u", "ci", "-p", "hunter2", "ghcr.io"}
	fmt.Println(r.Args("/usr/bin/docker", args))
	args = []string{"docker", "run", "-p", "8080:80", "nginx"}
	fmt.Println(r.Args("/usr/bin/docker", args))
	// Output:
	// [mysql -uci -p[REDACTED] -h db shop]
	// [docker login -u ci -p [REDACTED] ghcr.io]
	// [docker run -p 8080:80 nginx]
}

func ExampleRedactor_String() {
	r, err := redact.New(redact.Default())
	if err != nil {
		panic(err)
	}
	fmt.Println(r.String(`git clone https://ci:hunter2@git.example.com/app.git && curl -H "Authorization: Bearer hunter2" https://api`))
	// Output:
	// git clone https://ci:[REDACTED]@git.example.com/app.git && curl -H "Authorization: Bearer [REDACTED]" https://api
}

// Rules of one's own add to the defaults; a default rule is turned off by
// name.
func ExampleConfig_Redactor() {
	r, err := redact.Config{
		Disable: []string{"jwt"},
		Rules: []redact.Rule{
			{Name: "deploy-key", Flags: []string{"--deploy-key"}, Programs: []string{"deployctl"}},
			{Name: "acme-token", Pattern: `\bacme_[0-9a-f]{8}\b`},
		},
	}.Redactor()
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Args("/usr/local/bin/deployctl", []string{"deployctl", "--deploy-key", "k3y", "--env", "prod"}))
	fmt.Println(r.String("ACME=acme_0123abcd ./release.sh"))
	// Output:
	// [deployctl --deploy-key [REDACTED] --env prod]
	// ACME=[REDACTED] ./release.sh
}

// Clean makes any string safe to export and to show: valid UTF-8, control
// characters escaped, bounded in bytes.
func ExampleClean() {
	fmt.Println(redact.Clean("\x1b[2Jok\xff", 64))
	fmt.Println(redact.Clean("a very long argument", 10))
	// Output:
	// \x1b[2Jok�
	// a very …
}

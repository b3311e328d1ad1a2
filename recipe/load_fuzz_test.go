package recipe

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// Recipe files come from directories users name (--recipes), and are
// reloaded while vigil runs: a broken one must cost its own recipes,
// with errors that say where, never vigil.

// fuzzFileLine is the start of an error about fuzz.yaml: its file and line.
var fuzzFileLine = regexp.MustCompile(`^fuzz\.yaml:[1-9][0-9]*:`)

// FuzzLoad: any file loads without a panic; every error names the file
// and the line; every recipe that loads compiles into an engine and runs
// its own tests.
func FuzzLoad(f *testing.F) {
	// Built-ins that use most of what a recipe can say: CEL, exceptions,
	// ancestry, sequences and captures, the environment, file flags, the
	// working directory, users, alternatives.
	for _, name := range []string{
		"exec_example", "account_access_removal", "account_reactivate", "code_on_the_fly",
		"deleted_binary_exec", "adhoc_file_server", "impacket_remote_exec", "archive_password",
	} {
		data, err := os.ReadFile("catalog/" + name + ".yaml")
		require.NoError(f, err)
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"recipes: [",
		"recipes:\n  - name: a\n    tactic: {id: TA0002, name: Execution}\n    technique: {id: T1059, name: x}\n    match: {cel: 'args.size() +'}\n",
		"recipes:\n  - name: a\n    tactic: {id: TA0002, name: Execution}\n    technique: {id: T1059, name: x}\n    match: {cel: 'args'}\n",
		"recipes:\n  - &r {name: a, match: {executable: {name: [x]}}}\n  - *r\n",
		"recipes:\n  - name: a\n    limit: {count: -1, window: 1y}\n    tests: [{exec: {pid: x}}]\n",
		"x: 1\nrecipes: {}\n",
		"recipes:\n  - name: b\n  - name: b\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		recipes, errs := LoadFS(fstest.MapFS{"fuzz.yaml": {Data: data}}, "")
		// go.yaml.in/yaml/v3 does not place every syntax error ("found
		// unexpected end of stream"): those name the file only.
		syntax := yaml.Unmarshal(data, &yaml.Node{}) != nil
		for _, err := range errs {
			switch {
			case err.Error() == "fuzz.yaml: empty file: want a mapping with a recipes list":
			case syntax:
				require.True(t, strings.HasPrefix(err.Error(), "fuzz.yaml:"), err.Error())
			default:
				require.Regexp(t, fuzzFileLine, err.Error())
			}
		}
		_, err := NewEngine(recipes)
		require.NoError(t, err, "a recipe that loaded does not compile")
		_, err = RunFixtures(recipes)
		require.NoError(t, err)
	})
}

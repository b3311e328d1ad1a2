// Package ci_test runs the command lines of the CI examples beside it for
// real, here, as each CI system would: vigil on the PATH, the system's
// variables in the environment, a project whose `make test` runs a
// program a recipe knows. Only the CI servers themselves are left out.
package ci_test

import (
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/internal/vigiltest"
	"go.yaml.in/yaml/v3"
)

// example is what one CI system's file asks for.
type example struct {
	name string
	// script is the shell the system runs for the step.
	script string
	// junit and markdown are the reports it keeps, when it keeps them.
	junit, markdown string
	env             []string
	// step is how the Markdown report names the step.
	step string
}

func readYAML(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(b, v), file)
}

func examples(t *testing.T) []example {
	var gitlab struct {
		Test struct {
			Script    []string
			Artifacts struct {
				When    string
				Reports struct{ JUnit string }
				Paths   []string
			}
		}
	}
	readYAML(t, "gitlab-ci.yml", &gitlab)
	require.Equal(t, "always", gitlab.Test.Artifacts.When, "reports are kept when the job fails")

	var buildkite struct {
		Steps []struct {
			Command       string
			ArtifactPaths []string `yaml:"artifact_paths"`
		}
	}
	readYAML(t, "buildkite.yml", &buildkite)

	var github struct {
		Jobs map[string]struct {
			Steps []struct {
				Uses string
				Run  string
				With map[string]string
			}
		}
	}
	readYAML(t, "github-workflow.yml", &github)
	require.Equal(t, "high", github.Jobs["test"].Steps[1].With["fail-on"], "after the checkout, for the repository's recipes")
	oneStep := github.Jobs["one-step"].Steps

	jenkins, err := os.ReadFile("Jenkinsfile")
	require.NoError(t, err)
	sh := regexp.MustCompile(`sh '([^']+)'`).FindSubmatch(jenkins)
	junit := regexp.MustCompile(`testResults: '([^']+)'`).FindSubmatch(jenkins)
	require.NotNil(t, sh)
	require.NotNil(t, junit)

	return []example{{
		name: "gitlab", script: strings.Join(gitlab.Test.Script, "\n"),
		junit: gitlab.Test.Artifacts.Reports.JUnit, markdown: gitlab.Test.Artifacts.Paths[0],
		env:  []string{"CI=true", "GITLAB_CI=true", "CI_JOB_NAME=unit tests", "CI_JOB_ID=7"},
		step: "| unit tests |",
	}, {
		name: "jenkins", script: string(sh[1]), junit: string(junit[1]),
		env: []string{"JENKINS_URL=https://ci.example.com/", "JOB_NAME=vigil", "STAGE_NAME=Test"},
	}, {
		name: "buildkite", script: buildkite.Steps[0].Command,
		markdown: buildkite.Steps[0].ArtifactPaths[0], junit: buildkite.Steps[0].ArtifactPaths[1],
		env:  []string{"CI=true", "BUILDKITE=true", "BUILDKITE_LABEL=go test"},
		step: "| go test |",
	}, {
		name: "github", script: oneStep[len(oneStep)-1].Run, markdown: "summary.md",
		env:  []string{"CI=true", "GITHUB_ACTIONS=true", "GITHUB_JOB=one-step", "GITHUB_ACTION=__run", "GITHUB_STEP_SUMMARY=summary.md"},
		step: "| one-step / &#95;&#95;run |",
	}}
}

// project makes a folder whose `make test` runs prog, a copy of true
// named as a recipe's program.
func project(t *testing.T, prog string) string {
	dir := t.TempDir()
	b, err := os.ReadFile("/bin/true")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, prog), b, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Makefile"), []byte("test:\n\t./"+prog+" -q out\n"), 0o644))
	return dir
}

func TestExamples(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("vigil run needs root")
	}
	bin := t.TempDir()
	vigiltest.Build(t, bin)
	// The CI server's own tool: it records the annotation it is given.
	require.NoError(t, os.WriteFile(filepath.Join(bin, "buildkite-agent"), []byte("#!/bin/sh\ncat > annotation.md\n"), 0o755))
	// The examples run vigil with sudo; these tests already are root.
	require.NoError(t, os.WriteFile(filepath.Join(bin, "sudo"), []byte("#!/bin/sh\n[ \"$1\" = -E ] && shift\nexec \"$@\"\n"), 0o755))

	for _, ex := range examples(t) {
		t.Run(ex.name, func(t *testing.T) {
			for _, tc := range []struct {
				prog   string
				status int
				recipe string
			}{
				// zip is of low importance: the job passes with it reported.
				{prog: "zip", status: 0, recipe: "exec_example"},
				// A port scanner is critical: --fail-on high fails the job.
				{prog: "nmap", status: 3, recipe: "net_scan_tool_exec"},
			} {
				dir := project(t, tc.prog)
				cmd := exec.Command("sh", "-ec", ex.script)
				cmd.Dir = dir
				cmd.Env = append([]string{"PATH=" + bin + ":/usr/bin:/bin", "HOME=" + dir}, ex.env...)
				out, err := cmd.CombinedOutput()
				status := 0
				if ee, ok := err.(*exec.ExitError); ok {
					status = ee.ExitCode()
				} else {
					require.NoError(t, err)
				}
				require.Equal(t, tc.status, status, "%s", out)

				if ex.junit != "" {
					b, err := os.ReadFile(filepath.Join(dir, ex.junit))
					require.NoError(t, err)
					var doc struct {
						Failures int `xml:"failures,attr"`
						Cases    []struct {
							Name string `xml:"name,attr"`
						} `xml:"testsuite>testcase"`
					}
					require.NoError(t, xml.Unmarshal(b, &doc))
					// Below --fail-on high a recipe's case passes, with its
					// detections as output. (A project under /tmp adds
					// exec_from_unusual_dir, of medium importance.)
					if tc.status == 0 {
						require.Zero(t, doc.Failures)
					} else {
						require.Equal(t, 1, doc.Failures)
					}
					require.True(t, slices.ContainsFunc(doc.Cases, func(c struct {
						Name string `xml:"name,attr"`
					}) bool {
						return c.Name == tc.recipe
					}), "%s", b)
				}
				if ex.markdown != "" {
					b, err := os.ReadFile(filepath.Join(dir, ex.markdown))
					require.NoError(t, err)
					require.Regexp(t, `^### vigil: \d detection\(s\) in <code>make test</code>`, string(b))
					require.Contains(t, string(b), tc.recipe)
					require.Contains(t, string(b), ex.step, "the step that ran it")
				}
				if ex.name == "buildkite" {
					b, err := os.ReadFile(filepath.Join(dir, "annotation.md"))
					require.NoError(t, err, "annotated even when the step failed")
					require.Contains(t, string(b), "### vigil: ")
				}
			}
		})
	}
}

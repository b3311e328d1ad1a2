package cicontext

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"

	"github.com/vigil-otel/vigil/internal/execenv"
	"github.com/vigil-otel/vigil/redact"
	"github.com/vigil-otel/vigil/semconv"
)

const (
	sha1 = "8f14e45fceea167a5a36dedd4bea2543b5f9c3d1"
	sha2 = "c9f0f895fb98ab9159f51fd0297e236d0e9e6a7b"
)

// Environments as the CI systems set them in a job, with variables
// cicontext must not read (tokens among them) beside the ones it reads.
func githubPush() map[string]string {
	return map[string]string{
		"CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKFLOW": "CI", "GITHUB_RUN_ID": "9876543210",
		"GITHUB_RUN_NUMBER": "311", "GITHUB_RUN_ATTEMPT": "1", "GITHUB_JOB": "test", "GITHUB_ACTION": "__run_2",
		"GITHUB_REPOSITORY": "vigil-otel/vigil", "GITHUB_REPOSITORY_OWNER": "vigil-otel",
		"GITHUB_SERVER_URL": "https://github.com", "GITHUB_API_URL": "https://api.github.com",
		"GITHUB_SHA": sha1, "GITHUB_REF": "refs/heads/main", "GITHUB_REF_NAME": "main", "GITHUB_REF_TYPE": "branch",
		"GITHUB_EVENT_NAME": "push", "GITHUB_TOKEN": "ghs_secret", "ACTIONS_RUNTIME_TOKEN": "secret",
		"RUNNER_NAME": "GitHub Actions 12", "RUNNER_OS": "Linux", "HOME": "/home/runner", "PATH": "/usr/bin:/bin",
	}
}

func githubPullRequest() map[string]string {
	env := githubPush()
	maps.Copy(env, map[string]string{
		"GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF": "refs/pull/42/merge", "GITHUB_REF_NAME": "42/merge",
		"GITHUB_HEAD_REF": "exec-ci", "GITHUB_BASE_REF": "main", "GITHUB_SHA": sha2, "GITHUB_RUN_ATTEMPT": "2",
		"GITHUB_JOB": "lint", "RUNNER_NAME": "self-hosted-7",
	})
	return env
}

func gitlabMergeRequest() map[string]string {
	return map[string]string{
		"CI": "true", "GITLAB_CI": "true", "CI_SERVER_URL": "https://gitlab.com",
		"CI_PROJECT_PATH": "acme/security/vigil", "CI_PROJECT_URL": "https://gitlab.com/acme/security/vigil",
		"CI_PIPELINE_ID": "1234567890", "CI_PIPELINE_IID": "812", "CI_PIPELINE_SOURCE": "merge_request_event",
		"CI_PIPELINE_URL": "https://gitlab.com/acme/security/vigil/-/pipelines/1234567890",
		"CI_JOB_ID":       "7654321098", "CI_JOB_NAME": "test: [amd64]", "CI_JOB_STAGE": "test",
		"CI_JOB_URL":   "https://gitlab.com/acme/security/vigil/-/jobs/7654321098",
		"CI_RUNNER_ID": "12270859", "CI_RUNNER_DESCRIPTION": "3-blue.saas-linux-small-amd64.runners-manager.gitlab.com/default",
		"CI_COMMIT_SHA": sha1, "CI_COMMIT_REF_NAME": "exec-ci", "CI_MERGE_REQUEST_IID": "17",
		"CI_JOB_TOKEN": "glcbt-secret", "CI_REGISTRY_PASSWORD": "secret",
	}
}

func jenkinsMultibranch() map[string]string {
	return map[string]string{
		"JENKINS_URL": "https://ci.example.com/", "JENKINS_HOME": "/var/jenkins_home",
		"JOB_NAME": "vigil/PR-42", "JOB_BASE_NAME": "PR-42", "BRANCH_NAME": "PR-42",
		"BUILD_NUMBER": "7", "BUILD_ID": "7", "BUILD_TAG": "jenkins-vigil-PR-42-7",
		"BUILD_URL": "https://ci.example.com/job/vigil/job/PR-42/7/", "STAGE_NAME": "Test",
		"NODE_NAME": "linux-agent-3", "EXECUTOR_NUMBER": "1", "WORKSPACE": "/home/jenkins/workspace/vigil_PR-42",
		"GIT_URL":    "https://x-access-token:ghp_secret@github.com/vigil-otel/vigil.git",
		"GIT_BRANCH": "PR-42", "GIT_COMMIT": sha2, "CHANGE_ID": "42", "CHANGE_TARGET": "main",
	}
}

func buildkiteBuild() map[string]string {
	return map[string]string{
		"CI": "true", "BUILDKITE": "true",
		"BUILDKITE_BUILD_ID":      "01890f7e-2c33-4a52-9c4e-5c8e0b3e1f00",
		"BUILDKITE_BUILD_NUMBER":  "1514",
		"BUILDKITE_BUILD_URL":     "https://buildkite.com/acme/vigil/builds/1514",
		"BUILDKITE_PIPELINE_SLUG": "vigil", "BUILDKITE_LABEL": ":go: test",
		"BUILDKITE_JOB_ID":     "01890f7e-2c40-4b61-8d5f-6d9f1c4f2a11",
		"BUILDKITE_AGENT_NAME": "i-0abc123-1", "BUILDKITE_AGENT_ID": "01890f60-0000-4000-8000-000000000001",
		"BUILDKITE_REPO":   "git@github.com:vigil-otel/vigil.git",
		"BUILDKITE_BRANCH": "main", "BUILDKITE_COMMIT": sha1, "BUILDKITE_PULL_REQUEST": "false",
		"BUILDKITE_AGENT_ACCESS_TOKEN": "secret",
	}
}

// asMap returns attrs as key → value, failing on a repeated key.
func asMap(t *testing.T, attrs []attribute.KeyValue) map[attribute.Key]string {
	t.Helper()
	m := make(map[attribute.Key]string, len(attrs))
	for _, kv := range attrs {
		_, dup := m[kv.Key]
		require.False(t, dup, "key %s twice", kv.Key)
		m[kv.Key] = kv.Value.String()
	}
	return m
}

func TestAttributes(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		system System
		want   map[attribute.Key]string
	}{{
		name: "GitHub Actions push", env: githubPush(), system: GitHubActions,
		want: map[attribute.Key]string{
			semconv.CISystemKey:               "github_actions",
			semconv.CICDPipelineNameKey:       "CI",
			semconv.CICDPipelineRunIDKey:      "9876543210-1",
			semconv.CICDPipelineRunURLFullKey: "https://github.com/vigil-otel/vigil/actions/runs/9876543210",
			semconv.CICDPipelineTaskNameKey:   "test",
			semconv.CIStepKey:                 "__run_2",
			semconv.CICDPipelineTaskRunIDKey:  "9876543210-1-test",
			semconv.CICDWorkerNameKey:         "GitHub Actions 12",
			semconv.VCSRepositoryURLFullKey:   "https://github.com/vigil-otel/vigil",
			semconv.VCSRefHeadNameKey:         "main",
			semconv.VCSRefHeadRevisionKey:     sha1,
			semconv.VCSProviderNameKey:        "github",
		},
	}, {
		name: "GitHub Actions pull request, second attempt", env: githubPullRequest(), system: GitHubActions,
		want: map[attribute.Key]string{
			semconv.CISystemKey:               "github_actions",
			semconv.CICDPipelineNameKey:       "CI",
			semconv.CICDPipelineRunIDKey:      "9876543210-2",
			semconv.CICDPipelineRunURLFullKey: "https://github.com/vigil-otel/vigil/actions/runs/9876543210",
			semconv.CICDPipelineTaskNameKey:   "lint",
			semconv.CIStepKey:                 "__run_2",
			semconv.CICDPipelineTaskRunIDKey:  "9876543210-2-lint",
			semconv.CICDWorkerNameKey:         "self-hosted-7",
			semconv.VCSRepositoryURLFullKey:   "https://github.com/vigil-otel/vigil",
			semconv.VCSRefHeadNameKey:         "42/merge",
			semconv.VCSRefHeadRevisionKey:     sha2,
			semconv.VCSChangeIDKey:            "42",
			semconv.VCSProviderNameKey:        "github",
		},
	}, {
		name: "GitLab CI merge request pipeline without a name", env: gitlabMergeRequest(), system: GitLabCI,
		want: map[attribute.Key]string{
			semconv.CISystemKey:                   "gitlab_ci",
			semconv.CICDPipelineNameKey:           "acme/security/vigil",
			semconv.CICDPipelineRunIDKey:          "1234567890",
			semconv.CICDPipelineRunURLFullKey:     "https://gitlab.com/acme/security/vigil/-/pipelines/1234567890",
			semconv.CICDPipelineTaskNameKey:       "test: [amd64]",
			semconv.CICDPipelineTaskRunIDKey:      "7654321098",
			semconv.CICDPipelineTaskRunURLFullKey: "https://gitlab.com/acme/security/vigil/-/jobs/7654321098",
			semconv.CICDWorkerNameKey:             "3-blue.saas-linux-small-amd64.runners-manager.gitlab.com/default",
			semconv.CICDWorkerIDKey:               "12270859",
			semconv.VCSRepositoryURLFullKey:       "https://gitlab.com/acme/security/vigil",
			semconv.VCSRefHeadNameKey:             "exec-ci",
			semconv.VCSRefHeadRevisionKey:         sha1,
			semconv.VCSChangeIDKey:                "17",
			semconv.VCSProviderNameKey:            "gitlab",
		},
	}, {
		name: "Jenkins multibranch pull request", env: jenkinsMultibranch(), system: Jenkins,
		want: map[attribute.Key]string{
			semconv.CISystemKey:               "jenkins",
			semconv.CICDPipelineNameKey:       "vigil/PR-42",
			semconv.CICDPipelineRunIDKey:      "7",
			semconv.CICDPipelineRunURLFullKey: "https://ci.example.com/job/vigil/job/PR-42/7/",
			semconv.CICDPipelineTaskNameKey:   "Test",
			semconv.CICDWorkerNameKey:         "linux-agent-3",
			// The token in GIT_URL is not exported.
			semconv.VCSRepositoryURLFullKey: "https://github.com/vigil-otel/vigil",
			semconv.VCSRefHeadNameKey:       "PR-42",
			semconv.VCSRefHeadRevisionKey:   sha2,
			semconv.VCSChangeIDKey:          "42",
		},
	}, {
		name: "Buildkite", env: buildkiteBuild(), system: Buildkite,
		want: map[attribute.Key]string{
			semconv.CISystemKey:               "buildkite",
			semconv.CICDPipelineNameKey:       "vigil",
			semconv.CICDPipelineRunIDKey:      "01890f7e-2c33-4a52-9c4e-5c8e0b3e1f00",
			semconv.CICDPipelineRunURLFullKey: "https://buildkite.com/acme/vigil/builds/1514",
			semconv.CICDPipelineTaskNameKey:   ":go: test",
			semconv.CICDPipelineTaskRunIDKey:  "01890f7e-2c40-4b61-8d5f-6d9f1c4f2a11",
			semconv.CICDWorkerNameKey:         "i-0abc123-1",
			semconv.CICDWorkerIDKey:           "01890f60-0000-4000-8000-000000000001",
			semconv.VCSRepositoryURLFullKey:   "https://github.com/vigil-otel/vigil",
			semconv.VCSRefHeadNameKey:         "main",
			semconv.VCSRefHeadRevisionKey:     sha1,
		},
	}, {
		name: "another CI", env: map[string]string{"CI": "true", "TRAVIS": "true", "TRAVIS_JOB_ID": "1"}, system: Generic,
		want: map[attribute.Key]string{semconv.CISystemKey: "generic"},
	}, {
		name: "no CI", env: map[string]string{"HOME": "/root", "PATH": "/usr/bin", "JOB_NAME": "x", "CI": "false"},
		system: None,
	}, {
		name: "no environment", env: nil, system: None,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.system, Detect(tt.env))
			attrs := Attributes(tt.env, nil)
			if tt.want == nil {
				assert.Nil(t, attrs)
				return
			}
			assert.Equal(t, tt.want, asMap(t, attrs))
			assert.LessOrEqual(t, len(attrs), maxAttributes)

			// Only the variables cicontext reads count: the others may be
			// left out of the sensor's allow-list without changing anything.
			read := make(map[string]string)
			for _, name := range readNames() {
				if v, ok := tt.env[name]; ok {
					read[name] = v
				}
			}
			assert.Equal(t, attrs, Attributes(read, nil))
		})
	}
}

func TestAttributesVariants(t *testing.T) {
	gitlab := gitlabMergeRequest()
	gitlab["CI_PIPELINE_NAME"] = "nightly"

	jenkins := jenkinsMultibranch()
	delete(jenkins, "BUILD_NUMBER")
	jenkins["BUILD_ID"] = "2024-01-31_12-00-00"
	jenkins["GIT_URL"] = "git@git.example.com:platform/vigil.git"

	buildkite := buildkiteBuild()
	buildkite["BUILDKITE_PULL_REQUEST"] = "99"
	buildkite["BUILDKITE_COMMIT"] = "HEAD"

	github := githubPush()
	github["GITHUB_SERVER_URL"] = "https://ghe.example.com/"
	delete(github, "GITHUB_RUN_ATTEMPT")

	tests := []struct {
		name string
		env  map[string]string
		want map[attribute.Key]string
	}{
		{"GitLab pipeline with a name", gitlab, map[attribute.Key]string{semconv.CICDPipelineNameKey: "nightly"}},
		{"Jenkins without BUILD_NUMBER, SSH remote", jenkins, map[attribute.Key]string{
			semconv.CICDPipelineRunIDKey:    "2024-01-31_12-00-00",
			semconv.VCSRepositoryURLFullKey: "https://git.example.com/platform/vigil",
		}},
		{"Buildkite pull request, commit not resolved", buildkite, map[attribute.Key]string{
			semconv.VCSChangeIDKey: "99", semconv.VCSRefHeadRevisionKey: "",
		}},
		{"GitHub Enterprise, no attempt", github, map[attribute.Key]string{
			semconv.CICDPipelineRunIDKey:      "9876543210",
			semconv.CICDPipelineTaskRunIDKey:  "9876543210-test",
			semconv.CICDPipelineRunURLFullKey: "https://ghe.example.com/vigil-otel/vigil/actions/runs/9876543210",
			semconv.VCSRepositoryURLFullKey:   "https://ghe.example.com/vigil-otel/vigil",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := asMap(t, Attributes(tt.env, nil))
			for k, want := range tt.want {
				assert.Equal(t, want, got[k], "%s", k)
			}
		})
	}
}

// A runner that runs two jobs at once: each process gets its own job's
// attributes, from its own environment.
func TestAttributesPerJob(t *testing.T) {
	first := gitlabMergeRequest()
	second := gitlabMergeRequest()
	maps.Copy(second, map[string]string{
		"CI_PROJECT_PATH": "acme/web", "CI_PROJECT_URL": "https://gitlab.com/acme/web",
		"CI_PIPELINE_ID": "1234567999", "CI_PIPELINE_URL": "https://gitlab.com/acme/web/-/pipelines/1234567999",
		"CI_JOB_ID": "7654321999", "CI_JOB_NAME": "deploy", "CI_JOB_URL": "https://gitlab.com/acme/web/-/jobs/7654321999",
		"CI_COMMIT_SHA": sha2, "CI_COMMIT_REF_NAME": "main",
	})
	delete(second, "CI_MERGE_REQUEST_IID")

	a, b := asMap(t, Attributes(first, nil)), asMap(t, Attributes(second, nil))
	assert.NotEqual(t, a, b)
	for key, want := range map[attribute.Key][2]string{
		semconv.CICDPipelineNameKey:      {"acme/security/vigil", "acme/web"},
		semconv.CICDPipelineRunIDKey:     {"1234567890", "1234567999"},
		semconv.CICDPipelineTaskNameKey:  {"test: [amd64]", "deploy"},
		semconv.CICDPipelineTaskRunIDKey: {"7654321098", "7654321999"},
		semconv.VCSRefHeadRevisionKey:    {sha1, sha2},
		semconv.VCSChangeIDKey:           {"17", ""},
	} {
		assert.Equal(t, want[0], a[key], "first job's %s", key)
		assert.Equal(t, want[1], b[key], "second job's %s", key)
	}
	// The runner is the same.
	assert.Equal(t, a[semconv.CICDWorkerIDKey], b[semconv.CICDWorkerIDKey])
}

func TestAttributesHostile(t *testing.T) {
	env := githubPush()
	env["GITHUB_WORKFLOW"] = strings.Repeat("é", 5000)
	env["GITHUB_JOB"] = "te\xffst\xc3"
	env["GITHUB_SERVER_URL"] = "https://" + strings.Repeat("a", 1<<20)
	env["RUNNER_NAME"] = "\x1b[2Jrunner"
	env["GITHUB_REPOSITORY"] = strings.Repeat("\xff", 4096)
	env["GITHUB_REF"] = "refs/pull/12x/merge"

	got := asMap(t, Attributes(env, nil))
	for k, v := range got {
		assert.LessOrEqual(t, len(v), maxValueLen, "%s", k)
		assert.True(t, utf8.ValidString(v), "%s", k)
	}
	assert.Equal(t, strings.Repeat("é", (maxValueLen-len(redact.Ellipsis))/2)+redact.Ellipsis, got[semconv.CICDPipelineNameKey])
	assert.Equal(t, "te\uFFFDst\uFFFD", got[semconv.CICDPipelineTaskNameKey])
	assert.Equal(t, `\x1b[2Jrunner`, got[semconv.CICDWorkerNameKey], "control characters escaped")
	assert.NotContains(t, got, semconv.VCSChangeIDKey)
}

func TestPullRequest(t *testing.T) {
	for ref, want := range map[string]string{
		"refs/pull/42/merge":       "42",
		"refs/pull/7/head":         "7",
		"refs/heads/main":          "",
		"refs/tags/v1.0.0":         "",
		"refs/pull//merge":         "",
		"refs/pull/42/merge/extra": "",
		"refs/pull/-1/merge":       "",
	} {
		assert.Equal(t, want, pullRequest(ref), ref)
	}
}

func TestRepositoryURL(t *testing.T) {
	for remote, want := range map[string]string{
		"https://github.com/vigil-otel/vigil.git":               "https://github.com/vigil-otel/vigil",
		"https://github.com/vigil-otel/vigil":                   "https://github.com/vigil-otel/vigil",
		"https://user:tok@en@git.example.com:8443/a/b.git":      "https://git.example.com:8443/a/b",
		"https://token@github.com":                              "https://github.com",
		"git@github.com:vigil-otel/vigil.git":                   "https://github.com/vigil-otel/vigil",
		"github.com:vigil-otel/vigil":                           "https://github.com/vigil-otel/vigil",
		"ssh://git@git.example.com:2222/platform/vigil.git":     "ssh://git.example.com:2222/platform/vigil",
		"/srv/git/vigil.git":                                    "/srv/git/vigil",
		"file:///srv/git/vigil.git/":                            "file:///srv/git/vigil",
		"":                                                      "",
		"https://github.com/vigil-otel/vigil/?q=a@b":            "https://github.com/vigil-otel/vigil/?q=a@b",
		"https://x-access-token:ghp_secret@github.com/o/r.git/": "https://github.com/o/r",
	} {
		assert.Equal(t, want, repositoryURL(remote), remote)
	}
}

// readNames returns the names of the variables cicontext reads, each once.
// It runs the detection and every system's mapping on an empty environment
// that records what is asked of it; the mappings read each of their
// variables whatever the values of the others, so none is missed.
func readNames() []string {
	var names []string
	seen := make(map[string]bool)
	record := funcEnv(func(name string) string {
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
		return ""
	})
	detect(record)
	for _, sys := range []System{GitHubActions, GitLabCI, Jenkins, Buildkite} {
		a := appender{env: record}
		a.system(sys)
	}
	return names
}

// Every variable cicontext reads is listed for the CI job, so the sensor
// reads it by default.
func TestReadsListedVariables(t *testing.T) {
	names := readNames()
	ci := make(map[string]bool)
	for _, v := range execenv.Vars() {
		ci[v.Name] = v.Use == execenv.CIJob
	}
	for _, name := range names {
		assert.True(t, ci[name], name)
	}
	// The fallbacks and the variables only parts of a value come from
	// are read too.
	for _, name := range []string{"GITHUB_RUN_ATTEMPT", "GITHUB_SERVER_URL", "CI_PROJECT_PATH", "BUILD_ID", "CI", "JENKINS_URL"} {
		assert.Contains(t, names, name)
	}
	assert.Len(t, names, len(slices.Compact(slices.Sorted(slices.Values(names)))), "a name twice")
}

func BenchmarkAttributes(b *testing.B) {
	for _, bm := range []struct {
		name string
		env  map[string]string
	}{
		{"none", map[string]string{"HOME": "/root", "PATH": "/usr/bin", "TRACEPARENT": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}},
		{"github", githubPullRequest()},
		{"gitlab", gitlabMergeRequest()},
		{"jenkins", jenkinsMultibranch()},
		{"buildkite", buildkiteBuild()},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = Attributes(bm.env, nil)
			}
		})
	}
}

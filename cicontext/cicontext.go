// Package cicontext tells the CI job a process belongs to from the
// variables the CI system set in its environment: the pipeline and its run,
// the job (task) and its run, the runner, and the commit being built.
//
// It works on one process's environment at a time, so that a runner that
// executes several jobs at once attributes each process to its own job. The
// variables are those internal/execenv lists for the CI job, which the
// sensor reads at exec; the values are whatever the job set, and may hold
// credentials (a Jenkins BUILD_URL with user:password@), so they are
// redacted, then bounded and made valid UTF-8 before they become
// attributes.
package cicontext

import (
	"strings"

	"go.opentelemetry.io/otel/attribute"

	"github.com/vigil-otel/vigil/internal/execenv"
	"github.com/vigil-otel/vigil/redact"
	"github.com/vigil-otel/vigil/semconv"
)

// System is a CI system, told by the variables it sets in every job.
type System uint8

// The CI systems cicontext knows. Generic is any other that sets CI=true:
// the process runs in CI, but which job is not known.
const (
	None System = iota
	Generic
	GitHubActions
	GitLabCI
	Jenkins
	Buildkite
)

// String returns the system's name, the value of the vigil.ci.system
// attribute.
func (s System) String() string {
	switch s {
	case Generic:
		return "generic"
	case GitHubActions:
		return "github_actions"
	case GitLabCI:
		return "gitlab_ci"
	case Jenkins:
		return "jenkins"
	case Buildkite:
		return "buildkite"
	}
	return "none"
}

// environment reads one variable; "" means unset. Every reading goes
// through one, which lets a test list the names by running the same code.
type environment interface {
	getenv(name string) string
}

// mapEnv is the environment the sensor captured for one process. Being a
// map, it is an environment without allocating.
type mapEnv map[string]string

func (m mapEnv) getenv(name string) string { return m[name] }

// funcEnv is an environment read by a function, such as os.Getenv.
type funcEnv func(name string) string

func (f funcEnv) getenv(name string) string { return f(name) }

// Detect tells which CI system runs a process, from its environment env.
func Detect(env map[string]string) System { return detect(mapEnv(env)) }

// detect reads every marker before deciding, whatever the others say, as
// the test that lists the variables cicontext reads expects.
// The systems' own markers come before JENKINS_URL, which is merely set,
// and before the generic CI=true that they all set too.
func detect(env environment) System {
	github, gitlab := env.getenv(execenv.GitHubActions), env.getenv(execenv.GitLabCI)
	buildkite, jenkins, ci := env.getenv(execenv.Buildkite), env.getenv(execenv.JenkinsURL), env.getenv(execenv.CI)
	switch {
	case github == "true":
		return GitHubActions
	case gitlab == "true":
		return GitLabCI
	case buildkite == "true":
		return Buildkite
	case jenkins != "":
		return Jenkins
	case strings.EqualFold(ci, "true") || ci == "1":
		return Generic
	}
	return None
}

// Attributes returns the cicd.* and vcs.* attributes, and vigil.ci.system,
// of a process, from its environment env; nil outside CI. Each variable's
// value is redacted by r (nil redacts nothing), then cleaned.
func Attributes(env map[string]string, r *redact.Redactor) []attribute.KeyValue {
	return AppendAttributes(nil, env, r)
}

// AppendAttributes appends Attributes(env, r) to dst, for a caller that
// keeps a buffer.
func AppendAttributes(dst []attribute.KeyValue, env map[string]string, r *redact.Redactor) []attribute.KeyValue {
	return appendAttributes(dst, mapEnv(env), r)
}

// maxAttributes is the most attributes one system yields.
const maxAttributes = 15

func appendAttributes(dst []attribute.KeyValue, env environment, r *redact.Redactor) []attribute.KeyValue {
	sys := detect(env)
	if sys == None {
		return dst
	}
	if dst == nil {
		dst = make([]attribute.KeyValue, 0, maxAttributes)
	}
	a := appender{dst: dst, env: env, redactor: r}
	a.add(semconv.CISystemKey, sys.String())
	a.system(sys)
	return a.dst
}

// appender collects the attributes of one environment.
type appender struct {
	dst      []attribute.KeyValue
	env      environment
	redactor *redact.Redactor
}

// read reads a variable, redacted whole and then cleaned: cut first, a
// secret could lose what makes a rule see it.
func (a *appender) read(name string) string {
	return clean(a.redactor.String(a.env.getenv(name)))
}

// add appends key=value unless value is empty. A value built from several
// variables is bounded again.
func (a *appender) add(key attribute.Key, value string) {
	if value = clean(value); value != "" {
		a.dst = append(a.dst, key.String(value))
	}
}

// system appends the attributes of sys's job, from the variables the CI
// system documents.
func (a *appender) system(sys System) {
	switch sys {
	case GitHubActions:
		a.github()
	case GitLabCI:
		a.gitlab()
	case Jenkins:
		a.jenkins()
	case Buildkite:
		a.buildkite()
	}
}

// github maps GitHub Actions' variables. GitHub exposes neither the job's
// id nor its page, so the task run is named by the run, its attempt and the
// job's key; jobs of one matrix share that key, and so that id.
func (a *appender) github() {
	server, repo := strings.TrimSuffix(a.read(execenv.GitHubServerURL), "/"), a.read(execenv.GitHubRepository)
	runID, attempt, job := a.read(execenv.GitHubRunID), a.read(execenv.GitHubRunAttempt), a.read(execenv.GitHubJob)
	ref := a.read(execenv.GitHubRef)

	a.add(semconv.CICDPipelineNameKey, a.read(execenv.GitHubWorkflow))
	// A re-run keeps the run id and counts attempts: each attempt is a run.
	run := runID
	if runID != "" && attempt != "" {
		run = runID + "-" + attempt
	}
	a.add(semconv.CICDPipelineRunIDKey, run)
	if server != "" && repo != "" {
		// One string holds both addresses: the repository's is its prefix.
		runURL := server + "/" + repo + "/actions/runs/" + runID
		a.add(semconv.VCSRepositoryURLFullKey, runURL[:len(server)+1+len(repo)])
		if runID != "" {
			a.add(semconv.CICDPipelineRunURLFullKey, runURL)
		}
	}
	a.add(semconv.CICDPipelineTaskNameKey, job)
	// The step: a step's id, __run_N for an unnamed script, or the
	// action's name. It is what ties a process to the line of the workflow
	// that started it.
	a.add(semconv.CIStepKey, a.read(execenv.GitHubAction))
	if run != "" && job != "" {
		a.add(semconv.CICDPipelineTaskRunIDKey, run+"-"+job)
	}
	a.add(semconv.CICDWorkerNameKey, a.read(execenv.GitHubRunnerName))
	a.add(semconv.VCSRefHeadNameKey, a.read(execenv.GitHubRefName))
	a.add(semconv.VCSRefHeadRevisionKey, a.read(execenv.GitHubSHA))
	a.add(semconv.VCSChangeIDKey, pullRequest(ref))
	a.add(semconv.VCSProviderNameKey, "github")
}

// pullRequest returns the number of the pull request a GitHub ref names
// (refs/pull/<n>/merge, or /head), "" for any other ref.
func pullRequest(ref string) string {
	rest, ok := strings.CutPrefix(ref, "refs/pull/")
	if !ok {
		return ""
	}
	n, kind, _ := strings.Cut(rest, "/")
	if kind != "merge" && kind != "head" || !isNumber(n) {
		return ""
	}
	return n
}

// gitlab maps GitLab CI's variables. CI_PIPELINE_NAME is set only when the
// pipeline has a name; the project's path names it otherwise.
func (a *appender) gitlab() {
	name, project := a.read(execenv.GitLabPipelineName), a.read(execenv.GitLabProjectPath)
	if name == "" {
		name = project
	}
	a.add(semconv.CICDPipelineNameKey, name)
	a.add(semconv.CICDPipelineRunIDKey, a.read(execenv.GitLabPipelineID))
	a.add(semconv.CICDPipelineRunURLFullKey, a.read(execenv.GitLabPipelineURL))
	a.add(semconv.CICDPipelineTaskNameKey, a.read(execenv.GitLabJobName))
	a.add(semconv.CICDPipelineTaskRunIDKey, a.read(execenv.GitLabJobID))
	a.add(semconv.CICDPipelineTaskRunURLFullKey, a.read(execenv.GitLabJobURL))
	a.add(semconv.CICDWorkerNameKey, a.read(execenv.GitLabRunnerDescription))
	a.add(semconv.CICDWorkerIDKey, a.read(execenv.GitLabRunnerID))
	a.add(semconv.VCSRepositoryURLFullKey, a.read(execenv.GitLabProjectURL))
	a.add(semconv.VCSRefHeadNameKey, a.read(execenv.GitLabCommitRefName))
	a.add(semconv.VCSRefHeadRevisionKey, a.read(execenv.GitLabCommitSHA))
	a.add(semconv.VCSChangeIDKey, a.read(execenv.GitLabMergeRequestIID))
	a.add(semconv.VCSProviderNameKey, "gitlab")
}

// jenkins maps Jenkins' variables (STAGE_NAME is set inside a pipeline's
// stages, CHANGE_ID in multibranch pull-request builds). Jenkins names no
// task run: EXECUTOR_NUMBER numbers an executor of one agent, which
// parallel stages on two agents share, so it is left out. The repository
// is the Git plugin's remote, which the job configures: it may hold
// credentials, or be an SSH address.
func (a *appender) jenkins() {
	number, id := a.read(execenv.JenkinsBuildNumber), a.read(execenv.JenkinsBuildID)
	if number == "" {
		number = id
	}
	a.add(semconv.CICDPipelineNameKey, a.read(execenv.JenkinsJobName))
	a.add(semconv.CICDPipelineRunIDKey, number)
	a.add(semconv.CICDPipelineRunURLFullKey, a.read(execenv.JenkinsBuildURL))
	a.add(semconv.CICDPipelineTaskNameKey, a.read(execenv.JenkinsStageName))
	a.add(semconv.CICDWorkerNameKey, a.read(execenv.JenkinsNodeName))
	a.add(semconv.VCSRepositoryURLFullKey, repositoryURL(a.read(execenv.JenkinsGitURL)))
	a.add(semconv.VCSRefHeadNameKey, a.read(execenv.JenkinsGitBranch))
	a.add(semconv.VCSRefHeadRevisionKey, a.read(execenv.JenkinsGitCommit))
	a.add(semconv.VCSChangeIDKey, a.read(execenv.JenkinsChangeID))
}

// buildkite maps Buildkite's variables. BUILDKITE_PULL_REQUEST is "false"
// outside pull requests, and BUILDKITE_COMMIT may be "HEAD" for a build
// started without a commit: neither is a value.
func (a *appender) buildkite() {
	a.add(semconv.CICDPipelineNameKey, a.read(execenv.BuildkitePipelineSlug))
	a.add(semconv.CICDPipelineRunIDKey, a.read(execenv.BuildkiteBuildID))
	a.add(semconv.CICDPipelineRunURLFullKey, a.read(execenv.BuildkiteBuildURL))
	a.add(semconv.CICDPipelineTaskNameKey, a.read(execenv.BuildkiteLabel))
	a.add(semconv.CICDPipelineTaskRunIDKey, a.read(execenv.BuildkiteJobID))
	a.add(semconv.CICDWorkerNameKey, a.read(execenv.BuildkiteAgentName))
	a.add(semconv.CICDWorkerIDKey, a.read(execenv.BuildkiteAgentID))
	a.add(semconv.VCSRepositoryURLFullKey, repositoryURL(a.read(execenv.BuildkiteRepo)))
	a.add(semconv.VCSRefHeadNameKey, a.read(execenv.BuildkiteBranch))
	if commit := a.read(execenv.BuildkiteCommit); commit != "HEAD" {
		a.add(semconv.VCSRefHeadRevisionKey, commit)
	}
	if pr := a.read(execenv.BuildkitePullRequest); pr != "false" {
		a.add(semconv.VCSChangeIDKey, pr)
	}
}

// Package execenv is the one list of the environment variables vigil reads
// from each program it sees start, with what each is read for: the trace
// context a process joins, the CI job it belongs to, and the dynamic
// loader's variables that put code into it. None of them holds a secret.
//
// The sensor takes these out of the kernel and no others (a configuration
// may add names); the stages after it name them from here: proctable the
// trace context, cicontext the CI job, the exporter the loader's.
package execenv

// Use says what vigil reads a variable for.
type Use uint8

// The uses of the variables.
const (
	// TraceContext is OpenTelemetry's context propagation through the
	// environment: the process's spans join that trace.
	TraceContext Use = iota + 1
	// CIJob names the CI pipeline, job, runner and commit a process
	// belongs to (cicontext).
	CIJob
	// Loader is the dynamic loader's: libraries loaded into the program
	// before its own (T1574.006), audit modules, the library search path.
	// Each exec's attributes carry them.
	Loader
)

// Var is a variable and what it is read for.
type Var struct {
	Name string
	Use  Use
}

// Trace context, as OpenTelemetry's environment carrier names it.
const (
	TraceParent = "TRACEPARENT"
	TraceState  = "TRACESTATE"
	Baggage     = "BAGGAGE"
	// BuildkiteTraceParent is where Buildkite's agent, tracing, puts its
	// trace context besides TRACEPARENT.
	BuildkiteTraceParent = "BUILDKITE_TRACING_TRACEPARENT"
)

// CI, set to true by most CI systems.
const CI = "CI"

// GitHub Actions.
const (
	GitHubActions    = "GITHUB_ACTIONS"
	GitHubAction     = "GITHUB_ACTION"
	GitHubRunID      = "GITHUB_RUN_ID"
	GitHubRunAttempt = "GITHUB_RUN_ATTEMPT"
	GitHubJob        = "GITHUB_JOB"
	GitHubWorkflow   = "GITHUB_WORKFLOW"
	GitHubRepository = "GITHUB_REPOSITORY"
	GitHubServerURL  = "GITHUB_SERVER_URL"
	GitHubSHA        = "GITHUB_SHA"
	GitHubRef        = "GITHUB_REF"
	GitHubRefName    = "GITHUB_REF_NAME"
	GitHubRunnerName = "RUNNER_NAME"
)

// GitLab CI.
const (
	GitLabCI                = "GITLAB_CI"
	GitLabPipelineID        = "CI_PIPELINE_ID"
	GitLabPipelineName      = "CI_PIPELINE_NAME"
	GitLabPipelineURL       = "CI_PIPELINE_URL"
	GitLabProjectPath       = "CI_PROJECT_PATH"
	GitLabProjectURL        = "CI_PROJECT_URL"
	GitLabJobID             = "CI_JOB_ID"
	GitLabJobName           = "CI_JOB_NAME"
	GitLabJobURL            = "CI_JOB_URL"
	GitLabRunnerID          = "CI_RUNNER_ID"
	GitLabRunnerDescription = "CI_RUNNER_DESCRIPTION"
	GitLabCommitSHA         = "CI_COMMIT_SHA"
	GitLabCommitRefName     = "CI_COMMIT_REF_NAME"
	GitLabMergeRequestIID   = "CI_MERGE_REQUEST_IID"
)

// Jenkins.
const (
	JenkinsURL            = "JENKINS_URL"
	JenkinsJobName        = "JOB_NAME"
	JenkinsBuildNumber    = "BUILD_NUMBER"
	JenkinsBuildID        = "BUILD_ID"
	JenkinsBuildURL       = "BUILD_URL"
	JenkinsStageName      = "STAGE_NAME"
	JenkinsNodeName       = "NODE_NAME"
	JenkinsExecutorNumber = "EXECUTOR_NUMBER"
	JenkinsGitURL         = "GIT_URL"
	JenkinsGitBranch      = "GIT_BRANCH"
	JenkinsGitCommit      = "GIT_COMMIT"
	JenkinsChangeID       = "CHANGE_ID"
)

// Buildkite.
const (
	Buildkite             = "BUILDKITE"
	BuildkiteBuildID      = "BUILDKITE_BUILD_ID"
	BuildkiteBuildURL     = "BUILDKITE_BUILD_URL"
	BuildkitePipelineSlug = "BUILDKITE_PIPELINE_SLUG"
	BuildkiteLabel        = "BUILDKITE_LABEL"
	BuildkiteJobID        = "BUILDKITE_JOB_ID"
	BuildkiteAgentName    = "BUILDKITE_AGENT_NAME"
	BuildkiteAgentID      = "BUILDKITE_AGENT_ID"
	BuildkiteRepo         = "BUILDKITE_REPO"
	BuildkiteBranch       = "BUILDKITE_BRANCH"
	BuildkiteCommit       = "BUILDKITE_COMMIT"
	BuildkitePullRequest  = "BUILDKITE_PULL_REQUEST"
)

// The dynamic loader's.
const (
	LDPreload     = "LD_PRELOAD"
	LDAudit       = "LD_AUDIT"
	LDLibraryPath = "LD_LIBRARY_PATH"
)

// LoaderNames returns the names of the Loader variables, as an array for a
// caller that reads them for every exec without allocating.
func LoaderNames() [3]string { return [3]string{LDPreload, LDAudit, LDLibraryPath} }

// Vars returns every variable, each once, with its use.
func Vars() []Var {
	var vars []Var
	add := func(use Use, names ...string) {
		for _, name := range names {
			vars = append(vars, Var{Name: name, Use: use})
		}
	}
	add(TraceContext, TraceParent, TraceState, Baggage, BuildkiteTraceParent)
	add(CIJob, CI,
		GitHubActions, GitHubAction, GitHubRunID, GitHubRunAttempt, GitHubJob, GitHubWorkflow,
		GitHubRepository, GitHubServerURL, GitHubSHA, GitHubRef, GitHubRefName, GitHubRunnerName,
		GitLabCI, GitLabPipelineID, GitLabPipelineName, GitLabPipelineURL, GitLabProjectPath, GitLabProjectURL,
		GitLabJobID, GitLabJobName, GitLabJobURL, GitLabRunnerID, GitLabRunnerDescription,
		GitLabCommitSHA, GitLabCommitRefName, GitLabMergeRequestIID,
		JenkinsURL, JenkinsJobName, JenkinsBuildNumber, JenkinsBuildID, JenkinsBuildURL, JenkinsStageName,
		JenkinsNodeName, JenkinsExecutorNumber, JenkinsGitURL, JenkinsGitBranch, JenkinsGitCommit, JenkinsChangeID,
		Buildkite, BuildkiteBuildID, BuildkiteBuildURL, BuildkitePipelineSlug, BuildkiteLabel,
		BuildkiteJobID, BuildkiteAgentName, BuildkiteAgentID, BuildkiteRepo, BuildkiteBranch,
		BuildkiteCommit, BuildkitePullRequest)
	loader := LoaderNames()
	add(Loader, loader[:]...)
	return vars
}

// Names returns the names of every variable, in the order of Vars.
func Names() []string {
	vars := Vars()
	names := make([]string, len(vars))
	for i, v := range vars {
		names[i] = v.Name
	}
	return names
}

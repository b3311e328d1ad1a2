package semconv

import (
	"go.opentelemetry.io/otel/attribute"
	otel "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// Keys of the CI job a process belongs to, read from the variables the CI
// system set in the job's environment (package cicontext).
const (
	// CICDPipelineNameKey holds the workflow, pipeline or job name.
	CICDPipelineNameKey = otel.CICDPipelineNameKey
	// CICDPipelineRunIDKey holds the run's id; on GitHub Actions
	// "<run id>-<attempt>", since a re-run keeps the run id.
	CICDPipelineRunIDKey = otel.CICDPipelineRunIDKey
	// CICDPipelineRunURLFullKey holds the address of the run's page.
	CICDPipelineRunURLFullKey = otel.CICDPipelineRunURLFullKey
	// CICDPipelineTaskNameKey holds the job's (Jenkins: the stage's) name.
	CICDPipelineTaskNameKey = otel.CICDPipelineTaskNameKey
	// CICDPipelineTaskRunIDKey holds the job's id; on GitHub Actions, which
	// does not expose it, "<run id>-<attempt>-<job>".
	CICDPipelineTaskRunIDKey = otel.CICDPipelineTaskRunIDKey
	// CICDPipelineTaskRunURLFullKey holds the address of the job's page.
	CICDPipelineTaskRunURLFullKey = otel.CICDPipelineTaskRunURLFullKey
	// CICDWorkerNameKey holds the name of the runner or agent.
	CICDWorkerNameKey = otel.CICDWorkerNameKey
	// CICDWorkerIDKey holds the id of the runner or agent.
	CICDWorkerIDKey = otel.CICDWorkerIDKey
	// CISystemKey holds which CI system ran the job: "github_actions",
	// "gitlab_ci", "jenkins", "buildkite", or "generic" when only CI=true
	// says it is one. OpenTelemetry has no key for it (cicd.system.component
	// names a part of the CI system, such as its agent).
	CISystemKey = attribute.Key("vigil.ci.system")
	// CIStepKey holds the step of the job, where the job has steps below
	// it: GitHub Actions' GITHUB_ACTION.
	CIStepKey = attribute.Key("vigil.ci.step")
)

// Keys of the commit a CI job builds.
const (
	// VCSRepositoryURLFullKey holds the repository's web address, without
	// credentials or a ".git" suffix.
	VCSRepositoryURLFullKey = otel.VCSRepositoryURLFullKey
	// VCSRefHeadNameKey holds the branch or tag the job builds.
	VCSRefHeadNameKey = otel.VCSRefHeadNameKey
	// VCSRefHeadRevisionKey holds the commit the job builds.
	VCSRefHeadRevisionKey = otel.VCSRefHeadRevisionKey
	// VCSChangeIDKey holds the pull or merge request's number.
	VCSChangeIDKey = otel.VCSChangeIDKey
	// VCSProviderNameKey holds "github" or "gitlab", for jobs of the CI
	// system that is also the repository's host.
	VCSProviderNameKey = otel.VCSProviderNameKey
)

// ContainerIDKey holds the id of the container vigil itself runs in, on the
// resource.
const ContainerIDKey = otel.ContainerIDKey

// K8SPodUIDKey holds the Kubernetes pod of a process, read from its cgroup
// path: what the Collector's k8sattributes processor associates by.
const K8SPodUIDKey = otel.K8SPodUIDKey

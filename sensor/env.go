package sensor

import (
	"fmt"
	"strings"
)

// DefaultEnv returns the environment variables the sensor reads by
// default: the trace context of the OpenTelemetry environment carrier, the
// variables by which CI systems name the pipeline, job, runner and commit a
// process belongs to, and the dynamic loader's variables that make it load
// code into a program (LD_PRELOAD, LD_AUDIT) or search for libraries
// elsewhere (LD_LIBRARY_PATH). None of them holds a secret.
func DefaultEnv() []string {
	return []string{
		// OpenTelemetry context propagation, and the CI-specific copies.
		"TRACEPARENT", "TRACESTATE", "BAGGAGE", "BUILDKITE_TRACING_TRACEPARENT",
		"CI",
		// GitHub Actions.
		"GITHUB_ACTIONS", "GITHUB_ACTION", "GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT", "GITHUB_JOB", "GITHUB_WORKFLOW",
		"GITHUB_REPOSITORY", "GITHUB_SERVER_URL", "GITHUB_SHA", "GITHUB_REF", "GITHUB_REF_NAME", "RUNNER_NAME",
		// GitLab CI.
		"GITLAB_CI", "CI_PIPELINE_ID", "CI_PIPELINE_NAME", "CI_PIPELINE_URL", "CI_PROJECT_PATH", "CI_PROJECT_URL",
		"CI_JOB_ID", "CI_JOB_NAME", "CI_JOB_URL", "CI_RUNNER_ID", "CI_RUNNER_DESCRIPTION",
		"CI_COMMIT_SHA", "CI_COMMIT_REF_NAME", "CI_MERGE_REQUEST_IID",
		// Jenkins.
		"JENKINS_URL", "JOB_NAME", "BUILD_NUMBER", "BUILD_ID", "BUILD_URL", "STAGE_NAME", "NODE_NAME",
		"EXECUTOR_NUMBER", "GIT_URL", "GIT_BRANCH", "GIT_COMMIT", "CHANGE_ID",
		// Buildkite.
		"BUILDKITE", "BUILDKITE_BUILD_ID", "BUILDKITE_BUILD_URL", "BUILDKITE_PIPELINE_SLUG", "BUILDKITE_LABEL",
		"BUILDKITE_JOB_ID", "BUILDKITE_AGENT_NAME", "BUILDKITE_AGENT_ID", "BUILDKITE_REPO", "BUILDKITE_BRANCH",
		"BUILDKITE_COMMIT", "BUILDKITE_PULL_REQUEST",
		// The dynamic loader: libraries loaded into the program before its
		// own (T1574.006), audit modules, the library search path.
		"LD_PRELOAD", "LD_AUDIT", "LD_LIBRARY_PATH",
	}
}

// The kernel's prefix table: ENV_PREFIX_SLOTS slots, a prefix in one of
// ENV_PREFIX_PROBES slots from its own.
const (
	envPrefixSlots  = 256
	envPrefixProbes = 4
)

// envKeySize is the kernel's ENV_KEY_SIZE: the bytes of "NAME=" the
// kernel compares, zero-padded.
const envKeySize = 64

// envFilter is the allow-list in the two forms the kernel checks: a table
// of 8-byte name prefixes that makes a variable a candidate cheaply, and
// the full names, as the keys of the map that admits them.
type envFilter struct {
	prefixes [envPrefixSlots]uint64
	keys     [][envKeySize]byte
	names    map[string]bool
}

func newEnvFilter(names []string) (envFilter, error) {
	f := envFilter{names: make(map[string]bool, len(names))}
	for _, name := range names {
		if name == "" || strings.ContainsAny(name, "=\x00") || len(name) > envKeySize-1 {
			return f, fmt.Errorf("environment variable name %q: want 1 to %d bytes without '=' or NUL", name, envKeySize-1)
		}
		if f.names[name] {
			continue
		}
		f.names[name] = true
		var key [envKeySize]byte
		copy(key[:], name+"=")
		f.keys = append(f.keys, key)
		if err := f.addPrefix(envPrefix(name)); err != nil {
			return f, fmt.Errorf("environment variable %s: %w", name, err)
		}
	}
	return f, nil
}

// envPrefix is what the kernel's env_candidate computes from "NAME=...":
// the bytes up to and including the first '=', at most 8, little-endian.
func envPrefix(name string) uint64 {
	var p uint64
	for i, c := range []byte(name + "=") {
		if i == 8 {
			break
		}
		p |= uint64(c) << (8 * i)
		if c == '=' {
			break
		}
	}
	return p
}

// envPrefixSlot is the kernel's env_prefix_slot.
func envPrefixSlot(p uint64) int { return int((p * 0x9E3779B97F4A7C15) >> 56) }

// addPrefix places p at its slot or one of the next, where the kernel looks.
func (f *envFilter) addPrefix(p uint64) error {
	slot := envPrefixSlot(p)
	for probe := range envPrefixProbes {
		i := (slot + probe) % envPrefixSlots
		if f.prefixes[i] == p || f.prefixes[i] == 0 {
			f.prefixes[i] = p
			return nil
		}
	}
	return fmt.Errorf("too many names share its prefix slot; shorten the allow-list")
}

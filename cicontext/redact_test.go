package cicontext

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/redact"
	"github.com/vigil-otel/vigil/semconv"
)

// TestAttributesRedacted: a job's variables go through the same redaction
// rules as command lines, before they are cut, for a process's job and for
// vigil's own.
func TestAttributesRedacted(t *testing.T) {
	r, err := redact.New(redact.Default())
	require.NoError(t, err)
	const secret = "Pw-zq9"
	// Cut first, the URL would lose its "@" and keep the start of the
	// password: 1021 bytes and an ellipsis fit in an attribute.
	long := strings.Repeat("x", 980) + " https://u:" + secret + strings.Repeat("-long", 8) + "@ci.example.com/"
	env := jenkinsMultibranch()
	env["BUILD_URL"] = "https://ci:" + secret + "@ci.example.com/job/vigil/job/PR-42/7/"
	env["NODE_NAME"] = "agent --token " + secret
	env["STAGE_NAME"] = long

	got := asMap(t, Attributes(env, r))
	assert.Equal(t, "https://ci:"+redact.Placeholder+"@ci.example.com/job/vigil/job/PR-42/7/", got[semconv.CICDPipelineRunURLFullKey])
	assert.Equal(t, "agent --token "+redact.Placeholder, got[semconv.CICDWorkerNameKey])
	assert.Equal(t, "vigil/PR-42", got[semconv.CICDPipelineNameKey], "the rest as it was")
	assert.Equal(t, "https://github.com/vigil-otel/vigil", got[semconv.VCSRepositoryURLFullKey])
	assert.Equal(t, long[:991]+redact.Placeholder+"@ci.example.com/", got[semconv.CICDPipelineTaskNameKey])
	for k, v := range got {
		assert.NotContains(t, v, secret[:4], "%s", k)
	}

	res, err := CIDetector(func(name string) string { return env[name] }, r).Detect(t.Context())
	require.NoError(t, err)
	for _, kv := range res.Attributes() {
		assert.NotContains(t, kv.Value.String(), secret[:4], "%s", kv.Key)
	}
	url, ok := res.Set().Value(semconv.CICDPipelineRunURLFullKey)
	require.True(t, ok)
	assert.Equal(t, got[semconv.CICDPipelineRunURLFullKey], url.AsString())
}

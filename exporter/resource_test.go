package exporter

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/vigil-otel/vigil/redact"
	"github.com/vigil-otel/vigil/semconv"
)

// failing is a detector that finds nothing, the way the host id detector
// does on a machine without /etc/machine-id.
type failing struct{}

func (failing) Detect(context.Context) (*resource.Resource, error) {
	return nil, errors.New("host id not found in: /etc/machine-id or /var/lib/dbus/machine-id")
}

func TestResourceSurvivesADetectorThatFindsNothing(t *testing.T) {
	res := newResource(context.Background(), Config{
		ServiceVersion: "1.2.3",
		Detectors:      []resource.Detector{failing{}, resource.StringDetector("", semconv.CICDPipelineNameKey, func() (string, error) { return "build", nil })},
		ServiceName:    "vigil-ci",
	})
	require.NotNil(t, res)
	got := map[attribute.Key]string{}
	for _, kv := range res.Attributes() {
		got[kv.Key] = kv.Value.String()
	}
	require.Equal(t, "vigil-ci", got[semconv.ServiceNameKey])
	require.Equal(t, "1.2.3", got[semconv.ServiceVersionKey])
	require.Equal(t, "build", got[semconv.CICDPipelineNameKey], "what the other detectors found stays")
	require.NotEmpty(t, got[semconv.HostNameKey])
}

// TestResourceRedacted: what vigil's own environment and detectors put on
// the resource goes through the redaction rules, as the command lines do.
func TestResourceRedacted(t *testing.T) {
	r, err := redact.New(redact.Default())
	require.NoError(t, err)
	const secret = "Pw-zq9"
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", string(semconv.VCSRepositoryURLFullKey)+"=https://ci:"+secret+"@git.example.com/o/r")
	res := newResource(context.Background(), Config{
		ServiceVersion: "1.2.3",
		Redactor:       r,
		Detectors: []resource.Detector{resource.StringDetector("", semconv.CICDPipelineRunURLFullKey, func() (string, error) {
			return "https://jenkins.example.com/job/x/1/?token=" + secret, nil
		})},
	})
	got := map[attribute.Key]string{}
	for _, kv := range res.Attributes() {
		require.NotContains(t, kv.Value.String(), secret, "%s", kv.Key)
		got[kv.Key] = kv.Value.String()
	}
	require.Equal(t, "https://ci:"+redact.Placeholder+"@git.example.com/o/r", got[semconv.VCSRepositoryURLFullKey])
	require.Equal(t, "https://jenkins.example.com/job/x/1/?token="+redact.Placeholder, got[semconv.CICDPipelineRunURLFullKey])
	require.Equal(t, "1.2.3", got[semconv.ServiceVersionKey], "the rest as it was")
	require.Equal(t, semconv.SchemaURL, res.SchemaURL())
}

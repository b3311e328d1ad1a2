package exporter

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"

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

package main

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/pipeline"
)

// TestDocumentIsCurrent: docs/counters.md is what the table gives.
func TestDocumentIsCurrent(t *testing.T) {
	got, err := os.ReadFile("../../../docs/counters.md")
	require.NoError(t, err)
	require.Equal(t, string(document(pipeline.Counters())), string(got),
		"docs/counters.md is not what pipeline.Counters gives: run `go generate ./pipeline/`")
}

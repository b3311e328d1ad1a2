package main

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// The sink prints an endpoint that takes logs and traces exports, and
// stops when its context ends.
func TestRunTakesExportsUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, w) }()

	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	endpoint := strings.TrimSpace(line)
	require.Regexp(t, `^http://127\.0\.0\.1:[0-9]+$`, endpoint)

	conn, err := grpc.NewClient(strings.TrimPrefix(endpoint, "http://"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()

	logs := plog.NewLogs()
	logs.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr("a detection")
	logResp, err := plogotlp.NewGRPCClient(conn).Export(ctx, plogotlp.NewExportRequestFromLogs(logs))
	require.NoError(t, err)
	require.Equal(t, int64(0), logResp.PartialSuccess().RejectedLogRecords())

	traces := ptrace.NewTraces()
	traces.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetName("a span")
	traceResp, err := ptraceotlp.NewGRPCClient(conn).Export(ctx, ptraceotlp.NewExportRequestFromTraces(traces))
	require.NoError(t, err)
	require.Equal(t, int64(0), traceResp.PartialSuccess().RejectedSpans())

	cancel()
	require.NoError(t, <-done)
}

// A bad address is an error, and nothing is printed.
func TestRunRefusesBadAddress(t *testing.T) {
	var out strings.Builder
	err := run(context.Background(), []string{"-addr", "127.0.0.1:notaport"}, &out)
	require.ErrorContains(t, err, "listen")
	require.Empty(t, out.String())
}

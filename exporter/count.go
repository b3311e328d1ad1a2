package exporter

import (
	"context"
	"sync/atomic"

	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// countingExporter counts what reaches the network exporter it wraps and
// what that exporter fails to deliver. The SDK's batch queue drops records
// without telling anyone when it overflows; comparing what went in with
// what came out at shutdown counts those too.
type countingExporter struct {
	sdklog.Exporter
	exported, failed atomic.Uint64
}

func (c *countingExporter) Export(ctx context.Context, records []sdklog.Record) error {
	err := c.Exporter.Export(ctx, records)
	if err != nil {
		c.failed.Add(uint64(len(records)))
	} else {
		c.exported.Add(uint64(len(records)))
	}
	return err
}

// Stats counts the detections the exporter handled.
type Stats struct {
	// Emitted is the number of detections emitted.
	Emitted uint64
	// Exported is the number the OTLP exporter delivered.
	Exported uint64
	// Failed is the number the OTLP exporter could not deliver; after
	// Shutdown it includes those dropped from a full queue or never sent.
	Failed uint64
}

// Stats returns the counts so far.
func (e *Exporter) Stats() Stats {
	st := Stats{Emitted: e.emitted.Load()}
	if e.otlp == nil {
		return st
	}
	st.Exported, st.Failed = e.otlp.exported.Load(), e.otlp.failed.Load()
	if e.shutdown.Load() && st.Emitted > st.Exported+st.Failed {
		st.Failed = st.Emitted - st.Exported
	}
	return st
}

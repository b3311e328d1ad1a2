package exporter

import (
	"time"

	"github.com/vigil-otel/vigil/delivery"
)

// Stats counts the detections and spans the exporter handled. They are
// current while it runs.
type Stats struct {
	// Emitted is the number of detections emitted.
	Emitted uint64
	// Exported is the number the OTLP receiver took.
	Exported uint64
	// Failed is the number that will never reach it: dropped from a full
	// queue or outbox, refused, or left in memory at the end without a
	// spool to keep them.
	Failed uint64
	// SpansEnded, SpansExported and SpansFailed count the sampled spans
	// the same way.
	SpansEnded, SpansExported, SpansFailed uint64
	// Queued and Spooled count the detections and spans kept for the
	// receiver, in memory and on disk; SpoolBytes is what the spool takes
	// on disk, and Oldest how long the oldest of them has waited.
	Queued, Spooled, SpoolBytes uint64
	Oldest                      time.Duration
	// JSONLLost, ConsoleLost and ReportLost count the detections the
	// local outputs dropped: stalled, failing or given up at the end.
	JSONLLost, ConsoleLost, ReportLost uint64
}

// Stats returns the counts so far.
func (e *Exporter) Stats() Stats {
	st := Stats{Emitted: e.emitted.Load(), JSONLLost: e.jsonl.Lost(), ConsoleLost: e.console.Lost(), ReportLost: e.report.Lost()}
	if e.logSender != nil {
		o := e.logSender.outbox.Stats()
		st.Exported, st.Failed = uint64(o.Delivered.Items), e.otlpLogs.Lost()+uint64(o.Lost())
		st.add(o)
	}
	if e.spanSender != nil {
		o := e.spanSender.outbox.Stats()
		st.SpansEnded = e.otlpSpans.Offered()
		st.SpansExported, st.SpansFailed = uint64(o.Delivered.Items), e.otlpSpans.Lost()+uint64(o.Lost())
		st.add(o)
	}
	return st
}

// add counts what an outbox keeps.
func (st *Stats) add(o delivery.Stats) {
	st.Queued += uint64(o.Queued.Items)
	st.Spooled += uint64(o.Spooled.Items)
	st.SpoolBytes += uint64(o.DiskBytes)
	st.Oldest = max(st.Oldest, o.Oldest)
}

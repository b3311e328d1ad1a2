package pipeline

import (
	"github.com/vigil-otel/vigil/semconv"
)

// Stage is where in the data flow a counter counts.
type Stage string

// The stages, in the order the data flows.
const (
	StageSensor       Stage = "sensor"
	StageRingBuffer   Stage = "ring buffer"
	StageDecode       Stage = "decode"
	StageProcessTable Stage = "process table"
	StageRecipes      Stage = "recipes"
	StageExport       Stage = "export"
)

// Kind says what a counter tells of a run.
type Kind int

const (
	// Seen counts what went through, or is held.
	Seen Kind = iota
	// Lost counts events, detections or spans lost: vigil.lost reports it
	// under its LossStage, and the summary adds it to the total lost.
	Lost
	// Degraded counts what vigil saw but handled with less than it had:
	// nothing is lost, yet a detection may be missing.
	Degraded
)

func (k Kind) String() string {
	switch k {
	case Lost:
		return "lost"
	case Degraded:
		return "degraded"
	}
	return "seen"
}

// Counter is one of vigil's counts, described once: the run summary, the
// self-metrics and docs/counters.md are all written from [Counters].
type Counter struct {
	// Metric is the self-metric that reports the count; Lost counters share
	// semconv.MetricLost, each under its LossStage.
	Metric string
	// LossStage is a Lost counter's value of vigil.loss.stage. Two counters
	// may share one: the metric reports their sum.
	LossStage string
	// Unit is the metric's unit, in UCUM.
	Unit string
	// Gauge says the count is a level, not a running total.
	Gauge bool
	// Stage is where the count is taken.
	Stage Stage
	Kind  Kind
	// Label names the count in the run summary's first line; empty leaves
	// it out.
	Label string
	// Meaning is one line for people: the metric's description and the
	// docs' explanation.
	Meaning string
	// Value reads the count from a Summary.
	Value func(Summary) uint64
}

// Counters lists vigil's counts, what was seen first, then what was lost,
// then what was degraded: the order in which the summary and the docs give
// them. vigil.detections, counted
// by recipe as detections happen, is listed for the summary and the docs;
// its instrument is made apart.
func Counters() []Counter {
	return []Counter{
		{Metric: semconv.MetricEvents, Unit: "{event}", Stage: StageSensor, Kind: Seen, Label: "events",
			Meaning: "Exec, fork and exit events the sensor delivered.",
			Value:   func(s Summary) uint64 { return s.Sensor.Events }},
		{Metric: semconv.MetricExecs, Unit: "{exec}", Stage: StageSensor, Kind: Seen,
			Meaning: "Execs seen; their rate is the machine's exec rate.",
			Value:   func(s Summary) uint64 { return s.Execs }},
		{Metric: semconv.MetricDetections, Unit: "{detection}", Stage: StageRecipes, Kind: Seen, Label: "detections",
			Meaning: "Detections, by recipe and importance.",
			Value:   func(s Summary) uint64 { return s.Detections }},
		{Metric: semconv.MetricProcesses, Unit: "{process}", Gauge: true, Stage: StageProcessTable, Kind: Seen, Label: "processes known",
			Meaning: "Processes in the process table.",
			Value:   func(s Summary) uint64 { return uint64(s.Processes) }},
		{Metric: semconv.MetricRingBufferPending, Unit: "By", Gauge: true, Stage: StageRingBuffer, Kind: Seen,
			Meaning: "Bytes the kernel has queued for vigil and vigil has not read yet.",
			Value:   func(s Summary) uint64 { return s.Pending }},
		{Metric: semconv.MetricExportQueued, Unit: "{item}", Gauge: true, Stage: StageExport, Kind: Seen, Label: "kept in memory for the receiver",
			Meaning: "Detections and spans kept in memory until the OTLP receiver takes them.",
			Value:   func(s Summary) uint64 { return s.Exporter.Queued }},
		{Metric: semconv.MetricExportSpooled, Unit: "{item}", Gauge: true, Stage: StageExport, Kind: Seen, Label: "kept on disk for the receiver",
			Meaning: "Detections and spans kept in the spool, on disk, until the OTLP receiver takes them; sent at the next start if not before.",
			Value:   func(s Summary) uint64 { return s.Exporter.Spooled }},
		{Metric: semconv.MetricExportSpoolSize, Unit: "By", Gauge: true, Stage: StageExport, Kind: Seen,
			Meaning: "What the spool takes on disk.",
			Value:   func(s Summary) uint64 { return s.Exporter.SpoolBytes }},
		{Metric: semconv.MetricExportOldest, Unit: "s", Gauge: true, Stage: StageExport, Kind: Seen,
			Meaning: "How long the oldest detection or span kept for the OTLP receiver has waited.",
			Value:   func(s Summary) uint64 { return uint64(s.Exporter.Oldest.Seconds()) }},
		{Metric: semconv.MetricLost, LossStage: "ring_buffer", Unit: "{event}", Stage: StageRingBuffer, Kind: Lost, Label: "ring buffer full",
			Meaning: "Records the kernel could not write because the ring buffer was full.",
			Value:   func(s Summary) uint64 { return s.Sensor.RingBufferDrops }},
		{Metric: semconv.MetricLost, LossStage: "filter", Unit: "{event}", Stage: StageSensor, Kind: Lost, Label: "filter full",
			Meaning: "Events of descendants of the followed process that the kernel could not add to its filter.",
			Value:   func(s Summary) uint64 { return s.Sensor.TrackDrops }},
		{Metric: semconv.MetricLost, LossStage: "scratch", Unit: "{event}", Stage: StageSensor, Kind: Lost, Label: "scratch busy",
			Meaning: "Execs lost because another exec on the same CPU held the kernel's scratch buffer.",
			Value:   func(s Summary) uint64 { return s.Sensor.ScratchBusyDrops }},
		{Metric: semconv.MetricLost, LossStage: "decode", Unit: "{event}", Stage: StageDecode, Kind: Lost, Label: "undecodable",
			Meaning: "Records that could not be decoded; the first one's error is logged.",
			Value:   func(s Summary) uint64 { return s.Sensor.DecodeErrors }},
		{Metric: semconv.MetricLost, LossStage: "export", Unit: "{event}", Stage: StageExport, Kind: Lost, Label: "export refused",
			Meaning: "Detections the exporter refused.",
			Value:   func(s Summary) uint64 { return s.EmitErrors }},
		{Metric: semconv.MetricLost, LossStage: "export", Unit: "{event}", Stage: StageExport, Kind: Lost, Label: "export failed",
			Meaning: "Detections that will never reach the OTLP receiver: refused by it, dropped from a full queue or spool, too old, or left in memory at the end without a spool.",
			Value:   func(s Summary) uint64 { return s.Exporter.Failed }},
		{Metric: semconv.MetricLost, LossStage: "span_export", Unit: "{event}", Stage: StageExport, Kind: Lost, Label: "span export failed",
			Meaning: "Spans of traced processes the OTLP exporter did not deliver, the same way.",
			Value:   func(s Summary) uint64 { return s.Exporter.SpansFailed }},
		{Metric: semconv.MetricLost, LossStage: "output", Unit: "{event}", Stage: StageExport, Kind: Lost, Label: "JSON lines dropped",
			Meaning: "Detections the JSON lines output dropped: it did not keep up (a pipe nobody reads), failed, or was given up at the end.",
			Value:   func(s Summary) uint64 { return s.Exporter.JSONLLost }},
		{Metric: semconv.MetricLost, LossStage: "output", Unit: "{event}", Stage: StageExport, Kind: Lost, Label: "console lines dropped",
			Meaning: "Detections the console output dropped, the same way.",
			Value:   func(s Summary) uint64 { return s.Exporter.ConsoleLost }},
		{Metric: semconv.MetricLost, LossStage: "output", Unit: "{event}", Stage: StageExport, Kind: Lost, Label: "report entries dropped",
			Meaning: "Detections the run's report missed, the same way.",
			Value:   func(s Summary) uint64 { return s.Exporter.ReportLost }},
		{Metric: semconv.MetricLost, LossStage: "output", Unit: "{event}", Stage: StageExport, Kind: Lost, Label: "recording lines dropped",
			Meaning: "Events the recording (--record) dropped, the same way.",
			Value:   func(s Summary) uint64 { return s.RecordingLost }},
		{Metric: semconv.MetricEvictions, Unit: "{process}", Stage: StageProcessTable, Kind: Degraded, Label: "process table evictions",
			Meaning: "Processes the full process table forgot.",
			Value:   func(s Summary) uint64 { return s.TableEvictions }},
		{Metric: semconv.MetricBadTraceparents, Unit: "{exec}", Stage: StageProcessTable, Kind: Degraded, Label: "invalid TRACEPARENT ignored",
			Meaning: "Execs whose TRACEPARENT was not valid W3C trace context, and was ignored.",
			Value:   func(s Summary) uint64 { return s.BadTraceparents }},
		{Metric: semconv.MetricSequenceEvictions, Unit: "{sequence}", Stage: StageRecipes, Kind: Degraded, Label: "sequences begun and forgotten",
			Meaning: "Sequences begun that sequence recipes forgot to keep their state within bounds: a detection each may have missed.",
			Value:   func(s Summary) uint64 { return s.SequenceEvictions }},
		{Metric: semconv.MetricLimitEvictions, Unit: "{key}", Stage: StageRecipes, Kind: Degraded, Label: "report limit keys forgotten",
			Meaning: "Keys that recipes' report limits forgot before their window ran out, to keep within bounds: each may be reported again sooner than its limit says.",
			Value:   func(s Summary) uint64 { return s.LimitEvictions }},
		{Metric: semconv.MetricEvalErrors, Unit: "{evaluation}", Stage: StageRecipes, Kind: Degraded, Label: "recipe expressions failed",
			Meaning: "Evaluations of recipes' expressions that failed at run time, and so did not match.",
			Value:   func(s Summary) uint64 { return s.EvalErrorTotal }},
	}
}

// Losses returns what was lost, by stage (the values of vigil.loss.stage):
// the Lost counters of [Counters], summed by LossStage. The metric and the
// report both read it.
func (s Summary) Losses() map[string]uint64 {
	out := make(map[string]uint64)
	for _, c := range Counters() {
		if c.Kind == Lost {
			out[c.LossStage] += c.Value(s)
		}
	}
	return out
}

// Lost is the total of Losses.
func (s Summary) Lost() uint64 {
	var n uint64
	for _, v := range s.Losses() {
		n += v
	}
	return n
}

// Package report turns the detections of a watched run into what a CI
// system shows: Markdown for a job summary, JUnit XML for its test-report
// view, JSON to keep or read back, and text for a terminal.
//
// Detections come in as vigil's JSON lines (the --jsonl format), whether a
// running vigil hands them over as it makes them or a file holds them
// afterwards: a report knows the detection record, not the stages that
// made it.
package report

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/vigil-otel/vigil/recipe"
)

// FormatVersion is the version of the JSON report's shape, written as its
// "vigil_report" field; Read refuses another.
const FormatVersion = 1

// DefaultMaxDetections bounds the detections a report lists; past it they
// are counted, not kept, so that watching a machine for days has a bounded
// cost.
const DefaultMaxDetections = 10000

// Report is what a watched run saw, and what it decided.
type Report struct {
	Format  int    `json:"vigil_report"`
	Version string `json:"vigil_version,omitempty"`
	// Command is the watched command, redacted; empty when vigil watched
	// the machine.
	Command []string `json:"command,omitempty"`
	// ExitCode is the command's status, as a shell reports it.
	ExitCode *int      `json:"exit_code,omitempty"`
	Start    time.Time `json:"start,omitzero"`
	End      time.Time `json:"end,omitzero"`
	// TraceID is the trace of the watched command, when it ran in one.
	TraceID string `json:"trace_id,omitempty"`
	// Execs and Lost are nil when not known: a report made from a file of
	// detections knows only the detections.
	Execs *uint64 `json:"execs,omitempty"`
	Lost  *Losses `json:"lost,omitempty"`
	// Total counts every detection, listed or not.
	Total uint64 `json:"total"`
	// Recipes counts the detections by recipe and importance, most
	// important first.
	Recipes []RecipeCount `json:"recipes"`
	// Detections lists them in the order they came, at most the report's
	// bound; Omitted counts the rest.
	Detections []Detection `json:"detections"`
	Omitted    uint64      `json:"omitted,omitempty"`
	// Policy is the --fail-on verdict, when one was asked for.
	Policy *Policy `json:"policy,omitempty"`

	// limit bounds Detections; guarded, with what Add changes, by mu.
	// The run's fields (Command, ExitCode, Start, ...) are the caller's to
	// set before the report is written, not while detections come in.
	limit int
	mu    sync.Mutex
}

// Losses are the events and detections lost on the way, by stage (the
// values of the vigil.loss.stage attribute).
type Losses struct {
	Total   uint64            `json:"total"`
	ByStage map[string]uint64 `json:"by_stage,omitempty"`
}

// RecipeCount counts the detections of one recipe at one importance.
type RecipeCount struct {
	Recipe      string            `json:"recipe"`
	Importance  recipe.Importance `json:"importance"`
	Description string            `json:"description,omitempty"`
	Reference   string            `json:"reference,omitempty"`
	Tactic      string            `json:"tactic,omitempty"`
	Count       uint64            `json:"count"`
}

// Detection is one detection, as a report shows it.
type Detection struct {
	Time        time.Time         `json:"time"`
	Recipe      string            `json:"recipe"`
	Importance  recipe.Importance `json:"importance"`
	Description string            `json:"description,omitempty"`
	Reference   string            `json:"reference,omitempty"`
	// Tactic and Technique are "ID Name", as ATT&CK writes them.
	Tactic     string   `json:"tactic,omitempty"`
	Technique  string   `json:"technique,omitempty"`
	PID        int64    `json:"pid"`
	PPID       int64    `json:"ppid"`
	Executable string   `json:"executable"`
	Args       []string `json:"args,omitempty"`
	// ArgsCount is the real count of the arguments, of which Args holds
	// only the first when ArgsTruncated says the sensor cut them.
	ArgsCount     int64  `json:"args_count,omitempty"`
	ArgsTruncated bool   `json:"args_truncated,omitempty"`
	UserID        int64  `json:"user_id"`
	Cwd           string `json:"cwd,omitempty"`
	ContainerID   string `json:"container_id,omitempty"`
	// Ancestors are "PID COMMAND LINE", parent first.
	Ancestors []string `json:"ancestors,omitempty"`
	// Steps are, for a sequence recipe, the execs of its earlier steps,
	// "PID COMMAND LINE", oldest first.
	Steps []string `json:"steps,omitempty"`
	// Job and Step say where in the CI job the process ran; Pipeline and
	// RunURL which run it was.
	Pipeline string `json:"pipeline,omitempty"`
	RunURL   string `json:"run_url,omitempty"`
	Job      string `json:"job,omitempty"`
	Step     string `json:"step,omitempty"`
	TraceID  string `json:"trace_id,omitempty"`
	SpanID   string `json:"span_id,omitempty"`
}

// Where names the step a detection happened in: "job / step", either one
// alone, or "" outside CI.
func (d *Detection) Where() string {
	switch {
	case d.Job != "" && d.Step != "":
		return d.Job + " / " + d.Step
	case d.Job != "":
		return d.Job
	}
	return d.Step
}

// New returns an empty report that lists at most limit detections:
// DefaultMaxDetections when max is 0, none when it is negative (the report
// then only counts, which is all a verdict needs).
func New(limit int) *Report {
	switch {
	case limit == 0:
		limit = DefaultMaxDetections
	case limit < 0:
		limit = 0
	}
	return &Report{Format: FormatVersion, limit: limit}
}

// Add counts d, and lists it while there is room.
func (r *Report) Add(d Detection) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Total++
	i := slices.IndexFunc(r.Recipes, func(c RecipeCount) bool { return c.Recipe == d.Recipe && c.Importance == d.Importance })
	if i < 0 {
		r.Recipes = append(r.Recipes, RecipeCount{
			Recipe: d.Recipe, Importance: d.Importance, Description: d.Description,
			Reference: d.Reference, Tactic: d.Tactic,
		})
		i = len(r.Recipes) - 1
	}
	r.Recipes[i].Count++
	if len(r.Detections) < r.limit {
		r.Detections = append(r.Detections, d)
	} else {
		r.Omitted++
	}
}

// byImportance counts the detections of each importance.
func (r *Report) byImportance() map[recipe.Importance]uint64 {
	counts := make(map[recipe.Importance]uint64)
	for _, c := range r.Recipes {
		counts[c.Importance] += c.Count
	}
	return counts
}

// sortedRecipes returns the recipe counts most important first, then by
// name.
func (r *Report) sortedRecipes() []RecipeCount {
	out := slices.Clone(r.Recipes)
	slices.SortStableFunc(out, func(a, b RecipeCount) int {
		return cmp.Or(cmp.Compare(b.Importance, a.Importance), cmp.Compare(a.Recipe, b.Recipe))
	})
	return out
}

// sorted returns the listed detections most important first, then in
// time order.
func (r *Report) sorted() []Detection {
	out := slices.Clone(r.Detections)
	slices.SortStableFunc(out, func(a, b Detection) int {
		return cmp.Or(cmp.Compare(b.Importance, a.Importance), a.Time.Compare(b.Time))
	})
	return out
}

// steps counts the detections listed by the step they happened in, in
// the order the steps first had one.
func (r *Report) steps() []stepCount {
	var out []stepCount
	for i := range r.Detections {
		d := &r.Detections[i]
		where := d.Where()
		j := slices.IndexFunc(out, func(s stepCount) bool { return s.step == where })
		if j < 0 {
			out = append(out, stepCount{step: where})
			j = len(out) - 1
		}
		out[j].count++
		out[j].highest = max(out[j].highest, d.Importance)
	}
	return out
}

// stepCount counts the detections of one step.
type stepCount struct {
	step    string
	count   uint64
	highest recipe.Importance
}

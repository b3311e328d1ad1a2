// Package report turns bench/run.sh's measurements into the benchmark's
// figures: each run's row in the results file and its line on the
// terminal, each tracer's ratio to the baseline of its own pair, and the
// summary of an invocation (medians over the undisturbed pairs, totals,
// the baseline's spread, the undisturbed pairs, vigil against its aims).
// bench/README.md documents every column.
package report

import (
	"bufio"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// Unknown is what the results write for a figure that does not apply or
// cannot be known.
const Unknown = "-"

// Run is one run's row of the results file: a tab-separated file of
// these columns, in this order, after comment lines starting with "#".
// Figures are kept as the file writes them; "" and Unknown both mean
// unknown.
type Run struct {
	Round              string `tsv:"round"`
	Pair               string `tsv:"pair"`
	Config             string `tsv:"config"`
	Position           string `tsv:"position"` // 1 or 2: first or second in its pair
	Status             string `tsv:"status"`   // StatusOK, StatusFailed or StatusUnavailable
	Execs              string `tsv:"execs"`
	Seconds            string `tsv:"seconds"`
	Rate               string `tsv:"rate"`
	BaseRate           string `tsv:"base_rate"`
	Ratio              string `tsv:"ratio"`
	CPUms              string `tsv:"cpu_ms"`
	CPUusPerExec       string `tsv:"cpu_us_per_exec"`
	CPUsPer1000Execs   string `tsv:"cpu_s_per_1000_execs"`
	WindowExecs        string `tsv:"window_execs"`
	CPUusPerWindowExec string `tsv:"cpu_us_per_window_exec"`
	BPFProgs           string `tsv:"bpf_progs"`
	BPFms              string `tsv:"bpf_ms"`
	BPFRuns            string `tsv:"bpf_runs"`
	BPFnsPerExec       string `tsv:"bpf_ns_per_exec"`
	Events             string `tsv:"events"`
	ExecEvents         string `tsv:"exec_events"`
	Drops              string `tsv:"drops"`
	OtherCPUPct        string `tsv:"other_cpu_pct"`
	Disturbed          string `tsv:"disturbed"` // 1 or 0; Unknown when not checked
	Note               string `tsv:"note"`
	// Added after the columns above, which older files end with.
	RSSPeakKB  string `tsv:"rss_peak_kb"` // the tracer's peak resident set (VmHWM)
	RSSAnonKB  string `tsv:"rss_anon_kb"` // its anonymous resident memory at the end (RssAnon)
	Detections string `tsv:"detections"`  // vigil's detections over its whole life
}

// The statuses of a run.
const (
	StatusOK          = "ok"
	StatusFailed      = "failed"      // the tracer died during the storm
	StatusUnavailable = "unavailable" // the config cannot run here; Note says why
)

// NoteTracerDied is the note of a run whose tracer died during the storm.
const NoteTracerDied = "tracer died during the storm"

// The configs the figures treat apart: the baseline, with no tracer;
// vigil watching the machine; and vigil watching it with a recipe that
// makes every storm exec a detection.
const (
	Baseline     = "none"
	Vigil        = "vigil"
	VigilDetects = "vigil-detect"
)

// Columns returns the results file's columns, in order.
func Columns() []string {
	t := reflect.TypeFor[Run]()
	names := make([]string, t.NumField())
	for i := range names {
		names[i] = t.Field(i).Tag.Get("tsv")
	}
	return names
}

// cells returns the run's figures in the order of Columns.
func (r *Run) cells() []*string {
	v := reflect.ValueOf(r).Elem()
	cells := make([]*string, v.NumField())
	for i := range cells {
		cells[i] = v.Field(i).Addr().Interface().(*string)
	}
	return cells
}

// WriteHeader writes the results file's line of column names.
func WriteHeader(w io.Writer) error {
	_, err := fmt.Fprintln(w, strings.Join(Columns(), "\t"))
	return err
}

// WriteRun writes the run's row, Unknown for every figure not set.
func WriteRun(w io.Writer, r Run) error {
	cells := r.cells()
	row := make([]string, len(cells))
	for i, c := range cells {
		row[i] = orUnknown(*c)
	}
	_, err := fmt.Fprintln(w, strings.Join(row, "\t"))
	return err
}

// ReadRuns reads a results file: the line of column names, then a row per
// run. Columns are found by name, so a file with columns added or missing
// still reads (a missing column is Unknown).
func ReadRuns(r io.Reader) ([]Run, error) {
	var (
		runs  []Run
		index []int // field of Run for each column of the file, -1 if none
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Split(text, "\t")
		if fields[0] == "round" {
			index = columnIndex(fields)
			continue
		}
		if index == nil {
			return nil, fmt.Errorf("line %d: a row before the line of column names", line)
		}
		run := Run{}
		cells := run.cells()
		for _, c := range cells {
			*c = Unknown
		}
		for i, f := range fields {
			if i < len(index) && index[i] >= 0 {
				*cells[index[i]] = f
			}
		}
		runs = append(runs, run)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	return runs, nil
}

func columnIndex(names []string) []int {
	field := make(map[string]int)
	for i, c := range Columns() {
		field[c] = i
	}
	index := make([]int, len(names))
	for i, n := range names {
		if f, ok := field[n]; ok {
			index[i] = f
		} else {
			index[i] = -1
		}
	}
	return index
}

func orUnknown(s string) string {
	if s == "" {
		return Unknown
	}
	return s
}

func known(s string) bool { return s != "" && s != Unknown }

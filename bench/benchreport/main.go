// Command benchreport does the arithmetic of bench/run.sh, which drives the
// storms and the tracers and hands over what it measured:
//
//	benchreport columns                    the results file's line of column names
//	benchreport runs [flags] <RECORDS      the rows of a pair's runs: appended to
//	                                       -out, printed one line each; exit status 3
//	                                       when other work disturbed the pair
//	benchreport summary [-configs LIST] FILE
//	                                       the summary of a results file
//
// RECORDS has a line per run, in the order the runs ran: tab-separated
// KEY=VALUE fields, every one optional but the run's identity (round,
// pair, config, position, status). A run that did not happen
// (status=unavailable) needs only its note. The others:
//
//	storm            the storm's result line, "execs=N seconds=S rate=R jobs=J"
//	busy_ticks       the machine's busy time while the storm ran, clock ticks
//	storm_ticks      the storm's own CPU time (cutime + cstime), clock ticks
//	tracer_storm_ns  the tracer's CPU time while the storm ran
//	tracer_ns        the tracer's CPU time over the measured window
//	bpf_progs        the tracer's BPF program ids, comma-separated
//	bpf_before       `bpftool prog show --json` at the window's start (bpf_stats on)
//	bpf_after        the same at its end
//	vigil_log        vigil's standard error, with its exit summary
//	detect_recipe    the recipe whose detections are the storm's execs (vigil-detect)
//	proc_status      a copy of the tracer's /proc/PID/status just before it stopped
//	bpftrace_out     bpftrace's output; bpftrace_log its standard error
//	audit_log        the audit log, read from byte audit_from to audit_to
//	window_start     the measured window, seconds since the epoch (the audit
//	window_end       records stamped within it are the window's execs)
//	drops            events the tracer lost, where run.sh counts them (auditd)
//	note             why the run failed or the config is unavailable
//
// Any run can be summarized again from its results file:
//
//	go run ./bench/benchreport summary /tmp/vigil-bench-DATE.tsv
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/vigil-otel/vigil/bench/internal/readings"
	"github.com/vigil-otel/vigil/bench/internal/report"
)

// exitDisturbed is the exit status of runs when the pair was disturbed.
const exitDisturbed = 3

func main() {
	disturbed, err := run(os.Args[1:], os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
	if disturbed {
		os.Exit(exitDisturbed)
	}
}

// run runs the command of args; disturbed is the runs command's verdict on
// the pair.
func run(args []string, stdin io.Reader, stdout io.Writer) (disturbed bool, err error) {
	if len(args) == 0 {
		return false, errors.New("usage: benchreport columns | runs [flags] | summary [-configs LIST] FILE")
	}
	switch args[0] {
	case "columns":
		return false, report.WriteHeader(stdout)
	case "runs":
		return runs(args[1:], stdin, stdout)
	case "summary":
		return false, summary(args[1:], stdout)
	default:
		return false, fmt.Errorf("unknown command %q", args[0])
	}
}

// runsOptions are the flags of the runs command.
type runsOptions struct {
	out       string
	rounds    int
	quiet     float64
	machine   report.Machine
	stormProg string
	auditKey  string
	width     int // of the config column
}

func runs(args []string, stdin io.Reader, stdout io.Writer) (disturbed bool, err error) {
	var opts runsOptions
	fs := flag.NewFlagSet("runs", flag.ContinueOnError)
	fs.StringVar(&opts.out, "out", "", "the results file to append the rows to")
	fs.IntVar(&opts.rounds, "rounds", 0, "the invocation's rounds, for the lines printed")
	fs.Float64Var(&opts.quiet, "quiet", 10, "other work allowed, % of the machine's CPU; 0: not checked")
	fs.IntVar(&opts.machine.CPUs, "cpus", 0, "the machine's online cores")
	fs.IntVar(&opts.machine.ClockTicks, "clock-ticks", 100, "clock ticks per second of /proc (CLK_TCK)")
	fs.StringVar(&opts.stormProg, "storm-prog", "", "the storm's path to /bin/true, which tells its execs in the tracers' output")
	fs.StringVar(&opts.auditKey, "audit-key", "vigil-bench", "the key of the audit rule")
	configs := fs.String("configs", "", "the invocation's configs, to align the lines printed")
	if err := fs.Parse(args); err != nil {
		return false, err
	}
	opts.width = report.ConfigWidth(strings.Fields(*configs))
	if opts.out == "" || opts.machine.CPUs <= 0 {
		return false, errors.New("runs needs -out and -cpus")
	}

	var pair []report.Run
	sc := bufio.NewScanner(stdin)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if sc.Text() == "" {
			continue
		}
		m, err := measurement(record(sc.Text()), opts)
		if err != nil {
			return false, err
		}
		pair = append(pair, report.NewRun(m, opts.machine))
	}
	if err := sc.Err(); err != nil {
		return false, fmt.Errorf("read the records: %w", err)
	}
	disturbed = report.Pair(pair, opts.quiet)

	f, err := os.OpenFile(opts.out, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return false, fmt.Errorf("open the results: %w", err)
	}
	for _, r := range pair {
		if err := report.WriteRun(f, r); err != nil {
			f.Close()
			return false, fmt.Errorf("write the results: %w", err)
		}
		if line := report.Line(r, opts.rounds, opts.width); line != "" {
			fmt.Fprintln(stdout, line)
		}
	}
	if err := f.Close(); err != nil {
		return false, fmt.Errorf("write the results: %w", err)
	}
	return disturbed, nil
}

// record splits a line of KEY=VALUE fields.
func record(line string) map[string]string {
	rec := make(map[string]string)
	for _, field := range strings.Split(line, "\t") {
		if k, v, ok := strings.Cut(field, "="); ok {
			rec[k] = v
		}
	}
	return rec
}

// measurement reads what a record says about a run, and the files it
// names.
func measurement(rec map[string]string, opts runsOptions) (report.Measurement, error) {
	m := report.Measurement{
		Round: rec["round"], Pair: rec["pair"], Config: rec["config"], Position: rec["position"],
		Status: rec["status"], Note: rec["note"],
	}
	if m.Status == report.StatusUnavailable {
		return m, nil
	}
	what := fmt.Sprintf("pair %s, %s", m.Pair, m.Config)
	var err error
	if m.Storm, err = readings.ParseStorm(rec["storm"]); err != nil {
		return m, fmt.Errorf("%s: %w", what, err)
	}
	var ints []error
	integer := func(key string) readings.Count {
		v, ok := rec[key]
		if !ok || v == "" {
			return readings.Count{}
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			ints = append(ints, fmt.Errorf("%s: %w", key, err))
			return readings.Count{}
		}
		return readings.Known(n)
	}
	m.BusyTicks = integer("busy_ticks").N
	m.StormTicks = integer("storm_ticks").N
	m.TracerStormNS = integer("tracer_storm_ns")
	m.TracerNS = integer("tracer_ns")
	m.Drops = integer("drops")
	if err := errors.Join(ints...); err != nil {
		return m, fmt.Errorf("%s: %w", what, err)
	}

	if rec["bpf_before"] != "" && rec["bpf_after"] != "" {
		if err := readBPF(&m, rec); err != nil {
			return m, fmt.Errorf("%s: %w", what, err)
		}
	}
	if path := rec["vigil_log"]; path != "" {
		if err := readVigil(&m, path, rec["detect_recipe"]); err != nil {
			return m, fmt.Errorf("%s: %w", what, err)
		}
	}
	if path := rec["proc_status"]; path != "" {
		if err := readProcStatus(&m, path); err != nil {
			return m, fmt.Errorf("%s: %w", what, err)
		}
	}
	if path := rec["bpftrace_out"]; path != "" {
		if err := readBpftrace(&m, path, rec["bpftrace_log"], opts.stormProg); err != nil {
			return m, fmt.Errorf("%s: %w", what, err)
		}
	}
	if path := rec["audit_log"]; path != "" {
		if err := readAudit(&m, rec, opts); err != nil {
			return m, fmt.Errorf("%s: %w", what, err)
		}
	}
	return m, nil
}

func summary(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("summary", flag.ContinueOnError)
	configs := fs.String("configs", "", "the configs, in the order of the summary (default: the order they first ran)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: benchreport summary [-configs LIST] FILE")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	runs, err := report.ReadRuns(f)
	if err != nil {
		return fmt.Errorf("%s: %w", fs.Arg(0), err)
	}
	return report.Summarize(runs, strings.Fields(*configs)).Write(stdout)
}

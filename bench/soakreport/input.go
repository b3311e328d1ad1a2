package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/vigil-otel/vigil/bench/internal/readings"
)

// What bench/soak.sh writes down: the samples of vigil's /proc files and
// the marks of the soak's moments.

// Sample is one reading of vigil's /proc/PID/status and /proc/PID/stat.
type Sample struct {
	Time                   float64 // seconds since the epoch
	RSSKB, AnonKB, PeakKB  int64   // VmRSS, RssAnon, VmHWM
	UTimeTicks, STimeTicks int64   // utime, stime
}

// sampleColumns is the header of the samples file bench/soak.sh writes.
var sampleColumns = []string{"unix_s", "vm_rss_kb", "rss_anon_kb", "vm_hwm_kb", "utime_ticks", "stime_ticks"}

// ReadSamples reads the samples file, a CSV with sampleColumns.
func ReadSamples(r io.Reader) ([]Sample, error) {
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("samples: %w", err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != strings.Join(sampleColumns, ",") {
		return nil, fmt.Errorf("samples: the header is not %q", strings.Join(sampleColumns, ","))
	}
	samples := make([]Sample, 0, len(rows)-1)
	for i, row := range rows[1:] {
		t, err := strconv.ParseFloat(row[0], 64)
		if err != nil {
			return nil, fmt.Errorf("samples: line %d: time: %w", i+2, err)
		}
		var n [5]int64
		for j := range n {
			if n[j], err = strconv.ParseInt(row[j+1], 10, 64); err != nil {
				return nil, fmt.Errorf("samples: line %d: %s: %w", i+2, sampleColumns[j+1], err)
			}
		}
		samples = append(samples, Sample{Time: t, RSSKB: n[0], AnonKB: n[1], PeakKB: n[2], UTimeTicks: n[3], STimeTicks: n[4]})
	}
	return samples, nil
}

// Mark is a moment of the soak, as bench/soak.sh notes it: its time,
// vigil's CPU time, the machine's busy time and the script's reaped
// children's then, and for the end of a chunk of the storm, the storm's
// result.
type Mark struct {
	Time          float64 // seconds since the epoch
	Name          string  // start, ready, sleepers, sleepers_up, storm, chunk or end
	CPUNS         int64   // vigil's user + system time so far
	BusyTicks     int64   // the machine's busy time so far (/proc/stat)
	ChildrenTicks int64   // the script's reaped children's CPU time: the storm's
	Storm         readings.Storm
}

// The marks of a soak, in the order they come.
const (
	markStart      = "start"       // vigil was just started: its gctrace's time 0
	markReady      = "ready"       // vigil watches the machine
	markSleepers   = "sleepers"    // the long-lived processes are about to start
	markSleepersUp = "sleepers_up" // they all run, and vigil has settled
	markStorm      = "storm"       // the storm starts
	markChunk      = "chunk"       // a chunk of the storm ended
	markEnd        = "end"         // vigil has settled after the storm; it is stopped next
)

// ReadMarks reads the marks file: a line per mark, tab-separated time,
// name, vigil's CPU nanoseconds, the machine's busy ticks, the script's
// children's ticks and, for a chunk, the storm's result line.
func ReadMarks(r io.Reader) ([]Mark, error) {
	var marks []Mark
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 5 {
			return nil, fmt.Errorf("marks: line %d: want time, name, CPU time, busy and children ticks", line)
		}
		var m Mark
		var err error
		if m.Time, err = strconv.ParseFloat(f[0], 64); err != nil {
			return nil, fmt.Errorf("marks: line %d: time: %w", line, err)
		}
		m.Name = f[1]
		for i, v := range []*int64{&m.CPUNS, &m.BusyTicks, &m.ChildrenTicks} {
			if *v, err = strconv.ParseInt(f[2+i], 10, 64); err != nil {
				return nil, fmt.Errorf("marks: line %d: field %d: %w", line, 3+i, err)
			}
		}
		if m.Name == markChunk {
			if len(f) < 6 {
				return nil, fmt.Errorf("marks: line %d: a chunk without the storm's result", line)
			}
			if m.Storm, err = readings.ParseStorm(f[5]); err != nil {
				return nil, fmt.Errorf("marks: line %d: %w", line, err)
			}
		}
		marks = append(marks, m)
	}
	return marks, sc.Err()
}

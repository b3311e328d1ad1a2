package readings

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
)

// GC is one garbage collection of a Go program, as GODEBUG=gctrace=1
// reports it on its standard error.
type GC struct {
	Seconds float64 // since the program started
	// HeapLiveMiB is the heap still reachable after the collection, the
	// memory the program holds on to; HeapGoalMiB is the size the heap may
	// reach before the next one. Both in whole MiB, as the runtime prints
	// them ("MB").
	HeapLiveMiB, HeapGoalMiB int64
}

// "gc 44 @52.269s 0%: ... ms cpu, 35->35->20 MB, 41 MB goal, 0 MB stacks, ..."
var gcLine = regexp.MustCompile(`^gc [0-9]+ @([0-9.]+)s .*, [0-9]+->[0-9]+->([0-9]+) MB, ([0-9]+) MB goal`)

// GCTrace reads the collections a Go program reported with
// GODEBUG=gctrace=1 among the other lines of its standard error.
func GCTrace(stderr io.Reader) ([]GC, error) {
	var gcs []GC
	sc := bufio.NewScanner(stderr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		m := gcLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		secs, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			return nil, fmt.Errorf("gctrace: %w", err)
		}
		gcs = append(gcs, GC{Seconds: secs, HeapLiveMiB: count(m[2]).N, HeapGoalMiB: count(m[3]).N})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("gctrace: %w", err)
	}
	return gcs, nil
}

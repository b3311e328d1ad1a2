package main

import "github.com/vigil-otel/vigil/bench/internal/readings"

// Heap is what vigil's garbage collections say of the memory it holds on
// to: its live heap after each collection. Its resident memory follows
// the highest heap any collection cycle reached instead (the runtime
// keeps freed pages for the next cycles), which a heap near its goal
// pushes up for a while even when what is live stays the same.
type Heap struct {
	// Before is the last collection before the storm; ok false when none.
	Before   readings.GC
	BeforeOK bool
	// During are the collections from the storm's start to the end mark,
	// Seconds since the epoch.
	During []readings.GC
	// Slope is the least-squares slope of the live heap over the storm's
	// execs, in MiB per 10,000 execs; SlopeOK false with fewer than 2
	// collections during the storm.
	Slope   float64
	SlopeOK bool
}

// Heap returns what the collections say.
func (s *Soak) Heap() Heap {
	var h Heap
	start, end := s.marks[markStorm].Time, s.marks[markEnd].Time
	var xs, ys []float64
	for _, gc := range s.gcs {
		switch {
		case gc.Seconds < start:
			h.Before, h.BeforeOK = gc, true
		case gc.Seconds <= end:
			h.During = append(h.During, gc)
			n := s.ExecsAt(gc.Seconds)
			if n < 0 { // after the last chunk: every exec made
				n = float64(s.execs)
			}
			xs = append(xs, n/10000)
			ys = append(ys, float64(gc.HeapLiveMiB))
		}
	}
	if len(xs) >= 2 {
		h.Slope, h.SlopeOK = leastSquares(xs, ys)
	}
	return h
}

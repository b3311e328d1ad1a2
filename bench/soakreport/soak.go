package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/vigil-otel/vigil/bench/internal/readings"
)

// Soak is what the samples and marks of one soak say.
type Soak struct {
	samples []Sample
	marks   map[string]Mark // the marks but the chunks
	chunks  []Mark
	execs   int64         // the storm's, over every chunk
	gcs     []readings.GC // vigil's collections, Seconds since the epoch
}

// NewSoak checks that the marks are complete and in order and that
// samples were taken before each mark that reads memory; gcs are vigil's
// garbage collections (GODEBUG=gctrace=1), timed from its start mark.
func NewSoak(samples []Sample, marks []Mark, gcs []readings.GC) (*Soak, error) {
	s := &Soak{samples: samples, marks: map[string]Mark{}}
	for _, m := range marks {
		if m.Name == markChunk {
			if _, ok := s.marks[markStorm]; !ok {
				return nil, errors.New("marks: a chunk before the storm")
			}
			s.chunks = append(s.chunks, m)
			s.execs += m.Storm.Execs
			continue
		}
		s.marks[m.Name] = m
	}
	order := []string{markStart, markReady, markSleepers, markSleepersUp, markStorm, markEnd}
	for i, name := range order {
		m, ok := s.marks[name]
		if !ok {
			return nil, fmt.Errorf("marks: no %s", name)
		}
		if i > 0 && m.Time < s.marks[order[i-1]].Time {
			return nil, fmt.Errorf("marks: %s before %s", name, order[i-1])
		}
	}
	if len(s.chunks) == 0 || s.execs == 0 {
		return nil, errors.New("marks: the storm made no exec")
	}
	if s.chunks[len(s.chunks)-1].Time > s.marks[markEnd].Time {
		return nil, errors.New("marks: a chunk after the end")
	}
	for _, name := range []string{markSleepers, markSleepersUp, markEnd} {
		if _, ok := s.sampleAt(s.marks[name].Time); !ok {
			return nil, fmt.Errorf("samples: none before %s", name)
		}
	}
	for _, gc := range gcs {
		gc.Seconds += s.marks[markStart].Time
		s.gcs = append(s.gcs, gc)
	}
	return s, nil
}

// sampleAt returns the last sample taken at or before t.
func (s *Soak) sampleAt(t float64) (Sample, bool) {
	var last Sample
	found := false
	for _, x := range s.samples {
		if x.Time > t {
			break
		}
		last, found = x, true
	}
	return last, found
}

// ExecsAt is the storm's execs so far at time t, interpolated linearly
// within the chunk t falls in; -1 before the storm or after its end.
func (s *Soak) ExecsAt(t float64) float64 {
	start := s.marks[markStorm]
	if t < start.Time {
		return -1
	}
	t0, n0 := start.Time, 0.0
	for _, c := range s.chunks {
		n1 := n0 + float64(c.Storm.Execs)
		if t <= c.Time {
			if c.Time == t0 {
				return n1
			}
			return n0 + (n1-n0)*(t-t0)/(c.Time-t0)
		}
		t0, n0 = c.Time, n1
	}
	return -1
}

// Slope is the least-squares slope of the resident memory over the storm's
// execs, from the samples taken while the storm's execs so far were within
// [from, to] of its total (0.5 to 1: its second half), in MiB per 10,000
// execs: of VmRSS and of RssAnon. ok is false with fewer than 3 samples.
func (s *Soak) Slope(from, to float64) (rss, anon float64, ok bool) {
	var xs, rs, as []float64
	lo, hi := from*float64(s.execs), to*float64(s.execs)
	for _, x := range s.samples {
		n := s.ExecsAt(x.Time)
		if n < 0 || n < lo || n > hi {
			continue
		}
		xs = append(xs, n/10000)
		rs = append(rs, float64(x.RSSKB)/1024)
		as = append(as, float64(x.AnonKB)/1024)
	}
	if len(xs) < 3 {
		return 0, 0, false
	}
	rss, ok = leastSquares(xs, rs)
	if !ok {
		return 0, 0, false
	}
	anon, _ = leastSquares(xs, as)
	return rss, anon, true
}

// leastSquares is the slope of the line fitted to the points (xs, ys); ok
// is false when the xs do not vary.
func leastSquares(xs, ys []float64) (float64, bool) {
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx /= float64(len(xs))
	my /= float64(len(xs))
	var sxy, sxx float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	if sxx == 0 {
		return 0, false
	}
	return sxy / sxx, true
}

// Memory is resident memory at one moment, in MiB.
type Memory struct{ RSS, Anon float64 }

func memoryOf(x Sample) Memory {
	return Memory{RSS: float64(x.RSSKB) / 1024, Anon: float64(x.AnonKB) / 1024}
}

// MemoryBefore is the memory of the last sample before the mark name:
// at start (sleepers), after the long-lived processes (sleepers_up), at
// the end (end).
func (s *Soak) MemoryBefore(name string) Memory {
	x, _ := s.sampleAt(s.marks[name].Time)
	return memoryOf(x)
}

// Peak is the highest resident memory sampled from the ready mark to the
// end mark (each of VmRSS and RssAnon, perhaps at different moments), and
// VmHWM at the end, which counts start-up and moments between samples.
func (s *Soak) Peak() (sampled Memory, hwmMiB float64) {
	from, to := s.marks[markReady].Time, s.marks[markEnd].Time
	for _, x := range s.samples {
		if x.Time < from || x.Time > to {
			continue
		}
		sampled.RSS = math.Max(sampled.RSS, float64(x.RSSKB)/1024)
		sampled.Anon = math.Max(sampled.Anon, float64(x.AnonKB)/1024)
	}
	end, _ := s.sampleAt(to)
	return sampled, float64(end.PeakKB) / 1024
}

// CPUPerExec is vigil's CPU time per storm exec, in µs, from the storm's
// start to the end mark (the drain after the storm included).
func (s *Soak) CPUPerExec() float64 {
	return float64(s.marks[markEnd].CPUNS-s.marks[markStorm].CPUNS) / 1e3 / float64(s.execs)
}

// Execs is the storm's execs over every chunk.
func (s *Soak) Execs() int64 { return s.execs }

// Chunk is one chunk of the storm as the report prints it.
type Chunk struct {
	Storm        readings.Storm
	ExecsSoFar   int64
	Mem          Memory  // at its end
	CPUUSPerExec float64 // vigil's, during the chunk
}

// Chunks are the storm's chunks, in order.
func (s *Soak) Chunks() []Chunk {
	out := make([]Chunk, 0, len(s.chunks))
	prev, sofar := s.marks[markStorm], int64(0)
	for _, c := range s.chunks {
		sofar += c.Storm.Execs
		x, _ := s.sampleAt(c.Time)
		out = append(out, Chunk{
			Storm: c.Storm, ExecsSoFar: sofar, Mem: memoryOf(x),
			CPUUSPerExec: float64(c.CPUNS-prev.CPUNS) / 1e3 / float64(max(c.Storm.Execs, 1)),
		})
		prev = c
	}
	return out
}

// Idle is vigil's CPU time while it watched the machine before the
// long-lived processes, in ms per second; and per long-lived process
// while they started, in µs (the settling after them included).
func (s *Soak) Idle(sleepers int) (msPerSecond, usPerProcess float64) {
	r, sl, up := s.marks[markReady], s.marks[markSleepers], s.marks[markSleepersUp]
	if sl.Time > r.Time {
		msPerSecond = float64(sl.CPUNS-r.CPUNS) / 1e6 / (sl.Time - r.Time)
	}
	if sleepers > 0 {
		usPerProcess = float64(up.CPUNS-sl.CPUNS) / 1e3 / float64(sleepers)
	}
	return msPerSecond, usPerProcess
}

// OtherCPU is the CPU time of everything but the storm and vigil while
// the storm ran, in % of the machine's cpus: the machine's busy time less
// the storm's and vigil's.
func (s *Soak) OtherCPU(cpus, clockTicks int) float64 {
	start, last := s.marks[markStorm], s.chunks[len(s.chunks)-1]
	ticks := float64((last.BusyTicks - start.BusyTicks) - (last.ChildrenTicks - start.ChildrenTicks))
	other := ticks/float64(clockTicks) - float64(last.CPUNS-start.CPUNS)/1e9
	return 100 * other / (float64(cpus) * (last.Time - start.Time))
}

// StormSeconds is the storm's wall time, from its start to its last chunk's end.
func (s *Soak) StormSeconds() float64 {
	return s.chunks[len(s.chunks)-1].Time - s.marks[markStorm].Time
}

// WriteSeries writes the samples as a CSV to plot memory and CPU against
// time and the storm's execs: seconds since the ready mark, the storm's
// execs so far (empty outside the storm), VmRSS and RssAnon in MiB, and
// vigil's CPU seconds so far (utime + stime).
func (s *Soak) WriteSeries(w io.Writer, clockTicks int) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"seconds", "storm_execs", "vm_rss_mib", "rss_anon_mib", "cpu_s"})
	t0 := s.marks[markReady].Time
	for _, x := range s.samples {
		execs := ""
		if n := s.ExecsAt(x.Time); n >= 0 {
			execs = strconv.FormatInt(int64(math.Round(n)), 10)
		}
		_ = cw.Write([]string{
			strconv.FormatFloat(x.Time-t0, 'f', 1, 64), execs,
			strconv.FormatFloat(float64(x.RSSKB)/1024, 'f', 2, 64),
			strconv.FormatFloat(float64(x.AnonKB)/1024, 'f', 2, 64),
			strconv.FormatFloat(float64(x.UTimeTicks+x.STimeTicks)/float64(clockTicks), 'f', 2, 64),
		})
	}
	cw.Flush()
	return cw.Error()
}

package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/vigil-otel/vigil/bench/internal/readings"
	"github.com/vigil-otel/vigil/bench/internal/report"
)

func readBPF(m *report.Measurement, rec map[string]string) error {
	var ids []int
	for _, s := range strings.Split(rec["bpf_progs"], ",") {
		id, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("bpf_progs: %w", err)
		}
		ids = append(ids, id)
	}
	snapshot := func(path string) ([]readings.ProgStat, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readings.BPFSnapshot(f, ids)
	}
	var err error
	if m.BPFBefore, err = snapshot(rec["bpf_before"]); err != nil {
		return err
	}
	if m.BPFAfter, err = snapshot(rec["bpf_after"]); err != nil {
		return err
	}
	m.BPFMeasured = true
	return nil
}

// readVigil reads vigil's exit summary; the detections of detectRecipe,
// when named, are the storm's execs it saw.
func readVigil(m *report.Measurement, path, detectRecipe string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	exit, err := readings.VigilSummary(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !exit.Events.Known {
		slog.Warn("vigil printed no summary line; see its log (run.sh --keep)", "log", path)
		return nil
	}
	m.Events, m.Drops, m.Detections = exit.Events, exit.Lost, exit.Detections
	if detectRecipe != "" {
		m.ExecEvents = readings.Known(exit.ByRecipe[detectRecipe])
		m.HeldBack = readings.Known(exit.HeldBack[detectRecipe])
	}
	return nil
}

func readProcStatus(m *report.Measurement, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if m.RSSPeakKB, m.RSSAnonKB, err = readings.ProcStatus(f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func readBpftrace(m *report.Measurement, outPath, logPath, stormProg string) error {
	out, err := os.Open(outPath)
	if err != nil {
		return err
	}
	defer out.Close()
	var stderr io.Reader = strings.NewReader("")
	if logPath != "" {
		f, err := os.Open(logPath)
		if err != nil {
			return err
		}
		defer f.Close()
		stderr = f
	}
	events, storm, lost, err := readings.Bpftrace(out, stderr, stormProg)
	if err != nil {
		return err
	}
	m.Events, m.ExecEvents, m.Drops = readings.Known(events), readings.Known(storm), readings.Known(lost)
	return nil
}

// readAudit counts the run's part of the audit log: from where it stood
// when the rule was added to where it stood when the rule was deleted.
func readAudit(m *report.Measurement, rec map[string]string, opts runsOptions) error {
	path := rec["audit_log"]
	from, err1 := strconv.ParseInt(rec["audit_from"], 10, 64)
	to, err2 := strconv.ParseInt(rec["audit_to"], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("audit log offsets: %w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if to < from || info.Size() < to {
		slog.Warn("the audit log rotated during the run: events not counted", "log", path)
		return nil
	}
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return err
	}
	// The window is known only when the tracer lived through the storm.
	start, errStart := strconv.ParseFloat(rec["window_start"], 64)
	end, errEnd := strconv.ParseFloat(rec["window_end"], 64)
	events, storm, window, err := readings.AuditLog(io.LimitReader(f, to-from), opts.auditKey, opts.stormProg, start, end)
	if err != nil {
		return err
	}
	m.Events, m.ExecEvents = readings.Known(events), readings.Known(storm)
	if errStart == nil && errEnd == nil {
		m.WindowExecs = readings.Known(window)
	}
	return nil
}

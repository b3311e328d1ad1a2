package main

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"

	"github.com/vigil-otel/vigil/exporter"
	"github.com/vigil-otel/vigil/health"
	"github.com/vigil-otel/vigil/pipeline"
)

// healthEndpoint is the --health-addr endpoint of a run; its methods do
// nothing when the endpoint is off.
type healthEndpoint struct {
	srv *health.Server
	// pipeline is what liveness asks, once it runs.
	pipeline atomic.Pointer[pipeline.Pipeline]
}

// startHealth starts the health endpoint on addr (none for ""), and has
// expCfg's meter provider feed its /metrics.
func startHealth(addr string, expCfg *exporter.Config) (*healthEndpoint, error) {
	h := &healthEndpoint{}
	if addr == "" {
		return h, nil
	}
	// A registry of vigil's own: nothing but its metrics, none of the
	// client library's process and Go collectors.
	reg := prometheus.NewRegistry()
	reader, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, err
	}
	expCfg.MetricReaders = append(expCfg.MetricReaders, reader)
	h.srv, err = health.Start(addr, h.alive, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	if err != nil {
		return nil, err
	}
	slog.Info("health endpoint", "address", h.srv.Addr())
	return h, nil
}

// alive is vigil's liveness: the pipeline's, once it runs. A pipeline
// stopped on purpose is flushing, not dead.
func (h *healthEndpoint) alive() error {
	if p := h.pipeline.Load(); p != nil {
		if err := p.Err(); !errors.Is(err, pipeline.ErrClosed) {
			return err
		}
	}
	return nil // starting, or stopping
}

// watching says the pipeline p watches: vigil is ready.
func (h *healthEndpoint) watching(p *pipeline.Pipeline) {
	if h.srv == nil {
		return
	}
	h.pipeline.Store(p)
	h.srv.SetReady(true)
}

// stopping says vigil no longer takes new work.
func (h *healthEndpoint) stopping() {
	if h.srv != nil {
		h.srv.SetReady(false)
	}
}

func (h *healthEndpoint) close(ctx context.Context) {
	if h.srv == nil {
		return
	}
	if err := h.srv.Shutdown(ctx); err != nil {
		slog.Warn("health endpoint", "error", err)
	}
}

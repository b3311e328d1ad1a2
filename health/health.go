// Package health serves what a fleet asks of each vigil over HTTP: is it
// alive (/healthz), is it watching (/readyz), and its own metrics in the
// Prometheus text format (/metrics), for Kubernetes probes and the
// scrapers fleets already run.
package health

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Server is the health endpoint.
type Server struct {
	srv   *http.Server
	ln    net.Listener
	ready atomic.Bool
	// live says why vigil is not alive, nil when it is.
	live func() error
}

// Start listens on addr and serves /healthz from live, /readyz from
// CheckAddress checks the address a health endpoint is to listen on, as
// --health-addr and health_address give it.
func CheckAddress(addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return errors.New("want host:port, such as 127.0.0.1:9464")
	}
	return nil
}

// SetReady, and /metrics from metrics. It is not ready until SetReady(true).
func Start(addr string, live func() error, metrics http.Handler) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("health endpoint: %w", err)
	}
	s := &Server{ln: ln, live: live}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", metrics)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("health endpoint stopped", "error", err)
		}
	}()
	return s, nil
}

// Addr is the address the endpoint listens on (the port chosen, for ":0").
func (s *Server) Addr() string { return s.ln.Addr().String() }

// SetReady says whether vigil watches: from when its programs are attached
// to when it starts to stop.
func (s *Server) SetReady(ready bool) { s.ready.Store(ready) }

// Shutdown stops serving, waiting for requests in flight until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	if err := s.srv.Shutdown(ctx); err != nil {
		return fmt.Errorf("health endpoint: %w", err)
	}
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	if err := s.live(); err != nil {
		http.Error(w, "not alive: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if !s.ready.Load() {
		http.Error(w, "not watching", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "watching")
}

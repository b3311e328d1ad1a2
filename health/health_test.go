package health

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func TestProbes(t *testing.T) {
	// The handlers run on the server's goroutines.
	var reason atomic.Pointer[error]
	live := func() error {
		if err := reason.Load(); err != nil {
			return *err
		}
		return nil
	}
	metrics := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "vigil_up 1\n") })
	s, err := Start("127.0.0.1:0", live, metrics)
	require.NoError(t, err)
	defer s.Shutdown(context.Background())
	base := "http://" + s.Addr()

	code, body := get(t, base+"/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code, "not ready before it watches")
	require.Equal(t, "not watching", body)
	s.SetReady(true)
	code, body = get(t, base+"/readyz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "watching", body)

	code, body = get(t, base+"/healthz")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "ok", body)
	stopped := errors.New("the event reader stopped: ring buffer closed")
	reason.Store(&stopped)
	code, body = get(t, base+"/healthz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, "not alive: the event reader stopped: ring buffer closed", body)

	code, body = get(t, base+"/metrics")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "vigil_up 1", body)

	_, err = Start(s.Addr(), func() error { return nil }, metrics)
	require.ErrorContains(t, err, "health endpoint: listen tcp "+s.Addr())
}

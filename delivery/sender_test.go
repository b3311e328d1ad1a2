package delivery

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestPermanentError drops what the receiver refuses for good, with one
// warning for a run of refusals, and goes on with the next requests.
func TestPermanentError(t *testing.T) {
	cfg, logs := testConfig(t.TempDir())
	r := newReceiver()
	r.set(refuse)
	o := mustOpen(t, cfg, r)
	for i := range 3 {
		o.Put(request(i, 2))
	}
	flush(t, o)
	r.set(accept)
	putRange(o, 3, 5)
	flush(t, o)
	st := o.Stats()
	require.Equal(t, bodies(3, 5), r.received())
	require.Equal(t, Count{Requests: 3, Items: 6, Bytes: 15}, st.Dropped[PermanentError])
	require.Zero(t, st.Retries)
	require.False(t, st.Failing)
	require.Len(t, logs.lines("refused detections for good"), 1)
	requireBalanced(t, st, 8)
}

// TestFailureAndRecoveryLogOnce fails many sends: one warning when
// delivery starts failing, one when it recovers, whatever the retries.
func TestFailureAndRecoveryLogOnce(t *testing.T) {
	cfg, logs := testConfig(t.TempDir())
	r := newReceiver()
	r.set(fail)
	o := mustOpen(t, cfg, r)
	putRange(o, 0, 4)
	require.Eventually(t, func() bool { return o.Stats().Retries >= 10 }, 10*time.Second, time.Millisecond)
	st := o.Stats()
	require.True(t, st.Failing)
	r.set(accept)
	flush(t, o)
	require.False(t, o.Stats().Failing)

	failing := logs.lines("cannot deliver detections")
	require.Len(t, failing, 1)
	require.Contains(t, failing[0], "level=WARN")
	require.Contains(t, failing[0], `error="connection refused"`)
	require.Contains(t, failing[0], "queued=")
	recovered := logs.lines("delivering detections to the receiver again")
	require.Len(t, recovered, 1)
	require.Contains(t, recovered[0], "waited=4")
	require.Equal(t, bodies(0, 4), r.received())
}

func TestJitter(t *testing.T) {
	for range 1000 {
		d := jitter(10*time.Second, 12*time.Second)
		require.GreaterOrEqual(t, d, 5*time.Second)
		require.LessOrEqual(t, d, 12*time.Second)
	}
	require.Equal(t, time.Duration(0), jitter(0, time.Second))
}

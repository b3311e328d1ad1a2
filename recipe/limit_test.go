package recipe

import (
	"hash/maphash"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/proctable"
)

// limited is an engine of one recipe that fires on every exec, at most
// once a minute per executable.
func limited(t *testing.T) (*Engine, *limiter) {
	t.Helper()
	e := engineOf(t, parse(t, `recipes:
  - name: noisy`+header+`    match: {executable: {path: {prefix: /}}}
    limit: {count: 1, per: executable, window: 1m}
`))
	return e, &e.enabled[0].limiter
}

// execAt is an exec of exe at sec seconds (and nsec) after the epoch.
func execAt(exe string, sec, nsec int64) *Input {
	in := execOf(exe, nil, nil)
	in.Event.Time = time.Unix(sec, nsec)
	return in
}

func TestLimitSuppressesAndCounts(t *testing.T) {
	e := engineOf(t, parse(t, `recipes:
  - name: noisy`+header+`    match: {executable: {name: curl}}
    limit: {count: 2, per: executable, window: 1m}
`))
	var fired int
	for i := range 5 {
		fired += len(e.Match(execAt("/usr/bin/curl", int64(i), 0), nil))
	}
	require.Equal(t, 2, fired)
	require.Len(t, e.Match(execAt("/opt/curl", 5, 0), nil), 1, "another executable has its own count")
	require.Len(t, e.Match(execAt("/usr/bin/curl", 61, 0), nil), 1, "a new window")
	require.Equal(t, map[string]uint64{"noisy": 3}, e.Suppressed())
	require.Zero(t, e.LimitEvictions())
}

func TestLimitKeys(t *testing.T) {
	chain := []*proctable.Process{{Exe: "/usr/bin/make"}}
	for range maxAncestry {
		chain = append(chain, &proctable.Process{Exe: "/x"})
	}
	fx := Fixture{Exec: event.Event{ExePath: "/usr/bin/curl"}, Parent: &proctable.Process{Exe: "/bin/sh"}, Ancestors: chain}
	in := fx.Input()
	e := engineOf(t, nil)
	// What each limit counts by, hashed with the engine's seed.
	hash := func(key string) uint64 {
		var h maphash.Hash
		h.SetSeed(e.hash.Seed())
		h.WriteString(key)
		return h.Sum64()
	}
	for per, want := range map[LimitKey]string{
		PerRecipe:     "",
		PerExecutable: "/usr/bin/curl",
		PerParent:     "/bin/sh",
		PerAncestry:   "/bin/sh\n/usr/bin/make\n" + strings.Repeat("/x\n", maxAncestry-2),
		PerProcess:    "\xe8\x03\x00\x00", // pid 1000
	} {
		require.Equal(t, hash(want), e.limitKey(per, in), per)
	}
	require.Equal(t, hash(""), e.limitKey(PerAncestry, execOf("/usr/bin/curl", nil, nil)), "no parent, no ancestry")
	require.Equal(t, hash(""), e.limitKey(PerAncestry, &Input{Event: in.Event, Process: in.Process}), "no table, no ancestry")
	require.NotEqual(t, hash(""), hash("\n"), "the separator counts")
	other := engineOf(t, nil)
	require.NotEqual(t, e.limitKey(PerExecutable, in), other.limitKey(PerExecutable, in), "each engine has a seed of its own")
}

// TestLimitForgetsWindowsThatRanOut checks that windows that ran out are
// forgotten as matches come, so that the limit holds only recent keys.
func TestLimitForgetsWindowsThatRanOut(t *testing.T) {
	e, lim := limited(t)
	for i := range 1000 {
		require.Len(t, e.Match(execAt("/tmp/"+strconv.Itoa(i), 0, int64(i)), nil), 1)
	}
	require.Len(t, lim.windows, 1000)
	require.Empty(t, e.Match(execAt("/tmp/0", 59, 0), nil), "within the minute")
	require.Len(t, e.Match(execAt("/tmp/new", 60, 500), nil), 1)
	require.Len(t, lim.windows, 500, "the first 501 windows ran out at 60 s and 500 ns")
	require.Len(t, e.Match(execAt("/tmp/999", 60, 999), nil), 1, "its window ran out")
	require.Len(t, e.Match(execAt("/tmp/new", 200, 0), nil), 1)
	require.Len(t, lim.windows, 1)
	require.Equal(t, 1, len(lim.queue)-lim.head)
	require.Zero(t, e.LimitEvictions())
}

// TestLimitEvictsTheOldestPastItsBound floods a limit with more keys than
// it keeps: the oldest windows are forgotten and counted, and their keys
// report again, while the recent ones stay held back.
func TestLimitEvictsTheOldestPastItsBound(t *testing.T) {
	e, lim := limited(t)
	const extra = 100
	for i := range maxLimitKeys + extra {
		require.Len(t, e.Match(execAt("/tmp/.x/"+strconv.Itoa(i), 0, int64(i)), nil), 1, "a new key reports")
	}
	require.Len(t, lim.windows, maxLimitKeys)
	require.Equal(t, uint64(extra), e.LimitEvictions())
	require.Len(t, e.Match(execAt("/tmp/.x/0", 1, 0), nil), 1, "an evicted key reports again: loud, not silent")
	require.Empty(t, e.Match(execAt("/tmp/.x/"+strconv.Itoa(maxLimitKeys), 1, 0), nil), "a recent key is still held back")
	require.Equal(t, uint64(extra+1), e.LimitEvictions())
	require.LessOrEqual(t, len(lim.queue), 2*maxLimitKeys)
}

// TestLimitQueueBoundedOutOfOrder runs a key's execs with time going
// backwards, each a new window: the windows passed over in the queue are
// dropped, and the queue stays bounded.
func TestLimitQueueBoundedOutOfOrder(t *testing.T) {
	e, lim := limited(t)
	const n = 3 * maxLimitKeys
	fired := 0
	for i := range n {
		fired += len(e.Match(execAt("/tmp/back", 1000, int64(n-i)), nil))
	}
	require.Equal(t, n, fired, "an exec older than its key's window begins another")
	require.Len(t, lim.windows, 1)
	require.LessOrEqual(t, len(lim.queue), 2*maxLimitKeys)
	require.Zero(t, e.LimitEvictions())
}

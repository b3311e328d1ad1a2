package delivery

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRecordRoundTrip(t *testing.T) {
	put := time.Unix(1_700_000_000, 123)
	e := entry{Request: Request{Signal: Traces, Items: 7, Body: []byte("spans")}, put: put}
	b := appendRecord([]byte("before"), e)
	require.Len(t, b, len("before")+int(recordSize(e)))
	rec := b[len("before"):]
	require.Equal(t, int64(5), bodyLength(rec))

	got, err := decodeRecord(rec[:recordHeaderSize], rec[recordHeaderSize:])
	require.NoError(t, err)
	require.Equal(t, Traces, got.Signal)
	require.Equal(t, 7, got.Items)
	require.Equal(t, []byte("spans"), got.Body)
	require.True(t, put.Equal(got.put))

	for i := range rec {
		bad := append([]byte(nil), rec...)
		bad[i] ^= 1
		_, err := decodeRecord(bad[:recordHeaderSize], bad[recordHeaderSize:])
		require.ErrorIs(t, err, errCorrupt, "a flipped bit in byte %d", i)
	}
}

func TestSegmentHeader(t *testing.T) {
	require.NoError(t, checkSegmentHeader(segmentHeader()))
	newer := segmentHeader()
	newer[8] = formatVersion + 1
	require.ErrorContains(t, checkSegmentHeader(newer), "format version 2")
	require.ErrorIs(t, checkSegmentHeader([]byte("vigil")), errCorrupt)
}

func TestSignalString(t *testing.T) {
	require.Equal(t, "logs", Logs.String())
	require.Equal(t, "traces", Traces.String())
	require.Equal(t, "signal(9)", Signal(9).String())
}

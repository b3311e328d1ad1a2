package delivery

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestConfigDefaults(t *testing.T) {
	c, err := Config{}.resolved()
	require.NoError(t, err)
	require.Equal(t, int64(16<<20), c.MemoryBytes)
	require.Equal(t, int64(512<<20), c.DiskBytes)
	require.Equal(t, 72*time.Hour, c.MaxAge)
	require.Equal(t, Backoff{Initial: time.Second, Max: 30 * time.Second}, c.Backoff)
	require.NotNil(t, c.Logger)
	require.Equal(t, int64(8<<20), c.segmentBytes())

	c, err = Config{DiskBytes: 1 << 20, Backoff: Backoff{Initial: time.Minute}}.resolved()
	require.NoError(t, err)
	require.Equal(t, int64(64<<10), c.segmentBytes(), "a sixteenth of a small spool")
	require.Equal(t, time.Minute, c.Backoff.Max, "never below Initial")
}

func TestConfigNegative(t *testing.T) {
	_, err := Open(Config{MaxAge: -time.Second}, newReceiver())
	require.ErrorContains(t, err, "MaxAge is negative")
}

package sensor

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSettingChecks: the checks the flags and the configuration file
// share, at their bounds, and a Config out of them refused at start.
func TestSettingChecks(t *testing.T) {
	page := os.Getpagesize()
	require.NoError(t, CheckArgsMax(1))
	require.NoError(t, CheckArgsMax(MaxArgsMax))
	require.EqualError(t, CheckArgsMax(0), "want 1 to 32768 bytes")
	require.EqualError(t, CheckArgsMax(MaxArgsMax+1), "want 1 to 32768 bytes")

	require.NoError(t, CheckRingBufferSize(page))
	require.NoError(t, CheckRingBufferSize(8<<20))
	wantPow := "want a power of two of at least " + strconv.Itoa(page) + " bytes"
	require.EqualError(t, CheckRingBufferSize(page/2), wantPow)
	require.EqualError(t, CheckRingBufferSize(3*page), wantPow)

	require.NoError(t, CheckWakeupInterval(time.Millisecond))
	require.NoError(t, CheckWakeupInterval(time.Minute))
	require.EqualError(t, CheckWakeupInterval(2*time.Minute), "want more than 0s, at most 1m0s")
	require.EqualError(t, CheckWakeupInterval(-time.Second), "want more than 0s, at most 1m0s")

	c := Config{WakeupInterval: 2 * time.Minute}
	require.EqualError(t, c.setDefaults(), "wake-up interval 2m0s: want more than 0s, at most 1m0s")
	c = Config{ArgsMax: -1}
	require.EqualError(t, c.setDefaults(), "argv bound -1: want 1 to 32768 bytes")
	c = Config{}
	require.NoError(t, c.setDefaults())
	require.Equal(t, DefaultWakeupInterval, c.WakeupInterval)
	require.Equal(t, DefaultArgsMax, c.ArgsMax)
}

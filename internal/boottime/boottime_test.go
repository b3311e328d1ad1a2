package boottime

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func TestClock(t *testing.T) {
	c, err := Read()
	require.NoError(t, err)
	var ts unix.Timespec
	require.NoError(t, unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts))
	require.WithinDuration(t, time.Now(), c.Time(time.Duration(ts.Nano())), time.Second, "now, counted from boot")
	require.True(t, c.Time(0).Before(time.Now()), "boot was before now")
	require.Equal(t, time.Unix(5, 0), Clock{}.Time(5*time.Second))
}

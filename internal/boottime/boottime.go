// Package boottime turns times the kernel counts on CLOCK_BOOTTIME, since
// boot with the time suspended included, into wall-clock times: the clock
// of the sensor's event times (bpf_ktime_get_boot_ns) and, in USER_HZ
// ticks, of the start times in /proc/PID/stat.
package boottime

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// Clock converts times since boot into wall-clock times. It knows the
// wall-clock time of boot as it was when read: a later step of the wall
// clock (NTP, settimeofday) moves no time it gives. The zero Clock is of a
// machine booted at the Unix epoch.
type Clock struct {
	boot int64 // Unix nanoseconds at boot
}

// Read reads the wall-clock time of boot: now, less the time since boot.
func Read() (Clock, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return Clock{}, fmt.Errorf("read CLOCK_BOOTTIME: %w", err)
	}
	return Clock{boot: time.Now().UnixNano() - ts.Nano()}, nil
}

// Time returns the wall-clock time sinceBoot after boot.
func (c Clock) Time(sinceBoot time.Duration) time.Time {
	return time.Unix(0, c.boot+int64(sinceBoot))
}

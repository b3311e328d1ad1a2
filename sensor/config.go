package sensor

import (
	"fmt"
	"os"
	"time"
)

// What the sensor captures and how it delivers it: the bounds of one exec
// event, the ring buffer and its wake-ups, and the defaults that fill in
// what a Config leaves out.

// Bounds of what one exec event carries.
const (
	DefaultArgsMax = 4096
	MaxArgsMax     = 32768 // the size of the kernel's argv buffer
	DefaultMaxArgs = 64
	DefaultEnvMax  = 16384
	// DefaultWakeupInterval bounds how long a record waits in the ring
	// before the reader is woken for it. Measured here: 1 s costs the
	// reader half the CPU per exec of 250 ms (bench/README.md); detections
	// reach their exporter within about two of it.
	DefaultWakeupInterval = time.Second
	// MaxWakeupInterval bounds WakeupInterval: past it, a quiet machine's
	// detections would wait minutes.
	MaxWakeupInterval = time.Minute
	MaxEnvMax         = 32768 // the size of the kernel's environment buffer
)

// The checks of the settings a user gives (flags, the configuration
// file): each says what it wants, and its caller names the setting and
// the value.

// CheckArgsMax checks a bound of the bytes of argv kept per exec.
func CheckArgsMax(n int) error {
	if n < 1 || n > MaxArgsMax {
		return fmt.Errorf("want 1 to %d bytes", MaxArgsMax)
	}
	return nil
}

// CheckRingBufferSize checks a ring buffer size: a power of two, of at
// least a page.
func CheckRingBufferSize(n int) error {
	if page := os.Getpagesize(); n < page || n&(n-1) != 0 {
		return fmt.Errorf("want a power of two of at least %d bytes", page)
	}
	return nil
}

// CheckWakeupInterval checks a wake-up interval.
func CheckWakeupInterval(d time.Duration) error {
	if d <= 0 || d > MaxWakeupInterval {
		return fmt.Errorf("want more than 0s, at most %s", MaxWakeupInterval)
	}
	return nil
}

// Config says what the sensor captures and how it delivers it.
type Config struct {
	// ArgsMax bounds the bytes of argv kept per exec (default
	// DefaultArgsMax, at most MaxArgsMax).
	ArgsMax int
	// MaxArgs bounds the number of arguments kept per exec (default
	// DefaultMaxArgs).
	MaxArgs int
	// RingBufferSize is the ring buffer's size in bytes, a power of two and
	// a multiple of the page size (default 8 MiB).
	RingBufferSize int
	// WakeupBytes and WakeupInterval batch the reader's wake-ups: the
	// kernel wakes it when this much is pending (default 1 MiB, or a
	// quarter of a smaller ring) or when this long has passed since the
	// last wake-up (default DefaultWakeupInterval). Each wake-up costs the
	// reader far more than a record does (bench/README.md).
	// The records that come after the last wake-up of a burst are read a
	// little more than WakeupInterval later, so no record waits much
	// longer than twice that.
	WakeupBytes    int
	WakeupInterval time.Duration
	// Follow, when not zero, limits the sensor to this process and its
	// descendants from now on, filtered in the kernel.
	Follow uint32
	// Env lists the environment variables read at each exec (default
	// DefaultEnv()); no others leave the kernel.
	Env []string
	// EnvMax bounds the bytes of each new program's environment scanned
	// for them (default DefaultEnvMax, at most MaxEnvMax).
	EnvMax int
	// Features, when set, are used instead of those ProbeFeatures finds:
	// the tests turn features off to run the fallbacks on a kernel that
	// has them all.
	Features *Features
}

func (c *Config) setDefaults() error {
	if c.ArgsMax == 0 {
		c.ArgsMax = DefaultArgsMax
	}
	if err := CheckArgsMax(c.ArgsMax); err != nil {
		return fmt.Errorf("argv bound %d: %w", c.ArgsMax, err)
	}
	if c.MaxArgs == 0 {
		c.MaxArgs = DefaultMaxArgs
	}
	if c.MaxArgs < 0 {
		return fmt.Errorf("argument count bound %d is negative", c.MaxArgs)
	}
	if c.RingBufferSize == 0 {
		c.RingBufferSize = 8 << 20
	}
	if err := CheckRingBufferSize(c.RingBufferSize); err != nil {
		return fmt.Errorf("ring buffer size %d: %w", c.RingBufferSize, err)
	}
	if c.WakeupBytes == 0 {
		c.WakeupBytes = min(1<<20, c.RingBufferSize/4)
	}
	if c.WakeupInterval == 0 {
		c.WakeupInterval = DefaultWakeupInterval
	}
	if err := CheckWakeupInterval(c.WakeupInterval); err != nil {
		return fmt.Errorf("wake-up interval %s: %w", c.WakeupInterval, err)
	}
	if c.Env == nil {
		c.Env = DefaultEnv()
	}
	if c.EnvMax == 0 {
		c.EnvMax = DefaultEnvMax
	}
	if c.EnvMax < 0 || c.EnvMax > MaxEnvMax {
		return fmt.Errorf("environment bound %d out of range 1..%d", c.EnvMax, MaxEnvMax)
	}
	return nil
}

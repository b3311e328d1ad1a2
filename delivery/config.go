package delivery

import (
	"fmt"
	"log/slog"
	"time"
)

// The defaults of [Config].
const (
	// DefaultMemoryBytes holds a few minutes of a busy machine's
	// detections in memory.
	DefaultMemoryBytes = 16 << 20
	// DefaultDiskBytes holds hours of detections on disk.
	DefaultDiskBytes = 512 << 20
	// DefaultMaxAge keeps detections through a long weekend's outage, and
	// under the one week most log stores still accept.
	DefaultMaxAge = 72 * time.Hour
	// DefaultRetryInitial retries soon, for a receiver that only
	// restarted.
	DefaultRetryInitial = time.Second
	// DefaultRetryMax is the longest wait between two tries, as the
	// OpenTelemetry SDK's exporters have it.
	DefaultRetryMax = 30 * time.Second
)

// maxSegmentBytes is the size at which a spool segment is closed and a
// new one begun: a segment is the unit dropped when the spool is full,
// and a sixteenth of the spool at most.
const maxSegmentBytes = 8 << 20

// Config sets an [Outbox] up. Zero fields take their defaults.
type Config struct {
	// Dir is the state directory that holds the spool. It must be a
	// directory, not a symbolic link, owned by this user and writable by
	// no one else; it is created (mode 0700) if missing. Empty keeps
	// everything in memory.
	Dir string
	// MemoryBytes bounds the request bodies held in memory.
	MemoryBytes int64
	// DiskBytes bounds the spool's files.
	DiskBytes int64
	// MaxAge is how long a request may wait: older ones are dropped.
	MaxAge time.Duration
	// Backoff spaces the tries of a request the receiver did not take.
	Backoff Backoff
	// Logger receives the outbox's few lines; nil means slog.Default().
	Logger *slog.Logger

	// now is the clock; tests set it.
	now func() time.Time
}

// Backoff spaces the tries of a failing request: the wait starts at
// Initial, doubles after each failure up to Max, and each wait is
// randomised by half of itself either way (never beyond Max), so that many
// sensors do not retry in step.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
}

// resolved returns c with its defaults filled in, or an error naming a
// negative field.
func (c Config) resolved() (Config, error) {
	for name, v := range map[string]int64{
		"MemoryBytes": c.MemoryBytes, "DiskBytes": c.DiskBytes, "MaxAge": int64(c.MaxAge),
		"Backoff.Initial": int64(c.Backoff.Initial), "Backoff.Max": int64(c.Backoff.Max),
	} {
		if v < 0 {
			return c, fmt.Errorf("outbox config: %s is negative (%d)", name, v)
		}
	}
	c.MemoryBytes = orDefault(c.MemoryBytes, DefaultMemoryBytes)
	c.DiskBytes = orDefault(c.DiskBytes, DefaultDiskBytes)
	c.MaxAge = orDefault(c.MaxAge, DefaultMaxAge)
	c.Backoff.Initial = orDefault(c.Backoff.Initial, DefaultRetryInitial)
	c.Backoff.Max = max(orDefault(c.Backoff.Max, DefaultRetryMax), c.Backoff.Initial)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// segmentBytes is the size at which the spool begins a new segment.
func (c Config) segmentBytes() int64 {
	return min(c.DiskBytes/16, maxSegmentBytes)
}

func orDefault[T int64 | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

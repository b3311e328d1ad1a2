package delivery

import "time"

// Count measures a set of requests.
type Count struct {
	// Requests is how many requests.
	Requests int64
	// Items is how many log records or spans they hold.
	Items int64
	// Bytes is the size of their bodies.
	Bytes int64
}

func (c *Count) add(d Count) {
	c.Requests += d.Requests
	c.Items += d.Items
	c.Bytes += d.Bytes
}

func (c *Count) sub(d Count) {
	c.Requests -= d.Requests
	c.Items -= d.Items
	c.Bytes -= d.Bytes
}

// countOf measures one request.
func countOf(r Request) Count {
	return Count{Requests: 1, Items: int64(r.Items), Bytes: int64(len(r.Body))}
}

// Reason says why requests were dropped undelivered.
type Reason uint8

// The reasons for a drop.
const (
	// Full: the bounds were reached and the oldest requests made room.
	Full Reason = iota
	// TooOld: the request waited longer than MaxAge.
	TooOld
	// Rejected: the receiver accepted the request but refused these items
	// (a partial success). Only Items is counted.
	Rejected
	// PermanentError: the receiver refused the request for good.
	PermanentError
	// Corrupt: a spool file could not be read back, and the rest of it
	// was dropped. When Open finds it (a torn tail, say), what the corrupt
	// stretch held is unknown: it counts as one request of unknown items,
	// its Bytes the bytes discarded.
	Corrupt
	// Unwritable: the spool could not be written (disk full or failing).
	Unwritable
	// Shutdown: the outbox closed with the request in memory and no spool
	// to keep it, or the request came after Close.
	Shutdown

	reasons
)

// String returns the reason in lower case words joined by underscores,
// fit for a metric attribute's value.
func (r Reason) String() string {
	switch r {
	case Full:
		return "full"
	case TooOld:
		return "too_old"
	case Rejected:
		return "rejected"
	case PermanentError:
		return "permanent_error"
	case Corrupt:
		return "corrupt"
	case Unwritable:
		return "unwritable"
	case Shutdown:
		return "shutdown"
	default:
		return "unknown"
	}
}

// Stats is what an outbox holds and has done since it was opened.
//
// Every request put (and every one recovered) is, in items, exactly one of
// delivered, dropped, queued or spooled.
type Stats struct {
	// Queued is what waits in memory, the request being sent included.
	Queued Count
	// Spooled is what waits on disk.
	Spooled Count
	// DiskBytes is what the spool's files take on disk.
	DiskBytes int64
	// Oldest is how long the oldest waiting request has waited; zero
	// when none waits.
	Oldest time.Duration
	// Recovered is what Open found in the spool, left by a previous run.
	Recovered Count
	// Delivered is what the receiver accepted; its Items leave out those
	// the receiver rejected.
	Delivered Count
	// Dropped is what was dropped undelivered, by [Reason].
	Dropped [reasons]Count
	// Retries counts the sends that failed and are tried again.
	Retries int64
	// Failing is true from a send that failed until one succeeds.
	Failing bool
}

// Lost is the sum of Dropped's items: the log records or spans that will
// never reach the receiver.
func (s Stats) Lost() int64 {
	var n int64
	for _, c := range s.Dropped {
		n += c.Items
	}
	return n
}

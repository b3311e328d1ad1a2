// Package delivery keeps what vigil sends until the receiver has it.
//
// vigil encodes its OTLP export requests itself and puts each one in an
// [Outbox]. The outbox holds the requests in memory and, past a bound, in
// a spool on disk, and one goroutine sends them through a [Transport], one
// at a time and in the order they were put, across memory and disk and
// across restarts. A request the receiver did not take is tried again,
// and again, waiting longer each time (from 1 s, doubling, up to 30 s,
// each wait randomised), and the requests behind it wait: none is skipped.
//
// # What is kept, and what can be lost
//
// A receiver outage: requests are kept in memory up to MemoryBytes (16 MiB
// by default), then in the spool up to DiskBytes (512 MiB), and delivered
// in order once the receiver is back. While sends fail, new requests go
// straight to the spool. Past the spool's bound the oldest requests are
// dropped to make room, a segment (a sixteenth of the spool at most) at a
// time: the newest detections are the ones that matter now. A request
// older than MaxAge (72 h) is dropped instead of sent. Without a state
// directory, memory's bound is the only one.
//
// A stop (SIGTERM, SIGINT): Close delivers while its context lasts, then
// writes what is still in memory to the spool, ahead of what is there
// already, and syncs it. Nothing is lost; the next start sends it first.
// Without a state directory, what is left is counted lost.
//
// A crash of vigil (SIGKILL, a panic): what is on disk stays, since the
// kernel has it from the moment Put wrote it. What is lost is what was in
// memory only: the requests put while the receiver was answering and not
// yet taken by it, usually the one being sent; at most MemoryBytes when
// the receiver is slow but not failing.
//
// A power loss or kernel crash: besides the above, what the disk had not
// yet made durable. The spool's files are synced when a segment is full
// (8 MiB at most) and at Close, so what can be lost is the segment being
// written. A record cut short is found by its checksum when the spool is
// opened, counted and logged, and the records before it and in the other
// segments are sent.
//
// # Exactly once
//
// A request leaves the outbox only once the receiver accepted it, and
// each acceptance is written down (the spool's cursor) before the next
// request is sent. A crash between the receiver's acceptance and that
// write sends that one request again on the next start; a power loss may
// resend more of the oldest segment, whose cursor was not yet durable. In
// normal operation each request arrives once.
//
// # Counting
//
// Nothing is dropped silently. [Outbox.Stats] says, as of now, what waits
// in memory and on disk and for how long, what was delivered, what was
// dropped and why (a [Reason]: full, too old, rejected by the receiver's
// partial success, refused for good, corrupt, unwritable spool, shutdown
// without a spool), how many sends were retried, and whether delivery is
// failing. Every item put is exactly one of delivered, dropped, waiting in
// memory or waiting on disk. A failing receiver gives one warning when
// delivery starts failing and one when it recovers, not one per retry.
//
// # The state directory
//
// The spool lives in Config.Dir, which must be a directory (not a symbolic
// link) owned by vigil's user and writable by no one else; it is created,
// mode 0700, if missing, and locked so that one process at a time uses it.
// Its files, mode 0600, are a cursor and segments named by a sequence
// number, each a header (a magic string and a format version) followed by
// records, each a CRC-32C, the body's length, the signal, the item count,
// the time it was put, and the encoded request.
//
// One outbox carries both signals in one order: a receiver that fails
// traces holds the logs behind them. Open one outbox per signal, each with
// its own directory, to let them go their own ways.
package delivery

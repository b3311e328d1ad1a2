package sensor

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ring consumes a BPF ring buffer through its memory mapping, without a
// system call: the reader waits for it in Go's poller (see Run), and a
// system call on the path would wake the runtime's monitor thread each
// time.
//
// The kernel's layout: a consumer page the reader writes its position to, a
// producer page holding the kernel's position, then the data pages, mapped
// twice in a row so that a record that wraps around the end reads as one
// slice. Each record starts with an 8-byte header whose first word is its
// length and two flags.
type ring struct {
	consumer, producer []byte
	consPos, prodPos   *uint64
	data               []byte
	mask               uint64
}

const (
	ringHeaderSize = 8
	ringBusyBit    = 1 << 31 // the kernel is still writing the record
	ringDiscardBit = 1 << 30 // the program discarded the record
)

// errRingCorrupt says the positions or a header make no sense: a bug, not
// a load, since the kernel never overwrites what the reader has not read.
var errRingCorrupt = errors.New("ring buffer positions are inconsistent")

func newRing(fd, size int) (*ring, error) {
	page := os.Getpagesize()
	consumer, err := unix.Mmap(fd, 0, page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map ring buffer consumer page: %w", err)
	}
	producer, err := unix.Mmap(fd, int64(page), page+2*size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		_ = unix.Munmap(consumer)
		return nil, fmt.Errorf("map ring buffer data: %w", err)
	}
	return &ring{
		consumer: consumer,
		producer: producer,
		consPos:  (*uint64)(unsafe.Pointer(&consumer[0])),
		prodPos:  (*uint64)(unsafe.Pointer(&producer[0])),
		data:     producer[page:],
		mask:     uint64(size - 1),
	}, nil
}

// pending is how many bytes the kernel has written that the reader has not
// consumed yet.
func (r *ring) pending() uint64 {
	return atomic.LoadUint64(r.prodPos) - atomic.LoadUint64(r.consPos)
}

// read hands the next committed record to fn and gives its space back to
// the kernel once fn returns: fn must not keep the slice. Records the
// program discarded are skipped. It returns false when there is no record
// to read: at the end of what is written, or at a record the kernel is
// still writing.
func (r *ring) read(fn func(sample []byte)) (bool, error) {
	cons := atomic.LoadUint64(r.consPos)
	for {
		prod := atomic.LoadUint64(r.prodPos)
		if cons == prod {
			return false, nil
		}
		if prod-cons < ringHeaderSize {
			return false, fmt.Errorf("%w: %d bytes pending, less than a header", errRingCorrupt, prod-cons)
		}
		// The atomic load orders the read of the record after the kernel's
		// commit of its length.
		hdr := atomic.LoadUint32((*uint32)(unsafe.Pointer(&r.data[cons&r.mask])))
		if hdr&ringBusyBit != 0 {
			return false, nil
		}
		size := uint64(hdr &^ (ringBusyBit | ringDiscardBit))
		next := cons + ringHeaderSize + (size+7)&^7
		if next > prod {
			return false, fmt.Errorf("%w: a %d-byte record overruns the written data", errRingCorrupt, size)
		}
		if hdr&ringDiscardBit == 0 {
			start := (cons + ringHeaderSize) & r.mask
			fn(r.data[start : start+size])
			atomic.StoreUint64(r.consPos, next)
			return true, nil
		}
		cons = next
		atomic.StoreUint64(r.consPos, cons)
	}
}

func (r *ring) close() error {
	return errors.Join(unix.Munmap(r.producer), unix.Munmap(r.consumer))
}

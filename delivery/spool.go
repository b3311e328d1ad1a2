package delivery

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// The spool's files in the state directory: segments named by their
// sequence number in hexadecimal, and the cursor.
const (
	segmentSuffix = ".seg"
	cursorName    = "cursor"
	cursorSize    = 20
	// firstSeq numbers the first segment of an empty spool, halfway, so
	// that segments written at Close can be numbered before it.
	firstSeq = 1 << 63
)

// spool is the on-disk part of the queue: segment files in the state
// directory, in sequence order, which is put order; and a cursor file that
// says how far into the first segment the receiver has accepted, rewritten
// after each acceptance, so that a restart resends at most the one request
// whose acceptance was not yet written down.
//
// Its methods are called with the outbox's lock held, except the syncing
// of the files takeUnsynced hands out.
type spool struct {
	dir      string
	lock     *os.File
	cursor   *os.File
	segs     []*segment
	nextSeq  uint64
	segBytes int64
	// usage is the size of all segment files.
	usage int64
	// unsynced are the segments closed for writing since the sender last
	// synced them.
	unsynced []*os.File
	// buf is where append encodes a record; scratch holds a record header
	// or the cursor.
	buf     []byte
	scratch [recordHeaderSize]byte
}

// segment is one spool file.
type segment struct {
	seq uint64
	f   *os.File
	// size is the end of its last good record: where the next one is
	// written, and where reading stops.
	size int64
	// next is the offset of the first record not yet delivered.
	next int64
	// pending measures the records from next on.
	pending Count
	// oldest is when the record at next was put, as of its last reading.
	oldest time.Time
	// writing is true while new records are appended to it.
	writing bool
}

func segmentPath(dir string, seq uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%016x%s", seq, segmentSuffix))
}

// empty says whether nothing waits on disk: delivered segments are
// removed at once.
func (s *spool) empty() bool { return len(s.segs) == 0 }

// head is the oldest segment; the spool must not be empty.
func (s *spool) head() *segment { return s.segs[0] }

// pending measures everything that waits on disk.
func (s *spool) pending() Count {
	var c Count
	for _, seg := range s.segs {
		c.add(seg.pending)
	}
	return c
}

// tail returns the segment that new records go to, or nil when a new one
// must be begun for a record of size n.
func (s *spool) tail(n int64) *segment {
	if len(s.segs) == 0 {
		return nil
	}
	t := s.segs[len(s.segs)-1]
	if !t.writing || (t.size+n > s.segBytes && t.size > segmentHeaderSize) {
		return nil
	}
	return t
}

// cost is how much appending e adds to the spool's files.
func (s *spool) cost(e entry) int64 {
	n := recordSize(e)
	if s.tail(n) == nil {
		return n + segmentHeaderSize
	}
	return n
}

// append writes e at the end of the spool, beginning a new segment when
// the last one is full. A failed write leaves the spool as it was.
func (s *spool) append(e entry) error {
	n := recordSize(e)
	t := s.tail(n)
	if t == nil {
		s.stopWriting()
		var err error
		if t, err = s.create(s.nextSeq, nil); err != nil {
			return err
		}
		s.nextSeq++
		s.segs = append(s.segs, t)
	}
	s.buf = appendRecord(s.buf[:0], e)
	if _, err := t.f.Write(s.buf); err != nil {
		// Cut a partial write off; if that fails too, Open finds the
		// torn record later and counts it.
		_ = t.f.Truncate(t.size)
		s.stopWriting()
		return fmt.Errorf("write spool: %w", err)
	}
	if t.pending.Requests == 0 {
		t.oldest = e.put
	}
	t.size += n
	t.pending.add(countOf(e.Request))
	s.usage += n
	return nil
}

// stopWriting closes the last segment for writing; the sender syncs it.
func (s *spool) stopWriting() {
	if len(s.segs) == 0 {
		return
	}
	if t := s.segs[len(s.segs)-1]; t.writing {
		t.writing = false
		s.unsynced = append(s.unsynced, t.f)
	}
}

// create makes segment seq holding entries, open for writing.
func (s *spool) create(seq uint64, entries []entry) (*segment, error) {
	path := segmentPath(s.dir, seq)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create spool segment: %w", err)
	}
	buf := segmentHeader()
	seg := &segment{seq: seq, f: f, next: segmentHeaderSize, writing: true}
	for _, e := range entries {
		buf = appendRecord(buf, e)
		seg.pending.add(countOf(e.Request))
	}
	if len(entries) > 0 {
		seg.oldest = entries[0].put
	}
	if _, err := f.Write(buf); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return nil, fmt.Errorf("write spool segment: %w", err)
	}
	seg.size = int64(len(buf))
	s.usage += seg.size
	return seg, nil
}

// prepend writes entries to a new segment before all others: it is how
// Close keeps what memory still held, older than all on disk. The segment
// is left open for writing, so that close syncs it.
func (s *spool) prepend(entries []entry) error {
	seq := s.nextSeq
	if len(s.segs) > 0 {
		seq = s.segs[0].seq - 1
	}
	seg, err := s.create(seq, entries)
	if err != nil {
		return err
	}
	if len(s.segs) == 0 {
		s.nextSeq++
	}
	s.segs = append([]*segment{seg}, s.segs...)
	return nil
}

// read returns the record at seg.next and its size.
func (s *spool) read(seg *segment) (entry, int64, error) {
	h := s.scratch[:]
	if _, err := seg.f.ReadAt(h, seg.next); err != nil {
		return entry{}, 0, fmt.Errorf("read spool: %w", err)
	}
	n := bodyLength(h)
	if seg.next+recordHeaderSize+n > seg.size {
		return entry{}, 0, fmt.Errorf("%w: length past the segment's end", errCorrupt)
	}
	body := make([]byte, n)
	if _, err := seg.f.ReadAt(body, seg.next+recordHeaderSize); err != nil {
		return entry{}, 0, fmt.Errorf("read spool: %w", err)
	}
	e, err := decodeRecord(h, body)
	if err == nil {
		seg.oldest = e.put
	}
	return e, recordHeaderSize + n, err
}

// advance moves seg, the head, past its next record, of size n and
// measuring c, once the record is delivered or dropped, and writes the
// cursor down. A segment with nothing left is removed.
func (s *spool) advance(seg *segment, n int64, c Count) error {
	seg.next += n
	seg.pending.sub(c)
	if seg.pending.Requests == 0 {
		return s.remove(seg)
	}
	return s.writeCursor(seg.seq, seg.next)
}

// remove deletes seg, the head, delivered or dropped.
func (s *spool) remove(seg *segment) error {
	s.segs = s.segs[1:]
	s.usage -= seg.size
	// The cursor is cleared first: a crash in between resends the
	// segment rather than skip part of another one numbered alike later.
	err := errors.Join(s.writeCursor(0, 0), os.Remove(segmentPath(s.dir, seg.seq)), seg.f.Close())
	if err != nil {
		return fmt.Errorf("remove spool segment: %w", err)
	}
	return nil
}

// writeCursor records that segment seq is delivered up to offset off.
func (s *spool) writeCursor(seq uint64, off int64) error {
	b := s.scratch[:cursorSize]
	binary.LittleEndian.PutUint64(b, seq)
	binary.LittleEndian.PutUint64(b[8:], uint64(off))
	binary.LittleEndian.PutUint32(b[16:], crc32.Checksum(b[:16], castagnoli))
	if _, err := s.cursor.WriteAt(b, 0); err != nil {
		return fmt.Errorf("write spool cursor: %w", err)
	}
	return nil
}

// takeUnsynced hands the segments closed since the last call to the
// caller, to sync outside the lock, with the directory that names them.
func (s *spool) takeUnsynced() []*os.File {
	files := s.unsynced
	s.unsynced = nil
	return files
}

// close syncs every file and closes them, releasing the state directory.
// What the spool holds stays known, for the outbox's Stats.
func (s *spool) close() error {
	var errs []error
	for _, f := range s.unsynced {
		if err := f.Sync(); !errors.Is(err, os.ErrClosed) {
			errs = append(errs, err)
		}
	}
	for _, seg := range s.segs {
		if seg.writing {
			errs = append(errs, seg.f.Sync())
		}
		errs = append(errs, seg.f.Close())
	}
	errs = append(errs, s.cursor.Sync(), s.cursor.Close(), syncDir(s.dir), s.lock.Close())
	s.unsynced = nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close spool: %w", err)
	}
	return nil
}

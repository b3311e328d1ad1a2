package delivery

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// recovery is what openSpool found in the state directory.
type recovery struct {
	// pending is what waits to be replayed.
	pending Count
	// corrupt is what was dropped as unreadable: a stretch of records
	// torn by a crash, or a file that is not a segment.
	corrupt Count
}

// openSpool opens the spool in dir, reading every segment through to know
// what it holds and cutting off corrupt tails. Segments start at most
// segBytes long.
func openSpool(dir string, segBytes int64) (s *spool, rec recovery, err error) {
	lock, err := openStateDir(dir)
	if err != nil {
		return nil, rec, err
	}
	s = &spool{dir: dir, lock: lock, nextSeq: firstSeq, segBytes: segBytes}
	defer func() {
		if err != nil {
			_ = s.close()
		}
	}()
	s.cursor, err = os.OpenFile(filepath.Join(dir, cursorName), os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, rec, fmt.Errorf("open spool cursor: %w", err)
	}
	curSeq, curOff := readCursor(s.cursor)
	seqs, err := segmentSeqs(dir)
	if err != nil {
		return nil, rec, err
	}
	for _, seq := range seqs {
		s.nextSeq = max(s.nextSeq, seq+1)
		start := int64(segmentHeaderSize)
		if seq == curSeq {
			start = max(start, curOff)
		}
		seg, corrupt, err := s.recoverSegment(seq, start)
		if err != nil {
			return nil, rec, err
		}
		rec.corrupt.add(corrupt)
		if seg != nil {
			s.segs = append(s.segs, seg)
			rec.pending.add(seg.pending)
		}
	}
	// The cursor is written again: its segment may be gone.
	if len(s.segs) > 0 {
		err = s.writeCursor(s.segs[0].seq, s.segs[0].next)
	} else {
		err = s.writeCursor(0, 0)
	}
	return s, rec, err
}

// readCursor returns the segment and offset the cursor file names, or
// zeroes when it names none or cannot be trusted.
func readCursor(f *os.File) (uint64, int64) {
	b := make([]byte, cursorSize)
	if _, err := f.ReadAt(b, 0); err != nil {
		return 0, 0
	}
	if crc32.Checksum(b[:16], castagnoli) != binary.LittleEndian.Uint32(b[16:]) {
		return 0, 0
	}
	return binary.LittleEndian.Uint64(b), int64(binary.LittleEndian.Uint64(b[8:]))
}

// segmentSeqs returns the sequence numbers of the segment files in dir, in
// order.
func segmentSeqs(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read spool: %w", err)
	}
	var seqs []uint64
	for _, e := range entries {
		hex, ok := strings.CutSuffix(e.Name(), segmentSuffix)
		if !ok || len(hex) != 16 {
			continue
		}
		if seq, err := strconv.ParseUint(hex, 16, 64); err == nil {
			seqs = append(seqs, seq)
		}
	}
	slices.Sort(seqs)
	return seqs, nil
}

// recoverSegment reads segment seq from offset start on, counting its
// records. It returns nil when nothing in it is left to send, having
// removed the file, and what was corrupt, having cut it off.
func (s *spool) recoverSegment(seq uint64, start int64) (*segment, Count, error) {
	path := segmentPath(s.dir, seq)
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, Count{}, fmt.Errorf("open spool segment: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, Count{}, fmt.Errorf("open spool segment: %w", err)
	}
	size := info.Size()
	seg := &segment{seq: seq, f: f, next: min(start, size)}
	h := make([]byte, segmentHeaderSize)
	if _, err := f.ReadAt(h, 0); err != nil || checkSegmentHeader(h) != nil {
		seg.size, seg.next = 0, 0
	} else if seg.size, err = seg.scan(size); err != nil {
		_ = f.Close()
		return nil, Count{}, err
	}
	var corrupt Count
	if seg.size < size {
		corrupt = Count{Requests: 1, Bytes: size - seg.size}
		if err := f.Truncate(seg.size); err != nil {
			_ = f.Close()
			return nil, Count{}, fmt.Errorf("cut corrupt spool segment: %w", err)
		}
	}
	if seg.pending.Requests == 0 {
		if err := errors.Join(f.Close(), os.Remove(path)); err != nil {
			return nil, Count{}, fmt.Errorf("remove spool segment: %w", err)
		}
		return nil, corrupt, nil
	}
	s.usage += seg.size
	return seg, corrupt, nil
}

// scan reads the records of a segment of the given file size from
// seg.next on, counting them in pending, and returns where the last good
// one ends.
func (seg *segment) scan(size int64) (int64, error) {
	r := bufio.NewReaderSize(io.NewSectionReader(seg.f, seg.next, size-seg.next), 1<<16)
	h := make([]byte, recordHeaderSize)
	var body []byte
	end := seg.next
	for {
		if _, err := io.ReadFull(r, h); errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return end, nil
		} else if err != nil {
			return 0, fmt.Errorf("read spool segment: %w", err)
		}
		n := bodyLength(h)
		if end+recordHeaderSize+n > size {
			return end, nil
		}
		body = slices.Grow(body[:0], int(n))[:n]
		if _, err := io.ReadFull(r, body); err != nil {
			return 0, fmt.Errorf("read spool segment: %w", err)
		}
		e, err := decodeRecord(h, body)
		if err != nil {
			return end, nil
		}
		if seg.pending.Requests == 0 {
			seg.oldest = e.put
		}
		seg.pending.add(countOf(e.Request))
		end += recordHeaderSize + n
	}
}

package delivery

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"
)

// The spool's file format. A segment file begins with a header:
//
//	magic   [8]byte  "vigilspl"
//	version uint16   formatVersion
//	        [6]byte  zero
//
// and holds records one after the other, each a header and the body:
//
//	crc     uint32   CRC-32C of the rest of the header and the body
//	length  uint32   the body's length
//	signal  uint8    the request's Signal
//	        [3]byte  zero
//	items   uint32   the request's Items
//	put     int64    when the request was put, in Unix nanoseconds
//	body    [length]byte
//
// All integers are little-endian.
const (
	segmentMagic      = "vigilspl"
	formatVersion     = 1
	segmentHeaderSize = 16
	recordHeaderSize  = 24
)

// castagnoli is the CRC table of the records: CRC-32C, which CPUs compute
// in hardware.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errCorrupt is the error of a record that cannot be read back.
var errCorrupt = errors.New("corrupt spool record")

// entry is a request with the time it was put.
type entry struct {
	Request
	put time.Time
}

// recordSize is what e takes in a segment.
func recordSize(e entry) int64 {
	return recordHeaderSize + int64(len(e.Body))
}

// segmentHeader returns the header that begins every segment file.
func segmentHeader() []byte {
	h := make([]byte, segmentHeaderSize)
	copy(h, segmentMagic)
	binary.LittleEndian.PutUint16(h[8:], formatVersion)
	return h
}

// checkSegmentHeader says whether h is a segment header this version
// reads.
func checkSegmentHeader(h []byte) error {
	if len(h) < segmentHeaderSize || !bytes.Equal(h[:8], []byte(segmentMagic)) {
		return fmt.Errorf("%w: not a spool segment", errCorrupt)
	}
	if v := binary.LittleEndian.Uint16(h[8:]); v != formatVersion {
		return fmt.Errorf("%w: format version %d, this vigil reads %d", errCorrupt, v, formatVersion)
	}
	return nil
}

// appendRecord appends e, encoded as a record, to buf.
func appendRecord(buf []byte, e entry) []byte {
	start := len(buf)
	buf = binary.LittleEndian.AppendUint32(buf, 0)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(e.Body)))
	buf = append(buf, byte(e.Signal), 0, 0, 0)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(e.Items))
	buf = binary.LittleEndian.AppendUint64(buf, uint64(e.put.UnixNano()))
	buf = append(buf, e.Body...)
	binary.LittleEndian.PutUint32(buf[start:], crc32.Checksum(buf[start+4:], castagnoli))
	return buf
}

// bodyLength returns the body length a record header announces.
func bodyLength(h []byte) int64 {
	return int64(binary.LittleEndian.Uint32(h[4:]))
}

// decodeRecord checks the record made of header h and body and returns
// its entry, which keeps body.
func decodeRecord(h, body []byte) (entry, error) {
	crc := crc32.Update(crc32.Checksum(h[4:recordHeaderSize], castagnoli), castagnoli, body)
	if crc != binary.LittleEndian.Uint32(h) || bodyLength(h) != int64(len(body)) {
		return entry{}, fmt.Errorf("%w: checksum mismatch", errCorrupt)
	}
	return entry{
		Request: Request{
			Signal: Signal(h[8]),
			Items:  int(binary.LittleEndian.Uint32(h[12:])),
			Body:   body,
		},
		put: time.Unix(0, int64(binary.LittleEndian.Uint64(h[16:]))),
	}, nil
}

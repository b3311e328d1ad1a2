package delivery

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// FuzzSpoolRecovery opens a spool whose segment holds any bytes (records
// torn by a crash, a file that is no segment) and whose cursor names any
// offset in it: the spool opens, and every record it counts as pending
// reads back whole, in order, to the last.
func FuzzSpoolRecovery(f *testing.F) {
	put := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	seg := segmentHeader()
	for i, body := range []string{"logs", "", "spans of a trace"} {
		seg = appendRecord(seg, entry{Request: Request{Signal: Signal(i % 2), Items: i, Body: []byte(body)}, put: put})
	}
	f.Add(seg, int64(0))
	f.Add(seg, int64(segmentHeaderSize+recordHeaderSize+4))
	f.Add(seg[:len(seg)-3], int64(segmentHeaderSize))
	f.Add(append(seg, 0xff, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f), int64(-1))
	f.Add([]byte("vigilspl\x02\x00"), int64(1<<62))
	f.Fuzz(func(t *testing.T, segment []byte, offset int64) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(segmentPath(dir, firstSeq), segment, 0o600))
		cursor := binary.LittleEndian.AppendUint64(nil, firstSeq)
		cursor = binary.LittleEndian.AppendUint64(cursor, uint64(offset))
		cursor = binary.LittleEndian.AppendUint32(cursor, crc32.Checksum(cursor, castagnoli))
		require.NoError(t, os.WriteFile(filepath.Join(dir, cursorName), cursor, 0o600))

		s, rec, err := openSpool(dir, 1<<20)
		require.NoError(t, err)
		defer func() { require.NoError(t, s.close()) }()
		require.LessOrEqual(t, rec.corrupt.Bytes, int64(len(segment)))
		var read Count
		for !s.empty() {
			head := s.head()
			info, err := head.f.Stat()
			require.NoError(t, err)
			require.Equal(t, head.size, info.Size(), "cut at the last good record")
			e, n, err := s.read(head)
			require.NoError(t, err, "a record counted at recovery does not read back")
			read.add(countOf(e.Request))
			require.NoError(t, s.advance(head, n, countOf(e.Request)))
		}
		require.Equal(t, rec.pending, read)
	})
}

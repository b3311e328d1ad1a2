package sensor

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeRing lays records out as the kernel does, in memory the test owns:
// the data twice in a row, as the kernel maps its pages.
type fakeRing struct {
	ring
	cons, prod uint64
	size       uint64
}

func newFakeRing(size uint64) *fakeRing {
	f := &fakeRing{size: size}
	f.ring = ring{consPos: &f.cons, prodPos: &f.prod, data: make([]byte, 2*size), mask: size - 1}
	return f
}

// write appends a record with the header flags given.
func (f *fakeRing) write(payload string, flags uint32) {
	rec := make([]byte, ringHeaderSize+(len(payload)+7)&^7)
	binary.LittleEndian.PutUint32(rec, uint32(len(payload))|flags)
	copy(rec[ringHeaderSize:], payload)
	for i, b := range rec {
		at := (f.prod + uint64(i)) & f.ring.mask
		f.data[at], f.data[at+f.size] = b, b
	}
	f.prod += uint64(len(rec))
}

func (f *fakeRing) consumeAll(t *testing.T) []string {
	t.Helper()
	var got []string
	for {
		ok, err := f.read(func(sample []byte) { got = append(got, string(sample)) })
		require.NoError(t, err)
		if !ok {
			return got
		}
	}
}

func TestRingConsume(t *testing.T) {
	f := newFakeRing(64)
	f.write("first", 0)
	f.write("dropped", ringDiscardBit)
	f.write("second record", 0)
	require.Equal(t, []string{"first", "second record"}, f.consumeAll(t))
	require.Equal(t, f.prod, f.cons, "every byte given back")
	require.Zero(t, f.pending())

	// The next records wrap around the end of the data and still read
	// whole, through the second mapping.
	f.write("wraps around the end", 0)
	require.Equal(t, []string{"wraps around the end"}, f.consumeAll(t))
	require.Greater(t, f.cons, f.size)
}

func TestRingStopsAtBusyRecord(t *testing.T) {
	f := newFakeRing(64)
	f.write("done", 0)
	busyAt := f.prod
	f.write("half written", ringBusyBit)
	require.Equal(t, []string{"done"}, f.consumeAll(t))
	require.Equal(t, busyAt, f.cons, "stops before the record being written")
	require.NotZero(t, f.pending())

	// Committed: the kernel clears the busy bit.
	binary.LittleEndian.PutUint32(f.data[busyAt&f.mask:], uint32(len("half written")))
	require.Equal(t, []string{"half written"}, f.consumeAll(t))
}

func TestRingRejectsOverrun(t *testing.T) {
	f := newFakeRing(64)
	f.write("ok", 0)
	binary.LittleEndian.PutUint32(f.data[0:], 40) // longer than what is written
	_, err := f.read(func([]byte) {})
	require.ErrorIs(t, err, errRingCorrupt)
}

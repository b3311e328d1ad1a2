// Package ringtest breaks the ring buffer of a running vigil, for the
// tests of what vigil does when its event reader fails. The kernel, the
// programs and the ring are the real ones; only the reader's position in
// the ring is made impossible.
package ringtest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// ringBusyBit marks, in a record's header, a record the kernel is still
// writing: a reader stops there and waits rather than fail.
const ringBusyBit = 1 << 31

// Corrupt finds the BPF ring buffer of size bytes that process pid holds
// and moves its consumer position a whole ring past the kernel's producer
// position: from then on the kernel drops every record as if the ring
// were full, and the reader finds a record that overruns what was
// written, an error it cannot recover from. The reader writes the
// position back after each record it reads, so Corrupt writes it again
// every few milliseconds until done is closed; it fails the test if that
// takes over a minute.
func Corrupt(t testing.TB, pid, size int, done <-chan struct{}) {
	t.Helper()
	m := find(t, pid, size)
	defer m.Close()
	page := os.Getpagesize()
	consumer, err := unix.Mmap(m.FD(), 0, page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatalf("ringtest: map the consumer page: %v", err)
	}
	defer unix.Munmap(consumer)
	producer, err := unix.Mmap(m.FD(), int64(page), page+2*size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatalf("ringtest: map the data: %v", err)
	}
	defer unix.Munmap(producer)
	consPos := (*uint64)(unsafe.Pointer(&consumer[0]))
	prodPos := (*uint64)(unsafe.Pointer(&producer[0]))
	data, mask := producer[page:], uint64(size-1)

	timeout := time.After(time.Minute)
	for {
		// Less than a ring ahead, the kernel would go on writing, and the
		// reader might find its way back to a record's start. The word
		// there must not read as a record being written, which the reader
		// would wait for.
		cons := atomic.LoadUint64(prodPos) + uint64(size)
		for atomic.LoadUint32((*uint32)(unsafe.Pointer(&data[cons&mask])))&ringBusyBit != 0 {
			cons += 8
		}
		atomic.StoreUint64(consPos, cons)
		select {
		case <-done:
			return
		case <-timeout:
			t.Fatalf("ringtest: the reader of pid %d went on for a minute with its ring buffer broken", pid)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// find returns the ring buffer of size bytes among the BPF maps pid holds.
func find(t testing.TB, pid, size int) *ebpf.Map {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("ringtest: %v", err)
	}
	// A process may hold several descriptors of one map (vigil's reader
	// waits on a copy of the ring's).
	ids := make(map[uint32]bool)
	for _, e := range entries {
		if link, _ := os.Readlink(filepath.Join(dir, e.Name())); link != "anon_inode:bpf-map" {
			continue
		}
		if id, ok := mapID(fmt.Sprintf("/proc/%d/fdinfo/%s", pid, e.Name())); ok {
			ids[id] = true
		}
	}
	var found []*ebpf.Map
	for id := range ids {
		m, err := ebpf.NewMapFromID(ebpf.MapID(id))
		if err != nil {
			continue // freed meanwhile
		}
		if m.Type() == ebpf.RingBuf && m.MaxEntries() == uint32(size) {
			found = append(found, m)
		} else {
			m.Close()
		}
	}
	if len(found) != 1 {
		for _, m := range found {
			m.Close()
		}
		t.Fatalf("ringtest: pid %d holds %d ring buffers of %d bytes, not one", pid, len(found), size)
	}
	return found[0]
}

// mapID reads a BPF map's id from the fdinfo of a descriptor of it.
func mapID(fdinfo string) (uint32, bool) {
	f, err := os.Open(fdinfo)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "map_id:"); ok {
			id, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
			return uint32(id), err == nil
		}
	}
	return 0, false
}

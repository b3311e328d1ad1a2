package delivery

import (
	"context"
	"testing"
)

// nopTransport accepts everything at once.
type nopTransport struct{}

func (nopTransport) Send(context.Context, Request) (int64, error) { return 0, nil }

// BenchmarkPutAndDeliver puts 1 KiB requests and waits for their delivery
// to a receiver that accepts at once, every 256 requests: through memory,
// and spilling every request to the spool (written, read back, its cursor
// written, its segments removed).
func BenchmarkPutAndDeliver(b *testing.B) {
	for _, bc := range []struct {
		name   string
		dir    bool
		memory int64
	}{
		{name: "memory", memory: 1 << 30},
		{name: "disk", dir: true, memory: 1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg, _ := testConfig("")
			if bc.dir {
				cfg.Dir = b.TempDir()
			}
			cfg.MemoryBytes, cfg.DiskBytes = bc.memory, 1<<32
			o, err := Open(cfg, nopTransport{})
			if err != nil {
				b.Fatal(err)
			}
			r := Request{Signal: Logs, Items: 4, Body: make([]byte, 1024)}
			b.SetBytes(int64(len(r.Body)))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				o.Put(r)
				if n++; n%256 == 0 {
					if err := o.Flush(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := o.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if err := o.Close(context.Background()); err != nil {
				b.Fatal(err)
			}
			if st := o.Stats(); st.Delivered.Requests != int64(b.N) || st.Lost() != 0 {
				b.Fatalf("delivered %d of %d, lost %d", st.Delivered.Requests, b.N, st.Lost())
			}
		})
	}
}

// BenchmarkPutReceiverDown puts 1 KiB requests while the receiver holds
// the first send: the cost Put adds to its caller during an outage, in
// memory and in a spool, each at its bound (16 MiB, 64 MiB) and dropping
// the oldest requests from there on.
func BenchmarkPutReceiverDown(b *testing.B) {
	for _, bc := range []struct {
		name string
		dir  bool
	}{
		{name: "memory"},
		{name: "disk", dir: true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cfg, _ := testConfig("")
			if bc.dir {
				cfg.Dir = b.TempDir()
			}
			cfg.DiskBytes = 64 << 20
			r := newReceiver()
			r.hold()
			o, err := Open(cfg, r)
			if err != nil {
				b.Fatal(err)
			}
			req := Request{Signal: Logs, Items: 4, Body: make([]byte, 1024)}
			// The first request is sent, and held; the others wait.
			o.Put(req)
			r.waitEntered(b, string(req.Body))
			b.SetBytes(int64(len(req.Body)))
			b.ReportAllocs()
			for b.Loop() {
				o.Put(req)
			}
			b.StopTimer()
			// Without a spool, Close says what it could not keep.
			if err := closeSoon(b, o); bc.dir && err != nil {
				b.Fatal(err)
			}
			r.release()
		})
	}
}

package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// outcome is what a fakeReceiver answers.
type outcome int

const (
	accept outcome = iota
	fail
	refuse
)

// fakeReceiver is the Transport of the tests: it accepts, fails or
// refuses as told, and can hold every send at a gate.
type fakeReceiver struct {
	mu     sync.Mutex
	answer outcome
	reject int64 // items each accepted request has rejected
	// failAfter, when set, makes every send after that many accepted fail.
	failAfter int
	gate      chan struct{}
	deaf      bool // the gate ignores the send's context
	calls     int
	got       []string
	entered   chan string
}

var _ Transport = (*fakeReceiver)(nil)

func newReceiver() *fakeReceiver {
	return &fakeReceiver{entered: make(chan string, 1<<16)}
}

func (r *fakeReceiver) Send(ctx context.Context, req Request) (int64, error) {
	r.mu.Lock()
	gate, deaf := r.gate, r.deaf
	r.mu.Unlock()
	select {
	case r.entered <- string(req.Body):
	default:
	}
	if gate != nil {
		if deaf {
			<-gate
		} else {
			select {
			case <-gate:
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	answer := r.answer
	if r.failAfter > 0 && len(r.got) >= r.failAfter {
		answer = fail
	}
	switch answer {
	case fail:
		return 0, errors.New("connection refused")
	case refuse:
		return 0, fmt.Errorf("export: %w", &Permanent{Err: errors.New("invalid argument")})
	default:
		r.got = append(r.got, string(req.Body))
		return r.reject, nil
	}
}

// set changes what the receiver answers from now on.
func (r *fakeReceiver) set(o outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answer = o
}

// hold makes every send wait until release.
func (r *fakeReceiver) hold() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gate = make(chan struct{})
}

func (r *fakeReceiver) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gate != nil {
		close(r.gate)
		r.gate = nil
	}
}

// received returns the bodies accepted so far, in order.
func (r *fakeReceiver) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

func (r *fakeReceiver) sends() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// waitEntered waits until a send of body has begun.
func (r *fakeReceiver) waitEntered(t testing.TB, body string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case b := <-r.entered:
			if b == body {
				return
			}
		case <-timeout:
			t.Fatalf("no send of %q began", body)
		}
	}
}

// clock is a test clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// logBuffer collects an outbox's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// lines returns the lines that contain s.
func (l *logBuffer) lines(s string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var found []string
	for line := range strings.Lines(l.buf.String()) {
		if strings.Contains(line, s) {
			found = append(found, line)
		}
	}
	return found
}

// testConfig is a config with quick retries, logging into a buffer.
func testConfig(dir string) (Config, *logBuffer) {
	logs := &logBuffer{}
	return Config{
		Dir:     dir,
		Backoff: Backoff{Initial: time.Millisecond, Max: 4 * time.Millisecond},
		Logger:  slog.New(slog.NewTextHandler(logs, nil)),
	}, logs
}

// body is the body of the i-th request of a test: five bytes.
func body(i int) string { return fmt.Sprintf("r%04d", i) }

// bodies returns the bodies of requests from to to, not included.
func bodies(from, to int) []string {
	var b []string
	for i := from; i < to; i++ {
		b = append(b, body(i))
	}
	return b
}

// request is the i-th request of a test, of items items.
func request(i, items int) Request {
	return Request{Signal: Logs, Items: items, Body: []byte(body(i))}
}

// putRange puts requests from to to, not included, one item each.
func putRange(o *Outbox, from, to int) {
	for i := from; i < to; i++ {
		o.Put(request(i, 1))
	}
}

// mustOpen opens an outbox that the test closes at its end.
func mustOpen(t *testing.T, cfg Config, r Transport) *Outbox {
	t.Helper()
	o, err := Open(cfg, r)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = o.Close(ctx)
	})
	return o
}

// flush waits for o to deliver everything.
func flush(t *testing.T, o *Outbox) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, o.Flush(ctx))
}

// closeSoon closes o, giving it little time to deliver.
func closeSoon(t testing.TB, o *Outbox) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	return o.Close(ctx)
}

// requireBalanced checks that every item put or recovered is delivered,
// dropped, queued or spooled, once.
func requireBalanced(t *testing.T, st Stats, put int64) {
	t.Helper()
	sum := st.Delivered.Items + st.Lost() + st.Queued.Items + st.Spooled.Items
	require.Equal(t, put+st.Recovered.Items, sum, "items unaccounted for in %+v", st)
}

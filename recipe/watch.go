package recipe

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/fsnotify/fsnotify"
)

// settle is how long Watch waits after a change for more before it calls
// back, so that an editor's save or a checkout counts once.
const settle = 200 * time.Millisecond

// Watcher reports changes to recipe files.
type Watcher struct {
	w *fsnotify.Watcher
}

// NewWatcher watches paths (files or directories) from its return on.
func NewWatcher(paths []string) (*Watcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch recipe files: %w", err)
	}
	for _, p := range paths {
		if err := w.Add(p); err != nil {
			w.Close()
			return nil, fmt.Errorf("watch %s: %w", p, err)
		}
	}
	return &Watcher{w: w}, nil
}

// Run calls changed whenever a watched file is written, created, removed
// or renamed, until ctx is done; then it stops watching.
func (w *Watcher) Run(ctx context.Context, changed func()) {
	defer w.w.Close()
	var pending <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.w.Events:
			if !ok {
				return
			}
			if ev.Has(fsnotify.Write) || ev.Has(fsnotify.Create) || ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
				pending = time.After(settle)
			}
		case err, ok := <-w.w.Errors:
			if !ok {
				return
			}
			slog.Warn("watching recipe files", "error", err)
		case <-pending:
			pending = nil
			changed()
		}
	}
}

package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/vigil-otel/vigil/pipeline"
	"github.com/vigil-otel/vigil/recipe"
)

// Reloading: the recipe files are read again on SIGHUP and whenever they
// change, while the watch goes on.

// reloadRecipes reloads the catalog into p on each signal of hup (nil
// when SIGHUP is not vigil's) and whenever watcher (if any) sees the recipe
// files change, until ctx is done. A broken file is reported and left out;
// the rest of the catalog keeps working.
func reloadRecipes(ctx context.Context, p *pipeline.Pipeline, dirs []string, watcher *recipe.Watcher, hup <-chan os.Signal) {
	changed := make(chan struct{}, 1)
	if watcher != nil {
		go watcher.Run(ctx, func() {
			select {
			case changed <- struct{}{}:
			default:
			}
		})
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		case <-changed:
		}
		// systemd (Type=notify-reload, or ExecReload with Type=notify)
		// hears of the reload; a monotonic time stamps it as sd_notify asks.
		notify(fmt.Sprintf("RELOADING=1\nMONOTONIC_USEC=%d", monotonicUsec()))
		recipes, errs := recipe.LoadCatalog(dirs)
		for _, err := range errs {
			slog.Error("recipe error", "error", err)
		}
		if err := p.SetRecipes(recipes); err != nil {
			slog.Error("recipes not reloaded; the old ones stay", "error", err)
		} else {
			slog.Info("recipes reloaded", "recipes", len(recipes), "errors", len(errs))
		}
		notify("READY=1")
	}
}

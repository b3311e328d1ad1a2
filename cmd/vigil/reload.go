package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/vigil-otel/vigil/recipe"
)

// Reloading: the recipe files are read again on SIGHUP and whenever they
// change, while the watch goes on.

// recipeSetter is the running pipeline, as reloading sees it.
type recipeSetter interface {
	SetRecipes([]*recipe.Recipe) error
}

// reloader reloads the recipes of dirs into a running pipeline.
type reloader struct {
	dirs           []string
	allowUntrusted bool
	// builtins is what the catalog in use made of the built-in recipes.
	builtins map[string]builtinState
}

// newReloader returns a reloader of dirs, whose catalog in use is loaded.
func newReloader(dirs []string, allowUntrusted bool, loaded []*recipe.Recipe) *reloader {
	return &reloader{dirs: dirs, allowUntrusted: allowUntrusted, builtins: builtinStates(loaded)}
}

// run reloads the catalog into p on each signal of hup (nil when SIGHUP
// is not vigil's) and whenever watcher (if any) sees the recipe files
// change, until ctx is done.
func (r *reloader) run(ctx context.Context, p recipeSetter, watcher *recipe.Watcher, hup <-chan os.Signal) {
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
		r.reload(p)
		notify("READY=1")
	}
}

// reload loads the catalog again into p. A broken file is reported and
// left out; the rest of the catalog keeps working. Recipes a user vigil
// does not trust could change are refused whole: the catalog in use
// stays.
func (r *reloader) reload(p recipeSetter) {
	recipes, broken, err := loadRecipes(r.dirs, r.allowUntrusted)
	if err == nil {
		err = p.SetRecipes(recipes)
	}
	if err != nil {
		slog.Error("recipes not reloaded; the old ones stay", "error", err)
		return
	}
	now := builtinStates(recipes)
	for _, c := range builtinChanges(r.builtins, now) {
		log := slog.Info
		if c.weakened {
			log = slog.Warn
		}
		log("a built-in recipe changed", "recipe", c.recipe, "change", c.change)
	}
	r.builtins = now
	slog.Info("recipes reloaded", "recipes", len(recipes), "errors", broken)
}

// builtinState is what a catalog made of one built-in recipe.
type builtinState struct {
	// source is where the recipe that has its name now is defined
	// (file:line), "" for the built-in itself.
	source  string
	enabled bool
}

// builtinStates returns the state of each built-in recipe in recipes.
func builtinStates(recipes []*recipe.Recipe) map[string]builtinState {
	states := make(map[string]builtinState)
	for _, r := range recipes {
		switch {
		case r.Ruleset == recipe.BuiltinRuleset && r.Overrides == "":
			states[r.Name] = builtinState{enabled: r.Enabled}
		case r.Overrides == recipe.BuiltinRuleset:
			states[r.Name] = builtinState{source: r.Source, enabled: r.Enabled}
		}
	}
	return states
}

// builtinChange is what a reload did to one built-in recipe; weakened says
// it may detect less than before: turned off, or replaced.
type builtinChange struct {
	recipe, change string
	weakened       bool
}

// builtinChanges returns what differs between before and after, by recipe
// name.
func builtinChanges(before, after map[string]builtinState) []builtinChange {
	var out []builtinChange
	for _, name := range slices.Sorted(maps.Keys(after)) {
		b, a := before[name], after[name]
		var parts []string
		weakened := false
		if b.enabled != a.enabled {
			parts = append(parts, fmt.Sprintf("enabled: %t -> %t", b.enabled, a.enabled))
			weakened = !a.enabled
		}
		// A line moved in the same file is the same definition.
		if file(b.source) != file(a.source) {
			if a.source == "" {
				parts = append(parts, "the built-in definition is back, replacing "+b.source)
			} else {
				parts = append(parts, "replaced by "+a.source)
				weakened = true
			}
		}
		if len(parts) > 0 {
			out = append(out, builtinChange{recipe: name, change: strings.Join(parts, "; "), weakened: weakened})
		}
	}
	return out
}

// file is the file of a recipe's source, file:line.
func file(source string) string {
	if i := strings.LastIndexByte(source, ':'); i >= 0 {
		return source[:i]
	}
	return source
}

package main

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vigil-otel/vigil/config"
	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/redact"
)

// A flag's value is checked as it is parsed, by the function that checks
// the same setting in the configuration file (and in the environment,
// where a variable gives it too), so that a value is refused alike
// wherever it comes from. A refusal is one line that names the flag and
// the value and says what was wanted:
//
//	vigil: --log-level loud: want one of debug, info, warn, error

// wantKind says what the parser of each type of flag wants, in the
// configuration file's words.
var wantKind = map[string]string{
	"duration": "a duration such as 10s or 500ms",
	"int":      "a whole number",
}

// checkFlag has flag name of fs refuse, once parsed, a value that check
// refuses; check reads the variable the flag sets, and may be nil when
// the type's own parsing is all there is to check.
func checkFlag(fs *pflag.FlagSet, name string, check func() error) {
	f := fs.Lookup(name)
	f.Value = checkedValue{Value: f.Value, check: check}
	if f.DefValue == "[]" {
		// The help leaves out an empty list's default only for pflag's own
		// list values.
		f.DefValue = ""
	}
}

// checkedValue is a flag's value, checked once parsed.
type checkedValue struct {
	pflag.Value
	check func() error
}

func (v checkedValue) Set(s string) error {
	if err := v.Value.Set(s); err != nil {
		if want, ok := wantKind[v.Type()]; ok {
			return errors.New("want " + want)
		}
		return err
	}
	if v.check == nil {
		return nil
	}
	return v.check()
}

// flagError words pflag's refusal of a flag's value as vigil words every
// refusal of a setting: the flag, the value, what was wanted.
func flagError(_ *cobra.Command, err error) error {
	if bad, ok := errors.AsType[*pflag.InvalidValueError](err); ok {
		// The value is quoted back, its secrets redacted: it may be an
		// endpoint with a token in it, and the line may land in a CI log.
		value := bad.GetValue()
		if r, err := redact.New(redact.Default()); err == nil {
			value = r.String(value)
		}
		return fmt.Errorf("--%s %s: %w", bad.GetFlag().Name, redact.Quote(value), errors.Unwrap(bad))
	}
	return err
}

// recipesFlag adds --recipes to fs, each path refused at once when there
// is nothing there.
func recipesFlag(fs *pflag.FlagSet, paths *[]string, usage string) {
	fs.StringArrayVar(paths, "recipes", nil, usage)
	checkFlag(fs, "recipes", func() error { return recipe.CheckPath((*paths)[len(*paths)-1]) })
}

// failOnFlag adds --fail-on to fs, an importance.
func failOnFlag(fs *pflag.FlagSet, importance *string, usage string) {
	fs.StringVar(importance, "fail-on", "", usage)
	checkFlag(fs, "fail-on", func() error {
		_, err := recipe.ParseImportance(*importance)
		return err
	})
}

// levelFlag is --log-level, the level of vigil's own logs, which it sets
// in v; it reads a level as the configuration file's log_level does.
type levelFlag struct{ v *slog.LevelVar }

func (f levelFlag) Set(name string) error {
	var l config.LogLevel
	if err := l.Set(name); err != nil {
		return err
	}
	f.v.Set(slog.Level(l))
	return nil
}

func (f levelFlag) String() string {
	if f.v == nil {
		return config.LogLevel(slog.LevelInfo).String()
	}
	return config.LogLevel(f.v.Level()).String()
}

func (levelFlag) Type() string { return "level" }

package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vigil-otel/vigil/config"
)

// Settings come in three layers: the command line beats the configuration
// file (--config), which beats the environment. The file's values are
// applied here to each flag the command line left alone; settings that
// have no flag go to the exporter as options, which beat the OTEL_*
// variables the exporters read themselves. What neither the command line
// nor the file says, the environment and the defaults decide.

// configFlag adds --config to cmd, for it and any command below it.
func configFlag(cmd *cobra.Command, path *string) {
	cmd.PersistentFlags().StringVar(path, "config", "", "read settings from the YAML file `PATH`; flags beat it, and it beats the OTEL_* variables (docs/configuration.md)")
}

// loadConfig reads the configuration file at path, an empty one when path
// is empty, and applies what it says of the flags cmd inherits
// (--log-level).
func loadConfig(cmd *cobra.Command, path string) (*config.File, error) {
	if path == "" {
		return &config.File{}, nil
	}
	file, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	if fs := cmd.Flags(); file.LogLevel != nil && !fs.Changed("log-level") {
		if err := fs.Set("log-level", file.LogLevel.String()); err != nil {
			return nil, fmt.Errorf("%s: log_level: %w", path, err)
		}
	}
	return file, nil
}

// apply fills in the outputs from file where the command line is silent.
func (o *output) apply(fs *pflag.FlagSet, file *config.File) {
	if file.JSONL != "" && !fs.Changed("jsonl") {
		o.jsonl = file.JSONL
	}
	if file.OutputMode != nil && !fs.Changed("output-mode") {
		o.outputMode = *file.OutputMode
	}
	if file.OTLP.Enabled && !fs.Changed("otlp") {
		o.otlp = true
	}
	if file.Spans != nil && !fs.Changed("spans") {
		o.spans = *file.Spans
	}
	// The command line's endpoint, when given, replaces the file's
	// (pipelineConfig).
	o.otlpSettings = file.OTLP.Settings()
	o.serviceName = file.ServiceName
	o.resourceAttributes = file.ResourceAttributes
	o.redaction = file.Redaction
}

// applyRecipes fills in the recipe directories from file where the
// command line names none.
func applyRecipes(fs *pflag.FlagSet, file *config.File, dirs *[]string) {
	if len(file.Recipes) > 0 && !fs.Changed("recipes") {
		*dirs = file.Recipes
	}
}

// apply fills in opts from file where the command line is silent.
func (opts *runOptions) apply(fs *pflag.FlagSet, file *config.File) {
	opts.output.apply(fs, file)
	applyRecipes(fs, file, &opts.recipeDirs)
	if file.Record != "" && !fs.Changed("record") {
		opts.record = file.Record
	}
	if file.Sensor.ArgsMax != 0 && !fs.Changed("args-max") {
		opts.argsMax = file.Sensor.ArgsMax
	}
	if file.Sensor.RingBufferSize != 0 && !fs.Changed("ring-buffer-size") {
		opts.ringBufferSize = file.Sensor.RingBufferSize
	}
	if file.Sensor.WakeupInterval != 0 && !fs.Changed("wakeup-interval") {
		opts.wakeupInterval = file.Sensor.WakeupInterval
	}
	opts.extraEnv = file.Sensor.Env
	if file.Sensor.ProcRoot != "" && !fs.Changed("proc-root") {
		opts.procRoot = file.Sensor.ProcRoot
	}
	if file.HealthAddress != "" && !fs.Changed("health-addr") {
		opts.healthAddr = file.HealthAddress
	}
	if file.StopTimeout != 0 && !fs.Changed("stop-timeout") {
		opts.stopTimeout = file.StopTimeout
	}
	opts.stateDirSet = fs.Changed("state-dir")
	if file.StateDir != nil && !opts.stateDirSet {
		opts.stateDir, opts.stateDirSet = *file.StateDir, true
	}
	opts.spoolSize = file.SpoolSize
}

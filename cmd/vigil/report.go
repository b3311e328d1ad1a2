package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vigil-otel/vigil/internal/safefile"
	"github.com/vigil-otel/vigil/pipeline"
	"github.com/vigil-otel/vigil/recipe"
	"github.com/vigil-otel/vigil/redact"
	"github.com/vigil-otel/vigil/report"
)

// reportOptions are the reports vigil run writes at its end.
type reportOptions struct {
	// summary is where the Markdown summary is appended: --summary, or
	// $GITHUB_STEP_SUMMARY for a watched command on GitHub Actions.
	summary string
	// targets are the --report FORMAT[:PATH] flags.
	targets []string
}

func (o *reportOptions) flags(f *pflag.FlagSet) {
	f.StringVar(&o.summary, "summary", "", "append a Markdown summary of the run to `PATH` at its end (default $GITHUB_STEP_SUMMARY when a command is watched on GitHub Actions; \"-\" for none)")
	f.StringArrayVar(&o.targets, "report", nil, "write a report at the end, as `FORMAT[:PATH]`: markdown, json, junit or text, to PATH or vigil-report.{md,json,xml,txt} (repeatable)")
}

// reportTarget is one report to write.
type reportTarget struct {
	format report.Format
	path   string
	// flag is what named the path, for errors.
	flag string
	// appendTo says to add to the file rather than replace it: a job
	// summary holds what other steps wrote.
	appendTo bool
}

// resolve checks the flags and returns the reports to write; watching says
// a command is watched. It runs before the watch starts, so that a typo
// fails at once rather than after an hour's build.
func (o *reportOptions) resolve(watching bool) ([]reportTarget, error) {
	var out []reportTarget
	for _, t := range o.targets {
		name, path, _ := strings.Cut(t, ":")
		f, err := report.ParseFormat(name)
		if err != nil {
			return nil, fmt.Errorf("--report %s: %w", t, err)
		}
		if path == "" {
			path = f.DefaultPath()
		}
		out = append(out, reportTarget{format: f, path: path, flag: "--report"})
	}
	summary, flag := o.summary, "--summary"
	if summary == "" && watching {
		summary, flag = os.Getenv("GITHUB_STEP_SUMMARY"), "GITHUB_STEP_SUMMARY"
	}
	if summary != "" && summary != "-" {
		out = append(out, reportTarget{format: report.Markdown, path: summary, flag: flag, appendTo: true})
	}
	return out, nil
}

// writeReports writes rep to every target, files created with mode, and
// says where; it returns every failure, having tried them all.
func writeReports(rep *report.Report, targets []reportTarget, mode safefile.Mode) error {
	var errs []error
	for _, t := range targets {
		if err := writeReport(rep, t, mode); err != nil {
			errs = append(errs, err)
			continue
		}
		slog.Debug("report written", "format", t.format, "path", t.path)
	}
	return errors.Join(errs...)
}

// writeReport writes rep to t, a file created with mode.
func writeReport(rep *report.Report, t reportTarget, mode safefile.Mode) (err error) {
	f, err := createOutput(t.flag, t.path, safefile.Options{Mode: mode, Append: t.appendTo})
	if err != nil {
		return fmt.Errorf("%s report: %w", t.format, err)
	}
	if err := giveToSudoUser(f); err != nil {
		slog.Warn("report left owned by root", "path", t.path, "error", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("%s report: %w", t.format, cerr)
		}
	}()
	if err := rep.Write(f, t.format); err != nil {
		return fmt.Errorf("%s report %s: %w", t.format, t.path, err)
	}
	return nil
}

// giveToSudoUser hands a file vigil created as root to the user who ran
// vigil with sudo (SUDO_UID, SUDO_GID), as a CI job does: the job's next
// steps, and the next checkout's clean-up, can then remove it.
func giveToSudoUser(f *os.File) error {
	uid, gid := os.Getenv("SUDO_UID"), os.Getenv("SUDO_GID")
	if uid == "" || gid == "" {
		return nil
	}
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if st, ok := info.Sys().(*syscall.Stat_t); !ok || st.Uid != 0 {
		return nil // not root's: someone else's file, left as it is
	}
	u, uerr := strconv.Atoi(uid)
	g, gerr := strconv.Atoi(gid)
	if uerr != nil || gerr != nil {
		return fmt.Errorf("SUDO_UID %q, SUDO_GID %q: not ids", uid, gid)
	}
	return f.Chown(u, g)
}

// completeReport adds to rep what the pipeline counted, and what ran.
func completeReport(rep *report.Report, sum pipeline.Summary, command []string, redactor *redact.Redactor) {
	rep.Version = version()
	execs := sum.Execs
	rep.Execs = &execs
	rep.Lost = &report.Losses{Total: sum.Lost(), ByStage: sum.Losses()}
	if len(command) > 0 {
		rep.Command = safeCommand(redactor, command)
	}
}

// safeCommand returns the watched command as vigil may show it, in its
// report or its own logs: redacted as every exported command line is,
// each argument cleaned and bounded.
func safeCommand(redactor *redact.Redactor, command []string) []string {
	out := redactor.Args(command[0], command)
	for i, a := range out {
		out[i] = redact.Clean(a, 1024)
	}
	return out
}

func newReportCommand(stdout, stderr io.Writer) *cobra.Command {
	var (
		format, output, failOn, configPath string
		dirs                               []string
		untrusted                          bool
	)
	cmd := &cobra.Command{
		Use:   "report FILE",
		Short: "Write the report of a run from its JSON report, JSON lines or recording",
		Long: `vigil report reads what a run left, and writes its report:

  - a JSON report (vigil run --report json), in another format;
  - JSON lines of detections (vigil run --jsonl);
  - a recording (vigil run --record): its events go through the recipes
    first, as vigil replay does, without root.

--format is markdown, json, junit or text (the default). --fail-on
IMPORTANCE exits 3 when a detection of that importance or higher is in
the report, and says which.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := report.ParseFormat(format)
			if err != nil {
				return fmt.Errorf("--format: %w", err)
			}
			var least recipe.Importance
			if failOn != "" {
				if least, err = recipe.ParseImportance(failOn); err != nil {
					return fmt.Errorf("--fail-on: %w", err)
				}
			}
			file, err := loadConfig(cmd, configPath)
			if err != nil {
				return err
			}
			applyRecipes(cmd.Flags(), file, &dirs)
			redactor, err := file.Redaction.Redactor()
			if err != nil {
				return fmt.Errorf("redaction rules: %w", err)
			}
			rep, err := readReport(cmd, args[0], dirs, untrusted, redactor)
			if err != nil {
				return err
			}
			var policy *report.Policy
			if least != 0 {
				policy = rep.Apply(least)
			}
			if output == "" || output == "-" {
				err = rep.Write(stdout, f)
			} else {
				err = writeReport(rep, reportTarget{format: f, path: output, flag: "--output"}, safefile.DefaultMode)
			}
			if err != nil {
				return err
			}
			if policy != nil && policy.Violated {
				fmt.Fprintf(stderr, "vigil: %s\n", policy)
				return &exitError{code: exitFailOn}
			}
			return nil
		},
	}
	configFlag(cmd, &configPath)
	fl := cmd.Flags()
	fl.StringVar(&format, "format", string(report.Text), "the report's `FORMAT`: markdown, json, junit or text")
	fl.StringVarP(&output, "output", "o", "", "write the report to `PATH` rather than stdout")
	failOnFlag(fl, &failOn, "exit 3 when the report holds a detection of `IMPORTANCE` (low, medium, high or critical) or higher")
	recipesFlag(fl, &dirs, "for a recording: also load the recipe files of `DIR` (repeatable)")
	untrustedRecipesFlag(fl, &untrusted)
	return cmd
}

// readReport reads the report of path: a JSON report or JSON lines as
// they are, a recording through the recipes of dirs (loaded even when
// untrusted, if allowUntrusted), redacted by redactor.
func readReport(cmd *cobra.Command, path string, dirs []string, allowUntrusted bool, redactor *redact.Redactor) (*report.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		// The error names the file already.
		return nil, err
	}
	defer f.Close()
	rep, err := report.Read(f)
	if !errors.Is(err, report.ErrRecording) {
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return rep, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	recipes, _, err := loadRecipes(dirs, allowUntrusted)
	if err != nil {
		return nil, err
	}
	rep = report.New(0)
	var cfg pipeline.Config
	cfg.Recipes = recipes
	cfg.Redactor = redactor
	cfg.Exporter.Report = rep.Lines()
	sum, err := pipeline.Replay(cmd.Context(), cfg, f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	completeReport(rep, sum, nil, redactor)
	return rep, nil
}

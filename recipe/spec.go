package recipe

import "time"

// The specs of what a recipe matches: plain data, as a recipe file says
// it. The zero value of each tests nothing, and [NewEngine] checks and
// compiles them; compile.go and compile_match.go say what each field may
// hold.

// DefaultAncestorDepth is how far up the tree an ancestor match looks when
// the recipe does not say.
const DefaultAncestorDepth = 8

// Match is what an exec must look like for a recipe to fire. Every part
// that is set must hold.
type Match struct {
	// Executable tests the program the kernel runs (for a script, its
	// interpreter).
	Executable FileMatch
	// Script tests the path of an executed script.
	Script StringMatch
	Args   ArgsMatch
	// Parent and Ancestor test the process's parent, or any ancestor up
	// to Ancestor.Depth levels.
	Parent   *ProcessMatch
	Ancestor *AncestorMatch
	// PrevExecutable tests the program the process ran before this exec
	// (the exec chain).
	PrevExecutable StringMatch
	User           UserMatch
	Cwd            StringMatch
	// Each flag, when set, must have the given value.
	TTY          *bool // the process has a controlling terminal
	Container    *bool // the process runs in a container
	SetID        *bool // the exec changed credentials
	Loader       *bool // the dynamic loader runs a program
	Memfd        *bool // the program exists only in memory
	Deleted      *bool // the program's file was deleted
	OverlayUpper *bool // the program was written into a container's upper layer
	UserWritable *bool // the user may rewrite the program
	// Env tests environment variables the sensor reads (its allow-list):
	// each one listed must be set and its value must match. The first is
	// the one the engine files the match under.
	Env []EnvMatch
	// AnyOf holds when at least one of its alternatives does: a tool
	// known by its program name or by its script's name, say.
	AnyOf []Match
	// CEL is an expression over the exec (see docs/recipes.md) for what
	// the fields above cannot say; empty when unused.
	CEL string
}

// StringMatch tests a string. It holds when any of its forms does; an
// empty StringMatch holds for every string.
type StringMatch struct {
	Exact    []string
	Prefix   []string
	Suffix   []string
	Contains []string
	// Glob patterns follow path.Match: '*' stops at '/'.
	Glob []string
	// Regex are regular expressions in Go's syntax (RE2), unanchored.
	Regex []string
}

// FileMatch tests a program's path, its name, and its directory.
type FileMatch struct {
	Path StringMatch
	Name StringMatch
	Dir  StringMatch
}

// ArgsMatch tests the arguments after argv[0].
type ArgsMatch struct {
	// Any holds when some argument matches it.
	Any StringMatch
	// All holds when each of its entries matches some argument.
	All []StringMatch
	// None holds when no argument matches it.
	None StringMatch
	// MinCount is the fewest arguments there may be; MaxCount, when set,
	// the most (0: none at all).
	MinCount int
	MaxCount *int
}

// ProcessMatch tests another process of the tree: its program and its
// arguments.
type ProcessMatch struct {
	Executable FileMatch
	Args       ArgsMatch
}

// AncestorMatch holds when one of the process's ancestors, up to Depth
// levels up (the parent is level 1), matches. A file's depth defaults to
// DefaultAncestorDepth.
type AncestorMatch struct {
	ProcessMatch
	Depth int
}

// UserMatch tests credentials after the exec.
type UserMatch struct {
	UID, EUID []uint32
	// LoginUID tests the audit login user; LoggedIn whether there is one.
	LoginUID []uint32
	LoggedIn *bool
}

// EnvMatch tests one environment variable: it is set, and its value
// matches Value (any value, an empty one included, when Value is empty).
type EnvMatch struct {
	Name  string
	Value StringMatch
}

// Sequence makes a recipe fire on a series of execs instead of one: steps
// in order, in one process tree, within a time window, a value captured
// by one step required by a later one. Downloading a file, making it
// executable and running it are three routine execs; the three on the
// same file, in one job, are an intrusion. A file's sequence defaults to
// a window of 5 minutes and a depth of 3.
type Sequence struct {
	Steps []SequenceStep
	// Within bounds the time from the first step to the last.
	Within time.Duration
	// Depth bounds how far above each step's process the steps' common
	// ancestor may be: 0 is the process itself, 1 its parent. The steps
	// of one script share its shell at depth 1.
	Depth int
	// Distinct, when above zero, makes the sequence a burst: its one step
	// matched by execs of Distinct different programs.
	Distinct int
}

// SequenceStep is one exec of a sequence. Its zero Match holds for every
// exec: a step may ask only for values earlier steps captured.
type SequenceStep struct {
	Match Match
	// Capture names values this step's exec gives to later steps.
	Capture []Capture
	// Require names values of earlier steps that this step's exec must
	// hold.
	Require []Require
}

// Capture takes a value from an exec's arguments.
type Capture struct {
	Name string
	// After lists options whose value is captured: the next argument, or
	// the rest of the same one (--output=FILE, -oFILE).
	After []string
	// Arg, a regular expression, when After is empty, captures the first
	// argument it matches: its first parenthesized group, or all of it.
	Arg string
	// Path resolves the value against the exec's working directory, as
	// the program would.
	Path bool
}

// RequireIn says where a later step must hold a captured value.
type RequireIn string

// Where a required value may be.
const (
	// InArgument: one of the exec's arguments (resolved as a path when
	// the value was captured as one).
	InArgument RequireIn = "argument"
	// InExecutable: the program the exec runs, or the script it runs.
	InExecutable RequireIn = "executable"
)

// Require asks for a captured value in a later exec.
type Require struct {
	Name string
	In   RequireIn
}

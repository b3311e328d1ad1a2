package recipe

import (
	"fmt"
	"path"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/interpreter"

	"github.com/vigil-otel/vigil/internal/literal"
)

// celVariable is one variable of recipes' CEL expressions: its name, its
// type, and how an exec gives its value. docs/recipes.md lists them for
// recipe authors.
type celVariable struct {
	name  string
	typ   *cel.Type
	value func(in *Input) any
}

// celVariables are the variables, each read only when an expression uses
// it.
func celVariables() []celVariable {
	str, list, num, boolean := cel.StringType, cel.ListType(cel.StringType), cel.IntType, cel.BoolType
	return []celVariable{
		{"exe", str, func(in *Input) any { return in.Process.Exe }},                // the program's absolute path
		{"name", str, func(in *Input) any { return path.Base(in.Process.Exe) }},    // its file name
		{"args", list, func(in *Input) any { return in.Process.Args }},             // argv, argv[0] first
		{"argc", num, func(in *Input) any { return int64(in.Event.Argc) }},         // the real argument count
		{"filename", str, func(in *Input) any { return in.Event.Filename }},        // the path as given to execve
		{"script", str, func(in *Input) any { return in.Event.Script }},            // the script's path, "" when none
		{"interpreter", str, func(in *Input) any { return in.Event.Interpreter }},  // the script's #! interpreter
		{"cwd", str, func(in *Input) any { return in.Event.Cwd }},                  // the working directory
		{"uid", num, func(in *Input) any { return int64(in.Event.UID) }},           // real user id
		{"euid", num, func(in *Input) any { return int64(in.Event.EUID) }},         // effective user id
		{"gid", num, func(in *Input) any { return int64(in.Event.GID) }},           // real group id
		{"loginuid", num, func(in *Input) any { return int64(in.Event.LoginUID) }}, // audit login user, 4294967295 when none
		{"tty", str, func(in *Input) any { return in.Event.TTY }},                  // controlling terminal, "" when none
		{"container_id", str, func(in *Input) any { return in.Event.ContainerID }}, // "" on the host
		{"cgroup", str, func(in *Input) any { return in.Event.CgroupPath }},        // cgroup path
		{"env", cel.MapType(str, str), func(in *Input) any { return celEnv(in) }},  // the allow-listed variables read
		{"setid", boolean, func(in *Input) any { return in.Event.SetID }},
		{"loader", boolean, func(in *Input) any { return in.Event.Loader }},
		{"memfd", boolean, func(in *Input) any { return in.Event.File.Memfd }},
		{"deleted", boolean, func(in *Input) any { return in.Event.File.Deleted }},
		{"overlay_upper", boolean, func(in *Input) any { return in.Event.File.OverlayUpper }},
		{"user_writable", boolean, func(in *Input) any { return in.Event.File.UserWritable }},
		{"prev_exe", str, func(in *Input) any { return in.Process.PrevExe() }}, // the program before this exec, "" when none
		{"parent_exe", str, func(in *Input) any { return celParentExe(in) }},   // "" when the parent is unknown
		{"parent_args", list, func(in *Input) any { return celParentArgs(in) }},
		{"ancestors", list, func(in *Input) any { return celAncestors(in) }}, // the ancestors' programs, parent first, up to 16
	}
}

func celEnv(in *Input) map[string]string {
	if in.Event.Env == nil {
		return map[string]string{}
	}
	return in.Event.Env
}

func celParentExe(in *Input) string {
	if parent := in.parent(); parent != nil {
		return parent.Exe
	}
	return ""
}

func celParentArgs(in *Input) []string {
	if parent := in.parent(); parent != nil {
		return parent.Args
	}
	return []string{}
}

func celAncestors(in *Input) []string {
	var exes []string
	for p := in.Process; len(exes) < maxAncestry; {
		if p = in.up(p); p == nil {
			break
		}
		exes = append(exes, p.Exe)
	}
	return exes
}

// celScope is what recipes' expressions compile in: the CEL environment
// that declares the variables, and how to read each.
type celScope struct {
	env    *cel.Env
	values map[string]func(in *Input) any
}

// newCELScope builds the scope of one load of recipe files.
func newCELScope() (*celScope, error) {
	vars := celVariables()
	decls := make([]cel.EnvOption, len(vars))
	scope := &celScope{values: make(map[string]func(in *Input) any, len(vars))}
	for i, v := range vars {
		decls[i] = cel.Variable(v.name, v.typ)
		scope.values[v.name] = v.value
	}
	env, err := cel.NewEnv(decls...)
	if err != nil {
		return nil, fmt.Errorf("build CEL environment: %w", err)
	}
	scope.env = env
	return scope, nil
}

// celProgram is a compiled expression, and the values of its scope.
type celProgram struct {
	prg    cel.Program
	values map[string]func(in *Input) any
}

// compileCEL type-checks expr, which must yield a bool, and plans it. It
// also returns what expr needs of the arguments (see argsNeeds).
func compileCEL(scope *celScope, expr string) (*celProgram, []*literal.Set, error) {
	env := scope.env
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		return nil, nil, iss.Err()
	}
	if ast.OutputType() != cel.BoolType {
		return nil, nil, fmt.Errorf("the expression gives %v, want bool", ast.OutputType())
	}
	// Constant regular expressions are compiled once, here, not per exec.
	prg, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, nil, fmt.Errorf("plan the expression: %w", err)
	}
	return &celProgram{prg: prg, values: scope.values}, argsNeeds(ast.NativeRep().Expr()), nil
}

// eval runs the expression over an exec. An expression that fails at run
// time (a missing map key, an index out of range) does not match; its
// error is kept on x, for the engine to count against the recipe.
func (p *celProgram) eval(x *exec) bool {
	out, _, err := p.prg.Eval(celActivation{in: x.Input, values: p.values})
	if err != nil {
		if x.evalErr == nil {
			x.evalErr = err
		}
		return false
	}
	b, ok := out.Value().(bool)
	return ok && b
}

// celActivation resolves the variables lazily, so that an expression pays
// only for what it reads.
type celActivation struct {
	in     *Input
	values map[string]func(in *Input) any
}

var _ interpreter.Activation = celActivation{}

func (a celActivation) ResolveName(name string) (any, bool) {
	value, ok := a.values[name]
	if !ok {
		return nil, false
	}
	return value(a.in), true
}

func (celActivation) Parent() interpreter.Activation { return nil }

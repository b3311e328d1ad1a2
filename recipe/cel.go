package recipe

import (
	"fmt"
	"path"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/interpreter"
)

// The variables a recipe's CEL expression can use. docs/recipes.md lists
// them for recipe authors.
func celVariables() []cel.EnvOption {
	str, list, num, boolean := cel.StringType, cel.ListType(cel.StringType), cel.IntType, cel.BoolType
	return []cel.EnvOption{
		cel.Variable("exe", str),          // the program's absolute path
		cel.Variable("name", str),         // its file name
		cel.Variable("args", list),        // argv, argv[0] first
		cel.Variable("argc", num),         // the real argument count
		cel.Variable("filename", str),     // the path as given to execve
		cel.Variable("script", str),       // the script's path, "" when none
		cel.Variable("interpreter", str),  // the script's #! interpreter
		cel.Variable("cwd", str),          // the working directory
		cel.Variable("uid", num),          // real user id
		cel.Variable("euid", num),         // effective user id
		cel.Variable("gid", num),          // real group id
		cel.Variable("loginuid", num),     // audit login user, 4294967295 when none
		cel.Variable("tty", str),          // controlling terminal, "" when none
		cel.Variable("container_id", str), // "" on the host
		cel.Variable("cgroup", str),       // cgroup path
		cel.Variable("env", cel.MapType(cel.StringType, cel.StringType)),
		cel.Variable("setid", boolean),
		cel.Variable("loader", boolean),
		cel.Variable("memfd", boolean),
		cel.Variable("deleted", boolean),
		cel.Variable("overlay_upper", boolean),
		cel.Variable("user_writable", boolean),
		cel.Variable("prev_exe", str),   // the program before this exec, "" when none
		cel.Variable("parent_exe", str), // "" when the parent is unknown
		cel.Variable("parent_args", list),
		cel.Variable("ancestors", list), // the ancestors' programs, parent first, up to 16
	}
}

// newCELEnv builds the environment recipes' expressions compile in.
func newCELEnv() (*cel.Env, error) {
	env, err := cel.NewEnv(celVariables()...)
	if err != nil {
		return nil, fmt.Errorf("build CEL environment: %w", err)
	}
	return env, nil
}

// compileCEL type-checks expr, which must yield a bool, and plans it. It
// also returns what expr needs of the arguments (see argsNeeds).
func compileCEL(env *cel.Env, expr string) (cel.Program, []*litSet, error) {
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
	return prg, argsNeeds(ast.NativeRep().Expr()), nil
}

// evalCEL runs a compiled expression over an input. An expression that
// fails at run time (a missing map key, say) does not match.
func evalCEL(prg cel.Program, in *Input) bool {
	out, _, err := prg.Eval(celActivation{in})
	if err != nil {
		return false
	}
	b, ok := out.Value().(bool)
	return ok && b
}

// celActivation resolves the variables lazily, so that an expression pays
// only for what it reads.
type celActivation struct{ in *Input }

var _ interpreter.Activation = celActivation{}

func (a celActivation) ResolveName(name string) (any, bool) {
	ev, p := a.in.Event, a.in.Process
	switch name {
	case "exe":
		return p.Exe, true
	case "name":
		return path.Base(p.Exe), true
	case "args":
		return p.Args, true
	case "argc":
		return int64(ev.Argc), true
	case "filename":
		return ev.Filename, true
	case "script":
		return ev.Script, true
	case "interpreter":
		return ev.Interpreter, true
	case "cwd":
		return ev.Cwd, true
	case "uid":
		return int64(ev.UID), true
	case "euid":
		return int64(ev.EUID), true
	case "gid":
		return int64(ev.GID), true
	case "loginuid":
		return int64(ev.LoginUID), true
	case "tty":
		return ev.TTY, true
	case "container_id":
		return ev.ContainerID, true
	case "cgroup":
		return ev.CgroupPath, true
	case "env":
		if ev.Env == nil {
			return map[string]string{}, true
		}
		return ev.Env, true
	case "setid":
		return ev.SetID, true
	case "loader":
		return ev.Loader, true
	case "memfd":
		return ev.File.Memfd, true
	case "deleted":
		return ev.File.Deleted, true
	case "overlay_upper":
		return ev.File.OverlayUpper, true
	case "user_writable":
		return ev.File.UserWritable, true
	case "prev_exe":
		return p.PrevExe(), true
	case "parent_exe":
		if parent := a.in.parent(); parent != nil {
			return parent.Exe, true
		}
		return "", true
	case "parent_args":
		if parent := a.in.parent(); parent != nil {
			return parent.Args, true
		}
		return []string{}, true
	case "ancestors":
		var exes []string
		for p := a.in.Process; len(exes) < maxAncestry; {
			if p = a.in.up(p); p == nil {
				break
			}
			exes = append(exes, p.Exe)
		}
		return exes, true
	}
	return nil, false
}

func (celActivation) Parent() interpreter.Activation { return nil }

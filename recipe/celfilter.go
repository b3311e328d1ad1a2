package recipe

import (
	"maps"
	"regexp/syntax"

	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"

	"github.com/vigil-otel/vigil/internal/literal"
)

// argsNeeds finds sets of literals that expr (type-checked) needs to be
// true: for each set, some element of args (argv, argv[0] first) must
// contain one of its literals. The expression then runs only for the
// execs that meet them, and the others are spared its evaluation, which
// costs microseconds and allocates. It looks through ||, && and exists(),
// at matches(), startsWith(), endsWith(), contains(), == and in on the
// arguments; it returns nil when it knows of no such literals.
func argsNeeds(expr ast.Expr) []*literal.Set {
	return literal.Sets(celNeeds(expr, map[string]bool{}))
}

// celNeeds returns the needs of e on the arguments. elems holds the
// comprehension variables in scope: true for those that range over args.
func celNeeds(e ast.Expr, elems map[string]bool) []literal.Need {
	switch e.Kind() {
	case ast.ComprehensionKind:
		return existsNeeds(e.AsComprehension(), elems)
	case ast.CallKind:
	default:
		return nil
	}
	call := e.AsCall()
	operands := call.Args()
	if call.IsMemberFunction() {
		operands = append([]ast.Expr{call.Target()}, operands...)
	}
	if len(operands) != 2 {
		return nil
	}
	a, b := operands[0], operands[1]
	switch call.FunctionName() {
	case "_||_":
		return literal.EitherOf(celNeeds(a, elems), celNeeds(b, elems))
	case "_&&_":
		return literal.AllOf(celNeeds(a, elems), celNeeds(b, elems))
	case "matches":
		pattern, ok := stringConst(b)
		if !ok || !isArg(a, elems) {
			return nil
		}
		re, err := syntax.Parse(pattern, syntax.Perl)
		if err != nil {
			return nil
		}
		return literal.Needs(re)
	case "startsWith", "endsWith", "contains":
		if lit, ok := stringConst(b); ok && isArg(a, elems) {
			return literal.OneOf(lit)
		}
	case "_==_":
		if lit, ok := stringConst(b); ok && isArg(a, elems) {
			return literal.OneOf(lit)
		}
		if lit, ok := stringConst(a); ok && isArg(b, elems) {
			return literal.OneOf(lit)
		}
	case "@in":
		if lit, ok := stringConst(a); ok && isArgs(b, elems) {
			return literal.OneOf(lit)
		}
		if b.Kind() == ast.ListKind && isArg(a, elems) {
			var lits []string
			for _, el := range b.AsList().Elements() {
				lit, ok := stringConst(el)
				if !ok {
					return nil
				}
				lits = append(lits, lit)
			}
			return literal.OneOf(lits...)
		}
	}
	return nil
}

// existsNeeds handles the comprehension exists() expands to: the
// predicate must hold for some element, so what it needs is needed.
func existsNeeds(c ast.ComprehensionExpr, elems map[string]bool) []literal.Need {
	step := c.LoopStep()
	if c.HasIterVar2() || step.Kind() != ast.CallKind || step.AsCall().FunctionName() != "_||_" {
		return nil
	}
	args := step.AsCall().Args()
	if len(args) != 2 || args[0].Kind() != ast.IdentKind || args[0].AsIdent() != c.AccuVar() {
		return nil
	}
	inner := maps.Clone(elems)
	inner[c.IterVar()] = isArgs(c.IterRange(), elems)
	return celNeeds(args[1], inner)
}

// isArgs says whether e is the variable args.
func isArgs(e ast.Expr, elems map[string]bool) bool {
	if e.Kind() != ast.IdentKind {
		return false
	}
	_, shadowed := elems[e.AsIdent()]
	return e.AsIdent() == "args" && !shadowed
}

// isArg says whether e is an element of args: a variable ranging over it,
// or args[i].
func isArg(e ast.Expr, elems map[string]bool) bool {
	switch e.Kind() {
	case ast.IdentKind:
		return elems[e.AsIdent()]
	case ast.CallKind:
		call := e.AsCall()
		return call.FunctionName() == "_[_]" && len(call.Args()) == 2 && isArgs(call.Args()[0], elems)
	}
	return false
}

func stringConst(e ast.Expr) (string, bool) {
	if e.Kind() != ast.LiteralKind {
		return "", false
	}
	s, ok := e.AsLiteral().(types.String)
	return string(s), ok
}

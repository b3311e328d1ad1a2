// Package detection defines a detection: one recipe matched by one exec, in
// the context of its process, as the exporter reports it.
package detection

import (
	"github.com/vigil-otel/vigil/event"
	"github.com/vigil-otel/vigil/proctable"
	"github.com/vigil-otel/vigil/recipe"
)

// Detection is a recipe match.
type Detection struct {
	Recipe *recipe.Recipe
	// Exec is the event that matched.
	Exec *event.Event
	// Process is the process after the exec.
	Process *proctable.Process
	// Ancestors are the process's ancestors that the process table knows,
	// its parent first.
	Ancestors []*proctable.Process
	// Steps are, for a sequence recipe, the execs of its earlier steps,
	// oldest first.
	Steps []recipe.Step
}

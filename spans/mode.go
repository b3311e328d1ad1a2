package spans

import (
	"errors"
	"fmt"
)

// Mode says which processes that run in a trace get a span.
type Mode int

const (
	// All gives every traced process a span.
	All Mode = iota
	// Detections gives spans only to processes with detections and to
	// their ancestors, once a detection calls for them; each starts at its
	// exec all the same. A process that has one keeps one for the programs
	// it execs next.
	Detections
	// None makes no spans: detections still carry the trace context their
	// process inherited.
	None
)

func (m Mode) String() string {
	switch m {
	case All:
		return "all"
	case Detections:
		return "detections"
	case None:
		return "none"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Set parses a mode by its name, for flags and configuration files.
func (m *Mode) Set(name string) error {
	for _, mode := range []Mode{All, Detections, None} {
		if mode.String() == name {
			*m = mode
			return nil
		}
	}
	return errors.New("want one of all, detections, none")
}

// Type names the value for flag help.
func (*Mode) Type() string { return "all|detections|none" }

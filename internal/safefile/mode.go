package safefile

import (
	"fmt"
	"strconv"
	"strings"
)

// Mode is the permission bits of the files vigil creates
// (--output-mode): vigil's user reads and writes them, and no one else
// writes them, so that the next run may reuse them. Its zero value stands
// for DefaultMode.
type Mode uint32

// DefaultMode lets only vigil's user read its files: they hold what the
// machine's processes ran.
const DefaultMode Mode = 0o600

// Set parses an octal mode such as 0640; it is the flag's and the
// configuration file's parser.
func (m *Mode) Set(s string) error {
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0o"), 8, 32)
	switch {
	case err != nil || s == "":
		return fmt.Errorf("want an octal mode such as 0600 or 0640")
	case v&0o600 != 0o600:
		return fmt.Errorf("want 0600, 0640 or 0644: vigil's user must read and write its files")
	case v&^0o644 != 0:
		return fmt.Errorf("want 0600, 0640 or 0644: the group and other users may only read, and no one execute")
	}
	*m = Mode(v)
	return nil
}

// String writes the mode in octal, as Set reads it.
func (m Mode) String() string { return fmt.Sprintf("%04o", uint32(m.orDefault())) }

// Type names the flag's value in help.
func (m Mode) Type() string { return "MODE" }

func (m Mode) orDefault() Mode {
	if m == 0 {
		return DefaultMode
	}
	return m
}

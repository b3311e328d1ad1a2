package sensor

import (
	"fmt"
	"strings"

	"github.com/vigil-otel/vigil/internal/execenv"
)

// DefaultEnv returns the environment variables the sensor reads by
// default: those the later stages read, listed with what each is for in
// internal/execenv (trace context, the CI job, the dynamic loader's).
func DefaultEnv() []string { return execenv.Names() }

// The kernel's prefix table: ENV_PREFIX_SLOTS slots, a prefix in one of
// ENV_PREFIX_PROBES slots from its own.
const (
	envPrefixSlots  = 256
	envPrefixProbes = 4
)

// envKeySize is the kernel's ENV_KEY_SIZE: the bytes of "NAME=" the
// kernel compares, zero-padded.
const envKeySize = 64

// envFilter is the allow-list in the two forms the kernel checks: a table
// of 8-byte name prefixes that makes a variable a candidate cheaply, and
// the full names, as the keys of the map that admits them.
type envFilter struct {
	prefixes [envPrefixSlots]uint64
	keys     [][envKeySize]byte
	names    map[string]bool
}

func newEnvFilter(names []string) (envFilter, error) {
	f := envFilter{names: make(map[string]bool, len(names))}
	for _, name := range names {
		if name == "" || strings.ContainsAny(name, "=\x00") || len(name) > envKeySize-1 {
			return f, fmt.Errorf("environment variable name %q: want 1 to %d bytes without '=' or NUL", name, envKeySize-1)
		}
		if f.names[name] {
			continue
		}
		f.names[name] = true
		var key [envKeySize]byte
		copy(key[:], name+"=")
		f.keys = append(f.keys, key)
		if err := f.addPrefix(envPrefix(name)); err != nil {
			return f, fmt.Errorf("environment variable %s: %w", name, err)
		}
	}
	return f, nil
}

// envPrefix is what the kernel's env_candidate computes from "NAME=...":
// the bytes up to and including the first '=', at most 8, little-endian.
func envPrefix(name string) uint64 {
	var p uint64
	for i, c := range []byte(name + "=") {
		if i == 8 {
			break
		}
		p |= uint64(c) << (8 * i)
		if c == '=' {
			break
		}
	}
	return p
}

// envPrefixSlot is the kernel's env_prefix_slot.
func envPrefixSlot(p uint64) int { return int((p * 0x9E3779B97F4A7C15) >> 56) }

// addPrefix places p at its slot or one of the next, where the kernel looks.
func (f *envFilter) addPrefix(p uint64) error {
	slot := envPrefixSlot(p)
	for probe := range envPrefixProbes {
		i := (slot + probe) % envPrefixSlots
		if f.prefixes[i] == p || f.prefixes[i] == 0 {
			f.prefixes[i] = p
			return nil
		}
	}
	return fmt.Errorf("too many names share its prefix slot; shorten the allow-list")
}

package describe

import (
	"hash/maphash"
	"math/rand/v2"
	"slices"

	"go.opentelemetry.io/otel/attribute"

	"github.com/vigil-otel/vigil/cicontext"
	"github.com/vigil-otel/vigil/internal/execenv"
	"github.com/vigil-otel/vigil/redact"
)

// maxJobs bounds the jobs jobCache keeps; it starts afresh past them.
const maxJobs = 256

// jobCache keeps the CI job attributes of the environments seen: every
// process of a job has the same, and building them, each value redacted,
// costs more than the rest of an exec's description. An environment is
// known by a hash of its CI variables, keyed at random so that no process
// can make its environment pass for another's.
type jobCache struct {
	seed maphash.Seed
	// ci holds a random odd number for each CI variable, which weighs the
	// hash of its value.
	ci   map[string]uint64
	jobs bounded[uint64, []attribute.KeyValue]
}

func newJobCache() jobCache {
	c := jobCache{seed: maphash.MakeSeed(), ci: make(map[string]uint64), jobs: newBounded[uint64, []attribute.KeyValue](maxJobs)}
	for _, v := range execenv.Vars() {
		if v.Use == execenv.CIJob {
			c.ci[v.Name] = rand.Uint64() | 1
		}
	}
	return c
}

// job returns the attributes of env's CI job, each value redacted by r
// and made safe; nil outside CI. The slice is the cache's: the caller
// copies from it.
func (c *jobCache) job(env map[string]string, r *redact.Redactor) []attribute.KeyValue {
	return c.jobs.get(c.key(env), func() []attribute.KeyValue {
		return slices.Clip(cicontext.Attributes(env, r))
	})
}

// key hashes env's CI variables, whatever the order the map gives them
// in.
func (c *jobCache) key(env map[string]string) uint64 {
	var sum uint64
	for name, value := range env {
		if weight, ok := c.ci[name]; ok {
			sum += weight * maphash.String(c.seed, value)
		}
	}
	return sum
}

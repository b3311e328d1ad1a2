package describe

// bounded keeps values by key, made at a key's first use; past max keys
// it starts afresh, so that what it holds stays bounded whatever comes.
type bounded[K comparable, V any] struct {
	max int
	m   map[K]V
}

func newBounded[K comparable, V any](max int) bounded[K, V] {
	return bounded[K, V]{max: max, m: make(map[K]V)}
}

// get returns the value of k, which make makes when k has none.
func (c *bounded[K, V]) get(k K, make func() V) V {
	if v, ok := c.m[k]; ok {
		return v
	}
	if len(c.m) >= c.max {
		clear(c.m)
	}
	v := make()
	c.m[k] = v
	return v
}

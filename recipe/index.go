package recipe

import "slices"

// How the engine files recipes: by what a recipe's match requires of
// every exec it matches, so that an exec is checked against the few
// recipes that can match it.

// file indexes c by m, or keeps it among the recipes checked on every
// exec when m requires nothing an index knows.
func (e *Engine) file(c *entry, m *matcher) {
	switch alts := m.anyOf; {
	case keyOf(m) != noKey:
		e.index(c, m)
	case len(alts) > 0 && !slices.ContainsFunc(alts, func(m matcher) bool { return keyOf(&m) == noKey }):
		// No key of its own, but each alternative has one.
		for i := range alts {
			e.index(c, &alts[i])
		}
	default:
		e.residual = append(e.residual, c)
	}
}

// indexKey names the index that can file a match: by what it requires of
// every exec it matches.
type indexKey int

const (
	noKey   indexKey = iota
	nameKey          // the program's name, exactly or by prefix
	pathKey          // its path, exactly or by prefix
	dirKey           // its directory, exactly
	argKey           // an argument, exactly
	flagKey          // sensor flags
	envKey           // an environment variable, set
)

// keyOf returns the index that can file m, noKey when none can.
func keyOf(m *matcher) indexKey {
	exe := &m.exe
	switch {
	case exe.name.keyed():
		return nameKey
	case exe.path.keyed():
		return pathKey
	case exe.dir.onlyExact():
		return dirKey
	case m.args.any.onlyExact():
		return argKey
	case m.flagWant != 0:
		return flagKey
	case len(m.env) > 0:
		return envKey
	}
	return noKey
}

// index files c under what m, which has a key, requires of every exec it
// matches. A recipe may be filed under several keys; the stamp keeps it
// from being checked twice for one exec.
func (e *Engine) index(c *entry, m *matcher) {
	exe := &m.exe
	switch keyOf(m) {
	case nameKey:
		addAll(e.byName, exe.name.exact, c)
		e.namePrefixes.add(exe.name.prefixes, c)
	case pathKey:
		addAll(e.byPath, exe.path.exact, c)
		e.pathPrefixes.add(exe.path.prefixes, c)
	case dirKey:
		addAll(e.byDir, exe.dir.exact, c)
	case argKey:
		addAll(e.byArg, m.args.any.exact, c)
	case flagKey:
		e.byFlags = append(e.byFlags, flagEntry{want: m.flagWant, recipe: c})
	case envKey:
		name := m.env[0].name
		if _, ok := e.byEnv[name]; !ok {
			e.envNames = append(e.envNames, name)
		}
		e.byEnv[name] = append(e.byEnv[name], c)
	}
}

func addAll(index map[string][]*entry, keys []string, c *entry) {
	for _, k := range keys {
		index[k] = append(index[k], c)
	}
}

// prefixIndex files recipes under string prefixes, by the prefix's first
// byte: a string is compared only with the prefixes that start like it.
type prefixIndex [256][]prefixEntry

type prefixEntry struct {
	prefix string
	recipe *entry
}

func (idx *prefixIndex) add(prefixes []string, c *entry) {
	for _, p := range prefixes {
		idx[p[0]] = append(idx[p[0]], prefixEntry{prefix: p, recipe: c})
	}
}

type flagEntry struct {
	want   flagSet
	recipe *entry
}

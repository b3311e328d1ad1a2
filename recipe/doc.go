// Package recipe defines vigil's detection recipes, loads them from YAML
// (the built-in catalog and users' files), and matches exec events against
// them.
//
// A recipe is first plain data, as its file says it: [Recipe] and the
// types it holds ([Match], [StringMatch], [Sequence]...) are specs that
// anyone may build or edit, holding only strings, numbers, lists and
// nested specs. [Parse] and the loaders ([LoadCatalog], [LoadPath],
// [Builtin]) read files into specs, and check them, each error located at
// its file:line:column; a broken recipe is reported and left out.
// [NewEngine] then compiles specs into what it runs (regular expressions,
// sets of literals, CEL programs, indexes), which no exported type holds:
// a spec that does not make sense is an error naming the recipe and the
// field, never a half-built matcher. This is the split of cilium/ebpf's
// CollectionSpec and NewCollection.
package recipe

// Command docgen writes docs/semconv.md from vigil's semantic-convention
// registry; package semconv runs it with go generate.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/vigil-otel/vigil/semconv/internal/registry"
)

func main() {
	dir := flag.String("registry", "registry", "the registry directory")
	out := flag.String("out", "../docs/semconv.md", "the Markdown file to write")
	flag.Parse()
	if err := run(*dir, *out); err != nil {
		fmt.Fprintln(os.Stderr, "docgen:", err)
		os.Exit(1)
	}
}

func run(dir, out string) error {
	doc, err := registry.Document(dir)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, doc, 0o644); err != nil {
		return fmt.Errorf("write the document: %w", err)
	}
	return nil
}

package semconv

// docs/semconv.md is generated from the registry in semconv/registry.
//go:generate go run ./internal/docgen -registry registry -out ../docs/semconv.md

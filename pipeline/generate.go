package pipeline

// docs/counters.md is generated from Counters.
//go:generate go run ./internal/counterdoc -out ../docs/counters.md

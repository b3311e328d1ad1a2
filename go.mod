module github.com/vigil-otel/vigil

go 1.26.0

require (
	github.com/cilium/ebpf v0.22.0
	github.com/stretchr/testify v1.12.1
	golang.org/x/sys v0.48.0
)

require (
	go.yaml.in/yaml/v3 v3.0.6 // indirect
	golang.org/x/net v0.60.0 // indirect
	golang.org/x/sync v0.23.0 // indirect
)

tool github.com/cilium/ebpf/cmd/bpf2go

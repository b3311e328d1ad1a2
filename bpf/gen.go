// Package bpf holds vigil's eBPF programs and the Go bindings that bpf2go
// generates from them.
//
// The generated files are committed, so building vigil needs no clang. After
// changing a C file, run `go generate ./bpf/...` (clang-19 and libbpf-dev).
// include/vmlinux.h comes from the running kernel's BTF:
//
//	bpftool btf dump file /sys/kernel/btf/vmlinux format c > include/vmlinux.h
package bpf

//go:generate go tool bpf2go -cc clang-19 -target amd64,arm64 -go-package bpf -type event_header -type exec_event -type fork_event -type exit_event -type event_kind -type drop_reason -type exec_flag Sensor sensor.c -- -I./include -O2 -g -Wall -Werror -ffile-prefix-map=${PWD}=.

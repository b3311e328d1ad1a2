package flood

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// exitCode is, by GOARCH, the machine code of exit(0): the whole program
// the flood runs, so that each of its execs costs the kernel's exec and
// no dynamic loader, and the flood runs as fast as the machine allows.
var exitCode = map[string]struct {
	machine elf.Machine
	code    []byte
}{
	"amd64": {elf.EM_X86_64, []byte{
		0xb8, 0x3c, 0x00, 0x00, 0x00, // mov eax, 60 (exit)
		0x31, 0xff, // xor edi, edi
		0x0f, 0x05, // syscall
	}},
	"arm64": {elf.EM_AARCH64, words(
		0xd2800ba8, // mov x8, #93 (exit)
		0xd2800000, // mov x0, #0
		0xd4000001, // svc #0
	)},
}

// words returns instructions of 32 bits, little-endian.
func words(ws ...uint32) []byte {
	var b []byte
	for _, w := range ws {
		b = binary.LittleEndian.AppendUint32(b, w)
	}
	return b
}

// writeExit writes to path a static ELF executable that exits 0 at once,
// creating its directory.
func writeExit(t *testing.T, path string) string {
	t.Helper()
	arch, ok := exitCode[runtime.GOARCH]
	if !ok {
		t.Skipf("no exit(0) program for %s", runtime.GOARCH)
	}
	// One segment, loaded at base, holds the headers and the code after
	// them; the entry point is the code.
	const base = 0x400000
	headers := uint64(binary.Size(elf.Header64{}) + binary.Size(elf.Prog64{}))
	size := headers + uint64(len(arch.code))
	hdr := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(arch.machine), Version: uint32(elf.EV_CURRENT),
		Entry: base + headers, Phoff: uint64(binary.Size(elf.Header64{})),
		Ehsize: uint16(binary.Size(elf.Header64{})), Phentsize: uint16(binary.Size(elf.Prog64{})), Phnum: 1,
	}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	hdr.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	hdr.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	prog := elf.Prog64{
		Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X),
		Vaddr: base, Paddr: base, Filesz: size, Memsz: size, Align: 0x1000,
	}
	var b bytes.Buffer
	require.NoError(t, binary.Write(&b, binary.LittleEndian, hdr))
	require.NoError(t, binary.Write(&b, binary.LittleEndian, prog))
	b.Write(arch.code)
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o755))
	return path
}

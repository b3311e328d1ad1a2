#!/usr/bin/env bash
# Build the release assets the GitHub Action downloads (action/lib.js):
# vigil_linux_amd64.tar.gz, vigil_linux_arm64.tar.gz and checksums.txt
# (sha256sum's format), into OUT (default dist/). The binaries are static
# and reproducible: -trimpath, no cgo, the version from the Git tag that Go
# stamps in. Attach the three files to the GitHub release of the tag.
#
#   release/build.sh [OUT [ARCH...]]    (default: dist/, amd64 and arm64)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
shift || true
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(amd64 arm64)
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A fixed time for the archives' entries, from the commit, so that two
# builds of one commit give the same bytes.
epoch=$(git log -1 --format=%ct 2>/dev/null || echo 0)
for arch in "${arches[@]}"; do
	mkdir -p "$work/$arch"
	GOOS=linux GOARCH=$arch CGO_ENABLED=0 go build -trimpath -ldflags='-s -w -buildid=' -o "$work/$arch/vigil" ./cmd/vigil
	tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
		-C "$work/$arch" -cf - vigil | gzip -n >"$out/vigil_linux_$arch.tar.gz"
done
(cd "$out" && for arch in "${arches[@]}"; do sha256sum "vigil_linux_$arch.tar.gz"; done >checksums.txt)
echo "release assets in $out:"
cat "$out/checksums.txt"

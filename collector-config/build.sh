#!/usr/bin/env bash
# Builds otelcol-vigil, the Collector distribution that builder.yaml
# describes, and prints the path of its binary on standard output (all else
# goes to standard error):
#
#   bin=$(collector-config/build.sh)
#   "$bin" --config collector-config/gateway.yaml
#
# The binary is cached in
#   ${VIGIL_OTELCOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil-otelcol}/<key>/otelcol-vigil
# where <key> is the sha256 of builder.yaml, the builder's release and the Go
# toolchain's version and target: a cached binary that still runs is reused,
# and a changed manifest builds a new one. Concurrent runs wait for each
# other (flock), and a build happens in a temporary folder that is renamed
# into place only once its binary runs, so an interrupted build leaves
# nothing that looks finished.
#
# A cold build takes a few minutes and needs the Go module proxy; the
# builder itself is installed into the cache on first use.
set -euo pipefail

builder_version=v0.148.0
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
manifest=$here/builder.yaml
cache=${VIGIL_OTELCOL_CACHE:-${XDG_CACHE_HOME:-${HOME:?set VIGIL_OTELCOL_CACHE, XDG_CACHE_HOME or HOME}/.cache}/vigil-otelcol}

key=$(
	{
		cat "$manifest"
		echo "builder $builder_version"
		go env GOVERSION GOOS GOARCH
	} | sha256sum | cut -d' ' -f1
)
dir=$cache/$key
bin=$dir/otelcol-vigil

# runs tells whether the cached binary is there and starts.
runs() {
	[ -x "$bin" ] && "$bin" --version >/dev/null 2>&1
}

if runs; then
	echo "$bin"
	exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/lock"
if ! flock -n 9; then
	echo "build.sh: waiting for another build of otelcol-vigil in $cache" >&2
	flock 9
fi
if runs; then # built by the run we waited for
	echo "$bin"
	exit 0
fi

# Holding the lock, nothing else builds: a temporary folder left is from a
# run that was killed, and builds of other manifests unused for a week go.
find "$cache" -mindepth 1 -maxdepth 1 -type d -name '.build-*' -exec rm -rf {} +
find "$cache" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended -regex '.*/[0-9a-f]{64}' \
	! -name "$key" -mtime +7 -exec rm -rf {} +

builder=$cache/gobin-$builder_version/builder
if [ ! -x "$builder" ]; then
	echo "build.sh: installing the Collector builder $builder_version" >&2
	GOBIN=$(dirname "$builder") go install "go.opentelemetry.io/collector/cmd/builder@$builder_version" >&2
fi

tmp=$(mktemp -d "$cache/.build-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

start=$SECONDS
echo "build.sh: building otelcol-vigil from $manifest (a few minutes on a cold cache)" >&2
# The builder only writes the sources: its own module resolution fails on
# the checksum lookup of a module that only the components' tests use, while
# go build with -mod=mod resolves just what the binary imports.
(cd "$tmp" && "$builder" --config "$manifest" --skip-get-modules --skip-compilation) >"$tmp/builder.log" 2>&1 || {
	cat "$tmp/builder.log" >&2
	exit 1
}
mkdir "$tmp/out"
(
	cd "$tmp/otelcol-vigil"
	GOFLAGS="-mod=mod $(go env GOFLAGS)" go build -trimpath -ldflags="-s -w" -o "$tmp/out/otelcol-vigil" .
) >&2
"$tmp/out/otelcol-vigil" --version >&2

# Only a binary that runs replaces what is there (nothing, or one that no
# longer starts); the rename is atomic within the cache's file system.
rm -rf "$dir"
mv "$tmp/out" "$dir"
echo "build.sh: built $bin in $((SECONDS - start)) s" >&2
echo "$bin"

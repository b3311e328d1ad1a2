#!/usr/bin/env bash
# Fetches the kernels of the matrix from Debian's archive, cached, and prints
# one line per kernel on standard output (all else goes to standard error):
#
#   <series> <arch> <release> <dir>
#   6.1 amd64 6.1.0-50-cloud-amd64 /root/.cache/vigil-kernels/kernel/linux-image-6.1.0-50-cloud-amd64-unsigned_6.1.176-1
#
# where <dir> holds vmlinuz, config, release (uname -r) and overlay.ko
# (decompressed, so that busybox's insmod loads it on any of them).
#
#   kernels/fetch.sh                      # the whole matrix (lib.sh)
#   kernels/fetch.sh 6.1 6.12             # those series of the matrix
#   kernels/fetch.sh --arch arm64 6.1     # any series on one architecture
#
# Each series resolves to the newest ABI Debian publishes for it (the
# package linux-image-<series>.*-cloud-<arch>-unsigned with the highest
# version), so a new Debian point release is picked up without an edit.
# The package index is refreshed at most every VIGIL_KERNELS_APT_MAX_AGE
# minutes (720); without a network the newest cached kernel of the series
# is used, with a warning. See lib.sh for the cache.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

usage() {
	echo "usage: ${0##*/} [--arch amd64|arm64] [series...]" >&2
	exit 2
}

arch=""
series=()
while [ $# -gt 0 ]; do
	case $1 in
	--arch)
		[ $# -ge 2 ] || usage
		case $2 in amd64 | arm64) arch=$2 ;; *) usage ;; esac
		shift 2
		;;
	-h | --help) usage ;;
	-*) usage ;;
	*)
		series+=("$1")
		shift
		;;
	esac
done

# fetch_kernel SERIES ARCH prints the kernel's line, fetching it if needed.
fetch_kernel() {
	local s=$1 arch=$2
	# 6.1 must not match 6.12: the series is followed by a dot or a dash.
	local regex="^linux-image-${s//./\\.}[.-].*-cloud-${arch}-unsigned\$"
	local pkg ver="" dir="" tmp deb
	pkg=$(apt-cache "${apt_opts[@]}" pkgnames linux-image- 2>/dev/null | grep -E "$regex" | sort -V | tail -n1 || true)
	if [ -n "$pkg" ]; then
		ver=$(candidate_version "$pkg" "$arch")
	fi
	if [ -n "$ver" ]; then
		dir=$cache/kernel/${pkg}_$ver
		if [ ! -s "$dir/vmlinuz" ]; then
			mkdir -p "$cache/kernel"
			tmp=$(mktemp -d "$cache/kernel/.tmp-XXXXXX")
			log "downloading $pkg $ver ($arch)"
			if deb=$(download "$pkg" "$arch" "$ver" "$tmp"); then
				extract_kernel "$deb" "$tmp" "$dir"
			else
				log "download of $pkg:$arch=$ver failed"
				rm -rf "$tmp"
				dir=""
			fi
		fi
	fi
	if [ -z "$dir" ]; then
		# Offline, or the index names a package the mirror no longer has:
		# the newest kernel of the series fetched before still tells a lot.
		dir=$(find "$cache/kernel" -mindepth 1 -maxdepth 1 -type d \
			-name "linux-image-${s}[.-]*-cloud-$arch-unsigned_*" 2>/dev/null | sort -V | tail -n1)
		[ -n "$dir" ] || die "no $arch kernel of series $s: not in the package index and none cached"
		log "warning: using the cached ${dir##*/} for $s $arch"
	fi
	touch "$dir"
	echo "$s $arch $(cat "$dir/release") $dir"
}

# extract_kernel DEB TMP DIR keeps what the VM needs from the package DEB
# in DIR, by way of the temporary folder TMP renamed into place.
extract_kernel() {
	local deb=$1 tmp=$2 dir=$3
	# Only the kernel, its config and overlayfs: the package is 20-35 MB,
	# its modules 300 MB unpacked.
	mkdir "$tmp/x" "$tmp/out"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp/x" --wildcards \
		'*/boot/vmlinuz-*' '*/boot/config-*' '*/kernel/fs/overlayfs/overlay.ko*'
	local ko release
	mv "$(find "$tmp/x" -path '*/boot/vmlinuz-*' | head -n1)" "$tmp/out/vmlinuz"
	mv "$(find "$tmp/x" -path '*/boot/config-*' | head -n1)" "$tmp/out/config"
	ko=$(find "$tmp/x" -name 'overlay.ko*' | head -n1)
	# The release (uname -r) names the modules' folder: lib/modules/<release>/.
	release=${ko#"$tmp"/x/*/modules/}
	echo "${release%%/*}" >"$tmp/out/release"
	case $ko in
	*.xz) xz -dc "$ko" ;;
	*.zst) zstd -qdc "$ko" ;;
	*.gz) gzip -dc "$ko" ;;
	*) cat "$ko" ;;
	esac >"$tmp/out/overlay.ko"
	rm -rf "$dir"
	mv "$tmp/out" "$dir"
	rm -rf "$tmp"
	log "cached $(cat "$dir/release") in $dir"
}

lock_cache
apt_setup
apt_refresh
entries=$(matrix_entries "$arch" "${series[@]}")
[ -n "$entries" ] || die "no kernel of the matrix matches: ${series[*]} (try --arch)"
while read -r a s; do
	fetch_kernel "$s" "$a"
done <<<"$entries"

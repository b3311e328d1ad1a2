#!/usr/bin/env bash
# Builds the initramfs the matrix boots, for one architecture, and prints
# its path (all else goes to standard error):
#
#   kernels/initramfs.sh amd64 /tmp/vigil-amd64.cpio
#
# It holds, at the paths the tests expect:
#   /init                 vm-init.sh: mounts, runs the checks, powers off
#   /usr/local/bin/vigil  static (CGO_ENABLED=0), built from this tree
#   /opt/vigil/sensor.test  the sensor package's tests, static
#   /bin/busybox          static; its applet links are made at boot
#   /bin/true /bin/false /bin/sleep /usr/bin/id /usr/bin/script /bin/sh
#   /usr/bin/zip /usr/sbin/runc   the programs the sensor tests and the
#                         end-to-end check exec, with their shared libraries
#                         and dynamic loader (/lib64/ld-linux-x86-64.so.2 on
#                         amd64) at the same paths
#   /etc/passwd /etc/group  root and nobody; no /etc/machine-id, on purpose:
#                         vigil must start without one
# The layout is merged-/usr like Debian's (/bin -> usr/bin and so on).
#
# The programs come from this machine when it has the target architecture,
# else from Debian's packages of that architecture (arm64: busybox-static,
# coreutils, dash, bsdutils, zip, runc and the libraries they need),
# downloaded once into the cache (lib.sh). The kernel's own overlay.ko is not
# in it: run.sh appends it per kernel as a second cpio archive, /kmod/.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

[ $# -eq 2 ] || {
	echo "usage: ${0##*/} amd64|arm64 OUT.cpio" >&2
	exit 2
}
arch=$1
out=$2
case $arch in
amd64) multiarch=x86_64-linux-gnu ;;
arm64) multiarch=aarch64-linux-gnu ;;
*) die "unknown architecture $arch" ;;
esac

# Programs the checks exec, by the path they use.
programs=(/bin/busybox /bin/true /bin/false /bin/sleep /usr/bin/id /usr/bin/script /bin/sh /usr/bin/zip /usr/sbin/runc)
# The Debian packages that hold them and their libraries, for a foreign
# architecture. A library missing here fails the build with its name.
packages=(busybox-static coreutils dash bsdutils zip runc libc6 libbz2-1.0 libseccomp2 libselinux1 libpcre2-8-0)

stage=$(mktemp -d "${TMPDIR:-/tmp}/vigil-initramfs-XXXXXX")
trap 'rm -rf "$stage"' EXIT

# userland prints the root folder to take the programs from: / for this
# machine's architecture, else a cached folder with the packages unpacked.
userland() {
	if [ "$(dpkg --print-architecture)" = "$arch" ]; then
		echo /
		return
	fi
	lock_cache
	apt_setup
	apt_refresh
	local list="" p v
	for p in "${packages[@]}"; do
		v=$(candidate_version "$p" "$arch")
		[ -n "$v" ] || die "no $p for $arch in the package index"
		list+="$p=$v "
	done
	local dir
	dir=$cache/userland/$arch-$(echo "$list" | sha256sum | cut -c1-16)
	if [ ! -e "$dir/.complete" ]; then
		log "downloading the $arch programs: $list"
		mkdir -p "$cache/userland"
		local tmp deb
		tmp=$(mktemp -d "$cache/userland/.tmp-XXXXXX")
		mkdir "$tmp/debs" "$tmp/root"
		for p in "${packages[@]}"; do
			deb=$(download "$p" "$arch" "$(candidate_version "$p" "$arch")" "$tmp/debs") || die "download of $p:$arch failed"
			dpkg-deb -x "$deb" "$tmp/root"
		done
		# dash's package leaves /bin/sh to its maintainer script.
		[ -e "$tmp/root/bin/sh" ] || ln -s dash "$tmp/root/bin/sh"
		touch "$tmp/root/.complete"
		rm -rf "$dir"
		mv "$tmp/root" "$dir"
		rm -rf "$tmp"
	fi
	touch "$dir"
	echo "$dir"
}

# copy_path PATH copies $root$PATH to $stage$PATH. A symbolic link is copied
# as a link and what it points to is copied too, so that the loader and the
# libraries resolve in the VM as they do on their origin.
copy_path() {
	local path=$1 src=$root$1
	if [ -e "$stage$path" ] || [ -L "$stage$path" ]; then
		return
	fi
	mkdir -p "$stage$(dirname "$path")"
	if [ -L "$src" ]; then
		local target
		target=$(readlink "$src")
		ln -s "$target" "$stage$path"
		case $target in
		/*) copy_path "$target" ;;
		*) copy_path "$(dirname "$path")/$target" ;;
		esac
	elif [ -f "$src" ]; then
		# Through the stage's merged-/usr links: /bin/true lands in usr/bin.
		cp "$src" "$stage$path"
	else
		die "$src: not found; install the Debian package that holds it (on $arch: one of ${packages[*]})"
	fi
}

# in_root PATH prints where PATH of the origin is on this machine, following
# symbolic links within the origin (an absolute link in a foreign root must
# not lead to this machine's own files).
in_root() {
	local path=$1 target n=0
	while [ -L "$root$path" ]; do
		n=$((n + 1))
		[ $n -lt 40 ] || die "$root$path: too many levels of symbolic links"
		target=$(readlink "$root$path")
		case $target in
		/*) path=$target ;;
		*) path=$(dirname "$path")/$target ;;
		esac
	done
	echo "$root$path"
}

declare -A copied=()
# copy_elf PATH copies a program or library with its dynamic loader and,
# recursively, the libraries it needs (readelf works for any architecture,
# where ldd only runs this machine's).
copy_elf() {
	local path=$1
	[ -z "${copied[$path]:-}" ] || return 0
	copied[$path]=1
	copy_path "$path"
	local file interp lib dir found
	file=$(in_root "$path")
	interp=$(readelf -lW "$file" | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]/\1/p')
	if [ -n "$interp" ]; then
		copy_path "$interp"
	fi
	for lib in $(readelf -dW "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		found=""
		for dir in /lib/$multiarch /usr/lib/$multiarch /lib /usr/lib; do
			if [ -e "$root$dir/$lib" ] || [ -L "$root$dir/$lib" ]; then
				found=$dir/$lib
				break
			fi
		done
		[ -n "$found" ] || die "$path needs $lib, not found under $root"
		copy_elf "$found"
	done
}

# The Go programs, static, for the target architecture.
log "building vigil and sensor.test for $arch"
(
	cd "$repo"
	export CGO_ENABLED=0 GOOS=linux GOARCH=$arch
	go build -trimpath -ldflags='-s -w' -o "$stage/usr/local/bin/vigil" ./cmd/vigil
	go test -c -trimpath -ldflags='-s -w' -o "$stage/opt/vigil/sensor.test" ./sensor
) >&2

root=$(userland)
root=${root%/}
# Merged /usr, as on Debian 12 and the machines the tests were written on.
for d in bin sbin lib lib64; do
	mkdir -p "$stage/usr/$d"
	ln -s "usr/$d" "$stage/$d"
done
mkdir -p "$stage"/{dev,proc,sys,tmp,run,root,newroot,etc}
for p in "${programs[@]}"; do
	copy_elf "$p"
done
# The container test copies /bin/busybox into an empty root.
if readelf -lW "$(in_root /bin/busybox)" | grep -q 'program interpreter'; then
	die "$root/bin/busybox is dynamically linked: install the Debian package busybox-static"
fi

install -m 0755 "$here/vm-init.sh" "$stage/init"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$stage/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$stage/etc/group"

mkdir -p "$(dirname "$out")"
# Uncompressed: under TCG the kernel unpacks gzip at a few MB/s, while
# QEMU loads a plain archive into memory at once.
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$out"
log "built $out ($(du -h "$out" | cut -f1))"
echo "$out"

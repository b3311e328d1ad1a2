# shellcheck shell=bash
# Shared by fetch.sh, initramfs.sh and run.sh: the matrix, the cache, and a
# private apt that downloads Debian packages of any architecture without
# touching the system's sources, lists or dpkg database.
#
# The cache is
#   ${VIGIL_KERNELS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vigil-kernels}
# holding
#   apt/                       the private apt's configuration, index and state
#   kernel/<package>_<version>/ vmlinuz, config, release and overlay.ko of one
#                              kernel package, as collector-config/build.sh
#                              caches its build: made in a .tmp-* folder and
#                              renamed into place once complete
#   userland/<arch>-<key>/     a foreign architecture's programs (arm64), from
#                              Debian's packages
#   lock                       held (flock) while anything above changes
# Kernels and userlands unused for 30 days are removed.

# The matrix: Debian's cloud kernels, the series each release ships.
#   5.10  bullseye            (Debian 11)
#   6.1   bookworm            (Debian 12)
#   6.12  bookworm-backports  (Debian 12; also trixie's series)
# Each arch lists the series it boots by default (read through a nameref).
# shellcheck disable=SC2034
matrix_amd64=(5.10 6.1 6.12)
# shellcheck disable=SC2034
matrix_arm64=(6.12)

cache=${VIGIL_KERNELS_CACHE:-${XDG_CACHE_HOME:-${HOME:?set VIGIL_KERNELS_CACHE, XDG_CACHE_HOME or HOME}/.cache}/vigil-kernels}
# The apt index is refreshed when older than this many minutes.
apt_max_age=${VIGIL_KERNELS_APT_MAX_AGE:-720}

# matrix_entries ARCH SERIES... prints "arch series" for each kernel to
# boot: with no ARCH, the default matrix (restricted to SERIES if given);
# with ARCH, SERIES on it (its default series if none).
matrix_entries() {
	local want=$1 arch s
	shift
	for arch in amd64 arm64; do
		[ -z "$want" ] || [ "$want" = "$arch" ] || continue
		local -n defaults="matrix_$arch"
		if [ $# -eq 0 ]; then
			for s in "${defaults[@]}"; do echo "$arch $s"; done
		elif [ -n "$want" ]; then
			for s in "$@"; do echo "$arch $s"; done
		else
			for s in "$@"; do
				case " ${defaults[*]} " in *" $s "*) echo "$arch $s" ;; esac
			done
		fi
	done
}

log() {
	echo "${0##*/}: $*" >&2
}

die() {
	log "$@"
	exit 1
}

# lock_cache takes the cache's lock for the rest of the calling process;
# concurrent runs wait for each other instead of downloading twice.
lock_cache() {
	mkdir -p "$cache"
	exec 9>"$cache/lock"
	if ! flock -n 9; then
		log "waiting for another run using $cache"
		flock 9
	fi
	# Holding the lock: a .tmp-* folder left is from a run that was killed,
	# and what was not used for 30 days goes.
	find "$cache" -mindepth 2 -maxdepth 2 -name '.tmp-*' -exec rm -rf {} +
	find "$cache/kernel" "$cache/userland" -mindepth 1 -maxdepth 1 -type d -mtime +30 -exec rm -rf {} + 2>/dev/null || true
}

# write_if_changed FILE replaces FILE with standard input if they differ.
write_if_changed() {
	local new
	new=$(cat)
	if [ ! -e "$1" ] || [ "$(cat "$1")" != "$new" ]; then
		printf '%s\n' "$new" >"$1"
	fi
}

# apt_setup writes the private apt configuration: the three Debian releases
# of the matrix, both architectures, state and downloads in the cache.
apt_setup() {
	local dir=$cache/apt
	mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
	local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	[ -r "$keyring" ] || die "$keyring missing: install the Debian package debian-archive-keyring"
	local mirror=${VIGIL_KERNELS_MIRROR:-http://deb.debian.org/debian}
	# Written only when changed: apt rebuilds its caches when they are older
	# than the sources.
	write_if_changed "$dir/sources.list" <<EOF
deb [signed-by=$keyring] $mirror bullseye main
deb [signed-by=$keyring] $mirror bookworm main
deb [signed-by=$keyring] $mirror bookworm-backports main
EOF
	write_if_changed "$dir/apt.conf" <<EOF
Dir::Etc::SourceList "$dir/sources.list";
Dir::Etc::SourceParts "/dev/null";
Dir::Etc::Preferences "/dev/null";
Dir::Etc::PreferencesParts "/dev/null";
Dir::State::Lists "$dir/lists";
Dir::Cache "$dir/cache";
APT::Architectures { "amd64"; "arm64"; };
Acquire::Languages "none";
Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled "false";
Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled "false";
APT::Sandbox::User "root";
EOF
	export APT_CONFIG=$dir/apt.conf
	# The binary caches make each query take a fraction of a second instead
	# of 2-3 s. Given on the command line because it beats the system's
	# apt.conf.d, which Debian's container images use to turn them off.
	apt_opts=(-o "Dir::Cache::pkgcache=$dir/cache/pkgcache.bin" -o "Dir::Cache::srcpkgcache=$dir/cache/srcpkgcache.bin")
}

# apt_refresh updates the private index when it is older than apt_max_age
# minutes. Offline, a stale index (or none) is kept with a warning: what is
# cached can still run.
apt_refresh() {
	local stamp=$cache/apt/updated
	if [ -e "$stamp" ] && [ -z "$(find "$stamp" -mmin +"$apt_max_age")" ]; then
		return
	fi
	log "updating the package index of $cache/apt"
	if apt-get "${apt_opts[@]}" update -qq >"$cache/apt/update.log" 2>&1; then
		touch "$stamp"
	else
		log "warning: apt-get update failed, using what is cached:"
		sed 's/^/  /' "$cache/apt/update.log" >&2
	fi
}

# candidate_version PKG ARCH prints the version apt would download.
candidate_version() {
	apt-cache "${apt_opts[@]}" show --no-all-versions "$1:$2" 2>/dev/null | sed -n 's/^Version: //p' | head -n1
}

# download PKG ARCH VERSION DIR downloads the package into DIR and prints
# the .deb's path.
download() {
	local pkg=$1 arch=$2 ver=$3 dir=$4
	(cd "$dir" && apt-get "${apt_opts[@]}" download -qq "$pkg:$arch=$ver" >&2) || return 1
	local deb
	deb=$(find "$dir" -maxdepth 1 -name "${pkg}_*_${arch}.deb" | head -n1)
	[ -n "$deb" ] || return 1
	echo "$deb"
}

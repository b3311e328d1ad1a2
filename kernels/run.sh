#!/usr/bin/env bash
# Boots each kernel of the matrix under QEMU (TCG: no KVM needed) from an
# initramfs with this tree's vigil and sensor tests, runs the checks inside
# (vm-init.sh), and prints a table of the results:
#
#   kernels/run.sh                     # the whole matrix (lib.sh)
#   kernels/run.sh 6.1                 # one series of the matrix
#   kernels/run.sh --arch arm64        # the arm64 part
#   kernels/run.sh --arch arm64 6.1    # any Debian cloud series on one arch
#
# Options:
#   --out DIR       console logs and initramfs go there (default
#                   kernels/out, which git ignores)
#   --timeout SECS  a VM running longer is killed and counts as hung (900)
#   --verbose       copy the consoles to standard error as they run
#   --run REGEX     only the sensor tests REGEX matches (go test -run; no
#                   spaces), to chase one failure
#
# Exits 0 when every check of every kernel passed or was skipped, 1 when a
# check failed, a VM hung, crashed or never reported, 2 on a usage error.
# Needs: qemu-system-x86 and qemu-system-arm (QEMU), busybox-static, cpio,
# zip, runc, dpkg-dev tools and Go; see README.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

usage() {
	echo "usage: ${0##*/} [--arch amd64|arm64] [--out DIR] [--timeout SECS] [--verbose] [--run REGEX] [series...]" >&2
	exit 2
}

arch=""
out=$here/out
vm_timeout=900
verbose=false
run=""
series=()
while [ $# -gt 0 ]; do
	case $1 in
	--arch)
		[ $# -ge 2 ] || usage
		case $2 in amd64 | arm64) arch=$2 ;; *) usage ;; esac
		shift 2
		;;
	--out)
		[ $# -ge 2 ] || usage
		out=$2
		shift 2
		;;
	--timeout)
		if [ $# -lt 2 ] || ! [[ $2 =~ ^[0-9]+$ ]]; then
			usage
		fi
		vm_timeout=$2
		shift 2
		;;
	--verbose)
		verbose=true
		shift
		;;
	--run)
		if [ $# -lt 2 ] || [[ $2 =~ [[:space:]] ]]; then
			usage
		fi
		run=$2
		shift 2
		;;
	-*) usage ;;
	*)
		series+=("$1")
		shift
		;;
	esac
done
entries=$(matrix_entries "$arch" "${series[@]}")
[ -n "$entries" ] || die "no kernel of the matrix matches: ${series[*]} (try --arch)"
arches=$(cut -d' ' -f1 <<<"$entries" | sort -u)
mkdir -p "$out"
out=$(cd "$out" && pwd)

start=$SECONDS
# The kernels first: cheap when cached, and a failure here is not vigil's.
fetch_args=()
[ -z "$arch" ] || fetch_args+=(--arch "$arch")
kernels=$("$here/fetch.sh" "${fetch_args[@]}" "${series[@]}")
for a in $arches; do
	"$here/initramfs.sh" "$a" "$out/initramfs-$a.cpio" >/dev/null
done
log "kernels and initramfs ready in $((SECONDS - start)) s"

# boot SERIES ARCH RELEASE DIR boots one kernel; its console goes to
# $out/<release>.log.
boot() {
	local s=$1 a=$2 release=$3 dir=$4
	local log=$out/$release.log initrd=$out/initrd-$release.cpio
	# The kernel's overlay.ko rides in a second archive after the shared
	# one; the kernel unpacks both.
	local kmod
	kmod=$(mktemp -d)
	mkdir "$kmod/kmod"
	cp "$dir/overlay.ko" "$kmod/kmod/"
	{
		cat "$out/initramfs-$a.cpio"
		(cd "$kmod" && printf 'kmod\nkmod/overlay.ko\n' | cpio -o -H newc -R 0:0 --quiet)
	} >"$initrd"
	rm -rf "$kmod"

	# loglevel=5: the kernel's warnings and worse (a WARN or an oops the
	# programs caused) reach the console, its chatter does not. oops=panic:
	# an oops often leaves a lock held and the VM stuck until the timeout;
	# panic=-1 with -no-reboot turns the panic (init dying included) into
	# QEMU's exit at once.
	local qemu cmdline="panic=-1 oops=panic loglevel=5${run:+ vigil.run=$run}"
	case $a in
	amd64)
		# -cx16: QEMU 7.2's TCG (Debian 12's) corrupts RFLAGS around
		# CMPXCHG16B, which SLUB's fast path uses: the guest double-faults in
		# kmem_cache_alloc within a minute of heavy use. Without the
		# feature the kernel takes SLUB's locked path.
		qemu=(qemu-system-x86_64 -accel tcg -cpu "max,-cx16" -append "console=ttyS0 $cmdline")
		;;
	arm64)
		# pauth-impdef: QEMU's own pointer-authentication algorithm, far
		# cheaper to emulate than the architected one.
		qemu=(qemu-system-aarch64 -M virt -accel tcg -cpu "max,pauth-impdef=on" -append "console=ttyAMA0 $cmdline")
		;;
	esac
	qemu+=(-m 2G -smp 2 -nodefaults -display none -no-reboot -serial stdio
		-kernel "$dir/vmlinuz" -initrd "$initrd")

	log "booting $release ($a) under QEMU, at most $vm_timeout s; console in $log"
	local t0=$SECONDS rc=0
	if $verbose; then
		timeout -k 10 "$vm_timeout" "${qemu[@]}" </dev/null 2>&1 | tr -d '\r' | tee "$log" >&2 || rc=$?
	else
		timeout -k 10 "$vm_timeout" "${qemu[@]}" </dev/null 2>&1 | tr -d '\r' >"$log" || rc=$?
	fi
	echo "$((SECONDS - t0))" >"$log.seconds"
	echo "$rc" >"$log.status"
	rm -f "$initrd"
}

while read -r s a release dir; do
	boot "$s" "$a" "$release" "$dir"
	# QEMU's TCG now and then stalls a guest CPU in the kernel's own
	# allocator (an RCU stall in kmem_cache_alloc under cgroup_mkdir, no
	# program of vigil's in the trace) until the timeout, and now and then
	# oopses on an int3 the kernel is patching its own code with while it
	# boots, before any of vigil's runs. A VM that hung, or that died
	# before its init printed VIGIL-KERNEL, is booted once more; its first
	# log is kept beside the second. A panic once init ran, or a failed
	# check, is never retried.
	if ! grep -aq 'VIGIL-DONE' "$out/$release.log"; then
		if grep -qxE '124|137' "$out/$release.log.status"; then
			log "$release hung; booting it once more (first console log: $out/$release.log.hung)"
			mv "$out/$release.log" "$out/$release.log.hung"
			boot "$s" "$a" "$release" "$dir"
		elif ! grep -aq 'VIGIL-KERNEL' "$out/$release.log"; then
			log "$release died before its init ran; booting it once more (first console log: $out/$release.log.early)"
			mv "$out/$release.log" "$out/$release.log.early"
			boot "$s" "$a" "$release" "$dir"
		fi
	fi
	# One line per check as it comes, for whoever watches the job.
	grep -ao 'VIGIL-CHECK .*' "$out/$release.log" | cut -c1-200 | sed "s/^/  $release: /" >&2 || true
done <<<"$kernels"

# The table: one row per kernel, one column per check, then how the VM
# ended (ok: it powered off after the checks) and its seconds.
checks=(doctor sensor-tests e2e)
failed=0
passes=0 fails=0 skips=0
details=""
printf '\n%-28s %-6s' kernel arch
printf ' %-13s' "${checks[@]}"
printf ' %-7s %7s\n' vm seconds
while read -r s a release dir; do
	log=$out/$release.log
	status=$(cat "$log.status")
	printf '%-28s %-6s' "$release" "$a"
	for c in "${checks[@]}"; do
		# Unanchored: a kernel message may precede a marker on its line.
		line=$(grep -ao "VIGIL-CHECK $c .*" "$log" | tail -n1 || true)
		result=$(awk '{ print $3 }' <<<"$line")
		printf ' %-13s' "${result:--}"
		case $result in
		PASS) passes=$((passes + 1)) ;;
		SKIP)
			skips=$((skips + 1))
			details+="$release $c SKIP: $(cut -d' ' -f5- <<<"$line")"$'\n'
			;;
		'') # not reached: the VM's end says why
			failed=1 fails=$((fails + 1))
			;;
		*)
			failed=1 fails=$((fails + 1))
			details+="$release $c $result ($(awk '{ print $4 }' <<<"$line")): $(cut -d' ' -f5- <<<"$line")"$'\n'
			;;
		esac
	done
	# How the VM ended, when it did not finish its run.
	vm=ok
	if ! grep -aq 'VIGIL-DONE' "$log"; then
		failed=1
		if [ "$status" = 124 ] || [ "$status" = 137 ]; then
			vm=hung
			why="hung: killed after $vm_timeout s"
		elif grep -aq 'Kernel panic' "$log"; then
			vm=panic
			why="kernel panic: $(grep -a -m1 'Kernel panic' "$log")"
			# The oops that led to it, with its first frames, usually
			# scrolled off the end shown below.
			why+=$'\n'"$(grep -a -m1 -A30 -E 'Oops|BUG:|Unable to handle|double fault' "$log" |
				grep -a -m8 -E 'Oops|BUG:|Unable to handle|double fault|Comm:|RIP:|pc :|^\[[ 0-9.]+\]  [a-z_]' | sed 's/^/    /')"
		else
			vm=died
			why="QEMU exited $status before the checks finished"
		fi
		details+="$release: $why; the end of its console:"$'\n'"$(tail -n 15 "$log" | sed 's/^/    /')"$'\n'
	fi
	# A kernel warning does not fail the run (TCG has its quirks) but is
	# worth a look.
	warnings=$(grep -ac -e '------------\[ cut here \]' -e 'BUG: soft lockup' "$log" || true)
	if [ "$warnings" -gt 0 ]; then
		details+="$release: $warnings kernel warning(s) or soft lockup(s), first: $(grep -a -m1 -E 'WARNING:|BUG: soft lockup' "$log")"$'\n'
	fi
	printf ' %-7s %7s\n' "$vm" "$(cat "$log.seconds")"
done <<<"$kernels"
echo
if [ -n "$details" ]; then
	printf '%s' "$details"
	echo
fi
echo "total $((SECONDS - start)) s; console logs in $out"
# The plain count CI reads: one check of one kernel is one test.
echo "kernel checks: $passes passed, $fails failed, $skips skipped"
exit $failed

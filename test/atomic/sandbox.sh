#!/usr/bin/env bash
# Runs one Atomic Red Team test in a throwaway copy of this machine, so that
# what the test does (accounts added, logs wiped, crontabs written, tools
# dropped) happens for real, and vigil sees it, without touching the host:
#
#   unshare --mount --net --pid --uts --ipc --fork sandbox.sh SHELL SCRIPT [PROGRAM...]
#
# (the harness starts it so, under `vigil run`). Inside the new namespaces:
#   - the root is an overlay on the host's, pivoted to: reads see the machine, writes go
#     to a tmpfs that goes with the namespace; /tmp, /run and /dev/shm are
#     fresh tmpfs; /proc is the sandbox's own;
#   - /dev holds null, zero, full, random, urandom and tty only: no disk,
#     no memory, no raw device;
#   - the network is a loopback of its own: nothing leaves the machine;
#   - the bounding set drops what reaches past the namespaces: modules,
#     the clock, reboot, raw I/O, device nodes, mounts, BPF, the audit
#     system and the kernel log.
# PROGRAM... are programs the test runs: each one missing here gets a
# stand-in (/bin/true under its name), so that its exec happens as the
# test means it to. SCRIPT, the test's commands, runs in /root as Atomic
# Red Team runs them, `SHELL -c COMMANDS`, with vigil-atomic-test for the
# shell's argv[0]: the mark by which the harness tells the test's
# processes (that shell and its descendants) from the sandbox's. A final
# `wait` keeps the shell from replacing itself with the last command (which
# would lose the mark) and holds it until the test's background jobs end.
set -euo pipefail

shell=$1 script=$2
shift 2

# The copy's writes live on a tmpfs over /mnt, which only this mount
# namespace sees: nothing is left behind when it ends.
base=/mnt
mount -t tmpfs -o size=512m,mode=0700 tmpfs "$base"
mkdir "$base/upper" "$base/work" "$base/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$base/upper,workdir=$base/work" "$base/root"
root=$base/root

mount -t proc proc "$root/proc"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
mount -t tmpfs -o mode=0755 tmpfs "$root/run"
mount -t tmpfs -o mode=0755 tmpfs "$root/dev"
for dev in null zero full random urandom tty; do
	touch "$root/dev/$dev"
	mount --bind "/dev/$dev" "$root/dev/$dev"
done
mkdir -m 1777 "$root/dev/shm"
mkdir -p "$root/dev/pts"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"
ip link set lo up 2>/dev/null || true

# A program named by its path (a payload under /opt/atomic-red-team, say)
# gets its stand-in at that path; one named alone gets it on the PATH.
missing=$(chroot "$root" /bin/sh -c 'for p; do command -v "$p" >/dev/null 2>&1 || echo "$p"; done' sh "$@")
for program in $missing; do
	case $program in
	/*)
		mkdir -p "$(dirname "$root$program")"
		cp /bin/true "$root$program"
		;;
	*) cp /bin/true "$root/usr/local/bin/$program" ;;
	esac
	echo "vigil-atomic: stand-in for $program" >&2
done
mkdir -p "$root/root"
cp "$script" "$root/tmp/.atomic-test"
# Tests that edit the system logger's configuration look for its file
# first; a machine with journald alone has none, so the copy gets an empty
# one, as it gets stand-ins for programs.
[ -e "$root/etc/rsyslog.conf" ] || : >"$root/etc/rsyslog.conf"

# The copy becomes the namespace's root, as a container runtime makes an
# image's (pivot_root, not chroot): paths in the test's events are then
# the copy's own (/usr/bin/sudo, not /mnt/root/usr/bin/sudo), and the
# host's tree is no longer reachable from inside.
cd "$root"
mkdir .oldroot
pivot_root . .oldroot
umount -l /.oldroot
rmdir /.oldroot

exec setpriv \
	--bounding-set -sys_module,-sys_time,-sys_boot,-sys_rawio,-mknod,-sys_admin,-bpf,-perfmon,-audit_control,-audit_write,-audit_read,-syslog,-mac_admin,-mac_override,-wake_alarm,-block_suspend \
	-- /bin/bash -c 'cd /root && exec -a vigil-atomic-test "$0" -c "$(< /tmp/.atomic-test)
wait"' "$shell"

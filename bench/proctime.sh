# shellcheck shell=bash
# CPU time from /proc, for bench/run.sh and bench/soak.sh, which source this
# file: the machine's busy time and the CPU time of a script's reaped
# children, with bash builtins only, so that no fork blurs the edges of
# what they measure.

# The machine's online cores and /proc's clock ticks per second, for the
# scripts that source this file.
# shellcheck disable=SC2034
NCPU=$(getconf _NPROCESSORS_ONLN)
# shellcheck disable=SC2034
CLK_TCK=$(getconf CLK_TCK)

# Busy time of the whole machine so far, in clock ticks: user, nice, system,
# irq and softirq of /proc/stat (not idle, iowait, or steal, the time the
# host took).
busy_ticks_now() { # VAR
	local _cpu user nice system _idle _iowait irq softirq _rest
	read -r _cpu user nice system _idle _iowait irq softirq _rest </proc/stat
	printf -v "$1" %d $((user + nice + system + irq + softirq))
}
# CPU time of this shell's reaped children so far (cutime + cstime), in
# clock ticks: the storm and all its processes, once it has been reaped.
children_ticks_now() { # VAR
	local line fields
	read -r line <"/proc/$$/stat"
	read -r -a fields <<<"${line##*) }"
	printf -v "$1" %d $((fields[13] + fields[14]))
}

//go:build ignore

// The exec sensor: one program per scheduler tracepoint, all writing to one
// ring buffer. Exec records carry the new program's identity and argv; fork
// and exit records let user space keep its process table.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "events.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Tunables, set from Go before load. */
const volatile __u32 args_max = 4096;     /* bytes of argv kept per exec, at most ARGS_BUF */
const volatile __u8 follow_tracked = 0;   /* only report processes in tracked_tgids */
const volatile __u64 wakeup_bytes = 0;    /* wake the reader once this much is pending; 0 wakes on every record */

/* Tell bpf2go which types to emit in Go. */
const struct exec_event *unused_exec_event __attribute__((unused));
const struct fork_event *unused_fork_event __attribute__((unused));
const struct exit_event *unused_exit_event __attribute__((unused));
const enum event_kind *unused_event_kind __attribute__((unused));
const enum drop_reason *unused_drop_reason __attribute__((unused));
const enum exec_flag *unused_exec_flag __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20); /* resized from Go */
} events SEC(".maps");

/* Per-CPU counters of events that never reached the ring, by enum drop_reason. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DROP_REASONS);
	__type(key, __u32);
	__type(value, __u64);
} drop_counters SEC(".maps");

/* The processes followed when follow_tracked is set: seeded by user space
 * with its own tgid, grown on fork, shrunk on exit. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} tracked_tgids SEC(".maps");

/* An exec record is built in these per-CPU buffers, not on the 512-byte
 * stack, then copied into the ring at its real size. The argv buffer is
 * kept apart because a per-CPU value can be at most 32 KiB. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_event);
} exec_heap SEC(".maps");

struct args_buf {
	char data[ARGS_BUF];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct args_buf);
} args_heap SEC(".maps");

/* count_drop adds one to the drop counter of reason. */
static __always_inline void count_drop(__u32 reason)
{
	__u64 *n = bpf_map_lookup_elem(&drop_counters, &reason);
	if (n)
		*n += 1;
}

/* is_tracked says whether events of tgid are wanted. */
static __always_inline bool is_tracked(__u32 tgid)
{
	return !follow_tracked || bpf_map_lookup_elem(&tracked_tgids, &tgid);
}

/* wakeup_flags wakes the reader only once enough is pending, so that an
 * exec storm costs one wake-up per batch, not one per exec. */
static __always_inline __u64 wakeup_flags(__u64 size)
{
	if (!wakeup_bytes)
		return 0;
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) + size >= wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/* output sends a fixed-size record. */
static __always_inline void output(void *data, __u64 size)
{
	if (bpf_ringbuf_output(&events, data, size, wakeup_flags(size)))
		count_drop(DROP_RINGBUF_FULL);
}

/* output_exec sends an exec record followed by its len bytes of argv. */
static __always_inline void output_exec(struct exec_event *ev, struct args_buf *args, __u32 len)
{
	struct bpf_dynptr rec;
	__u64 size = sizeof(*ev) + len;

	if (bpf_ringbuf_reserve_dynptr(&events, size, 0, &rec)) {
		bpf_ringbuf_discard_dynptr(&rec, 0);
		count_drop(DROP_RINGBUF_FULL);
		return;
	}
	bpf_dynptr_write(&rec, 0, ev, sizeof(*ev), 0);
	if (len <= ARGS_BUF)
		bpf_dynptr_write(&rec, sizeof(*ev), args->data, len, 0);
	bpf_ringbuf_submit_dynptr(&rec, wakeup_flags(size));
}

static __always_inline void fill_header(struct event_header *hdr, __u8 kind, struct task_struct *task)
{
	hdr->kind = kind;
	hdr->tgid = BPF_CORE_READ(task, tgid);
	hdr->ptgid = BPF_CORE_READ(task, real_parent, tgid);
	hdr->time_ns = bpf_ktime_get_boot_ns();
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 zero = 0;
	struct exec_event *ev;
	struct args_buf *args;
	unsigned long arg_start, arg_end;
	__u64 uid_gid, len;
	long n;

	if (!is_tracked(BPF_CORE_READ(task, tgid)))
		return 0;

	ev = bpf_map_lookup_elem(&exec_heap, &zero);
	args = bpf_map_lookup_elem(&args_heap, &zero);
	if (!ev || !args)
		return 0;

	fill_header(&ev->hdr, EVENT_EXEC, task);
	ev->pid = old_pid;
	uid_gid = bpf_get_current_uid_gid();
	ev->uid = uid_gid;
	ev->gid = uid_gid >> 32;
	ev->argc = BPF_CORE_READ(bprm, argc);
	ev->flags = 0;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));

	n = bpf_probe_read_kernel_str(ev->filename, sizeof(ev->filename), BPF_CORE_READ(bprm, filename));
	if (n == sizeof(ev->filename))
		ev->flags |= EXEC_FILENAME_TRUNCATED;

	/* argv is one block of NUL-separated strings in the new image's memory. */
	arg_start = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
	len = arg_end - arg_start;
	if (len > args_max) {
		len = args_max;
		ev->flags |= EXEC_ARGS_TRUNCATED;
	}
	if (len > ARGS_BUF)
		len = ARGS_BUF;
	if (len && bpf_probe_read_user(args->data, len, (void *)arg_start))
		len = 0;
	ev->args_size = len;

	output_exec(ev, args, len);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	struct fork_event ev = {};
	__u32 tgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;

	/* A new thread is not a new process. */
	if (BPF_CORE_READ(child, pid) != tgid)
		return 0;

	if (follow_tracked) {
		__u32 ptgid = BPF_CORE_READ(parent, tgid);

		if (!bpf_map_lookup_elem(&tracked_tgids, &ptgid))
			return 0;
		if (bpf_map_update_elem(&tracked_tgids, &tgid, &one, BPF_ANY))
			count_drop(DROP_TRACK_FULL);
	}

	fill_header(&ev.hdr, EVENT_FORK, child);
	output(&ev, sizeof(ev));
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *task, bool group_dead)
{
	struct exit_event ev = {};
	__u32 tgid = BPF_CORE_READ(task, tgid);

	/* Only the last thread to leave ends the process. */
	if (!group_dead || !is_tracked(tgid))
		return 0;

	fill_header(&ev.hdr, EVENT_EXIT, task);
	ev.exit_code = BPF_CORE_READ(task, exit_code);
	output(&ev, sizeof(ev));

	if (follow_tracked)
		bpf_map_delete_elem(&tracked_tgids, &tgid);
	return 0;
}

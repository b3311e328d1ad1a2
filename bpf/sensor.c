//go:build ignore

// The exec sensor: one program per scheduler tracepoint, all writing to one
// ring buffer. Exec records carry the new program's identity, credentials,
// file facts, paths, context and argv; fork and exit records let user space
// keep its process table.

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "events.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Filesystem magic numbers (linux/magic.h). */
#define TMPFS_MAGIC 0x01021994
#define HUGETLBFS_MAGIC 0x958458f6
#define OVERLAYFS_SUPER_MAGIC 0x794c7630

/* The scratch buffer an exec record is built in. Sections are appended at
 * offsets masked with DATA_MASK, and no single write is larger than
 * DATA_BUF, so every write stays inside data. */
#define DATA_BUF 65536
#define DATA_MASK (DATA_BUF - 1)
#define ENV_BUF 32768 /* the largest environment block scanned; env_max is the bound in force */
#define ENV_MASK (ENV_BUF - 1)
#define ENV_MAX_VARS 512 /* environment strings looked at per exec */
#define ENV_PREFIX_SLOTS 256
#define ENV_PREFIX_PROBES 4 /* slots looked at per prefix, from its own */

/* Tunables, set from Go before load. */
const volatile __u32 args_max = 4096;   /* bytes of argv kept per exec, at most ARGS_BUF */
const volatile __u32 env_max = 16384;   /* bytes of the environment scanned per exec, at most ENV_BUF */
const volatile __u8 follow_tracked = 0; /* only report processes in tracked_tgids */
const volatile __u64 wakeup_bytes = 0;  /* wake the reader once this much is pending; 0 wakes on every record */
/* The first 8 bytes of each allow-listed "NAME=" (zero-padded after '='),
 * placed by Go at slot env_prefix_slot(prefix) or one of the next few. A
 * match only makes a variable a candidate; env_names decides. */
const volatile __u64 env_prefixes[ENV_PREFIX_SLOTS] = {};

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

/* FNV-1a hashes of the allow-listed environment variable names. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);
	__type(value, __u8);
} env_names SEC(".maps");

struct exec_scratch {
	__u32 busy;
	__u32 pad;
	struct exec_event ev;
	char data[DATA_BUF * 2]; /* the sections, as they go into the record */
	char env[ENV_BUF + 8];   /* the raw environment block, never sent */
};

/* One scratch buffer per CPU, indexed by CPU number. A per-CPU array value
 * cannot exceed 32 KiB, and a record with its largest argv is bigger. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024); /* set to the number of possible CPUs from Go */
	__type(key, __u32);
	__type(value, struct exec_scratch);
} exec_heap SEC(".maps");

/* A kernel string-length function (Linux 6.17 and later) that is safe on
 * any kernel address. */
extern size_t bpf_strnlen(const char *s__ign, size_t count) __ksym;

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

/* output sends a record. */
static __always_inline void output(void *data, __u64 size)
{
	if (bpf_ringbuf_output(&events, data, size, wakeup_flags(size)))
		count_drop(DROP_RINGBUF_FULL);
}

static __always_inline void fill_header(struct event_header *hdr, __u8 kind, struct task_struct *task)
{
	hdr->kind = kind;
	hdr->tgid = BPF_CORE_READ(task, tgid);
	hdr->ptgid = BPF_CORE_READ(task, real_parent, tgid);
	hdr->time_ns = bpf_ktime_get_boot_ns();
}

/* append_str copies a kernel string of at most max bytes (NUL included)
 * into the record at *off, and returns the bytes written. */
static __always_inline __u32 append_str(struct exec_scratch *s, __u32 *off, const char *str, __u32 max, __u32 *flags, __u32 trunc_flag)
{
	long n = bpf_probe_read_kernel_str(&s->data[*off & DATA_MASK], max, str);

	if (n <= 0)
		return 0;
	if (n == max)
		*flags |= trunc_flag;
	*off += n;
	return n;
}

/* path_walk is the state of a walk up a path, one component per step. */
struct path_walk {
	struct exec_scratch *s;
	struct dentry *dentry;
	struct mount *mnt;
	__u32 off;
	__u32 start;
	__u32 flags;
	__u32 done;
};

/* path_step takes one step up, as d_path does: to the parent directory,
 * or from the root of a mount to its mount point. A bpf_loop callback. */
static long path_step(__u32 index, struct path_walk *w)
{
	/* Copied out of w: CO-RE reads must start from kernel types. */
	struct dentry *dentry = w->dentry;
	struct mount *mnt = w->mnt;
	struct exec_scratch *s = w->s;
	struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
	struct dentry *mnt_root = BPF_CORE_READ(mnt, mnt.mnt_root);

	/* A dentry of no directory (a memfd, a pipe): its name is all the path. */
	if (dentry == parent && dentry != mnt_root) {
		if (s)
			append_str(s, &w->off, (const char *)BPF_CORE_READ(dentry, d_name.name), NAME_LEN, &w->flags, 0);
		w->done = 1;
		return 1;
	}
	if (dentry == mnt_root || dentry == parent) {
		struct mount *mnt_parent = BPF_CORE_READ(mnt, mnt_parent);

		/* The root of the namespace's root mount: done. */
		if (mnt_parent == mnt) {
			w->done = 1;
			return 1;
		}
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = mnt_parent;
		return 0;
	}
	if (w->off - w->start > PATH_SECTION_MAX - NAME_LEN || !s)
		return 1;
	if (!append_str(s, &w->off, (const char *)BPF_CORE_READ(dentry, d_name.name), NAME_LEN, &w->flags, 0))
		return 1;
	w->dentry = parent;
	return 0;
}

/* What the put_* functions return: the bytes they wrote, and flags. */
#define PUT_SIZE_MASK 0xffff
#define PUT_TRUNCATED (1U << 31)
#define PUT_UNREAD (1U << 30)

/* put_path writes the components of the struct path at path_addr, leaf
 * first, up to the root of the mount namespace, at off. A global function:
 * the verifier checks it once, apart from the caller's many states. */
__noinline __u32 put_path(struct exec_scratch *s, __u32 off, __u64 path_addr)
{
	const struct path *path = (const struct path *)path_addr;
	struct vfsmount *vfsmnt = BPF_CORE_READ(path, mnt);
	struct path_walk w = {
		.s = s,
		.dentry = BPF_CORE_READ(path, dentry),
		.mnt = container_of(vfsmnt, struct mount, mnt),
		.off = off,
		.start = off,
	};

	if (!s)
		return 0;
	bpf_loop(MAX_PATH_DEPTH, path_step, &w, 0);
	return ((w.off - w.start) & PUT_SIZE_MASK) | (w.done ? 0 : PUT_TRUNCATED);
}

/* kernfs_node was renamed in Linux 6.15; these flavors read both. */
struct kernfs_node___new {
	struct kernfs_node *__parent;
} __attribute__((preserve_access_index));

struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *kernfs_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(struct kernfs_node___new, __parent))
		return BPF_CORE_READ((struct kernfs_node___new *)kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

/* task_cgroup returns the task's cgroup in the v2 hierarchy, or, when that
 * is the root (a v1 or hybrid machine), its cgroup in the v1 memory
 * controller, where container runtimes place it. */
static __always_inline struct cgroup *task_cgroup(struct task_struct *task)
{
	struct css_set *cset = BPF_CORE_READ(task, cgroups);
	struct cgroup *cgrp = BPF_CORE_READ(cset, dfl_cgrp);
	int memory = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);

	if (kernfs_parent(BPF_CORE_READ(cgrp, kn)) || memory < 0 || memory >= 12)
		return cgrp;
	return BPF_CORE_READ(cset, subsys[memory], cgroup);
}

/* cgroup_walk is the state of a walk up a cgroup path. */
struct cgroup_walk {
	struct exec_scratch *s;
	struct kernfs_node *kn;
	__u32 off;
	__u32 start;
	__u32 flags;
	__u32 done;
};

/* cgroup_step writes one component and moves to the parent cgroup; a
 * bpf_loop callback. */
static long cgroup_step(__u32 index, struct cgroup_walk *w)
{
	struct kernfs_node *kn = w->kn;
	struct kernfs_node *parent = kernfs_parent(kn);
	struct exec_scratch *s = w->s;

	if (!parent) {
		w->done = 1;
		return 1;
	}
	if (w->off - w->start > CGROUP_SECTION_MAX - NAME_LEN || !s)
		return 1;
	if (!append_str(s, &w->off, BPF_CORE_READ(kn, name), NAME_LEN, &w->flags, 0))
		return 1;
	w->kn = parent;
	return 0;
}

/* put_cgroup writes the components of the cgroup path that ends at the
 * kernfs node at kn_addr, leaf first, at off. A global function, as
 * put_path. */
__noinline __u32 put_cgroup(struct exec_scratch *s, __u32 off, __u64 kn_addr)
{
	struct cgroup_walk w = {
		.s = s,
		.kn = (struct kernfs_node *)kn_addr,
		.off = off,
		.start = off,
	};

	if (!s)
		return 0;
	bpf_loop(MAX_CGROUP_DEPTH, cgroup_step, &w, 0);
	return ((w.off - w.start) & PUT_SIZE_MASK) | (w.done ? 0 : PUT_TRUNCATED);
}

/* env_prefix_slot spreads the 8-byte name prefixes over the slots. */
static __always_inline __u32 env_prefix_slot(__u64 prefix)
{
	return (prefix * 0x9E3779B97F4A7C15ULL) >> 56; /* 8 bits: ENV_PREFIX_SLOTS */
}

struct env_scan {
	struct exec_scratch *s;
	__u32 pos;  /* start of the current string in s->env */
	__u32 len;  /* bytes of the environment read */
	__u32 off;  /* where the next matched entry goes in s->data */
	__u32 start;
	__u32 flags;
};

/* env_candidate says whether the string at pos may be an allow-listed
 * variable, from its first 8 bytes alone. */
static __always_inline bool env_candidate(struct exec_scratch *s, __u32 pos)
{
	__u64 prefix = 0;

	/* Keep the bytes up to the first '=', zero the rest. */
	for (int i = 0; i < 8; i++) {
		char c = s->env[(pos + i) & ENV_MASK];

		prefix |= (__u64)(__u8)c << (8 * i);
		if (c == '=' || c == 0)
			break;
	}
	__u32 slot = env_prefix_slot(prefix);
	for (int i = 0; i < ENV_PREFIX_PROBES; i++)
		if (env_prefixes[(slot + i) & (ENV_PREFIX_SLOTS - 1)] == prefix)
			return true;
	return false;
}

/* env_allowed hashes the name of the string at pos (FNV-1a, up to '=') and
 * looks it up among the allow-listed names. */
static __always_inline bool env_allowed(struct exec_scratch *s, __u32 pos)
{
	__u64 hash = 0xcbf29ce484222325ULL;

	for (int i = 0; i < 64; i++) {
		char c = s->env[(pos + i) & ENV_MASK];

		if (c == '=')
			return bpf_map_lookup_elem(&env_names, &hash) != NULL;
		if (c == 0)
			return false;
		hash ^= (__u8)c;
		hash *= 0x100000001b3ULL;
	}
	return false;
}

/* env_step handles one environment string; a bpf_loop callback. */
static long env_step(__u32 index, struct env_scan *scan)
{
	struct exec_scratch *s = scan->s;
	__u32 pos = scan->pos;
	long n;

	if (pos >= scan->len)
		return 1;
	n = bpf_strnlen(&s->env[pos & ENV_MASK], scan->len - pos);
	if (n < 0)
		return 1;
	if (n > 0 && env_candidate(s, pos) && env_allowed(s, pos)) {
		if (scan->off - scan->start > ENV_SECTION_MAX - ENV_VALUE_MAX) {
			scan->flags |= PUT_TRUNCATED;
			return 1;
		}
		append_str(s, &scan->off, &s->env[pos & ENV_MASK], ENV_VALUE_MAX, &scan->flags, PUT_TRUNCATED);
	}
	scan->pos = pos + n + 1;
	return 0;
}

/* put_env writes, at off, the allow-listed NAME=value strings of the
 * environment of the mm at mm_addr. Only those leave the kernel. A global
 * function, as put_path. */
__noinline __u32 put_env(struct exec_scratch *s, __u32 off, __u64 mm_addr)
{
	struct mm_struct *mm = (struct mm_struct *)mm_addr;
	unsigned long env_start = BPF_CORE_READ(mm, env_start);
	__u64 len = BPF_CORE_READ(mm, env_end) - env_start;
	struct env_scan scan = {.s = s, .off = off, .start = off};

	if (!s)
		return 0;
	if (len > env_max) {
		len = env_max;
		scan.flags |= PUT_TRUNCATED;
	}
	if (len > ENV_BUF)
		len = ENV_BUF;
	if (len == 0)
		return 0;
	if (bpf_probe_read_user(s->env, len, (void *)env_start))
		return PUT_UNREAD;
	scan.len = len;
	bpf_loop(ENV_MAX_VARS, env_step, &scan, 0);
	return ((scan.off - scan.start) & PUT_SIZE_MASK) | scan.flags;
}

/* take accounts for a section a put_* function wrote. */
static __always_inline __u16 take(struct exec_event *ev, __u32 *off, __u32 ret, __u32 trunc_flag)
{
	__u32 n = ret & PUT_SIZE_MASK;

	if (ret & PUT_TRUNCATED)
		ev->flags |= trunc_flag;
	*off += n;
	return n;
}

/* file_facts records what the executed file is. */
static __always_inline void file_facts(struct exec_event *ev, struct file *file)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	struct super_block *sb = BPF_CORE_READ(inode, i_sb);
	unsigned long magic = BPF_CORE_READ(sb, s_magic);
	char name[8] = {};

	ev->file_mode = BPF_CORE_READ(inode, i_mode);
	ev->file_uid = BPF_CORE_READ(inode, i_uid.val);
	ev->file_gid = BPF_CORE_READ(inode, i_gid.val);
	ev->file_nlink = BPF_CORE_READ(inode, __i_nlink);
	ev->file_ino = BPF_CORE_READ(inode, i_ino);
	ev->file_dev = BPF_CORE_READ(sb, s_dev);

	if (magic == TMPFS_MAGIC || magic == HUGETLBFS_MAGIC) {
		bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(file, f_path.dentry, d_name.name));
		if (name[0] == 'm' && name[1] == 'e' && name[2] == 'm' && name[3] == 'f' && name[4] == 'd' && name[5] == ':')
			ev->flags |= EXEC_FILE_MEMFD;
	}
	if (magic == OVERLAYFS_SUPER_MAGIC) {
		struct ovl_inode *oi = container_of(inode, struct ovl_inode, vfs_inode);

		ev->flags |= EXEC_FILE_OVERLAY;
		if (BPF_CORE_READ(oi, __upperdentry))
			ev->flags |= EXEC_FILE_OVERLAY_UPPER;
	}
}

/* task_context records the task's credentials and where it runs. */
static __always_inline void task_context(struct exec_event *ev, struct task_struct *task)
{
	const struct cred *cred = BPF_CORE_READ(task, cred);
	struct pid *pid = BPF_CORE_READ(task, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct upid upid = {};

	ev->uid = BPF_CORE_READ(cred, uid.val);
	ev->gid = BPF_CORE_READ(cred, gid.val);
	ev->euid = BPF_CORE_READ(cred, euid.val);
	ev->egid = BPF_CORE_READ(cred, egid.val);
	ev->cap_effective = BPF_CORE_READ(cred, cap_effective.val);
	ev->loginuid = (__u32)-1;
	if (bpf_core_field_exists(task->loginuid))
		ev->loginuid = BPF_CORE_READ(task, loginuid.val);

	bpf_probe_read_kernel(&upid, sizeof(upid), &pid->numbers[level]);
	ev->vpid = upid.nr;
	ev->pidns = BPF_CORE_READ(upid.ns, ns.inum);
	ev->mntns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	ev->cgroup_id = bpf_get_current_cgroup_id();

	struct tty_struct *tty = BPF_CORE_READ(task, signal, tty);
	ev->tty[0] = 0;
	if (tty)
		bpf_probe_read_kernel_str(ev->tty, sizeof(ev->tty), tty->name);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct exec_scratch *s;
	struct exec_event *ev;
	struct mm_struct *mm;
	const char *filename, *interp;
	unsigned long arg_start;
	__u64 len;
	__u32 off = 0, ret;
	__u64 exe, cwd;

	if (!is_tracked(BPF_CORE_READ(task, tgid)))
		return 0;
	s = bpf_map_lookup_elem(&exec_heap, &cpu);
	if (!s)
		return 0;
	/* A task preempted while holding this CPU's buffer: do not clobber it. */
	if (s->busy) {
		count_drop(DROP_SCRATCH_BUSY);
		return 0;
	}
	s->busy = 1;
	ev = &s->ev;

	fill_header(&ev->hdr, EVENT_EXEC, task);
	ev->pid = old_pid;
	ev->argc = BPF_CORE_READ(bprm, argc);
	ev->flags = 0;
	if (BPF_CORE_READ(bprm, per_clear))
		ev->flags |= EXEC_SETID;
	if (BPF_CORE_READ_BITFIELD_PROBED(bprm, secureexec))
		ev->flags |= EXEC_SECUREEXEC;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	task_context(ev, task);
	file_facts(ev, BPF_CORE_READ(bprm, file));

	filename = BPF_CORE_READ(bprm, filename);
	interp = BPF_CORE_READ(bprm, interp);
	ev->filename_size = append_str(s, &off, filename, STRING_MAX, &ev->flags, EXEC_FILENAME_TRUNCATED);
	ev->interp_size = 0;
	if (interp != filename) {
		ev->flags |= EXEC_INTERP;
		ev->interp_size = append_str(s, &off, interp, STRING_MAX, &ev->flags, EXEC_FILENAME_TRUNCATED);
	}
	/* Global functions take kernel addresses as plain numbers. */
	exe = (__u64)BPF_CORE_READ(bprm, file) + bpf_core_field_offset(struct file, f_path);
	cwd = (__u64)BPF_CORE_READ(task, fs) + bpf_core_field_offset(struct fs_struct, pwd);
	ev->exe_size = take(ev, &off, put_path(s, off, exe), EXEC_EXE_TRUNCATED);
	ev->cwd_size = take(ev, &off, put_path(s, off, cwd), EXEC_CWD_TRUNCATED);
	ev->cgroup_size = take(ev, &off, put_cgroup(s, off, (__u64)BPF_CORE_READ(task_cgroup(task), kn)), EXEC_CGROUP_TRUNCATED);

	mm = BPF_CORE_READ(task, mm);
	ret = put_env(s, off, (__u64)mm);
	if (ret & PUT_UNREAD)
		ev->flags |= EXEC_ENV_UNREAD;
	ev->env_size = take(ev, &off, ret, EXEC_ENV_TRUNCATED);

	/* argv is one block of NUL-separated strings in the new image's memory. */
	arg_start = BPF_CORE_READ(mm, arg_start);
	len = BPF_CORE_READ(mm, arg_end) - arg_start;
	if (len > args_max) {
		len = args_max;
		ev->flags |= EXEC_ARGS_TRUNCATED;
	}
	if (len > ARGS_BUF)
		len = ARGS_BUF;
	if (len && bpf_probe_read_user(&s->data[off & DATA_MASK], len, (void *)arg_start))
		len = 0;
	ev->args_size = len;
	off += len;

	/* The header and the sections are contiguous in the scratch buffer. */
	output(ev, sizeof(*ev) + (off & (DATA_BUF * 2 - 1)));
	s->busy = 0;
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

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
const volatile __u64 wakeup_ns = 0;     /* ... or once this long has passed since the last wake-up */
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
	/* The next free byte of data. Kept here, not in a register, so that the
	 * verifier treats it as any masked number instead of splitting its
	 * states on every length a section may have. */
	__u32 off;
	struct exec_event ev;
	char data[DATA_BUF * 2]; /* the sections, right after ev as in the record */
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
/* Reinterprets a kernel address as the given kernel type, for reading. */
extern void *bpf_rdonly_cast(const void *obj__ign, __u32 btf_id) __ksym;

/* The programs read kernel structures by direct loads through the BTF
 * pointers the tracepoints hand them; the verifier makes those loads safe,
 * and they cost a fraction of a bpf_probe_read_kernel call. */

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

/* When the reader was last woken, shared by all CPUs; a lost update only
 * costs one wake-up more or less. */
__u64 last_wakeup_ns = 0;

/* wakeup_flags wakes the reader only once enough is pending or enough time
 * has passed, so that an exec storm costs one wake-up per batch, not one
 * per exec, and a quiet machine still hears of its first exec at once. */
static __always_inline __u64 wakeup_flags(__u64 size, __u64 now)
{
	if (!wakeup_bytes)
		return 0;
	if (now - last_wakeup_ns >= wakeup_ns || bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) + size >= wakeup_bytes) {
		last_wakeup_ns = now;
		return BPF_RB_FORCE_WAKEUP;
	}
	return BPF_RB_NO_WAKEUP;
}

/* output sends a record; every record starts with its header. */
static __always_inline void output(void *data, __u64 size)
{
	__u64 now = ((struct event_header *)data)->time_ns;

	if (bpf_ringbuf_output(&events, data, size, wakeup_flags(size, now)))
		count_drop(DROP_RINGBUF_FULL);
}

static __always_inline void fill_header(struct event_header *hdr, __u8 kind, struct task_struct *task)
{
	hdr->kind = kind;
	hdr->tgid = task->tgid;
	hdr->ptgid = task->real_parent->tgid;
	hdr->time_ns = bpf_ktime_get_boot_ns();
}

/* put_str appends a kernel string of at most max bytes (NUL included) to
 * the record and returns the bytes written. */
static __always_inline __u32 put_str(struct exec_scratch *s, const void *str, __u32 max)
{
	__u32 off = s->off;
	long n = bpf_probe_read_kernel_str(&s->data[off & DATA_MASK], max, str);

	if (n < 0)
		return 0;
	s->off = off + n;
	return n;
}

/* section_size returns what was appended since start, within its cap, and
 * sets trunc_flag when the cap or the walk cut it short. */
static __always_inline __u16 section_size(struct exec_event *ev, __u32 start, __u32 end, bool cut, __u32 trunc_flag)
{
	if (cut)
		ev->flags |= trunc_flag;
	return (end - start) & 0xffff;
}

/* path_walk is the state of a walk up a path, one component per step. */
struct path_walk {
	struct exec_scratch *s;
	struct dentry *dentry;
	struct mount *mnt;
	__u32 start;
	bool done;
};

static __always_inline struct mount *real_mount(struct vfsmount *mnt)
{
	return bpf_rdonly_cast((void *)mnt - bpf_core_field_offset(struct mount, mnt), bpf_core_type_id_kernel(struct mount));
}

/* path_step takes one step up, as d_path does: to the parent directory,
 * or from the root of a mount to its mount point. A bpf_loop callback. */
static long path_step(__u32 index, struct path_walk *w)
{
	struct exec_scratch *s = w->s;
	struct dentry *dentry = w->dentry;
	struct mount *mnt = w->mnt;
	struct dentry *parent = dentry->d_parent;
	struct dentry *mnt_root = mnt->mnt.mnt_root;

	if (!s)
		return 1;
	/* A dentry of no directory (a memfd, a pipe): its name is all the path. */
	if (dentry == parent && dentry != mnt_root) {
		put_str(s, dentry->d_name.name, NAME_LEN);
		w->done = true;
		return 1;
	}
	if (dentry == mnt_root || dentry == parent) {
		struct mount *mnt_parent = mnt->mnt_parent;

		/* The root of the namespace's root mount: done. */
		if (mnt_parent == mnt) {
			w->done = true;
			return 1;
		}
		w->dentry = mnt->mnt_mountpoint;
		w->mnt = mnt_parent;
		return 0;
	}
	if (s->off - w->start > PATH_SECTION_MAX - NAME_LEN)
		return 1;
	if (put_str(s, dentry->d_name.name, NAME_LEN) == NAME_LEN)
		return 1;
	w->dentry = parent;
	return 0;
}

/* put_path appends the components of path, leaf first, up to the root of
 * the mount namespace, and returns the section's size. */
static __always_inline __u16 put_path(struct exec_scratch *s, struct exec_event *ev, const struct path *path, __u32 trunc_flag)
{
	struct path_walk w = {
		.s = s,
		.dentry = path->dentry,
		.mnt = real_mount(path->mnt),
		.start = s->off,
	};

	bpf_loop(MAX_PATH_DEPTH, path_step, &w, 0);
	return section_size(ev, w.start, s->off, !w.done, trunc_flag);
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
	struct css_set *cset = task->cgroups;
	struct cgroup *cgrp = cset->dfl_cgrp;
	int memory = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);

	if (kernfs_parent(cgrp->kn) || memory < 0 || memory >= (int)(sizeof(cset->subsys) / sizeof(cset->subsys[0])))
		return cgrp;
	return bpf_rdonly_cast(BPF_CORE_READ(cset, subsys[memory], cgroup), bpf_core_type_id_kernel(struct cgroup));
}

/* cgroup_walk is the state of a walk up a cgroup path. */
struct cgroup_walk {
	struct exec_scratch *s;
	struct kernfs_node *kn;
	__u32 start;
	bool done;
};

/* cgroup_step appends one component and moves to the parent cgroup; a
 * bpf_loop callback. */
static long cgroup_step(__u32 index, struct cgroup_walk *w)
{
	struct exec_scratch *s = w->s;
	struct kernfs_node *kn = w->kn; /* CO-RE reads must start from kernel types */
	struct kernfs_node *parent = kernfs_parent(kn);

	if (!s)
		return 1;
	if (!parent) {
		w->done = true;
		return 1;
	}
	if (s->off - w->start > CGROUP_SECTION_MAX - NAME_LEN)
		return 1;
	if (put_str(s, BPF_CORE_READ(kn, name), NAME_LEN) == NAME_LEN)
		return 1;
	w->kn = parent;
	return 0;
}

/* put_cgroup appends the components of the task's cgroup path, leaf first. */
static __always_inline __u16 put_cgroup(struct exec_scratch *s, struct exec_event *ev, struct task_struct *task)
{
	struct cgroup_walk w = {.s = s, .kn = task_cgroup(task)->kn, .start = s->off};

	bpf_loop(MAX_CGROUP_DEPTH, cgroup_step, &w, 0);
	return section_size(ev, w.start, s->off, !w.done, EXEC_CGROUP_TRUNCATED);
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
	__u32 start;
	bool cut;
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

	if (!s || pos >= scan->len)
		return 1;
	n = bpf_strnlen(&s->env[pos & ENV_MASK], scan->len - pos);
	if (n < 0)
		return 1;
	if (n > 0 && env_candidate(s, pos) && env_allowed(s, pos)) {
		if (s->off - scan->start > ENV_SECTION_MAX - ENV_VALUE_MAX) {
			scan->cut = true;
			return 1;
		}
		/* Never past what was read of this environment, even where the
		 * string was cut at env_max. */
		__u32 max = ENV_VALUE_MAX;

		if (n < ENV_VALUE_MAX)
			max = n + 1;
		else
			scan->cut = true;
		/* The verifier must see the bound on the register passed on. */
		barrier_var(max);
		put_str(s, &s->env[pos & ENV_MASK], max & (ENV_VALUE_MAX * 2 - 1));
	}
	scan->pos = pos + n + 1;
	return 0;
}

/* put_env appends the allow-listed NAME=value strings of the new
 * program's environment. Only those leave the kernel. */
static __always_inline __u16 put_env(struct exec_scratch *s, struct exec_event *ev, struct mm_struct *mm)
{
	unsigned long env_start = mm->env_start;
	__u64 len = mm->env_end - env_start;
	struct env_scan scan = {.s = s, .start = s->off};

	if (len > env_max) {
		len = env_max;
		scan.cut = true;
	}
	if (len > ENV_BUF)
		len = ENV_BUF;
	if (len == 0)
		return 0;
	if (bpf_probe_read_user(s->env, len, (void *)env_start)) {
		ev->flags |= EXEC_ENV_UNREAD;
		return 0;
	}
	scan.len = len;
	bpf_loop(ENV_MAX_VARS, env_step, &scan, 0);
	return section_size(ev, scan.start, s->off, scan.cut, EXEC_ENV_TRUNCATED);
}

/* file_facts records what the executed file is. */
static __always_inline void file_facts(struct exec_event *ev, struct file *file)
{
	struct inode *inode = file->f_inode;
	struct super_block *sb = inode->i_sb;
	unsigned long magic = sb->s_magic;
	char name[8] = {};

	ev->file_mode = inode->i_mode;
	ev->file_uid = inode->i_uid.val;
	ev->file_gid = inode->i_gid.val;
	ev->file_nlink = inode->__i_nlink;
	ev->file_ino = inode->i_ino;
	ev->file_dev = sb->s_dev;

	if (magic == TMPFS_MAGIC || magic == HUGETLBFS_MAGIC) {
		bpf_probe_read_kernel_str(name, sizeof(name), file->f_path.dentry->d_name.name);
		if (name[0] == 'm' && name[1] == 'e' && name[2] == 'm' && name[3] == 'f' && name[4] == 'd' && name[5] == ':')
			ev->flags |= EXEC_FILE_MEMFD;
	}
	if (magic == OVERLAYFS_SUPER_MAGIC) {
		struct ovl_inode *oi = bpf_rdonly_cast((void *)inode - bpf_core_field_offset(struct ovl_inode, vfs_inode),
						       bpf_core_type_id_kernel(struct ovl_inode));

		ev->flags |= EXEC_FILE_OVERLAY;
		if (oi->__upperdentry)
			ev->flags |= EXEC_FILE_OVERLAY_UPPER;
	}
}

/* task_context records the task's credentials and where it runs. */
static __always_inline void task_context(struct exec_event *ev, struct task_struct *task)
{
	const struct cred *cred = task->cred;
	struct pid *pid = task->thread_pid;
	struct upid upid = {};

	ev->uid = cred->uid.val;
	ev->gid = cred->gid.val;
	ev->euid = cred->euid.val;
	ev->egid = cred->egid.val;
	ev->cap_effective = cred->cap_effective.val;
	ev->loginuid = (__u32)-1;
	if (bpf_core_field_exists(task->loginuid))
		ev->loginuid = task->loginuid.val;

	bpf_probe_read_kernel(&upid, sizeof(upid), &pid->numbers[pid->level]);
	ev->vpid = upid.nr;
	ev->pidns = BPF_CORE_READ(upid.ns, ns.inum);
	ev->mntns = task->nsproxy->mnt_ns->ns.inum;
	ev->cgroup_id = bpf_get_current_cgroup_id();

	struct tty_struct *tty = task->signal->tty;
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
	__u32 start, n;
	__u64 len;

	if (!is_tracked(task->tgid))
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
	s->off = 0;
	ev = &s->ev;

	fill_header(&ev->hdr, EVENT_EXEC, task);
	ev->pid = old_pid;
	ev->argc = bprm->argc;
	ev->flags = 0;
	if (bprm->per_clear)
		ev->flags |= EXEC_SETID;
	if (BPF_CORE_READ_BITFIELD(bprm, secureexec))
		ev->flags |= EXEC_SECUREEXEC;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	task_context(ev, task);
	file_facts(ev, bprm->file);

	filename = bprm->filename;
	interp = bprm->interp;
	n = put_str(s, filename, STRING_MAX);
	ev->filename_size = section_size(ev, 0, n, n == STRING_MAX, EXEC_FILENAME_TRUNCATED);
	ev->interp_size = 0;
	if (interp != filename) {
		ev->flags |= EXEC_INTERP;
		n = put_str(s, interp, STRING_MAX);
		ev->interp_size = section_size(ev, 0, n, n == STRING_MAX, EXEC_FILENAME_TRUNCATED);
	}
	ev->exe_size = put_path(s, ev, &bprm->file->f_path, EXEC_EXE_TRUNCATED);
	ev->cwd_size = put_path(s, ev, &task->fs->pwd, EXEC_CWD_TRUNCATED);
	ev->cgroup_size = put_cgroup(s, ev, task);
	mm = task->mm;
	ev->env_size = put_env(s, ev, mm);

	/* argv is one block of NUL-separated strings in the new image's memory. */
	arg_start = mm->arg_start;
	len = mm->arg_end - arg_start;
	if (len > args_max) {
		len = args_max;
		ev->flags |= EXEC_ARGS_TRUNCATED;
	}
	if (len > ARGS_BUF)
		len = ARGS_BUF;
	start = s->off;
	if (len && bpf_probe_read_user(&s->data[start & DATA_MASK], len, (void *)arg_start))
		len = 0;
	ev->args_size = len;

	/* The header and the sections are contiguous in the scratch buffer. */
	output(ev, sizeof(*ev) + ((start + len) & (DATA_BUF * 2 - 1)));
	s->busy = 0;
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	struct fork_event ev = {};
	__u32 tgid = child->tgid;
	__u8 one = 1;

	/* A new thread is not a new process. */
	if (child->pid != tgid)
		return 0;

	if (follow_tracked) {
		__u32 ptgid = parent->tgid;

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
	__u32 tgid = task->tgid;

	/* Only the last thread to leave ends the process. */
	if (!group_dead || !is_tracked(tgid))
		return 0;

	fill_header(&ev.hdr, EVENT_EXIT, task);
	ev.exit_code = task->exit_code;
	output(&ev, sizeof(ev));

	if (follow_tracked)
		bpf_map_delete_elem(&tracked_tgids, &tgid);
	return 0;
}

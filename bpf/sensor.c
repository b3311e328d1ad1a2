//go:build ignore

// The exec sensor: programs on the scheduler's exec, fork and exit
// tracepoints, all writing to one ring buffer. Exec records carry the new
// program's identity, credentials, file facts, paths, context and argv;
// fork and exit records let user space keep its process table.
//
// The same facts are gathered on every kernel with BTF from 5.10 on. Where a
// kernel lacks a helper or kfunc, a variant that does without it is chosen
// at load by the Go side, from what the kernel's BTF says it has:
// - handle_exec walks paths, the cgroup and the environment with bpf_loop
//   (5.17); handle_exec_bounded does it with bounded loops, which older
//   verifiers accept. Exactly one of the two is loaded: an older kernel
//   refuses a program that so much as names bpf_loop's callback.
// - use_rdonly_cast (bpf_rdonly_cast, 6.2) lets the path walks read struct
//   mount by direct loads; without it they use probe reads, which cost more
//   but work anywhere.
// - handle_exec_bounded hands the environment's scan to handle_exec_env by
//   tail calls, a chunk per call.
// - use_strnlen (bpf_strnlen, 6.17) measures environment strings in place;
//   without it a bounded string copy measures them.
// - handle_exit takes group_dead from the tracepoint (6.16); handle_exit_live
//   reads it from the thread group's live count on kernels before that.

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
#define ENV_MAX_CANDIDATES 256 /* strings whose prefix is allow-listed, per exec: a Buildkite job has ~100 BUILDKITE_* */
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
/* Kfuncs the kernel offers, probed by Go; each off selects its fallback. */
const volatile __u8 use_rdonly_cast = 0;
const volatile __u8 use_strnlen = 0;

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

/* The allow-listed environment variable names, as "NAME=" zero-padded to
 * ENV_KEY_SIZE bytes. */
#define ENV_KEY_SIZE 64
#define ENV_KEY_WORDS (ENV_KEY_SIZE / 8)
struct env_key {
	__u64 w[ENV_KEY_WORDS];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct env_key);
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
	char env[ENV_BUF + ENV_KEY_SIZE]; /* the raw environment block, never sent; env_key reads a key past any string */
	/* The environment strings whose prefix is allow-listed: where each
	 * starts in env and how long it is. */
	struct {
		__u32 pos;
		__u32 len;
	} cand[ENV_MAX_CANDIDATES];
	__u32 ncand;
	/* The state of the environment's scan. */
	__u32 env_pos;   /* start of the next string in env */
	__u32 env_len;   /* bytes of the environment read */
	__u32 env_start; /* where the environment's section starts in data */
	__u32 env_seen;  /* strings looked at */
	__u32 env_taken; /* candidates looked at */
	__u32 env_stage; /* enum env_stage, for the tail-called variant */
};

enum env_stage {
	ENV_SCAN = 0, /* finding the strings and the candidates among them */
	ENV_TAKE = 1, /* appending the candidates that are allow-listed */
	ENV_DONE = 2,
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
 * any kernel address. Weak: where the kernel lacks it, the loader turns its
 * calls into ones the verifier never reaches, as use_strnlen is off. */
extern int bpf_strnlen(const char *s__ign, size_t count) __ksym __weak;
/* Reinterprets a kernel address as the given kernel type, for reading
 * (Linux 6.2 and later). */
extern void *bpf_rdonly_cast(const void *obj__ign, __u32 btf_id) __ksym __weak;

/* The programs read kernel structures by direct loads through the BTF
 * pointers the tracepoints hand them; the verifier makes those loads safe,
 * and they cost a fraction of a bpf_probe_read_kernel call. A pointer found
 * by arithmetic (a struct mount from its vfsmount) is such a pointer only
 * through bpf_rdonly_cast; without it, it and everything reached from it is
 * read with probe reads. KREAD reads one field either way. */
#define KREAD(ptr, field) (use_rdonly_cast ? (ptr)->field : BPF_CORE_READ(ptr, field))

/* repeat calls step(index, ctx) for index 0..n-1 until it returns non-zero:
 * in bpf_loop's callback when loop is set, in a bounded loop otherwise.
 * loop is a constant of each program variant, so the other branch is not
 * compiled into it. */
#define repeat(loop, n, step, ctx)                                 \
	do {                                                        \
		if (loop) {                                         \
			bpf_loop(n, step, ctx, 0);                   \
		} else {                                            \
			for (__u32 __i = 0; __i < (n); __i++)        \
				if (step(__i, ctx))                  \
					break;                      \
		}                                                   \
	} while (0)

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

/* real_mount returns the struct mount that holds mnt: a BTF pointer with
 * bpf_rdonly_cast, an address to probe-read from without. */
static __always_inline struct mount *real_mount(struct vfsmount *mnt)
{
	void *m = (void *)mnt - bpf_core_field_offset(struct mount, mnt);

	if (use_rdonly_cast)
		return bpf_rdonly_cast(m, bpf_core_type_id_kernel(struct mount));
	return m;
}

/* path_step takes one step up, as d_path does: to the parent directory,
 * or from the root of a mount to its mount point. A bpf_loop callback. */
static long path_step(__u32 index, struct path_walk *w)
{
	struct exec_scratch *s = w->s;
	struct dentry *dentry = w->dentry;
	struct mount *mnt = w->mnt;
	struct dentry *parent = KREAD(dentry, d_parent);
	struct dentry *mnt_root = KREAD(mnt, mnt.mnt_root);

	if (!s)
		return 1;
	/* A dentry of no directory (a memfd, a pipe): its name is all the path. */
	if (dentry == parent && dentry != mnt_root) {
		put_str(s, KREAD(dentry, d_name.name), NAME_LEN);
		w->done = true;
		return 1;
	}
	if (dentry == mnt_root || dentry == parent) {
		struct mount *mnt_parent = KREAD(mnt, mnt_parent);

		/* The root of the namespace's root mount: done. */
		if (mnt_parent == mnt) {
			w->done = true;
			return 1;
		}
		w->dentry = KREAD(mnt, mnt_mountpoint);
		w->mnt = mnt_parent;
		return 0;
	}
	if (s->off - w->start > PATH_SECTION_MAX - NAME_LEN)
		return 1;
	if (put_str(s, KREAD(dentry, d_name.name), NAME_LEN) == NAME_LEN)
		return 1;
	w->dentry = parent;
	return 0;
}

/* put_path appends the components of path, leaf first, up to the root of
 * the mount namespace, and returns the section's size. */
static __always_inline __u16 put_path(struct exec_scratch *s, struct exec_event *ev, const struct path *path, __u32 trunc_flag,
					const bool loop)
{
	struct path_walk w = {
		.s = s,
		.dentry = path->dentry,
		.mnt = real_mount(path->mnt),
		.start = s->off,
	};

	repeat(loop, MAX_PATH_DEPTH, path_step, &w);
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

/* task_cgroup_node returns the kernfs node of the task's cgroup in the v2
 * hierarchy, or, when that is the root (a v1 or hybrid machine), of its
 * cgroup in the v1 memory controller, where container runtimes place it. */
static __always_inline struct kernfs_node *task_cgroup_node(struct task_struct *task)
{
	struct css_set *cset = task->cgroups;
	struct cgroup *cgrp = cset->dfl_cgrp;
	int memory = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);

	if (kernfs_parent(cgrp->kn) || memory < 0 || memory >= (int)(sizeof(cset->subsys) / sizeof(cset->subsys[0])))
		return cgrp->kn;
	return BPF_CORE_READ(cset, subsys[memory], cgroup, kn);
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
static __always_inline __u16 put_cgroup(struct exec_scratch *s, struct exec_event *ev, struct task_struct *task,
					  const bool loop)
{
	struct cgroup_walk w = {.s = s, .kn = task_cgroup_node(task), .start = s->off};

	repeat(loop, MAX_CGROUP_DEPTH, cgroup_step, &w);
	return section_size(ev, w.start, s->off, !w.done, EXEC_CGROUP_TRUNCATED);
}

/* env_prefix_slot spreads the 8-byte name prefixes over the slots. */
static __always_inline __u32 env_prefix_slot(__u64 prefix)
{
	return (prefix * 0x9E3779B97F4A7C15ULL) >> 56; /* 8 bits: ENV_PREFIX_SLOTS */
}

/* The context of the environment's bpf_loop callbacks; the scan's state
 * is in the scratch buffer, where it outlives a tail call. */
struct env_scan {
	struct exec_scratch *s;
};

/* A cut environment is flagged in the record itself, not in the scan's
 * state: the verifier then sees one state per step of an unrolled scan,
 * not one for each way it may have been cut. */
static __always_inline void env_cut(struct exec_scratch *s)
{
	s->ev.flags |= EXEC_ENV_TRUNCATED;
}

/* stop_bytes sets the high bit of each byte of w that is '=' or NUL; the
 * lowest one set is exact, which is all env_key uses. */
static __always_inline __u64 stop_bytes(__u64 w)
{
	const __u64 ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	__u64 eq = w ^ (ones * '=');

	return ((w - ones) & ~w & highs) | ((eq - ones) & ~eq & highs);
}

/* env_word returns word i of the key of the string at pos (see env_key);
 * alive carries from one word to the next whether the name goes on. */
static __always_inline __u64 env_word(struct exec_scratch *s, __u32 pos, int i, __u64 *alive)
{
	/* One 8-byte load, at any alignment: the verifier allows it on the
	 * architectures vigil runs on. Written in assembly because clang
	 * builds an unaligned word from eight byte loads, and telling it the
	 * address is aligned would be a lie it may act on. */
	const char *at = &s->env[(pos & ENV_MASK) + 8 * i];
	__u64 w;

	asm volatile("%0 = *(u64 *)(%1 + 0)" : "=r"(w) : "r"(at));
	__u64 stop = stop_bytes(w);
	__u64 first = stop & -stop; /* the high bit of the first stop byte, or 0 */
	/* The bytes up to and including that one; all of them when there is
	 * none (and when it is the last, where the shift wraps to 0). */
	__u64 keep = ((first >> 7) << 8) - 1;
	__u64 word = w & keep & *alive;

	*alive &= ((stop | -stop) >> 63) - 1;
	return word;
}

/* env_key reads the name of the string at pos, with its '=', into key,
 * zero-padded: the form Go gives the allow-listed names in env_names.
 * A name of ENV_KEY_SIZE bytes or more fills the key without a '=' and so
 * matches none. It works a word at a time and without a branch, which
 * keeps an unrolled scan of hundreds of strings within what an old
 * verifier follows. */
static __always_inline void env_key(struct exec_scratch *s, __u32 pos, struct env_key *key)
{
	__u64 alive = ~0ULL; /* all ones until a word holds the end of the name */

	for (int i = 0; i < ENV_KEY_WORDS; i++)
		key->w[i] = env_word(s, pos, i, &alive);
}

/* env_candidate says whether a name may be allow-listed, from its first
 * word alone: whether the prefix table holds it in one of the slots it may
 * occupy. The product of the differences is zero when one of them is (and,
 * rarely, otherwise: a candidate is only looked up), which costs one
 * branch instead of one per slot. */
static __always_inline bool env_candidate(__u64 prefix)
{
	__u32 slot = env_prefix_slot(prefix);
	__u64 product = 1;

	for (int i = 0; i < ENV_PREFIX_PROBES; i++)
		product *= env_prefixes[(slot + i) & (ENV_PREFIX_SLOTS - 1)] ^ prefix;
	return product == 0;
}

/* env_strlen returns the length of the environment string at pos: with
 * bpf_strnlen where the kernel has it, else by copying it to the free part
 * of the record's data: the copy stops at the string's NUL or at the end of
 * what was read, and says how far it went. */
static __always_inline long env_strlen(struct exec_scratch *s, __u32 pos, __u32 len)
{
	__u32 room = (len - pos + 1) & (ENV_BUF * 2 - 1);
	long n;

	if (use_strnlen)
		return bpf_strnlen(&s->env[pos & ENV_MASK], len - pos);
	if (room > ENV_BUF)
		room = ENV_BUF;
	n = bpf_probe_read_kernel_str(&s->data[s->off & DATA_MASK], room, &s->env[pos & ENV_MASK]);
	return n < 0 ? n : n - 1;
}

/* env_step finds where one environment string ends and, when its prefix
 * is allow-listed, notes it as a candidate; a bpf_loop callback. The scan
 * of every string is kept this small so that an unrolled scan of
 * ENV_MAX_VARS of them stays within what an old verifier follows; the
 * costlier look at each candidate comes after, in env_take. */
static long env_step(__u32 index, struct env_scan *scan)
{
	struct exec_scratch *s = scan->s;
	__u64 alive = ~0ULL;
	__u32 pos;
	long n;

	if (!s)
		return 1;
	pos = s->env_pos;
	/* At most ENV_MAX_VARS strings in either variant; env_end flags the
	 * rest as unread. */
	if (pos >= s->env_len || s->env_seen >= ENV_MAX_VARS)
		return 1;
	s->env_seen++;
	n = env_strlen(s, pos, s->env_len);
	if (n < 0)
		return 1;
	if (n > 0 && env_candidate(env_word(s, pos, 0, &alive))) {
		__u32 k = s->ncand;

		if (k >= ENV_MAX_CANDIDATES) {
			env_cut(s);
			return 1;
		}
		s->cand[k].pos = pos;
		s->cand[k].len = n;
		s->ncand = k + 1;
	}
	s->env_pos = pos + n + 1;
	return 0;
}

/* env_take appends candidate index when its full name is allow-listed; a
 * bpf_loop callback. */
static long env_take(__u32 index, struct env_scan *scan)
{
	struct exec_scratch *s = scan->s;
	struct env_key key;
	__u32 pos, n, max;

	if (!s || index >= s->ncand)
		return 1;
	pos = s->cand[index & (ENV_MAX_CANDIDATES - 1)].pos;
	n = s->cand[index & (ENV_MAX_CANDIDATES - 1)].len;
	env_key(s, pos, &key);
	if (!bpf_map_lookup_elem(&env_names, &key))
		return 0;
	if (s->off - s->env_start > ENV_SECTION_MAX - ENV_VALUE_MAX) {
		env_cut(s);
		return 1;
	}
	/* Never past what was read of this environment, even where the string
	 * was cut at env_max. */
	max = ENV_VALUE_MAX;
	if (n < ENV_VALUE_MAX)
		max = n + 1;
	else
		env_cut(s);
	/* The verifier must see the bound on the register passed on. */
	barrier_var(max);
	put_str(s, &s->env[pos & ENV_MASK], max & (ENV_VALUE_MAX * 2 - 1));
	return 0;
}

/* env_read reads the new program's environment block for the scan and
 * says whether there is anything to scan. Only the allow-listed NAME=value
 * strings found in it leave the kernel. */
static __always_inline bool env_read(struct exec_scratch *s, struct exec_event *ev, struct mm_struct *mm)
{
	unsigned long env_start = mm->env_start;
	__u64 len = mm->env_end - env_start;

	s->env_start = s->off;
	s->env_pos = 0;
	s->env_len = 0;
	s->env_seen = 0;
	s->env_taken = 0;
	s->ncand = 0;
	s->env_stage = ENV_SCAN;
	if (len > env_max) {
		len = env_max;
		env_cut(s);
	}
	if (len > ENV_BUF)
		len = ENV_BUF;
	if (len == 0)
		return false;
	if (bpf_probe_read_user(s->env, len, (void *)env_start)) {
		ev->flags |= EXEC_ENV_UNREAD;
		return false;
	}
	s->env_len = len;
	return true;
}

/* env_end closes the environment's section. */
static __always_inline void env_end(struct exec_scratch *s, struct exec_event *ev)
{
	/* More strings than the scan could look at: the rest went unread. */
	if (s->env_pos < s->env_len)
		env_cut(s);
	ev->env_size = section_size(ev, s->env_start, s->off, false, 0);
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
		ev->flags |= EXEC_FILE_OVERLAY;
		/* The overlay module's types are known only if it was loaded
		 * when vigil was; without them, which layer is unknown. */
		if (!bpf_core_type_exists(struct ovl_inode)) {
			ev->flags |= EXEC_FILE_OVERLAY_LAYER_UNKNOWN;
			return;
		}
		/* A probe read, not bpf_rdonly_cast: the type is usually the
		 * module's, and the cast takes only types of vmlinux. */
		struct ovl_inode *oi = (void *)inode - bpf_core_field_offset(struct ovl_inode, vfs_inode);

		if (BPF_CORE_READ(oi, __upperdentry))
			ev->flags |= EXEC_FILE_OVERLAY_UPPER;
	}
}

/* kernel_cap_t was two 32-bit words before Linux 6.3. */
struct kernel_cap_struct___old {
	__u32 cap[2];
} __attribute__((preserve_access_index));

struct cred___old {
	struct kernel_cap_struct___old cap_effective;
} __attribute__((preserve_access_index));

/* cap_effective returns the effective capabilities as one 64-bit set. */
static __always_inline __u64 cap_effective(const struct cred *cred)
{
	if (bpf_core_field_exists(cred->cap_effective.val))
		return cred->cap_effective.val;
	const struct cred___old *old = (const void *)cred;

	return old->cap_effective.cap[0] | (__u64)old->cap_effective.cap[1] << 32;
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
	ev->cap_effective = cap_effective(cred);
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

/* exec_begin takes this CPU's scratch buffer and fills the record up to
 * the environment, which it reads for the scan; NULL when the exec is not
 * reported. loop picks bpf_loop or bounded loops for the walks. */
static __always_inline struct exec_scratch *exec_begin(struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm,
						       const bool loop)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct exec_scratch *s;
	struct exec_event *ev;
	const char *filename, *interp;
	__u32 n;

	if (!is_tracked(task->tgid))
		return NULL;
	s = bpf_map_lookup_elem(&exec_heap, &cpu);
	if (!s)
		return NULL;
	/* A task preempted while holding this CPU's buffer: do not clobber it. */
	if (s->busy) {
		count_drop(DROP_SCRATCH_BUSY);
		return NULL;
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
	ev->exe_size = put_path(s, ev, &bprm->file->f_path, EXEC_EXE_TRUNCATED, loop);
	ev->cwd_size = put_path(s, ev, &task->fs->pwd, EXEC_CWD_TRUNCATED, loop);
	ev->cgroup_size = put_cgroup(s, ev, task, loop);
	if (!env_read(s, ev, task->mm))
		s->env_stage = ENV_DONE;
	return s;
}

/* exec_finish appends argv, sends the record and frees the buffer. */
static __always_inline void exec_finish(struct exec_scratch *s, struct task_struct *task)
{
	struct exec_event *ev = &s->ev;
	struct mm_struct *mm = task->mm;
	unsigned long arg_start;
	__u32 start;
	__u64 len;

	env_end(s, ev);
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
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct exec_scratch *s = exec_begin(task, old_pid, bprm, true);
	struct env_scan scan = {.s = s};

	if (!s)
		return 0;
	if (s->env_stage != ENV_DONE) {
		bpf_loop(ENV_MAX_VARS, env_step, &scan, 0);
		bpf_loop(ENV_MAX_CANDIDATES, env_take, &scan, 0);
	}
	exec_finish(s, task);
	return 0;
}

/* Where bpf_loop is missing, the environment is scanned a chunk at a time
 * by handle_exec_env, which tail-calls itself until the scan is done and
 * then sends the record: a verifier that unrolls every loop could not
 * follow a scan of ENV_MAX_VARS strings in one program. exec_tail holds
 * handle_exec_env, put there by Go. */
#define ENV_SCAN_CHUNK 32
#define ENV_TAKE_CHUNK 32

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} exec_tail SEC(".maps");

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec_bounded, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct exec_scratch *s = exec_begin(task, old_pid, bprm, false);

	if (!s)
		return 0;
	if (s->env_stage != ENV_DONE) {
		bpf_tail_call(ctx, &exec_tail, 0);
		/* Only reached when the tail call failed: the record goes out
		 * without its environment, and says so. */
		s->ev.flags |= EXEC_ENV_UNREAD;
	}
	exec_finish(s, task);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec_env, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct exec_scratch *s = bpf_map_lookup_elem(&exec_heap, &cpu);
	struct env_scan scan = {.s = s};

	/* Only ever tail-called by handle_exec_bounded, which holds s. */
	if (!s || !s->busy)
		return 0;
	if (s->env_stage == ENV_SCAN) {
		for (__u32 i = 0; i < ENV_SCAN_CHUNK; i++) {
			if (env_step(i, &scan)) {
				s->env_stage = ENV_TAKE;
				break;
			}
		}
	} else if (s->env_stage == ENV_TAKE) {
		for (__u32 i = 0; i < ENV_TAKE_CHUNK; i++) {
			if (env_take(s->env_taken, &scan)) {
				s->env_stage = ENV_DONE;
				break;
			}
			s->env_taken++;
		}
	}
	if (s->env_stage != ENV_DONE) {
		bpf_tail_call(ctx, &exec_tail, 0);
		/* Out of tail calls (32 per exec on the kernels that run this
		 * variant; a scan takes at most 1 + 16 + 8): what is left goes
		 * unread, and the record says so. */
		env_cut(s);
	}
	exec_finish(s, task);
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

/* on_exit reports the end of a process when its last thread leaves. */
static __always_inline int on_exit(struct task_struct *task, bool group_dead)
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

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *task, bool group_dead)
{
	return on_exit(task, group_dead);
}

/* Before Linux 6.16 the tracepoint has no group_dead. The exiting thread
 * has already taken itself off the group's live count when it fires, so a
 * count of zero means it is the last. Two threads leaving at once can both
 * see zero; user space takes the second exit of a process as a no-op. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit_live, struct task_struct *task)
{
	return on_exit(task, task->signal->live.counter == 0);
}

/* The records the sensor writes to the ring buffer. The Go side gets its
 * types from these definitions through bpf2go -type, so this file is the one
 * place the layout is written down. */
#pragma once

/* Bounds of what one exec record carries. Each variable-length section has
 * its own cap, so that the total fits the scratch buffer:
 * 1024 + 1024 + 4096 + 4096 + 1024 + 4096 + 32768 < DATA_BUF. */
#define ARGS_BUF 32768       /* the largest argv a record can hold; args_max is the bound in force */
#define STRING_MAX 1024      /* filename and interpreter */
#define PATH_SECTION_MAX 4096 /* a resolved path, as components */
#define CGROUP_SECTION_MAX 1024
#define ENV_SECTION_MAX 4096 /* the allow-listed environment variables */
#define ENV_VALUE_MAX 512    /* one NAME=value entry */
#define NAME_LEN 256         /* one path component, NUL included */
#define MAX_PATH_DEPTH 48    /* components walked per path */
#define MAX_CGROUP_DEPTH 16
#define COMM_LEN 16
#define TTY_LEN 16

enum event_kind {
	EVENT_EXEC = 1,
	EVENT_FORK = 2,
	EVENT_EXIT = 3,
};

/* Why an event did not reach user space; indexes of drop_counters. */
enum drop_reason {
	DROP_RINGBUF_FULL = 0, /* the ring buffer had no room: the reader is behind */
	DROP_TRACK_FULL = 1,   /* tracked_tgids was full: a descendant of the followed command got lost */
	DROP_SCRATCH_BUSY = 2, /* another exec on this CPU held the scratch buffer */
	DROP_REASONS = 3,
};

/* Exec record flags. */
enum exec_flag {
	EXEC_ARGS_TRUNCATED = 1 << 0,     /* argv was longer than args_max */
	EXEC_FILENAME_TRUNCATED = 1 << 1,
	EXEC_EXE_TRUNCATED = 1 << 2,      /* the resolved path lost its top components */
	EXEC_CWD_TRUNCATED = 1 << 3,
	EXEC_CGROUP_TRUNCATED = 1 << 4,
	EXEC_ENV_TRUNCATED = 1 << 5,      /* an allow-listed variable was cut or left out */
	EXEC_SETID = 1 << 6,              /* the exec changed credentials: setuid/setgid bit or file capabilities */
	EXEC_SECUREEXEC = 1 << 7,         /* the kernel ran the program in secure mode (AT_SECURE) */
	EXEC_FILE_MEMFD = 1 << 8,         /* the program is a memfd: it exists only in memory */
	EXEC_FILE_OVERLAY = 1 << 9,       /* the program is on an overlay filesystem */
	EXEC_FILE_OVERLAY_UPPER = 1 << 10,/* ... and in its upper, writable layer */
	EXEC_INTERP = 1 << 11,            /* the file executed was a script run by an interpreter */
	EXEC_ENV_UNREAD = 1 << 12,        /* the environment could not be read */
	EXEC_FILE_OVERLAY_LAYER_UNKNOWN = 1 << 13, /* on an overlay, but the kernel did not say which layer */
};

struct event_header {
	__u8 kind;    /* enum event_kind */
	__u8 pad[3];
	__u32 tgid;   /* process id (thread group id) */
	__u32 ptgid;  /* the parent's process id */
	__u32 pad2;
	__u64 time_ns; /* CLOCK_BOOTTIME at the event */
};

/* exec_event is followed in the record by its sections, in this order and
 * of the sizes given: filename, interp (NUL-terminated strings), exe and
 * cwd (path components, leaf first, each NUL-terminated), cgroup (likewise),
 * env (NAME=value strings, NUL-terminated), args (argv as the program got
 * it: NUL-separated). */
struct exec_event {
	struct event_header hdr;
	__u32 pid;        /* the thread that called execve; the tgid after de_thread */
	__u32 vpid;       /* the process id in its own pid namespace */
	__u32 uid;
	__u32 gid;
	__u32 euid;
	__u32 egid;
	__u32 loginuid;   /* audit login uid; 4294967295 when unset */
	__u32 argc;       /* the real argument count, even when argv is truncated */
	__u32 flags;      /* enum exec_flag */
	__u32 pidns;      /* inode of the pid namespace */
	__u32 mntns;      /* inode of the mount namespace */
	__u32 file_mode;  /* of the file executed (for a script: its interpreter) */
	__u32 file_uid;
	__u32 file_gid;
	__u32 file_nlink; /* 0 when deleted, or for a memfd */
	__u32 file_dev;   /* kernel encoding: major << 20 | minor */
	__u64 file_ino;
	__u64 cap_effective;
	__u64 cgroup_id;  /* of the cgroup v2 hierarchy */
	__u16 filename_size;
	__u16 interp_size;
	__u16 exe_size;
	__u16 cwd_size;
	__u16 cgroup_size;
	__u16 env_size;
	__u32 args_size;
	char comm[COMM_LEN];
	char tty[TTY_LEN]; /* controlling terminal, empty when none */
};

struct fork_event {
	struct event_header hdr;
};

struct exit_event {
	struct event_header hdr;
	__u32 exit_code; /* wait status: (code << 8) | terminating signal */
	__u32 pad;
};

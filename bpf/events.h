/* The records the sensor writes to the ring buffer. The Go side gets its
 * types from these definitions through bpf2go -type, so this file is the one
 * place the layout is written down. */
#pragma once

/* Bounds of what one exec record carries. ARGS_BUF is the largest argv block
 * a record can hold (the raisable upper bound); args_max in sensor.c is the
 * bound in force, set from Go before load. */
#define ARGS_BUF 32768
#define FILENAME_LEN 512
#define COMM_LEN 16

enum event_kind {
	EVENT_EXEC = 1,
	EVENT_FORK = 2,
	EVENT_EXIT = 3,
};

/* Why an event did not reach user space; indexes of drop_counters. */
enum drop_reason {
	DROP_RINGBUF_FULL = 0, /* bpf_ringbuf_output failed: the reader is behind */
	DROP_TRACK_FULL = 1,   /* tracked_tgids was full: a descendant of the followed command got lost */
	DROP_REASONS = 2,
};

/* Exec record flags. */
enum exec_flag {
	EXEC_ARGS_TRUNCATED = 1 << 0,  /* argv was longer than args_max */
	EXEC_FILENAME_TRUNCATED = 1 << 1,
};

struct event_header {
	__u8 kind;    /* enum event_kind */
	__u8 pad[3];
	__u32 tgid;   /* process id (thread group id) */
	__u32 ptgid;  /* the parent's process id */
	__u32 pad2;
	__u64 time_ns; /* CLOCK_BOOTTIME at the event */
};

/* exec_event is followed in the record by args_size bytes of argv, the
 * NUL-separated strings the new program received. */
struct exec_event {
	struct event_header hdr;
	__u32 pid;   /* id of the thread that called execve (tgid after de_thread) */
	__u32 uid;
	__u32 gid;
	__u32 argc;  /* the real argument count, even when argv is truncated */
	__u32 args_size;
	__u32 flags; /* enum exec_flag */
	char comm[COMM_LEN];
	char filename[FILENAME_LEN]; /* the path as given to execve */
};

struct fork_event {
	struct event_header hdr;
};

struct exit_event {
	struct event_header hdr;
	__u32 exit_code; /* wait status: (code << 8) | terminating signal */
	__u32 pad;
};

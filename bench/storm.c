/*
 * storm: start /bin/true over and over, as fast as the machine allows, to
 * measure what an exec tracer costs the processes it watches.
 *
 *   storm [-j JOBS] [-d SECONDS | -n COUNT] [-p PROGRAM]
 *
 * JOBS worker processes (default: one per online core) each run a loop of
 * posix_spawn + waitpid. The loop stops after SECONDS of wall time (default
 * 5) or, with -n, once COUNT execs have been made in total (shared out
 * between the workers). glibc's posix_spawn clones with CLONE_VM|CLONE_VFORK,
 * so it costs no page-table copy and is as fast as vfork while being safe to
 * call from C.
 *
 * At the end one line goes to stdout, for scripts to parse:
 *
 *   execs=N seconds=S rate=R jobs=J
 *
 * N counts only the execs that succeeded and whose child exited 0; S is the
 * wall time from the first spawn to the last worker's end; R is N/S. Any
 * failure (spawn error, child killed or exiting non-zero) stops the program
 * with a message on stderr and exit status 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *program = "/bin/true";

static void usage(void)
{
	fprintf(stderr,
		"usage: storm [-j JOBS] [-d SECONDS | -n COUNT] [-p PROGRAM]\n"
		"  -j JOBS     parallel spawn loops (default: online cores)\n"
		"  -d SECONDS  run for this long (default 5; decimals allowed)\n"
		"  -n COUNT    run until COUNT execs in total instead\n"
		"  -p PROGRAM  program to exec, without arguments (default /bin/true)\n");
	exit(2);
}

static double now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
		perror("storm: clock_gettime");
		exit(1);
	}
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parse a positive integer option value, or die with usage. */
static long parse_count(const char *opt, const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v <= 0) {
		fprintf(stderr, "storm: %s wants a positive integer, not \"%s\"\n", opt, s);
		usage();
	}
	return v;
}

/*
 * One worker: spawn and reap PROGRAM until the deadline passes (deadline > 0)
 * or `quota` execs are done (quota > 0). Returns the number of execs made;
 * exits the process on any error.
 */
static uint64_t spawn_loop(double deadline, long quota)
{
	char *const argv[] = { (char *)program, NULL };
	uint64_t done = 0;

	for (;;) {
		if (quota > 0 && done >= (uint64_t)quota)
			break;
		if (deadline > 0 && now() >= deadline)
			break;

		pid_t pid;
		int err = posix_spawn(&pid, program, NULL, NULL, argv, environ);
		if (err != 0) {
			fprintf(stderr, "storm: posix_spawn %s: %s\n", program, strerror(err));
			exit(1);
		}

		int status;
		pid_t got;
		do
			got = waitpid(pid, &status, 0);
		while (got < 0 && errno == EINTR);
		if (got < 0) {
			perror("storm: waitpid");
			exit(1);
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "storm: %s ended with wait status %#x\n", program, status);
			exit(1);
		}
		done++;
	}
	return done;
}

int main(int argc, char **argv)
{
	long jobs = 0, count = 0;
	double seconds = 0;
	int opt;

	while ((opt = getopt(argc, argv, "j:d:n:p:h")) != -1) {
		switch (opt) {
		case 'j':
			jobs = parse_count("-j", optarg);
			break;
		case 'n':
			count = parse_count("-n", optarg);
			break;
		case 'd': {
			char *end;
			errno = 0;
			seconds = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' || !(seconds > 0)) {
				fprintf(stderr, "storm: -d wants a positive number of seconds, not \"%s\"\n", optarg);
				usage();
			}
			break;
		}
		case 'p':
			program = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (count > 0 && seconds > 0) {
		fprintf(stderr, "storm: -d and -n exclude each other\n");
		usage();
	}
	if (count == 0 && seconds == 0)
		seconds = 5;
	if (jobs == 0) {
		jobs = sysconf(_SC_NPROCESSORS_ONLN);
		if (jobs < 1) {
			perror("storm: sysconf(_SC_NPROCESSORS_ONLN)");
			return 1;
		}
	}
	if (count > 0 && jobs > count)
		jobs = count;

	/* Each worker writes its own slot; the parent reads them after waitpid. */
	uint64_t *made = mmap(NULL, (size_t)jobs * sizeof *made, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (made == MAP_FAILED) {
		perror("storm: mmap");
		return 1;
	}

	double start = now();
	double deadline = seconds > 0 ? start + seconds : 0;
	pid_t *workers = calloc((size_t)jobs, sizeof *workers);
	if (workers == NULL) {
		perror("storm: calloc");
		return 1;
	}

	for (long i = 0; i < jobs; i++) {
		/* Share the count out so the quotas add up to it exactly. */
		long quota = count > 0 ? count / jobs + (i < count % jobs) : 0;
		pid_t pid = fork();
		if (pid < 0) {
			perror("storm: fork");
			return 1; /* the workers already started end at their deadline or quota */
		}
		if (pid == 0) {
			made[i] = spawn_loop(deadline, quota);
			_exit(0);
		}
		workers[i] = pid;
	}

	int failed = 0;
	for (long i = 0; i < jobs; i++) {
		int status;
		pid_t got;
		do
			got = waitpid(workers[i], &status, 0);
		while (got < 0 && errno == EINTR);
		if (got < 0) {
			perror("storm: waitpid worker");
			return 1;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed = 1;
	}
	double elapsed = now() - start;
	if (failed) {
		fprintf(stderr, "storm: a worker failed\n");
		return 1;
	}

	uint64_t total = 0;
	for (long i = 0; i < jobs; i++)
		total += made[i];

	if (printf("execs=%" PRIu64 " seconds=%.3f rate=%.1f jobs=%ld\n",
		   total, elapsed, (double)total / elapsed, jobs) < 0 ||
	    fflush(stdout) != 0) {
		perror("storm: writing the result");
		return 1;
	}
	return 0;
}

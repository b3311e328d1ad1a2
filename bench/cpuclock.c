/*
 * cpuclock: print the CPU time other processes have used, in nanoseconds.
 *
 *   cpuclock PID...
 *
 * prints "PID NS" for each PID, one per line. NS is user + system time of the
 * whole process, every thread included, those that already ended too: the
 * clock clock_getcpuclockid(3) gives for another process, which is what
 * CLOCK_PROCESS_CPUTIME_ID is for the process itself. /proc/PID/stat has
 * the same sum, but in clock ticks (10 ms here), too coarse for a tracer
 * that spends a few milliseconds on a whole benchmark run; the per-thread
 * /proc/PID/task/TID/schedstat is precise but forgets threads that ended.
 *
 * Exit status 1 if any PID could not be read (gone, or no such process).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

int main(int argc, char **argv)
{
	int status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: cpuclock PID...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		char *end;
		errno = 0;
		long pid = strtol(argv[i], &end, 10);
		if (errno != 0 || end == argv[i] || *end != '\0' || pid <= 0) {
			fprintf(stderr, "cpuclock: not a process id: \"%s\"\n", argv[i]);
			status = 1;
			continue;
		}

		clockid_t clock;
		int err = clock_getcpuclockid((pid_t)pid, &clock);
		if (err != 0) {
			fprintf(stderr, "cpuclock: pid %ld: %s\n", pid, strerror(err));
			status = 1;
			continue;
		}
		struct timespec ts;
		if (clock_gettime(clock, &ts) != 0) {
			fprintf(stderr, "cpuclock: pid %ld: %s\n", pid, strerror(errno));
			status = 1;
			continue;
		}
		printf("%ld %lld\n", pid, (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	}
	if (fflush(stdout) != 0) {
		perror("cpuclock: stdout");
		return 1;
	}
	return status;
}

/*
 * timeit.c - runs a command several times and records its wall time and
 * peak memory (bench/run.sh's workload 4, compiler speed).
 *
 *     timeit REPS WORKLOAD CONFIG IMPL -- COMMAND [ARG...]
 *
 * Runs COMMAND REPS times with stdout and stderr sent to /dev/null and
 * prints, per run, the records (bench/bench.h)
 *     WORKLOAD CONFIG IMPL seconds    wall time from fork to exit
 *     WORKLOAD CONFIG IMPL maxrss_kb  the child's peak resident set
 * Exits 1, printing the failing command's status, if a run fails.
 */
#include "bench.h"

#include <fcntl.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "nnrt.h"

/* wait4 is BSD, not POSIX: declared here rather than enabling
 * _DEFAULT_SOURCE for the whole file. */
pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru);

int main(int argc, char **argv)
{
    if (argc < 7 || strcmp(argv[5], "--") != 0)
        usage("timeit REPS WORKLOAD CONFIG IMPL -- COMMAND [ARG...]");
    const int reps = atoi(argv[1]);
    char **cmd = argv + 6;
    for (int r = 0; r < reps; r++) {
        const double start = nnrt_now();
        const pid_t pid = fork();
        if (pid < 0) {
            perror("timeit: fork");
            return 1;
        }
        if (pid == 0) {
            const int null = open("/dev/null", O_WRONLY);
            if (null >= 0) {
                dup2(null, 1);
                dup2(null, 2);
            }
            execvp(cmd[0], cmd);
            _exit(127);
        }
        int status;
        struct rusage ru;
        if (wait4(pid, &status, 0, &ru) < 0) {
            perror("timeit: wait4");
            return 1;
        }
        const double seconds = nnrt_now() - start;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "timeit: %s failed (status %d)\n", cmd[0], status);
            return 1;
        }
        record(argv[2], argv[3], argv[4], "seconds", seconds);
        record(argv[2], argv[3], argv[4], "maxrss_kb", (double)ru.ru_maxrss);
    }
    return 0;
}

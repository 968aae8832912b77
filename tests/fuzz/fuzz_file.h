/*
 * fuzz_file.h — an in-memory file with a path, for fuzzing readers that
 * take a path (nnrt_read_csv, nnrt_read_idx).
 *
 * Each FuzzFile is a memfd created once per process and rewritten for every
 * input; its path is /proc/self/fd/N, so nothing touches the disk and runs
 * in parallel (-jobs) do not share files.
 */
#ifndef FUZZ_FILE_H
#define FUZZ_FILE_H

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct FuzzFile {
	int fd;                    /* -1 until first use */
	char path[64];
} FuzzFile;

/* Makes f's contents data[0 .. size) and returns its path. */
static const char *fuzz_file_set(FuzzFile *f, const void *data, size_t size)
{
	if (f->fd <= 0) {
		f->fd = memfd_create("fuzz", 0);
		if (f->fd < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(f->path, sizeof f->path, "/proc/self/fd/%d", f->fd);
	}
	if (ftruncate(f->fd, 0) != 0) {
		perror("ftruncate");
		abort();
	}
	const char *p = data;
	size_t done = 0;
	while (done < size) {
		ssize_t n = pwrite(f->fd, p + done, size - done, (off_t)done);
		if (n <= 0) {
			perror("pwrite");
			abort();
		}
		done += (size_t)n;
	}
	return f->path;
}

#endif /* FUZZ_FILE_H */

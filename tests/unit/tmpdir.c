/*
 * tmpdir.c — scratch directories for unit tests (see tmpdir.h).
 */
#define _XOPEN_SOURCE 700      /* nftw */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpdir.h"

char root[64];
char dir[96];

void root_setup(void)
{
	strcpy(root, "/tmp/nnc-test-XXXXXX");
	ck_assert(mkdtemp(root) != NULL);
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

void root_teardown(void)
{
	nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void dir_setup(void)
{
	snprintf(dir, sizeof dir, "%s/tXXXXXX", root);
	ck_assert(mkdtemp(dir) != NULL);
}

const char *path_of(const char *name)
{
	static char paths[8][160];
	static int next;
	char *p = paths[next++ % 8];
	snprintf(p, sizeof paths[0], "%s/%s", dir, name);
	return p;
}

/*
 * tmpdir.h — scratch directories for unit tests that write files.
 *
 * A suite's tcase uses tmp_root_setup/tmp_root_teardown as its unchecked
 * fixture (run in the parent process, so the tree is removed even when a
 * forked test fails) and tmp_dir_setup as its checked fixture, so every
 * test gets a fresh directory of its own under the root.
 */
#ifndef TMPDIR_H
#define TMPDIR_H

extern char root[64];          /* this suite's tree, /tmp/nnc-test-XXXXXX */
extern char dir[96];           /* this test's own directory under root */

void root_setup(void);
void root_teardown(void);
void dir_setup(void);
/* The path of `name` in this test's directory (the last eight are kept). */
const char *path_of(const char *name);

#endif

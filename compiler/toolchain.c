/*
 * toolchain.c — generate, compile, cache and run a model's trainer program.
 *
 * nnc stays a compiler: `nnc train` writes the model's C (NAME.h, NAME.c)
 * and a main.c that hands everything to the runtime's nnrt_main, compiles
 * them with the system C compiler against libnnrt.a, and runs the result.
 * The build is cached: its directory is named by an FNV-1a hash of the
 * sources, the compiler command, nnc's version and the runtime's files (size
 * and modification time), so a second run of the same model starts at once
 * and any change to what goes into the build makes a new one.
 *
 *   $NNC_CACHE_DIR | $XDG_CACHE_HOME/nnc | ~/.cache/nnc
 *     0123456789abcdef/            one build
 *       NAME.h NAME.c main.c       the sources, kept for debugging
 *       NAME                       the trainer, renamed into place when
 *                                  complete, so its presence is the hit
 *
 * Every file is written to a temporary name and renamed, so two nnc runs
 * racing on one build, or a run killed halfway, never leave a partial file
 * under a final name.  The compiler runs inside the build's directory with
 * relative file names, so the command (which is hashed) does not depend on
 * where the cache is.
 */
/* realpath is XSI, beyond the POSIX level the Makefile asks for. */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nnc.h"

/* ---- small utilities ---------------------------------------------------- */

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* dir/name, in the arena. */
static char *path_join(Arena *a, const char *dir, const char *name)
{
	size_t n = strlen(dir);
	return arena_printf(a, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/",
	                    name);
}

/* The canonical absolute form of path, or NULL if it does not exist. */
static char *real_path(Arena *a, const char *path)
{
	char *r = realpath(path, NULL);
	if (!r)
		return NULL;
	char *s = arena_strdup(a, r);
	free(r);
	return s;
}

/* Creates path and its missing parents (mode 0777, less the umask). */
static bool mkdir_p(Arena *a, const char *path)
{
	char *p = arena_strdup(a, path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) != 0 && errno != EEXIST)
			return false;
		*s = '/';
	}
	return mkdir(p, 0777) == 0 || errno == EEXIST;
}

/* FNV-1a, 64 bits: enough to tell builds apart in a cache. */
static void fnv(uint64_t *h, const void *data, size_t n)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < n; i++) {
		*h ^= p[i];
		*h *= UINT64_C(0x100000001b3);
	}
}

/* A string and its terminating NUL, so that ("ab", "c") and ("a", "bc")
 * hash differently. */
static void fnv_str(uint64_t *h, const char *s)
{
	fnv(h, s, strlen(s) + 1);
}

/* A file's identity for the key: its path, size and modification time. */
static void fnv_file(uint64_t *h, const char *path)
{
	struct stat st;
	fnv_str(h, path);
	if (stat(path, &st) != 0)
		return;
	int64_t v[3] = {(int64_t)st.st_size, (int64_t)st.st_mtim.tv_sec,
	                (int64_t)st.st_mtim.tv_nsec};
	fnv(h, v, sizeof v);
}

/* Writes text to path atomically: to path.tmp.PID, then renamed. */
static bool write_atomic(Arena *a, const char *path, const char *text,
                         size_t len)
{
	char *tmp = arena_printf(a, "%s.tmp.%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "wb");
	bool ok = f && fwrite(text, 1, len, f) == len;
	if (f && fclose(f) != 0)
		ok = false;
	if (ok && rename(tmp, path) != 0)
		ok = false;
	if (!ok) {
		fprintf(stderr, "nnc: error: cannot write %s: %s\n", path,
		        strerror(errno));
		remove(tmp);
	}
	return ok;
}

/* Appends a word that outlives the vector (a literal or arena text). */
static void push(PtrVec *v, const char *word)
{
	ptrvec_push(v, (void *)word);
}

/* Splits s at blanks into the vector v (the words are in the arena). */
static void split_words(Arena *a, PtrVec *v, const char *s)
{
	while (*s) {
		size_t skip = strspn(s, " \t\n");
		s += skip;
		size_t n = strcspn(s, " \t\n");
		if (n)
			ptrvec_push(v, arena_strndup(a, s, n));
		s += n;
	}
}

/* The words of v joined by blanks, for messages. */
static char *join_words(Arena *a, const PtrVec *v)
{
	char *s = arena_strdup(a, "");
	for (int i = 0; i < v->len; i++)
		s = arena_printf(a, "%s%s%s", s, i ? " " : "", (char *)v->items[i]);
	return s;
}

/* ---- running programs --------------------------------------------------- */

/* Runs argv[0] (searched in PATH) with the arguments argv, in directory
 * dir (NULL: the current one), standard input from /dev/null and standard
 * output, and standard error too if merge, collected in *out (malloc'ed,
 * NUL-terminated).  Returns the exit status (128 + N for signal N), or -1
 * if the program could not be started, with errno set. */
static int run_capture(char *const *argv, const char *dir, bool merge,
                       char **out)
{
	*out = NULL;
	int fds[2], errfds[2];
	if (pipe(fds) != 0)
		return -1;
	/* The child reports a failed chdir or exec through errfds, which
	 * closes by itself when the exec succeeds. */
	if (pipe(errfds) != 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	fcntl(errfds[1], F_SETFD, FD_CLOEXEC);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(fds[0]);
		close(fds[1]);
		close(errfds[0]);
		close(errfds[1]);
		errno = e;
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		close(fds[0]);
		close(errfds[0]);
		if (null >= 0)
			dup2(null, 0);
		dup2(fds[1], 1);
		dup2(merge ? fds[1] : (null >= 0 ? null : fds[1]), 2);
		if (dir == NULL || chdir(dir) == 0)
			execvp(argv[0], argv);
		int e = errno;
		if (write(errfds[1], &e, sizeof e) < 0)
			_exit(127);
		_exit(127);
	}
	close(fds[1]);
	close(errfds[1]);
	size_t len = 0, cap = 4096;
	char *buf = xmalloc(cap);
	for (;;) {
		if (len + 1 == cap)
			buf = xrealloc(buf, cap *= 2);
		ssize_t k = read(fds[0], buf + len, cap - len - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		len += (size_t)k;
	}
	buf[len] = '\0';
	close(fds[0]);
	int child_errno = 0;
	ssize_t got;
	do
		got = read(errfds[0], &child_errno, sizeof child_errno);
	while (got < 0 && errno == EINTR);
	close(errfds[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			status = 127 << 8;
			break;
		}
	if (got == (ssize_t)sizeof child_errno) {
		free(buf);
		errno = child_errno;
		return -1;
	}
	*out = buf;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* ---- the runtime -------------------------------------------------------- */

/* dir holds libnnrt.a and incdir the headers: fills rt and returns true. */
static bool runtime_at(Arena *a, Runtime *rt, const char *dir,
                       const char *incdir, const char *inc_make,
                       const char *how)
{
	char *lib = path_join(a, dir, "libnnrt.a");
	if (!is_file(lib) || !is_file(path_join(a, incdir, "nnrt.h")) ||
	    !is_file(path_join(a, incdir, "nnrt_data.h")))
		return false;
	rt->libdir = real_path(a, dir);
	rt->incdir = real_path(a, incdir);
	rt->inc_make = inc_make;
	rt->how = how;
	return rt->libdir && rt->incdir;
}

bool toolchain_find_runtime(Arena *a, Runtime *rt)
{
	const char *env = getenv("NNC_RUNTIME_DIR");
	if (env && *env) {
		if (runtime_at(a, rt, env, env, "$(NNRT_DIR)", "$NNC_RUNTIME_DIR"))
			return true;
		fprintf(stderr, "nnc: error: NNC_RUNTIME_DIR is %s, which does not "
		        "hold libnnrt.a, nnrt.h and nnrt_data.h\n", env);
		return false;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		const char *dir = slash == exe ? "/" : exe;
		if (slash)
			*slash = '\0';
		/* A build tree: build/nnc, build/libnnrt.a, runtime/nnrt.h;
		 * or the sanitized one, build/san/nnc (make SANITIZE=1). */
		if (runtime_at(a, rt, dir, path_join(a, dir, "../runtime"),
		               "$(NNRT_DIR)/../runtime", "a build tree, beside nnc"))
			return true;
		if (runtime_at(a, rt, dir, path_join(a, dir, "../../runtime"),
		               "$(NNRT_DIR)/../../runtime",
		               "a build tree, beside nnc"))
			return true;
		/* Installed: PREFIX/bin/nnc, PREFIX/lib, PREFIX/include/nnc. */
		if (runtime_at(a, rt, path_join(a, dir, "../lib"),
		               path_join(a, dir, "../include/nnc"),
		               "$(NNRT_DIR)/../include/nnc", "installed, beside nnc"))
			return true;
		fprintf(stderr, "nnc: error: cannot find the runtime (libnnrt.a, "
		        "nnrt.h, nnrt_data.h): looked in %s and %s/../runtime, and in "
		        "%s/../lib and %s/../include/nnc; set NNC_RUNTIME_DIR to a "
		        "directory that holds them\n", dir, dir, dir, dir);
		return false;
	}
	fprintf(stderr, "nnc: error: cannot find the runtime (libnnrt.a, nnrt.h, "
	        "nnrt_data.h): set NNC_RUNTIME_DIR to a directory that holds "
	        "them\n");
	return false;
}

const char *toolchain_libs(Arena *a)
{
	PtrVec v = {0};
	split_words(a, &v, "pkg-config --libs openblas libcjson zlib");
	ptrvec_push(&v, NULL);
	char **argv = (char **)ptrvec_freeze(&v, a);
	char *out = NULL;
	const char *libs = "-lopenblas -lcjson -lz";
	if (run_capture(argv, NULL, false, &out) == 0) {
		PtrVec words = {0};
		split_words(a, &words, out);
		if (words.len > 0)
			libs = join_words(a, &words);
		free(words.items);
	}
	free(out);
	return arena_printf(a, "%s -lm -pthread", libs);
}

/* ---- the cache ---------------------------------------------------------- */

/* The cache's root directory, absolute, created if missing; NULL after
 * reporting why there is none. */
static const char *cache_root(Arena *a)
{
	const char *env = getenv("NNC_CACHE_DIR");
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	const char *dir;
	if (env && *env) {
		dir = env;
	} else if (xdg && xdg[0] == '/') {
		dir = path_join(a, xdg, "nnc");
	} else {
		if (!home || !*home) {
			struct passwd *pw = getpwuid(getuid());
			home = pw ? pw->pw_dir : NULL;
		}
		if (!home || !*home) {
			fprintf(stderr, "nnc: error: no directory for the cache of "
			        "compiled trainers: set NNC_CACHE_DIR\n");
			return NULL;
		}
		dir = path_join(a, home, ".cache/nnc");
	}
	if (dir[0] != '/') {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof cwd)) {
			fprintf(stderr, "nnc: error: cannot find the current directory: "
			        "%s\n", strerror(errno));
			return NULL;
		}
		dir = path_join(a, cwd, dir);
	}
	if (!mkdir_p(a, dir)) {
		fprintf(stderr, "nnc: error: cannot create the cache directory %s: "
		        "%s (set NNC_CACHE_DIR to a writable directory)\n", dir,
		        strerror(errno));
		return NULL;
	}
	return dir;
}

/* ${CC:-cc} as words. */
static void compiler_words(Arena *a, PtrVec *v)
{
	const char *cc = getenv("CC");
	split_words(a, v, cc && *cc ? cc : "cc");
	if (v->len == 0)
		push(v, "cc");
}

/* Whether the compiler accepts -march=native (gcc on some targets, and
 * other compilers, do not): compiles an empty file with it. */
static bool accepts_march_native(Arena *a, const PtrVec *cc)
{
	PtrVec v = {0};
	for (int i = 0; i < cc->len; i++)
		ptrvec_push(&v, cc->items[i]);
	const char *rest[] = {"-march=native", "-x", "c", "-c", "/dev/null",
	                      "-o", "/dev/null"};
	for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++)
		push(&v, rest[i]);
	ptrvec_push(&v, NULL);
	char **argv = (char **)ptrvec_freeze(&v, a);
	char *out = NULL;
	bool ok = run_capture(argv, NULL, true, &out) == 0;
	free(out);
	return ok;
}

/* Makes the file at path durable before it is renamed into place, so that
 * a crash cannot leave a truncated trainer under its final name. */
static void sync_file(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

const char *toolchain_build(Arena *a, const Runtime *rt,
                            const TrainerSources *s, bool verbose)
{
	const char *root = cache_root(a);
	if (!root)
		return NULL;
	const char *cfile = arena_printf(a, "%s.c", s->name);
	const char *hfile = arena_printf(a, "%s.h", s->name);

	/* The command, with the output name last so that it can vary. */
	PtrVec cmd = {0};
	compiler_words(a, &cmd);
	push(&cmd, "-std=c99");
	/* The trainer runs where it is built: let the compiler vectorize the
	 * fused elementwise loops for this machine.  -fno-math-errno lets
	 * sqrtf and friends vectorize (generated code never reads errno);
	 * ISO C mode keeps floating-point contraction off, so results do not
	 * depend on whether the compiler fuses a multiply and an add. */
	push(&cmd, "-O3");
	push(&cmd, "-fno-math-errno");
	if (accepts_march_native(a, &cmd))
		push(&cmd, "-march=native");
	push(&cmd, "-I.");
	ptrvec_push(&cmd, arena_printf(a, "-I%s", rt->incdir));
	push(&cmd, "main.c");
	push(&cmd, cfile);
	ptrvec_push(&cmd, path_join(a, rt->libdir, "libnnrt.a"));
	split_words(a, &cmd, toolchain_libs(a));
	push(&cmd, "-o");

	/* The key: everything that decides what the build produces. */
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	fnv_str(&h, "nnc " NNC_VERSION);
	for (int i = 0; i < cmd.len; i++)
		fnv_str(&h, cmd.items[i]);
	fnv_str(&h, s->name);
	fnv(&h, s->h, s->hlen);
	fnv_str(&h, "");
	fnv(&h, s->c, s->clen);
	fnv_str(&h, "");
	fnv(&h, s->main, s->mainlen);
	fnv_file(&h, path_join(a, rt->libdir, "libnnrt.a"));
	fnv_file(&h, path_join(a, rt->incdir, "nnrt.h"));
	fnv_file(&h, path_join(a, rt->incdir, "nnrt_data.h"));
	const char *dir = path_join(a, root, arena_printf(a, "%016" PRIx64, h));
	const char *exe = path_join(a, dir, s->name);

	if (verbose)
		fprintf(stderr, "nnc: runtime: %s/libnnrt.a, headers in %s (%s)\n",
		        rt->libdir, rt->incdir, rt->how);
	if (access(exe, X_OK) == 0) {
		push(&cmd, s->name);
		if (verbose)
			fprintf(stderr, "nnc: cache hit: %s, built with\n"
			        "nnc:   cd %s && %s\n", exe, dir, join_words(a, &cmd));
		free(cmd.items);
		return exe;
	}
	/* A name of this process's own, renamed into place when complete. */
	const char *tmp = arena_printf(a, "%s.tmp.%ld", s->name, (long)getpid());
	push(&cmd, tmp);
	char *shown = join_words(a, &cmd);
	if (verbose)
		fprintf(stderr, "nnc: cache miss: compiling %s\nnnc:   cd %s && %s\n",
		        exe, dir, shown);
	if (!mkdir_p(a, dir)) {
		fprintf(stderr, "nnc: error: cannot create %s: %s (set NNC_CACHE_DIR "
		        "to a writable directory)\n", dir, strerror(errno));
		free(cmd.items);
		return NULL;
	}
	if (!write_atomic(a, path_join(a, dir, hfile), s->h, s->hlen) ||
	    !write_atomic(a, path_join(a, dir, cfile), s->c, s->clen) ||
	    !write_atomic(a, path_join(a, dir, "main.c"), s->main, s->mainlen)) {
		free(cmd.items);
		return NULL;
	}
	ptrvec_push(&cmd, NULL);
	char **argv = (char **)ptrvec_freeze(&cmd, a);
	const char *tmp_path = path_join(a, dir, tmp);
	char *out = NULL;
	int status = run_capture(argv, dir, true, &out);
	if (status < 0) {
		fprintf(stderr, "nnc: error: cannot run the C compiler '%s': %s "
		        "(set CC to a C compiler)\n", argv[0], strerror(errno));
		return NULL;
	}
	if (verbose || status != 0)
		fputs(out, stderr);
	free(out);
	if (status != 0) {
		remove(tmp_path);
		fprintf(stderr, "nnc: internal error: the C generated for model '%s' "
		        "did not compile (exit status %d); please report this with "
		        "the files in %s\nnnc: the command was: cd %s && %s\n",
		        s->name, status, dir, dir, shown);
		return NULL;
	}
	sync_file(tmp_path);
	if (rename(tmp_path, exe) != 0) {
		fprintf(stderr, "nnc: error: cannot write %s: %s\n", exe,
		        strerror(errno));
		remove(tmp_path);
		return NULL;
	}
	return exe;
}

int toolchain_exec(const char *exe, char **argv, bool verbose)
{
	if (verbose) {
		fprintf(stderr, "nnc: running %s", exe);
		for (int i = 1; argv[i]; i++)
			fprintf(stderr, " %s", argv[i]);
		fputc('\n', stderr);
	}
	fflush(NULL);
	execv(exe, argv);
	fprintf(stderr, "nnc: error: cannot run the trainer %s: %s\n", exe,
	        strerror(errno));
	return 1;
}

/* ---- NAME.mk ------------------------------------------------------------ */

char *toolchain_makefile(Arena *a, const Runtime *rt, const char *libs,
                         const char *name, const char *source)
{
	char *U = arena_strdup(a, name);
	for (char *p = U; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		nnc_out_of_memory("writing the makefile");
	/* A memory stream that cannot grow fails the fprintf, nothing else. */
	int wrote = fprintf(f,
	        "# %s.mk — generated by nnc %s from %s. Do not edit.\n"
	        "#\n"
	        "# Builds the trainer program %s from %s.c and main.c, beside this\n"
	        "# file, with no nnc installed:\n"
	        "#   make -f %s.mk\n"
	        "#   ./%s train --data FILE       (./%s --help lists the commands)\n"
	        "# It links the runtime nnc was using when it wrote this file; to use\n"
	        "# another, set NNRT_DIR to the directory holding libnnrt.a and, if\n"
	        "# the headers are not at $(NNRT_INCLUDE), NNRT_INCLUDE to theirs:\n"
	        "#   make -f %s.mk NNRT_DIR=/opt/nnc/lib NNRT_INCLUDE=/opt/nnc/include/nnc\n"
	        "# Include it in a larger Makefile as is: its names start with %s_.\n"
	        "\n"
	        "NNRT_DIR     ?= %s\n"
	        "NNRT_INCLUDE ?= %s\n"
	        "NNRT_LIBS    ?= %s\n"
	        "%s_CFLAGS ?= -std=c99 -O2\n"
	        "%s_DIR := $(dir $(lastword $(MAKEFILE_LIST)))\n"
	        "\n"
	        "$(%s_DIR)%s: $(%s_DIR)main.c $(%s_DIR)%s.c $(%s_DIR)%s.h "
	        "$(NNRT_DIR)/libnnrt.a\n"
	        "\t$(CC) $(%s_CFLAGS) -I$(%s_DIR). -I$(NNRT_INCLUDE) "
	        "$(%s_DIR)main.c $(%s_DIR)%s.c \\\n"
	        "\t    $(NNRT_DIR)/libnnrt.a $(NNRT_LIBS) -o $@\n",
	        name, NNC_VERSION, source, name, name, name, name, name, name, U,
	        rt->libdir, rt->inc_make, libs, U, U, U, name, U, U, name, U,
	        name, U, U, U, U, name);
	if (fclose(f) != 0 || wrote < 0 || !text)
		nnc_out_of_memory("writing the makefile");
	char *r = arena_strndup(a, text, len);
	free(text);
	return r;
}

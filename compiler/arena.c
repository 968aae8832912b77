/*
 * arena.c — memory that lives as long as one compilation.
 *
 * Everything the front end builds (tokens' text, AST, IR, strings for
 * messages) comes from one Arena and is freed in one go at the end, so no
 * phase has to track ownership and sanitizers end clean.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "nnc.h"

typedef struct Block {
	struct Block *next;
	size_t used, cap;
	max_align_t data[];        /* flexible array, aligned for any type */
} Block;

struct Arena {
	Block *head;
};

enum { BLOCK_SIZE = 64 * 1024 };

void nnc_out_of_memory(const char *what)
{
	fprintf(stderr, "nnc: out of memory (%s)\n", what);
	exit(3);
}

static NNC_NORETURN void out_of_memory_bytes(size_t size)
{
	char what[64];
	snprintf(what, sizeof what, "%zu bytes", size);
	nnc_out_of_memory(what);
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (!p)
		out_of_memory_bytes(size);
	return p;
}

void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size ? size : 1);
	if (!p)
		out_of_memory_bytes(size);
	return p;
}

NNC_NORETURN void nnc_die(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "nnc: internal error at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nplease report this bug with the input that caused it\n");
	abort();
}

Arena *arena_new(void)
{
	Arena *a = xmalloc(sizeof *a);
	a->head = NULL;
	return a;
}

void arena_free(Arena *a)
{
	if (!a)
		return;
	for (Block *b = a->head, *next; b; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}

void *arena_alloc(Arena *a, size_t size)
{
	const size_t align = sizeof(max_align_t);
	size = (size + align - 1) / align * align;
	if (size == 0)
		size = align;
	Block *b = a->head;
	if (!b || b->cap - b->used < size) {
		/* Large requests get a block of their own, so the current block's
		 * free space stays usable for the small ones that follow. */
		size_t cap = size > BLOCK_SIZE / 4 ? size : BLOCK_SIZE;
		if (cap > SIZE_MAX - sizeof(Block))
			DIE("arena request of %zu bytes", size);
		Block *nb = xmalloc(sizeof(Block) + cap);
		nb->used = 0;
		nb->cap = cap;
		if (b && size > BLOCK_SIZE / 4) {
			nb->next = b->next;
			b->next = nb;
		} else {
			nb->next = b;
			a->head = nb;
		}
		b = nb;
	}
	void *p = (char *)b->data + b->used;
	b->used += size;
	memset(p, 0, size);
	return p;
}

void *arena_array(Arena *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		DIE("arena array of %zu x %zu bytes overflows", n, size);
	return arena_alloc(a, n * size);
}

char *arena_strndup(Arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(Arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_printf(Arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		DIE("bad format '%s'", fmt);
	char *p = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void ptrvec_push(PtrVec *v, void *item)
{
	if (v->len == v->cap) {
		if (v->cap > (1 << 28))
			DIE("vector too large");
		v->cap = v->cap ? v->cap * 2 : 8;
		v->items = xrealloc(v->items, (size_t)v->cap * sizeof *v->items);
	}
	v->items[v->len++] = item;
}

void **ptrvec_freeze(PtrVec *v, Arena *a)
{
	void **out = arena_array(a, (size_t)v->len + 1, sizeof *out);
	if (v->len)
		memcpy(out, v->items, (size_t)v->len * sizeof *out);
	free(v->items);
	v->items = NULL;
	v->cap = 0;
	return out;                /* NULL-terminated; v->len keeps the count */
}

/*
 * source.c — source text and its line map.
 *
 * Diagnostics print the user's line under every message, so the whole file
 * is kept in memory with the byte offset of each line's start.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nnc.h"

/* Larger files are refused before reading: the language has no use for
 * them, and reading is the one step whose cost the user cannot see. */
enum { MAX_SOURCE_BYTES = 256 * 1024 * 1024 };

static void index_lines(Arena *a, Source *s)
{
	int n = 1;
	for (size_t i = 0; i < s->len; i++)
		if (s->text[i] == '\n')
			n++;
	s->nlines = n;
	s->line_start = arena_array(a, (size_t)n + 2, sizeof *s->line_start);
	int line = 1;
	s->line_start[1] = 0;
	for (size_t i = 0; i < s->len; i++)
		if (s->text[i] == '\n')
			s->line_start[++line] = i + 1;
	s->line_start[n + 1] = s->len + 1;
}

Source *source_from_memory(Arena *a, const char *name, const char *text,
                           size_t len)
{
	Source *s = arena_alloc(a, sizeof *s);
	/* A UTF-8 byte-order mark (some editors write one) is not text. */
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
		text += 3;
		len -= 3;
	}
	s->name = arena_strdup(a, name);
	s->text = arena_strndup(a, text, len);
	s->len = len;
	index_lines(a, s);
	return s;
}

Source *source_load(Arena *a, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 4096, len = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		if (len == cap) {
			/* One byte past the limit tells "exactly at" from "over". */
			if (cap > MAX_SOURCE_BYTES) {
				snprintf(err, errlen, "'%s' is larger than %d MiB",
				         path, MAX_SOURCE_BYTES >> 20);
				free(buf);
				fclose(f);
				return NULL;
			}
			cap = cap * 2 > MAX_SOURCE_BYTES ? (size_t)MAX_SOURCE_BYTES + 1
			                                 : cap * 2;
			buf = xrealloc(buf, cap);
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	Source *s = source_from_memory(a, path, buf, len);
	free(buf);
	return s;
}

const char *source_line(const Source *s, int n, size_t *len)
{
	if (n < 1 || n > s->nlines) {
		*len = 0;
		return "";
	}
	size_t start = s->line_start[n];
	size_t end = s->line_start[n + 1] - 1;   /* the '\n', or len */
	if (end > start && s->text[end - 1] == '\r')
		end--;
	*len = end - start;
	return s->text + start;
}

Loc loc_span(Loc a, Loc b)
{
	if (!a.first_line)
		return b;
	if (!b.first_line)
		return a;
	Loc r = a;
	r.last_line = b.last_line;
	r.last_column = b.last_column;
	return r;
}

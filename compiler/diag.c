/*
 * diag.c — gcc/clang-style diagnostics.
 *
 *   grades.nn:5:14: error: unknown activation 'tanhh'; did you mean 'tanh'?
 *       5 |     dense(4, tanhh)
 *         |              ^~~~~
 *
 * Phases report as many independent errors as they find; after
 * NNC_MAX_ERRORS errors the rest are counted but not printed.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnc.h"

static const char *const level_names[] = {"error", "warning", "note"};
static const char *const level_colors[] = {"\033[1;31m", "\033[1;35m",
                                           "\033[1;36m"};

void diag_init(Diag *d, const Source *src, FILE *out)
{
	memset(d, 0, sizeof *d);
	d->src = src;
	d->out = out;
	d->max_errors = NNC_MAX_ERRORS;
	d->color = isatty(fileno(out)) && !getenv("NO_COLOR");
}

/* Prints one source line with control bytes made visible as '?', so a
 * hostile file cannot drive the terminal.  Runs of printable bytes go out
 * in one fwrite: stderr is unbuffered, and a long line must stay cheap. */
static void print_source_line(FILE *out, const char *text, size_t len)
{
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\t' || c >= 0x20)
			continue;
		fwrite(text + start, 1, i - start, out);
		fputc('?', out);
		start = i + 1;
	}
	fwrite(text + start, 1, len - start, out);
}

/* The caret line: the same whitespace as the source up to the column (so
 * tabs line up), one cell per character (UTF-8 continuation bytes take no
 * cell), then ^ and ~ up to the end of the span on that line. */
static void print_caret(FILE *out, const char *text, size_t len, int col,
                        int last_col)
{
	size_t c0 = col > 0 ? (size_t)col - 1 : 0;
	for (size_t i = 0; i < c0 && i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if ((c & 0xC0) == 0x80)
			continue;
		fputc(c == '\t' ? '\t' : ' ', out);
	}
	for (size_t i = len; i < c0; i++)
		fputc(' ', out);
	fputc('^', out);
	for (size_t i = c0 + 1; i < (size_t)last_col && i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if ((c & 0xC0) != 0x80)
			fputc('~', out);
	}
	fputc('\n', out);
}

NNC_PRINTF(4, 0)
static void report(Diag *d, DiagLevel level, Loc loc, const char *fmt,
                   va_list ap)
{
	if (level == DIAG_ERROR) {
		d->nerrors++;
		if (d->nerrors > d->max_errors) {
			if (d->nerrors == d->max_errors + 1)
				fprintf(d->out, "%s: fatal error: too many errors "
				        "emitted, stopping now\n", d->src->name);
			d->suppress_notes = true;
			return;
		}
	} else if (level == DIAG_WARNING) {
		if (d->nerrors > d->max_errors) {
			d->suppress_notes = true;
			return;
		}
		d->nwarnings++;
	} else if (d->suppress_notes) {
		return;
	}
	if (level != DIAG_NOTE)
		d->suppress_notes = false;

	const char *bold = d->color ? "\033[1m" : "";
	const char *reset = d->color ? "\033[0m" : "";
	const char *lc = d->color ? level_colors[level] : "";
	if (loc.first_line)
		fprintf(d->out, "%s%s:%d:%d: ", bold, d->src->name, loc.first_line,
		        loc.first_column);
	else
		fprintf(d->out, "%s%s: ", bold, d->src->name);
	fprintf(d->out, "%s%s:%s %s", lc, level_names[level], reset, bold);
	vfprintf(d->out, fmt, ap);
	fprintf(d->out, "%s\n", reset);
	if (!loc.first_line || loc.first_line > d->src->nlines)
		return;

	size_t len;
	const char *text = source_line(d->src, loc.first_line, &len);
	int last_col = loc.last_line == loc.first_line ? loc.last_column
	                                                : (int)len;
	if (last_col < loc.first_column)
		last_col = loc.first_column;
	fprintf(d->out, "%5d | ", loc.first_line);
	print_source_line(d->out, text, len);
	fprintf(d->out, "\n      | %s", d->color ? "\033[1;32m" : "");
	print_caret(d->out, text, len, loc.first_column, last_col);
	if (d->color)
		fputs(reset, d->out);
}

void diag_error(Diag *d, Loc loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(d, DIAG_ERROR, loc, fmt, ap);
	va_end(ap);
}

void diag_warning(Diag *d, Loc loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(d, DIAG_WARNING, loc, fmt, ap);
	va_end(ap);
}

void diag_note(Diag *d, Loc loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(d, DIAG_NOTE, loc, fmt, ap);
	va_end(ap);
}

void diag_finish(Diag *d)
{
	if (d->nwarnings && d->nerrors)
		fprintf(d->out, "%d warning%s and %d error%s generated.\n",
		        d->nwarnings, d->nwarnings == 1 ? "" : "s",
		        d->nerrors, d->nerrors == 1 ? "" : "s");
	else if (d->nerrors)
		fprintf(d->out, "%d error%s generated.\n", d->nerrors,
		        d->nerrors == 1 ? "" : "s");
	else if (d->nwarnings)
		fprintf(d->out, "%d warning%s generated.\n", d->nwarnings,
		        d->nwarnings == 1 ? "" : "s");
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > NNC_MAX_NAME || lb > NNC_MAX_NAME)
		return SIZE_MAX;
	size_t row[NNC_MAX_NAME + 1];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = diag + cost;
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

const char *diag_suggest(const char *name, const char *const *cands)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX;
	/* Like clang: a typo may change about a third of the name. */
	size_t limit = (strlen(name) + 2) / 3;
	for (; *cands; cands++) {
		size_t dist = edit_distance(name, *cands);
		if (dist < best_d) {
			best_d = dist;
			best = *cands;
		}
	}
	return best_d <= limit && best_d > 0 ? best : NULL;
}

/*
 * parse.c — text to AST: the entry point around the scanner (grammar/nn.l)
 * and the parser (grammar/nn.y).
 *
 * One ParseState on the stack holds everything a parse needs; the scanner
 * and the parser are the reentrant and pure kinds, so parses in one
 * process are independent.
 */
#include <limits.h>
#include <string.h>

#include "nnc.h"
#include "nn.tab.h"
#include "nn.lex.h"

/* Lines, columns and flex's buffer sizes are ints; refuse sizes where
 * they could overflow.  (source_load already stops far below this.) */
#define MAX_PARSE_BYTES ((size_t)INT_MAX / 2)

void parse_state_init(ParseState *ps, Arena *a, const Source *src, Diag *d)
{
	memset(ps, 0, sizeof *ps);
	ps->arena = a;
	ps->diag = d;
	ps->src = src;
	ps->file = arena_alloc(a, sizeof *ps->file);
	ps->file->src = src;
	ps->model_link = &ps->file->models;
	ps->act_link = &ps->file->activations;
	ps->line = 1;
	ps->col = 1;
}

AstFile *parse_file(Arena *a, const Source *src, Diag *d)
{
	ParseState ps;
	parse_state_init(&ps, a, src, d);
	if (src->len > MAX_PARSE_BYTES) {
		Loc none = {0, 0, 0, 0};
		diag_error(d, none, "file is too large to parse (over %zu MiB)",
		           MAX_PARSE_BYTES >> 20);
		return ps.file;
	}
	yyscan_t scanner = parse_scanner_new(&ps);
	/* nn_parse returns non-zero when it gave up (end of input inside an
	 * error); the errors are already reported and the file holds what was
	 * parsed. */
	nn_parse(scanner, &ps);
	nn_lex_destroy(scanner);
	return ps.file;
}

yyscan_t parse_scanner_new(ParseState *ps)
{
	yyscan_t scanner;
	if (nn_lex_init_extra(ps, &scanner) != 0)
		DIE("cannot create the scanner");
	/* Copies the text (flex needs two NULs after it and writes into it);
	 * the buffer is freed by nn_lex_destroy. */
	nn__scan_bytes(ps->src->text, (int)ps->src->len, scanner);
	return scanner;
}

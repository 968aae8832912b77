/*
 * test_parse.c — Check suite for the scanner (grammar/nn.l), the parser
 * (grammar/nn.y, compiler/parse.c) and the AST printer (compiler/ast.c).
 *
 * Scanner tests drive nn_lex directly and compare the token stream, written
 * as "text@line:col"; parser tests compare ast_dump output and AST fields;
 * error tests compare the first line of each diagnostic exactly.  Two
 * parses are interleaved token by token through the push interface to show
 * that they share no state.
 * Exports parse_suite(); the runner is tests/unit/main.c.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "nnc.h"
#include "nn.tab.h"
#include "nn.lex.h"

Suite *parse_suite(void);

/* ------------------------------------------------------------- helpers */

/* One parse and everything it printed. */
typedef struct Parsed {
	Arena *arena;
	AstFile *file;
	char *errs;                /* the diagnostics, as a user sees them */
	int nerrors;
} Parsed;

static Parsed parse_bytes(const char *text, size_t len)
{
	Parsed p = {0};
	size_t errs_len;
	FILE *out = open_memstream(&p.errs, &errs_len);
	ck_assert_ptr_nonnull(out);
	p.arena = arena_new();
	Source *src = source_from_memory(p.arena, "t.nn", text, len);
	Diag d;
	diag_init(&d, src, out);
	p.file = parse_file(p.arena, src, &d);
	p.nerrors = d.nerrors;
	fclose(out);
	return p;
}

static Parsed parse_text(const char *text)
{
	return parse_bytes(text, strlen(text));
}

static void parsed_free(Parsed *p)
{
	arena_free(p->arena);
	free(p->errs);
}

static char *dump_file(const AstFile *f)
{
	char *buf;
	size_t len;
	FILE *out = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(out);
	ast_dump(out, f);
	fclose(out);
	return buf;
}

/* Parses text, which must be free of errors, and checks its dump. */
static void check_dump(const char *text, const char *want)
{
	Parsed p = parse_text(text);
	ck_assert_msg(p.nerrors == 0, "unexpected errors:\n%s", p.errs);
	char *got = dump_file(p.file);
	ck_assert_str_eq(got, want);
	free(got);
	parsed_free(&p);
}

/* The first line of the diagnostics of text. */
static void check_first_error(const char *text, const char *want)
{
	Parsed p = parse_text(text);
	char *nl = strchr(p.errs, '\n');
	if (nl)
		*nl = '\0';
	ck_assert_msg(p.nerrors > 0, "no error for %s", text);
	ck_assert_str_eq(p.errs, want);
	parsed_free(&p);
}

/* How a token appears in the expected streams below. */
static void print_token(FILE *out, int t, const NN_STYPE *v, Loc l)
{
	switch (t) {
	case TOK_YYEOF: fputs("EOF", out); break;
	case TOK_IDENT: fputs(v->str, out); break;
	case TOK_NUMBER: fprintf(out, "%s", v->num.text); break;
	case TOK_NEWLINE: fputs("NL", out); break;
	case TOK_MODEL: fputs("MODEL", out); break;
	case TOK_ACTIVATION: fputs("ACTIVATION", out); break;
	case TOK_INPUT: fputs("INPUT", out); break;
	case TOK_OUTPUT: fputs("OUTPUT", out); break;
	case TOK_ARROW: fputs("->", out); break;
	default: fputc(t, out); break;
	}
	fprintf(out, "@%d:%d", l.first_line, l.first_column);
}

/* Scans the whole text: the tokens, space-separated, then "|" and the
 * diagnostics' first lines, if any. */
static char *lex_bytes(const char *text, size_t len)
{
	Arena *a = arena_new();
	Source *src = source_from_memory(a, "t.nn", text, len);
	char *errs, *buf;
	size_t elen, blen;
	FILE *eout = open_memstream(&errs, &elen);
	FILE *out = open_memstream(&buf, &blen);
	Diag d;
	diag_init(&d, src, eout);
	ParseState st;
	parse_state_init(&st, a, src, &d);
	yyscan_t sc = parse_scanner_new(&st);
	for (int i = 0;; i++) {
		NN_STYPE v;
		Loc l;
		int t = nn_lex(&v, &l, sc);
		if (i)
			fputc(' ', out);
		print_token(out, t, &v, l);
		if (t == TOK_YYEOF)
			break;
	}
	nn_lex_destroy(sc);
	fclose(eout);
	/* Keep only the message lines of the diagnostics. */
	for (char *line = strtok(errs, "\n"); line; line = strtok(NULL, "\n"))
		if (strncmp(line, "t.nn:", 5) == 0)
			fprintf(out, " | %s", line + 5);
	fclose(out);
	free(errs);
	arena_free(a);
	return buf;
}

static void check_lex(const char *text, const char *want)
{
	char *got = lex_bytes(text, strlen(text));
	ck_assert_str_eq(got, want);
	free(got);
}

/* ------------------------------------------------------------- scanner */

START_TEST(test_lex_tokens)
{
	check_lex("model m { input x[3] }",
	          "MODEL@1:1 m@1:7 {@1:9 INPUT@1:11 x@1:17 [@1:18 3@1:19 "
	          "]@1:20 }@1:22 EOF@1:23");
	check_lex("a->b(c=1,-2);d^e+f*g/h",
	          "a@1:1 ->@1:2 b@1:4 (@1:5 c@1:6 =@1:7 1@1:8 ,@1:9 -@1:10 "
	          "2@1:11 )@1:12 ;@1:13 d@1:14 ^@1:15 e@1:16 +@1:17 f@1:18 "
	          "*@1:19 g@1:20 /@1:21 h@1:22 EOF@1:23");
	/* Keywords only as whole words. */
	check_lex("models inputs output_ activation2 output",
	          "models@1:1 inputs@1:8 output_@1:15 activation2@1:23 "
	          "OUTPUT@1:35 EOF@1:41");
	check_lex("_a9 Z", "_a9@1:1 Z@1:5 EOF@1:6");
}
END_TEST

START_TEST(test_lex_numbers)
{
	check_lex("42 0.5 .5 5. 1e-3 2.5E+4 3e8 007",
	          "42@1:1 0.5@1:4 .5@1:8 5.@1:11 1e-3@1:14 2.5E+4@1:19 "
	          "3e8@1:26 007@1:30 EOF@1:33");
	/* Values and integer-ness. */
	static const struct { const char *text; double num; bool is_int; } cases[] = {
		{"42", 42, true}, {"0.5", 0.5, false}, {".5", 0.5, false},
		{"5.", 5, false}, {"1e-3", 1e-3, false}, {"2.5E+4", 2.5e4, false},
		{"3e8", 3e8, false}, {"0", 0, true},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		Arena *a = arena_new();
		Source *src = source_from_memory(a, "t.nn", cases[i].text,
		                                 strlen(cases[i].text));
		Diag d;
		diag_init(&d, src, stderr);
		ParseState st;
		parse_state_init(&st, a, src, &d);
		yyscan_t sc = parse_scanner_new(&st);
		NN_STYPE v;
		Loc l;
		ck_assert_int_eq(nn_lex(&v, &l, sc), TOK_NUMBER);
		ck_assert_double_eq(v.num.num, cases[i].num);
		ck_assert_int_eq(v.num.is_int, cases[i].is_int);
		ck_assert_str_eq(v.num.text, cases[i].text);
		ck_assert_int_eq(l.last_column, (int)strlen(cases[i].text));
		nn_lex_destroy(sc);
		arena_free(a);
	}
	/* A sign is never part of a number. */
	check_lex("-1", "-@1:1 1@1:2 EOF@1:3");
}
END_TEST

START_TEST(test_lex_newlines)
{
	/* Blank lines and newlines at the start give nothing. */
	check_lex("\n\n a\n\n\nb\n", "a@3:2 NL@3:3 b@6:1 NL@6:2 EOF@6:2");
	/* Inside ( ) and [ ]. */
	check_lex("f(\n1,\n2\n)\n",
	          "f@1:1 (@1:2 1@2:1 ,@2:2 2@3:1 )@4:1 NL@4:2 EOF@4:2");
	check_lex("x[\n3\n]\n", "x@1:1 [@1:2 3@2:1 ]@3:1 NL@3:2 EOF@3:2");
	/* After '->', ',', '=' and '{', but not before '->'. */
	check_lex("a ->\nb\n-> c", "a@1:1 ->@1:3 b@2:1 NL@2:2 ->@3:1 c@3:4 EOF@3:5");
	check_lex("a,\nb =\nc {\nd",
	          "a@1:1 ,@1:2 b@2:1 =@2:3 c@3:1 {@3:3 d@4:1 EOF@4:2");
	/* After ';' and inside { } they count. */
	check_lex("{a;\nb\n}", "{@1:1 a@1:2 ;@1:3 b@2:1 NL@2:2 }@3:1 EOF@3:2");
	/* Not after an operator of an expression. */
	check_lex("x +\ny", "x@1:1 +@1:3 NL@1:4 y@2:1 EOF@2:2");
	/* '{' and '}' close an unclosed '(' so its newlines count again. */
	check_lex("f(\n}\na\nb",
	          "f@1:1 (@1:2 }@2:1 NL@2:2 a@3:1 NL@3:2 b@4:1 EOF@4:2");
}
END_TEST

START_TEST(test_lex_comments)
{
	check_lex("a # comment ( [\nb // another\n// whole line\nc#x",
	          "a@1:1 NL@1:2 b@2:1 NL@2:2 c@4:1 EOF@4:2");
	check_lex("#only", "EOF@1:1");
	check_lex("a / b", "a@1:1 /@1:3 b@1:5 EOF@1:6");
}
END_TEST

START_TEST(test_lex_columns)
{
	/* A tab is one column; CR LF ends a line; no newline at the end. */
	check_lex("\ta\r\n\t\tb c\r\n", "a@1:2 NL@1:3 b@2:3 c@2:5 NL@2:6 EOF@2:6");
	check_lex("a", "a@1:1 EOF@1:2");
	check_lex("", "EOF@1:1");
	check_lex("   ", "EOF@1:1");
	/* A span covers the whole token. */
	Parsed p = parse_text("model abc {\n  input x[3]\n}\n");
	ck_assert_int_eq(p.file->models->name_loc.first_column, 7);
	ck_assert_int_eq(p.file->models->name_loc.last_column, 9);
	parsed_free(&p);
}
END_TEST

START_TEST(test_lex_bad_chars)
{
	check_lex("a $ b",
	          "a@1:1 b@1:5 EOF@1:6 | 1:3: error: unexpected character '$'");
	check_lex("a\1", "a@1:1 EOF@1:2 | 1:2: error: unexpected character '\\x01'");
	check_lex("'\\", "EOF@1:1 | 1:1: error: unexpected character '\\'' | "
	          "1:2: error: unexpected character '\\\\'");
	check_lex("\xff" "a",
	          "a@1:2 EOF@1:3 | 1:1: error: unexpected character '\\xff'");
	check_lex("\x7f", "EOF@1:1 | 1:1: error: unexpected character '\\x7f'");
	check_lex("\f", "EOF@1:1 | 1:1: error: unexpected character '\\x0c'");
	/* A UTF-8 sequence is one character, covering all its bytes. */
	check_lex("caf\xc3\xa9 x", "caf@1:1 x@1:7 EOF@1:8 | 1:4: error: unexpected "
	          "character '\xc3\xa9'");
	check_lex("\xe2\x86\x92",
	          "EOF@1:1 | 1:1: error: unexpected character '\xe2\x86\x92'");
	/* A truncated sequence is bytes. */
	check_lex("\xe2\x86", "EOF@1:1 | 1:1: error: unexpected character '\\xe2' | "
	          "1:2: error: unexpected character '\\x86'");
	/* NUL bytes are characters like any other. */
	char *got = lex_bytes("a\0b", 3);
	ck_assert_str_eq(got, "a@1:1 b@1:3 EOF@1:4 | 1:2: error: unexpected character '\\x00'");
	free(got);
}
END_TEST

START_TEST(test_lex_long_ident)
{
	char name[NNC_MAX_NAME + 2];
	memset(name, 'a', sizeof name - 1);
	name[NNC_MAX_NAME] = '\0';
	char *got = lex_bytes(name, NNC_MAX_NAME);
	ck_assert_ptr_null(strchr(got, '|'));
	free(got);
	name[NNC_MAX_NAME] = 'a';
	name[NNC_MAX_NAME + 1] = '\0';
	got = lex_bytes(name, NNC_MAX_NAME + 1);
	ck_assert_ptr_nonnull(strstr(got, "| 1:1: error: identifier is longer than 64 characters"));
	free(got);
}
END_TEST

START_TEST(test_lex_bad_numbers)
{
	check_lex("1e999", "1e999@1:1 EOF@1:6 | 1:1: error: number '1e999' is too large");
	/* A nonzero number that rounds to 0 is an error; zero, and numbers
	 * that are only subnormal, are fine. */
	check_lex("1e-999", "1e-999@1:1 EOF@1:7 | 1:1: error: number '1e-999' "
	          "is too small (it would round to 0)");
	check_lex("0.0001e-400", "0.0001e-400@1:1 EOF@1:12 | 1:1: error: number "
	          "'0.0001e-400' is too small (it would round to 0)");
	check_lex("0e-999 0.000e-500 1e-320 4.9e-324 0 00.0",
	          "0e-999@1:1 0.000e-500@1:8 1e-320@1:19 4.9e-324@1:26 0@1:35 "
	          "00.0@1:37 EOF@1:41");
	check_lex("3x 1e 2.5f", "3x@1:1 1e@1:4 2.5f@1:7 EOF@1:11 | 1:1: error: invalid "
	          "number '3x' | 1:4: error: invalid number '1e' | 1:7: error: "
	          "invalid number '2.5f'");
	check_lex("1.2.3", "1.2@1:1 .3@1:4 EOF@1:6");
}
END_TEST

/* Numbers the scanner reported are marked bad in the AST, so that lowering
 * stays quiet about them. */
START_TEST(test_parse_bad_number_values)
{
	Parsed p = parse_text("model m {\n dense(3x, 1e999, -1e-400, 2, 0e-400)"
	                      "\n}\n");
	ck_assert_int_eq(p.nerrors, 3);
	const AstArg *a = p.file->models->stmts->chain->args;
	bool want[] = {true, true, true, false, false};
	for (int i = 0; i < 5; i++, a = a->next) {
		ck_assert_ptr_nonnull(a);
		ck_assert_msg(a->value->bad == want[i], "argument %d", i + 1);
	}
	ck_assert_str_eq(p.file->models->stmts->chain->args->next->next->value
	                 ->text, "-1e-400");
	parsed_free(&p);
}
END_TEST

/* Two scanners, one token each in turn. */
START_TEST(test_lex_two_scanners)
{
	const char *t1 = "model a { input x[3] }", *t2 = "activation f(x) = -x\n";
	Arena *a = arena_new();
	Source *s1 = source_from_memory(a, "1.nn", t1, strlen(t1));
	Source *s2 = source_from_memory(a, "2.nn", t2, strlen(t2));
	Diag d1, d2;
	diag_init(&d1, s1, stderr);
	diag_init(&d2, s2, stderr);
	ParseState st1, st2;
	parse_state_init(&st1, a, s1, &d1);
	parse_state_init(&st2, a, s2, &d2);
	yyscan_t sc1 = parse_scanner_new(&st1), sc2 = parse_scanner_new(&st2);
	char *buf1, *buf2;
	size_t len1, len2;
	FILE *o1 = open_memstream(&buf1, &len1), *o2 = open_memstream(&buf2, &len2);
	bool done1 = false, done2 = false;
	while (!done1 || !done2) {
		NN_STYPE v;
		Loc l;
		if (!done1) {
			int t = nn_lex(&v, &l, sc1);
			print_token(o1, t, &v, l);
			fputc(' ', o1);
			done1 = t == TOK_YYEOF;
		}
		if (!done2) {
			int t = nn_lex(&v, &l, sc2);
			print_token(o2, t, &v, l);
			fputc(' ', o2);
			done2 = t == TOK_YYEOF;
		}
	}
	fclose(o1);
	fclose(o2);
	ck_assert_str_eq(buf1, "MODEL@1:1 a@1:7 {@1:9 INPUT@1:11 x@1:17 [@1:18 "
	                 "3@1:19 ]@1:20 }@1:22 EOF@1:23 ");
	ck_assert_str_eq(buf2, "ACTIVATION@1:1 f@1:12 (@1:13 x@1:14 )@1:15 =@1:17 "
	                 "-@1:19 x@1:20 NL@1:21 EOF@1:21 ");
	free(buf1);
	free(buf2);
	nn_lex_destroy(sc1);
	nn_lex_destroy(sc2);
	arena_free(a);
}
END_TEST

/* -------------------------------------------------------------- parser */

START_TEST(test_parse_example)
{
	check_dump("activation swish(x) = x * sigmoid(x)\n"
	           "model grades {\n"
	           "    input x[3]\n"
	           "\n"
	           "    dense(4, tanh)\n"
	           "    dense(5, relu)\n"
	           "    dense(2)                          # linear output\n"
	           "\n"
	           "    loss mse\n"
	           "    optimizer sgd(learning_rate = 0.01)\n"
	           "    batch 8\n"
	           "    epochs 100\n"
	           "}\n",
	           "activation swish(x) @1:12\n"
	           "  body: (x * sigmoid(x))\n"
	           "model grades @2:7\n"
	           "  input x [3] @3:5\n"
	           "  chain @5:5\n"
	           "    step dense(4, tanh) @5:5\n"
	           "  chain @6:5\n"
	           "    step dense(5, relu) @6:5\n"
	           "  chain @7:5\n"
	           "    step dense(2) @7:5\n"
	           "  setting loss mse @9:5\n"
	           "  setting optimizer sgd(learning_rate = 0.01) @10:5\n"
	           "  setting batch 8 @11:5\n"
	           "  setting epochs 100 @12:5\n");
}
END_TEST

START_TEST(test_parse_statements)
{
	check_dump("model m {\n"
	           "  input img[28, 28]\n"
	           "  h = img -> flatten -> dense(8, activation = relu)\n"
	           "  a = concat(h, img)\n"
	           "  relu(); relu\n"
	           "  output y = add(a, h) -> dense(units = 2, use_bias = false)\n"
	           "  output y\n"
	           "  metrics accuracy, mae\n"
	           "  optimizer adam\n"
	           "  optimizer adam()\n"
	           "  optimizer rmsprop(0.001, rho = 0.9)\n"
	           "  shuffle false\n"
	           "  epochs -1\n"
	           "  seed -0.5\n"
	           "  input z[0, -3, 2.5, n]\n"
	           "}\n",
	           "model m @1:7\n"
	           "  input img [28, 28] @2:3\n"
	           "  assign h @3:3\n"
	           "    step img @3:7\n"
	           "    step flatten @3:14\n"
	           "    step dense(8, activation = relu) @3:25\n"
	           "  assign a @4:3\n"
	           "    step concat(h, img) @4:7\n"
	           "  chain @5:3\n"
	           "    step relu() @5:3\n"
	           "  chain @5:11\n"
	           "    step relu @5:11\n"
	           "  output y @6:3\n"
	           "    step add(a, h) @6:14\n"
	           "    step dense(units = 2, use_bias = false) @6:27\n"
	           "  output y @7:3\n"
	           "  setting metrics accuracy, mae @8:3\n"
	           "  setting optimizer adam @9:3\n"
	           "  setting optimizer adam() @10:3\n"
	           "  setting optimizer rmsprop(0.001, rho = 0.9) @11:3\n"
	           "  setting shuffle false @12:3\n"
	           "  setting epochs -1 @13:3\n"
	           "  setting seed -0.5 @14:3\n"
	           "  input z [0, -3, 2.5, n] @15:3\n");
}
END_TEST

START_TEST(test_parse_fields)
{
	Parsed p = parse_text("model m {\n"
	                      "  input x[3, 4]\n"
	                      "  h = x -> dense(4, tanh)\n"
	                      "  output y\n"
	                      "  optimizer sgd(learning_rate = -0.5)\n"
	                      "  relu\n"
	                      "  epochs -2, adam\n"
	                      "}\n");
	ck_assert_int_eq(p.nerrors, 0);
	AstModel *m = p.file->models;
	ck_assert_str_eq(m->name, "m");
	ck_assert_ptr_null(m->next);
	/* The model spans 'model' through '}'. */
	ck_assert_int_eq(m->loc.first_line, 1);
	ck_assert_int_eq(m->loc.first_column, 1);
	ck_assert_int_eq(m->loc.last_line, 8);
	ck_assert_int_eq(m->loc.last_column, 1);

	AstStmt *s = m->stmts;
	ck_assert_int_eq(s->kind, STMT_INPUT);
	ck_assert_str_eq(s->name, "x");
	ck_assert_int_eq(s->nvalues, 2);
	ck_assert_int_eq(s->values[1]->kind, VAL_NUM);
	ck_assert(s->values[1]->is_int);
	ck_assert_double_eq(s->values[1]->num, 4);
	ck_assert_ptr_null(s->values[2]);
	ck_assert_int_eq(s->loc.first_column, 3);
	ck_assert_int_eq(s->loc.last_column, 15);
	ck_assert_int_eq(s->name_loc.first_column, 9);
	ck_assert_int_eq(s->name_loc.last_column, 9);

	s = s->next;
	ck_assert_int_eq(s->kind, STMT_ASSIGN);
	ck_assert_str_eq(s->name, "h");
	ck_assert_int_eq(s->loc.first_column, 3);
	ck_assert_int_eq(s->loc.last_column, 25);
	AstStep *st = s->chain;
	ck_assert_str_eq(st->name, "x");
	ck_assert(!st->has_parens);
	ck_assert_int_eq(st->nargs, 0);
	st = st->next;
	ck_assert_str_eq(st->name, "dense");
	ck_assert(st->has_parens);
	ck_assert_int_eq(st->nargs, 2);
	/* A step spans its name through ')'. */
	ck_assert_int_eq(st->loc.first_column, 12);
	ck_assert_int_eq(st->loc.last_column, 25);
	ck_assert_int_eq(st->name_loc.last_column, 16);
	ck_assert_ptr_null(st->args->name);
	ck_assert_int_eq(st->args->value->kind, VAL_NUM);
	ck_assert_int_eq(st->args->next->value->kind, VAL_IDENT);
	ck_assert_str_eq(st->args->next->value->text, "tanh");
	ck_assert_int_eq(st->args->next->loc.first_column, 21);
	ck_assert_ptr_null(st->args->next->next);
	ck_assert_ptr_null(st->next);

	s = s->next;
	ck_assert_int_eq(s->kind, STMT_OUTPUT);
	ck_assert_ptr_null(s->chain);

	s = s->next;
	ck_assert_int_eq(s->kind, STMT_SETTING);
	ck_assert_str_eq(s->name, "optimizer");
	ck_assert_int_eq(s->nvalues, 1);
	AstValue *v = s->values[0];
	ck_assert_int_eq(v->kind, VAL_CALL);
	ck_assert_str_eq(v->text, "sgd");
	ck_assert_int_eq(v->nargs, 1);
	AstArg *arg = v->args;
	ck_assert_str_eq(arg->name, "learning_rate");
	ck_assert_int_eq(arg->name_loc.first_column, 17);
	ck_assert_int_eq(arg->name_loc.last_column, 29);
	ck_assert_int_eq(arg->loc.first_column, 17);
	ck_assert_int_eq(arg->loc.last_column, 36);
	/* The minus is part of the value. */
	ck_assert_int_eq(arg->value->kind, VAL_NUM);
	ck_assert_double_eq(arg->value->num, -0.5);
	ck_assert(!arg->value->is_int);
	ck_assert_str_eq(arg->value->text, "-0.5");
	ck_assert_int_eq(arg->value->loc.first_column, 33);
	ck_assert_int_eq(arg->value->loc.last_column, 36);
	ck_assert_int_eq(v->loc.first_column, 13);
	ck_assert_int_eq(v->loc.last_column, 37);

	s = s->next;
	ck_assert_int_eq(s->kind, STMT_CHAIN);
	ck_assert_ptr_null(s->name);
	ck_assert_str_eq(s->chain->name, "relu");

	s = s->next;
	ck_assert_int_eq(s->kind, STMT_SETTING);
	ck_assert_int_eq(s->nvalues, 2);
	ck_assert_double_eq(s->values[0]->num, -2);
	ck_assert(s->values[0]->is_int);
	ck_assert_int_eq(s->values[1]->kind, VAL_IDENT);
	ck_assert_ptr_null(s->next);
	parsed_free(&p);
}
END_TEST

START_TEST(test_parse_terminators)
{
	/* The last statement needs no terminator; ';' and blank lines. */
	check_dump("model m { input x[3]; dense(2) }",
	           "model m @1:7\n  input x [3] @1:11\n  chain @1:23\n"
	           "    step dense(2) @1:23\n");
	check_dump("\n\n# c\nmodel m {;;\n\n  input x[3];\n  ;\n  relu;\n}\n\n",
	           "model m @4:7\n  input x [3] @6:3\n  chain @8:3\n"
	           "    step relu @8:3\n");
	check_dump("model m {}", "model m @1:7\n");
	check_dump("model m {\n}\nmodel n {\n}", "model m @1:7\nmodel n @3:7\n");
	check_dump("", "");
	/* Chains and argument lists across lines. */
	check_dump("model m {\n  x ->\n    dense(8,\n      relu) ->\n    dense(1)\n"
	           "  optimizer adam(\n    learning_rate = 0.01,\n    beta_1 = 0.8\n  )\n}",
	           "model m @1:7\n  chain @2:3\n    step x @2:3\n"
	           "    step dense(8, relu) @3:5\n    step dense(1) @5:5\n"
	           "  setting optimizer adam(learning_rate = 0.01, beta_1 = 0.8) @6:3\n");
}
END_TEST

START_TEST(test_parse_order)
{
	/* Definitions print in source order across the two lists. */
	check_dump("model a {}\nactivation f(x) = x\nmodel b {}\nactivation g(y) = y\n",
	           "model a @1:7\nactivation f(x) @2:12\n  body: x\n"
	           "model b @3:7\nactivation g(y) @4:12\n  body: y\n");
	Parsed p = parse_text("activation f(x) = x\nactivation g(y) = -y\nmodel a {}\n");
	AstActivation *act = p.file->activations;
	ck_assert_str_eq(act->name, "f");
	ck_assert_str_eq(act->param, "x");
	ck_assert_int_eq(act->param_loc.first_column, 14);
	ck_assert_str_eq(act->next->name, "g");
	ck_assert_int_eq(act->next->body->kind, EXPR_NEG);
	ck_assert_ptr_null(act->next->next);
	ck_assert_int_eq(act->loc.first_column, 1);
	ck_assert_int_eq(act->loc.last_column, 19);
	parsed_free(&p);
}
END_TEST

/* Activation bodies as the fully parenthesized dump prints them. */
static const struct { const char *expr, *dump; } expr_cases[] = {
	{"x", "x"},
	{"1 + 2 * 3", "(1 + (2 * 3))"},
	{"1 - 2 - 3", "((1 - 2) - 3)"},
	{"8 / 4 / 2", "((8 / 4) / 2)"},
	{"2 ^ 3 ^ 2", "(2 ^ (3 ^ 2))"},
	{"-x ^ 2", "(-(x ^ 2))"},
	{"-x * y", "((-x) * y)"},
	{"x ^ -1", "(x ^ (-1))"},
	{"2 ^ -x ^ 2", "(2 ^ (-(x ^ 2)))"},
	{"- - x", "(-(-x))"},
	{"(1 + x) * (x - 1)", "((1 + x) * (x - 1))"},
	{"((x))", "x"},
	{"log(1 + exp(x))", "log(1 + exp(x))"},
	{"relu(x) - 0.01 * relu(-x)", "(relu(x) - (0.01 * relu(-x)))"},
	{"x * tanh(softplus(x))", "(x * tanh(softplus(x)))"},
	{"0.1 + 1e-7 + 3 + 2.5E+4 + .5 + 5. + 1e300",
	 "((((((0.1 + 1e-07) + 3) + 2.5e+04) + 0.5) + 5) + 1e+300)"},
	{"0.30000000000000004 + 123456789012", "(0.30000000000000004 + 123456789012)"},
};

START_TEST(test_parse_expr)
{
	char text[256], want[256];
	snprintf(text, sizeof text, "activation f(x) = %s\n", expr_cases[_i].expr);
	snprintf(want, sizeof want, "activation f(x) @1:12\n  body: %s\n",
	         expr_cases[_i].dump);
	check_dump(text, want);
}
END_TEST

START_TEST(test_parse_expr_nodes)
{
	Parsed p = parse_text("activation f(x) = sigmoid(x) * 2.5\n");
	Expr *e = p.file->activations->body;
	ck_assert_int_eq(e->kind, EXPR_MUL);
	ck_assert_int_eq(e->lhs->kind, EXPR_CALL);
	ck_assert_str_eq(e->lhs->name, "sigmoid");
	ck_assert_int_eq(e->lhs->fn, FN_NONE);
	ck_assert_int_eq(e->lhs->lhs->kind, EXPR_VAR);
	ck_assert_ptr_null(e->lhs->rhs);
	ck_assert_int_eq(e->rhs->kind, EXPR_NUM);
	ck_assert_double_eq(e->rhs->num, 2.5);
	ck_assert_int_eq(e->loc.first_column, 19);
	ck_assert_int_eq(e->loc.last_column, 34);
	ck_assert_int_eq(e->lhs->loc.last_column, 28);
	parsed_free(&p);
}
END_TEST

/* Nesting up to the limit is fine; one level more is one error. */
static char *nested(const char *open, const char *mid, const char *close, int n)
{
	size_t lo = strlen(open), lm = strlen(mid), lc = strlen(close);
	char *s = malloc(64 + (size_t)n * (lo + lc) + lm);
	char *p = s + sprintf(s, "activation f(x) = ");
	for (int i = 0; i < n; i++, p += lo)
		memcpy(p, open, lo);
	memcpy(p, mid, lm);
	p += lm;
	for (int i = 0; i < n; i++, p += lc)
		memcpy(p, close, lc);
	strcpy(p, "\nactivation g(x) = x\n");
	return s;
}

static void check_depth(const char *open, const char *mid, const char *close,
                        int ok, int bad)
{
	char *s = nested(open, mid, close, ok);
	Parsed p = parse_text(s);
	ck_assert_msg(p.nerrors == 0, "%d levels of %s: %s", ok, open, p.errs);
	parsed_free(&p);
	free(s);
	s = nested(open, mid, close, bad);
	p = parse_text(s);
	ck_assert_int_eq(p.nerrors, 1);
	ck_assert_ptr_nonnull(strstr(p.errs, "error: expression is nested too "
	                             "deeply (limit 100)"));
	/* The definition is kept without its body, and the rest of the file
	 * is still parsed. */
	const AstActivation *f = p.file->activations;
	ck_assert_str_eq(f->name, "f");
	ck_assert_ptr_null(f->body);
	ck_assert_str_eq(f->next->name, "g");
	ck_assert_ptr_nonnull(f->next->body);
	parsed_free(&p);
	free(s);
}

/* A left-associative run of + - * / does not nest: any length parses (and
 * dumps: the printer does not recurse along the run). */
static void check_flat(const char *op, int n)
{
	char *s = nested(op, "x", "", n);
	Parsed p = parse_text(s);
	ck_assert_msg(p.nerrors == 0, "%d terms of %s: %s", n + 1, op, p.errs);
	const Expr *e = p.file->activations->body;
	for (int i = 0; i < n; i++, e = e->lhs)
		ck_assert(e->kind == EXPR_ADD || e->kind == EXPR_SUB ||
		          e->kind == EXPR_MUL || e->kind == EXPR_DIV);
	ck_assert_int_eq(e->kind, EXPR_VAR);
	char *got = dump_file(p.file);
	ck_assert_ptr_nonnull(strstr(got, "activation g(x)"));
	free(got);
	parsed_free(&p);
	free(s);
}

START_TEST(test_parse_depth)
{
	check_depth("(", "x", ")", 99, 100);
	check_depth("(", "x", ")", 99, 100000);
	check_depth("exp(", "x", ")", 99, 100);
	check_depth("-", "x", "", 99, 100);
	check_depth("-", "x", "", 99, 100000);
	check_depth("x^", "x", "", 99, 100);
	check_depth("x^", "x", "", 99, 100000);
	check_depth("x*(", "x", ")", 99, 100);
	check_depth("x*(", "x", ")", 99, 100000);
	check_depth("(x+x+", "x", ")", 99, 100);
	check_depth("-x^", "x", "", 49, 50);
	check_flat("x+", 100);
	check_flat("x-x*x/", 5000);
	check_flat("x+", 1000000);
}
END_TEST

/* ---------------------------------------------------------- diagnostics */

/* Each syntax diagnostic, with the first line it prints. */
static const struct { const char *text, *err; } error_cases[] = {
	/* scanner */
	{"model m { $ }", "t.nn:1:11: error: unexpected character '$'"},
	{"model m { input x[1e999] }", "t.nn:1:19: error: number '1e999' is too large"},
	{"model m { dense(3x) }", "t.nn:1:17: error: invalid number '3x'"},
	{"model aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa {}",
	 "t.nn:1:7: error: identifier is longer than 64 characters"},
	/* top level */
	{"dense(3)\n", "t.nn:1:1: error: expected 'model' or 'activation' at top level"},
	{"model m {}\n}\n", "t.nn:2:1: error: expected 'model' or 'activation' at top level"},
	{"model {}", "t.nn:1:7: error: expected identifier before '{'"},
	{"model m\n{}", "t.nn:1:8: error: expected '{' before newline"},
	{"model m {", "t.nn:1:10: error: expected '}' at end of input"},
	{"model a {\n input x[3]\nmodel b {}\n",
	 "t.nn:3:1: error: expected '}' before 'model'"},
	{"model a {\n input x[3\nactivation f(x) = x\n",
	 "t.nn:3:1: error: expected '}' before 'activation'"},
	{"model m {\n input x[3]\n model = 3\n}",
	 "t.nn:3:2: error: expected statement or '}' before 'model'"},
	/* statements */
	{"model m {\n 3\n}", "t.nn:2:2: error: expected statement or '}' before number '3'"},
	{"model m {\n input x\n}", "t.nn:2:9: error: expected '[' before newline"},
	{"model m {\n input x[]\n}", "t.nn:2:10: error: expected value before ']'"},
	{"model m {\n input x[3 4]\n}",
	 "t.nn:2:12: error: expected ']' or ',' before number '4'"},
	{"model m {\n input x[3] dense(3)\n}",
	 "t.nn:2:13: error: expected end of statement before identifier 'dense'"},
	{"model m {\n dense(4) relu\n}",
	 "t.nn:2:11: error: expected '->' or end of statement before identifier 'relu'"},
	{"model m {\n dense(4)\n -> relu\n}",
	 "t.nn:3:2: error: a newline before '->' ends the statement; put the '->' "
	 "at the end of the previous line"},
	{"model m {\n dense(4,)\n}", "t.nn:2:10: error: expected argument before ')'"},
	{"model m {\n dense(,)\n}",
	 "t.nn:2:8: error: expected argument or ')' before ','"},
	{"model m {\n dense(4, relu\n dense(2)\n}",
	 "t.nn:3:2: error: expected '=', ',' or ')' before identifier 'dense'"},
	{"model m {\n dense(4", "t.nn:2:9: error: expected ')' at end of input"},
	{"model m {\n loss -\n}", "t.nn:2:8: error: expected number before newline"},
	{"model m {\n loss )\n}", "t.nn:2:7: error: unexpected ')'"},
	{"model m {\n optimizer adam(learning_rate = )\n}",
	 "t.nn:2:33: error: expected value before ')'"},
	{"model m {\n output = dense(3)\n}",
	 "t.nn:2:9: error: expected identifier before '='"},
	{"model m {\n x = input\n}",
	 "t.nn:2:6: error: 'input' is a reserved word and cannot be used as a name"},
	{"model m {\n h = \n}", "t.nn:3:1: error: expected identifier before '}'"},
	/* activations */
	{"activation f(x) = x + * 2", "t.nn:1:23: error: expected expression before '*'"},
	{"activation f(x) = x y", "t.nn:1:21: error: expected operator or newline "
	 "before identifier 'y'"},
	{"activation f(x) = (x y)", "t.nn:1:22: error: expected operator or ')' "
	 "before identifier 'y'"},
	{"activation f(x) = (x + 1\nactivation g(x) = x",
	 "t.nn:2:1: error: expected operator or ')' before 'activation'"},
	{"activation f x", "t.nn:1:14: error: expected '(' before identifier 'x'"},
	{"activation f(x) x", "t.nn:1:17: error: expected '=' before identifier 'x'"},
	{"activation f(x) =", "t.nn:1:18: error: expected expression at end of input"},
	{"activation output(x) = x",
	 "t.nn:1:12: error: 'output' is a reserved word and cannot be used as a name"},
	{"activation f(x) = x +\n y", "t.nn:1:22: error: expected expression before newline"},
};

START_TEST(test_parse_errors)
{
	check_first_error(error_cases[_i].text, error_cases[_i].err);
}
END_TEST

START_TEST(test_parse_error_notes)
{
	Parsed p = parse_text("model m {\n  input x[3\n");
	ck_assert_str_eq(p.errs,
	                 "t.nn:2:12: error: expected ']' at end of input\n"
	                 "    2 |   input x[3\n"
	                 "      |            ^\n"
	                 "t.nn:2:10: note: to match this '['\n"
	                 "    2 |   input x[3\n"
	                 "      |          ^\n");
	parsed_free(&p);
	p = parse_text("model m {\n  dense(3)\n");
	ck_assert_ptr_nonnull(strstr(p.errs, "t.nn:2:11: error: expected '}' at end "
	                             "of input\n"));
	ck_assert_ptr_nonnull(strstr(p.errs, "t.nn:1:9: note: to match this '{'\n"));
	parsed_free(&p);
	p = parse_text("model m {\n  dense(3, relu\n  dense(2)\n}\n");
	ck_assert_ptr_nonnull(strstr(p.errs, "t.nn:2:8: note: to match this '('\n"));
	parsed_free(&p);
	/* No note when the bracket is not the problem. */
	p = parse_text("model m {\n  dense(3 4)\n}\n");
	ck_assert_ptr_null(strstr(p.errs, "note:"));
	parsed_free(&p);
	p = parse_text("model m {\n  3\n}\n");
	ck_assert_ptr_null(strstr(p.errs, "note:"));
	parsed_free(&p);
}
END_TEST

/* Several errors in one run, each once, and the good parts kept. */
START_TEST(test_parse_recovery)
{
	Parsed p = parse_text("dense(3)\n"
	                      "model m {\n"
	                      "  input x[3\n"
	                      "  dense(4,, relu)\n"
	                      "  dense(5) relu\n"
	                      "  dense(6)\n"
	                      "  loss\n"
	                      "  loss mse 2\n"
	                      "  3\n"
	                      "  epochs 10\n"
	                      "}\n"
	                      "activation f(x) = x +\n"
	                      "activation g(x) = (x\n"
	                      "activation h(x) = x\n"
	                      "model n { input y[2] }\n");
	ck_assert_int_eq(p.nerrors, 7);
	char *got = dump_file(p.file);
	ck_assert_str_eq(got, "model m @2:7\n"
	                 "  chain @6:3\n    step dense(6) @6:3\n"
	                 "  chain @7:3\n    step loss @7:3\n"
	                 "  setting epochs 10 @10:3\n"
	                 "activation f(x) @12:12\n  body: ?\n"
	                 "activation g(x) @13:12\n  body: ?\n"
	                 "activation h(x) @14:12\n  body: x\n"
	                 "model n @15:7\n  input y [2] @15:11\n");
	ck_assert(p.file->models->incomplete);
	ck_assert(!p.file->models->next->incomplete);
	free(got);
	parsed_free(&p);

	/* A statement error inside a multi-line argument list resumes after
	 * the list, not inside it. */
	p = parse_text("model m {\n"
	               "  optimizer adam(\n"
	               "    learning_rate = = 0.01,\n"
	               "    beta_1 = 0.8\n"
	               "  )\n"
	               "  batch 4\n"
	               "}\n");
	ck_assert_int_eq(p.nerrors, 1);
	ck_assert_str_eq(p.file->models->stmts->name, "batch");
	parsed_free(&p);

	/* The first errors of a line right after a bad one are reported. */
	p = parse_text("model m {\n  input x[\n  3\n}\n");
	ck_assert_int_eq(p.nerrors, 1);
	parsed_free(&p);
	p = parse_text("model m {\n  a b c d\n  3\n  ) (\n}\n");
	ck_assert_int_eq(p.nerrors, 3);
	parsed_free(&p);
	p = parse_text("activation f(x) = x y\nactivation (x) = x\n");
	ck_assert_int_eq(p.nerrors, 2);
	parsed_free(&p);

	/* A misspelt 'model' gives one error, not one per line. */
	p = parse_text("modle m {\n  input x[3]\n  dense(2)\n  loss mse\n}\n"
	               "model n {}\n");
	ck_assert_int_eq(p.nerrors, 1);
	ck_assert_str_eq(p.file->models->name, "n");
	parsed_free(&p);
}
END_TEST

/* Models are linked as soon as their '{' is read, so an unclosed model
 * keeps its statements; a model with a bad header is not linked. */
START_TEST(test_parse_partial)
{
	Parsed p = parse_text("model m {\n  input x[3]\n  dense(2)\n");
	ck_assert_int_eq(p.nerrors, 1);
	char *got = dump_file(p.file);
	ck_assert_str_eq(got, "model m @1:7\n  input x [3] @2:3\n  chain @3:3\n"
	                 "    step dense(2) @3:3\n");
	free(got);
	ck_assert(!p.file->models->incomplete);   /* only the '}' is missing */
	parsed_free(&p);

	/* A statement cut off by the end of input is dropped: incomplete. */
	p = parse_text("model m {\n  input x[3]\n  dense(2, relu");
	ck_assert_int_eq(p.nerrors, 1);
	ck_assert_ptr_null(p.file->models->stmts->next);
	ck_assert(p.file->models->incomplete);
	parsed_free(&p);
	p = parse_text("model m {\n  input x[3]");
	ck_assert_ptr_null(p.file->models->stmts);
	ck_assert(p.file->models->incomplete);
	parsed_free(&p);
	p = parse_text("model m {");
	ck_assert(!p.file->models->incomplete);
	parsed_free(&p);
	/* A syntax error in the next model's header is not this one's. */
	p = parse_text("model a {\n  input x[3]\n}\nmodel b ( {\n}\n");
	ck_assert(!p.file->models->incomplete);
	parsed_free(&p);

	/* A '}' missing before the next definition ends the model there. */
	p = parse_text("model a {\n  input x[3]\nmodel b {\n  input y[2]\n"
	               "activation f(x) = x\n");
	ck_assert_int_eq(p.nerrors, 2);
	got = dump_file(p.file);
	ck_assert_str_eq(got, "model a @1:7\n  input x [3] @2:3\n"
	                 "model b @3:7\n  input y [2] @4:3\n"
	                 "activation f(x) @5:12\n  body: x\n");
	free(got);
	parsed_free(&p);

	p = parse_text("model {\n  input x[3]\n}\nmodel m ( {\n  input\n}\n");
	ck_assert_int_eq(p.nerrors, 3);
	ck_assert_str_eq(p.file->models->name, "m");
	ck_assert_ptr_null(p.file->models->next);
	ck_assert_ptr_null(p.file->models->stmts);
	parsed_free(&p);
}
END_TEST

START_TEST(test_parse_error_limit)
{
	/* Past NNC_MAX_ERRORS the parse stops; the file still comes back. */
	size_t n = 100000;
	char *s = malloc(n + 32);
	strcpy(s, "model m {}\n");
	memset(s + 11, '$', n);
	s[11 + n] = '\0';
	Parsed p = parse_text(s);
	ck_assert_int_eq(p.nerrors, NNC_MAX_ERRORS + 1);
	ck_assert_str_eq(p.file->models->name, "m");
	ck_assert_ptr_nonnull(strstr(p.errs, "too many errors"));
	parsed_free(&p);
	free(s);
}
END_TEST

/* Scanner positions and flex's buffer sizes are ints: parse_file refuses
 * a text over INT_MAX / 2 bytes (nnc itself stops at 256 MiB, in
 * source_load) before touching it.  The text here is a 1 GiB mapping that
 * is only reserved, never read, so the test costs no memory. */
START_TEST(test_parse_too_large)
{
	size_t len = (size_t)INT_MAX / 2 + 1;
	char *text = mmap(NULL, len + 1, PROT_READ,
	                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ck_assert_msg(text != MAP_FAILED, "mmap: %s", strerror(errno));
	Source src = {"big.nn", text, len, 1, (size_t[]){0, 0, len + 1}};
	char *errs;
	size_t errs_len;
	FILE *out = open_memstream(&errs, &errs_len);
	ck_assert_ptr_nonnull(out);
	Arena *a = arena_new();
	Diag d;
	diag_init(&d, &src, out);
	AstFile *f = parse_file(a, &src, &d);
	diag_finish(&d);
	fclose(out);
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_null(f->models);
	ck_assert_str_eq(errs, "big.nn: error: file is too large to parse (over "
	                       "1023 MiB)\n1 error generated.\n");
	free(errs);
	arena_free(a);
	munmap(text, len + 1);
}
END_TEST

/* Odd bytes anywhere never crash the parser. */
START_TEST(test_parse_garbage)
{
	unsigned state = 12345;
	char buf[512];
	static const char *const pieces[] = {
		"model", "activation", "input", "output", "m", "x", "(", ")", "[",
		"]", "{", "}", ",", ";", "=", "->", "-", "+", "*", "/", "^", "\n",
		"1", "2.5", "1e999", " ", "#c\n", "\xc3\xa9", "\0", "\r\n",
	};
	for (int iter = 0; iter < 3000; iter++) {
		size_t len = 0;
		int n = (int)(state % 60);
		for (int i = 0; i < n; i++) {
			state = state * 1103515245u + 12345u;
			const char *piece = pieces[(state >> 16) % 30];
			size_t pl = *piece ? strlen(piece) : 1;
			if (len + pl >= sizeof buf)
				break;
			memcpy(buf + len, piece, pl);
			len += pl;
		}
		state = state * 1103515245u + 12345u;
		Parsed p = parse_bytes(buf, len);
		char *d = dump_file(p.file);
		free(d);
		parsed_free(&p);
	}
}
END_TEST

/* Two parses at once: push parsers fed one token each in turn, with two
 * scanners, two arenas and two diagnostics.  Each result must equal the
 * same file parsed alone. */
START_TEST(test_parse_interleaved)
{
	const char *texts[2] = {
		"activation swish(x) = x * sigmoid(x)\n"
		"model a {\n  input x[3]\n  h = x -> dense(4, swish)\n  loss mse\n}\n",
		"model b {\n  input y[2, 2]\n  flatten -> dense(3,\n  relu)\n"
		"  bad bad(\n  optimizer adam(learning_rate = 0.1)\n}\n",
	};
	char *alone[2], *alone_errs[2];
	for (int i = 0; i < 2; i++) {
		Parsed p = parse_text(texts[i]);
		alone[i] = dump_file(p.file);
		alone_errs[i] = strdup(p.errs);
		parsed_free(&p);
	}

	Arena *arena[2];
	Source *src[2];
	Diag diag[2];
	ParseState st[2];
	yyscan_t sc[2];
	nn_pstate *ps[2];
	char *errs[2];
	size_t elen[2];
	FILE *eout[2];
	int status[2];
	for (int i = 0; i < 2; i++) {
		arena[i] = arena_new();
		src[i] = source_from_memory(arena[i], "t.nn", texts[i], strlen(texts[i]));
		eout[i] = open_memstream(&errs[i], &elen[i]);
		diag_init(&diag[i], src[i], eout[i]);
		parse_state_init(&st[i], arena[i], src[i], &diag[i]);
		sc[i] = parse_scanner_new(&st[i]);
		ps[i] = nn_pstate_new();
		status[i] = YYPUSH_MORE;
	}
	while (status[0] == YYPUSH_MORE || status[1] == YYPUSH_MORE)
		for (int i = 0; i < 2; i++) {
			if (status[i] != YYPUSH_MORE)
				continue;
			NN_STYPE v;
			Loc l;
			int t = nn_lex(&v, &l, sc[i]);
			status[i] = nn_push_parse(ps[i], t, &v, &l, sc[i], &st[i]);
		}
	for (int i = 0; i < 2; i++) {
		fclose(eout[i]);
		char *got = dump_file(st[i].file);
		ck_assert_str_eq(got, alone[i]);
		ck_assert_str_eq(errs[i], alone_errs[i]);
		free(got);
		free(errs[i]);
		free(alone[i]);
		free(alone_errs[i]);
		nn_pstate_delete(ps[i]);
		nn_lex_destroy(sc[i]);
		arena_free(arena[i]);
	}
	ck_assert_int_eq(status[0], 0);
	ck_assert_int_eq(status[1], 0);
}
END_TEST

Suite *parse_suite(void)
{
	Suite *s = suite_create("parse");

	TCase *tc = tcase_create("lex");
	tcase_add_test(tc, test_lex_tokens);
	tcase_add_test(tc, test_lex_numbers);
	tcase_add_test(tc, test_lex_newlines);
	tcase_add_test(tc, test_lex_comments);
	tcase_add_test(tc, test_lex_columns);
	tcase_add_test(tc, test_lex_bad_chars);
	tcase_add_test(tc, test_lex_long_ident);
	tcase_add_test(tc, test_lex_bad_numbers);
	tcase_add_test(tc, test_parse_bad_number_values);
	tcase_add_test(tc, test_lex_two_scanners);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_example);
	tcase_add_test(tc, test_parse_statements);
	tcase_add_test(tc, test_parse_fields);
	tcase_add_test(tc, test_parse_terminators);
	tcase_add_test(tc, test_parse_order);
	tcase_add_loop_test(tc, test_parse_expr, 0,
	                    (int)(sizeof expr_cases / sizeof expr_cases[0]));
	tcase_add_test(tc, test_parse_expr_nodes);
	tcase_add_test(tc, test_parse_depth);
	tcase_add_test(tc, test_parse_interleaved);
	tcase_set_timeout(tc, 60);     /* deep inputs, slow under sanitizers */
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_parse_errors, 0,
	                    (int)(sizeof error_cases / sizeof error_cases[0]));
	tcase_add_test(tc, test_parse_error_notes);
	tcase_add_test(tc, test_parse_recovery);
	tcase_add_test(tc, test_parse_partial);
	tcase_add_test(tc, test_parse_error_limit);
	tcase_add_test(tc, test_parse_garbage);
	tcase_add_test(tc, test_parse_too_large);
	tcase_set_timeout(tc, 60);     /* the garbage loop, likewise */
	suite_add_tcase(s, tc);
	return s;
}

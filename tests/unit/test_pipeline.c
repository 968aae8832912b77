/*
 * test_pipeline.c — Check suite for the whole front end as the driver runs
 * it: source_from_memory / source_load, parse_file, expr_resolve_all,
 * lower_file, shape_check, then ir_dump and summary_print.
 *
 * nnc.h promises that there is no global mutable state, so two compilations
 * in one process are independent.  The first test holds it to that: it runs
 * two different sources (one clean, one full of errors and warnings, both
 * defining an activation of the same name) alone, then again interleaved
 * phase by phase, and requires byte-identical diagnostics and output.  The
 * second runs every .nn file in examples/ (paths relative to the repository
 * root, where the runner is started) and checks that each compiles cleanly
 * with the parameter count worked out by hand.
 * Exports pipeline_suite(); the runner is tests/unit/main.c.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */

#include <check.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>

#include "nnc.h"

Suite *pipeline_suite(void);

/* ------------------------------------------------------------- helpers */

/* The phases of one compilation, in the driver's order.  Each is a separate
 * step so that two compilations can be advanced in lockstep. */
typedef enum Phase {
	PHASE_SOURCE,              /* source text and its line map */
	PHASE_PARSE,
	PHASE_RESOLVE,             /* custom activations */
	PHASE_LOWER,
	PHASE_SHAPE,
	PHASE_PRINT,               /* ir_dump, then summaries if no errors */
	PHASE_FINISH,              /* "N errors generated.", close, free */
	PHASE_COUNT
} Phase;

/* One compilation: its own arena, its own Diag on its own memory stream,
 * its own output stream.  After PHASE_FINISH only diags, printed and the
 * counts remain (malloc'ed by open_memstream; the caller frees them). */
typedef struct Pipe {
	const char *name;          /* the file name diagnostics show */
	const char *text;          /* NULL: load `name` from disk instead */
	Arena *arena;
	const Source *src;
	Diag diag;
	FILE *diag_out, *out;
	char *diags, *printed;     /* what the two streams received */
	size_t diags_len, printed_len;
	AstFile *ast;
	CustomAct **acts;
	IrProgram *ir;
	int nerrors, nwarnings;
	int64_t params;            /* of the first model, after PHASE_SHAPE */
	int nmodels;
	const char *model;         /* the first model's name, in the arena */
	bool model_ok;
} Pipe;

static void pipe_init(Pipe *p, const char *name, const char *text)
{
	memset(p, 0, sizeof *p);
	p->name = name;
	p->text = text;
}

/* Advances p by one phase. */
static void pipe_step(Pipe *p, Phase phase)
{
	switch (phase) {
	case PHASE_SOURCE: {
		p->arena = arena_new();
		char err[512] = "";
		p->src = p->text
		         ? source_from_memory(p->arena, p->name, p->text,
		                              strlen(p->text))
		         : source_load(p->arena, p->name, err, sizeof err);
		ck_assert_msg(p->src != NULL, "%s", err);
		p->diag_out = open_memstream(&p->diags, &p->diags_len);
		p->out = open_memstream(&p->printed, &p->printed_len);
		ck_assert_ptr_nonnull(p->diag_out);
		ck_assert_ptr_nonnull(p->out);
		diag_init(&p->diag, p->src, p->diag_out);
		break;
	}
	case PHASE_PARSE:
		p->ast = parse_file(p->arena, p->src, &p->diag);
		ck_assert_ptr_nonnull(p->ast);
		break;
	case PHASE_RESOLVE:
		p->acts = expr_resolve_all(p->arena, p->ast, &p->diag);
		ck_assert_ptr_nonnull(p->acts);
		break;
	case PHASE_LOWER:
		p->ir = lower_file(p->arena, p->ast, p->acts, &p->diag);
		ck_assert_ptr_nonnull(p->ir);
		break;
	case PHASE_SHAPE:
		shape_check(p->arena, p->ir, &p->diag);
		p->nmodels = p->ir->nmodels;
		if (p->nmodels > 0) {
			p->params = p->ir->models[0]->total_params;
			p->model = p->ir->models[0]->name;
			p->model_ok = p->ir->models[0]->ok;
		}
		break;
	case PHASE_PRINT:
		ir_dump(p->out, p->ir);
		if (p->diag.nerrors == 0)
			for (int i = 0; i < p->ir->nmodels; i++) {
				fputc('\n', p->out);
				summary_print(p->out, p->arena, p->ir->models[i]);
			}
		break;
	case PHASE_FINISH:
		diag_finish(&p->diag);
		p->nerrors = p->diag.nerrors;
		p->nwarnings = p->diag.nwarnings;
		ck_assert_int_eq(fclose(p->diag_out), 0);
		ck_assert_int_eq(fclose(p->out), 0);
		p->diag_out = p->out = NULL;
		p->model = NULL;           /* it lived in the arena */
		arena_free(p->arena);
		p->arena = NULL;
		break;
	case PHASE_COUNT:
		ck_abort_msg("bad phase");
	}
}

static void pipe_run(Pipe *p)
{
	for (int ph = 0; ph < PHASE_COUNT; ph++)
		pipe_step(p, (Phase)ph);
}

static void pipe_free(Pipe *p)
{
	free(p->diags);
	free(p->printed);
	p->diags = p->printed = NULL;
}

/* The first line where texts a and b differ, as "line N: 'A' vs 'B'" in
 * buf (Check limits the length of a failure message, so not the whole
 * texts). */
static const char *first_diff(const char *a, size_t alen, const char *b,
                              size_t blen, char *buf, size_t len)
{
	size_t i = 0, start = 0;
	int line = 1;
	while (i < alen && i < blen && a[i] == b[i]) {
		if (a[i] == '\n') {
			line++;
			start = i + 1;
		}
		i++;
	}
	size_t ae = start, be = start;
	while (ae < alen && a[ae] != '\n')
		ae++;
	while (be < blen && b[be] != '\n')
		be++;
	snprintf(buf, len, "line %d: '%.*s' vs '%.*s'", line,
	         (int)(ae - start < 300 ? ae - start : 300), a + start,
	         (int)(be - start < 300 ? be - start : 300), b + start);
	return buf;
}

/* Both runs of one source gave the same result, byte for byte. */
static void assert_same(const Pipe *alone, const Pipe *mixed)
{
	char why[1024];
	ck_assert_msg(mixed->diags_len == alone->diags_len &&
	              memcmp(mixed->diags, alone->diags, alone->diags_len) == 0,
	              "%s: diagnostics differ (alone vs interleaved) at %s",
	              alone->name, first_diff(alone->diags, alone->diags_len,
	                                      mixed->diags, mixed->diags_len,
	                                      why, sizeof why));
	ck_assert_msg(mixed->printed_len == alone->printed_len &&
	              memcmp(mixed->printed, alone->printed,
	                     alone->printed_len) == 0,
	              "%s: output differs (alone vs interleaved) at %s",
	              alone->name, first_diff(alone->printed, alone->printed_len,
	                                      mixed->printed, mixed->printed_len,
	                                      why, sizeof why));
	ck_assert_int_eq(mixed->nerrors, alone->nerrors);
	ck_assert_int_eq(mixed->nwarnings, alone->nwarnings);
}

/* --------------------------------------------------- the two sources */

/* Clean: a graph model with a custom activation, and a second model. */
static const char clean_src[] =
	"activation swish(x) = x * sigmoid(x)\n"
	"\n"
	"model branches {\n"
	"    input x[3]\n"
	"    deep = x -> dense(16, swish) -> dense(16, relu)\n"
	"    wide = x -> dense(4)\n"
	"    output y = concat(deep, wide) -> dropout(0.1) -> dense(3, softmax)\n"
	"    loss sparse_categorical_crossentropy\n"
	"    optimizer adam(learning_rate = 0.001)\n"
	"    metrics accuracy\n"
	"    seed 7\n"
	"}\n"
	"\n"
	"model images {\n"
	"    input img[28, 28]\n"
	"    flatten\n"
	"    dense(32, swish)\n"
	"    dense(10, softmax)\n"
	"    loss categorical_crossentropy\n"
	"}\n";

/* Broken: syntax, name, value, shape, loss and metric errors, warnings,
 * and its own `swish` with another body (and an error), so that a
 * definition leaking from one compilation into the other would show. */
static const char broken_src[] =
	"activation swish(x) = x * tanh(y)\n"
	"activation cube(x) = x^3\n"
	"\n"
	"model broken {\n"
	"    input img[4, 4]\n"
	"    dense(8, relu)\n"
	"    hidden = img -> flatten -> dense(8, cube)\n"
	"    hiden -> dense(2)\n"
	"    dense(0) -> dropout(1.5)\n"
	"    dense(4, relu))\n"
	"    hidden -> dense(3, swish)\n"
	"    hidden -> dense(3, relu)\n"
	"    loss categorical_crossentropy\n"
	"    metrics accuracy, accuracy\n"
	"    batch 8 16\n"
	"}\n"
	"\n"
	"model quiet {\n"
	"    input x[2]\n"
	"    a = x -> dense(3, cube)\n"
	"    b = x -> dense(5)\n"
	"    output z = a -> dense(1)\n"
	"}\n";

/* ---------------------------------------------------------------- tests */

START_TEST(test_interleaved_compilations)
{
	Pipe alone[2], mixed[2];
	pipe_init(&alone[0], "clean.nn", clean_src);
	pipe_init(&alone[1], "broken.nn", broken_src);
	pipe_run(&alone[0]);
	pipe_run(&alone[1]);

	/* The sources exercise what they are meant to. */
	ck_assert_int_eq(alone[0].nerrors, 0);
	ck_assert_int_eq(alone[0].nwarnings, 0);
	ck_assert_int_eq(alone[0].params, 415);
	ck_assert_ptr_nonnull(strstr(alone[0].printed, "swish'(x) = "));
	ck_assert_ptr_nonnull(strstr(alone[0].printed, "Model: \"images\""));
	ck_assert_int_ge(alone[1].nerrors, 6);
	ck_assert_ptr_nonnull(strstr(alone[1].diags, "broken.nn:10:"));
	ck_assert_ptr_nonnull(strstr(alone[1].diags, "needs a softmax output"));
	ck_assert_ptr_nonnull(strstr(alone[1].diags,
	                             "warning: model 'quiet' has no loss"));
	ck_assert_ptr_nonnull(strstr(alone[1].diags, "unknown variable 'y'"));
	ck_assert_ptr_nonnull(strstr(alone[1].diags, "did you mean 'hidden'"));
	ck_assert_ptr_nonnull(strstr(alone[1].diags, "errors generated."));
	ck_assert_ptr_null(strstr(alone[1].printed, "Model: "));

	/* Lockstep, in both orders: A's phase k, then B's phase k. */
	for (int first = 0; first < 2; first++) {
		pipe_init(&mixed[0], "clean.nn", clean_src);
		pipe_init(&mixed[1], "broken.nn", broken_src);
		for (int ph = 0; ph < PHASE_COUNT; ph++) {
			pipe_step(&mixed[first], (Phase)ph);
			pipe_step(&mixed[1 - first], (Phase)ph);
		}
		assert_same(&alone[0], &mixed[0]);
		assert_same(&alone[1], &mixed[1]);
		pipe_free(&mixed[0]);
		pipe_free(&mixed[1]);
	}

	/* One compilation finished and freed while the other is half way:
	 * nothing of the second may point into the first's arena. */
	pipe_init(&mixed[0], "clean.nn", clean_src);
	pipe_init(&mixed[1], "broken.nn", broken_src);
	for (int ph = 0; ph <= PHASE_LOWER; ph++) {
		pipe_step(&mixed[1], (Phase)ph);
		pipe_step(&mixed[0], (Phase)ph);
	}
	for (int ph = PHASE_SHAPE; ph < PHASE_COUNT; ph++)
		pipe_step(&mixed[1], (Phase)ph);
	for (int ph = PHASE_SHAPE; ph < PHASE_COUNT; ph++)
		pipe_step(&mixed[0], (Phase)ph);
	assert_same(&alone[0], &mixed[0]);
	assert_same(&alone[1], &mixed[1]);
	pipe_free(&mixed[0]);
	pipe_free(&mixed[1]);

	pipe_free(&alone[0]);
	pipe_free(&alone[1]);
}
END_TEST

/* Each example's parameters, counted by hand (inputs · units + units per
 * dense layer):
 *   grades      3·4+4 + 4·5+5 + 5·2+2                 = 16+25+12      = 53
 *   wide_deep   3·16+16 + 16·16+16 + 3·4+4 + 20·3+3   = 64+272+16+63  = 415
 *   fashion_mlp 784·256+256 + 256·128+128 + 128·10+10 = 200960+32896+1290
 *                                                     = 235146
 *   xor         2·4+4 + 4·1+1                         = 12+5          = 17
 *   careers     3·8+8 + 8·3+3                         = 32+27         = 59
 *   approved    3·1+1                                 = 4 */
static const struct {
	const char *path;
	int64_t params;
} examples[] = {
	{"examples/grades.nn", 53},
	{"examples/wide_deep.nn", 415},
	{"examples/fashion_mlp.nn", 235146},
	{"examples/xor.nn", 17},
	{"examples/careers.nn", 59},
	{"examples/approved.nn", 4},
};
enum { NEXAMPLES = sizeof examples / sizeof examples[0] };

START_TEST(test_examples)
{
	glob_t g;
	int rc = glob("examples/*.nn", 0, NULL, &g);
	ck_assert_msg(rc == 0, "no .nn file in examples/: the unit tests must "
	              "run from the repository root");
	bool seen[NEXAMPLES] = {false};
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *path = g.gl_pathv[i];
		int k = 0;
		while (k < NEXAMPLES && strcmp(examples[k].path, path) != 0)
			k++;
		ck_assert_msg(k < NEXAMPLES, "%s has no expected parameter count "
		              "in test_pipeline.c", path);
		seen[k] = true;

		/* The model is named like its file. */
		const char *base = strrchr(path, '/') + 1;
		char stem[64];
		snprintf(stem, sizeof stem, "%.*s", (int)(strlen(base) - 3), base);

		Pipe p;
		pipe_init(&p, path, NULL);
		for (int ph = 0; ph < PHASE_FINISH; ph++)
			pipe_step(&p, (Phase)ph);
		ck_assert_int_eq(p.nmodels, 1);
		ck_assert_str_eq(p.model, stem);
		ck_assert_msg(p.model_ok, "%s: model has errors", path);
		pipe_step(&p, PHASE_FINISH);
		ck_assert_msg(p.nerrors == 0 && p.nwarnings == 0,
		              "%s:\n%.2000s", path, p.diags);
		ck_assert_msg(p.params == examples[k].params,
		              "%s: %lld parameters, expected %lld", path,
		              (long long)p.params, (long long)examples[k].params);
		ck_assert_ptr_nonnull(strstr(p.printed, "Trainable params: "));
		pipe_free(&p);
	}
	globfree(&g);
	for (int k = 0; k < NEXAMPLES; k++)
		ck_assert_msg(seen[k], "%s is missing", examples[k].path);
}
END_TEST

Suite *pipeline_suite(void)
{
	Suite *s = suite_create("pipeline");
	TCase *tc = tcase_create("front end");
	tcase_add_test(tc, test_interleaved_compilations);
	tcase_add_test(tc, test_examples);
	suite_add_tcase(s, tc);
	return s;
}

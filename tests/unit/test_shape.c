/*
 * test_shape.c — Check suite for lowering and shape checking (lower.c,
 * shape.c) and the IR helpers (ir.c).
 *
 * Each test compiles a small source string through the same phases as the
 * driver (parse, resolve activations, lower, check shapes), with the
 * diagnostics captured in a temporary file, then looks at the IR: shapes,
 * parameter shapes and counts, stable names, training defaults, and which
 * errors were reported (by count and by a fragment of their text; the exact
 * wording is pinned by the golden tests in tests/golden/check).
 * Exports shape_suite(); the runner is tests/unit/main.c.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "nnc.h"

Suite *shape_suite(void);

/* ---- helpers ------------------------------------------------------------ */

typedef struct Run {
	Arena *arena;
	IrProgram *p;
	IrModel *m;                /* the first model */
	int nerrors, nwarnings;
	char msgs[16384];          /* everything the phases printed */
} Run;

/* Compiles src; the caller frees r->arena with done(). */
static void compile(Run *r, const char *src)
{
	memset(r, 0, sizeof *r);
	r->arena = arena_new();
	const Source *s = source_from_memory(r->arena, "t.nn", src, strlen(src));
	FILE *out = tmpfile();
	ck_assert_ptr_nonnull(out);
	Diag d;
	diag_init(&d, s, out);
	d.max_errors = 1000;
	AstFile *f = parse_file(r->arena, s, &d);
	CustomAct **acts = expr_resolve_all(r->arena, f, &d);
	r->p = lower_file(r->arena, f, acts, &d);
	shape_check(r->arena, r->p, &d);
	r->m = r->p->nmodels ? r->p->models[0] : NULL;
	r->nerrors = d.nerrors;
	r->nwarnings = d.nwarnings;
	rewind(out);
	size_t n = fread(r->msgs, 1, sizeof r->msgs - 1, out);
	r->msgs[n] = '\0';
	fclose(out);
}

static void done(Run *r)
{
	arena_free(r->arena);
}

/* The node named `name` in r's first model. */
static IrNode *node(Run *r, const char *name)
{
	for (int i = 0; i < r->m->nnodes; i++)
		if (strcmp(r->m->nodes[i]->name, name) == 0)
			return r->m->nodes[i];
	ck_abort_msg("no node named %s", name);
	return NULL;
}

static Shape shape1(int64_t a)
{
	Shape s = {1, {a}};
	return s;
}

static Shape shape2(int64_t a, int64_t b)
{
	Shape s = {2, {a, b}};
	return s;
}

#define ck_assert_shape(got, want) \
	ck_assert_msg(shape_equal((got), (want)), "shape mismatch")

/* Asserts that compiling src gives exactly `errors` errors, the first of
 * which contains `fragment`. */
static void expect_error(const char *src, int errors, const char *fragment)
{
	Run r;
	compile(&r, src);
	ck_assert_int_eq(r.nerrors, errors);
	ck_assert_msg(strstr(r.msgs, fragment) != NULL,
	              "expected '%s' in:\n%s", fragment, r.msgs);
	ck_assert(!r.m || !r.m->ok || r.p->nmodels > 1);
	done(&r);
}

/* ---- ir.c helpers --------------------------------------------------------- */

START_TEST(test_shape_helpers)
{
	Arena *a = arena_new();
	Shape unknown = {-1, {0}};
	ck_assert_int_eq(shape_size(shape2(28, 28)), 784);
	ck_assert_int_eq(shape_size(unknown), -1);
	ck_assert(shape_equal(shape1(3), shape1(3)));
	ck_assert(!shape_equal(shape1(3), shape1(4)));
	ck_assert(!shape_equal(shape1(3), shape2(3, 1)));
	ck_assert_str_eq(shape_str(a, shape2(28, 28)), "[28, 28]");
	ck_assert_str_eq(shape_str(a, shape1(16)), "[16]");
	ck_assert_str_eq(shape_str(a, unknown), "[?]");
	arena_free(a);
}
END_TEST

START_TEST(test_format_numbers)
{
	char buf[IR_NUM_BUF];
	ck_assert_str_eq(ir_fmt_num(buf, 0.01), "0.01");
	ck_assert_str_eq(ir_fmt_num(buf, 1e-7), "1e-07");
	ck_assert_str_eq(ir_fmt_num(buf, 100), "100");
	ck_assert_str_eq(ir_fmt_num(buf, 0), "0");
	ck_assert_str_eq(ir_fmt_num(buf, -2.5), "-2.5");
	ck_assert_str_eq(ir_fmt_num(buf, 0.1 + 0.2), "0.30000000000000004");
	ck_assert_str_eq(ir_fmt_num(buf, 1e16), "1e+16");
	ck_assert_str_eq(ir_fmt_num(buf, 0.0001), "0.0001");
	ck_assert_str_eq(ir_fmt_count(buf, 235146), "235,146");
	ck_assert_str_eq(ir_fmt_count(buf, 999), "999");
	ck_assert_str_eq(ir_fmt_count(buf, 1000000), "1,000,000");
	ck_assert_str_eq(ir_fmt_count(buf, 0), "0");
}
END_TEST

START_TEST(test_optimizer_defaults)
{
	char buf[IR_OPT_BUF];
	Optimizer o = ir_opt_default(OPT_ADAM);
	ck_assert(o.learning_rate == 0.001 && o.beta_1 == 0.9 &&
	          o.beta_2 == 0.999 && o.epsilon == 1e-7);
	ck_assert_str_eq(ir_fmt_opt(buf, &o), "adam(learning_rate=0.001, "
	                 "beta_1=0.9, beta_2=0.999, epsilon=1e-07)");
	o = ir_opt_default(OPT_SGD);
	ck_assert_str_eq(ir_fmt_opt(buf, &o), "sgd(learning_rate=0.01, "
	                 "momentum=0, nesterov=false)");
}
END_TEST

/* ---- shapes and parameters ----------------------------------------------- */

static const char wide_deep[] =
	"activation swish(x) = x * sigmoid(x)\n"
	"model wide_deep {\n"
	"    input x[3]\n"
	"    deep = x -> dense(16, swish) -> dense(16, relu)\n"
	"    wide = x -> dense(4)\n"
	"    output y = concat(deep, wide) -> dropout(0.1) -> dense(3, softmax)\n"
	"    loss sparse_categorical_crossentropy\n"
	"    optimizer adam(learning_rate = 0.001)\n"
	"    metrics accuracy\n"
	"    seed 7\n"
	"}\n";

START_TEST(test_wide_deep)
{
	Run r;
	compile(&r, wide_deep);
	ck_assert_int_eq(r.nerrors, 0);
	ck_assert_int_eq(r.nwarnings, 0);
	ck_assert(r.m->ok);
	ck_assert_int_eq(r.m->nnodes, 7);
	ck_assert_ptr_eq(r.m->nodes[0], r.m->input);
	ck_assert_ptr_eq(node(&r, "y"), r.m->output);
	ck_assert_int_eq(r.m->total_params, 415);

	IrNode *d1 = node(&r, "dense_1");
	ck_assert_int_eq(d1->act.kind, ACT_CUSTOM);
	ck_assert_str_eq(act_name(d1->act), "swish");
	ck_assert_shape(d1->wshape, shape2(16, 3));
	ck_assert_shape(d1->bshape, shape1(16));
	ck_assert_int_eq(d1->nparams, 64);
	ck_assert_int_eq(node(&r, "deep")->nparams, 272);
	ck_assert_str_eq(node(&r, "deep")->tensor, "deep");
	ck_assert_shape(node(&r, "concat_1")->shape, shape1(20));
	ck_assert_int_eq(node(&r, "concat_1")->ninputs, 2);
	ck_assert(node(&r, "dropout_1")->rate == 0.1);
	ck_assert_shape(node(&r, "y")->shape, shape1(3));
	ck_assert_int_eq(node(&r, "y")->nparams, 63);
	for (int i = 0; i < r.m->nnodes; i++)
		ck_assert(r.m->nodes[i]->reaches_output);

	const Training *t = &r.m->train;
	ck_assert_int_eq(t->loss, LOSS_SCCE);
	ck_assert_int_eq(t->opt.kind, OPT_ADAM);
	ck_assert(t->opt.beta_2 == 0.999);
	ck_assert(t->metrics[METRIC_ACCURACY] && !t->metrics[METRIC_MAE]);
	ck_assert_int_eq(t->batch, 32);
	ck_assert_int_eq(t->epochs, 1);
	ck_assert_uint_eq(t->seed, 7);
	ck_assert(t->shuffle);
	done(&r);
}
END_TEST

START_TEST(test_sequential_names_and_defaults)
{
	Run r;
	compile(&r, "model m {\n input x[3]\n dense(4, tanh)\n relu\n"
	            " dense(5, use_bias = false) -> relu\n dense(2)\n"
	            " loss mse\n}\n");
	ck_assert_int_eq(r.nerrors, 0);
	const char *names[] = {"x", "dense_1", "relu_1", "dense_2", "relu_2",
	                       "dense_3"};
	ck_assert_int_eq(r.m->nnodes, 6);
	for (int i = 0; i < 6; i++) {
		ck_assert_str_eq(r.m->nodes[i]->name, names[i]);
		ck_assert_int_eq(r.m->nodes[i]->id, i);
		if (i)
			ck_assert_ptr_eq(r.m->nodes[i]->inputs[0], r.m->nodes[i - 1]);
	}
	IrNode *d2 = node(&r, "dense_2");
	ck_assert(!d2->use_bias);
	ck_assert_int_eq(d2->bshape.rank, 0);
	ck_assert_int_eq(d2->nparams, 20);
	ck_assert_int_eq(r.m->total_params, 16 + 20 + 12);
	ck_assert_ptr_eq(r.m->output, node(&r, "dense_3"));
	ck_assert_int_eq(r.m->train.opt.kind, OPT_SGD);
	ck_assert(r.m->train.opt.learning_rate == 0.01);
	ck_assert_int_eq(r.m->train.loss_loc.first_line, 7);
	done(&r);
}
END_TEST

START_TEST(test_flatten_and_concat_ranks)
{
	Run r;
	compile(&r, "model m {\n input img[2, 3, 4]\n a = img -> relu\n"
	            " b = img -> tanh\n c = concat(a, b, img)\n"
	            " f = c -> flatten\n output y = f -> dense(1)\n"
	            " loss mse\n}\n");
	ck_assert_int_eq(r.nerrors, 0);
	Shape c = {3, {2, 3, 12}};
	ck_assert_shape(node(&r, "c")->shape, c);
	ck_assert_shape(node(&r, "f")->shape, shape1(72));
	ck_assert_int_eq(node(&r, "y")->nparams, 73);
	done(&r);
}
END_TEST

START_TEST(test_alias_and_output_statement)
{
	Run r;
	compile(&r, "model m {\n input x[2]\n h = x\n a = h -> dense(2)\n"
	            " s = add(a, h)\n output s\n loss mse\n}\n");
	ck_assert_int_eq(r.nerrors, 0);
	ck_assert_int_eq(r.m->nnodes, 3);      /* the alias makes no node */
	ck_assert_ptr_eq(node(&r, "a")->inputs[0], r.m->input);
	ck_assert_ptr_eq(r.m->output, node(&r, "s"));
	ck_assert_shape(r.m->output->shape, shape1(2));
	done(&r);
}
END_TEST

/* ---- shape errors -------------------------------------------------------- */

START_TEST(test_dense_needs_vector)
{
	expect_error("model m {\n input img[28, 28]\n dense(8)\n dense(2)\n"
	             " loss mse\n}\n", 1,
	             "dense expects a vector, but 'img' is [28, 28]");
}
END_TEST

START_TEST(test_merge_mismatch)
{
	expect_error("model m {\n input x[3]\n a = x -> dense(16)\n"
	             " b = x -> dense(4)\n output y = add(a, b)\n loss mse\n}\n",
	             1, "add needs tensors of the same shape, but 'a' is [16] "
	             "and 'b' is [4]");
	expect_error("model m {\n input x[3, 2]\n a = x -> relu\n"
	             " b = x -> flatten\n output y = concat(a, b)\n"
	             " loss mse\n}\n", 1, "concat needs tensors of the same rank");
}
END_TEST

START_TEST(test_unknown_shape_is_quiet)
{
	/* One bad layer: everything downstream has an unknown shape and no
	 * message of its own. */
	Run r;
	compile(&r, "model m {\n input img[4, 4]\n h = img -> dense(8)\n"
	            " a = h -> dense(4)\n b = img -> flatten\n"
	            " output y = add(a, b) -> dense(3, softmax)\n"
	            " loss categorical_crossentropy\n}\n");
	ck_assert_int_eq(r.nerrors, 1);
	ck_assert_int_eq(r.nwarnings, 0);
	ck_assert_int_eq(node(&r, "a")->shape.rank, -1);
	ck_assert_int_eq(node(&r, "y")->shape.rank, -1);
	ck_assert(!r.m->ok);
	done(&r);
}
END_TEST

START_TEST(test_overflow)
{
	expect_error("model m {\n input x[100000]\n dense(100000)\n"
	             " loss mse\n}\n", 1, "has too many parameters");
	expect_error("model m {\n input x[2147483647, 2147483647, 2147483647]\n"
	             " flatten\n dense(1)\n loss mse\n}\n", 1,
	             "is too large");
	expect_error("model m {\n input x[1000000]\n dense(1)\n loss mse\n"
	             " batch 100000\n}\n", 1, "lower 'batch'");
}
END_TEST

/* ---- loss and metrics ------------------------------------------------------ */

START_TEST(test_loss_fit)
{
	expect_error("model m {\n input x[3]\n dense(3)\n"
	             " loss categorical_crossentropy\n}\n", 1,
	             "needs a softmax output, but the output 'dense_1' has "
	             "activation linear");
	expect_error("model m {\n input x[3]\n dense(1, softmax)\n"
	             " loss sparse_categorical_crossentropy\n}\n", 1,
	             "needs at least 2 output units, but the output is [1]");
	expect_error("model m {\n input x[3]\n dense(2, relu)\n"
	             " loss binary_crossentropy\n}\n", 1,
	             "binary_crossentropy needs a sigmoid output");
	expect_error("model m {\n input x[3]\n dense(1)\n loss mse\n"
	             " metrics accuracy\n}\n", 1,
	             "accuracy needs a classification loss, but the loss is mse");

	Run r;
	compile(&r, "model m {\n input x[3]\n dense(5, sigmoid)\n"
	            " loss binary_crossentropy\n metrics accuracy, mae\n}\n");
	ck_assert_int_eq(r.nerrors, 0);
	done(&r);
}
END_TEST

START_TEST(test_no_loss_warning)
{
	Run r;
	compile(&r, "model m {\n input x[3]\n dense(1)\n}\n");
	ck_assert_int_eq(r.nerrors, 0);
	ck_assert_int_eq(r.nwarnings, 1);
	ck_assert(strstr(r.msgs, "has no loss") != NULL);
	ck_assert_int_eq(r.m->train.loss, LOSS_NONE);
	ck_assert(r.m->ok);
	done(&r);
}
END_TEST

/* ---- reachability ------------------------------------------------------------ */

START_TEST(test_unused_tensor)
{
	Run r;
	compile(&r, "model m {\n input x[3]\n a = x -> dense(4)\n"
	            " b = a -> dense(2)\n output y = x -> dense(1)\n"
	            " loss mse\n}\n");
	ck_assert_int_eq(r.nerrors, 0);
	ck_assert_int_eq(r.nwarnings, 1);    /* b only: a feeds b */
	ck_assert(strstr(r.msgs, "tensor 'b' is never used") != NULL);
	ck_assert(!node(&r, "a")->reaches_output);
	ck_assert(!node(&r, "b")->reaches_output);
	ck_assert(node(&r, "y")->reaches_output);
	ck_assert(r.m->input->reaches_output);
	done(&r);
}
END_TEST

/* ---- names ------------------------------------------------------------------- */

START_TEST(test_name_errors)
{
	expect_error("model m {\n input x[3]\n dens(4)\n loss mse\n}\n", 1,
	             "unknown layer 'dens'; did you mean 'dense'?");
	expect_error("model m {\n input x[3]\n h = x -> dense(4)\n"
	             " h = x -> dense(4)\n loss mse\n}\n", 1,
	             "redefinition of tensor 'h'");
	expect_error("model m {\n input x[3]\n relu = x -> dense(4)\n"
	             " loss mse\n}\n", 1, "'relu' is an activation name");
	expect_error("model m {\n input x[3]\n a = concat(x, b)\n"
	             " b = x -> dense(2)\n loss mse\n}\n", 1,
	             "tensor 'b' is used before it is defined");
	expect_error("model m {\n input x[3]\n dense_2 = x -> dense(4)\n"
	             " dense(2)\n dense(1)\n loss mse\n}\n", 1,
	             "name 'dense_2' clashes with the automatic name of the "
	             "dense layer at 5:2");
	expect_error("model m {\n input x[3]\n input z[3]\n loss mse\n}\n", 1,
	             "only one input");
	expect_error("model m {\n dense(4)\n loss mse\n}\n", 1,
	             "layer 'dense' has no input");
	expect_error("model m {\n loss mse\n}\n", 1, "model 'm' has no input");
}
END_TEST

START_TEST(test_setting_errors)
{
	expect_error("model m {\n input x[3]\n dense(1)\n loss mse\n"
	             " optimizer adam(lr = 0.1)\n}\n", 1,
	             "unknown argument 'lr' for adam; did you mean "
	             "'learning_rate'?");
	expect_error("model m {\n input x[3]\n dense(1)\n loss mse\n"
	             " optimizer sgd(momentum = 1)\n}\n", 1,
	             "momentum must be in [0, 1), got 1");
	expect_error("model m {\n input x[3]\n dense(1)\n loss mse\n"
	             " batch 0\n}\n", 1, "batch must be a positive integer");
	expect_error("model m {\n input x[3]\n dense(1)\n loss mse\n"
	             " epoch 3\n}\n", 1, "did you mean 'epochs'?");
	expect_error("model m {\n input x[3]\n dense(1)\n loss mse\n"
	             " loss mae\n}\n", 1, "duplicate 'loss' setting");
}
END_TEST

START_TEST(test_several_models)
{
	Run r;
	compile(&r, "model a {\n input x[3]\n dense(1)\n loss mse\n}\n"
	            "model b {\n input x[3]\n dense(0)\n loss mse\n}\n"
	            "model a {\n input x[3]\n dense(1)\n loss mse\n}\n");
	ck_assert_int_eq(r.p->nmodels, 3);
	ck_assert_int_eq(r.nerrors, 2);
	ck_assert(r.p->models[0]->ok);
	ck_assert(!r.p->models[1]->ok);
	ck_assert(!r.p->models[2]->ok);
	ck_assert(strstr(r.msgs, "redefinition of model 'a'") != NULL);
	done(&r);
}
END_TEST

/* A flat sum is not nesting: the parser takes any length, and expr.c's
 * own limits decide (EXPR_MAX_DEPTH levels of the tree). */
static char *flat_sum(int terms)
{
	const char *head = "activation f(x) = x";
	const char *tail = "\nmodel m {\n input x[3]\n dense(1, f)\n loss mse\n}\n";
	char *s = malloc(strlen(head) + 4 * (size_t)terms + strlen(tail) + 1);
	char *p = s + sprintf(s, "%s", head);
	for (int i = 1; i < terms; i++)
		p += sprintf(p, " + x");
	strcpy(p, tail);
	return s;
}

START_TEST(test_flat_sums)
{
	char *src = flat_sum(EXPR_MAX_DEPTH - 1);
	Run r;
	compile(&r, src);
	ck_assert_msg(r.nerrors == 0, "%s", r.msgs);
	ck_assert(r.p->acts[0]->ok);
	ck_assert(r.m->ok);
	done(&r);
	free(src);

	src = flat_sum(5000);
	compile(&r, src);
	ck_assert_int_eq(r.nerrors, 1);
	ck_assert_ptr_nonnull(strstr(r.msgs, "error: activation 'f' is too "
	                             "large (limit: 100000 nodes / depth 1000)"));
	done(&r);
	free(src);
}
END_TEST

/* Parts of a file the parser could not read are not reported again by
 * later phases: their uses, and what they might have provided. */
START_TEST(test_quiet_after_syntax_errors)
{
	Run r;
	compile(&r, "activation f(x) = x +\n"
	            "model m {\n input output[3]\n dense(4, f) -> f\n"
	            " dense(2, relu\n loss mse\n metrics mae\n}\n");
	ck_assert_int_eq(r.nerrors, 3);   /* the three syntax errors */
	ck_assert_int_eq(r.nwarnings, 0);
	ck_assert(r.m->incomplete);
	ck_assert(!r.p->acts[0]->ok);
	done(&r);

	/* A complete model still gets them. */
	compile(&r, "model m {\n dense(4)\n metrics mae\n}\n");
	ck_assert(!r.m->incomplete);
	ck_assert_ptr_nonnull(strstr(r.msgs, "has no input"));
	ck_assert_ptr_nonnull(strstr(r.msgs, "metrics need a loss"));
	ck_assert_ptr_nonnull(strstr(r.msgs, "has no loss"));
	done(&r);
}
END_TEST

/* A file without a model passes with a warning, unless it has errors
 * (a model whose header failed to parse, say). */
START_TEST(test_no_model)
{
	Run r;
	compile(&r, "# nothing\nactivation f(x) = x\n");
	ck_assert_int_eq(r.nerrors, 0);
	ck_assert_int_eq(r.nwarnings, 1);
	ck_assert_ptr_nonnull(strstr(r.msgs, "t.nn: warning: this file defines "
	                             "no model\n"));
	done(&r);
	compile(&r, "");
	ck_assert_int_eq(r.nwarnings, 1);
	done(&r);
	compile(&r, "model {\n input x[3]\n}\n");
	ck_assert_int_eq(r.nerrors, 1);
	ck_assert_int_eq(r.nwarnings, 0);
	done(&r);
}
END_TEST

Suite *shape_suite(void)
{
	Suite *s = suite_create("shape");
	TCase *tc = tcase_create("ir");
	tcase_add_test(tc, test_shape_helpers);
	tcase_add_test(tc, test_format_numbers);
	tcase_add_test(tc, test_optimizer_defaults);
	suite_add_tcase(s, tc);

	tc = tcase_create("shapes");
	tcase_add_test(tc, test_wide_deep);
	tcase_add_test(tc, test_sequential_names_and_defaults);
	tcase_add_test(tc, test_flatten_and_concat_ranks);
	tcase_add_test(tc, test_alias_and_output_statement);
	tcase_add_test(tc, test_dense_needs_vector);
	tcase_add_test(tc, test_merge_mismatch);
	tcase_add_test(tc, test_unknown_shape_is_quiet);
	tcase_add_test(tc, test_overflow);
	suite_add_tcase(s, tc);

	tc = tcase_create("model");
	tcase_add_test(tc, test_loss_fit);
	tcase_add_test(tc, test_no_loss_warning);
	tcase_add_test(tc, test_unused_tensor);
	tcase_add_test(tc, test_name_errors);
	tcase_add_test(tc, test_setting_errors);
	tcase_add_test(tc, test_several_models);
	tcase_add_test(tc, test_flat_sums);
	tcase_add_test(tc, test_quiet_after_syntax_errors);
	tcase_add_test(tc, test_no_model);
	suite_add_tcase(s, tc);
	return s;
}

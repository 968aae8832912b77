/*
 * test_expr.c — unit tests of expr.c: derivatives against finite
 * differences, the printed form of simplified derivatives, printing with
 * minimal parentheses, resolution of custom activations (inlining, every
 * error message) and the size limits.
 *
 * The trees are built by hand, so these tests do not depend on the parser.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L   /* open_memstream */
#endif

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnc.h"

Suite *expr_suite(void);

/* Every test allocates its trees from this arena (set up per test). */
static Arena *A;

static void setup(void)
{
	A = arena_new();
}

static void teardown(void)
{
	arena_free(A);
	A = NULL;
}

/* ---- building expressions ---- */

static Expr *node(ExprKind kind, Expr *lhs, Expr *rhs)
{
	Expr *e = arena_alloc(A, sizeof *e);
	e->kind = kind;
	e->lhs = lhs;
	e->rhs = rhs;
	return e;
}

static Expr *N(double v)
{
	Expr *e = node(EXPR_NUM, NULL, NULL);
	e->num = v;
	return e;
}

static Expr *V(const char *name)
{
	Expr *e = node(EXPR_VAR, NULL, NULL);
	e->name = name;
	return e;
}

static Expr *X(void) { return V("x"); }
static Expr *NEG(Expr *e) { return node(EXPR_NEG, e, NULL); }
static Expr *ADD(Expr *l, Expr *r) { return node(EXPR_ADD, l, r); }
static Expr *SUB(Expr *l, Expr *r) { return node(EXPR_SUB, l, r); }
static Expr *MUL(Expr *l, Expr *r) { return node(EXPR_MUL, l, r); }
static Expr *DIV(Expr *l, Expr *r) { return node(EXPR_DIV, l, r); }
static Expr *POW(Expr *l, Expr *r) { return node(EXPR_POW, l, r); }

/* A call as the parser leaves it: a name, fn == FN_NONE. */
static Expr *CALL(const char *name, Expr *arg)
{
	Expr *e = node(EXPR_CALL, arg, NULL);
	e->name = name;
	return e;
}

/* A resolved call of a built-in. */
static Expr *FN(Func fn, Expr *arg)
{
	Expr *e = CALL(func_names[fn], arg);
	e->fn = fn;
	return e;
}

static Loc L(int line, int first, int last)
{
	return (Loc){line, first, line, last};
}

static Expr *at(Expr *e, Loc loc)
{
	e->loc = loc;
	return e;
}

/* The printed form of e, in the arena. */
static const char *str(const Expr *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	expr_print(f, e);
	fclose(f);
	const char *s = arena_strdup(A, buf);
	free(buf);
	return s;
}

/* ---- finite differences ---- */

static const double POINTS[] = {-2.3, -0.7, 0.4, 1.9};
static const double POSITIVE[] = {0.4, 0.7, 1.9, 2.3};

/* Checks expr_diff(f) against central differences with h = 1e-5, to a
 * relative tolerance of 1e-6. */
static void check_fd_at(const Expr *f, const double *xs, int n)
{
	const double h = 1e-5;
	Expr *df = expr_diff(A, f);
	for (int i = 0; i < n; i++) {
		double x = xs[i];
		double fd = (expr_eval(f, x + h) - expr_eval(f, x - h)) / (2 * h);
		double an = expr_eval(df, x);
		ck_assert_msg(isfinite(an) && fabs(fd - an) <= 1e-6 * fmax(1, fabs(an)),
		              "d/dx %s at %g: finite difference %.12g, derivative "
		              "%s = %.12g", str(f), x, fd, str(df), an);
	}
}

static void check_fd(const Expr *f)
{
	check_fd_at(f, POINTS, 4);
}

static void check_fd_positive(const Expr *f)
{
	check_fd_at(f, POSITIVE, 4);
}

/* ---- diagnostics ---- */

typedef struct Fixture {
	Source *src;
	Diag d;
	FILE *out;
	char *buf;
	size_t len;
	AstFile file;
	AstActivation **tail;
} Fixture;

static void fx_init(Fixture *fx, const char *text)
{
	memset(fx, 0, sizeof *fx);
	fx->src = source_from_memory(A, "t.nn", text, strlen(text));
	fx->out = open_memstream(&fx->buf, &fx->len);
	ck_assert_ptr_nonnull(fx->out);
	diag_init(&fx->d, fx->src, fx->out);
	fx->d.color = false;
	fx->file.src = fx->src;
	fx->tail = &fx->file.activations;
}

/* Appends `activation name(param) = body`, the name at name_loc and the
 * parameter at param_loc. */
static AstActivation *fx_def(Fixture *fx, const char *name, Loc name_loc,
                             const char *param, Loc param_loc, Expr *body)
{
	AstActivation *act = arena_alloc(A, sizeof *act);
	act->loc = name_loc;
	act->name = name;
	act->name_loc = name_loc;
	act->param = param;
	act->param_loc = param_loc;
	act->body = body;
	*fx->tail = act;
	fx->tail = &act->next;
	return act;
}

/* A definition whose locations do not matter. */
static AstActivation *fx_simple(Fixture *fx, const char *name, Expr *body)
{
	return fx_def(fx, name, L(1, 1, 1), "x", L(1, 1, 1), body);
}

/* Resolves and returns the diagnostics printed (in the arena). */
static CustomAct **fx_resolve(Fixture *fx, const char **out)
{
	CustomAct **acts = expr_resolve_all(A, &fx->file, &fx->d);
	fflush(fx->out);
	*out = arena_strndup(A, fx->buf, fx->len);
	return acts;
}

static void fx_free(Fixture *fx)
{
	fclose(fx->out);
	free(fx->buf);
}

#define ck_assert_contains(hay, needle) \
	ck_assert_msg(strstr((hay), (needle)) != NULL, \
	              "expected \"%s\" in:\n%s", (needle), (hay))

/* ====================================================================== */

START_TEST(test_func_names)
{
	ck_assert_ptr_null(func_names[FN_NONE]);
	ck_assert_str_eq(func_names[FN_EXP], "exp");
	ck_assert_str_eq(func_names[FN_SIGMOID], "sigmoid");
	ck_assert_str_eq(func_names[FN_ABS], "abs");
	ck_assert_str_eq(func_names[FN_STEP], "step");
	for (int f = FN_NONE + 1; f < FN_COUNT; f++)
		ck_assert_ptr_nonnull(func_names[f]);
}
END_TEST

START_TEST(test_eval)
{
	ck_assert_double_eq(expr_eval(FN(FN_STEP, X()), 0), 0);
	ck_assert_double_eq(expr_eval(FN(FN_STEP, X()), 1e-300), 1);
	ck_assert_double_eq(expr_eval(FN(FN_RELU, X()), 0), 0);
	ck_assert_double_eq(expr_eval(FN(FN_RELU, X()), -3), 0);
	ck_assert_double_eq(expr_eval(FN(FN_RELU, X()), 2.5), 2.5);
	ck_assert_double_eq(expr_eval(FN(FN_SIGMOID, X()), 0), 0.5);
	/* Stable at both ends: no inf / inf. */
	ck_assert_double_eq(expr_eval(FN(FN_SIGMOID, X()), -1000), 0);
	ck_assert_double_eq(expr_eval(FN(FN_SIGMOID, X()), 1000), 1);
	ck_assert_double_eq_tol(expr_eval(FN(FN_SIGMOID, X()), -800), 0, 1e-300);
	ck_assert_double_eq(expr_eval(FN(FN_ABS, X()), -2), 2);
	ck_assert_double_eq(expr_eval(POW(X(), N(3)), 2), 8);
	ck_assert_double_eq(expr_eval(DIV(N(1), X()), 4), 0.25);
	ck_assert_double_eq(expr_eval(NEG(SUB(X(), N(1))), 4), -3);
	ck_assert_double_eq_tol(expr_eval(FN(FN_LOG, FN(FN_EXP, X())), 0.3), 0.3,
	                        1e-15);
}
END_TEST

START_TEST(test_diff_builtins)
{
	/* Each function of x, and of an argument that exercises the chain
	 * rule: 0.7x - 0.2, or 1.3 + 0.5x^2 where only positive ones will do. */
	for (int fn = FN_NONE + 1; fn < FN_COUNT; fn++) {
		if (fn == FN_STEP)
			continue;
		bool positive = fn == FN_LOG || fn == FN_SQRT;
		Expr *u = positive ? ADD(N(1.3), MUL(N(0.5), POW(X(), N(2))))
		                   : SUB(MUL(N(0.7), X()), N(0.2));
		if (positive)
			check_fd_positive(FN((Func)fn, X()));
		else
			check_fd(FN((Func)fn, X()));
		check_fd(FN((Func)fn, u));
	}
	/* relu and abs on both sides of their kink. */
	check_fd(FN(FN_RELU, NEG(X())));
	check_fd(FN(FN_ABS, SUB(X(), N(1))));
	/* step is flat. */
	ck_assert_str_eq(str(expr_diff(A, FN(FN_STEP, X()))), "0");
}
END_TEST

START_TEST(test_diff_pow)
{
	const double cs[] = {2, 3, 1, 0, -1, -2, 7};
	for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
		check_fd(POW(X(), N(cs[i])));
	check_fd_positive(POW(X(), N(0.5)));
	check_fd_positive(POW(X(), N(-2.5)));
	check_fd_positive(POW(X(), NEG(N(1.5))));
	check_fd(POW(ADD(X(), N(3)), MUL(N(2), N(3))));
	check_fd(POW(FN(FN_SIN, X()), N(3)));
	check_fd(POW(N(2), N(3)));
	/* x^x never gets through resolution, but expr_diff handles it. */
	check_fd_positive(POW(X(), X()));
	check_fd(POW(N(2), X()));
}
END_TEST

START_TEST(test_diff_quotient)
{
	check_fd(DIV(N(1), X()));
	check_fd(DIV(X(), N(3)));
	check_fd(DIV(ADD(POW(X(), N(2)), N(1)), SUB(X(), N(3))));
	check_fd(DIV(FN(FN_SIN, X()), ADD(N(2), FN(FN_COS, X()))));
	check_fd(DIV(N(3), NEG(ADD(POW(X(), N(2)), N(1)))));
	check_fd(DIV(DIV(X(), ADD(N(1), POW(X(), N(2)))), ADD(X(), N(4))));
}
END_TEST

START_TEST(test_diff_compositions)
{
	/* sigmoid(2x)^2 */
	check_fd(POW(FN(FN_SIGMOID, MUL(N(2), X())), N(2)));
	/* softplus */
	check_fd(FN(FN_LOG, ADD(N(1), FN(FN_EXP, X()))));
	/* mish */
	check_fd(MUL(X(), FN(FN_TANH, FN(FN_LOG, ADD(N(1), FN(FN_EXP, X()))))));
	/* swish */
	check_fd(MUL(X(), FN(FN_SIGMOID, X())));
	/* x^3 / (1 + abs(x)) */
	check_fd(DIV(POW(X(), N(3)), ADD(N(1), FN(FN_ABS, X()))));
	/* leaky relu, gelu-like, and some signs */
	check_fd(SUB(FN(FN_RELU, X()), MUL(N(0.01), FN(FN_RELU, NEG(X())))));
	check_fd(MUL(MUL(N(0.5), X()),
	             ADD(N(1), FN(FN_TANH, MUL(N(0.7978845608),
	                                       ADD(X(), MUL(N(0.044715),
	                                                    POW(X(), N(3)))))))));
	check_fd(NEG(POW(X(), N(2))));
	check_fd(SUB(N(1), NEG(MUL(X(), FN(FN_COS, X())))));
	check_fd(MUL(FN(FN_EXP, FN(FN_SIN, X())), FN(FN_COS, POW(X(), N(2)))));
	check_fd(FN(FN_SQRT, ADD(N(1), MUL(X(), X()))));
	check_fd(FN(FN_TAN, FN(FN_TANH, MUL(N(3), X()))));
	check_fd(MUL(NEG(X()), NEG(FN(FN_SIN, MUL(N(-2), X())))));
	check_fd(ADD(MUL(N(2), X()), MUL(N(3), MUL(X(), N(4)))));
	check_fd(FN(FN_ABS, FN(FN_SIN, X())));
}
END_TEST

/* The derivative of f, printed. */
static const char *dstr(const Expr *f)
{
	return str(expr_diff(A, f));
}

START_TEST(test_diff_printed)
{
	ck_assert_str_eq(dstr(MUL(N(2), X())), "2");
	ck_assert_str_eq(dstr(POW(X(), N(2))), "2 * x");
	ck_assert_str_eq(dstr(POW(X(), N(3))), "3 * x^2");
	ck_assert_str_eq(dstr(POW(X(), N(0.5))), "0.5 * x^-0.5");
	ck_assert_str_eq(dstr(POW(X(), NEG(N(1)))), "-x^-2");
	ck_assert_str_eq(dstr(MUL(X(), FN(FN_SIGMOID, X()))),
	                 "sigmoid(x) + x * (sigmoid(x) * (1 - sigmoid(x)))");
	ck_assert_str_eq(dstr(MUL(X(), FN(FN_TANH, FN(FN_LOG, ADD(N(1),
	                                                   FN(FN_EXP, X())))))),
	                 "tanh(log(1 + exp(x))) + x * ((1 - tanh(log(1 + exp(x)))^2)"
	                 " * (exp(x) / (1 + exp(x))))");
	ck_assert_str_eq(dstr(DIV(POW(X(), N(3)), ADD(N(1), FN(FN_ABS, X())))),
	                 "(3 * x^2 * (1 + abs(x)) - x^3 * (step(x) - step(-x)))"
	                 " / (1 + abs(x))^2");
	ck_assert_str_eq(dstr(POW(FN(FN_SIGMOID, MUL(N(2), X())), N(2))),
	                 "4 * sigmoid(2 * x) * (sigmoid(2 * x) * "
	                 "(1 - sigmoid(2 * x)))");
	ck_assert_str_eq(dstr(FN(FN_COS, X())), "-sin(x)");
	ck_assert_str_eq(dstr(FN(FN_COS, MUL(N(2), X()))), "-2 * sin(2 * x)");
	ck_assert_str_eq(dstr(MUL(X(), FN(FN_COS, X()))), "cos(x) - x * sin(x)");
	ck_assert_str_eq(dstr(FN(FN_LOG, X())), "1 / x");
	ck_assert_str_eq(dstr(FN(FN_SQRT, X())), "1 / (2 * sqrt(x))");
	ck_assert_str_eq(dstr(DIV(N(1), X())), "-1 / x^2");
	ck_assert_str_eq(dstr(DIV(N(3), X())), "-3 / x^2");
	ck_assert_str_eq(dstr(DIV(X(), N(3))), "1 / 3");
	ck_assert_str_eq(dstr(DIV(X(), N(4))), "0.25");
	ck_assert_str_eq(dstr(FN(FN_EXP, MUL(N(2), X()))), "2 * exp(2 * x)");
	ck_assert_str_eq(dstr(FN(FN_RELU, X())), "step(x)");
	ck_assert_str_eq(dstr(FN(FN_ABS, X())), "step(x) - step(-x)");
	ck_assert_str_eq(dstr(FN(FN_TAN, X())), "1 + tan(x)^2");
	ck_assert_str_eq(dstr(FN(FN_TANH, X())), "1 - tanh(x)^2");
	ck_assert_str_eq(dstr(NEG(X())), "-1");
	ck_assert_str_eq(dstr(SUB(X(), MUL(N(3), X()))), "-2");
	ck_assert_str_eq(dstr(N(5)), "0");
	ck_assert_str_eq(dstr(SUB(FN(FN_RELU, X()), MUL(N(0.01),
	                                               FN(FN_RELU, NEG(X()))))),
	                 "step(x) + 0.01 * step(-x)");
}
END_TEST

START_TEST(test_simplify)
{
#define SIMP(e, want) ck_assert_str_eq(str(expr_simplify(A, (e))), (want))
	SIMP(ADD(N(0), X()), "x");
	SIMP(ADD(X(), N(0)), "x");
	SIMP(MUL(X(), N(1)), "x");
	SIMP(MUL(N(1), X()), "x");
	SIMP(MUL(X(), N(0)), "0");
	SIMP(POW(X(), N(1)), "x");
	SIMP(POW(X(), N(0)), "1");
	SIMP(NEG(NEG(X())), "x");
	SIMP(SUB(X(), N(0)), "x");
	SIMP(SUB(N(0), X()), "-x");
	SIMP(DIV(X(), N(1)), "x");
	SIMP(DIV(N(0), X()), "0");
	SIMP(ADD(MUL(N(2), N(3)), X()), "6 + x");
	SIMP(MUL(X(), N(2)), "2 * x");
	SIMP(MUL(N(2), MUL(N(3), X())), "6 * x");
	SIMP(MUL(NEG(X()), NEG(X())), "x * x");
	SIMP(ADD(X(), NEG(FN(FN_SIN, X()))), "x - sin(x)");
	SIMP(ADD(NEG(FN(FN_SIN, X())), FN(FN_COS, X())), "cos(x) - sin(x)");
	SIMP(SUB(X(), NEG(N(2))), "x + 2");
	SIMP(ADD(X(), N(-2)), "x - 2");
	SIMP(SUB(X(), MUL(N(-3), X())), "x + 3 * x");
	SIMP(NEG(SUB(X(), N(1))), "1 - x");
	SIMP(NEG(DIV(X(), N(3))), "-x / 3");
	SIMP(DIV(X(), NEG(FN(FN_EXP, X()))), "-x / exp(x)");
	SIMP(POW(N(2), N(10)), "1024");
	SIMP(POW(N(1), X()), "1");
	SIMP(DIV(N(6), N(3)), "2");
	SIMP(SUB(N(0.5), N(1)), "-0.5");
	SIMP(FN(FN_EXP, N(0)), "1");
	SIMP(FN(FN_SIGMOID, N(0)), "0.5");
	SIMP(FN(FN_RELU, NEG(N(3))), "0");
	/* Results that would print with more than 15 digits stay unfolded. */
	SIMP(DIV(N(1), N(3)), "1 / 3");
	SIMP(ADD(N(0.1), N(0.2)), "0.1 + 0.2");
	SIMP(FN(FN_SQRT, N(2)), "sqrt(2)");
	SIMP(FN(FN_LOG, N(0)), "log(0)");
	SIMP(MUL(N(0.1), MUL(N(3), X())), "0.1 * (3 * x)");
	/* Unresolved calls survive. */
	SIMP(CALL("swish", MUL(N(1), X())), "swish(x)");
#undef SIMP
	/* Simplification keeps the value. */
	Expr *e = SUB(MUL(NEG(X()), DIV(N(2), NEG(FN(FN_EXP, X())))),
	              MUL(N(3), MUL(X(), NEG(N(4)))));
	Expr *s = expr_simplify(A, e);
	for (int i = 0; i < 4; i++)
		ck_assert_double_eq_tol(expr_eval(s, POINTS[i]),
		                        expr_eval(e, POINTS[i]), 1e-12);
}
END_TEST

START_TEST(test_print)
{
#define PR(e, want) ck_assert_str_eq(str(e), (want))
	PR(MUL(X(), FN(FN_SIGMOID, X())), "x * sigmoid(x)");
	PR(NEG(POW(X(), N(2))), "-x^2");
	PR(POW(NEG(X()), N(2)), "(-x)^2");
	PR(POW(N(-2), X()), "(-2)^x");
	PR(SUB(X(), SUB(N(2), X())), "x - (2 - x)");
	PR(SUB(SUB(X(), N(2)), X()), "x - 2 - x");
	PR(DIV(X(), MUL(N(2), X())), "x / (2 * x)");
	PR(MUL(DIV(X(), N(2)), X()), "x / 2 * x");
	PR(MUL(X(), MUL(N(2), X())), "x * (2 * x)");
	PR(ADD(X(), ADD(N(1), X())), "x + (1 + x)");
	PR(ADD(X(), MUL(N(1), X())), "x + 1 * x");
	PR(MUL(ADD(X(), N(1)), X()), "(x + 1) * x");
	PR(POW(POW(X(), N(2)), N(3)), "(x^2)^3");
	PR(POW(X(), POW(N(2), N(3))), "x^2^3");
	PR(POW(X(), NEG(N(1))), "x^-1");
	PR(POW(X(), N(-1)), "x^-1");
	PR(POW(X(), MUL(N(2), N(3))), "x^(2 * 3)");
	PR(POW(ADD(X(), N(1)), N(2)), "(x + 1)^2");
	PR(POW(FN(FN_TANH, X()), N(2)), "tanh(x)^2");
	PR(NEG(ADD(X(), N(1))), "-(x + 1)");
	PR(NEG(MUL(X(), N(2))), "-(x * 2)");
	PR(NEG(NEG(X())), "-(-x)");
	PR(NEG(N(-2)), "-(-2)");
	PR(SUB(X(), NEG(X())), "x - -x");
	PR(MUL(N(-2), X()), "-2 * x");
	PR(NEG(FN(FN_SIN, X())), "-sin(x)");
	PR(FN(FN_EXP, ADD(X(), N(1))), "exp(x + 1)");
	PR(CALL("swish", X()), "swish(x)");
	PR(V("v"), "v");
	/* Numbers: the shortest form that reads back exactly. */
	PR(N(0.1), "0.1");
	PR(N(1.0 / 3), "0.3333333333333333");
	PR(N(2.0 / 3), "0.6666666666666666");
	PR(N(1e-7), "1e-07");
	PR(N(2.5e10), "2.5e+10");
	PR(N(123456789), "123456789");
	PR(N(1e300), "1e+300");
	PR(N(0.1 + 0.2), "0.30000000000000004");
	PR(N(-0.0), "0");
	PR(N(5e-324), "5e-324");
	PR(N(HUGE_VAL), "1e999");
#undef PR
	/* Round trip of awkward numbers. */
	const double vals[] = {0.1, 1.0 / 3, 3.141592653589793, 1e-310, 1.7976931348623157e308,
	                       123456789.123456789, 0.044715};
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
		ck_assert(strtod(str(N(vals[i])), NULL) == vals[i]);
}
END_TEST

/* ---- resolution ---- */

START_TEST(test_resolve_inline)
{
	Fixture fx;
	fx_init(&fx, "activation mish(x) = x * tanh(softplus(x))\n");
	/* mish calls softplus, defined after it; square's parameter is v. */
	fx_simple(&fx, "mish", MUL(X(), FN(FN_TANH, CALL("softplus", X()))));
	fx_def(&fx, "softplus", L(1, 1, 1), "t", L(1, 1, 1),
	       CALL("log", ADD(N(1), CALL("exp", V("t")))));
	fx_def(&fx, "square", L(1, 1, 1), "v", L(1, 1, 1), POW(V("v"), N(2)));
	fx_def(&fx, "sq2", L(1, 1, 1), "u", L(1, 1, 1), MUL(V("u"), V("u")));
	fx_simple(&fx, "g", CALL("sq2", ADD(X(), N(1))));
	fx_simple(&fx, "h", CALL("square", CALL("mish", MUL(N(2), X()))));
	fx_simple(&fx, "swish", MUL(X(), CALL("sigmoid", X())));
	fx_simple(&fx, "konst", ADD(N(2), N(3)));
	const char *out;
	CustomAct **acts = fx_resolve(&fx, &out);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(fx.d.nerrors, 0);
	for (int i = 0; i < 8; i++) {
		ck_assert_ptr_nonnull(acts[i]);
		ck_assert_msg(acts[i]->ok, "%s not ok", acts[i]->name);
	}
	ck_assert_ptr_null(acts[8]);
	ck_assert_str_eq(acts[0]->name, "mish");
	ck_assert_str_eq(acts[2]->param, "v");
	ck_assert_str_eq(str(acts[0]->f), "x * tanh(log(1 + exp(x)))");
	ck_assert_str_eq(str(acts[0]->df),
	                 "tanh(log(1 + exp(x))) + x * ((1 - tanh(log(1 + exp(x)))^2)"
	                 " * (exp(x) / (1 + exp(x))))");
	ck_assert_str_eq(str(acts[1]->f), "log(1 + exp(x))");
	ck_assert_str_eq(str(acts[1]->df), "exp(x) / (1 + exp(x))");
	ck_assert_str_eq(str(acts[2]->f), "x^2");
	ck_assert_str_eq(str(acts[2]->df), "2 * x");
	ck_assert_str_eq(str(acts[4]->f), "(x + 1) * (x + 1)");
	ck_assert_str_eq(str(acts[5]->f),
	                 "(2 * x * tanh(log(1 + exp(2 * x))))^2");
	ck_assert_str_eq(str(acts[6]->df),
	                 "sigmoid(x) + x * (sigmoid(x) * (1 - sigmoid(x)))");
	ck_assert_str_eq(str(acts[7]->f), "2 + 3");
	ck_assert_str_eq(str(acts[7]->df), "0");
	/* Resolved nodes: built-in fn set, variable named x. */
	ck_assert_int_eq(acts[1]->f->kind, EXPR_CALL);
	ck_assert_int_eq(acts[1]->f->fn, FN_LOG);
	ck_assert_str_eq(acts[2]->f->lhs->name, "x");
	check_fd(acts[5]->f);
	check_fd(acts[4]->f);
	fx_free(&fx);
}
END_TEST

START_TEST(test_resolve_keeps_locations)
{
	Fixture fx;
	fx_init(&fx, "activation sq(v) = v^2\nactivation f(x) = sq(x) + 1\n");
	fx_def(&fx, "sq", L(1, 12, 13), "v", L(1, 15, 15),
	       at(POW(at(V("v"), L(1, 20, 20)), at(N(2), L(1, 22, 22))),
	          L(1, 20, 22)));
	fx_def(&fx, "f", L(2, 12, 12), "x", L(2, 14, 14),
	       at(ADD(at(CALL("sq", at(X(), L(2, 22, 22))), L(2, 19, 23)),
	              at(N(1), L(2, 27, 27))), L(2, 19, 27)));
	const char *out;
	CustomAct **acts = fx_resolve(&fx, &out);
	ck_assert_str_eq(out, "");
	ck_assert(acts[1]->ok);
	ck_assert_int_eq(acts[1]->loc.first_line, 2);
	ck_assert_int_eq(acts[1]->loc.first_column, 12);
	const Expr *f = acts[1]->f;
	ck_assert_int_eq(f->loc.first_column, 19);              /* the + */
	ck_assert_int_eq(f->lhs->loc.first_line, 1);            /* sq's ^ */
	ck_assert_int_eq(f->lhs->lhs->loc.first_column, 22);    /* the argument */
	ck_assert_int_eq(f->rhs->loc.first_column, 27);
	fx_free(&fx);
}
END_TEST

START_TEST(test_err_unknown_function)
{
	Fixture fx;
	fx_init(&fx, "activation f(x) = sigmod(x)\n"
	             "activation g(x) = swsh(x) + frobnicate(x) + swsh(x)\n"
	             "activation swish(x) = x * sigmoid(x)\n");
	fx_def(&fx, "f", L(1, 12, 12), "x", L(1, 14, 14),
	       at(CALL("sigmod", X()), L(1, 19, 27)));
	fx_def(&fx, "g", L(2, 12, 12), "x", L(2, 14, 14),
	       ADD(ADD(at(CALL("swsh", X()), L(2, 19, 25)),
	               at(CALL("frobnicate", X()), L(2, 29, 41))),
	           at(CALL("swsh", X()), L(2, 45, 51))));
	fx_simple(&fx, "swish", MUL(X(), CALL("sigmoid", X())));
	const char *out;
	CustomAct **acts = fx_resolve(&fx, &out);
	ck_assert_str_eq(out,
		"t.nn:1:19: error: unknown function 'sigmod'; did you mean 'sigmoid'?\n"
		"    1 | activation f(x) = sigmod(x)\n"
		"      |                   ^~~~~~~~~\n"
		"t.nn:2:19: error: unknown function 'swsh'; did you mean 'swish'?\n"
		"    2 | activation g(x) = swsh(x) + frobnicate(x) + swsh(x)\n"
		"      |                   ^~~~~~~\n"
		"t.nn:2:29: error: unknown function 'frobnicate'\n"
		"    2 | activation g(x) = swsh(x) + frobnicate(x) + swsh(x)\n"
		"      |                             ^~~~~~~~~~~~~\n");
	ck_assert_int_eq(fx.d.nerrors, 3);
	ck_assert(!acts[0]->ok);
	ck_assert(!acts[1]->ok);
	ck_assert(acts[2]->ok);
	fx_free(&fx);
}
END_TEST

START_TEST(test_err_not_functions)
{
	Fixture fx;
	fx_init(&fx, "activation f(x) = softmax(x) + dense(x) + linear(x) + step(x)\n");
	fx_simple(&fx, "f", ADD(ADD(ADD(CALL("softmax", X()), CALL("dense", X())),
	                            CALL("linear", X())), CALL("step", X())));
	const char *out;
	CustomAct **acts = fx_resolve(&fx, &out);
	ck_assert_contains(out, "error: unknown function 'softmax'\n");
	ck_assert_contains(out, "note: softmax is not elementwise");
	ck_assert_contains(out, "error: unknown function 'dense'\n");
	ck_assert_contains(out, "note: 'dense' is a layer, not a function");
	ck_assert_contains(out, "error: unknown function 'linear'\n");
	ck_assert_contains(out, "error: unknown function 'step'");
	ck_assert_int_eq(fx.d.nerrors, 4);
	ck_assert(!acts[0]->ok);
	fx_free(&fx);
}
END_TEST

START_TEST(test_err_unknown_variable)
{
	Fixture fx;
	fx_init(&fx, "activation foo(x) = x * y + y\n");
	fx_def(&fx, "foo", L(1, 12, 14), "x", L(1, 16, 16),
	       ADD(MUL(X(), at(V("y"), L(1, 25, 25))), at(V("y"), L(1, 29, 29))));
	const char *out;
	CustomAct **acts = fx_resolve(&fx, &out);
	/* Reported once per name, with the parameter pointed out. */
	ck_assert_str_eq(out,
		"t.nn:1:25: error: unknown variable 'y' in activation 'foo'\n"
		"    1 | activation foo(x) = x * y + y\n"
		"      |                         ^\n"
		"t.nn:1:16: note: the parameter of 'foo' is 'x'\n"
		"    1 | activation foo(x) = x * y + y\n"
		"      |                ^\n");
	ck_assert(!acts[0]->ok);
	ck_assert_ptr_null(acts[0]->f);

	/* With a renamed parameter, x itself is unknown. */
	Fixture fx2;
	fx_init(&fx2, "activation sq(v) = x^2\n");
	fx_def(&fx2, "sq", L(1, 12, 13), "v", L(1, 15, 15),
	       POW(at(X(), L(1, 20, 20)), N(2)));
	acts = fx_resolve(&fx2, &out);
	ck_assert_contains(out, "1:20: error: unknown variable 'x' in activation 'sq'");
	ck_assert_contains(out, "1:15: note: the parameter of 'sq' is 'v'");
	ck_assert(!acts[0]->ok);
	fx_free(&fx);
	fx_free(&fx2);
}
END_TEST

START_TEST(test_err_self_recursion)
{
	Fixture fx;
	fx_init(&fx, "activation a(x) = x + a(x)\n");
	fx_def(&fx, "a", L(1, 12, 12), "x", L(1, 14, 14),
	       ADD(X(), at(CALL("a", X()), L(1, 23, 26))));
	fx_simple(&fx, "b", CALL("a", X()));
	const char *out;
	CustomAct **acts = fx_resolve(&fx, &out);
	ck_assert_str_eq(out,
		"t.nn:1:23: error: activation 'a' calls itself\n"
		"    1 | activation a(x) = x + a(x)\n"
		"      |                       ^~~~\n");
	ck_assert_int_eq(fx.d.nerrors, 1);
	ck_assert(!acts[0]->ok);
	ck_assert(!acts[1]->ok);    /* quietly: it calls a broken one */
	fx_free(&fx);
}
END_TEST

START_TEST(test_err_mutual_recursion)
{
	Fixture fx;
	fx_init(&fx, "activation a(x) = b(x)\nactivation b(x) = 2 * a(x)\n");
	fx_def(&fx, "a", L(1, 12, 12), "x", L(1, 14, 14),
	       at(CALL("b", X()), L(1, 19, 22)));
	fx_def(&fx, "b", L(2, 12, 12), "x", L(2, 14, 14),
	       MUL(N(2), at(CALL("a", X()), L(2, 23, 26))));
	const char *out;
	CustomAct **acts = fx_resolve(&fx, &out);
	ck_assert_str_eq(out,
		"t.nn:1:19: error: activations 'a' and 'b' call each other\n"
		"    1 | activation a(x) = b(x)\n"
		"      |                   ^~~~\n"
		"t.nn:2:23: note: 'b' calls 'a' here\n"
		"    2 | activation b(x) = 2 * a(x)\n"
		"      |                       ^~~~\n");
	ck_assert_int_eq(fx.d.nerrors, 1);
	ck_assert(!acts[0]->ok);
	ck_assert(!acts[1]->ok);
	fx_free(&fx);
}
END_TEST

START_TEST(test_err_cycle3)
{
	Fixture fx;
	fx_init(&fx, "activation c(x) = a(x)\n"
	             "activation a(x) = b(x)\n"
	             "activation b(x) = c(x)\n"
	             "activation ok(x) = x\n"
	             "activation user(x) = b(x) + ok(x)\n");
	fx_def(&fx, "c", L(1, 12, 12), "x", L(1, 14, 14),
	       at(CALL("a", X()), L(1, 19, 22)));
	fx_def(&fx, "a", L(2, 12, 12), "x", L(2, 14, 14),
	       at(CALL("b", X()), L(2, 19, 22)));
	fx_def(&fx, "b", L(3, 12, 12), "x", L(3, 14, 14),
	       at(CALL("c", X()), L(3, 19, 22)));
	fx_simple(&fx, "ok", X());
	fx_simple(&fx, "user", ADD(CALL("b", X()), CALL("ok", X())));
	const char *out;
	CustomAct **acts = fx_resolve(&fx, &out);
	/* Described from the definition that comes first. */
	ck_assert_str_eq(out,
		"t.nn:1:19: error: recursive activations: 'c' -> 'a' -> 'b' -> 'c'\n"
		"    1 | activation c(x) = a(x)\n"
		"      |                   ^~~~\n"
		"t.nn:2:19: note: 'a' calls 'b' here\n"
		"    2 | activation a(x) = b(x)\n"
		"      |                   ^~~~\n"
		"t.nn:3:19: note: 'b' calls 'c' here\n"
		"    3 | activation b(x) = c(x)\n"
		"      |                   ^~~~\n");
	ck_assert_int_eq(fx.d.nerrors, 1);
	ck_assert(!acts[0]->ok && !acts[1]->ok && !acts[2]->ok);
	ck_assert(acts[3]->ok);
	ck_assert(!acts[4]->ok);
	fx_free(&fx);
}
END_TEST

START_TEST(test_err_long_cycle)
{
	/* a0 -> a1 -> ... -> a9999 -> a0: no deep recursion, one error. */
	enum { N_DEFS = 10000 };
	Fixture fx;
	fx_init(&fx, "activation a0(x) = a1(x)\n");
	for (int i = 0; i < N_DEFS; i++)
		fx_simple(&fx, arena_printf(A, "a%d", i),
		          CALL(arena_printf(A, "a%d", (i + 1) % N_DEFS), X()));
	const char *out;
	CustomAct **acts = fx_resolve(&fx, &out);
	ck_assert_int_eq(fx.d.nerrors, 1);
	ck_assert_contains(out, "error: recursive activations: 'a0' -> 'a1' -> "
	                   "'a2' -> 'a3' -> 'a4' -> 'a5' -> 'a6' -> 'a7' -> ... "
	                   "(9992 more) -> 'a0'");
	for (int i = 0; i < N_DEFS; i++)
		ck_assert(!acts[i]->ok);

	/* A long chain without a cycle resolves. */
	Fixture fx2;
	fx_init(&fx2, "activation b0(x) = b1(x) + 1\n");
	for (int i = 0; i < N_DEFS - 1; i++)
		fx_simple(&fx2, arena_printf(A, "b%d", i),
		          CALL(arena_printf(A, "b%d", i + 1), X()));
	fx_simple(&fx2, arena_printf(A, "b%d", N_DEFS - 1), MUL(N(3), X()));
	acts = fx_resolve(&fx2, &out);
	ck_assert_str_eq(out, "");
	ck_assert(acts[0]->ok);
	ck_assert_str_eq(str(acts[0]->f), "3 * x");
	ck_assert_str_eq(str(acts[0]->df), "3");
	fx_free(&fx);
	fx_free(&fx2);
}
END_TEST

START_TEST(test_err_redefinition)
{
	Fixture fx;
	fx_init(&fx, "activation a(x) = x\nactivation a(x) = 2 * x\n"
	             "activation b(x) = a(x) + 1\n");
	fx_def(&fx, "a", L(1, 12, 12), "x", L(1, 14, 14), X());
	fx_def(&fx, "a", L(2, 12, 12), "x", L(2, 14, 14), MUL(N(2), X()));
	fx_simple(&fx, "b", ADD(CALL("a", X()), N(1)));
	const char *out;
	CustomAct **acts = fx_resolve(&fx, &out);
	ck_assert_str_eq(out,
		"t.nn:2:12: error: redefinition of activation 'a'\n"
		"    2 | activation a(x) = 2 * x\n"
		"      |            ^\n"
		"t.nn:1:12: note: previous definition is here\n"
		"    1 | activation a(x) = x\n"
		"      |            ^\n");
	ck_assert(acts[0]->ok);
	ck_assert(!acts[1]->ok);
	ck_assert(acts[2]->ok);     /* uses the first definition */
	ck_assert_str_eq(str(acts[2]->f), "x + 1");
	fx_free(&fx);
}
END_TEST

START_TEST(test_err_builtin_names)
{
	static const char *const names[] = {
		"relu", "sigmoid", "tanh", "linear", "softmax", "sin", "cos", "exp",
		"log", "sqrt", "tan", "abs", "dense", "dropout", "flatten", "add",
		"concat", "concatenate",
	};
	enum { NN = sizeof names / sizeof names[0] };
	Fixture fx;
	fx_init(&fx, "activation relu(x) = x\n");
	fx_def(&fx, "relu", L(1, 12, 15), "x", L(1, 17, 17), X());
	for (int i = 1; i < NN; i++)
		fx_simple(&fx, names[i], X());
	/* Calling a rejected one is quiet; calling relu means the built-in. */
	fx_simple(&fx, "user", ADD(CALL("softmax", X()), CALL("relu", X())));
	fx_simple(&fx, "user2", CALL("relu", X()));
	const char *out;
	CustomAct **acts = fx_resolve(&fx, &out);
	ck_assert_contains(out,
		"t.nn:1:12: error: 'relu' is a built-in activation and cannot be "
		"redefined\n"
		"    1 | activation relu(x) = x\n"
		"      |            ^~~~\n");
	ck_assert_contains(out, "error: 'exp' is a built-in function and cannot "
	                   "be redefined");
	ck_assert_contains(out, "error: 'concatenate' is a built-in layer and "
	                   "cannot be redefined");
	ck_assert_int_eq(fx.d.nerrors, NN);
	for (int i = 0; i < NN; i++) {
		ck_assert(!acts[i]->ok);
		ck_assert_contains(out, arena_printf(A, "'%s' is a built-in", names[i]));
	}
	ck_assert(!acts[NN]->ok);
	ck_assert(acts[NN + 1]->ok);
	ck_assert_str_eq(str(acts[NN + 1]->f), "relu(x)");
	fx_free(&fx);
}
END_TEST

START_TEST(test_err_exponent)
{
	Fixture fx;
	fx_init(&fx, "activation f(x) = x ^ x\n"
	             "activation g(v) = 2^(1 + v) + v^(2^v)\n");
	fx_def(&fx, "f", L(1, 12, 12), "x", L(1, 14, 14),
	       POW(X(), at(X(), L(1, 23, 23))));
	fx_def(&fx, "g", L(2, 12, 12), "v", L(2, 14, 14),
	       ADD(POW(N(2), at(ADD(N(1), V("v")), L(2, 21, 27))),
	           POW(V("v"), at(POW(N(2), at(V("v"), L(2, 36, 36))),
	                          L(2, 33, 37)))));
	/* Constant exponents are fine. */
	fx_simple(&fx, "ok1", POW(X(), MUL(N(2), N(3))));
	fx_simple(&fx, "ok2", POW(X(), NEG(N(1))));
	fx_simple(&fx, "two", N(2));
	fx_simple(&fx, "ok3", POW(X(), CALL("two", X())));  /* no x once inlined */
	fx_simple(&fx, "ident", X());
	fx_def(&fx, "bad", L(1, 1, 1), "x", L(1, 1, 1),
	       POW(X(), at(CALL("ident", X()), L(1, 23, 23))));
	const char *out;
	CustomAct **acts = fx_resolve(&fx, &out);
	ck_assert_str_eq(out,
		"t.nn:1:23: error: exponent must be a constant (it may not depend on 'x')\n"
		"    1 | activation f(x) = x ^ x\n"
		"      |                       ^\n"
		"t.nn:2:21: error: exponent must be a constant (it may not depend on 'v')\n"
		"    2 | activation g(v) = 2^(1 + v) + v^(2^v)\n"
		"      |                     ^~~~~~~\n"
		"t.nn:2:36: error: exponent must be a constant (it may not depend on 'v')\n"
		"    2 | activation g(v) = 2^(1 + v) + v^(2^v)\n"
		"      |                                    ^\n"
		"t.nn:1:23: error: exponent must be a constant (it may not depend on 'x')\n"
		"    1 | activation f(x) = x ^ x\n"
		"      |                       ^\n");
	ck_assert_int_eq(fx.d.nerrors, 4);
	ck_assert(!acts[0]->ok);
	ck_assert(!acts[1]->ok);
	ck_assert(acts[2]->ok);
	ck_assert_str_eq(str(acts[2]->df), "6 * x^5");
	ck_assert(acts[3]->ok);
	ck_assert_str_eq(str(acts[3]->df), "-x^-2");
	ck_assert(acts[5]->ok);
	ck_assert_str_eq(str(acts[5]->f), "x^2");
	ck_assert(!acts[7]->ok);
	fx_free(&fx);
}
END_TEST

START_TEST(test_no_cascade)
{
	Fixture fx;
	fx_init(&fx, "activation broken(x) = x + y\n");
	fx_def(&fx, "broken", L(1, 12, 17), "x", L(1, 19, 19),
	       ADD(X(), at(V("y"), L(1, 28, 28))));
	fx_simple(&fx, "caller", MUL(N(2), CALL("broken", X())));
	fx_simple(&fx, "caller2", CALL("caller", X()));
	fx_simple(&fx, "fine", FN(FN_SIN, X()));
	const char *out;
	CustomAct **acts = fx_resolve(&fx, &out);
	ck_assert_int_eq(fx.d.nerrors, 1);
	ck_assert_contains(out, "unknown variable 'y' in activation 'broken'");
	ck_assert(!acts[0]->ok && !acts[1]->ok && !acts[2]->ok);
	ck_assert_ptr_null(acts[1]->f);
	ck_assert_ptr_null(acts[1]->df);
	ck_assert(acts[3]->ok);
	ck_assert_str_eq(str(acts[3]->df), "cos(x)");
	fx_free(&fx);
}
END_TEST

START_TEST(test_param_named_like_function)
{
	/* Allowed: a call and a variable cannot be confused. */
	Fixture fx;
	fx_init(&fx, "activation f(exp) = exp(exp)\n");
	fx_def(&fx, "f", L(1, 12, 12), "exp", L(1, 14, 16),
	       CALL("exp", V("exp")));
	const char *out;
	CustomAct **acts = fx_resolve(&fx, &out);
	ck_assert_str_eq(out, "");
	ck_assert(acts[0]->ok);
	ck_assert_str_eq(acts[0]->param, "exp");
	ck_assert_str_eq(str(acts[0]->f), "exp(x)");
	ck_assert_str_eq(str(acts[0]->df), "exp(x)");
	fx_free(&fx);
}
END_TEST

START_TEST(test_empty_and_recovered)
{
	Fixture fx;
	fx_init(&fx, "\n");
	const char *out;
	CustomAct **acts = fx_resolve(&fx, &out);
	ck_assert_ptr_null(acts[0]);
	/* A definition the parser could not finish (no body) is quietly not
	 * ok, and so is a body with a missing operand. */
	fx_simple(&fx, "nobody", NULL);
	fx_simple(&fx, "hole", ADD(X(), NULL));
	fx_simple(&fx, "fine", X());
	acts = fx_resolve(&fx, &out);
	ck_assert_str_eq(out, "");
	ck_assert(!acts[0]->ok && !acts[1]->ok && acts[2]->ok);
	fx_free(&fx);
}
END_TEST

/* x + x + ... + x with n terms, left-deep, built without recursion. */
static Expr *chain(int n)
{
	Expr *e = X();
	for (int i = 1; i < n; i++)
		e = ADD(e, X());
	return e;
}

START_TEST(test_long_chain)
{
	Fixture fx;
	fx_init(&fx, "activation f(x) = x + x + x\n");
	fx_def(&fx, "f", L(1, 12, 12), "x", L(1, 14, 14), chain(100000));
	fx_simple(&fx, "g", MUL(N(2), CALL("f", X())));
	fx_simple(&fx, "small", chain(EXPR_MAX_DEPTH - 1));
	const char *out;
	CustomAct **acts = fx_resolve(&fx, &out);
	ck_assert_str_eq(out,
		"t.nn:1:12: error: activation 'f' is too large (limit: 100000 nodes "
		"/ depth 1000)\n"
		"    1 | activation f(x) = x + x + x\n"
		"      |            ^\n");
	ck_assert(!acts[0]->ok && !acts[1]->ok);
	ck_assert(acts[2]->ok);
	ck_assert_str_eq(str(acts[2]->df), "999");
	/* Shallow but wide: a balanced sum of 60000 terms passes the node limit. */
	Fixture fx2;
	fx_init(&fx2, "\n");
	PtrVec terms = {0};
	for (int i = 0; i < 60000; i++)
		ptrvec_push(&terms, FN(FN_SIN, X()));
	while (terms.len > 1) {
		int k = 0;
		for (int i = 0; i + 1 < terms.len; i += 2)
			terms.items[k++] = ADD(terms.items[i], terms.items[i + 1]);
		if (terms.len % 2)
			terms.items[k++] = terms.items[terms.len - 1];
		terms.len = k;
	}
	fx_simple(&fx2, "wide", terms.items[0]);
	free(terms.items);
	acts = fx_resolve(&fx2, &out);
	ck_assert_contains(out, "too large (limit: 100000 nodes");
	fx_free(&fx);
	fx_free(&fx2);
}
END_TEST

START_TEST(test_inline_blowup)
{
	/* d0(x) = x * x, dk(x) = d(k-1)(x) * d(k-1)(x): 2^k nodes. */
	Fixture fx;
	fx_init(&fx, "\n");
	fx_simple(&fx, "d0", MUL(X(), X()));
	for (int k = 1; k <= 30; k++) {
		const char *prev = arena_printf(A, "d%d", k - 1);
		fx_simple(&fx, arena_printf(A, "d%d", k),
		          MUL(CALL(prev, X()), CALL(prev, X())));
	}
	const char *out;
	CustomAct **acts = fx_resolve(&fx, &out);
	/* dk has 2^(k+2) - 1 nodes: d15 is the first over 100000; it is
	 * reported, and the later ones are quietly not ok. */
	ck_assert_int_eq(fx.d.nerrors, 1);
	ck_assert_contains(out, "error: activation 'd15' is too large once its "
	                   "calls are inlined (limit: 100000 nodes / depth 1000)");
	ck_assert(acts[14]->ok);
	ck_assert(!acts[15]->ok && !acts[30]->ok);
	fx_free(&fx);
}
END_TEST

START_TEST(test_deriv_too_large)
{
	/* sigmoid(sigmoid(...(x))) 900 deep has a derivative of about 800000
	 * nodes (it grows quadratically with the depth); a sum of 50 of them,
	 * 45000 nodes, has one of 40 million. */
	Fixture fx;
	fx_init(&fx, "\n");
	Expr *sum = NULL;
	for (int j = 0; j < 50; j++) {
		Expr *c = X();
		for (int i = 0; i < 900; i++)
			c = CALL("sigmoid", c);
		sum = sum ? ADD(sum, c) : c;
	}
	fx_simple(&fx, "deep", sum);
	Expr *e = X();
	for (int i = 0; i < 100; i++)
		e = CALL("sigmoid", e);
	fx_simple(&fx, "ok", e);
	const char *out;
	CustomAct **acts = fx_resolve(&fx, &out);
	ck_assert_int_eq(fx.d.nerrors, 1);
	ck_assert_contains(out, "error: the derivative of activation 'deep' is "
	                   "too large (limit: 1000000 nodes / depth 4000)");
	ck_assert(!acts[0]->ok);
	ck_assert(acts[1]->ok);
	check_fd(acts[1]->f);
	fx_free(&fx);
}
END_TEST

START_TEST(test_many_errors_capped)
{
	/* More unknown names than MAX_REPORTED, and more errors than the cap:
	 * counted, not crashed on. */
	Fixture fx;
	fx_init(&fx, "\n");
	Expr *e = X();
	for (int i = 0; i < 40; i++)
		e = ADD(e, V(arena_printf(A, "v%d", i)));
	fx_simple(&fx, "f", e);
	const char *out;
	CustomAct **acts = fx_resolve(&fx, &out);
	ck_assert_int_eq(fx.d.nerrors, 40);
	ck_assert_contains(out, "too many errors emitted");
	ck_assert(!acts[0]->ok);
	fx_free(&fx);
}
END_TEST

Suite *expr_suite(void)
{
	Suite *s = suite_create("expr");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_func_names);
	tcase_add_test(tc, test_eval);
	tcase_add_test(tc, test_diff_builtins);
	tcase_add_test(tc, test_diff_pow);
	tcase_add_test(tc, test_diff_quotient);
	tcase_add_test(tc, test_diff_compositions);
	tcase_add_test(tc, test_diff_printed);
	tcase_add_test(tc, test_simplify);
	tcase_add_test(tc, test_print);
	tcase_add_test(tc, test_resolve_inline);
	tcase_add_test(tc, test_resolve_keeps_locations);
	tcase_add_test(tc, test_err_unknown_function);
	tcase_add_test(tc, test_err_not_functions);
	tcase_add_test(tc, test_err_unknown_variable);
	tcase_add_test(tc, test_err_self_recursion);
	tcase_add_test(tc, test_err_mutual_recursion);
	tcase_add_test(tc, test_err_cycle3);
	tcase_add_test(tc, test_err_long_cycle);
	tcase_add_test(tc, test_err_redefinition);
	tcase_add_test(tc, test_err_builtin_names);
	tcase_add_test(tc, test_err_exponent);
	tcase_add_test(tc, test_no_cascade);
	tcase_add_test(tc, test_param_named_like_function);
	tcase_add_test(tc, test_empty_and_recovered);
	tcase_add_test(tc, test_long_chain);
	tcase_add_test(tc, test_inline_blowup);
	tcase_add_test(tc, test_deriv_too_large);
	tcase_add_test(tc, test_many_errors_capped);
	suite_add_tcase(s, tc);
	return s;
}

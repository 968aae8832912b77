/*
 * expr.c — custom activations: name resolution, inlining, symbolic
 * derivative, simplification, evaluation and printing.
 *
 *   activation swish(x) = x * sigmoid(x)
 *   swish'(x) = sigmoid(x) + x * (sigmoid(x) * (1 - sigmoid(x)))
 *
 * expr_resolve_all checks every definition, inlines the calls of other
 * custom activations (so a resolved body calls built-in functions only) and
 * derives its derivative, which backpropagation needs.
 *
 * Expressions are immutable once built.  The derivative shares subtrees
 * with itself (sigmoid(u) appears twice in sigmoid'), and an inlined call
 * shares its argument wherever the callee used its parameter, so a "tree"
 * here is really a DAG; every walk treats it as a tree, and sizes count a
 * shared subtree once per use.
 *
 * Depth.  The parser bounds the nesting of parentheses but not the length
 * of a chain like x + x + ... + x, which is a left-deep tree as deep as it
 * is long.  Rather than make every walk iterative (here and in each later
 * phase that walks f and df), resolution measures each body without
 * recursion and rejects one beyond EXPR_MAX_NODES / EXPR_MAX_DEPTH (nnc.h)
 * before anything recurses on it, checks the limits again while inlining,
 * and caps the derivative (which can grow quadratically with nesting).
 * expr_diff, expr_simplify, expr_eval and expr_print recurse; they are meant
 * for resolved expressions or small hand-built ones (tests).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nnc.h"

const char *const func_names[FN_COUNT] = {
	[FN_NONE] = NULL,
#define X(e, s) [e] = s,
	NNC_FUNCS(X)
#undef X
};

/* ----------------------------------------------------------------------
 * Numbers
 * ---------------------------------------------------------------------- */

/* Constant folding keeps a result only if it prints in at most this many
 * significant digits (or no more than its operands need), so 2 * 3 becomes
 * 6 and 0.5 - 1 becomes -0.5, but 1 / 3 and 0.1 + 0.2 stay as written:
 * 0.3333333333333333 and 0.30000000000000004 help nobody read a
 * derivative.  The unfolded form evaluates to the same double. */
enum { NICE_DIGITS = 15 };

/* The shortest %.{p}g form of v that reads back as v; returns p.  Infinities
 * print as 1e999 (which reads back as one), NaN as nan. */
static int format_num(char *buf, size_t len, double v)
{
	if (isnan(v)) {
		snprintf(buf, len, "nan");
		return 17;
	}
	if (isinf(v)) {
		snprintf(buf, len, "%s", v > 0 ? "1e999" : "-1e999");
		return 17;
	}
	if (v == 0) {
		snprintf(buf, len, "0");   /* also for -0, which equals 0 */
		return 1;
	}
	for (int p = 1; p < 17; p++) {
		snprintf(buf, len, "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			return p;
	}
	snprintf(buf, len, "%.17g", v);
	return 17;
}

static int num_digits(double v)
{
	char buf[40];
	return format_num(buf, sizeof buf, v);
}

/* Whether a binary operation on l and r may be folded into v. */
static bool fold_ok(double v, double l, double r)
{
	if (!isfinite(v))
		return false;
	int limit = NICE_DIGITS;
	int dl = num_digits(l), dr = num_digits(r);
	if (dl > limit)
		limit = dl;
	if (dr > limit)
		limit = dr;
	return num_digits(v) <= limit;
}

static double sigmoid(double v)
{
	/* Never exp of a large positive number: no overflow, no inf / inf. */
	if (v >= 0)
		return 1 / (1 + exp(-v));
	double e = exp(v);
	return e / (1 + e);
}

static double apply_func(Func fn, double v)
{
	switch (fn) {
	case FN_EXP: return exp(v);
	case FN_LOG: return log(v);
	case FN_SQRT: return sqrt(v);
	case FN_SIN: return sin(v);
	case FN_COS: return cos(v);
	case FN_TAN: return tan(v);
	case FN_TANH: return tanh(v);
	case FN_SIGMOID: return sigmoid(v);
	case FN_RELU: return v > 0 ? v : 0;
	case FN_ABS: return fabs(v);
	case FN_STEP: return v > 0 ? 1 : 0;
	case FN_NONE:
	case FN_COUNT:
		break;
	}
	DIE("evaluating an unresolved function call (fn %d)", (int)fn);
}

/* ----------------------------------------------------------------------
 * Nodes
 * ---------------------------------------------------------------------- */

static Expr *new_node(Arena *a, ExprKind kind, Loc loc, Expr *lhs, Expr *rhs)
{
	Expr *e = arena_alloc(a, sizeof *e);
	e->kind = kind;
	e->loc = loc;
	e->lhs = lhs;
	e->rhs = rhs;
	return e;
}

static Expr *new_num(Arena *a, Loc loc, double v)
{
	Expr *e = new_node(a, EXPR_NUM, loc, NULL, NULL);
	e->num = v == 0 ? 0 : v;   /* no -0: it would print as 0 anyway */
	return e;
}

static Expr *new_var(Arena *a, Loc loc, const char *name)
{
	Expr *e = new_node(a, EXPR_VAR, loc, NULL, NULL);
	e->name = name ? name : "x";
	return e;
}

static Expr *new_call(Arena *a, Loc loc, Func fn, Expr *arg)
{
	Expr *e = new_node(a, EXPR_CALL, loc, arg, NULL);
	e->fn = fn;
	e->name = func_names[fn];
	return e;
}

static bool is_num(const Expr *e, double v)
{
	return e->kind == EXPR_NUM && e->num == v;
}

/* ----------------------------------------------------------------------
 * Simplifying constructors
 *
 * Every expression that expr_simplify and expr_diff return is built by the
 * s_* constructors below, which fold constants and apply the identities
 * (0 + e, e * 1, e * 0, e ^ 1, e ^ 0, --e, e - 0, 0 - e, e / 1, ...) to
 * operands that are already simplified.  Their results stay in a canonical
 * form that later constructors rely on to keep derivatives readable:
 *
 *   - a product keeps its numeric coefficient as its leftmost factor
 *     (2 * x, -3 * x^2 * y), where s_mul gathers the coefficients of both
 *     operands (2 * x times 2 * y is 4 * x * y);
 *   - a sign sits on the leftmost factor or the numerator: -sin(x) * y,
 *     -1 / x^2, and a + -b is a - b;
 *   - -(a - b) is b - a.
 *
 * Each rewrite is an identity of real arithmetic; none mutates its
 * operands, which may be shared.
 * ---------------------------------------------------------------------- */

static Expr *s_neg(Arena *a, Loc loc, Expr *e);

/* The leftmost factor of a product: a in (a * b) * c. */
static Expr *leftmost_factor(Expr *e)
{
	while (e->kind == EXPR_MUL)
		e = e->lhs;
	return e;
}

/* Product e with its leftmost factor replaced by repl, or dropped when repl
 * is NULL (NULL if e was that factor).  Only the left spine is copied. */
static Expr *replace_leftmost(Arena *a, Expr *e, Expr *repl)
{
	int n = 0;
	for (Expr *p = e; p->kind == EXPR_MUL; p = p->lhs)
		n++;
	if (n == 0)
		return repl;
	Expr **spine = xmalloc((size_t)n * sizeof *spine);
	int i = 0;
	for (Expr *p = e; p->kind == EXPR_MUL; p = p->lhs)
		spine[i++] = p;
	Expr *cur = repl;
	for (i = n - 1; i >= 0; i--)
		cur = cur ? new_node(a, EXPR_MUL, spine[i]->loc, cur, spine[i]->rhs)
		          : spine[i]->rhs;
	free(spine);
	return cur;
}

/* Splits e into coefficient * rest: 3 * x^2 * y gives 3 and x^2 * y, -x
 * gives -1 and x, 2 gives 2 and NULL, sin(x) gives 1 and sin(x). */
static double split_coeff(Arena *a, Expr *e, Expr **rest)
{
	double sign = 1;
	if (e->kind == EXPR_NEG) {
		sign = -1;
		e = e->lhs;
	}
	Expr *f = leftmost_factor(e);
	if (f->kind == EXPR_NUM) {
		*rest = replace_leftmost(a, e, NULL);
		return sign * f->num;
	}
	if (f->kind == EXPR_NEG) {
		if (f->lhs->kind == EXPR_NUM) {
			*rest = replace_leftmost(a, e, NULL);
			return -sign * f->lhs->num;
		}
		*rest = replace_leftmost(a, e, f->lhs);
		return -sign;
	}
	*rest = e;
	return sign;
}

/* c * core, with c placed as core's leftmost factor (or as its sign). */
static Expr *with_coeff(Arena *a, Loc loc, double c, Expr *core)
{
	if (c == 0)
		return new_num(a, loc, 0);
	if (c == 1)
		return core;
	Expr *f = leftmost_factor(core);
	Expr *g = c == -1 ? s_neg(a, loc, f)
	                  : new_node(a, EXPR_MUL, loc, new_num(a, loc, c), f);
	return replace_leftmost(a, core, g);
}

/* Whether e reads as negative: -2, -e, -2 * x, -x * y, -1 / x. */
static bool negative(const Expr *e)
{
	while (e->kind == EXPR_MUL || e->kind == EXPR_DIV)
		e = e->lhs;
	return (e->kind == EXPR_NUM && e->num < 0) || e->kind == EXPR_NEG;
}

static Expr *s_neg(Arena *a, Loc loc, Expr *e)
{
	switch (e->kind) {
	case EXPR_NUM:
		return new_num(a, loc, -e->num);
	case EXPR_NEG:
		return e->lhs;
	case EXPR_SUB:
		return new_node(a, EXPR_SUB, loc, e->rhs, e->lhs);
	case EXPR_MUL: {
		Expr *rest;
		double c = split_coeff(a, e, &rest);
		return rest ? with_coeff(a, loc, -c, rest) : new_num(a, loc, -c);
	}
	case EXPR_DIV:
		return new_node(a, EXPR_DIV, loc, s_neg(a, loc, e->lhs), e->rhs);
	default:
		return new_node(a, EXPR_NEG, loc, e, NULL);
	}
}

static Expr *s_sub(Arena *a, Loc loc, Expr *l, Expr *r);

static Expr *s_add(Arena *a, Loc loc, Expr *l, Expr *r)
{
	if (is_num(l, 0))
		return r;
	if (is_num(r, 0))
		return l;
	if (l->kind == EXPR_NUM && r->kind == EXPR_NUM &&
	    fold_ok(l->num + r->num, l->num, r->num))
		return new_num(a, loc, l->num + r->num);
	/* Guarded: only if negating really yields a positive-looking operand,
	 * so s_add and s_sub cannot bounce forever on odd input. */
	if (negative(r)) {
		Expr *p = s_neg(a, loc, r);
		if (!negative(p))
			return s_sub(a, loc, l, p);
	}
	if (negative(l)) {
		Expr *p = s_neg(a, loc, l);
		if (!negative(p))
			return s_sub(a, loc, r, p);
	}
	return new_node(a, EXPR_ADD, loc, l, r);
}

static Expr *s_sub(Arena *a, Loc loc, Expr *l, Expr *r)
{
	if (is_num(r, 0))
		return l;
	if (is_num(l, 0))
		return s_neg(a, loc, r);
	if (l->kind == EXPR_NUM && r->kind == EXPR_NUM &&
	    fold_ok(l->num - r->num, l->num, r->num))
		return new_num(a, loc, l->num - r->num);
	if (negative(r)) {
		Expr *p = s_neg(a, loc, r);
		if (!negative(p))
			return s_add(a, loc, l, p);
	}
	return new_node(a, EXPR_SUB, loc, l, r);
}

static Expr *s_mul(Arena *a, Loc loc, Expr *l, Expr *r)
{
	if (is_num(l, 0) || is_num(r, 0))
		return new_num(a, loc, 0);
	if (is_num(l, 1))
		return r;
	if (is_num(r, 1))
		return l;
	Expr *rl, *rr;
	double cl = split_coeff(a, l, &rl);
	double cr = split_coeff(a, r, &rr);
	double c = cl * cr;
	if (!fold_ok(c, cl, cr)) {
		/* 0.1 * (3 * x): keep the coefficients apart, constant first. */
		if (r->kind == EXPR_NUM && l->kind != EXPR_NUM)
			return new_node(a, EXPR_MUL, loc, r, l);
		return new_node(a, EXPR_MUL, loc, l, r);
	}
	if (!rl && !rr)
		return new_num(a, loc, c);
	Expr *core = !rl ? rr : !rr ? rl : new_node(a, EXPR_MUL, loc, rl, rr);
	return with_coeff(a, loc, c, core);
}

static Expr *s_div(Arena *a, Loc loc, Expr *l, Expr *r)
{
	if (is_num(r, 1))
		return l;
	if (is_num(r, -1))
		return s_neg(a, loc, l);
	if (is_num(l, 0) && !is_num(r, 0))
		return l;
	if (l->kind == EXPR_NUM && r->kind == EXPR_NUM &&
	    fold_ok(l->num / r->num, l->num, r->num))
		return new_num(a, loc, l->num / r->num);
	if (negative(r)) {
		Expr *p = s_neg(a, loc, r);
		if (!negative(p))
			return s_neg(a, loc, s_div(a, loc, l, p));
	}
	return new_node(a, EXPR_DIV, loc, l, r);
}

static Expr *s_pow(Arena *a, Loc loc, Expr *l, Expr *r)
{
	if (is_num(r, 1))
		return l;
	if (is_num(r, 0) || is_num(l, 1))
		return new_num(a, loc, 1);
	if (l->kind == EXPR_NUM && r->kind == EXPR_NUM &&
	    fold_ok(pow(l->num, r->num), l->num, r->num))
		return new_num(a, loc, pow(l->num, r->num));
	return new_node(a, EXPR_POW, loc, l, r);
}

static Expr *s_call(Arena *a, Loc loc, Func fn, Expr *arg)
{
	if (arg->kind == EXPR_NUM) {
		double v = apply_func(fn, arg->num);
		if (isfinite(v) && num_digits(v) <= NICE_DIGITS)
			return new_num(a, loc, v);    /* exp(0), not sqrt(2) */
	}
	return new_call(a, loc, fn, arg);
}

static Expr *simplify(Arena *a, const Expr *e)
{
	Loc loc = e->loc;
	switch (e->kind) {
	case EXPR_NUM:
		return new_num(a, loc, e->num);
	case EXPR_VAR:
		return new_var(a, loc, e->name);
	case EXPR_NEG:
		return s_neg(a, loc, simplify(a, e->lhs));
	case EXPR_ADD:
		return s_add(a, loc, simplify(a, e->lhs), simplify(a, e->rhs));
	case EXPR_SUB:
		return s_sub(a, loc, simplify(a, e->lhs), simplify(a, e->rhs));
	case EXPR_MUL:
		return s_mul(a, loc, simplify(a, e->lhs), simplify(a, e->rhs));
	case EXPR_DIV:
		return s_div(a, loc, simplify(a, e->lhs), simplify(a, e->rhs));
	case EXPR_POW:
		return s_pow(a, loc, simplify(a, e->lhs), simplify(a, e->rhs));
	case EXPR_CALL:
		if (e->fn == FN_NONE) {
			/* Unresolved: keep the call, simplify its argument. */
			Expr *c = new_node(a, EXPR_CALL, loc, simplify(a, e->lhs), NULL);
			c->name = e->name;
			return c;
		}
		return s_call(a, loc, e->fn, simplify(a, e->lhs));
	}
	DIE("bad expression kind %d", (int)e->kind);
}

/* A simplified copy of e (which is not changed); unresolved calls are kept
 * with their argument simplified. */
Expr *expr_simplify(Arena *a, const Expr *e)
{
	return simplify(a, e);
}

/* ----------------------------------------------------------------------
 * Derivative
 * ---------------------------------------------------------------------- */

/* Returns d e / d x, simplified, and sets *se to e simplified: the
 * derivative is built from the simplified operands, so one walk does both. */
static Expr *diff(Arena *a, const Expr *e, Expr **se)
{
	Loc loc = e->loc;
	Expr *l, *r, *dl, *dr;
	switch (e->kind) {
	case EXPR_NUM:
		*se = new_num(a, loc, e->num);
		return new_num(a, loc, 0);
	case EXPR_VAR:
		*se = new_var(a, loc, e->name);
		return new_num(a, loc, 1);
	case EXPR_NEG:
		dl = diff(a, e->lhs, &l);
		*se = s_neg(a, loc, l);
		return s_neg(a, loc, dl);
	case EXPR_ADD:
		dl = diff(a, e->lhs, &l);
		dr = diff(a, e->rhs, &r);
		*se = s_add(a, loc, l, r);
		return s_add(a, loc, dl, dr);
	case EXPR_SUB:
		dl = diff(a, e->lhs, &l);
		dr = diff(a, e->rhs, &r);
		*se = s_sub(a, loc, l, r);
		return s_sub(a, loc, dl, dr);
	case EXPR_MUL:
		dl = diff(a, e->lhs, &l);
		dr = diff(a, e->rhs, &r);
		*se = s_mul(a, loc, l, r);
		return s_add(a, loc, s_mul(a, loc, dl, r), s_mul(a, loc, l, dr));
	case EXPR_DIV: {
		dl = diff(a, e->lhs, &l);
		dr = diff(a, e->rhs, &r);
		*se = s_div(a, loc, l, r);
		if (is_num(dr, 0))           /* u / c: u' / c */
			return s_div(a, loc, dl, r);
		Expr *num = s_sub(a, loc, s_mul(a, loc, dl, r), s_mul(a, loc, l, dr));
		return s_div(a, loc, num, s_pow(a, loc, r, new_num(a, loc, 2)));
	}
	case EXPR_POW: {
		dl = diff(a, e->lhs, &l);
		dr = diff(a, e->rhs, &r);
		*se = s_pow(a, loc, l, r);
		if (is_num(dr, 0)) {         /* u^c: c * u^(c-1) * u' */
			Expr *c1 = s_sub(a, loc, r, new_num(a, loc, 1));
			Expr *p = s_mul(a, loc, r, s_pow(a, loc, l, c1));
			return s_mul(a, loc, p, dl);
		}
		/* u^v in general, for expressions that did not go through
		 * resolution: u^v * (v' * log(u) + v * u' / u). */
		Expr *t1 = s_mul(a, loc, dr, s_call(a, loc, FN_LOG, l));
		Expr *t2 = s_div(a, loc, s_mul(a, loc, r, dl), l);
		return s_mul(a, loc, *se, s_add(a, loc, t1, t2));
	}
	case EXPR_CALL: {
		if (e->fn == FN_NONE)
			DIE("derivative of unresolved call '%s'",
			    e->name ? e->name : "?");
		dl = diff(a, e->lhs, &l);
		Expr *f = *se = s_call(a, loc, e->fn, l);
		Expr *one = new_num(a, loc, 1);
		Expr *g;                     /* f'(u); the result is g * u' */
		switch (e->fn) {
		case FN_EXP:
			g = f;
			break;
		case FN_LOG:                 /* u' / u */
			return s_div(a, loc, dl, l);
		case FN_SQRT:                /* u' / (2 sqrt(u)) */
			return s_div(a, loc, dl,
			             s_mul(a, loc, new_num(a, loc, 2), f));
		case FN_SIN:
			g = s_call(a, loc, FN_COS, l);
			break;
		case FN_COS:
			g = s_neg(a, loc, s_call(a, loc, FN_SIN, l));
			break;
		case FN_TAN:                 /* 1 + tan(u)^2 */
			g = s_add(a, loc, one, s_pow(a, loc, f, new_num(a, loc, 2)));
			break;
		case FN_TANH:                /* 1 - tanh(u)^2 */
			g = s_sub(a, loc, one, s_pow(a, loc, f, new_num(a, loc, 2)));
			break;
		case FN_SIGMOID:             /* s(u) * (1 - s(u)) */
			g = s_mul(a, loc, f, s_sub(a, loc, one, f));
			break;
		case FN_RELU:                /* step(u): 0 at the kink, like relu */
			g = s_call(a, loc, FN_STEP, l);
			break;
		case FN_ABS:
			/* step(u) - step(-u): the sign of u, and 0 at 0 (where
			 * u / abs(u) would be 0/0). */
			g = s_sub(a, loc, s_call(a, loc, FN_STEP, l),
			          s_call(a, loc, FN_STEP, s_neg(a, loc, l)));
			break;
		case FN_STEP:
			return new_num(a, loc, 0);
		default:
			DIE("bad function %d", (int)e->fn);
		}
		return s_mul(a, loc, g, dl);
	}
	}
	DIE("bad expression kind %d", (int)e->kind);
}

/* d e / d x, simplified, treating every variable as x.  e must be
 * resolved (an unresolved call is an internal bug).  The result shares
 * nodes with itself but not with e. */
Expr *expr_diff(Arena *a, const Expr *e)
{
	Expr *se;
	return diff(a, e, &se);
}

/* ----------------------------------------------------------------------
 * Evaluation and printing
 * ---------------------------------------------------------------------- */

/* Follows C's libm: log(0) is -inf, sqrt(-1) is NaN; relu(0) = step(0) = 0. */
double expr_eval(const Expr *e, double x)
{
	switch (e->kind) {
	case EXPR_NUM: return e->num;
	case EXPR_VAR: return x;
	case EXPR_NEG: return -expr_eval(e->lhs, x);
	case EXPR_ADD: return expr_eval(e->lhs, x) + expr_eval(e->rhs, x);
	case EXPR_SUB: return expr_eval(e->lhs, x) - expr_eval(e->rhs, x);
	case EXPR_MUL: return expr_eval(e->lhs, x) * expr_eval(e->rhs, x);
	case EXPR_DIV: return expr_eval(e->lhs, x) / expr_eval(e->rhs, x);
	case EXPR_POW: return pow(expr_eval(e->lhs, x), expr_eval(e->rhs, x));
	case EXPR_CALL: return apply_func(e->fn, expr_eval(e->lhs, x));
	}
	DIE("bad expression kind %d", (int)e->kind);
}

/* Binding strength, loosest first; a negative number binds like unary
 * minus, since it prints with its sign. */
enum { PREC_ADD = 1, PREC_MUL, PREC_UNARY, PREC_POW, PREC_ATOM };

static int prec(const Expr *e)
{
	switch (e->kind) {
	case EXPR_ADD: case EXPR_SUB: return PREC_ADD;
	case EXPR_MUL: case EXPR_DIV: return PREC_MUL;
	case EXPR_NEG: return PREC_UNARY;
	case EXPR_POW: return PREC_POW;
	case EXPR_NUM: return e->num < 0 ? PREC_UNARY : PREC_ATOM;
	case EXPR_VAR: case EXPR_CALL: return PREC_ATOM;
	}
	return PREC_ATOM;
}

static void print_rec(FILE *out, const Expr *e);

static void print_operand(FILE *out, const Expr *e, bool parens)
{
	if (parens)
		fputc('(', out);
	print_rec(out, e);
	if (parens)
		fputc(')', out);
}

/* Parentheses follow the grammar (docs/LANGUAGE.md section 2), so what is
 * printed parses back to the same tree: +,- and *,/ are left-associative,
 * so a right operand of the same level keeps its parentheses (a - (b - c),
 * a / (b * c), and also a * (b * c)); ^ is right-associative and binds
 * tighter than unary minus (-x^2 is -(x^2), (-x)^2 needs them), and its
 * right operand may be a unary minus (x^-1).  The one liberty: a minus
 * applied to a minus prints as -(-x), not --x. */
static void print_rec(FILE *out, const Expr *e)
{
	char buf[40];
	switch (e->kind) {
	case EXPR_NUM:
		format_num(buf, sizeof buf, e->num);
		fputs(buf, out);
		return;
	case EXPR_VAR:
		fputs(e->name ? e->name : "x", out);
		return;
	case EXPR_CALL:
		fputs(e->fn != FN_NONE ? func_names[e->fn]
		      : e->name ? e->name : "?", out);
		print_operand(out, e->lhs, true);
		return;
	case EXPR_NEG:
		fputc('-', out);
		print_operand(out, e->lhs, prec(e->lhs) <= PREC_UNARY);
		return;
	case EXPR_POW:
		print_operand(out, e->lhs, prec(e->lhs) <= PREC_POW);
		fputc('^', out);
		print_operand(out, e->rhs, prec(e->rhs) < PREC_UNARY);
		return;
	case EXPR_ADD: case EXPR_SUB: case EXPR_MUL: case EXPR_DIV: {
		static const char ops[] = {
			[EXPR_ADD] = '+', [EXPR_SUB] = '-',
			[EXPR_MUL] = '*', [EXPR_DIV] = '/',
		};
		int p = prec(e);
		print_operand(out, e->lhs, prec(e->lhs) < p);
		fprintf(out, " %c ", ops[e->kind]);
		print_operand(out, e->rhs, prec(e->rhs) <= p);
		return;
	}
	}
	DIE("bad expression kind %d", (int)e->kind);
}

/* Infix, parenthesized as print_rec explains; variables print by name. */
void expr_print(FILE *out, const Expr *e)
{
	print_rec(out, e);
}

/* ----------------------------------------------------------------------
 * Resolution
 *
 * expr_resolve_all works in passes, so that errors come out grouped and,
 * within a group, in source order, and so that no pass recurses across
 * activations (a chain of 100000 activations each calling the next would
 * otherwise be 100000 frames deep):
 *
 *   1. names: built-in names and redefinitions; the body's size (measured
 *      without recursion); unknown functions and variables; the calls of
 *      custom activations, as edges of the call graph;
 *   2. cycles: an iterative depth-first search over the call graph reports
 *      each cycle once and yields a post-order (callees first);
 *   3. constant exponents: which bodies depend on their parameter (in
 *      post-order, through calls), then the check of every ^ in source order;
 *   4. inlining and derivatives, in post-order, so every callee is done
 *      before its callers; sizes are checked as the result grows;
 *   5. the size errors of step 4, in source order.
 *
 * A definition with an error is not ok; one that calls a definition that
 * is not ok is quietly not ok too, so no error is reported twice.
 *
 * A parameter named like a function (activation f(exp) = exp(exp)) is
 * allowed: a call and a variable can never be confused in the grammar.
 * ---------------------------------------------------------------------- */

/* Names a custom activation cannot take, so that `dense(4, NAME)` and
 * `NAME(u)` mean one thing, and a printed derivative's step(u) is the
 * built-in one.  `what` completes "is a built-in ...". */
static const struct {
	const char *name, *what;
} builtin_names[] = {
	{"linear", "activation"}, {"sigmoid", "activation"},
	{"tanh", "activation"}, {"relu", "activation"},
	{"softmax", "activation"}, {"sin", "activation"}, {"cos", "activation"},
	{"exp", "function"}, {"log", "function"}, {"sqrt", "function"},
	{"tan", "function"}, {"abs", "function"}, {"step", "function"},
	{"dense", "layer"}, {"dropout", "layer"}, {"flatten", "layer"},
	{"add", "layer"}, {"concat", "layer"}, {"concatenate", "layer"},
};

enum { MAX_REPORTED = 16 };     /* unknown names remembered per definition */

typedef struct Edge {
	int callee;
	Loc loc;                   /* the call */
} Edge;

typedef struct Def {
	const AstActivation *ast;
	CustomAct *act;
	int dup_of;                /* first definition of the name, or -1 */
	bool bad;                  /* has an error of its own */
	bool walked;               /* body present, small enough and checked */
	bool cyclic;               /* on a cycle of calls */
	bool dep, dep_known;       /* body depends on its parameter */
	bool too_large, deriv_too_large;
	int state;                 /* search: 0 new, 1 on the stack, 2 done */
	Edge *edges;
	int nedges, capedges;
	struct {
		const char *name;
		bool call;
	} reported[MAX_REPORTED];
	int nreported;
} Def;

typedef struct Resolver {
	Arena *a;
	Diag *d;
	Def *defs;
	int n;
	int *table;                /* open addressing: def index + 1, 0 empty */
	size_t mask;
	const char **cands;        /* for "did you mean": functions, then defs */
} Resolver;

static size_t hash_name(const char *s)
{
	uint64_t h = UINT64_C(1469598103934665603);   /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
	return (size_t)h;
}

static int lookup(const Resolver *R, const char *name)
{
	for (size_t i = hash_name(name) & R->mask; R->table[i]; i = (i + 1) & R->mask)
		if (strcmp(R->defs[R->table[i] - 1].ast->name, name) == 0)
			return R->table[i] - 1;
	return -1;
}

/* Inserts def i under its name, or returns the index already there. */
static int insert(Resolver *R, int i)
{
	const char *name = R->defs[i].ast->name;
	size_t h = hash_name(name) & R->mask;
	for (; R->table[h]; h = (h + 1) & R->mask)
		if (strcmp(R->defs[R->table[h] - 1].ast->name, name) == 0)
			return R->table[h] - 1;
	R->table[h] = i + 1;
	return -1;
}

/* The built-in function a call names; step is not in the language. */
static Func builtin_func(const Expr *call)
{
	if (call->fn != FN_NONE)
		return call->fn;
	if (!call->name)
		return FN_NONE;
	for (int f = FN_NONE + 1; f < FN_COUNT; f++)
		if (f != FN_STEP && strcmp(call->name, func_names[f]) == 0)
			return (Func)f;
	return FN_NONE;
}

static const char *builtin_kind(const char *name)
{
	for (size_t i = 0; i < sizeof builtin_names / sizeof builtin_names[0]; i++)
		if (strcmp(name, builtin_names[i].name) == 0)
			return builtin_names[i].what;
	return NULL;
}

/* Whether an unknown name was already reported in this definition; if
 * not, remembers it.  Past MAX_REPORTED names every use is reported (the
 * error cap of Diag keeps that quiet). */
static bool already_reported(Def *def, const char *name, bool call)
{
	for (int i = 0; i < def->nreported; i++)
		if (def->reported[i].call == call &&
		    strcmp(def->reported[i].name, name) == 0)
			return true;
	if (def->nreported < MAX_REPORTED) {
		def->reported[def->nreported].name = name;
		def->reported[def->nreported].call = call;
		def->nreported++;
	}
	return false;
}

static void add_edge(Def *def, int callee, Loc loc)
{
	if (def->nedges == def->capedges) {
		if (def->capedges > (1 << 28))
			DIE("too many calls");
		def->capedges = def->capedges ? 2 * def->capedges : 4;
		def->edges = xrealloc(def->edges,
		                      (size_t)def->capedges * sizeof *def->edges);
	}
	def->edges[def->nedges].callee = callee;
	def->edges[def->nedges].loc = loc;
	def->nedges++;
}

/* Whether the tree under e is within max_nodes nodes and max_depth levels,
 * measured with an explicit stack (e may be arbitrarily deep).  Stops as
 * soon as a limit is passed, so a huge shared DAG costs no more than the
 * limit.  A NULL child (parser recovery) counts as nothing. */
static bool within_limits(const Expr *e, long max_nodes, int max_depth)
{
	typedef struct {
		const Expr *e;
		int depth;
	} Item;
	size_t cap = 64, n = 0;
	Item *stack = xmalloc(cap * sizeof *stack);
	long nodes = 0;
	bool ok = true;
	stack[n++] = (Item){e, 1};
	while (n > 0) {
		Item it = stack[--n];
		if (!it.e)
			continue;
		if (++nodes > max_nodes || it.depth > max_depth) {
			ok = false;
			break;
		}
		if (n + 2 > cap) {
			cap *= 2;
			stack = xrealloc(stack, cap * sizeof *stack);
		}
		if (it.e->kind == EXPR_NUM || it.e->kind == EXPR_VAR)
			continue;
		stack[n++] = (Item){it.e->lhs, it.depth + 1};
		if (it.e->kind != EXPR_NEG && it.e->kind != EXPR_CALL)
			stack[n++] = (Item){it.e->rhs, it.depth + 1};
	}
	free(stack);
	return ok;
}

static void report_unknown_function(Resolver *R, const Expr *e)
{
	const char *name = e->name;
	const char *kind = builtin_kind(name);
	/* No suggestion once errors are no longer printed: with thousands of
	 * definitions and errors it would cost seconds for nothing. */
	bool shown = R->d->nerrors < R->d->max_errors;
	const char *sugg = kind || !shown ? NULL : diag_suggest(name, R->cands);
	if (sugg)
		diag_error(R->d, e->loc, "unknown function '%s'; did you mean '%s'?",
		           name, sugg);
	else
		diag_error(R->d, e->loc, "unknown function '%s'", name);
	if (!kind)
		return;
	if (strcmp(kind, "layer") == 0)
		diag_note(R->d, e->loc, "'%s' is a layer, not a function", name);
	else if (strcmp(name, "softmax") == 0)
		diag_note(R->d, e->loc, "softmax is not elementwise, so it cannot "
		          "be used inside an activation");
	else if (strcmp(name, "linear") == 0)
		diag_note(R->d, e->loc, "linear is the identity: write its "
		          "argument instead");
	else if (strcmp(name, "step") == 0)
		diag_note(R->d, e->loc, "step appears only in printed derivatives; "
		          "it cannot be called");
}

/* Pass 1 on a body already known to be small: unknown names, and edges. */
static void check_names(Resolver *R, Def *def, const Expr *e)
{
	if (!e) {                  /* the parser recovered from an error here */
		def->bad = true;
		return;
	}
	const AstActivation *ast = def->ast;
	switch (e->kind) {
	case EXPR_NUM:
		return;
	case EXPR_VAR:
		if (e->name && strcmp(e->name, ast->param) == 0)
			return;
		def->bad = true;
		if (!e->name || already_reported(def, e->name, false))
			return;
		diag_error(R->d, e->loc, "unknown variable '%s' in activation '%s'",
		           e->name, ast->name);
		diag_note(R->d, ast->param_loc, "the parameter of '%s' is '%s'",
		          ast->name, ast->param);
		return;
	case EXPR_CALL: {
		if (builtin_func(e) == FN_NONE) {
			int j = e->name ? lookup(R, e->name) : -1;
			if (j >= 0) {
				add_edge(def, j, e->loc);
			} else {
				def->bad = true;
				if (e->name && !already_reported(def, e->name, true))
					report_unknown_function(R, e);
			}
		}
		check_names(R, def, e->lhs);
		return;
	}
	case EXPR_NEG:
		check_names(R, def, e->lhs);
		return;
	case EXPR_ADD: case EXPR_SUB: case EXPR_MUL: case EXPR_DIV:
	case EXPR_POW:
		check_names(R, def, e->lhs);
		check_names(R, def, e->rhs);
		return;
	}
	DIE("bad expression kind %d", (int)e->kind);
}

static void check_definition(Resolver *R, int i)
{
	Def *def = &R->defs[i];
	const AstActivation *ast = def->ast;
	if (!ast->name || !ast->param || !ast->body) {
		def->bad = true;       /* parser recovery; already reported */
		return;
	}
	const char *kind = builtin_kind(ast->name);
	if (kind) {
		diag_error(R->d, ast->name_loc,
		           "'%s' is a built-in %s and cannot be redefined",
		           ast->name, kind);
		if (strcmp(ast->name, "step") == 0)
			diag_note(R->d, (Loc){0, 0, 0, 0}, "step is the unit step "
			          "that printed derivatives use: relu'(x) = step(x)");
		def->bad = true;
	} else if (def->dup_of >= 0) {
		diag_error(R->d, ast->name_loc, "redefinition of activation '%s'",
		           ast->name);
		diag_note(R->d, R->defs[def->dup_of].ast->name_loc,
		          "previous definition is here");
		def->bad = true;
	}
	if (!within_limits(ast->body, EXPR_MAX_NODES, EXPR_MAX_DEPTH)) {
		diag_error(R->d, ast->name_loc, "activation '%s' is too large "
		           "(limit: %d nodes / depth %d)", ast->name,
		           EXPR_MAX_NODES, EXPR_MAX_DEPTH);
		def->bad = true;
		return;
	}
	def->walked = true;
	check_names(R, def, ast->body);
}

/* Pass 2: reports the cycle stack[from..to] (each frame's last edge leads
 * to the next; the last one's back to the first), unless one of its
 * members is on a cycle reported already. */
typedef struct Frame {
	int def;
	int next;                  /* next edge to follow */
} Frame;

static void report_cycle(Resolver *R, const Frame *stack, int from, int to)
{
	int len = to - from + 1;
	bool quiet = false;
	for (int k = from; k <= to; k++) {
		Def *m = &R->defs[stack[k].def];
		quiet |= m->cyclic;
		m->cyclic = true;
	}
	if (quiet)
		return;
	/* Start the description at the member defined first. */
	int start = 0;
	for (int k = 1; k < len; k++)
		if (stack[from + k].def < stack[from + start].def)
			start = k;
#define MEMBER(k) (&R->defs[stack[from + (start + (k)) % len].def])
#define CALL_LOC(k) (MEMBER(k)->edges[stack[from + (start + (k)) % len].next - 1].loc)
	const char *first = MEMBER(0)->ast->name;
	if (len == 1) {
		diag_error(R->d, CALL_LOC(0), "activation '%s' calls itself", first);
		return;
	}
	if (len == 2) {
		diag_error(R->d, CALL_LOC(0), "activations '%s' and '%s' call "
		           "each other", first, MEMBER(1)->ast->name);
	} else {
		enum { SHOWN = 8 };
		char *path = arena_printf(R->a, "'%s'", first);
		for (int k = 1; k < len && k < SHOWN; k++)
			path = arena_printf(R->a, "%s -> '%s'", path, MEMBER(k)->ast->name);
		if (len > SHOWN)
			path = arena_printf(R->a, "%s -> ... (%d more)", path, len - SHOWN);
		diag_error(R->d, CALL_LOC(0), "recursive activations: %s -> '%s'",
		           path, first);
	}
	for (int k = 1; k < len && k < 8; k++)
		diag_note(R->d, CALL_LOC(k), "'%s' calls '%s' here",
		          MEMBER(k)->ast->name, MEMBER((k + 1) % len)->ast->name);
#undef MEMBER
#undef CALL_LOC
}

/* Depth-first search from every definition in source order; fills post
 * with the definitions in post-order and returns their count. */
static int find_cycles(Resolver *R, int *post)
{
	Frame *stack = xmalloc((size_t)(R->n ? R->n : 1) * sizeof *stack);
	int *frame_of = xmalloc((size_t)(R->n ? R->n : 1) * sizeof *frame_of);
	int npost = 0;
	for (int root = 0; root < R->n; root++) {
		if (R->defs[root].state != 0)
			continue;
		int sp = 0;
		stack[sp++] = (Frame){root, 0};
		R->defs[root].state = 1;
		frame_of[root] = 0;
		while (sp > 0) {
			Frame *top = &stack[sp - 1];
			Def *def = &R->defs[top->def];
			if (top->next < def->nedges) {
				int j = def->edges[top->next++].callee;
				if (R->defs[j].state == 0) {
					R->defs[j].state = 1;
					frame_of[j] = sp;
					stack[sp++] = (Frame){j, 0};
				} else if (R->defs[j].state == 1) {
					report_cycle(R, stack, frame_of[j], sp - 1);
				}
			} else {
				def->state = 2;
				post[npost++] = top->def;
				sp--;
			}
		}
	}
	free(stack);
	free(frame_of);
	return npost;
}

/* Pass 3: whether e depends on the parameter of def, through calls whose
 * callee's dependence is known.  With report, also reports each ^ whose
 * exponent depends on it (but not one around an exponent already
 * reported). */
static bool depends(Resolver *R, Def *def, const Expr *e, bool report)
{
	if (!e)
		return false;
	switch (e->kind) {
	case EXPR_NUM:
		return false;
	case EXPR_VAR:
		return e->name && strcmp(e->name, def->ast->param) == 0;
	case EXPR_CALL: {
		bool da = depends(R, def, e->lhs, report);
		if (builtin_func(e) != FN_NONE)
			return da;
		int j = e->name ? lookup(R, e->name) : -1;
		return da && j >= 0 && R->defs[j].dep_known && R->defs[j].dep;
	}
	case EXPR_NEG:
		return depends(R, def, e->lhs, report);
	case EXPR_ADD: case EXPR_SUB: case EXPR_MUL: case EXPR_DIV: {
		/* Both sides, even if the left depends: each may hold a ^. */
		bool dl = depends(R, def, e->lhs, report);
		bool dr = depends(R, def, e->rhs, report);
		return dl || dr;
	}
	case EXPR_POW: {
		bool dl = depends(R, def, e->lhs, report);
		int before = R->d->nerrors;
		bool dr = depends(R, def, e->rhs, report);
		if (dr && report && R->d->nerrors == before) {
			diag_error(R->d, e->rhs->loc, "exponent must be a constant "
			           "(it may not depend on '%s')", def->ast->param);
			def->bad = true;
		}
		return dl || dr;
	}
	}
	DIE("bad expression kind %d", (int)e->kind);
}

/* Pass 4: the body with the parameter renamed x and calls inlined. */
typedef struct Size {
	long nodes;
	int depth;
} Size;

typedef struct Inliner {
	Resolver *R;
	bool failed;               /* a callee is not ok: quietly give up */
	bool too_large;            /* the result passed a limit */
} Inliner;

/* Accounts for a node above children of sizes l and r. */
static bool grow(Inliner *in, Size *sz, Size l, Size r)
{
	sz->nodes = 1 + l.nodes + r.nodes;
	sz->depth = 1 + (l.depth > r.depth ? l.depth : r.depth);
	if (sz->nodes > EXPR_MAX_NODES || sz->depth > EXPR_MAX_DEPTH) {
		in->too_large = true;
		return false;
	}
	return true;
}

/* Copies a resolved body with x replaced by arg (of size asz). */
static Expr *subst(Inliner *in, const Expr *e, Expr *arg, Size asz, Size *sz)
{
	Arena *a = in->R->a;
	Size l = {0, 0}, r = {0, 0};
	Expr *cl = NULL, *cr = NULL;
	if (e->kind == EXPR_VAR) {
		*sz = asz;
		return arg;
	}
	if (e->lhs && !(cl = subst(in, e->lhs, arg, asz, &l)))
		return NULL;
	if (e->rhs && !(cr = subst(in, e->rhs, arg, asz, &r)))
		return NULL;
	if (!grow(in, sz, l, r))
		return NULL;
	Expr *c = new_node(a, e->kind, e->loc, cl, cr);
	c->num = e->num;
	c->name = e->name;
	c->fn = e->fn;
	return c;
}

static Expr *inline_body(Inliner *in, const Def *def, const Expr *e, Size *sz)
{
	Resolver *R = in->R;
	Size l = {0, 0}, r = {0, 0};
	Expr *cl = NULL, *cr = NULL;
	if (e->lhs && !(cl = inline_body(in, def, e->lhs, &l)))
		return NULL;
	if (e->rhs && e->kind != EXPR_CALL && e->kind != EXPR_NEG &&
	    !(cr = inline_body(in, def, e->rhs, &r)))
		return NULL;
	if (e->kind == EXPR_CALL) {
		Func fn = builtin_func(e);
		if (fn == FN_NONE) {
			const CustomAct *callee = R->defs[lookup(R, e->name)].act;
			if (!callee->ok) {
				in->failed = true;
				return NULL;
			}
			return subst(in, callee->f, cl, l, sz);
		}
		if (!grow(in, sz, l, r))
			return NULL;
		return new_call(R->a, e->loc, fn, cl);
	}
	if (!grow(in, sz, l, r))
		return NULL;
	switch (e->kind) {
	case EXPR_NUM:
		return new_num(R->a, e->loc, e->num);
	case EXPR_VAR:
		return new_var(R->a, e->loc, "x");
	default:
		return new_node(R->a, e->kind, e->loc, cl, cr);
	}
}

static void build_definition(Resolver *R, Def *def)
{
	if (def->bad || def->cyclic || !def->walked)
		return;
	Inliner in = {R, false, false};
	Size sz;
	Expr *f = inline_body(&in, def, def->ast->body, &sz);
	if (!f) {
		def->too_large = in.too_large && !in.failed;
		return;
	}
	Expr *df = expr_diff(R->a, f);
	if (!within_limits(df, EXPR_MAX_DERIV_NODES, EXPR_MAX_DERIV_DEPTH)) {
		def->deriv_too_large = true;
		return;
	}
	def->act->f = f;
	def->act->df = df;
	def->act->ok = true;
}

/* The passes described above.  Every CustomAct that is ok has f and df
 * within the limits of nnc.h; one that is not has both NULL. */
CustomAct **expr_resolve_all(Arena *a, const AstFile *f, Diag *d)
{
	Resolver R = {.a = a, .d = d};
	for (const AstActivation *p = f->activations; p; p = p->next)
		R.n++;
	CustomAct **acts = arena_array(a, (size_t)R.n + 1, sizeof *acts);
	if (R.n == 0)
		return acts;

	R.defs = xmalloc((size_t)R.n * sizeof *R.defs);
	size_t tsize = 16;
	while (tsize < 2 * (size_t)R.n)
		tsize *= 2;
	R.table = xmalloc(tsize * sizeof *R.table);
	memset(R.table, 0, tsize * sizeof *R.table);
	R.mask = tsize - 1;
	R.cands = arena_array(a, FN_COUNT + (size_t)R.n + 1, sizeof *R.cands);
	int ncands = 0;
	for (int fn = FN_NONE + 1; fn < FN_COUNT; fn++)
		if (fn != FN_STEP)
			R.cands[ncands++] = func_names[fn];

	int i = 0;
	for (const AstActivation *p = f->activations; p; p = p->next, i++) {
		Def *def = &R.defs[i];
		memset(def, 0, sizeof *def);
		def->ast = p;
		def->dup_of = -1;
		CustomAct *act = def->act = acts[i] = arena_alloc(a, sizeof *act);
		act->name = p->name;
		act->loc = p->name_loc;
		act->param = p->param;
		if (p->name) {
			def->dup_of = insert(&R, i);
			if (def->dup_of < 0)
				R.cands[ncands++] = p->name;
		}
	}

	for (i = 0; i < R.n; i++)
		check_definition(&R, i);

	int *post = xmalloc((size_t)R.n * sizeof *post);
	int npost = find_cycles(&R, post);
	ASSERT(npost == R.n);

	for (int k = 0; k < npost; k++) {
		Def *def = &R.defs[post[k]];
		def->dep = def->walked && depends(&R, def, def->ast->body, false);
		def->dep_known = true;
	}
	for (i = 0; i < R.n; i++)
		if (R.defs[i].walked)
			depends(&R, &R.defs[i], R.defs[i].ast->body, true);

	for (int k = 0; k < npost; k++)
		build_definition(&R, &R.defs[post[k]]);

	for (i = 0; i < R.n; i++) {
		const Def *def = &R.defs[i];
		if (def->too_large)
			diag_error(d, def->ast->name_loc, "activation '%s' is too large "
			           "once its calls are inlined (limit: %d nodes / "
			           "depth %d)", def->ast->name, EXPR_MAX_NODES,
			           EXPR_MAX_DEPTH);
		else if (def->deriv_too_large)
			diag_error(d, def->ast->name_loc, "the derivative of activation "
			           "'%s' is too large (limit: %d nodes / depth %d)",
			           def->ast->name, EXPR_MAX_DERIV_NODES,
			           EXPR_MAX_DERIV_DEPTH);
	}

	free(post);
	for (i = 0; i < R.n; i++)
		free(R.defs[i].edges);
	free(R.defs);
	free(R.table);
	return acts;
}

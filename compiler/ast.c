/*
 * ast.c — the syntax tree's printer (nnc check --dump=ast).
 *
 * One node per line, indented by depth, each with the line:col where it
 * starts; definitions in source order.  The format is pinned by golden
 * tests, so it must stay stable: values are printed as written, activation
 * bodies fully parenthesized (so the dump shows how the parser grouped
 * them) with numbers in their shortest round-trip form.
 *
 *   activation swish(x) @1:12
 *     body: (x * sigmoid(x))
 *   model grades @2:7
 *     input x [3] @3:5
 *     chain @5:5
 *       step dense(4, tanh) @5:5
 *     setting optimizer sgd(learning_rate = 0.01) @10:5
 */
#include <stdlib.h>

#include "nnc.h"

static void print_loc(FILE *out, Loc loc)
{
	fprintf(out, " @%d:%d\n", loc.first_line, loc.first_column);
}

/* The shortest "%.*g" that reads back as the same double. */
static void print_num(FILE *out, double x)
{
	char buf[40];
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, x);
		if (strtod(buf, NULL) == x)
			break;
	}
	fputs(buf, out);
}

static const char *const binary_ops[] = {
	[EXPR_ADD] = "+", [EXPR_SUB] = "-", [EXPR_MUL] = "*",
	[EXPR_DIV] = "/", [EXPR_POW] = "^",
};

static bool is_binary(const Expr *e)
{
	return e->kind == EXPR_ADD || e->kind == EXPR_SUB ||
	       e->kind == EXPR_MUL || e->kind == EXPR_DIV || e->kind == EXPR_POW;
}

/* Every operator node in parentheses; a call's argument without its own,
 * since the call's parentheses already delimit it.  A run like
 * x + x + ... + x is a left spine as deep as it is long, which the parser
 * does not limit: it is printed in a loop.  The recursion, on right
 * operands, calls and unary minus, goes no deeper than the nesting the
 * parser limits. */
static void print_expr(FILE *out, const Expr *e, bool top)
{
	if (is_binary(e)) {
		/* The left spine e = s[0], s[0]->lhs = s[1], ...: its
		 * parentheses, its leftmost operand, then each operator and right
		 * operand from the innermost node out. */
		size_t n = 0;
		for (const Expr *p = e; is_binary(p); p = p->lhs)
			n++;
		const Expr **spine = xmalloc(n * sizeof *spine);
		size_t i = 0;
		for (const Expr *p = e; is_binary(p); p = p->lhs)
			spine[i++] = p;
		for (i = top ? 1 : 0; i < n; i++)
			fputc('(', out);
		print_expr(out, spine[n - 1]->lhs, false);
		for (i = n; i-- > 0;) {
			fprintf(out, " %s ", binary_ops[spine[i]->kind]);
			print_expr(out, spine[i]->rhs, false);
			if (i > 0 || !top)
				fputc(')', out);
		}
		free(spine);
		return;
	}
	switch (e->kind) {
	case EXPR_NUM:
		print_num(out, e->num);
		return;
	case EXPR_VAR:
		fputs(e->name, out);
		return;
	case EXPR_CALL:
		fprintf(out, "%s(", e->name);
		print_expr(out, e->lhs, true);
		fputc(')', out);
		return;
	case EXPR_NEG:
		fputs(top ? "-" : "(-", out);
		print_expr(out, e->lhs, false);
		if (!top)
			fputc(')', out);
		return;
	case EXPR_ADD: case EXPR_SUB: case EXPR_MUL: case EXPR_DIV: case EXPR_POW:
		break;                 /* above */
	}
	DIE("bad expression kind %d", (int)e->kind);
}

static void print_value(FILE *out, const AstValue *v);

static void print_args(FILE *out, const AstArg *a)
{
	fputc('(', out);
	for (; a; a = a->next) {
		if (a->name)
			fprintf(out, "%s = ", a->name);
		print_value(out, a->value);
		if (a->next)
			fputs(", ", out);
	}
	fputc(')', out);
}

static void print_value(FILE *out, const AstValue *v)
{
	fputs(v->text, out);
	if (v->kind == VAL_CALL)
		print_args(out, v->args);
}

static void print_values(FILE *out, const AstStmt *s)
{
	for (int i = 0; i < s->nvalues; i++) {
		if (i)
			fputs(", ", out);
		print_value(out, s->values[i]);
	}
}

static void print_chain(FILE *out, const AstStep *step)
{
	for (; step; step = step->next) {
		fprintf(out, "    step %s", step->name);
		if (step->has_parens)
			print_args(out, step->args);
		print_loc(out, step->loc);
	}
}

static void print_stmt(FILE *out, const AstStmt *s)
{
	switch (s->kind) {
	case STMT_INPUT:
		fprintf(out, "  input %s [", s->name);
		print_values(out, s);
		fputc(']', out);
		print_loc(out, s->loc);
		return;
	case STMT_ASSIGN:
		fprintf(out, "  assign %s", s->name);
		break;
	case STMT_OUTPUT:
		fprintf(out, "  output %s", s->name);
		break;
	case STMT_CHAIN:
		fputs("  chain", out);
		break;
	case STMT_SETTING:
		fprintf(out, "  setting %s ", s->name);
		print_values(out, s);
		print_loc(out, s->loc);
		return;
	}
	print_loc(out, s->loc);
	print_chain(out, s->chain);
}

/* A definition with a syntax error has no body, and maybe no parameter:
 * shown as `?`. */
static void print_activation(FILE *out, const AstActivation *a)
{
	fprintf(out, "activation %s(%s)", a->name, a->param ? a->param : "?");
	print_loc(out, a->name_loc);
	fputs("  body: ", out);
	if (a->body)
		print_expr(out, a->body, false);
	else
		fputc('?', out);
	fputc('\n', out);
}

static void print_model(FILE *out, const AstModel *m)
{
	fprintf(out, "model %s", m->name);
	print_loc(out, m->name_loc);
	for (const AstStmt *s = m->stmts; s; s = s->next)
		print_stmt(out, s);
}

static bool loc_before(Loc a, Loc b)
{
	return a.first_line < b.first_line ||
	       (a.first_line == b.first_line && a.first_column < b.first_column);
}

void ast_dump(FILE *out, const AstFile *f)
{
	/* Models and activations are kept in two lists; merge them back into
	 * source order. */
	const AstModel *m = f->models;
	const AstActivation *a = f->activations;
	while (m || a) {
		if (a && (!m || loc_before(a->loc, m->loc))) {
			print_activation(out, a);
			a = a->next;
		} else {
			print_model(out, m);
			m = m->next;
		}
	}
}

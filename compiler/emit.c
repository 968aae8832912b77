/*
 * emit.c — the C back end: one model's IR and memory plan to NAME.h and
 * NAME.c (nnc build).
 *
 * The generated code trains the model: a forward pass, the loss and its
 * gradient, a backward pass in reverse layer order and an optimizer step,
 * all straight-line code with every size a constant.  Each op is described
 * once, in one forward emitter and one backward emitter (the switches in
 * emit_forward and emit_backward); small dense layers are unrolled into
 * scalar C, larger ones call the runtime's GEMM.  The emitter takes every
 * memory decision from plan.c and makes none about semantics: a violated
 * invariant is an internal bug (DIE).
 *
 * Text goes through one indent-aware printer (emit_line, emit_open,
 * emit_close) into memory buffers, so helper functions used by the body
 * can be printed before it, only when they are used.  Numbers are printed
 * in their shortest round-trip form for the target precision, names come
 * from the IR's stable layer names, and nothing depends on pointers or hash
 * order: the same input gives byte-identical files.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "nnc.h"
#include "nnrt.h"

/* ---- growable text ------------------------------------------------------ */

static void buf_putn(EmitBuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void emit_buf_puts(EmitBuf *b, const char *s)
{
	buf_putn(b, s, strlen(s));
}

NNC_PRINTF(2, 0) static void buf_vprintf(EmitBuf *b, const char *fmt,
                                         va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	ASSERT(n >= 0);
	if (b->len + (size_t)n + 1 > b->cap) {
		b->cap = (b->len + (size_t)n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void emit_buf_putc(EmitBuf *b, char c)
{
	buf_putn(b, &c, 1);
}

void emit_buf_printf(EmitBuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void emit_buf_free(EmitBuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

/* ---- the emitter -------------------------------------------------------- */

enum { WRAP_COLUMN = 80 };

static void emit_indent(Emitter *E, int levels)
{
	for (int i = 0; i < levels; i++)
		emit_buf_puts(E->out, "    ");
}

/* A control line without a body on the same line (`for (...)`, `if (...)`,
 * `else`) indents the next line one level more. */
static bool opens_unbraced(const char *s, size_t len)
{
	if (len == 0 || s[len - 1] == ';' || s[len - 1] == '{')
		return false;
	return !strncmp(s, "for (", 5) || !strncmp(s, "if (", 4) ||
	       !strncmp(s, "while (", 7) || !strcmp(s, "else");
}

/* Follows the parentheses of a line of C, outside comments and string
 * and character literals, so that a statement split over lines can be
 * indented as a continuation. */
static void track_parens(Emitter *E, const char *s)
{
	for (; *s; s++) {
		if (E->in_comment) {
			if (s[0] == '*' && s[1] == '/') {
				E->in_comment = false;
				s++;
			}
		} else if (s[0] == '/' && s[1] == '*') {
			E->in_comment = true;
			s++;
		} else if (*s == '"' || *s == '\'') {
			char q = *s;
			for (s++; *s && *s != q; s++)
				if (*s == '\\' && s[1])
					s++;
			if (!*s)
				return;
		} else if (*s == '(') {
			E->paren++;
		} else if (*s == ')') {
			E->paren--;
		}
	}
}

/* Prints one line of C at the current indentation.  A line that starts
 * with '}' closes a level first; one that ends with '{' opens one after;
 * a line inside unclosed parentheses is a continuation, two levels in.
 * A control line whose condition goes on over continuation lines indents
 * its unbraced body once the condition is closed.  Call sites never write
 * leading whitespace, except the " * " of a block comment's later lines. */
void emit_raw_line(Emitter *E, const char *s)
{
	size_t len = strlen(s);
	bool cont = E->paren > 0;
	if (s[0] == '}') {
		ASSERT(E->indent > 0);
		E->indent--;
	}
	if (len > 0 && s[0] != '#')
		emit_indent(E, E->indent + E->pending + (cont ? 2 : 0));
	track_parens(E, s);
	ASSERT(E->paren >= 0);
	if (cont) {
		emit_buf_puts(E->out, s);
		emit_buf_puts(E->out, "\n");
		if (E->ctrl_open && E->paren == 0) {
			E->ctrl_open = false;
			if (len > 0 && s[len - 1] != ';' && s[len - 1] != '{')
				E->pending++;
		}
		if (len > 0 && s[len - 1] == '{')
			E->indent++;
		return;
	}
	emit_buf_puts(E->out, s);
	emit_buf_puts(E->out, "\n");
	if (opens_unbraced(s, len) && E->paren > 0)
		E->ctrl_open = true;
	else if (opens_unbraced(s, len))
		E->pending++;
	else if (len > 0)
		E->pending = 0;
	if (len > 0 && s[len - 1] == '{')
		E->indent++;
}

NNC_PRINTF(2, 3) void emit_line(Emitter *E, const char *fmt, ...)
{
	EmitBuf b = {0};
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	emit_raw_line(E, b.s ? b.s : "");
	emit_buf_free(&b);
}

/* `text {` and one level deeper. */
NNC_PRINTF(2, 3) void emit_open(Emitter *E, const char *fmt, ...)
{
	EmitBuf b = {0};
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	emit_buf_puts(&b, b.len ? " {" : "{");
	emit_raw_line(E, b.s);
	emit_buf_free(&b);
}

/* A bare "{": a function body or a block scoping a layer's locals. */
void emit_brace(Emitter *E)
{
	emit_raw_line(E, "{");
}

void emit_close(Emitter *E)
{
	emit_raw_line(E, "}");
}

void emit_blank(Emitter *E)
{
	emit_raw_line(E, "");
}

/* Expands a fixed piece of C: $M model name, $U macro prefix, $T the real
 * type, $f the float suffix of literals and math functions ("f" or ""),
 * $P the runtime's precision suffix (f32, f64), $$ a dollar.  Lines are
 * indented by emit_raw_line; the text itself has no leading whitespace. */
void emit_code(Emitter *E, const char *text)
{
	EmitBuf line = {0};
	for (const char *s = text; *s; s++) {
		if (*s == '\n') {
			emit_raw_line(E, line.s ? line.s : "");
			line.len = 0;
			if (line.s)
				line.s[0] = '\0';
			continue;
		}
		if (*s != '$') {
			buf_putn(&line, s, 1);
			continue;
		}
		switch (*++s) {
		case 'M': emit_buf_puts(&line, E->M); break;
		case 'U': emit_buf_puts(&line, E->U); break;
		case 'T': emit_buf_puts(&line, E->T); break;
		case 'f': emit_buf_puts(&line, E->o->f64 ? "" : "f"); break;
		case 'P': emit_buf_puts(&line, E->o->f64 ? "f64" : "f32"); break;
		case '$': emit_buf_puts(&line, "$"); break;
		default:  DIE("bad template escape '$%c'", *s);
		}
	}
	ASSERT(line.len == 0);
	emit_buf_free(&line);
}

/* Prints a statement made of pieces, each ending with its separator, on
 * as few lines as fit WRAP_COLUMN; continuation lines are indented two
 * levels deeper. */
void emit_wrapped(Emitter *E, PtrVec *pieces)
{
	EmitBuf all = {0};
	for (int i = 0; i < pieces->len; i++)
		emit_buf_puts(&all, pieces->items[i]);
	if ((size_t)(E->indent + E->pending) * 4 + all.len <= WRAP_COLUMN) {
		emit_raw_line(E, all.s);
		emit_buf_free(&all);
		free(pieces->items);
		*pieces = (PtrVec){0};
		return;
	}
	emit_buf_free(&all);
	int base = E->indent + E->pending;
	EmitBuf line = {0};
	bool first = true;
	for (int i = 0; i < pieces->len; i++) {
		const char *piece = pieces->items[i];
		size_t width = (size_t)(first ? base : base + 2) * 4 + line.len;
		if (line.len > 0 && width + strlen(piece) > WRAP_COLUMN + 1) {
			while (line.len > 0 && line.s[line.len - 1] == ' ')
				line.s[--line.len] = '\0';
			emit_indent(E, first ? base : base + 2);
			emit_buf_puts(E->out, line.s);
			emit_buf_puts(E->out, "\n");
			line.len = 0;
			first = false;
		}
		emit_buf_puts(&line, piece);
	}
	emit_indent(E, first ? base : base + 2);
	emit_buf_puts(E->out, line.s);
	emit_buf_puts(E->out, "\n");
	E->pending = 0;
	if (line.len > 0 && line.s[line.len - 1] == '{')
		E->indent++;       /* as emit_raw_line does for one line */
	emit_buf_free(&line);
	free(pieces->items);
	*pieces = (PtrVec){0};
}

NNC_PRINTF(3, 4) void emit_piece(Emitter *E, PtrVec *v, const char *fmt,
                                 ...)
{
	EmitBuf b = {0};
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	ptrvec_push(v, arena_strdup(E->a, b.s ? b.s : ""));
	emit_buf_free(&b);
}

/* head, the terms joined by " + ", then tail: one wrapped statement. */
void emit_sum(Emitter *E, const char *head, PtrVec *terms,
              const char *tail)
{
	PtrVec pcs = {0};
	for (int i = 0; i < terms->len; i++)
		emit_piece(E, &pcs, "%s%s%s", i ? "" : head, (char *)terms->items[i],
		           i + 1 < terms->len ? " + " : tail);
	free(terms->items);
	*terms = (PtrVec){0};
	emit_wrapped(E, &pcs);
}

/* A function's head: `head(` then the parameters, split after their
 * commas, wrapped as a statement is; params is a ", "-separated list. */
void emit_sig(Emitter *E, const char *head, const char *params)
{
	PtrVec pcs = {0};
	EmitBuf b = {0};
	emit_buf_puts(&b, head);
	emit_buf_puts(&b, "(");
	for (const char *s = params; *s;) {
		const char *comma = strstr(s, ", ");
		size_t n = comma ? (size_t)(comma - s) + 2 : strlen(s);
		buf_putn(&b, s, n);
		if (!comma)
			emit_buf_puts(&b, ")");
		ptrvec_push(&pcs, arena_strdup(E->a, b.s));
		b.len = 0;
		b.s[0] = '\0';
		s += n;
	}
	emit_buf_free(&b);
	emit_wrapped(E, &pcs);
}

NNC_PRINTF(2, 3) const char *emit_fmt(Emitter *E, const char *f, ...)
{
	EmitBuf b = {0};
	va_list ap;
	va_start(ap, f);
	buf_vprintf(&b, f, ap);
	va_end(ap);
	const char *s = arena_strdup(E->a, b.s ? b.s : "");
	emit_buf_free(&b);
	return s;
}

/* ---- numbers, names and comments ---------------------------------------- */

/* x as a C literal of the target precision: the shortest decimal that
 * reads back as the same float (or double), with a '.' or exponent so it
 * is a floating constant, and the 'f' suffix in f32. */
const char *emit_lit(Emitter *E, double x)
{
	bool f64 = E->o->f64;
	if (!f64)
		x = (float)x;
	ASSERT(!isnan(x));
	if (isinf(x))
		return emit_fmt(E, "%s%s", x < 0 ? "-" : "",
		                f64 ? "HUGE_VAL" : "HUGE_VALF");
	char buf[48];
	for (int digits = 1; digits <= 17; digits++) {
		snprintf(buf, sizeof buf, "%.*g", digits, x);
		if (f64 ? strtod(buf, NULL) == x
		        : strtof(buf, NULL) == (float)x)
			break;
	}
	if (!strpbrk(buf, ".e"))
		strcat(buf, ".0");
	if (!f64)
		strcat(buf, "f");
	return arena_strdup(E->a, buf);
}

/* A math function of the target precision: "exp" -> "expf" in f32. */
const char *emit_mathfn(Emitter *E, const char *name)
{
	return E->o->f64 ? name : emit_fmt(E, "%sf", name);
}

/* tanh: in f32 the generated nn_tanhf, which loops vectorize (tanhf is a
 * library call); in f64 the library's. */
static const char *tanh_fn(Emitter *E)
{
	if (E->o->f64)
		return "tanh";
	E->helper[H_TANHF] = true;
	return "nn_tanhf";
}

static const char *gemm(Emitter *E)
{
	return E->o->f64 ? "nnrt_dgemm" : "nnrt_sgemm";
}

/* "[8, 3]": a shape with the batch dimension first. */
const char *emit_bshape(Emitter *E, Shape s)
{
	EmitBuf b = {0};
	char num[32];
	snprintf(num, sizeof num, "[%" PRId64, E->p->batch);
	emit_buf_puts(&b, num);
	for (int i = 0; i < s.rank; i++) {
		snprintf(num, sizeof num, ", %" PRId64, s.dims[i]);
		emit_buf_puts(&b, num);
	}
	emit_buf_puts(&b, "]");
	const char *r = arena_strdup(E->a, b.s);
	emit_buf_free(&b);
	return r;
}

/* "[4, 3]": one example's shape. */
const char *emit_eshape(Emitter *E, Shape s)
{
	return shape_str(E->a, s);
}

const char *emit_where(Emitter *E, Loc l)
{
	return emit_fmt(E, "%s:%d:%d", E->file, l.first_line, l.first_column);
}

/* Text that is safe inside a C block comment. */
const char *emit_comment_safe(Emitter *E, const char *s)
{
	EmitBuf b = {0};
	for (; *s; s++) {
		buf_putn(&b, s, 1);
		if (s[0] == '*' && s[1] == '/')
			emit_buf_puts(&b, " ");
	}
	const char *r = arena_strdup(E->a, b.s ? b.s : "");
	emit_buf_free(&b);
	return r;
}

/* How the layer was written: dense(4, tanh), dropout(0.1), add(a, b). */
const char *emit_layer_desc(Emitter *E, const IrNode *n)
{
	char num[IR_NUM_BUF];
	switch (n->op) {
	case OP_INPUT:
		return emit_fmt(E, "input %s", n->name);
	case OP_DENSE:
		return emit_fmt(E, "dense(%" PRId64 "%s%s%s)", n->units,
		                n->act.kind == ACT_LINEAR ? "" : ", ",
		                n->act.kind == ACT_LINEAR ? "" : act_name(n->act),
		                n->use_bias ? "" : ", use_bias = false");
	case OP_ACT:
		return act_name(n->act);
	case OP_DROPOUT:
		return emit_fmt(E, "dropout(%s)", ir_fmt_num(num, n->rate));
	case OP_FLATTEN:
		return "flatten";
	case OP_ADD:
	case OP_CONCAT: {
		EmitBuf b = {0};
		emit_buf_puts(&b, op_names[n->op]);
		for (int k = 0; k < n->ninputs; k++) {
			emit_buf_puts(&b, k ? ", " : "(");
			emit_buf_puts(&b, ir_node_label(n->inputs[k]));
		}
		emit_buf_puts(&b, ")");
		const char *r = arena_strdup(E->a, b.s);
		emit_buf_free(&b);
		return r;
	}
	default:
		DIE("unknown op %d", (int)n->op);
	}
}

/* "dense_1: dense(4, tanh) at grades.nn:5:5, [8, 3] -> [8, 4]" */
const char *emit_layer_title(Emitter *E, const IrNode *n)
{
	EmitBuf b = {0};
	for (int k = 0; k < n->ninputs; k++) {
		emit_buf_puts(&b, k ? ", " : "");
		emit_buf_puts(&b, emit_bshape(E, n->inputs[k]->shape));
	}
	const char *s = emit_fmt(E, "%s: %s at %s, %s -> %s", n->name,
	                         emit_comment_safe(E, emit_layer_desc(E, n)),
	                         emit_where(E, n->loc), b.s ? b.s : "",
	                         emit_bshape(E, n->shape));
	emit_buf_free(&b);
	return s;
}

static const NodePlan *plan_of(Emitter *E, const IrNode *n)
{
	return &E->p->nodes[n->id];
}

static int64_t size_of(const IrNode *n)
{
	return shape_size(n->shape);
}

const char *emit_y_of(Emitter *E, const IrNode *n)
{
	const NodePlan *np = plan_of(E, n);
	const NodePlan *root = plan_of(E, np->root);
	if (root->node->op == OP_INPUT && root->y < 0) {
		E->used_x = true;
		return "x";
	}
	ASSERT(root->y >= 0);
	if (E->infer && root == plan_of(E, plan_of(E, E->m->output)->root))
		return "y";
	if (E->infer)
		return emit_fmt(E, "%s_y", root->node->name);
	return emit_fmt(E, "m->%s_y", root->node->name);
}

const char *emit_param_of(Emitter *E, const IrNode *n, const char *which)
{
	if (E->infer)
		return emit_fmt(E, "%s_%s_%s", E->M, n->name, which);
	return emit_fmt(E, "m->p.%s_%s", n->name, which);
}

static const char *dy_of(Emitter *E, const IrNode *n)
{
	const NodePlan *root = plan_of(E, plan_of(E, n)->root);
	ASSERT(root->dy >= 0);
	return emit_fmt(E, "m->%s_dy", root->node->name);
}

static const char *z_of(Emitter *E, const IrNode *n)
{
	ASSERT(plan_of(E, n)->z >= 0);
	return emit_fmt(E, "m->%s_z", n->name);
}

/* ---- activations -------------------------------------------------------- */

static int custom_index(Emitter *E, const CustomAct *c)
{
	for (int i = 0; E->prog->acts && E->prog->acts[i]; i++)
		if (E->prog->acts[i] == c)
			return i;
	DIE("custom activation '%s' is not in the program", c->name);
}

/* The C function that applies an elementwise activation ("tanhf",
 * "nn_relu", "swish_f"), or NULL for linear, marking it used. */
static const char *act_fn(Emitter *E, Activation act)
{
	switch (act.kind) {
	case ACT_LINEAR:
		return NULL;
	case ACT_SIGMOID:
		E->helper[H_SIGMOID] = true;
		return "nn_sigmoid";
	case ACT_TANH:
		return tanh_fn(E);
	case ACT_RELU:
		E->helper[H_RELU] = true;
		return "nn_relu";
	case ACT_SIN:
		return emit_mathfn(E, "sin");
	case ACT_COS:
		return emit_mathfn(E, "cos");
	case ACT_CUSTOM:
		E->custom_f[custom_index(E, act.custom)] = true;
		return emit_fmt(E, "%s_f", act.custom->name);
	case ACT_SOFTMAX:
		break;
	}
	DIE("activation %s is not elementwise", act_name(act));
}

/* act(arg) for an elementwise activation. */
const char *emit_act_call(Emitter *E, Activation act, const char *arg)
{
	const char *fn = act_fn(E, act);
	return fn ? emit_fmt(E, "%s(%s)", fn, arg) : arg;
}

/* dL/dz from dL/dy = dy, the output y and the pre-activation z (only the
 * activations of plan_act_needs_z read z). */
static const char *act_dz(Emitter *E, Activation act, const char *dy,
                          const char *y, const char *z)
{
	switch (act.kind) {
	case ACT_LINEAR:
		return dy;
	case ACT_SIGMOID:
		return emit_fmt(E, "%s * %s * (%s - %s)", dy, y, emit_lit(E, 1), y);
	case ACT_TANH:
		return emit_fmt(E, "%s * (%s - %s * %s)", dy, emit_lit(E, 1), y, y);
	case ACT_RELU:
		return emit_fmt(E, "(%s > %s ? %s : %s)", y, emit_lit(E, 0), dy,
		                emit_lit(E, 0));
	case ACT_SIN:
		return emit_fmt(E, "%s * %s(%s)", dy, emit_mathfn(E, "cos"), z);
	case ACT_COS:
		return emit_fmt(E, "-%s * %s(%s)", dy, emit_mathfn(E, "sin"), z);
	case ACT_CUSTOM:
		E->custom_df[custom_index(E, act.custom)] = true;
		return emit_fmt(E, "%s * %s_df(%s)", dy, act.custom->name, z);
	case ACT_SOFTMAX:
		break;
	}
	DIE("activation %s is not elementwise", act_name(act));
}

/* Softmax of one row of c values, src to dst (which may be the same). */
void emit_softmax_row(Emitter *E, const char *dst, const char *src,
                      int64_t c)
{
	emit_line(E, "%s max = %s[0];", E->T, src);
	emit_line(E, "for (int j = 1; j < %" PRId64 "; j++)", c);
	emit_line(E, "max = %s[j] > max ? %s[j] : max;", src, src);
	emit_line(E, "%s sum = %s;", E->T, emit_lit(E, 0));
	emit_open(E, "for (int j = 0; j < %" PRId64 "; j++)", c);
	emit_line(E, "%s[j] = %s(%s[j] - max);", dst, emit_mathfn(E, "exp"), src);
	emit_line(E, "sum += %s[j];", dst);
	emit_close(E);
	emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", c);
	emit_line(E, "%s[j] /= sum;", dst);
}

/* ---- custom activations: Expr to C -------------------------------------- */

enum { PREC_ADD = 1, PREC_MUL, PREC_UNARY, PREC_ATOM };

/* The constant exponent of x^c (the front end allows no other). */
static double pow_exponent(const Expr *e)
{
	double c = expr_eval(e->rhs, 0.0);
	ASSERT(isfinite(c));
	return c;
}

static int expr_prec(const Expr *e)
{
	switch (e->kind) {
	case EXPR_NUM:
		return e->num < 0 ? PREC_UNARY : PREC_ATOM;
	case EXPR_VAR:
	case EXPR_CALL:
		return PREC_ATOM;
	case EXPR_NEG:
		return PREC_UNARY;
	case EXPR_ADD:
	case EXPR_SUB:
		return PREC_ADD;
	case EXPR_MUL:
	case EXPR_DIV:
		return PREC_MUL;
	case EXPR_POW: {
		double c = pow_exponent(e);
		if (c == 1)
			return expr_prec(e->lhs);
		return c == 2 ? PREC_MUL : PREC_ATOM;
	}
	}
	DIE("unknown expression kind %d", (int)e->kind);
}

static void expr_c(Emitter *E, EmitBuf *b, const Expr *e);

/* e, in parentheses if it binds less tightly than min. */
static void expr_operand(Emitter *E, EmitBuf *b, const Expr *e, int min)
{
	bool paren = expr_prec(e) < min;
	if (paren)
		emit_buf_puts(b, "(");
	expr_c(E, b, e);
	if (paren)
		emit_buf_puts(b, ")");
}

/* Prints e as a C expression of the target precision.  Both operands of
 * a binary operator keep the tree's grouping exactly (a + (b + c) stays
 * so), since floating-point addition is not associative. */
static void expr_c(Emitter *E, EmitBuf *b, const Expr *e)
{
	static const char *const ops[] = {
		[EXPR_ADD] = " + ", [EXPR_SUB] = " - ",
		[EXPR_MUL] = " * ", [EXPR_DIV] = " / ",
	};
	switch (e->kind) {
	case EXPR_NUM:
		emit_buf_puts(b, emit_lit(E, e->num));
		return;
	case EXPR_VAR:
		emit_buf_puts(b, "x");
		return;
	case EXPR_NEG:
		emit_buf_puts(b, "-");
		expr_operand(E, b, e->lhs, PREC_ATOM);
		return;
	case EXPR_ADD:
	case EXPR_SUB:
	case EXPR_MUL:
	case EXPR_DIV: {
		int p = expr_prec(e);
		expr_operand(E, b, e->lhs, p);
		emit_buf_puts(b, ops[e->kind]);
		expr_operand(E, b, e->rhs, p + 1);
		return;
	}
	case EXPR_POW: {
		double c = pow_exponent(e);
		if (c == 1) {
			expr_c(E, b, e->lhs);
		} else if (c == 2) {
			expr_operand(E, b, e->lhs, PREC_MUL);
			emit_buf_puts(b, " * ");
			expr_operand(E, b, e->lhs, PREC_MUL + 1);
		} else {
			emit_buf_puts(b, emit_mathfn(E, "pow"));
			emit_buf_puts(b, "(");
			expr_c(E, b, e->lhs);
			emit_buf_puts(b, ", ");
			emit_buf_puts(b, emit_lit(E, c));
			emit_buf_puts(b, ")");
		}
		return;
	}
	case EXPR_CALL:
		break;
	}
	ASSERT(e->kind == EXPR_CALL && e->lhs);
	switch (e->fn) {
	case FN_STEP:
		emit_buf_puts(b, "(");
		expr_operand(E, b, e->lhs, PREC_ADD);
		emit_buf_puts(b, emit_fmt(E, " > %s ? %s : %s)", emit_lit(E, 0),
		                          emit_lit(E, 1), emit_lit(E, 0)));
		return;
	case FN_SIGMOID:
		E->helper[H_SIGMOID] = true;
		emit_buf_puts(b, "nn_sigmoid(");
		break;
	case FN_RELU:
		E->helper[H_RELU] = true;
		emit_buf_puts(b, "nn_relu(");
		break;
	case FN_ABS:
		emit_buf_puts(b, emit_mathfn(E, "fabs"));
		emit_buf_puts(b, "(");
		break;
	case FN_TANH:
		emit_buf_puts(b, tanh_fn(E));
		emit_buf_puts(b, "(");
		break;
	case FN_EXP: case FN_LOG: case FN_SQRT: case FN_SIN: case FN_COS:
	case FN_TAN:
		emit_buf_puts(b, emit_mathfn(E, func_names[e->fn]));
		emit_buf_puts(b, "(");
		break;
	default:
		DIE("unresolved call of '%s'", e->name ? e->name : "?");
	}
	expr_c(E, b, e->lhs);
	emit_buf_puts(b, ")");
}

static bool expr_uses_x(const Expr *e)
{
	if (!e)
		return false;
	if (e->kind == EXPR_VAR)
		return true;
	if (e->kind == EXPR_POW)
		return expr_uses_x(e->lhs);
	return expr_uses_x(e->lhs) || expr_uses_x(e->rhs);
}

/* The source form of e, via expr_print, for a comment. */
static const char *expr_text(Emitter *E, const Expr *e)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	if (!f)
		nnc_out_of_memory("an expression's text");
	expr_print(f, e);
	if (fclose(f) != 0 || !s)
		nnc_out_of_memory("an expression's text");
	const char *r = emit_comment_safe(E, s);
	free(s);
	return r;
}

/* static float NAME_f(float x) or NAME_df: one custom activation or its
 * derivative as a C function. */
static void emit_custom_fn(Emitter *E, const CustomAct *c, bool deriv)
{
	const Expr *e = deriv ? c->df : c->f;
	ASSERT(c->ok && e);
	emit_line(E, "/* %s%s(x) = %s%s */", c->name, deriv ? "'" : "",
	          expr_text(E, e), deriv ? "" : emit_fmt(E, ", defined at %s",
	                                                 emit_where(E, c->loc)));
	emit_line(E, "static %s %s_%s(%s x)", E->T, c->name, deriv ? "df" : "f",
	          E->T);
	emit_brace(E);
	if (!expr_uses_x(e))
		emit_line(E, "(void)x;");
	EmitBuf b = {0};
	expr_c(E, &b, e);
	PtrVec pcs = {0};
	emit_piece(E, &pcs, "return %s;", b.s);
	emit_wrapped(E, &pcs);
	emit_buf_free(&b);
	emit_close(E);
	emit_blank(E);
}

void emit_custom_fns(Emitter *E)
{
	for (int i = 0; E->prog->acts && E->prog->acts[i]; i++) {
		if (E->custom_f[i])
			emit_custom_fn(E, E->prog->acts[i], false);
		if (E->custom_df[i])
			emit_custom_fn(E, E->prog->acts[i], true);
	}
}

/* ---- small chains, feature-major ---------------------------------------- */

/* A training build whose layers are all unrolled dense layers in a chain
 * (the course's small networks): the hidden layers' outputs are stored
 * feature-major, [units][BATCH], so that every layer is a loop over the
 * batch with constant bounds, which the C compiler vectorizes, instead of
 * scalar code a row at a time.  The output stays row-major, as the loss,
 * the metrics and predict read it.  Rows past n are computed from rows of
 * zeros and get a zero gradient, so they change no sum.  The batch is at
 * most 64 and the transposed buffers, locals on the stack, at most 8192
 * values. */
static bool fm_chain(Emitter *E)
{
	const Plan *p = E->p;
	if (!p->training || !p->backward || p->batch > 64)
		return false;
	const IrNode *prev = NULL;
	int64_t values = 0; /* the feature-major locals, at most 8192 values */
	for (int i = 0; i < p->model->nnodes; i++) {
		const NodePlan *np = &p->nodes[i];
		const IrNode *n = np->node;
		if (n->op == OP_INPUT) {
			if (prev || n->shape.rank != 1 || np->y >= 0)
				return false;
			prev = n;
			values += size_of(n) * p->batch;
			continue;
		}
		if (n->op != OP_DENSE || !np->unrolled || !np->live || np->fused ||
		        np->z >= 0 || n->ninputs != 1 || n->inputs[0] != prev)
			return false;
		switch (n->act.kind) {
		case ACT_LINEAR:
		case ACT_RELU:
		case ACT_TANH:
		case ACT_SIGMOID:
			break;
		default:
			return false;
		}
		prev = n;
		values += 2 * n->units * p->batch;
	}
	return prev != NULL && prev == p->model->output && prev->op == OP_DENSE &&
	       values <= 8192;
}

/* A training build whose layers with parameters are all GEMM dense
 * layers that the backward pass reaches: the backward pass writes each
 * gradient with its GEMM's alpha and beta, d = alpha * gradient + beta * d,
 * beta 0 on a step's first chunk, so nothing clears the gradients first. */
static bool direct_grads(Emitter *E)
{
	const Plan *p = E->p;
	if (!p->training || !p->backward || p->nparams == 0 || fm_chain(E))
		return false;
	for (int i = 0; i < p->model->nnodes; i++) {
		const NodePlan *np = &p->nodes[i];
		if (np->node->op == OP_DENSE &&
		        (np->unrolled || !np->live || !np->grad))
			return false;
	}
	return true;
}

/* sgd without momentum on such a build: w -= learning_rate * g is the dW
 * GEMM with alpha -learning_rate and beta 1 written into the weights
 * themselves, so a step over one chunk has no update pass at all (over
 * several chunks the later chunks' forward passes need the old weights,
 * and the gradient goes through m->grads). */
static bool fold_params(Emitter *E)
{
	const Optimizer *o = &E->m->train.opt;
	return E->direct && o->kind == OPT_SGD && o->momentum == 0;
}

/* sgd with momentum (not Nesterov's) on such a build: Keras's
 * v = momentum * v - learning_rate * g is the dW GEMM with alpha
 * -learning_rate and beta momentum written into the velocity itself, so a
 * training step never stores g and the update is w += v. */
static bool fold_velocity(Emitter *E)
{
	const Optimizer *o = &E->m->train.opt;
	return E->direct && o->kind == OPT_SGD && o->momentum > 0 &&
	       o->nesterov == 0;
}

/* The local xt, [inputs][BATCH]: the n rows of x, feature-major, zeros
 * past row n; the forward and backward passes start with it. */
static void fm_input(Emitter *E)
{
	const IrNode *input = E->p->model->output;
	while (input->op != OP_INPUT)
		input = input->inputs[0];
	int64_t I = size_of(input), B = E->p->batch;
	emit_line(E, "%s xt[%" PRId64 " * %" PRId64 "]; /* x, feature-major, "
	          "zero past row n */", E->T, I, B);
	emit_line(E, "for (int i = 0; i < n; i++)");
	emit_line(E, "for (int k = 0; k < %" PRId64 "; k++)", I);
	emit_line(E, "xt[k * %" PRId64 " + i] = x[i * %" PRId64 " + k];", B, I);
	emit_line(E, "for (int i = n; i < %" PRId64 "; i++)", B);
	emit_line(E, "for (int k = 0; k < %" PRId64 "; k++)", I);
	emit_line(E, "xt[k * %" PRId64 " + i] = %s;", B, emit_lit(E, 0));
}

/* "const T w0 = w[0], ...;": a layer's weights (and, with bias, its
 * biases b0 ...) in locals, so that the loops over the batch read them from
 * registers. */
static void fm_locals(Emitter *E, const IrNode *n, bool bias)
{
	int64_t I = size_of(n->inputs[0]), O = n->units;
	PtrVec pcs = {0};
	emit_piece(E, &pcs, "const %s ", E->T);
	for (int64_t q = 0; q < O * I; q++)
		emit_piece(E, &pcs, "w%" PRId64 " = w[%" PRId64 "]%s", q, q,
		           q + 1 < O * I || bias ? ", " : ";");
	for (int64_t j = 0; bias && j < O; j++)
		emit_piece(E, &pcs, "b%" PRId64 " = b[%" PRId64 "]%s", j, j,
		           j + 1 < O ? ", " : ";");
	emit_wrapped(E, &pcs);
}

/* "name[j * BATCH + i]": element (j, i) of a feature-major buffer. */
static const char *fm_at(Emitter *E, const char *name, int64_t j)
{
	return emit_fmt(E, "%s[%" PRId64 " * %" PRId64 " + i]", name, j,
	                E->p->batch);
}

static void emit_forward_fm(Emitter *E)
{
	const Plan *p = E->p;
	const IrModel *m = p->model;
	int64_t B = p->batch;
	emit_line(E, "/* The forward pass over rows [0, n) of x, n <= %s_BATCH; "
	          "training", E->U);
	emit_line(E, " * turns dropout on.  Hidden layers' outputs are "
	          "feature-major,");
	emit_line(E, " * [units][%s_BATCH]: each layer is a loop over the "
	          "batch. */", E->U);
	emit_line(E, "static void %s_forward(%s *m, const %s *x, int n, "
	          "int training)", E->M, E->M, E->T);
	emit_brace(E);
	emit_line(E, "(void)training;");
	fm_input(E);
	for (int i = 0; i < m->nnodes; i++) {
		const NodePlan *np = &p->nodes[i];
		const IrNode *n = np->node;
		if (n->op != OP_DENSE)
			continue;
		const IrNode *in = n->inputs[0];
		int64_t I = size_of(in), O = n->units;
		bool out = n == m->output;
		emit_line(E, "/* %s%s */", emit_layer_title(E, n),
		          out ? "" : ", feature-major");
		emit_brace(E);
		emit_line(E, "const %s *restrict w = %s; /* %s */", E->T,
		          emit_param_of(E, n, "weight"), emit_eshape(E, n->wshape));
		if (n->use_bias)
			emit_line(E, "const %s *restrict b = %s; /* %s */", E->T,
			          emit_param_of(E, n, "bias"), emit_eshape(E, n->bshape));
		emit_line(E, "const %s *restrict in = %s;", E->T,
		          in->op == OP_INPUT ? "xt" : emit_y_of(E, in));
		if (out)
			emit_line(E, "%s y[%" PRId64 " * %" PRId64 "];", E->T, O, B);
		else
			emit_line(E, "%s *restrict y = %s;", E->T, emit_y_of(E, n));
		fm_locals(E, n, n->use_bias);
		emit_open(E, "for (int i = 0; i < %" PRId64 "; i++)", B);
		for (int64_t j = 0; j < O; j++) {
			PtrVec terms = {0};
			if (n->use_bias)
				emit_piece(E, &terms, "b%" PRId64, j);
			for (int64_t k = 0; k < I; k++)
				emit_piece(E, &terms, "w%" PRId64 " * %s", j * I + k,
				           fm_at(E, "in", k));
			emit_sum(E, emit_fmt(E, "%s = ", fm_at(E, "y", j)), &terms, ";");
		}
		emit_close(E);
		if (n->act.kind != ACT_LINEAR) {
			emit_line(E, "for (int k = 0; k < %" PRId64 " * %" PRId64 "; k++)",
			          O, B);
			emit_line(E, "y[k] = %s;", emit_act_call(E, n->act, "y[k]"));
		}
		if (out) {
			emit_line(E, "for (int i = 0; i < n; i++)");
			emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", O);
			emit_line(E, "%s[i * %" PRId64 " + j] = y[j * %" PRId64 " + i];",
			          emit_y_of(E, n), O, B);
		}
		emit_close(E);
	}
	emit_close(E);
	emit_blank(E);
}

static void emit_backward_fm(Emitter *E)
{
	const Plan *p = E->p;
	const IrModel *m = p->model;
	int64_t B = p->batch, P = 1;
	while (P < B)
		P *= 2;
	emit_line(E, "/* The sum of the %s_BATCH values at v, pairwise in a "
	          "fixed order. */", E->U);
	emit_line(E, "static %s %s_sum_batch(const %s *v)", E->T, E->M, E->T);
	emit_brace(E);
	emit_line(E, "%s t[%" PRId64 "];", E->T, P);
	emit_line(E, "for (int i = 0; i < %" PRId64 "; i++)", P);
	if (P == B)
		emit_line(E, "t[i] = v[i];");
	else
		emit_line(E, "t[i] = i < %" PRId64 " ? v[i] : %s;", B,
		          emit_lit(E, 0));
	emit_line(E, "for (int h = %" PRId64 "; h > 0; h /= 2)", P / 2);
	emit_line(E, "for (int i = 0; i < h; i++)");
	emit_line(E, "t[i] += t[i + h];");
	emit_line(E, "return t[0];");
	emit_close(E);
	emit_blank(E);

	emit_line(E, "/* The backward pass over the n rows of the last forward "
	          "pass: adds the");
	emit_line(E, " * gradient of the loss to m->grads.  The gradient of "
	          "the output is in");
	emit_line(E, " * place (from %s_loss_backward); layers run in reverse "
	          "order, each", E->M);
	emit_line(E, " * summing over the batch with %s_sum_batch. */", E->M);
	emit_line(E, "static void %s_backward(%s *m, const %s *x, int n)", E->M,
	          E->M, E->T);
	emit_brace(E);
	fm_input(E);
	emit_line(E, "%s pr[%" PRId64 "];", E->T, B);
	for (int i = m->nnodes - 1; i >= 0; i--) {
		const NodePlan *np = &p->nodes[i];
		const IrNode *n = np->node;
		if (n->op != OP_DENSE)
			continue;
		const IrNode *in = n->inputs[0];
		int64_t I = size_of(in), O = n->units;
		bool out = n == m->output, dx = in->op != OP_INPUT;
		emit_blank(E);
		emit_line(E, "/* %s */", emit_layer_title(E, n));
		emit_brace(E);
		if (dx)
			emit_line(E, "const %s *restrict w = m->p.%s_weight; /* %s */",
			          E->T, n->name, emit_eshape(E, n->wshape));
		emit_line(E, "%s *restrict dw = m->g.%s_weight;", E->T, n->name);
		if (n->use_bias)
			emit_line(E, "%s *restrict db = m->g.%s_bias;", E->T, n->name);
		emit_line(E, "const %s *restrict in = %s;", E->T,
		          dx ? emit_y_of(E, in) : "xt");
		emit_line(E, "%s dz[%" PRId64 " * %" PRId64 "]; /* d loss / d z, "
		          "feature-major */", E->T, O, B);
		if (out) {
			/* from the row-major gradient of the output, zero past row n */
			const char *y = emit_fmt(E, "%s[i * %" PRId64 " + j]",
			                         emit_y_of(E, n), O);
			const char *dy = emit_fmt(E, "%s[i * %" PRId64 " + j]",
			                          dy_of(E, n), O);
			emit_line(E, "for (int i = 0; i < n; i++)");
			emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", O);
			emit_line(E, "dz[j * %" PRId64 " + i] = %s;", B,
			          act_dz(E, n->act, dy, y, NULL));
			emit_line(E, "for (int i = n; i < %" PRId64 "; i++)", B);
			emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", O);
			emit_line(E, "dz[j * %" PRId64 " + i] = %s;", B, emit_lit(E, 0));
		} else {
			if (n->act.kind != ACT_LINEAR)
				emit_line(E, "const %s *restrict y = %s;", E->T,
				          emit_y_of(E, n));
			emit_line(E, "const %s *restrict dy = %s;", E->T, dy_of(E, n));
			const char *y = emit_fmt(E, "y[j * %" PRId64 " + i]", B);
			const char *dy = emit_fmt(E, "dy[j * %" PRId64 " + i]", B);
			emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", O);
			emit_line(E, "for (int i = 0; i < %" PRId64 "; i++)", B);
			emit_line(E, "dz[j * %" PRId64 " + i] = %s;", B,
			          act_dz(E, n->act, dy, y, NULL));
		}
		emit_open(E, "for (int j = 0; j < %" PRId64 "; j++)", O);
		if (n->use_bias)
			emit_line(E, "db[j] += %s_sum_batch(dz + j * %" PRId64 ");", E->M,
			          B);
		emit_open(E, "for (int k = 0; k < %" PRId64 "; k++)", I);
		emit_line(E, "for (int i = 0; i < %" PRId64 "; i++)", B);
		emit_line(E, "pr[i] = dz[j * %" PRId64 " + i] * in[k * %" PRId64
		          " + i];", B, B);
		emit_line(E, "dw[j * %" PRId64 " + k] += %s_sum_batch(pr);", I, E->M);
		emit_close(E);
		emit_close(E);
		if (dx) {
			emit_line(E, "%s *restrict dx = %s;", E->T, dy_of(E, in));
			fm_locals(E, n, false);
			emit_open(E, "for (int i = 0; i < %" PRId64 "; i++)", B);
			for (int64_t k = 0; k < I; k++) {
				PtrVec terms = {0};
				for (int64_t j = 0; j < O; j++)
					emit_piece(E, &terms, "%s * w%" PRId64,
					           fm_at(E, "dz", j), j * I + k);
				emit_sum(E, emit_fmt(E, "%s = ", fm_at(E, "dx", k)), &terms,
				         ";");
			}
			emit_close(E);
		}
		emit_close(E);
	}
	emit_close(E);
	emit_blank(E);
}

/* ---- forward ------------------------------------------------------------ */

/* Dense: y = act(x W^T + b), the sums per row unrolled into scalar
 * statements, then the activation in one flat loop over the chunk, which
 * the compiler vectorizes (softmax stays per row). */
static void fwd_dense_unrolled(Emitter *E, const NodePlan *np)
{
	const IrNode *n = np->node;
	const IrNode *in = n->inputs[0];
	int64_t I = size_of(in), O = n->units;
	bool soft = n->act.kind == ACT_SOFTMAX;
	const char *pre = np->z >= 0 ? z_of(E, n) : emit_y_of(E, n);
	emit_brace(E);
	emit_line(E, "const %s *w = %s; /* %s */", E->T,
	          emit_param_of(E, n, "weight"), emit_eshape(E, n->wshape));
	if (n->use_bias)
		emit_line(E, "const %s *b = %s; /* %s */", E->T,
		          emit_param_of(E, n, "bias"), emit_eshape(E, n->bshape));
	emit_open(E, "for (int i = 0; i < n; i++)");
	emit_line(E, "const %s *xi = %s + i * %" PRId64 ";", E->T,
	          emit_y_of(E, in), I);
	emit_line(E, "%s *si = %s + i * %" PRId64 ";", E->T, pre, O);
	for (int64_t j = 0; j < O; j++) {
		PtrVec terms = {0};
		if (n->use_bias)
			emit_piece(E, &terms, "b[%" PRId64 "]", j);
		for (int64_t k = 0; k < I; k++)
			emit_piece(E, &terms, "w[%" PRId64 "] * xi[%" PRId64 "]",
			           j * I + k, k);
		emit_sum(E, emit_fmt(E, "si[%" PRId64 "] = ", j), &terms, ";");
	}
	ASSERT(np->z < 0 || n->act.kind != ACT_LINEAR);
	if (soft && np->z >= 0) {
		emit_line(E, "%s *yi = %s + i * %" PRId64 ";", E->T, emit_y_of(E, n),
		          O);
		emit_softmax_row(E, "yi", "si", O);
	} else if (soft) {
		emit_softmax_row(E, "si", "si", O);
	}
	emit_close(E);
	if (!soft && n->act.kind != ACT_LINEAR) {
		/* out and sum: y may be the caller's output. */
		emit_line(E, "%s *out = %s;", E->T, emit_y_of(E, n));
		if (np->z >= 0)
			emit_line(E, "const %s *sum = %s;", E->T, pre);
		emit_line(E, "for (int k = 0; k < n * %" PRId64 "; k++)", O);
		emit_line(E, "out[k] = %s;", emit_act_call(E, n->act,
		          np->z >= 0 ? "sum[k]" : "out[k]"));
	}
	emit_close(E);
}

/* Dense with GEMM, then one pass adding the bias and applying the
 * activation. */
static void fwd_dense_gemm(Emitter *E, const NodePlan *np)
{
	const IrNode *n = np->node;
	const IrNode *in = n->inputs[0];
	int64_t I = size_of(in), O = n->units;
	bool soft = n->act.kind == ACT_SOFTMAX;
	const char *dst = np->z >= 0 ? z_of(E, n) : emit_y_of(E, n);
	emit_brace(E);
	if (n->use_bias)
		emit_line(E, "const %s *b = m->p.%s_bias; /* %s */", E->T, n->name,
		          emit_eshape(E, n->bshape));
	PtrVec pcs = {0};
	emit_piece(E, &pcs, "%s(0, 1, n, %" PRId64 ", %" PRId64 ", %s, ", gemm(E),
	           O, I, emit_lit(E, 1));
	emit_piece(E, &pcs, "%s, %" PRId64 ", ", emit_y_of(E, in), I);
	emit_piece(E, &pcs, "m->p.%s_weight, %" PRId64 ", ", n->name, I);
	emit_piece(E, &pcs, "%s, ", emit_lit(E, 0));
	emit_piece(E, &pcs, "%s, %" PRId64 ");", dst, O);
	emit_wrapped(E, &pcs);
	bool act = n->act.kind != ACT_LINEAR;
	if (n->use_bias || act || np->z >= 0) {
		emit_open(E, "for (int i = 0; i < n; i++)");
		if (np->z >= 0)
			emit_line(E, "%s *zi = %s + i * %" PRId64 ";", E->T, z_of(E, n), O);
		emit_line(E, "%s *yi = %s + i * %" PRId64 ";", E->T, emit_y_of(E, n),
		          O);
		const char *pre = np->z >= 0 ? "zi" : "yi";
		if (soft) {
			if (n->use_bias) {
				emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", O);
				emit_line(E, "%s[j] += b[j];", pre);
			}
			emit_softmax_row(E, "yi", pre, O);
		} else if (np->z >= 0) {
			emit_open(E, "for (int j = 0; j < %" PRId64 "; j++)", O);
			if (n->use_bias)
				emit_line(E, "zi[j] += b[j];");
			emit_line(E, "yi[j] = %s;", emit_act_call(E, n->act, "zi[j]"));
			emit_close(E);
		} else {
			emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", O);
			if (act)
				emit_line(E, "yi[j] = %s;", emit_act_call(E, n->act, n->use_bias
				                                          ? "yi[j] + b[j]" : "yi[j]"));
			else
				emit_line(E, "yi[j] += b[j];");
		}
		emit_close(E);
	}
	emit_close(E);
}

static void fwd_act(Emitter *E, const NodePlan *np)
{
	const IrNode *n = np->node;
	const IrNode *in = n->inputs[0];
	const char *src = emit_y_of(E, in), *dst = emit_y_of(E, n);
	if (n->act.kind == ACT_SOFTMAX) {
		int64_t c = n->shape.dims[n->shape.rank - 1];
		int64_t groups = size_of(n) / c;
		emit_open(E, "for (int i = 0; i < n%s; i++)",
		          groups > 1 ? emit_fmt(E, " * %" PRId64, groups) : "");
		emit_line(E, "const %s *zi = %s + i * %" PRId64 ";", E->T, src, c);
		emit_line(E, "%s *yi = %s + i * %" PRId64 ";", E->T, dst, c);
		emit_softmax_row(E, "yi", "zi", c);
		emit_close(E);
		return;
	}
	emit_line(E, "for (int k = 0; k < n * %" PRId64 "; k++)", size_of(n));
	emit_line(E, "%s[k] = %s;", dst,
	          emit_act_call(E, n->act, emit_fmt(E, "%s[k]", src)));
}

static void fwd_dropout(Emitter *E, const NodePlan *np)
{
	const IrNode *n = np->node;
	const char *src = emit_y_of(E, n->inputs[0]), *dst = emit_y_of(E, n);
	int64_t size = size_of(n);
	PtrVec pcs = {0};
	if (E->p->training) {
		const char *mask = emit_fmt(E, "m->%s_mask", n->name);
		emit_open(E, "if (training)");
		emit_open(E, "for (int k = 0; k < n * %" PRId64 "; k++)", size);
		emit_piece(E, &pcs, "%s[k] = ", mask);
		emit_piece(E, &pcs, "nnrt_rng_uniform_%s(&m->dropout_rng) < %s ",
		           E->o->f64 ? "f64" : "f32", emit_lit(E, n->rate));
		emit_piece(E, &pcs, "? %s : %s;", emit_lit(E, 0),
		           emit_lit(E, 1 / (1 - n->rate)));
		emit_wrapped(E, &pcs);
		emit_line(E, "%s[k] = %s[k] * %s[k];", dst, src, mask);
		emit_close(E);
		emit_raw_line(E, "} else {");
	}
	emit_piece(E, &pcs, "memcpy(%s, %s, ", dst, src);
	emit_piece(E, &pcs, "sizeof *%s * (size_t)n * %" PRId64 ");", dst, size);
	emit_wrapped(E, &pcs);
	if (E->p->training)
		emit_close(E);
}

static void fwd_add(Emitter *E, const NodePlan *np)
{
	const IrNode *n = np->node;
	PtrVec pcs = {0};
	emit_piece(E, &pcs, "%s[k] = ", emit_y_of(E, n));
	for (int k = 0; k < n->ninputs; k++)
		emit_piece(E, &pcs, "%s[k]%s", emit_y_of(E, n->inputs[k]),
		           k + 1 < n->ninputs ? " + " : ";");
	emit_line(E, "for (int k = 0; k < n * %" PRId64 "; k++)", size_of(n));
	emit_wrapped(E, &pcs);
}

static void fwd_concat(Emitter *E, const NodePlan *np)
{
	const IrNode *n = np->node;
	int64_t last = n->shape.dims[n->shape.rank - 1];
	int64_t rows = size_of(n) / last, off = 0;
	emit_open(E, "for (int i = 0; i < n%s; i++)",
	          rows > 1 ? emit_fmt(E, " * %" PRId64, rows) : "");
	for (int k = 0; k < n->ninputs; k++) {
		const IrNode *in = n->inputs[k];
		int64_t w = in->shape.dims[in->shape.rank - 1];
		PtrVec pcs = {0};
		if (E->infer) {
			/* A loop, not memcpy: the inference build calls nothing
			 * but math functions. */
			emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", w);
			emit_piece(E, &pcs, "%s[i * %" PRId64 " + %sj] = ", emit_y_of(E, n),
			           last, off ? emit_fmt(E, "%" PRId64 " + ", off) : "");
			emit_piece(E, &pcs, "%s[i * %" PRId64 " + j];", emit_y_of(E, in),
			           w);
			emit_wrapped(E, &pcs);
			off += w;
			continue;
		}
		emit_piece(E, &pcs, "memcpy(%s + i * %" PRId64 "%s, ",
		           emit_y_of(E, n), last,
		           off ? emit_fmt(E, " + %" PRId64, off) : "");
		emit_piece(E, &pcs, "%s + i * %" PRId64 ", ", emit_y_of(E, in), w);
		emit_piece(E, &pcs, "sizeof (%s) * %" PRId64 ");", E->T, w);
		emit_wrapped(E, &pcs);
		off += w;
	}
	ASSERT(off == last);
	emit_close(E);
}

void emit_forward_op(Emitter *E, const NodePlan *np)
{
	const IrNode *n = np->node;
	ASSERT(np->live && !np->view);
	/* The inference build writes its own GEMM layers and output copies. */
	ASSERT(!E->infer || n->op == OP_ACT || n->op == OP_ADD ||
	       n->op == OP_CONCAT || (n->op == OP_DENSE && np->unrolled));
	switch (n->op) {
	case OP_DENSE:
		if (np->unrolled)
			fwd_dense_unrolled(E, np);
		else
			fwd_dense_gemm(E, np);
		break;
	case OP_ACT:
		fwd_act(E, np);
		break;
	case OP_DROPOUT:
		fwd_dropout(E, np);
		break;
	case OP_ADD:
		fwd_add(E, np);
		break;
	case OP_CONCAT:
		fwd_concat(E, np);
		break;
	case OP_FLATTEN:       /* the output, a copy of the input */
		emit_line(E, "memcpy(%s, %s, sizeof (%s) * (size_t)n * %" PRId64
		          ");", emit_y_of(E, n), emit_y_of(E, n->inputs[0]), E->T,
		          size_of(n));
		break;
	case OP_INPUT:
	default:
		DIE("op %s has no forward code", op_names[n->op]);
	}
}

static void emit_forward(Emitter *E)
{
	const Plan *p = E->p;
	if (fm_chain(E)) {
		emit_forward_fm(E);
		return;
	}
	emit_line(E, "/* The forward pass over rows [0, n) of x, n <= %s_BATCH%s",
	          E->U, p->training ? ";" : ". */");
	if (p->training)
		emit_line(E, " * training turns dropout on. */");
	EmitBuf body = {0}, *saved = E->out;
	E->out = &body;
	E->used_x = false;
	E->indent++;
	bool any_dropout = false;
	for (int i = 0; i < p->model->nnodes; i++) {
		const NodePlan *np = &p->nodes[i];
		const IrNode *n = np->node;
		if (n->op == OP_INPUT && np->y >= 0) {
			emit_line(E, "/* %s: the input is the output: a copy */", n->name);
			emit_line(E, "memcpy(%s, x, sizeof (%s) * (size_t)n * %" PRId64
			          ");", emit_y_of(E, n), E->T, size_of(n));
			E->used_x = true;
		}
		if (n->op == OP_INPUT)
			continue;
		emit_line(E, "/* %s */", emit_layer_title(E, n));
		if (!np->live) {
			emit_line(E, "/* (not computed: it does not reach the output) */");
			continue;
		}
		if (np->view) {
			emit_line(E, "/* (a view of %s: no code) */",
			          np->root->op == OP_INPUT ? "x" : np->root->name);
			continue;
		}
		emit_forward_op(E, np);
		any_dropout = any_dropout || n->op == OP_DROPOUT;
	}
	E->indent--;
	E->out = saved;
	emit_line(E, "static void %s_forward(%s *m, const %s *x, int n%s)", E->M,
	          E->M, E->T, p->training ? ", int training" : "");
	emit_brace(E);
	if (!E->used_x)
		emit_line(E, "(void)x;");
	if (p->training && !any_dropout)
		emit_line(E, "(void)training;");
	emit_buf_puts(E->out, body.s ? body.s : "");
	emit_close(E);
	emit_blank(E);
	emit_buf_free(&body);
}

/* ---- backward ----------------------------------------------------------- */

static const char *assign_op(const NodePlan *np, int k)
{
	return np->dx_assign[k] ? "=" : "+=";
}

static void bwd_dense_unrolled(Emitter *E, const NodePlan *np)
{
	const IrNode *n = np->node;
	const IrNode *in = n->inputs[0];
	int64_t I = size_of(in), O = n->units;
	bool dx = plan_of(E, in)->grad;
	bool soft = n->act.kind == ACT_SOFTMAX && !np->fused;
	bool need_y = !np->fused && !plan_act_needs_z(n->act) &&
	              n->act.kind != ACT_LINEAR;
	bool need_z = !np->fused && plan_act_needs_z(n->act);
	emit_brace(E);
	if (dx)
		emit_line(E, "const %s *w = m->p.%s_weight; /* %s */", E->T, n->name,
		          emit_eshape(E, n->wshape));
	emit_line(E, "%s *dw = m->g.%s_weight;", E->T, n->name);
	if (n->use_bias)
		emit_line(E, "%s *db = m->g.%s_bias;", E->T, n->name);
	emit_open(E, "for (int i = 0; i < n; i++)");
	emit_line(E, "const %s *xi = %s + i * %" PRId64 ";", E->T,
	          emit_y_of(E, in), I);
	if (need_y)
		emit_line(E, "const %s *yi = %s + i * %" PRId64 ";", E->T,
		          emit_y_of(E, n), O);
	if (need_z)
		emit_line(E, "const %s *zi = %s + i * %" PRId64 ";", E->T,
		          z_of(E, n), O);
	emit_line(E, "const %s *dyi = %s + i * %" PRId64 ";", E->T, dy_of(E, n), O);
	if (dx)
		emit_line(E, "%s *dxi = %s + i * %" PRId64 ";", E->T, dy_of(E, in), I);
	if (soft) {
		PtrVec pcs = {0};
		emit_piece(E, &pcs, "const %s s = ", E->T);
		for (int64_t j = 0; j < O; j++)
			emit_piece(E, &pcs, "dyi[%" PRId64 "] * yi[%" PRId64 "]%s", j, j,
			           j + 1 < O ? " + " : ";");
		emit_wrapped(E, &pcs);
	}
	for (int64_t j = 0; j < O; j++) {
		const char *dy = emit_fmt(E, "dyi[%" PRId64 "]", j);
		const char *y = emit_fmt(E, "yi[%" PRId64 "]", j);
		const char *z = emit_fmt(E, "zi[%" PRId64 "]", j);
		const char *dz;
		if (np->fused)
			dz = dy;
		else if (soft)
			dz = emit_fmt(E, "%s * (%s - s)", y, dy);
		else
			dz = act_dz(E, n->act, dy, y, z);
		emit_line(E, "const %s dz%" PRId64 " = %s;", E->T, j, dz);
	}
	for (int64_t j = 0; n->use_bias && j < O; j++)
		emit_line(E, "db[%" PRId64 "] += dz%" PRId64 ";", j, j);
	for (int64_t j = 0; j < O; j++)
		for (int64_t k = 0; k < I; k++)
			emit_line(E, "dw[%" PRId64 "] += dz%" PRId64 " * xi[%" PRId64 "];",
			          j * I + k, j, k);
	for (int64_t k = 0; dx && k < I; k++) {
		PtrVec pcs = {0};
		emit_piece(E, &pcs, "dxi[%" PRId64 "] %s ", k, assign_op(np, 0));
		for (int64_t j = 0; j < O; j++)
			emit_piece(E, &pcs, "dz%" PRId64 " * w[%" PRId64 "]%s", j,
			           j * I + k, j + 1 < O ? " + " : ";");
		emit_wrapped(E, &pcs);
	}
	emit_close(E);
	emit_close(E);
}

/* A GEMM dense layer's weight gradient, dZᵀ X: added to m->grads, or in a
 * direct build written into d with alpha and beta (direct_grads). */
static void bwd_dw_gemm(Emitter *E, const NodePlan *np, bool direct)
{
	const IrNode *n = np->node;
	int64_t I = size_of(n->inputs[0]), O = n->units;
	PtrVec pcs = {0};
	emit_piece(E, &pcs, "%s(1, 0, %" PRId64 ", %" PRId64 ", n, %s, ", gemm(E),
	           O, I, direct ? "alpha" : emit_lit(E, 1));
	emit_piece(E, &pcs, "dz, %" PRId64 ", ", O);
	emit_piece(E, &pcs, "%s, %" PRId64 ", ", emit_y_of(E, n->inputs[0]), I);
	emit_piece(E, &pcs, "%s, ", direct ? "beta" : emit_lit(E, 1));
	emit_piece(E, &pcs, "%s%s_weight, %" PRId64 ");", direct ? "d->" : "m->g.",
	           n->name, I);
	emit_wrapped(E, &pcs);
}

/* A GEMM dense layer's input gradient, dZ W, if its input needs one. */
static void bwd_dx_gemm(Emitter *E, const NodePlan *np)
{
	const IrNode *n = np->node;
	const IrNode *in = n->inputs[0];
	int64_t I = size_of(in), O = n->units;
	if (!plan_of(E, in)->grad)
		return;
	PtrVec pcs = {0};
	emit_piece(E, &pcs, "%s(0, 0, n, %" PRId64 ", %" PRId64 ", %s, ", gemm(E),
	           I, O, emit_lit(E, 1));
	emit_piece(E, &pcs, "dz, %" PRId64 ", ", O);
	emit_piece(E, &pcs, "m->p.%s_weight, %" PRId64 ", ", n->name, I);
	emit_piece(E, &pcs, "%s, ", emit_lit(E, np->dx_assign[0] ? 0 : 1));
	emit_piece(E, &pcs, "%s, %" PRId64 ");", dy_of(E, in), I);
	emit_wrapped(E, &pcs);
}

static void bwd_dense_gemm(Emitter *E, const NodePlan *np)
{
	const IrNode *n = np->node;
	int64_t O = n->units;
	bool act = !np->fused && n->act.kind != ACT_LINEAR;
	bool soft = n->act.kind == ACT_SOFTMAX && !np->fused;
	bool direct = E->direct;
	const char *dst = direct ? "d->" : "m->g.";
	emit_brace(E);
	emit_line(E, "%s *dz = %s; /* %s, dL/dz in place of dL/dy */", E->T,
	          dy_of(E, n), emit_bshape(E, n->shape));
	if (n->use_bias)
		emit_line(E, "%s *db = %s%s_bias;", E->T, dst, n->name);
	if (n->use_bias && direct) {
		emit_line(E, "if (beta != %s)", emit_lit(E, 1));
		emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", O);
		emit_line(E, "db[j] = beta == %s ? %s : beta * db[j];",
		          emit_lit(E, 0), emit_lit(E, 0));
	}
	if (act || n->use_bias) {
		emit_open(E, "for (int i = 0; i < n; i++)");
		emit_line(E, "%s *dzi = dz + i * %" PRId64 ";", E->T, O);
		if (act && !plan_act_needs_z(n->act))
			emit_line(E, "const %s *yi = %s + i * %" PRId64 ";", E->T,
			          emit_y_of(E, n), O);
		if (act && plan_act_needs_z(n->act))
			emit_line(E, "const %s *zi = %s + i * %" PRId64 ";", E->T,
			          z_of(E, n), O);
		if (soft) {
			emit_line(E, "%s s = %s;", E->T, emit_lit(E, 0));
			emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", O);
			emit_line(E, "s += dzi[j] * yi[j];");
		}
		bool two = (soft || act) && n->use_bias;
		if (two)
			emit_open(E, "for (int j = 0; j < %" PRId64 "; j++)", O);
		else
			emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", O);
		if (soft)
			emit_line(E, "dzi[j] = yi[j] * (dzi[j] - s);");
		else if (act)
			emit_line(E, "dzi[j] = %s;",
			          act_dz(E, n->act, "dzi[j]", "yi[j]", "zi[j]"));
		if (n->use_bias)
			emit_line(E, "db[j] += %sdzi[j];", direct ? "alpha * " : "");
		if (two)
			emit_close(E);
		emit_close(E);
	}
	/* A direct build computes dx first: its dW GEMM may write into the
	 * weights themselves (fold_params). */
	if (direct) {
		bwd_dx_gemm(E, np);
		bwd_dw_gemm(E, np, direct);
	} else {
		bwd_dw_gemm(E, np, direct);
		bwd_dx_gemm(E, np);
	}
	emit_close(E);
}

static void bwd_act(Emitter *E, const NodePlan *np)
{
	const IrNode *n = np->node;
	const IrNode *in = n->inputs[0];
	const char *dx = dy_of(E, in), *dy = dy_of(E, n);
	const char *op = assign_op(np, 0);
	if (n->act.kind == ACT_SOFTMAX && !np->fused) {
		int64_t c = n->shape.dims[n->shape.rank - 1];
		int64_t groups = size_of(n) / c;
		emit_open(E, "for (int i = 0; i < n%s; i++)",
		          groups > 1 ? emit_fmt(E, " * %" PRId64, groups) : "");
		emit_line(E, "const %s *yi = %s + i * %" PRId64 ";", E->T,
		          emit_y_of(E, n), c);
		emit_line(E, "const %s *dyi = %s + i * %" PRId64 ";", E->T, dy, c);
		emit_line(E, "%s *dxi = %s + i * %" PRId64 ";", E->T, dx, c);
		emit_line(E, "%s s = %s;", E->T, emit_lit(E, 0));
		emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", c);
		emit_line(E, "s += dyi[j] * yi[j];");
		emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", c);
		emit_line(E, "dxi[j] %s yi[j] * (dyi[j] - s);", op);
		emit_close(E);
		return;
	}
	const char *dz = np->fused ? emit_fmt(E, "%s[k]", dy)
	                 : act_dz(E, n->act, emit_fmt(E, "%s[k]", dy),
	                          emit_fmt(E, "%s[k]", emit_y_of(E, n)),
	                          emit_fmt(E, "%s[k]", emit_y_of(E, in)));
	emit_line(E, "for (int k = 0; k < n * %" PRId64 "; k++)", size_of(n));
	PtrVec pcs = {0};
	emit_piece(E, &pcs, "%s[k] %s ", dx, op);
	emit_piece(E, &pcs, "%s;", dz);
	emit_wrapped(E, &pcs);
}

static void bwd_dropout(Emitter *E, const NodePlan *np)
{
	const IrNode *n = np->node;
	emit_line(E, "for (int k = 0; k < n * %" PRId64 "; k++)", size_of(n));
	emit_line(E, "%s[k] %s %s[k] * m->%s_mask[k];", dy_of(E, n->inputs[0]),
	          assign_op(np, 0), dy_of(E, n), n->name);
}

static void bwd_add(Emitter *E, const NodePlan *np)
{
	const IrNode *n = np->node;
	int count = 0;
	for (int k = 0; k < n->ninputs; k++)
		count += plan_of(E, n->inputs[k])->grad;
	if (count > 1)
		emit_open(E, "for (int k = 0; k < n * %" PRId64 "; k++)", size_of(n));
	else
		emit_line(E, "for (int k = 0; k < n * %" PRId64 "; k++)", size_of(n));
	for (int k = 0; k < n->ninputs; k++)
		if (plan_of(E, n->inputs[k])->grad)
			emit_line(E, "%s[k] %s %s[k];", dy_of(E, n->inputs[k]),
			          assign_op(np, k), dy_of(E, n));
	if (count > 1)
		emit_close(E);
}

static void bwd_concat(Emitter *E, const NodePlan *np)
{
	const IrNode *n = np->node;
	int64_t last = n->shape.dims[n->shape.rank - 1];
	int64_t rows = size_of(n) / last, off = 0;
	emit_open(E, "for (int i = 0; i < n%s; i++)",
	          rows > 1 ? emit_fmt(E, " * %" PRId64, rows) : "");
	for (int k = 0; k < n->ninputs; k++) {
		const IrNode *in = n->inputs[k];
		int64_t w = in->shape.dims[in->shape.rank - 1];
		if (plan_of(E, in)->grad) {
			emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", w);
			PtrVec pcs = {0};
			emit_piece(E, &pcs, "%s[i * %" PRId64 " + j] %s ", dy_of(E, in), w,
			           assign_op(np, k));
			emit_piece(E, &pcs, "%s[i * %" PRId64 " + %sj];", dy_of(E, n), last,
			           off ? emit_fmt(E, "%" PRId64 " + ", off) : "");
			emit_wrapped(E, &pcs);
		}
		off += w;
	}
	emit_close(E);
}

static void emit_backward(Emitter *E)
{
	const Plan *p = E->p;
	if (fm_chain(E)) {
		emit_backward_fm(E);
		return;
	}
	const bool direct = E->direct;
	if (direct) {
		emit_line(E, "/* The backward pass over the n rows of the last "
		          "forward pass: d = alpha *");
		emit_line(E, " * (d loss / d params) + beta * d, beta 0 "
		          "overwriting d.  The gradient of the");
		emit_line(E, " * output is in place (from %s_loss_backward); "
		          "layers run in reverse", E->M);
		emit_line(E, " * order. */");
	} else {
		emit_line(E, "/* The backward pass over the n rows of the last "
		          "forward pass: adds the");
		emit_line(E, " * gradient of the loss to m->grads.  The gradient "
		          "of the output is in");
		emit_line(E, " * place (from %s_loss_backward); layers run in "
		          "reverse order. */", E->M);
	}
	EmitBuf body = {0}, *saved = E->out;
	E->out = &body;
	E->used_x = false;
	E->indent++;
	bool any = false;
	for (int i = p->model->nnodes - 1; i >= 0; i--) {
		const NodePlan *np = &p->nodes[i];
		const IrNode *n = np->node;
		if (n->op == OP_INPUT || !np->live || np->view || !np->grad)
			continue;
		if (n->op != OP_DENSE) {
			bool to_input = false;
			for (int k = 0; k < n->ninputs; k++)
				to_input = to_input || plan_of(E, n->inputs[k])->grad;
			if (!to_input)
				continue;
		}
		if (any)
			emit_blank(E);
		any = true;
		emit_line(E, "/* %s */", emit_layer_title(E, n));
		switch (n->op) {
		case OP_DENSE:
			if (np->unrolled)
				bwd_dense_unrolled(E, np);
			else
				bwd_dense_gemm(E, np);
			break;
		case OP_ACT:
			bwd_act(E, np);
			break;
		case OP_DROPOUT:
			bwd_dropout(E, np);
			break;
		case OP_ADD:
			bwd_add(E, np);
			break;
		case OP_CONCAT:
			bwd_concat(E, np);
			break;
		case OP_INPUT:
		case OP_FLATTEN:
		default:
			DIE("op %s has no backward code", op_names[n->op]);
		}
	}
	E->indent--;
	E->out = saved;
	if (direct) {
		emit_line(E, "static void %s_backward(%s *m, const %s *x, int n,",
		          E->M, E->M, E->T);
		emit_line(E, "const %s_tensors *d, %s alpha, %s beta)", E->M, E->T,
		          E->T);
	} else {
		emit_line(E, "static void %s_backward(%s *m, const %s *x, int n)",
		          E->M, E->M, E->T);
	}
	emit_brace(E);
	if (!E->used_x)
		emit_line(E, "(void)x;");
	if (!any)
	{
		emit_line(E, "(void)m;");
		emit_line(E, "(void)n;");
	}
	emit_buf_puts(E->out, body.s ? body.s : "");
	emit_close(E);
	emit_blank(E);
	emit_buf_free(&body);
}

/* ---- loss and metrics --------------------------------------------------- */

/* Where the loss reads the logits of a fused output. */
static const char *logits_of(Emitter *E)
{
	const IrNode *o = E->m->output;
	return o->op == OP_DENSE ? z_of(E, o) : emit_y_of(E, o->inputs[0]);
}

static void emit_loss(Emitter *E)
{
	const IrModel *m = E->m;
	const IrNode *o = m->output;
	int64_t S = size_of(o), TS = E->p->target_size;
	Loss loss = m->train.loss;
	const char *zero = emit_lit(E, 0);
	const char *what[] = {
		[LOSS_MSE] = "the mean of (y - t)^2 over the outputs",
		[LOSS_MAE] = "the mean of |y - t| over the outputs",
		[LOSS_BCE] = "binary crossentropy from the logits z:\n"
		             " * max(z, 0) - z t + log(1 + exp(-|z|)), mean over the "
		             "outputs",
		[LOSS_CCE] = "categorical crossentropy from the logits z:\n"
		             " * the sum of t (logsumexp(z) - z)",
		[LOSS_SCCE] = "sparse categorical crossentropy from the logits z:\n"
		              " * logsumexp(z) - z[t]; NaN for a class id out of "
		              "range",
	};
	ASSERT(loss > LOSS_NONE && loss < LOSS_COUNT);
	emit_line(E, "/* The sum over rows [0, n) of the per-example loss,");
	emit_code(E, emit_fmt(E, " * %s. */\n", what[loss]));
	emit_line(E, "static double %s_loss(%s *m, const %s *t, int n)", E->M,
	          E->M, E->T);
	emit_brace(E);
	emit_line(E, "double sum = 0;");
	emit_open(E, "for (int i = 0; i < n; i++)");
	bool fused = E->p->fused;
	const char *src = fused ? logits_of(E) : emit_y_of(E, o);
	E->used_x = false;
	emit_line(E, "const %s *%s = %s + i * %" PRId64 ";", E->T,
	          fused ? "zi" : "yi", src, S);
	ASSERT(!E->used_x);
	if (loss != LOSS_SCCE)
		emit_line(E, "const %s *ti = t + i * %" PRId64 ";", E->T, TS);
	switch (loss) {
	case LOSS_MSE:
	case LOSS_MAE:
		ASSERT(!fused);
		emit_line(E, "%s row = %s;", E->T, zero);
		emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", S);
		if (loss == LOSS_MSE)
			emit_line(E, "row += (yi[j] - ti[j]) * (yi[j] - ti[j]);");
		else
			emit_line(E, "row += %s(yi[j] - ti[j]);", emit_mathfn(E, "fabs"));
		emit_line(E, "sum += (double)(row / %s);", emit_lit(E, (double)S));
		break;
	case LOSS_BCE:
		ASSERT(fused);
		emit_line(E, "%s row = %s;", E->T, zero);
		emit_open(E, "for (int j = 0; j < %" PRId64 "; j++)", S);
		emit_line(E, "const %s z = zi[j];", E->T);
		emit_line(E, "row += (z > %s ? z : %s) - z * ti[j] + %s(%s(-%s(z)));",
		          zero, zero, emit_mathfn(E, "log1p"), emit_mathfn(E, "exp"),
		          emit_mathfn(E, "fabs"));
		emit_close(E);
		emit_line(E, "sum += (double)(row / %s);", emit_lit(E, (double)S));
		break;
	case LOSS_CCE:
	case LOSS_SCCE:
		ASSERT(fused);
		if (loss == LOSS_SCCE) {
			emit_line(E, "if (!(t[i] >= %s && t[i] < %s))", zero,
			          emit_lit(E, (double)S));
			emit_line(E, "return (double)NAN;");
		}
		emit_line(E, "%s max = zi[0];", E->T);
		emit_line(E, "for (int j = 1; j < %" PRId64 "; j++)", S);
		emit_line(E, "max = zi[j] > max ? zi[j] : max;");
		emit_line(E, "%s se = %s;", E->T, zero);
		emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", S);
		emit_line(E, "se += %s(zi[j] - max);", emit_mathfn(E, "exp"));
		emit_line(E, "const %s lse = max + %s(se);", E->T,
		          emit_mathfn(E, "log"));
		if (loss == LOSS_SCCE) {
			emit_line(E, "sum += (double)(lse - zi[(int)t[i]]);");
		} else {
			emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", S);
			emit_line(E, "sum += (double)(ti[j] * (lse - zi[j]));");
		}
		break;
	default:
		DIE("unknown loss %d", (int)loss);
	}
	emit_close(E);
	emit_line(E, "return sum;");
	emit_close(E);
	emit_blank(E);

	/* The gradient, when some parameter is upstream of the output. */
	if (!E->p->backward)
		return;
	const char *target = dy_of(E, o);
	emit_line(E, "/* Writes d loss / d %s for rows [0, n) into %s,",
	          fused ? "(the output's logits)" : "(the output)", target);
	emit_line(E, " * scaled by `scale`: 1 / the rows of the whole batch. */");
	emit_line(E, "static void %s_loss_backward(%s *m, const %s *t, int n, "
	          "%s scale)", E->M, E->M, E->T, E->T);
	emit_brace(E);
	if (loss == LOSS_MSE || loss == LOSS_MAE || loss == LOSS_BCE)
		emit_line(E, "const %s s = %sscale / %s;", E->T,
		          loss == LOSS_MSE ? emit_fmt(E, "%s * ", emit_lit(E, 2)) : "",
		          emit_lit(E, (double)S));
	emit_open(E, "for (int i = 0; i < n; i++)");
	emit_line(E, "const %s *yi = %s + i * %" PRId64 ";", E->T,
	          emit_y_of(E, o), S);
	if (loss != LOSS_SCCE)
		emit_line(E, "const %s *ti = t + i * %" PRId64 ";", E->T, TS);
	emit_line(E, "%s *di = %s + i * %" PRId64 ";", E->T, target, S);
	switch (loss) {
	case LOSS_MSE:
		emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", S);
		emit_line(E, "di[j] = s * (yi[j] - ti[j]);");
		break;
	case LOSS_MAE:
		emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", S);
		emit_line(E, "di[j] = yi[j] > ti[j] ? s : yi[j] < ti[j] ? -s : %s;",
		          zero);
		break;
	case LOSS_BCE:
		emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", S);
		emit_line(E, "di[j] = s * (yi[j] - ti[j]);");
		break;
	case LOSS_CCE:
		emit_line(E, "%s tsum = %s;", E->T, zero);
		emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", S);
		emit_line(E, "tsum += ti[j];");
		emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", S);
		emit_line(E, "di[j] = scale * (yi[j] * tsum - ti[j]);");
		break;
	case LOSS_SCCE:
		emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", S);
		emit_line(E, "di[j] = scale * yi[j];");
		emit_line(E, "if (t[i] >= %s && t[i] < %s)", zero,
		          emit_lit(E, (double)S));
		emit_line(E, "di[(int)t[i]] -= scale;");
		break;
	default:
		DIE("unknown loss %d", (int)loss);
	}
	emit_close(E);
	emit_close(E);
	emit_blank(E);
}

static void emit_metrics(Emitter *E)
{
	const IrModel *m = E->m;
	const IrNode *o = m->output;
	int64_t S = size_of(o), TS = E->p->target_size;
	Loss loss = m->train.loss;
	const char *half = emit_lit(E, 0.5);
	if (E->p->nmetrics == 0)
		return;
	emit_line(E, "/* Adds each row's metrics to sum[0 .. %s_NMETRICS), in "
	          "the order", E->U);
	emit_line(E, " * accuracy, mae, mse (those enabled). */");
	emit_line(E, "static void %s_metrics(%s *m, const %s *t, int n, "
	          "double *sum)", E->M, E->M, E->T);
	emit_brace(E);
	emit_open(E, "for (int i = 0; i < n; i++)");
	emit_line(E, "const %s *yi = %s + i * %" PRId64 ";", E->T,
	          emit_y_of(E, o), S);
	emit_line(E, "const %s *ti = t + i * %" PRId64 ";", E->T, TS);
	int slot = 0;
	for (int k = 0; k < METRIC_COUNT; k++) {
		if (!m->train.metrics[k])
			continue;
		emit_brace(E);
		switch ((Metric)k) {
		case METRIC_ACCURACY:
			if (loss == LOSS_BCE) {
				emit_line(E, "/* accuracy: y >= 0.5 counts as 1, "
				          "elementwise */");
				emit_line(E, "int hits = 0;");
				emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", S);
				emit_line(E, "hits += (yi[j] >= %s) == (ti[j] >= %s);", half,
				          half);
				emit_line(E, "sum[%d] += (double)hits / %" PRId64 ";", slot, S);
			} else {
				ASSERT(loss == LOSS_CCE || loss == LOSS_SCCE);
				emit_line(E, "/* accuracy: the largest output is the "
				          "class */");
				emit_line(E, "int best = 0;");
				emit_line(E, "for (int j = 1; j < %" PRId64 "; j++)", S);
				emit_line(E, "best = yi[j] > yi[best] ? j : best;");
				if (loss == LOSS_SCCE) {
					emit_line(E, "sum[%d] += (%s)best == ti[0];", slot, E->T);
				} else {
					emit_line(E, "int want = 0;");
					emit_line(E, "for (int j = 1; j < %" PRId64 "; j++)", S);
					emit_line(E, "want = ti[j] > ti[want] ? j : want;");
					emit_line(E, "sum[%d] += best == want;", slot);
				}
			}
			break;
		case METRIC_MAE:
		case METRIC_MSE: {
			bool mae = k == METRIC_MAE;
			emit_line(E, "/* %s%s */", metric_names[k], loss == LOSS_SCCE
			          ? ": against the one-hot form of the class id" : "");
			emit_line(E, "double row = 0;");
			emit_open(E, "for (int j = 0; j < %" PRId64 "; j++)", S);
			if (loss == LOSS_SCCE)
				emit_line(E, "const double e = (double)yi[j] - (j == (int)ti[0] "
				          "? 1.0 : 0.0);");
			else
				emit_line(E, "const double e = (double)yi[j] - (double)ti[j];");
			emit_line(E, "row += %s;", mae ? "fabs(e)" : "e * e");
			emit_close(E);
			emit_line(E, "sum[%d] += row / %" PRId64 ";", slot, S);
			break;
		}
		case METRIC_COUNT:
		default:
			DIE("unknown metric %d", k);
		}
		emit_close(E);
		slot++;
	}
	ASSERT(slot == E->p->nmetrics);
	emit_close(E);
	emit_close(E);
	emit_blank(E);
}

/* ---- the optimizer ------------------------------------------------------ */

/* Models with at least this many parameters split their optimizer update
 * and the clearing of their gradients over the runtime's threads
 * (nnrt_parallel_for, which splits loops of this length and longer);
 * smaller ones do both inline. */
#define EMIT_PARALLEL_MIN NNRT_PARALLEL_MIN

static void emit_update(Emitter *E)
{
	const Optimizer *o = &E->m->train.opt;
	const char *P = emit_fmt(E, "%s_PARAM_COUNT", E->U);
	char desc[IR_OPT_BUF], num[IR_NUM_BUF];
	ir_fmt_opt(desc, o);
	emit_line(E, "/* One optimizer step on parameters [lo, hi), Keras's rule:");
	emit_line(E, " * %s.", desc);
	emit_line(E, " * Each parameter is updated on its own (m->step counts "
	          "steps). */");
	emit_line(E, "static void %s_update_range(void *ctx, size_t lo, size_t hi)",
	          E->M);
	emit_brace(E);
	emit_line(E, "%s *m = ctx;", E->M);
	emit_line(E, "%s *w = m->params;", E->T);
	if (!fold_velocity(E))
		emit_line(E, "const %s *g = m->grads;", E->T);
	const char *lr = emit_lit(E, o->learning_rate);
	const char *loop = "for (size_t i = lo; i < hi; i++)";
	switch (o->kind) {
	case OPT_SGD:
		if (fold_velocity(E)) {
			emit_line(E, "/* the backward pass has made v = %s v - %s g */",
			          emit_lit(E, o->momentum), lr);
			emit_line(E, "const %s *v = m->opt; /* velocity */", E->T);
			emit_line(E, "%s", loop);
			emit_line(E, "w[i] += v[i];");
		} else if (o->momentum > 0) {
			emit_line(E, "%s *v = m->opt; /* velocity */", E->T);
			emit_open(E, "%s", loop);
			emit_line(E, "v[i] = %s * v[i] - %s * g[i];",
			          emit_lit(E, o->momentum), lr);
			if (o->nesterov != 0)
				emit_line(E, "w[i] += %s * v[i] - %s * g[i];",
				          emit_lit(E, o->momentum), lr);
			else
				emit_line(E, "w[i] += v[i];");
			emit_close(E);
		} else {
			emit_line(E, "%s", loop);
			emit_line(E, "w[i] -= %s * g[i];", lr);
		}
		break;
	case OPT_ADAM:
		emit_line(E, "%s *mo = m->opt, *v = m->opt + %s; /* moments */", E->T,
		          P);
		emit_line(E, "/* alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t) */");
		PtrVec pcs = {0};
		emit_piece(E, &pcs, "const %s alpha = (%s)(%s * ", E->T, E->T,
		           ir_fmt_num(num, o->learning_rate));
		emit_piece(E, &pcs, "sqrt(1 - pow(%s, m->step)) / ",
		           ir_fmt_num(num, o->beta_2));
		emit_piece(E, &pcs, "(1 - pow(%s, m->step)));",
		           ir_fmt_num(num, o->beta_1));
		emit_wrapped(E, &pcs);
		emit_open(E, "%s", loop);
		emit_line(E, "mo[i] = %s * mo[i] + %s * g[i];", emit_lit(E, o->beta_1),
		          emit_lit(E, 1 - o->beta_1));
		emit_line(E, "v[i] = %s * v[i] + %s * g[i] * g[i];",
		          emit_lit(E, o->beta_2), emit_lit(E, 1 - o->beta_2));
		emit_line(E, "w[i] -= alpha * mo[i] / (%s(v[i]) + %s);",
		          emit_mathfn(E, "sqrt"), emit_lit(E, o->epsilon));
		emit_close(E);
		break;
	case OPT_RMSPROP:
		if (o->momentum > 0)
			emit_line(E, "%s *v = m->opt, *mo = m->opt + %s;", E->T, P);
		else
			emit_line(E, "%s *v = m->opt; /* mean square */", E->T);
		emit_open(E, "%s", loop);
		emit_line(E, "v[i] = %s * v[i] + %s * g[i] * g[i];",
		          emit_lit(E, o->rho), emit_lit(E, 1 - o->rho));
		if (o->momentum > 0) {
			emit_line(E, "mo[i] = %s * mo[i] + %s * g[i] / %s(v[i] + %s);",
			          emit_lit(E, o->momentum), lr, emit_mathfn(E, "sqrt"),
			          emit_lit(E, o->epsilon));
			emit_line(E, "w[i] -= mo[i];");
		} else {
			emit_line(E, "w[i] -= %s * g[i] / %s(v[i] + %s);", lr,
			          emit_mathfn(E, "sqrt"), emit_lit(E, o->epsilon));
		}
		emit_close(E);
		break;
	case OPT_ADAGRAD:
		emit_line(E, "%s *acc = m->opt; /* sum of squares */", E->T);
		emit_open(E, "%s", loop);
		emit_line(E, "acc[i] += g[i] * g[i];");
		emit_line(E, "w[i] -= %s * g[i] / %s(acc[i] + %s);", lr,
		          emit_mathfn(E, "sqrt"), emit_lit(E, o->epsilon));
		emit_close(E);
		break;
	default:
		DIE("unknown optimizer %d", (int)o->kind);
	}
	emit_close(E);
	emit_blank(E);

	emit_line(E, "/* One optimizer step on every parameter. */");
	emit_line(E, "static void %s_update(%s *m)", E->M, E->M);
	emit_brace(E);
	emit_line(E, "m->step += 1;");
	if (E->p->nparams >= EMIT_PARALLEL_MIN) {
		emit_line(E, "/* split over the runtime's threads: the parameters, "
		          "their gradients");
		emit_line(E, " * and the optimizer's slots are more than one core's "
		          "cache */");
		emit_line(E, "nnrt_parallel_for(%s_update_range, m, %s);", E->M, P);
	} else {
		emit_line(E, "%s_update_range(m, 0, %s);", E->M, P);
	}
	emit_close(E);
	emit_blank(E);
}

/* ---- the model struct and its life cycle -------------------------------- */

typedef struct Field {
	const char *decl, *comment;
} Field;

/* Declarations with their comments aligned in one column. */
static void emit_fields(Emitter *E, const Field *f, int n)
{
	size_t width = 0;
	for (int i = 0; i < n; i++)
		if (f[i].comment && strlen(f[i].decl) > width)
			width = strlen(f[i].decl);
	for (int i = 0; i < n; i++) {
		if (!f[i].comment)
			emit_line(E, "%s", f[i].decl);
		else
			emit_line(E, "%-*s /* %s */", (int)width, f[i].decl, f[i].comment);
	}
}

static void emit_struct(Emitter *E)
{
	const Plan *p = E->p;
	const IrModel *m = E->m;
	int cap = 2 * m->nnodes + 4 * m->nnodes + 16, nf = 0;
	Field *f = arena_array(E->a, (size_t)cap, sizeof *f);
	if (p->nparams > 0) {
		emit_line(E, "/* Named views of a block of %s_PARAM_COUNT values: "
		          "the parameters%s", E->U, p->training ? "," : ".");
		if (p->training)
			emit_line(E, " * and with the same layout their gradients.");
		emit_line(E, " * Layer order, weight (PyTorch layout [out, in]) then "
		          "bias. */");
		emit_open(E, "typedef struct %s_tensors", E->M);
		for (int i = 0; i < m->nnodes; i++) {
			const NodePlan *np = &p->nodes[i];
			const IrNode *n = np->node;
			if (n->op != OP_DENSE)
				continue;
			f[nf++] = (Field){emit_fmt(E, "%s *%s_weight;", E->T, n->name),
			                  emit_fmt(E, "%s at %s, offset %" PRId64,
			                           emit_eshape(E, n->wshape),
			                           emit_where(E, n->loc), np->weight)};
			if (n->use_bias)
				f[nf++] = (Field){emit_fmt(E, "%s *%s_bias;", E->T, n->name),
				                  emit_fmt(E, "%s, offset %" PRId64,
				                           emit_eshape(E, n->bshape),
				                           np->bias)};
		}
		emit_fields(E, f, nf);
		emit_line(E, "} %s_tensors;", E->M);
		emit_blank(E);
	}

	static const char *const slot_names[OPT_COUNT][2] = {
		[OPT_SGD] = {"velocity"},
		[OPT_ADAM] = {"first moment m", "second moment v"},
		[OPT_RMSPROP] = {"mean square", "momentum"},
		[OPT_ADAGRAD] = {"accumulator"},
	};
	emit_open(E, "struct %s", E->M);
	nf = 0;
	f[nf++] = (Field){emit_fmt(E, "%s *params;", E->T),
	                  emit_fmt(E, "[%" PRId64 "] every parameter", p->nparams)};
	if (p->training)
		f[nf++] = (Field){emit_fmt(E, "%s *grads;", E->T),
		                  emit_fmt(E, "[%" PRId64 "] d loss / d params, same "
		                           "layout", p->nparams)};
	if (p->nslots > 0) {
		OptKind k = m->train.opt.kind;
		f[nf++] = (Field){emit_fmt(E, "%s *opt;", E->T),
		                  emit_fmt(E, "[%d][%" PRId64 "] %s: %s%s%s", p->nslots,
		                           p->nparams, opt_names[k], slot_names[k][0],
		                           p->nslots > 1 ? ", then " : "",
		                           p->nslots > 1 ? slot_names[k][1] : "")};
	}
	if (p->nacts > 0)
		f[nf++] = (Field){emit_fmt(E, "%s *acts;", E->T),
		                  emit_fmt(E, "[%" PRId64 "] the batch buffers below",
		                           p->nacts)};
	if (p->nparams > 0) {
		f[nf++] = (Field){emit_fmt(E, "%s_tensors p;", E->M),
		                  "the parameters by name"};
		if (p->training)
			f[nf++] = (Field){emit_fmt(E, "%s_tensors g;", E->M),
			                  "their gradients by name"};
		if (fold_velocity(E))
			f[nf++] = (Field){emit_fmt(E, "%s_tensors v;", E->M),
			                  "the velocity by name"};
	}
	const bool fm = fm_chain(E);
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < m->nnodes; i++) {
			const NodePlan *np = &p->nodes[i];
			const IrNode *n = np->node;
			const char *sh = emit_bshape(E, n->shape);
			const char *at = emit_where(E, n->loc);
			if (pass == 0 && np->z >= 0)
				f[nf++] = (Field){emit_fmt(E, "%s *%s_z;", E->T, n->name),
				                  emit_fmt(E, "%s %s before its activation, %s",
				                           sh, n->name, at)};
			if (pass == 0 && np->y >= 0 && fm && n != m->output)
				f[nf++] = (Field){emit_fmt(E, "%s *%s_y;", E->T, n->name),
				                  emit_fmt(E, "[%" PRId64 "][%" PRId64 "] "
				                           "output of %s, feature-major, %s",
				                           size_of(n), p->batch, n->name, at)};
			else if (pass == 0 && np->y >= 0)
				f[nf++] = (Field){emit_fmt(E, "%s *%s_y;", E->T, n->name),
				                  emit_fmt(E, "%s output of %s, %s", sh,
				                           n->name, at)};
			if (pass == 0 && np->mask >= 0)
				f[nf++] = (Field){emit_fmt(E, "%s *%s_mask;", E->T, n->name),
				                  emit_fmt(E, "%s dropout mask: 0 or 1 / "
				                           "(1 - rate)", sh)};
			if (pass == 1 && np->dy >= 0 && fm && n != m->output)
				f[nf++] = (Field){emit_fmt(E, "%s *%s_dy;", E->T, n->name),
				                  emit_fmt(E, "[%" PRId64 "][%" PRId64 "] d loss "
				                           "/ d %s, feature-major", size_of(n),
				                           p->batch, n->name)};
			else if (pass == 1 && np->dy >= 0)
				f[nf++] = (Field){emit_fmt(E, "%s *%s_dy;", E->T, n->name),
				                  emit_fmt(E, "%s d loss / d %s%s", sh, n->name,
				                           np->fused ? " (its logits)" : "")};
		}
	if (p->training) {
		f[nf++] = (Field){"nnrt_rng dropout_rng;",
		                  "stream 2 of the seed: dropout masks"};
		f[nf++] = (Field){"double step;",
		                  "optimizer steps taken (adam's t)"};
	}
	ASSERT(nf <= cap);
	emit_fields(E, f, nf);
	emit_line(E, "};");
	emit_blank(E);
}

static void emit_create(Emitter *E)
{
	const Plan *p = E->p;
	const IrModel *m = E->m;
	int64_t np1 = p->nparams > 0 ? p->nparams : 1;
	emit_code(E,
		"$M *$M_create(uint64_t seed)\n"
		"{\n"
		"$M *m = calloc(1, sizeof *m);\n"
		"if (!m)\n"
		"return NULL;\n");
	emit_line(E, "m->params = calloc(%" PRId64 ", sizeof *m->params);", np1);
	PtrVec fail = {0};
	ptrvec_push(&fail, (void *)"!m->params");
	if (p->training) {
		emit_line(E, "m->grads = calloc(%" PRId64 ", sizeof *m->grads);", np1);
		ptrvec_push(&fail, (void *)"!m->grads");
	}
	if (p->nslots > 0) {
		emit_line(E, "m->opt = calloc(%" PRId64 ", sizeof *m->opt);",
		          p->nparams > 0 ? p->nslots * p->nparams : 1);
		ptrvec_push(&fail, (void *)"!m->opt");
	}
	if (p->nacts > 0) {
		emit_line(E, "m->acts = calloc(%" PRId64 ", sizeof *m->acts);",
		          p->nacts);
		ptrvec_push(&fail, (void *)"!m->acts");
	}
	PtrVec pcs = {0};
	emit_piece(E, &pcs, "if (");
	for (int i = 0; i < fail.len; i++)
		emit_piece(E, &pcs, "%s%s", (char *)fail.items[i],
		           i + 1 < fail.len ? " || " : ") {");
	free(fail.items);
	emit_wrapped(E, &pcs);
	emit_line(E, "%s_destroy(m);", E->M);
	emit_line(E, "return NULL;");
	emit_close(E);
	/* The named views: parameters, gradients, and sgd's folded velocity. */
	static const char *const view[] = {"p", "g", "v"};
	static const char *const block[] = {"params", "grads", "opt"};
	const int views = !p->training ? 1 : fold_velocity(E) ? 3 : 2;
	bool any_dense = false;
	for (int i = 0; i < m->nnodes; i++) {
		const NodePlan *np = &p->nodes[i];
		const IrNode *n = np->node;
		if (n->op != OP_DENSE)
			continue;
		any_dense = true;
		for (int g = 0; g < views; g++) {
			emit_line(E, "m->%s.%s_weight = m->%s + %" PRId64 ";", view[g],
			          n->name, block[g], np->weight);
			if (n->use_bias)
				emit_line(E, "m->%s.%s_bias = m->%s + %" PRId64 ";", view[g],
				          n->name, block[g], np->bias);
		}
	}
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < m->nnodes; i++) {
			const NodePlan *np = &p->nodes[i];
			const char *name = np->node->name;
			if (pass == 0 && np->z >= 0)
				emit_line(E, "m->%s_z = m->acts + %" PRId64 ";", name, np->z);
			if (pass == 0 && np->y >= 0)
				emit_line(E, "m->%s_y = m->acts + %" PRId64 ";", name, np->y);
			if (pass == 0 && np->mask >= 0)
				emit_line(E, "m->%s_mask = m->acts + %" PRId64 ";", name,
				          np->mask);
			if (pass == 1 && np->dy >= 0)
				emit_line(E, "m->%s_dy = m->acts + %" PRId64 ";", name,
				          np->dy);
		}
	if (any_dense) {
		emit_line(E, "/* glorot_uniform kernels in layer order (stream 1), "
		          "zero biases */");
		emit_line(E, "nnrt_rng rng;");
		emit_line(E, "nnrt_rng_seed(&rng, seed, 1);");
		for (int i = 0; i < m->nnodes; i++) {
			const IrNode *n = m->nodes[i];
			if (n->op == OP_DENSE)
				emit_line(E, "nnrt_glorot_uniform_%s(m->p.%s_weight, %" PRId64
				          ", %" PRId64 ", &rng);", E->o->f64 ? "f64" : "f32",
				          n->name, size_of(n->inputs[0]), n->units);
		}
	} else if (!p->training) {
		emit_line(E, "(void)seed;");
	}
	if (p->training)
		emit_line(E, "nnrt_rng_seed(&m->dropout_rng, seed, 2);");
	if (p->training && m->train.opt.kind == OPT_ADAGRAD) {
		emit_line(E, "for (int i = 0; i < %s_PARAM_COUNT; i++)", E->U);
		emit_line(E, "m->opt[i] = %s;",
		          emit_lit(E, m->train.opt.initial_accumulator_value));
	}
	emit_line(E, "return m;");
	emit_close(E);
	emit_blank(E);

	emit_code(E,
		"void $M_destroy($M *m)\n"
		"{\n"
		"if (!m)\n"
		"return;\n"
		"free(m->params);\n");
	if (p->training)
		emit_line(E, "free(m->grads);");
	if (p->nslots > 0)
		emit_line(E, "free(m->opt);");
	if (p->nacts > 0)
		emit_line(E, "free(m->acts);");
	emit_line(E, "free(m);");
	emit_close(E);
	emit_blank(E);
}

/* grades_save and grades_load: the table of named tensors. */
static void emit_io(Emitter *E)
{
	const IrModel *m = E->m;
	int count = 0;
	for (int i = 0; i < m->nnodes; i++)
		if (m->nodes[i]->op == OP_DENSE)
			count += 1 + m->nodes[i]->use_bias;
	for (int load = 0; load < 2; load++) {
		if (load)
			emit_line(E, "int %s_load(%s *m, const char *path, char *err, "
			          "size_t errlen)", E->M, E->M);
		else
			emit_line(E, "int %s_save(const %s *m, const char *path, char *err, "
			          "size_t errlen)", E->M, E->M);
		emit_brace(E);
		if (count == 0) {
			emit_line(E, "(void)m;");
			emit_line(E, "return nnrt_%s_safetensors(path, NULL, 0, err, "
			          "errlen);", load ? "load" : "save");
			emit_close(E);
			emit_blank(E);
			continue;
		}
		emit_open(E, "nnrt_tensor t[%d] =", count);
		const char *dt = E->o->f64 ? "NNRT_F64" : "NNRT_F32";
		for (int i = 0; i < m->nnodes; i++) {
			const IrNode *n = m->nodes[i];
			if (n->op != OP_DENSE)
				continue;
			emit_line(E, "{\"%s.weight\", %s, 2, {%" PRId64 ", %" PRId64
			          "}, m->p.%s_weight},", n->name, dt, n->wshape.dims[0],
			          n->wshape.dims[1], n->name);
			if (n->use_bias)
				emit_line(E, "{\"%s.bias\", %s, 1, {%" PRId64 "}, "
				          "m->p.%s_bias},", n->name, dt, n->bshape.dims[0],
				          n->name);
		}
		emit_line(E, "};");
		emit_line(E, "return nnrt_%s_safetensors(path, t, %d, err, errlen);",
		          load ? "load" : "save", count);
		emit_close(E);
		emit_blank(E);
	}
}

/* Tensors NAME_save writes: a weight per dense layer, and its bias. */
static int weight_tensors(const IrModel *m)
{
	int count = 0;
	for (int i = 0; i < m->nnodes; i++)
		if (m->nodes[i]->op == OP_DENSE)
			count += 1 + m->nodes[i]->use_bias;
	return count;
}

/* Whether a checkpoint holds an optimizer.state tensor: the optimizer has
 * state, and there are parameters for it to be about. */
static bool has_opt_state(const Plan *p)
{
	return p->nslots > 0 && p->nparams > 0;
}

/* Puts the optimizer back to its state at creation: zero, or adagrad's
 * initial accumulator; step 0. */
static void emit_reset_optimizer(Emitter *E)
{
	const Plan *p = E->p;
	if (has_opt_state(p) && E->m->train.opt.kind == OPT_ADAGRAD) {
		emit_line(E, "for (int i = 0; i < %s_PARAM_COUNT; i++)", E->U);
		emit_line(E, "m->opt[i] = %s;",
		          emit_lit(E, E->m->train.opt.initial_accumulator_value));
	} else if (has_opt_state(p)) {
		emit_line(E, "memset(m->opt, 0, sizeof *m->opt * %" PRId64 ");",
		          p->nslots * p->nparams);
	}
	emit_line(E, "m->step = 0;");
}

/* NAME_save_checkpoint and NAME_load_checkpoint (models with a loss): the
 * weights, the optimizer's state and step count, the dropout RNG and the
 * epoch count in one safetensors file, so that a resumed run continues
 * exactly where the checkpoint was taken. */
static void emit_checkpoint(Emitter *E)
{
	const Plan *p = E->p;
	const IrModel *m = E->m;
	bool state = has_opt_state(p);
	int64_t nstate = state ? p->nslots * p->nparams : 0;
	int64_t scratch = p->nparams + nstate;
	int count = weight_tensors(m) + state + 3;
	const char *dt = E->o->f64 ? "NNRT_F64" : "NNRT_F32";

	emit_code(E,
		"/* Whether x, read back from a checkpoint, is an integer in [0, max]. */\n"
		"static int $M_is_count(double x, double max)\n"
		"{\n"
		"return x >= 0 && x <= max && x == floor(x);\n"
		"}\n"
		"\n"
		"/* A checkpoint keeps each 64-bit word of the dropout RNG exactly, as\n"
		" * two 32-bit halves stored in doubles, the high half first. */\n"
		"static void $M_split_u64(double *v, uint64_t x)\n"
		"{\n"
		"v[0] = (double)(uint32_t)(x >> 32);\n"
		"v[1] = (double)(uint32_t)x;\n"
		"}\n"
		"\n"
		"static int $M_join_u64(uint64_t *x, const double *v)\n"
		"{\n"
		"const double max = 4294967295.0;\n"
		"if (!$M_is_count(v[0], max) || !$M_is_count(v[1], max))\n"
		"return 0;\n"
		"*x = ((uint64_t)v[0] << 32) | (uint64_t)v[1];\n"
		"return 1;\n"
		"}\n"
		"\n");

	emit_line(E, "/* The %d tensors of a checkpoint: the weights (in params) "
	          "under their", count);
	if (state)
		emit_line(E, " * usual names, optimizer.state (the block opt), "
		          "optimizer.step");
	else
		emit_line(E, " * usual names, optimizer.step");
	emit_line(E, " * (counts[0]), dropout.rng (counts[1 .. 4]: the RNG's "
	          "state and inc,");
	emit_line(E, " * split) and epoch (counts[5]). */");
	emit_sig(E, emit_fmt(E, "static void %s_checkpoint_tensors", E->M),
	         emit_fmt(E, "nnrt_tensor *t, %s *params, %sdouble *counts", E->T,
	                  state ? emit_fmt(E, "%s *opt, ", E->T) : ""));
	emit_brace(E);
	if (weight_tensors(m) == 0)
		emit_line(E, "(void)params;");
	emit_open(E, "const nnrt_tensor list[%d] =", count);
	for (int i = 0; i < m->nnodes; i++) {
		const NodePlan *np = &p->nodes[i];
		const IrNode *n = np->node;
		if (n->op != OP_DENSE)
			continue;
		emit_line(E, "{\"%s.weight\", %s, 2, {%" PRId64 ", %" PRId64 "}, "
		          "params%s},", n->name, dt, n->wshape.dims[0],
		          n->wshape.dims[1], np->weight
		          ? emit_fmt(E, " + %" PRId64, np->weight) : "");
		if (n->use_bias)
			emit_line(E, "{\"%s.bias\", %s, 1, {%" PRId64 "}, params + %"
			          PRId64 "},", n->name, dt, n->bshape.dims[0], np->bias);
	}
	if (state)
		emit_line(E, "{\"optimizer.state\", %s, 1, {%" PRId64 "}, opt},", dt,
		          nstate);
	emit_line(E, "{\"optimizer.step\", NNRT_F64, 1, {1}, counts},");
	emit_line(E, "{\"dropout.rng\", NNRT_F64, 1, {4}, counts + 1},");
	emit_line(E, "{\"epoch\", NNRT_F64, 1, {1}, counts + 5},");
	emit_line(E, "};");
	emit_line(E, "memcpy(t, list, sizeof list);");
	emit_close(E);
	emit_blank(E);

	const char *opt_arg = state ? ", m->opt" : "";
	emit_sig(E, emit_fmt(E, "int %s_save_checkpoint", E->M),
	         emit_fmt(E, "const %s *m, const char *path, int epoch, char *err, "
	                  "size_t errlen", E->M));
	emit_brace(E);
	emit_line(E, "double counts[6];");
	emit_line(E, "nnrt_tensor t[%d];", count);
	emit_line(E, "counts[0] = m->step;");
	emit_line(E, "%s_split_u64(counts + 1, m->dropout_rng.state);", E->M);
	emit_line(E, "%s_split_u64(counts + 3, m->dropout_rng.inc);", E->M);
	emit_line(E, "counts[5] = (double)epoch;");
	emit_line(E, "%s_checkpoint_tensors(t, m->params%s, counts);", E->M,
	          opt_arg);
	emit_line(E, "return nnrt_save_safetensors(path, t, %d, err, errlen);",
	          count);
	emit_close(E);
	emit_blank(E);

	emit_sig(E, emit_fmt(E, "int %s_load_checkpoint", E->M),
	         emit_fmt(E, "%s *m, const char *path, int *epoch, char *err, "
	                  "size_t errlen", E->M));
	emit_brace(E);
	emit_line(E, "/* A checkpoint first, read into scratch memory so that a "
	          "failure changes");
	emit_line(E, " * nothing. */");
	emit_line(E, "%s *scratch = malloc(sizeof *scratch * %" PRId64 ");", E->T,
	          scratch > 0 ? scratch : 1);
	emit_line(E, "double counts[6];");
	emit_line(E, "nnrt_tensor t[%d];", count);
	emit_line(E, "uint64_t state = 0, inc = 0;");
	emit_open(E, "if (!scratch)");
	emit_line(E, "if (err && errlen)");
	emit_line(E, "snprintf(err, errlen, \"%%s: out of memory\", path);");
	emit_line(E, "return -1;");
	emit_close(E);
	PtrVec pcs = {0};
	emit_piece(E, &pcs, "%s_checkpoint_tensors(t, scratch, ", E->M);
	if (state)
		emit_piece(E, &pcs, "scratch + %s_PARAM_COUNT, ", E->U);
	emit_piece(E, &pcs, "counts);");
	emit_wrapped(E, &pcs);
	emit_open(E, "if (nnrt_load_safetensors(path, t, %d, NULL, 0) == 0)",
	          count);
	emit_piece(E, &pcs, "if (!%s_is_count(counts[0], 9007199254740992.0) || ",
	           E->M);
	emit_piece(E, &pcs, "!%s_join_u64(&state, counts + 1) || ", E->M);
	emit_piece(E, &pcs, "!%s_join_u64(&inc, counts + 3) || ", E->M);
	emit_piece(E, &pcs, "!(inc & 1) || ");
	emit_piece(E, &pcs, "!%s_is_count(counts[5], 2147483647.0)) {", E->M);
	emit_wrapped(E, &pcs);
	emit_line(E, "free(scratch);");
	emit_open(E, "if (err && errlen)");
	emit_line(E, "snprintf(err, errlen, \"%%s: not a valid checkpoint "
	          "(impossible \"");
	emit_line(E, "\"optimizer.step, dropout.rng or epoch)\", path);");
	emit_close(E);
	emit_line(E, "return -1;");
	emit_close(E);
	if (p->nparams > 0)
		emit_line(E, "memcpy(m->params, scratch, sizeof *scratch * "
		          "%s_PARAM_COUNT);", E->U);
	if (state)
		emit_line(E, "memcpy(m->opt, scratch + %s_PARAM_COUNT, sizeof "
		          "*scratch * %" PRId64 ");", E->U, nstate);
	emit_line(E, "free(scratch);");
	emit_line(E, "m->step = counts[0];");
	emit_line(E, "m->dropout_rng.state = state;");
	emit_line(E, "m->dropout_rng.inc = inc;");
	emit_line(E, "if (epoch)");
	emit_line(E, "*epoch = (int)counts[5];");
	emit_line(E, "return 0;");
	emit_close(E);
	emit_line(E, "free(scratch);");
	emit_line(E, "/* Not a checkpoint: a plain weights file, and a fresh "
	          "optimizer. */");
	emit_line(E, "if (%s_load(m, path, err, errlen) != 0)", E->M);
	emit_line(E, "return -1;");
	emit_reset_optimizer(E);
	emit_line(E, "if (epoch)");
	emit_line(E, "*epoch = 0;");
	emit_line(E, "return 0;");
	emit_close(E);
	emit_blank(E);
}

/* s as a C string literal: quotes, backslashes, '?' (trigraphs) and
 * control bytes escaped. */
static const char *c_string(Emitter *E, const char *s)
{
	EmitBuf b = {0};
	emit_buf_puts(&b, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];
		if (c == '"' || c == '\\' || c == '?') {
			esc[0] = '\\';
			esc[1] = (char)c;
			esc[2] = '\0';
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof esc, "\\%03o", c);
		} else {
			esc[0] = (char)c;
			esc[1] = '\0';
		}
		emit_buf_puts(&b, esc);
	}
	emit_buf_puts(&b, "\"");
	const char *r = arena_strdup(E->a, b.s);
	emit_buf_free(&b);
	return r;
}

/* Whether predictions are class scores: a softmax output, or a sigmoid
 * output trained with binary crossentropy. */
static bool is_classifier(const IrModel *m)
{
	const IrNode *o = m->output;
	if (o->op != OP_DENSE && o->op != OP_ACT)
		return false;
	return o->act.kind == ACT_SOFTMAX ||
	       (o->act.kind == ACT_SIGMOID && m->train.loss == LOSS_BCE);
}

/* NAME_model: the model as the runtime's trainer (nnrt_main) sees it, with
 * static wrappers that turn void pointers into the model's types and its
 * losses and metrics into doubles. */
static void emit_descriptor(Emitter *E)
{
	const Plan *p = E->p;
	const IrModel *m = E->m;
	const Training *t = &m->train;
	bool train = p->training;
	PtrVec pcs = {0};
	emit_line(E, "/* ---- the model as the trainer program sees it (nnrt_model, "
	          "nnrt.h) ---- */");
	emit_blank(E);
	emit_code(E,
		"static void *$M_model_create(uint64_t seed)\n"
		"{\n"
		"return $M_create(seed);\n"
		"}\n"
		"\n"
		"static void $M_model_destroy(void *m)\n"
		"{\n"
		"$M_destroy(m);\n"
		"}\n"
		"\n");
	if (train) {
		/* step and eval_sums return sums over the rows; the runtime wants
		 * means, and the metrics of the same forward pass. */
		static const char *const fn[2][2] = {
			{"train_batch", "step"}, {"evaluate", "eval_sums"},
		};
		for (int k = 0; k < 2; k++) {
			emit_sig(E, emit_fmt(E, "static double %s_model_%s", E->M,
			                     fn[k][0]),
			         "void *m, const void *x, const void *y, size_t n, "
			         "double *metrics");
			emit_brace(E);
			if (p->nmetrics > 0) {
				emit_line(E, "double sum[%s_NMETRICS] = {0};", E->U);
				emit_piece(E, &pcs, "const double loss = ");
				emit_piece(E, &pcs, "n ? %s_%s(m, x, y, n, sum) : 0;", E->M,
				           fn[k][1]);
				emit_wrapped(E, &pcs);
				emit_line(E, "for (int k = 0; metrics && k < %s_NMETRICS; "
				          "k++)", E->U);
				emit_line(E, "metrics[k] = n ? sum[k] / (double)n : 0;");
				emit_line(E, "return n ? loss / (double)n : 0;");
			} else {
				emit_line(E, "(void)metrics;");
				emit_piece(E, &pcs, "return n ? ");
				emit_piece(E, &pcs, "%s_%s(m, x, y, n, NULL) / (double)n : 0;",
				           E->M, fn[k][1]);
				emit_wrapped(E, &pcs);
			}
			emit_close(E);
			emit_blank(E);
		}
	}
	/* The other wrappers only convert pointers: name, parameters, call. */
	static const char *const wrap[][4] = {
		{"void", "predict", "void *m, const void *x, size_t n, void *out",
		 "m, x, n, out"},
		{"int", "save", "const void *m, const char *path, char *err, "
		 "size_t errlen", "m, path, err, errlen"},
		{"int", "load", "void *m, const char *path, char *err, size_t errlen",
		 "m, path, err, errlen"},
		{"int", "save_checkpoint", "const void *m, const char *path, "
		 "int epoch, char *err, size_t errlen", "m, path, epoch, err, errlen"},
		{"int", "load_checkpoint", "void *m, const char *path, int *epoch, "
		 "char *err, size_t errlen", "m, path, epoch, err, errlen"},
	};
	for (int k = 0; k < (train ? 5 : 3); k++) {
		emit_sig(E, emit_fmt(E, "static %s %s_model_%s", wrap[k][0], E->M,
		                     wrap[k][1]), wrap[k][2]);
		emit_brace(E);
		emit_line(E, "%s%s_%s(%s);", strcmp(wrap[k][0], "void") ? "return "
		          : "", E->M, wrap[k][1], wrap[k][3]);
		emit_close(E);
		emit_blank(E);
	}

	const IrNode *in = m->input;
	int64_t units = size_of(m->output);
	const char *targets = "NNRT_TARGETS_NONE";
	switch (t->loss) {
	case LOSS_NONE: break;
	case LOSS_MSE:
	case LOSS_MAE:
	case LOSS_BCE: targets = "NNRT_TARGETS_VALUES"; break;
	case LOSS_CCE: targets = "NNRT_TARGETS_ONE_HOT"; break;
	case LOSS_SCCE: targets = "NNRT_TARGETS_CLASS_ID"; break;
	case LOSS_COUNT:
	default: DIE("unknown loss %d", (int)t->loss);
	}
	bool classes = t->loss == LOSS_CCE || t->loss == LOSS_SCCE;
	EmitBuf dims = {0}, names = {0};
	for (int i = 0; i < in->shape.rank; i++)
		emit_buf_puts(&dims, emit_fmt(E, "%s%" PRId64, i ? ", " : "",
		                              in->shape.dims[i]));
	for (int k = 0, n = 0; k < METRIC_COUNT; k++)
		if (t->metrics[k])
			emit_buf_puts(&names, emit_fmt(E, "%s\"%s\"", n++ ? ", " : "",
			                               metric_names[k]));
	int64_t epochs = t->epochs < INT32_MAX ? t->epochs : INT32_MAX;

	emit_open(E, "const nnrt_model %s_model =", E->M);
	Field f[32];
	int nf = 0;
	f[nf++] = (Field){emit_fmt(E, ".name = %s,", c_string(E, m->name)), NULL};
	f[nf++] = (Field){emit_fmt(E, ".source = %s,", c_string(E, E->o->source)),
	                  NULL};
	f[nf++] = (Field){emit_fmt(E, ".input_size = %s_INPUT_SIZE,", E->U), NULL};
	f[nf++] = (Field){emit_fmt(E, ".output_size = %s_OUTPUT_SIZE,", E->U),
	                  NULL};
	f[nf++] = (Field){train ? emit_fmt(E, ".target_size = %s_TARGET_SIZE,",
	                                   E->U)
	                        : ".target_size = 0,", NULL};
	f[nf++] = (Field){emit_fmt(E, ".input_rank = %d,", in->shape.rank), NULL};
	f[nf++] = (Field){emit_fmt(E, ".input_shape = {%s},", dims.s), NULL};
	f[nf++] = (Field){emit_fmt(E, ".batch = %s_BATCH,", E->U), NULL};
	if (train) {
		f[nf++] = (Field){emit_fmt(E, ".epochs = %s_EPOCHS,", E->U), NULL};
		f[nf++] = (Field){emit_fmt(E, ".shuffle = %s_SHUFFLE,", E->U), NULL};
		f[nf++] = (Field){emit_fmt(E, ".seed = %s_SEED,", E->U), NULL};
	} else {
		f[nf++] = (Field){emit_fmt(E, ".epochs = %" PRId64 ",", epochs), NULL};
		f[nf++] = (Field){emit_fmt(E, ".shuffle = %d,", t->shuffle), NULL};
		f[nf++] = (Field){emit_fmt(E, ".seed = UINT64_C(%" PRIu64 "),",
		                           t->seed), NULL};
	}
	static const char *const target_notes[LOSS_COUNT] = {
		[LOSS_NONE] = "no loss: inference only",
		[LOSS_MSE] = "numeric target columns",
		[LOSS_MAE] = "numeric target columns",
		[LOSS_BCE] = "target columns of 0 or 1",
		[LOSS_CCE] = "one-hot columns, or a class id",
		[LOSS_SCCE] = "one class id column",
	};
	f[nf++] = (Field){emit_fmt(E, ".targets = %s,", targets),
	                  target_notes[t->loss]};
	f[nf++] = (Field){emit_fmt(E, ".nclasses = %" PRId64 ",",
	                           classes ? units : 0), NULL};
	f[nf++] = (Field){emit_fmt(E, ".binary = %d,", t->loss == LOSS_BCE), NULL};
	f[nf++] = (Field){t->loss == LOSS_NONE ? ".loss = NULL,"
	                  : emit_fmt(E, ".loss = \"%s\",", loss_names[t->loss]),
	                  NULL};
	if (train)
		f[nf++] = (Field){emit_fmt(E, ".nmetrics = %s_NMETRICS,", E->U), NULL};
	else
		f[nf++] = (Field){".nmetrics = 0,", NULL};
	if (names.len)
		f[nf++] = (Field){emit_fmt(E, ".metric_names = {%s},", names.s), NULL};
	f[nf++] = (Field){emit_fmt(E, ".classifier = %d,", is_classifier(m)),
	                  is_classifier(m) ? "predict adds a class column" : NULL};
	f[nf++] = (Field){emit_fmt(E, ".elem_size = sizeof (%s),", E->T), NULL};
	f[nf++] = (Field){emit_fmt(E, ".create = %s_model_create,", E->M), NULL};
	f[nf++] = (Field){emit_fmt(E, ".destroy = %s_model_destroy,", E->M), NULL};
	if (train) {
		f[nf++] = (Field){emit_fmt(E, ".train_batch = %s_model_train_batch,",
		                           E->M), NULL};
		f[nf++] = (Field){emit_fmt(E, ".evaluate = %s_model_evaluate,", E->M),
		                  NULL};
	}
	f[nf++] = (Field){emit_fmt(E, ".predict = %s_model_predict,", E->M), NULL};
	f[nf++] = (Field){emit_fmt(E, ".save = %s_model_save,", E->M), NULL};
	f[nf++] = (Field){emit_fmt(E, ".load = %s_model_load,", E->M), NULL};
	if (train) {
		f[nf++] = (Field){emit_fmt(E, ".save_checkpoint = "
		                           "%s_model_save_checkpoint,", E->M), NULL};
		f[nf++] = (Field){emit_fmt(E, ".load_checkpoint = "
		                           "%s_model_load_checkpoint,", E->M), NULL};
	}
	ASSERT(nf <= (int)(sizeof f / sizeof f[0]));
	emit_fields(E, f, nf);
	emit_line(E, "};");
	emit_buf_free(&dims);
	emit_buf_free(&names);
}

/* NAME_fit_options and NAME_fit: the training loop. */
static void emit_fit(Emitter *E)
{
	int nm = E->p->nmetrics;
	emit_code(E,
		"void $M_fit_options(nnrt_fit_options *opt)\n"
		"{\n"
		"opt->epochs = $U_EPOCHS;\n"
		"opt->batch = $U_BATCH;\n"
		"opt->shuffle = $U_SHUFFLE;\n"
		"opt->seed = $U_SEED;\n"
		"opt->verbose = 1;\n"
		"}\n"
		"\n"
		"int $M_fit($M *m, const $T *x, const $T *y, size_t n,\n"
		"const nnrt_fit_options *opt, nnrt_history *hist)\n"
		"{\n"
		"nnrt_fit_options o;\n"
		"if (opt)\n"
		"o = *opt;\n"
		"else\n"
		"$M_fit_options(&o);\n"
		"const size_t batch = o.batch > 0 ? (size_t)o.batch : $U_BATCH;\n"
		"const int epochs = o.epochs > 0 ? o.epochs : 0;\n"
		"if (hist && nnrt_history_init(hist, epochs, $U_NMETRICS) != 0) {\n"
		"fprintf(stderr, \"$M_fit: out of memory\\n\");\n"
		"return -1;\n"
		"}\n"
		"/* The only allocations of a fit: the row order and one batch. */\n"
		"size_t *idx = malloc((n ? n : 1) * sizeof *idx);\n"
		"$T *xb = malloc(batch * $U_INPUT_SIZE * sizeof *xb);\n"
		"$T *yb = malloc(batch * $U_TARGET_SIZE * sizeof *yb);\n"
		"int status = 0, done = 0;\n"
		"if (!idx || !xb || !yb) {\n"
		"fprintf(stderr, \"$M_fit: out of memory\\n\");\n"
		"status = -1;\n"
		"} else {\n"
		"nnrt_iota(idx, n);\n"
		"}\n"
		"nnrt_rng rng; /* stream 3 of the options' seed: shuffling */\n"
		"nnrt_rng_seed(&rng, o.seed, 3);\n"
		"for (int e = 0; e < epochs && status == 0; e++) {\n"
		"const double start = nnrt_now();\n"
		"double loss = 0, msum[$U_NMETRICS + 1] = {0};\n"
		"if (o.shuffle)\n"
		"nnrt_shuffle(idx, n, &rng);\n"
		"for (size_t b = 0; b < n; b += batch) {\n"
		"const size_t rows = n - b < batch ? n - b : batch;\n"
		"nnrt_gather_$P(xb, x, idx + b, rows, $U_INPUT_SIZE);\n"
		"nnrt_gather_$P(yb, y, idx + b, rows, $U_TARGET_SIZE);\n"
		"/* the next batch's rows, loaded while this one trains */\n"
		"const size_t ahead = n - b - rows < batch ? n - b - rows : batch;\n"
		"nnrt_prefetch_rows(x, idx + b + rows, ahead,\n"
		"sizeof *x * $U_INPUT_SIZE);\n"
		"const double sum = $M_step(m, xb, yb, rows, msum);\n"
		"if (!isfinite(sum)) {\n"
		"fprintf(stderr, \"$M_fit: the loss became %s at epoch %d, \"\n"
		"\"batch %zu\\n\", isnan(sum) ? \"NaN\" : \"infinite\", e + 1,\n"
		"b / batch + 1);\n"
		"status = -1;\n"
		"break;\n"
		"}\n"
		"loss += sum;\n"
		"}\n"
		"if (status != 0)\n"
		"break;\n"
		"loss /= (double)(n ? n : 1);\n");
	if (nm > 0)
		emit_code(E,
			"for (int k = 0; k < $U_NMETRICS; k++)\n"
			"msum[k] /= (double)(n ? n : 1);\n");
	emit_code(E,
		"if (hist) {\n"
		"hist->loss[e] = loss;\n"
		"hist->seconds[e] = nnrt_now() - start;\n");
	if (nm > 0)
		emit_code(E,
			"for (int k = 0; k < $U_NMETRICS; k++)\n"
			"hist->metrics[(size_t)e * $U_NMETRICS + (size_t)k] = msum[k];\n");
	emit_code(E,
		"}\n"
		"done = e + 1;\n"
		"if (o.verbose) {\n"
		"fprintf(stderr, \"Epoch %d/%d - loss: %.4f\", e + 1, epochs, loss);\n");
	int slot = 0;
	for (int k = 0; k < METRIC_COUNT; k++)
		if (E->m->train.metrics[k])
			emit_line(E, "fprintf(stderr, \" - %s: %%.4f\", msum[%d]);",
			          metric_names[k], slot++);
	emit_code(E,
		"fputc('\\n', stderr);\n"
		"}\n"
		"}\n"
		"if (hist)\n"
		"hist->epochs = done;\n"
		"free(idx);\n"
		"free(xb);\n"
		"free(yb);\n"
		"return status;\n"
		"}\n"
		"\n");
}

/* ---- the public functions ----------------------------------------------- */

/* "const double sum = NAME_gradients(...);" of a build with direct_grads:
 * d = alpha * the gradient + beta * d. */
static void grads_call(Emitter *E, const char *msum, const char *d,
                       const char *alpha, const char *beta)
{
	PtrVec pcs = {0};
	emit_piece(E, &pcs, "const double sum = %s_gradients(m, x, y, n, %s, ",
	           E->M, msum);
	emit_piece(E, &pcs, "%s, %s, %s);", d, alpha, beta);
	emit_wrapped(E, &pcs);
}

static void emit_public(Emitter *E)
{
	const Plan *p = E->p;
	const IrNode *o = E->m->output;
	E->helper[H_ROWS] = true;
	emit_line(E, "/* ---- the API (%s.h) ---- */", E->M);
	emit_blank(E);
	emit_create(E);

	const char *out = emit_y_of(E, o);
	emit_code(E,
		"void $M_predict($M *m, const $T *x, size_t n, $T *y)\n"
		"{\n"
		"for (size_t i = 0; i < n; i += $U_BATCH) {\n"
		"const int rows = $M_rows(n, i);\n");
	if (p->training)
		emit_line(E, "%s_forward(m, x + i * %s_INPUT_SIZE, rows, 0);", E->M,
		          E->U);
	else
		emit_line(E, "%s_forward(m, x + i * %s_INPUT_SIZE, rows);", E->M, E->U);
	PtrVec pcs = {0};
	emit_piece(E, &pcs, "memcpy(y + i * %s_OUTPUT_SIZE, ", E->U);
	emit_piece(E, &pcs, "%s, ", !strcmp(out, "x")
	           ? emit_fmt(E, "x + i * %s_INPUT_SIZE", E->U) : out);
	emit_piece(E, &pcs, "sizeof *y * (size_t)rows * %s_OUTPUT_SIZE);", E->U);
	emit_wrapped(E, &pcs);
	emit_close(E);
	emit_close(E);
	emit_blank(E);

	const bool direct = E->direct;
	if (p->training && direct) {
		emit_code(E,
			"/* Forward (training) and backward over rows [0, n) in chunks of\n"
			" * $U_BATCH: d = alpha * (the gradient averaged over all n rows)\n"
			" * + beta * d.  Returns the sum of the per-row losses; adds metric\n"
			" * sums to msum unless it is NULL. */\n"
			"static double $M_gradients($M *m, const $T *x, const $T *y, size_t n,\n"
			"double *msum, const $M_tensors *d, $T alpha, $T beta)\n"
			"{\n"
			"const $T scale = ($T)(1.0 / (double)(n ? n : 1));\n"
			"double sum = 0;\n");
	} else if (p->training) {
		emit_code(E,
			"/* Forward (training) and backward over rows [0, n) in chunks of\n"
			" * $U_BATCH, the gradient averaged over all n rows in m->grads.\n"
			" * Returns the sum of the per-row losses; adds metric sums to msum\n"
			" * unless it is NULL. */\n"
			"static double $M_gradients($M *m, const $T *x, const $T *y, size_t n,\n"
			"double *msum)\n"
			"{\n"
			"const $T scale = ($T)(1.0 / (double)(n ? n : 1));\n"
			"double sum = 0;\n");
	}
	/* Cleared gradients to add to (a direct build's first chunk writes
	 * them with beta 0 instead). */
	if (p->training && !direct) {
		if (p->nparams >= EMIT_PARALLEL_MIN)
			emit_code(E, "nnrt_parallel_zero(m->grads, $U_PARAM_COUNT, "
			          "sizeof *m->grads);\n");
		else
			emit_code(E, "memset(m->grads, 0, sizeof *m->grads * "
			          "$U_PARAM_COUNT);\n");
	}
	if (p->training) {
		emit_code(E,
			"for (size_t i = 0; i < n; i += $U_BATCH) {\n"
			"const int rows = $M_rows(n, i);\n"
			"const $T *xi = x + i * $U_INPUT_SIZE, *yi = y + i * $U_TARGET_SIZE;\n"
			"$M_forward(m, xi, rows, 1);\n"
			"sum += $M_loss(m, yi, rows);\n");
		if (p->nmetrics > 0)
			emit_code(E, "if (msum)\n$M_metrics(m, yi, rows, msum);\n");
		else
			emit_code(E, "(void)msum;\n");
		if (direct)
			emit_code(E,
				"$M_loss_backward(m, yi, rows, scale);\n"
				"$M_backward(m, xi, rows, d, alpha, i == 0 ? beta : 1);\n");
		else if (p->backward)
			emit_code(E,
				"$M_loss_backward(m, yi, rows, scale);\n"
				"$M_backward(m, xi, rows);\n");
		else
			emit_code(E,
				"(void)scale; /* no parameter gets a gradient */\n");
		emit_code(E,
			"}\n"
			"return sum;\n"
			"}\n"
			"\n"
			"/* One optimizer step over n rows; returns the sum of their losses. */\n"
			"static double $M_step($M *m, const $T *x, const $T *y, size_t n,\n"
			"double *msum)\n"
			"{\n");
		const Optimizer *opt = &E->m->train.opt;
		if (fold_velocity(E)) {
			emit_line(E, "/* v = %s v - %s g: the gradient goes straight into "
			          "the velocity */", emit_lit(E, opt->momentum),
			          emit_lit(E, opt->learning_rate));
			grads_call(E, "msum", "&m->v",
			           emit_fmt(E, "-%s", emit_lit(E, opt->learning_rate)),
			           emit_lit(E, opt->momentum));
		} else if (fold_params(E)) {
			emit_line(E, "if (n <= %s_BATCH) {", E->U);
			emit_line(E, "/* one chunk: w -= %s g, the gradient going "
			          "straight into the weights */",
			          emit_lit(E, opt->learning_rate));
			emit_line(E, "m->step += 1;");
			PtrVec call = {0};
			emit_piece(E, &call, "return %s_gradients(m, x, y, n, msum, ",
			           E->M);
			emit_piece(E, &call, "&m->p, -%s, %s);",
			           emit_lit(E, opt->learning_rate), emit_lit(E, 1));
			emit_wrapped(E, &call);
			emit_line(E, "}");
			grads_call(E, "msum", "&m->g", emit_lit(E, 1), emit_lit(E, 0));
		} else if (direct) {
			grads_call(E, "msum", "&m->g", emit_lit(E, 1), emit_lit(E, 0));
		} else {
			emit_code(E, "const double sum = $M_gradients(m, x, y, n, msum);\n");
		}
		emit_code(E,
			"$M_update(m);\n"
			"return sum;\n"
			"}\n"
			"\n"
			"$T $M_train_batch($M *m, const $T *x, const $T *y, size_t n)\n"
			"{\n"
			"if (n == 0)\n"
			"return 0;\n"
			"return ($T)($M_step(m, x, y, n, NULL) / (double)n);\n"
			"}\n"
			"\n"
			"$T $M_compute_gradients($M *m, const $T *x, const $T *y, size_t n)\n"
			"{\n");
		if (direct)
			grads_call(E, "NULL", "&m->g", emit_lit(E, 1), emit_lit(E, 0));
		else
			emit_code(E, "const double sum = $M_gradients(m, x, y, n, NULL);\n");
		emit_code(E,
			"return n ? ($T)(sum / (double)n) : 0;\n"
			"}\n"
			"\n"
			"/* Forward (dropout off) over rows [0, n) in chunks of $U_BATCH.\n"
			" * Returns the sum of the per-row losses; adds metric sums to msum\n"
			" * unless it is NULL. */\n"
			"static double $M_eval_sums($M *m, const $T *x, const $T *y, size_t n,\n"
			"double *msum)\n"
			"{\n"
			"double loss = 0;\n"
			"for (size_t i = 0; i < n; i += $U_BATCH) {\n"
			"const int rows = $M_rows(n, i);\n"
			"$M_forward(m, x + i * $U_INPUT_SIZE, rows, 0);\n"
			"loss += $M_loss(m, y + i * $U_TARGET_SIZE, rows);\n");
		if (p->nmetrics > 0)
			emit_code(E,
				"if (msum)\n"
				"$M_metrics(m, y + i * $U_TARGET_SIZE, rows, msum);\n"
				"}\n");
		else
			emit_code(E,
				"}\n"
				"(void)msum;\n");
		emit_code(E,
			"return loss;\n"
			"}\n"
			"\n"
			"$T $M_evaluate($M *m, const $T *x, const $T *y, size_t n, $T *metrics)\n"
			"{\n");
		if (p->nmetrics > 0)
			emit_code(E,
				"double sum[$U_NMETRICS] = {0};\n"
				"const double loss = $M_eval_sums(m, x, y, n, sum);\n"
				"for (int k = 0; metrics && k < $U_NMETRICS; k++)\n"
				"metrics[k] = ($T)(n ? sum[k] / (double)n : 0);\n");
		else
			emit_code(E,
				"const double loss = $M_eval_sums(m, x, y, n, NULL);\n"
				"(void)metrics;\n");
		emit_code(E,
			"return n ? ($T)(loss / (double)n) : 0;\n"
			"}\n"
			"\n");
		emit_fit(E);
		emit_code(E,
			"$T *$M_params($M *m)\n"
			"{\n"
			"return m->params;\n"
			"}\n"
			"\n"
			"const $T *$M_grads(const $M *m)\n"
			"{\n"
			"return m->grads;\n"
			"}\n"
			"\n"
			"void $M_seed_dropout($M *m, uint64_t seed)\n"
			"{\n"
			"nnrt_rng_seed(&m->dropout_rng, seed, 2);\n"
			"}\n"
			"\n");
	} else {
		emit_code(E,
			"$T *$M_params($M *m)\n"
			"{\n"
			"return m->params;\n"
			"}\n"
			"\n");
	}
	emit_io(E);
	if (p->training)
		emit_checkpoint(E);
	emit_descriptor(E);
}

/* ---- helpers, assembly and the header ----------------------------------- */

/* A header's extern "C" block for C++ callers: its braces are not C's, so
 * they do not indent what they hold. */
void emit_extern_c_open(Emitter *E)
{
	emit_line(E, "#ifdef __cplusplus");
	emit_line(E, "extern \"C\" {");
	E->indent--;
	emit_line(E, "#endif");
}

void emit_extern_c_close(Emitter *E)
{
	emit_line(E, "#ifdef __cplusplus");
	E->indent++;
	emit_line(E, "}");
	emit_line(E, "#endif");
}

void emit_helpers(Emitter *E)
{
	if (E->helper[H_SIGMOID])
		emit_code(E,
			"/* The logistic function, without overflow for large |x|. */\n"
			"static $T nn_sigmoid($T x)\n"
			"{\n"
			"if (x >= 0)\n"
			"return 1 / (1 + exp$f(-x));\n"
			"const $T e = exp$f(x);\n"
			"return e / (1 + e);\n"
			"}\n"
			"\n");
	if (E->helper[H_RELU])
		emit_code(E,
			"/* max(x, 0), NaN staying NaN as in TensorFlow and PyTorch. */\n"
			"static $T nn_relu($T x)\n"
			"{\n"
			"return x < 0 ? 0 : x;\n"
			"}\n"
			"\n");
	if (E->helper[H_TANHF])
		emit_code(E,
			"/* tanh in float, branch-free so that loops over it vectorize\n"
			" * (tanhf is a call); within 1.4 ulp of tanh everywhere, odd,\n"
			" * NaN staying NaN.  |x| < 0.625: x + x^3 P(x^2); else\n"
			" * 1 - 2 / (e^(2|x|) + 1), with e^y = 2^k e^r, |r| <= ln(2)/2,\n"
			" * e^r a degree-7 polynomial; |x| >= 9 gives 1. */\n"
			"static float nn_tanhf(float x)\n"
			"{\n"
			"const float a = fabsf(x) < 9.0f ? fabsf(x) : 9.0f;\n"
			"const float z = a * a;\n"
			"const float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z\n"
			"- 5.37397155531e-2f) * z + 1.33314422036e-1f) * z\n"
			"- 3.33332819422e-1f) * z * a + a;\n"
			"const float y = 2.0f * a;\n"
			"/* k = round(y / ln 2), in the low bits of kr (1.5 * 2^23 + k) */\n"
			"union { uint32_t u; float f; } kr, p;\n"
			"kr.f = y * 1.44269504089f + 12582912.0f;\n"
			"const float k = kr.f - 12582912.0f;\n"
			"const float r = y - k * 0.693359375f + k * 2.12194440e-4f;\n"
			"const float e = (((((1.9875691500e-4f * r + 1.3981999507e-3f) * r\n"
			"+ 8.3334519073e-3f) * r + 4.1665795894e-2f) * r\n"
			"+ 1.6666665459e-1f) * r + 5.0000001201e-1f) * r * r + r + 1.0f;\n"
			"p.u = (kr.u - 0x4b400000u + 127u) << 23; /* 2^k */\n"
			"const float large = 1.0f - 2.0f / (e * p.f + 1.0f);\n"
			"const float t = a < 0.625f ? small : large;\n"
			"const float signed_t = x < 0 ? -t : t;\n"
			"return x != x ? x : signed_t;\n"
			"}\n"
			"\n");
	if (E->helper[H_ROWS])
		emit_code(E,
			"/* Rows of the chunk that starts at row i of n: a batch, or what\n"
			" * is left. */\n"
			"static int $M_rows(size_t n, size_t i)\n"
			"{\n"
			"return n - i < $U_BATCH ? (int)(n - i) : $U_BATCH;\n"
			"}\n"
			"\n");
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static void emit_source(Emitter *E, EmitBuf *out)
{
	const Plan *p = E->p;
	const IrModel *m = E->m;
	EmitBuf body = {0}, customs = {0};

	/* The code first, to learn which helpers it uses. */
	E->out = &body;
	emit_forward(E);
	if (p->training) {
		emit_loss(E);
		emit_metrics(E);
		if (p->backward)
			emit_backward(E);
		emit_update(E);
	}
	emit_public(E);
	E->out = &customs;
	emit_custom_fns(E);

	E->out = out;
	emit_line(E, "/* %s.c — generated by nnc %s from %s. Do not edit. */",
	          m->name, NNC_VERSION, emit_comment_safe(E, E->o->source));
	char opt[IR_OPT_BUF];
	emit_line(E, "/*");
	emit_line(E, " * Model %s: input %s %s -> output %s %s, %" PRId64
	          " parameters,", m->name, m->input->name,
	          emit_eshape(E, m->input->shape), ir_node_label(m->output),
	          emit_eshape(E, m->output->shape), p->nparams);
	if (p->training) {
		emit_line(E, " * loss %s, batch %" PRId64 ",",
		          loss_names[m->train.loss], p->batch);
		emit_line(E, " * optimizer %s.", ir_fmt_opt(opt, &m->train.opt));
	}
	else
		emit_line(E, " * inference only (no loss), batch %" PRId64 ".",
		          p->batch);
	emit_line(E, " * Precision %s; dense layers of at most %" PRId64
	          " multiply-adds per example", E->T, E->o->unroll_limit);
	emit_line(E, " * are unrolled, larger ones use %s.  Every buffer is "
	          "allocated in", gemm(E));
	emit_line(E, " * %s_create; docs/API.md describes the functions.", E->M);
	emit_line(E, " */");
	emit_line(E, "#include \"%s.h\"", m->name);
	emit_blank(E);
	emit_line(E, "#include <math.h>");
	emit_line(E, "#include <stdio.h>");
	emit_line(E, "#include <stdlib.h>");
	emit_line(E, "#include <string.h>");
	emit_blank(E);
	emit_struct(E);
	emit_helpers(E);
	emit_buf_puts(out, customs.s ? customs.s : "");
	emit_buf_puts(out, body.s ? body.s : "");
	emit_buf_free(&body);
	emit_buf_free(&customs);
	/* No blank line at the very end. */
	while (out->len >= 2 && out->s[out->len - 1] == '\n' &&
	       out->s[out->len - 2] == '\n')
		out->s[--out->len] = '\0';
	ASSERT(E->indent == 0);
}

/* One #define with its value and comment aligned. */
static void emit_define(Emitter *E, const char *name, const char *value,
                        const char *comment)
{
	const char *def = emit_fmt(E, "#define %s_%s", E->U, name);
	if (comment)
		emit_line(E, "%-*s %-13s /* %s */", (int)strlen(E->U) + 20, def,
		          value, comment);
	else
		emit_line(E, "%-*s %s", (int)strlen(E->U) + 20, def, value);
}

static void emit_header(Emitter *E, EmitBuf *out)
{
	const Plan *p = E->p;
	const IrModel *m = E->m;
	const Training *t = &m->train;
	E->out = out;
	emit_line(E, "/* %s.h — generated by nnc %s from %s. Do not edit. */",
	          m->name, NNC_VERSION, emit_comment_safe(E, E->o->source));
	emit_line(E, "/*");
	emit_line(E, " * The model %s as C%s; docs/API.md describes every "
	          "function.", m->name, p->training ? "" : ", inference only");
	emit_line(E, " * Arrays of examples are row-major, values are %s: "
	          "example i of x is", E->T);
	emit_line(E, " * x[i * %s_INPUT_SIZE .. (i + 1) * %s_INPUT_SIZE).", E->U,
	          E->U);
	emit_line(E, " */");
	emit_line(E, "#ifndef %s_H", E->U);
	emit_line(E, "#define %s_H", E->U);
	emit_blank(E);
	emit_line(E, "#include <stddef.h>");
	emit_line(E, "#include <stdint.h>");
	emit_blank(E);
	emit_line(E, "#include \"nnrt.h\"");
	emit_blank(E);
	emit_extern_c_open(E);
	emit_blank(E);
	const IrNode *in = m->input, *o = m->output;
	emit_define(E, "INPUT_SIZE", emit_fmt(E, "%" PRId64, size_of(in)),
	            emit_fmt(E, "values per example: %s %s", in->name,
	                     emit_eshape(E, in->shape)));
	emit_define(E, "OUTPUT_SIZE", emit_fmt(E, "%" PRId64, size_of(o)),
	            emit_fmt(E, "values per prediction: %s %s", ir_node_label(o),
	                     emit_eshape(E, o->shape)));
	if (p->training)
		emit_define(E, "TARGET_SIZE", emit_fmt(E, "%" PRId64, p->target_size),
		            t->loss == LOSS_SCCE ? "values per target: the class id"
		                                 : "values per target");
	emit_define(E, "BATCH", emit_fmt(E, "%" PRId64, p->batch),
	            "rows per forward pass");
	emit_define(E, "PARAM_COUNT", emit_fmt(E, "%" PRId64, p->nparams),
	            "trainable parameters");
	if (p->training) {
		emit_define(E, "NMETRICS", emit_fmt(E, "%d", p->nmetrics),
		            p->nmetrics ? "metrics: see NAME_evaluate" : "no metrics");
		int64_t epochs = t->epochs < INT32_MAX ? t->epochs : INT32_MAX;
		emit_define(E, "EPOCHS", emit_fmt(E, "%" PRId64, epochs),
		            "settings of the .nn file, for fit");
		emit_define(E, "SHUFFLE", t->shuffle ? "1" : "0", NULL);
		emit_define(E, "SEED", emit_fmt(E, "UINT64_C(%" PRIu64 ")", t->seed),
		            NULL);
	}
	emit_blank(E);
	emit_code(E,
		"typedef struct $M $M; /* opaque: the model and all its memory */\n"
		"\n"
		"/* A new model: glorot_uniform kernels from seed (RNG stream 1), zero\n"
		" * biases.  Every buffer the model needs is allocated here, once.\n"
		" * Returns NULL when out of memory. */\n"
		"$M *$M_create(uint64_t seed);\n"
		"void $M_destroy($M *m);\n"
		"\n"
		"/* Writes the n predictions for rows x[0 .. n) into y, row-major, in\n"
		" * chunks of $U_BATCH rows (dropout off).  Allocates nothing. */\n"
		"void $M_predict($M *m, const $T *x, size_t n, $T *y);\n"
		"\n");
	if (p->training) {
		emit_code(E,
			"/* One optimizer step on the mean loss of n rows of x and targets\n"
			" * y; returns that mean loss.  For n > $U_BATCH the gradients of\n"
			" * the chunks are accumulated before the one step. */\n"
			"$T $M_train_batch($M *m, const $T *x, const $T *y, size_t n);\n"
			"\n"
			"/* The mean loss over n rows (dropout off); metrics, unless NULL,\n"
			" * receives the $U_NMETRICS enabled metrics in the order accuracy,\n"
			" * mae, mse. */\n"
			"$T $M_evaluate($M *m, const $T *x, const $T *y, size_t n,\n"
			"$T *metrics);\n"
			"\n"
			"/* Fills opt with the .nn file's settings: $U_EPOCHS, $U_BATCH,\n"
			" * $U_SHUFFLE, $U_SEED, verbose. */\n"
			"void $M_fit_options(nnrt_fit_options *opt);\n"
			"\n"
			"/* Trains for opt->epochs passes over n rows (opt NULL: the .nn\n"
			" * file's settings) in batches of opt->batch, the last one short,\n"
			" * reshuffled every epoch from opt->seed (RNG stream 3).  hist,\n"
			" * unless NULL, is initialized here and gets one entry per epoch;\n"
			" * free it with nnrt_history_free.  With opt->verbose, prints\n"
			" * \"Epoch 3/20 - loss: 0.1234 - accuracy: 0.9000\" lines to stderr.\n"
			" * Returns 0, or -1 when out of memory or when the loss became NaN\n"
			" * or infinite (the message names the epoch and batch). */\n"
			"int $M_fit($M *m, const $T *x, const $T *y, size_t n,\n"
			"const nnrt_fit_options *opt, nnrt_history *hist);\n"
			"\n");
	}
	emit_code(E,
		"/* The parameters as safetensors: LAYER.weight [out, in] and\n"
		" * LAYER.bias [out].  Return 0, or -1 with a message in err\n"
		" * (errlen bytes; err may be NULL).  A failed load changes nothing. */\n"
		"int $M_save(const $M *m, const char *path, char *err, size_t errlen);\n"
		"int $M_load($M *m, const char *path, char *err, size_t errlen);\n"
		"\n");
	if (p->training)
		emit_code(E,
			"/* A checkpoint: the weights (as $M_save writes them), the optimizer's\n"
			" * state and step count, the dropout RNG and the number of epochs done,\n"
			" * written atomically, so that training resumed from it continues\n"
			" * exactly as if it had not stopped.  $M_load_checkpoint also takes a\n"
			" * plain weights file: *epoch is then 0 and the optimizer starts\n"
			" * afresh.  epoch may be NULL.  Return 0, or -1 with a message in err;\n"
			" * a failed load changes nothing. */\n"
			"int $M_save_checkpoint(const $M *m, const char *path, int epoch,\n"
			"char *err, size_t errlen);\n"
			"int $M_load_checkpoint($M *m, const char *path, int *epoch, char *err,\n"
			"size_t errlen);\n"
			"\n");
	emit_code(E,
		"/* The model as the runtime's trainer program sees it: sizes, settings\n"
		" * and the functions above.  nnrt_main(argc, argv, &$M_model) is a\n");
	emit_code(E, p->training
		? " * whole train / eval / predict program (nnc build --main). */\n"
		: " * predict program (a model without a loss cannot be trained). */\n");
	emit_code(E,
		"extern const nnrt_model $M_model;\n"
		"\n"
		"/* For tests and tools: the $U_PARAM_COUNT parameters, in layer order,\n"
		" * weight then bias. */\n"
		"$T *$M_params($M *m);\n");
	if (p->training && (fold_velocity(E) || fold_params(E)))
		emit_code(E,
			"/* The gradient of the last compute_gradients, same layout.  After\n"
			" * train_batch the block holds nothing to rely on: sgd folds the\n"
			" * gradient into its step as the backward pass computes it. */\n");
	else if (p->training)
		emit_code(E,
			"/* The gradient of the last compute_gradients or train_batch, same\n"
			" * layout. */\n");
	if (p->training)
		emit_code(E,
			"const $T *$M_grads(const $M *m);\n"
			"/* Forward (dropout on) and backward over n rows without a step;\n"
			" * returns the mean loss. */\n"
			"$T $M_compute_gradients($M *m, const $T *x, const $T *y, size_t n);\n"
			"/* Restarts the dropout RNG (stream 2 of seed), to fix the masks. */\n"
			"void $M_seed_dropout($M *m, uint64_t seed);\n");
	emit_blank(E);
	emit_extern_c_close(E);
	emit_blank(E);
	emit_line(E, "#endif /* %s_H */", E->U);
	ASSERT(E->indent == 0);
}

void emit_setup(Emitter *E, Arena *a, const IrProgram *prog,
                const IrModel *m, const Plan *p, const EmitOptions *o)
{
	int nacts = 0;
	while (prog->acts && prog->acts[nacts])
		nacts++;
	*E = (Emitter){
		.a = a, .prog = prog, .m = m, .p = p, .o = o,
		.M = m->name,
		.T = o->f64 ? "double" : "float",
		.file = base_name(o->source),
		.custom_f = arena_array(a, (size_t)nacts + 1, sizeof(bool)),
		.custom_df = arena_array(a, (size_t)nacts + 1, sizeof(bool)),
	};
	char *upper = arena_strdup(a, m->name);
	for (char *s = upper; *s; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
	E->U = upper;
	E->direct = direct_grads(E);
}

bool emit_model(FILE *h, FILE *c, Arena *a, const IrProgram *prog,
                const IrModel *m, const EmitOptions *o)
{
	Emitter E;
	emit_setup(&E, a, prog, m, plan_model(a, m, o->unroll_limit), o);
	EmitBuf hb = {0}, cb = {0};
	emit_header(&E, &hb);
	emit_source(&E, &cb);
	bool ok = fwrite(hb.s, 1, hb.len, h) == hb.len &&
	          fwrite(cb.s, 1, cb.len, c) == cb.len;
	emit_buf_free(&hb);
	emit_buf_free(&cb);
	return ok;
}

bool emit_main(FILE *out, const IrModel *m, const EmitOptions *o)
{
	Arena *a = arena_new();
	Emitter E = {.a = a, .m = m, .o = o, .M = m->name};
	EmitBuf b = {0};
	E.out = &b;
	emit_line(&E, "/* main.c — generated by nnc %s from %s. Do not edit. */",
	          NNC_VERSION, emit_comment_safe(&E, o->source));
	emit_line(&E, "/*");
	emit_line(&E, " * The trainer program of model %s (%s --help): train, "
	          "eval and", m->name, m->name);
	emit_line(&E, " * predict from the command line.  The runtime's nnrt_main "
	          "(nnrt.h)");
	emit_line(&E, " * does everything; %s_model describes the model to it.",
	          m->name);
	emit_line(&E, " */");
	emit_line(&E, "#include \"%s.h\"", m->name);
	emit_blank(&E);
	emit_line(&E, "int main(int argc, char **argv)");
	emit_brace(&E);
	emit_line(&E, "return nnrt_main(argc, argv, &%s_model);", m->name);
	emit_close(&E);
	ASSERT(E.indent == 0);
	bool ok = fwrite(b.s, 1, b.len, out) == b.len;
	emit_buf_free(&b);
	arena_free(a);
	return ok;
}

/* Identifiers a model's name must not be: the typedef NAME would clash. */
static const char *const taken_names[] = {
	/* C keywords, C89 to C11 */
	"auto", "break", "case", "char", "const", "continue", "default", "do",
	"double", "else", "enum", "extern", "float", "for", "goto", "if",
	"inline", "int", "long", "register", "restrict", "return", "short",
	"signed", "sizeof", "static", "struct", "switch", "typedef", "union",
	"unsigned", "void", "volatile", "while", "bool", "true", "false",
	/* locals and parameters of the generated functions */
	"m", "x", "y", "t", "n", "i", "j", "k", "w", "b", "g", "v", "e", "o",
	"mo", "acc", "dw", "db", "dz", "xi", "yi", "zi", "ti", "di", "dyi",
	"dxi", "dzi", "seed", "path", "err", "errlen", "opt", "hist", "idx",
	"xb", "yb", "rows", "batch", "epochs", "status", "done", "start", "ahead",
	"loss", "msum", "sum", "scale", "metrics", "max", "se", "lse", "row",
	"best", "want", "hits", "alpha", "tsum", "training", "rng", "s", "z",
	"nn_sigmoid", "nn_relu", "epoch", "counts", "list", "scratch", "state",
	"inc", "out", "params", "argc", "argv",
	/* the C library the generated files include */
	"size_t", "ptrdiff_t", "NULL", "abs", "div", "exit", "free", "malloc",
	"calloc", "realloc", "memcpy", "memset", "fprintf", "printf", "fputc",
	"stderr", "stdout", "FILE", "exp", "log", "sqrt", "sin", "cos", "tan",
	"tanh", "pow", "fabs", "log1p", "isnan", "isfinite", "expf", "logf",
	"sqrtf", "sinf", "cosf", "tanf", "tanhf", "powf", "fabsf", "log1pf",
	"y0", "y1", "yn", "j0", "j1", "jn", "gamma", "index", "time", "rand",
	"main", "errno", "signal", "remove", "rename", "round", "floor", "ceil",
	"snprintf",
	NULL,
};

bool emit_name_ok(const char *name)
{
	size_t len = strlen(name);
	if (!strncmp(name, "nnrt", 4) || !strncmp(name, "NNRT", 4) ||
	    name[0] == '_' || (len >= 2 && !strcmp(name + len - 2, "_t")))
		return false;
	/* dz0, dz1, ...: the unrolled backward's locals */
	if (len > 2 && !strncmp(name, "dz", 2) &&
	    strspn(name + 2, "0123456789") == len - 2)
		return false;
	for (int i = 0; taken_names[i]; i++)
		if (!strcmp(name, taken_names[i]))
			return false;
	return true;
}

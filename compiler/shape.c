/*
 * shape.c — shape inference and model-level checks.
 *
 * Walks each model's nodes in their topological order and gives every node
 * its output shape (per example, batch excluded) and a dense layer its
 * parameter shapes.  infer() holds the one shape rule per op.  A node whose
 * rule fails, or that lowering marked as an error, gets the unknown shape
 * (rank -1); nodes reading an unknown shape get it too, silently, so one
 * mistake is reported once.
 *
 * Then the model-level checks: sizes stay within IR_MAX_ELEMS, the loss and
 * metrics fit the output, and every tensor reaches the output.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "nnc.h"

typedef struct Check {
	Arena *a;
	Diag *d;
	IrModel *m;
} Check;

static const Loc NOLOC = {0, 0, 0, 0};
static const Shape UNKNOWN = {-1, {0}};

/* a * b, or false if it does not fit in int64_t (operands >= 0). */
static bool mul_ok(int64_t a, int64_t b, int64_t *out)
{
#if defined(__GNUC__) || defined(__clang__)
	return !__builtin_mul_overflow(a, b, out);
#else
	if (a != 0 && b > INT64_MAX / a)
		return false;
	*out = a * b;
	return true;
#endif
}

/* Elements of one example of s, or -1 if more than IR_MAX_ELEMS. */
static int64_t elems(Shape s)
{
	int64_t n = 1;
	for (int i = 0; i < s.rank; i++)
		if (!mul_ok(n, s.dims[i], &n) || n > IR_MAX_ELEMS)
			return -1;
	return n;
}

static const char *str(Check *C, Shape s)
{
	return shape_str(C->a, s);
}

/* "'deep' is [16] here", at the step that made t. */
static void note_made(Check *C, const IrNode *t)
{
	diag_note(C->d, t->loc, "'%s' is %s here", ir_node_label(t),
	          str(C, t->shape));
}

/* ---- the shape rules ---------------------------------------------------- */

static Shape infer_dense(Check *C, IrNode *n)
{
	const IrNode *in = n->inputs[0];
	if (in->shape.rank != 1) {
		diag_error(C->d, n->loc, "dense expects a vector, but '%s' is %s",
		           ir_node_label(in), str(C, in->shape));
		diag_note(C->d, n->loc, "insert 'flatten' before this layer");
		note_made(C, in);
		return UNKNOWN;
	}
	int64_t fan_in = in->shape.dims[0];
	n->wshape = (Shape){2, {n->units, fan_in}};
	n->bshape = n->use_bias ? (Shape){1, {n->units}} : (Shape){0, {0}};
	int64_t w;
	if (!mul_ok(n->units, fan_in, &w) ||
	    w + (n->use_bias ? n->units : 0) > IR_MAX_ELEMS) {
		diag_error(C->d, n->loc, "layer '%s' has too many parameters: a "
		           "weight of %" PRId64 " x %" PRId64 " (limit %" PRId64
		           " per layer)", n->name, n->units, fan_in, IR_MAX_ELEMS);
		return UNKNOWN;
	}
	n->nparams = w + (n->use_bias ? n->units : 0);
	return (Shape){1, {n->units}};
}

/* Reports that merge n's inputs a and b do not fit. */
static void merge_mismatch(Check *C, const IrNode *n, const char *need,
                           const IrNode *a, const IrNode *b)
{
	diag_error(C->d, n->loc, "%s needs %s, but '%s' is %s and '%s' is %s",
	           op_names[n->op], need, ir_node_label(a), str(C, a->shape),
	           ir_node_label(b), str(C, b->shape));
	note_made(C, a);
	note_made(C, b);
}

static Shape infer_add(Check *C, IrNode *n)
{
	const IrNode *first = n->inputs[0];
	for (int i = 1; i < n->ninputs; i++)
		if (!shape_equal(first->shape, n->inputs[i]->shape)) {
			merge_mismatch(C, n, "tensors of the same shape", first,
			               n->inputs[i]);
			return UNKNOWN;
		}
	return first->shape;
}

static Shape infer_concat(Check *C, IrNode *n)
{
	const IrNode *first = n->inputs[0];
	Shape out = first->shape;
	int last = out.rank - 1;
	for (int i = 1; i < n->ninputs; i++) {
		const IrNode *in = n->inputs[i];
		if (in->shape.rank != out.rank) {
			merge_mismatch(C, n, "tensors of the same rank", first, in);
			return UNKNOWN;
		}
		for (int k = 0; k < last; k++)
			if (in->shape.dims[k] != out.dims[k]) {
				merge_mismatch(C, n, "tensors that differ only in their "
				               "last dimension", first, in);
				return UNKNOWN;
			}
		/* Each dim is at most IR_MAX_ELEMS: the sum cannot overflow. */
		out.dims[last] += in->shape.dims[last];
	}
	return out;
}

/* The output shape of n from its inputs' shapes: the one place that
 * describes each op's shape rule. */
static Shape infer(Check *C, IrNode *n)
{
	if (n->error)
		return UNKNOWN;
	for (int i = 0; i < n->ninputs; i++)
		if (n->inputs[i]->shape.rank < 0)
			return UNKNOWN;
	if (n->op != OP_INPUT && n->ninputs == 0)
		return UNKNOWN;
	switch (n->op) {
	case OP_INPUT:
		return n->shape;           /* declared, set by lower_file */
	case OP_DENSE:
		return infer_dense(C, n);
	case OP_ACT:                   /* softmax too: over the last axis */
	case OP_DROPOUT:
		return n->inputs[0]->shape;
	case OP_FLATTEN:
		return (Shape){1, {shape_size(n->inputs[0]->shape)}};
	case OP_ADD:
		return infer_add(C, n);
	case OP_CONCAT:
		return infer_concat(C, n);
	case OP_COUNT:
		break;
	}
	DIE("bad op %d", (int)n->op);
}

static void shape_node(Check *C, IrNode *n)
{
	n->shape = infer(C, n);
	if (n->shape.rank >= 0 && elems(n->shape) < 0) {
		diag_error(C->d, n->loc, "tensor '%s' of shape %s is too large "
		           "(more than %" PRId64 " elements)", ir_node_label(n),
		           str(C, n->shape), IR_MAX_ELEMS);
		n->shape = UNKNOWN;
	}
}

/* ---- sizes -------------------------------------------------------------- */

/* All parameters, and one batch of the largest tensor, must fit the limit
 * too: the generated code sizes its buffers statically. */
static void check_totals(Check *C)
{
	IrModel *m = C->m;
	const IrNode *big = NULL;
	for (int i = 0; i < m->nnodes; i++) {
		const IrNode *n = m->nodes[i];
		m->total_params += n->nparams;       /* each <= IR_MAX_ELEMS */
		if (n->shape.rank >= 0 &&
		    (!big || shape_size(n->shape) > shape_size(big->shape)))
			big = n;
	}
	if (m->total_params > IR_MAX_ELEMS)
		diag_error(C->d, m->loc, "model '%s' has too many parameters: "
		           "%" PRId64 " (limit %" PRId64 ")", m->name,
		           m->total_params, IR_MAX_ELEMS);
	int64_t batch_elems;
	if (big && (!mul_ok(m->train.batch, shape_size(big->shape), &batch_elems)
	            || batch_elems > IR_MAX_ELEMS))
		diag_error(C->d, big->loc, "a batch of %" PRId64 " examples of '%s' "
		           "%s is too large (more than %" PRId64 " elements); lower "
		           "'batch'", m->train.batch, ir_node_label(big),
		           str(C, big->shape), IR_MAX_ELEMS);
}

/* ---- loss and metrics --------------------------------------------------- */

static bool has_act(const IrNode *n, ActKind k)
{
	return (n->op == OP_DENSE || n->op == OP_ACT) && n->act.kind == k;
}

/* "has activation relu" / "is the input" / "is a dropout layer" */
static const char *describe(Check *C, const IrNode *o)
{
	if (o->op == OP_DENSE || o->op == OP_ACT)
		return arena_printf(C->a, "has activation %s", act_name(o->act));
	if (o->op == OP_INPUT)
		return "is the input";
	return arena_printf(C->a, "is a %s layer", op_names[o->op]);
}

static void note_output(Check *C, const IrNode *o)
{
	if (o->op == OP_DENSE || o->op == OP_ACT)
		diag_note(C->d, o->loc, "the output '%s' is %s with activation %s, "
		          "made here", ir_node_label(o), str(C, o->shape),
		          act_name(o->act));
	else
		diag_note(C->d, o->loc, "the output '%s' is %s, made here",
		          ir_node_label(o), str(C, o->shape));
}

static void check_loss(Check *C)
{
	const Training *t = &C->m->train;
	const IrNode *o = C->m->output;
	if (t->loss == LOSS_NONE || t->loss == LOSS_MSE || t->loss == LOSS_MAE ||
	    !o || o->shape.rank < 0)
		return;
	const char *loss = loss_names[t->loss];
	bool binary = t->loss == LOSS_BCE;
	ActKind want = binary ? ACT_SIGMOID : ACT_SOFTMAX;
	if (!has_act(o, want)) {
		diag_error(C->d, t->loss_loc, "%s needs a %s output, but the output "
		           "'%s' %s", loss, act_names[want], ir_node_label(o),
		           describe(C, o));
		note_output(C, o);
		if (!binary && has_act(o, ACT_SIGMOID) && shape_size(o->shape) == 1)
			diag_note(C->d, NOLOC, "for two classes with one sigmoid unit, "
			          "use 'loss binary_crossentropy'");
		if (binary && has_act(o, ACT_SOFTMAX))
			diag_note(C->d, NOLOC, "for a softmax output, use "
			          "'loss categorical_crossentropy' or "
			          "'loss sparse_categorical_crossentropy'");
		return;
	}
	if (o->shape.rank != 1) {
		diag_error(C->d, t->loss_loc, "%s needs a vector output, but the "
		           "output '%s' is %s", loss, ir_node_label(o),
		           str(C, o->shape));
		note_output(C, o);
		return;
	}
	if (!binary && o->shape.dims[0] < 2) {
		diag_error(C->d, t->loss_loc, "%s needs at least 2 output units, "
		           "but the output is %s", loss, str(C, o->shape));
		note_output(C, o);
		diag_note(C->d, NOLOC, "for two classes, use dense(1, sigmoid) with "
		          "'loss binary_crossentropy'");
	}
}

static void check_metrics(Check *C)
{
	const Training *t = &C->m->train;
	const Loc *first = NULL;
	for (int i = 0; i < METRIC_COUNT; i++) {
		const Loc *l = &t->metric_loc[i];
		if (t->metrics[i] && (!first || l->first_line < first->first_line ||
		                      (l->first_line == first->first_line &&
		                       l->first_column < first->first_column)))
			first = l;
	}
	if (!first)
		return;
	if (t->loss == LOSS_NONE) {
		/* A loss_loc without a loss: the loss setting was wrong, and
		 * that error was enough.  In an incomplete model the loss may
		 * be a statement the parser dropped. */
		if (!t->loss_loc.first_line && !C->m->incomplete)
			diag_error(C->d, *first, "metrics need a loss");
		return;
	}
	bool classify = t->loss == LOSS_BCE || t->loss == LOSS_CCE ||
	                t->loss == LOSS_SCCE;
	if (t->metrics[METRIC_ACCURACY] && !classify) {
		diag_error(C->d, t->metric_loc[METRIC_ACCURACY], "accuracy needs a "
		           "classification loss, but the loss is %s",
		           loss_names[t->loss]);
		diag_note(C->d, t->loss_loc, "the loss is set here");
	}
}

/* ---- reachability ------------------------------------------------------- */

static void mark_reached(IrModel *m)
{
	if (!m->output)
		return;
	m->output->reaches_output = true;
	for (int i = m->nnodes - 1; i >= 0; i--) {
		IrNode *n = m->nodes[i];
		if (!n->reaches_output)
			continue;
		for (int k = 0; k < n->ninputs; k++)
			n->inputs[k]->reaches_output = true;
	}
}

/* Warns once per dead end: a node that reaches neither the output nor any
 * other node.  (Nodes feeding only dead ends are dead too, but saying so
 * again for each would bury the one place to fix.) */
static void warn_unused(Check *C)
{
	IrModel *m = C->m;
	bool *used = arena_array(C->a, (size_t)m->nnodes + 1, sizeof *used);
	for (int i = 0; i < m->nnodes; i++)
		for (int k = 0; k < m->nodes[i]->ninputs; k++)
			used[m->nodes[i]->inputs[k]->id] = true;
	const char *out = ir_node_label(m->output);
	for (int i = 0; i < m->nnodes; i++) {
		const IrNode *n = m->nodes[i];
		if (n->reaches_output || used[i])
			continue;
		if (n->op == OP_INPUT)
			diag_warning(C->d, n->tensor_loc, "input '%s' is never used: it "
			             "does not reach the output '%s'", n->name, out);
		else if (n->tensor)
			diag_warning(C->d, n->tensor_loc, "tensor '%s' is never used: it "
			             "does not reach the output '%s'", n->tensor, out);
		else
			diag_warning(C->d, n->loc, "layer '%s' is never used: it does "
			             "not reach the output '%s'", n->name, out);
	}
}

/* ---- the pass ----------------------------------------------------------- */

static void check_model(Check *C)
{
	IrModel *m = C->m;
	int errors = C->d->nerrors;
	for (int i = 0; i < m->nnodes; i++)
		shape_node(C, m->nodes[i]);
	check_totals(C);
	check_loss(C);
	check_metrics(C);
	mark_reached(m);
	if (C->d->nerrors != errors)
		m->ok = false;
	/* In a model with errors, an unused tensor is most likely a
	 * consequence of them: stay quiet.  (An incomplete model always had
	 * a syntax error, so it is never ok; said again for clarity.) */
	if (m->ok && !m->incomplete && m->output)
		warn_unused(C);
}

void shape_check(Arena *a, IrProgram *p, Diag *d)
{
	for (int i = 0; i < p->nmodels; i++) {
		Check C = {a, d, p->models[i]};
		check_model(&C);
	}
}

/*
 * plan.c — the memory plan of one model, for the C back end.
 *
 * A pass over the checked IR that decides, before any C is printed, where
 * every value the generated code touches lives and who writes it first:
 *
 *   - which nodes run at all (those that reach the output), and which need
 *     the gradient of their output (those with parameters upstream);
 *   - views: flatten and a linear activation layer compute nothing and
 *     share their input's buffers (their "root");
 *   - offsets of each dense layer's weight and bias in the parameter block
 *     (layer order, weight then bias), and of each batch buffer in the
 *     activation block (outputs, saved pre-activations and dropout masks
 *     first, then the gradients of outputs);
 *   - for each gradient a layer's backward writes into one of its inputs,
 *     whether it is the first write of that buffer in backward order (then
 *     it assigns) or a later one (then it adds).  The loss is the first
 *     writer of the output's gradient.  So no activation gradient needs to
 *     be zeroed.
 *
 * The emitter reads the plan and makes no decision of its own about memory.
 */
#include "nnc.h"

/* Flatten reshapes and a linear activation is the identity: neither needs
 * a buffer of its own, forward or backward. */
static bool is_view(const IrNode *n)
{
	return n->op == OP_FLATTEN ||
	       (n->op == OP_ACT && n->act.kind == ACT_LINEAR);
}

/* Activations whose derivative needs the pre-activation z: the others
 * (linear, sigmoid, tanh, relu, softmax) get it exactly from the output. */
bool plan_act_needs_z(Activation act)
{
	return act.kind == ACT_SIN || act.kind == ACT_COS ||
	       act.kind == ACT_CUSTOM;
}

/* The output's activation and the loss are computed together from the
 * logits: softmax with either categorical crossentropy, sigmoid with binary
 * crossentropy.  The front end accepts crossentropy only on such outputs. */
static bool loss_fuses(const IrModel *m)
{
	const IrNode *o = m->output;
	if (o->op != OP_DENSE && o->op != OP_ACT)
		return false;
	switch (m->train.loss) {
	case LOSS_CCE:
	case LOSS_SCCE:
		return o->act.kind == ACT_SOFTMAX;
	case LOSS_BCE:
		return o->act.kind == ACT_SIGMOID;
	default:
		return false;
	}
}

Plan *plan_model(Arena *a, const IrModel *m, int64_t unroll_limit)
{
	ASSERT(m->ok && m->nnodes > 0 && m->input && m->output);
	Plan *p = arena_alloc(a, sizeof *p);
	p->model = m;
	p->training = m->train.loss != LOSS_NONE;
	p->fused = p->training && loss_fuses(m);
	if (p->training && !p->fused)
		ASSERT(m->train.loss == LOSS_MSE || m->train.loss == LOSS_MAE);
	p->batch = m->train.batch;
	p->nodes = arena_array(a, (size_t)m->nnodes, sizeof *p->nodes);

	/* Roots, liveness, gradients and parameters, in topological order. */
	for (int i = 0; i < m->nnodes; i++) {
		const IrNode *n = m->nodes[i];
		NodePlan *np = &p->nodes[i];
		ASSERT(n->id == i && n->shape.rank >= 1);
		ASSERT((n->op == OP_INPUT) == (n == m->input));
		np->node = n;
		np->live = n->reaches_output;
		np->view = is_view(n);
		np->root = n;
		np->weight = np->bias = -1;
		np->y = np->z = np->mask = np->dy = -1;
		np->dx_assign = arena_array(a, (size_t)n->ninputs + 1,
		                            sizeof *np->dx_assign);
		bool upstream = n->op == OP_DENSE;
		for (int k = 0; k < n->ninputs; k++) {
			const NodePlan *in = &p->nodes[n->inputs[k]->id];
			ASSERT(n->inputs[k]->id < i);
			ASSERT(!np->live || in->live);
			upstream = upstream || in->grad_flows;
		}
		if (np->view) {
			ASSERT(n->ninputs == 1);
			np->root = p->nodes[n->inputs[0]->id].root;
		}
		np->grad_flows = upstream;
		np->grad = p->training && np->live && upstream;
		if (n->op == OP_DENSE) {
			ASSERT(n->ninputs == 1 && n->inputs[0]->shape.rank == 1);
			ASSERT(n->shape.rank == 1 && n->shape.dims[0] == n->units);
			int64_t in = n->inputs[0]->shape.dims[0];
			ASSERT(n->nparams == in * n->units +
			                     (n->use_bias ? n->units : 0));
			np->unrolled = in * n->units <= unroll_limit;
			np->weight = p->nparams;
			p->nparams += in * n->units;
			if (n->use_bias) {
				np->bias = p->nparams;
				p->nparams += n->units;
			}
		} else {
			ASSERT(n->nparams == 0);
		}
	}
	ASSERT(p->nparams == m->total_params);
	NodePlan *out = &p->nodes[m->output->id];
	ASSERT(out->live);
	out->fused = p->fused;
	/* The output must live in the model, where predict and the loss find
	 * it: an output that is the input, or a view of it, gets a copy. */
	if (out->root == m->input) {
		out->view = false;
		out->root = out->node;
	}
	p->backward = out->grad;

	/* Forward buffers: one per computed, non-view node. */
	for (int i = 0; i < m->nnodes; i++) {
		NodePlan *np = &p->nodes[i];
		const IrNode *n = np->node;
		int64_t size = p->batch * shape_size(n->shape);
		if (!np->live || np->view || np->root != n ||
		    (n->op == OP_INPUT && n != m->output))
			continue;
		if (n->op == OP_DENSE && p->training &&
		    (plan_act_needs_z(n->act) || np->fused)) {
			np->z = p->nacts;
			p->nacts += size;
		}
		np->y = p->nacts;
		p->nacts += size;
		if (n->op == OP_DROPOUT && p->training) {
			np->mask = p->nacts;
			p->nacts += size;
		}
	}
	/* Gradient buffers, after all forward ones. */
	for (int i = 0; i < m->nnodes; i++) {
		NodePlan *np = &p->nodes[i];
		if (np->grad && !np->view) {
			np->dy = p->nacts;
			p->nacts += p->batch * shape_size(np->node->shape);
		}
	}
	for (int i = 0; i < m->nnodes; i++) {
		NodePlan *np = &p->nodes[i];
		if (np->grad)
			ASSERT(p->nodes[np->root->id].dy >= 0);
	}

	/* Write order of activation gradients, in backward order. */
	bool *written = arena_array(a, (size_t)m->nnodes, sizeof *written);
	if (out->grad)
		written[out->root->id] = true;        /* the loss writes it */
	for (int i = m->nnodes - 1; i >= 0; i--) {
		NodePlan *np = &p->nodes[i];
		const IrNode *n = np->node;
		if (!np->live || np->view || !np->grad)
			continue;
		for (int k = 0; k < n->ninputs; k++) {
			const NodePlan *in = &p->nodes[n->inputs[k]->id];
			if (!in->grad)
				continue;
			np->dx_assign[k] = !written[in->root->id];
			written[in->root->id] = true;
		}
	}

	/* Optimizer state: how many blocks of nparams values. */
	const Optimizer *o = &m->train.opt;
	if (p->training) {
		switch (o->kind) {
		case OPT_SGD:     p->nslots = o->momentum > 0; break;
		case OPT_ADAM:    p->nslots = 2; break;
		case OPT_RMSPROP: p->nslots = o->momentum > 0 ? 2 : 1; break;
		case OPT_ADAGRAD: p->nslots = 1; break;
		default:          DIE("unknown optimizer %d", (int)o->kind);
		}
	}
	p->target_size = m->train.loss == LOSS_SCCE
	                 ? 1 : shape_size(m->output->shape);
	for (int k = 0; k < METRIC_COUNT; k++)
		p->nmetrics += p->training && m->train.metrics[k];
	return p;
}

/*
 * emit_infer.c — the inference-only back end: one model's forward pass as a
 * standalone NAME.h and NAME.c (nnc build --infer-only).
 *
 * The pair is meant to be dropped into another program: no allocation, no
 * library of ours, nothing but the C library's math functions (and CBLAS for
 * large dense layers unless --no-blas).  Parameters are static arrays, baked
 * in as `static const` initializers with --weights, else filled by a small
 * safetensors reader printed into the file.  Activations live in one scratch
 * block, static or the caller's (--scratch caller), sized for --max-batch
 * rows and shared between tensors that are never live at the same time.
 *
 * Three parts, in the order they run:
 *   - the memory plan: which nodes run (dropout is the identity, so a view),
 *     the liveness interval of each tensor over the forward order, and byte
 *     offsets in the scratch block chosen greedily under the liveness bound;
 *   - reading --weights with the runtime's safetensors loader;
 *   - printing, through emit.c's printer and its op emitters, so that every
 *     layer computes exactly what the training build computes.  Dense layers
 *     above the unroll limit are this file's own: a cblas_?gemm call, or with
 *     --no-blas loops that add the products in the order of the runtime's
 *     plain GEMM (from k = 0 up, bias last), which makes the two builds'
 *     predictions bit-identical.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnc.h"
#include "nnrt.h"

/* ---- the memory plan ---------------------------------------------------- */

/* One tensor in the scratch block. */
typedef struct Slot {
	const IrNode *node;        /* the root that computes it */
	int64_t size;              /* elements: max_batch rows */
	int first, last;           /* steps: computed, last read */
	int64_t offset;            /* elements from the start of the block */
} Slot;

typedef struct InferPlan {
	Plan *p;                   /* plan_model's, made an inference plan */
	int *step;                 /* per node: its step (1-based) in the
	                              forward order, or 0: no code */
	int nsteps;
	Slot *slots;               /* in step order */
	int nslots;
	int *slot_of;              /* per node: its slot, or -1 */
	int64_t scratch;           /* elements of the scratch block */
	int64_t bound;             /* most elements live at one step: no
	                              placement can do with less */
	int64_t sum;               /* elements if each tensor computed had a
	                              buffer of its own, as in the training
	                              build (the output included) */
	const char *strategy;      /* which placement won, for the comment */
	int64_t kept;              /* parameters of the layers that run: the
	                              others' are not kept */
} InferPlan;

/* A node that computes nothing at inference: flatten and a linear
 * activation (as in plan.c) and dropout, which is the identity. */
static bool infer_view(const IrNode *n)
{
	return n->op == OP_FLATTEN || n->op == OP_DROPOUT ||
	       (n->op == OP_ACT && n->act.kind == ACT_LINEAR);
}

/* Whether two tensors are live at the same step, so need disjoint bytes. */
static bool live_together(const Slot *a, const Slot *b)
{
	return a->first <= b->last && b->first <= a->last;
}

/* Places the slots, in the order given, each at an offset that no slot live
 * at the same time and already placed uses: the lowest such offset, or with
 * alternate (every other slot of the order) the highest one that stays
 * within bound.  For a chain this puts neighbours at opposite ends of the
 * block, so the block is exactly the largest pair.  A slot that does not fit
 * within bound goes to the lowest free offset above.  Returns the block's
 * size; offsets in s[].offset. */
static int64_t place(Arena *a, Slot *s, const int *order, int n,
                     int64_t bound, bool alternate)
{
	const Slot **near = arena_array(a, (size_t)n + 1, sizeof *near);
	int64_t top = 0;
	for (int oi = 0; oi < n; oi++) {
		Slot *x = &s[order[oi]];
		bool high = alternate && oi % 2 == 1;
		int nnear = 0;         /* the placed slots live with x */
		for (int pi = 0; pi < oi; pi++)
			if (live_together(x, &s[order[pi]]))
				near[nnear++] = &s[order[pi]];
		/* Candidates: either end of the bound, and either side of each
		 * slot live with x. */
		int64_t best = -1, lowest = -1;
		for (int c = -2; c < 2 * nnear; c++) {
			int64_t off = c == -2 ? 0 : c == -1 ? bound - x->size
			              : c % 2 ? near[c / 2]->offset - x->size
			              : near[c / 2]->offset + near[c / 2]->size;
			bool free_here = off >= 0;
			for (int k = 0; k < nnear && free_here; k++)
				free_here = off + x->size <= near[k]->offset ||
				            near[k]->offset + near[k]->size <= off;
			if (!free_here)
				continue;
			if (lowest < 0 || off < lowest)
				lowest = off;
			if (off + x->size <= bound &&
			    (best < 0 || (high ? off > best : off < best)))
				best = off;
		}
		ASSERT(lowest >= 0);
		x->offset = best >= 0 ? best : lowest;
		if (x->offset + x->size > top)
			top = x->offset + x->size;
	}
	return top;
}

static InferPlan *plan_infer(Arena *a, const IrModel *m, int64_t max_batch,
                             int64_t unroll_limit)
{
	InferPlan *ip = arena_alloc(a, sizeof *ip);
	const Plan *tp = plan_model(a, m, unroll_limit);
	Plan *p = arena_alloc(a, sizeof *p);
	*p = *tp;
	p->nodes = arena_array(a, (size_t)m->nnodes, sizeof *p->nodes);
	memcpy(p->nodes, tp->nodes, sizeof *p->nodes * (size_t)m->nnodes);
	p->training = p->fused = p->backward = false;
	p->batch = max_batch;
	p->nslots = p->nmetrics = 0;
	p->nacts = 0;
	ip->p = p;

	/* Roots again, with dropout a view; then plan.c's rule that an output
	 * which is the input, or a view of it, is a copy. */
	for (int i = 0; i < m->nnodes; i++) {
		NodePlan *np = &p->nodes[i];
		const IrNode *n = np->node;
		np->z = np->mask = np->dy = -1;
		np->y = -1;
		np->grad = np->fused = false;
		np->view = infer_view(n);
		np->root = np->view ? p->nodes[n->inputs[0]->id].root : n;
	}
	NodePlan *out = &p->nodes[m->output->id];
	if (out->root == m->input) {
		out->view = false;
		out->root = out->node;
	}
	out = &p->nodes[out->root->id];    /* what writes into y */

	for (int i = 0; i < m->nnodes; i++)
		if (p->nodes[i].live)
			ip->kept += m->nodes[i]->nparams;

	/* Steps and slots, in forward order. */
	ip->step = arena_array(a, (size_t)m->nnodes, sizeof *ip->step);
	ip->slot_of = arena_array(a, (size_t)m->nnodes, sizeof *ip->slot_of);
	ip->slots = arena_array(a, (size_t)m->nnodes, sizeof *ip->slots);
	for (int i = 0; i < m->nnodes; i++) {
		NodePlan *np = &p->nodes[i];
		const IrNode *n = np->node;
		ip->slot_of[i] = -1;
		if (!np->live || np->view || (n->op == OP_INPUT && np != out))
			continue;
		ip->step[i] = ++ip->nsteps;
		np->y = 0;             /* computed: emit_y_of names it */
		ip->sum += max_batch * shape_size(n->shape);
		if (np == out)
			continue;          /* written into the caller's y */
		Slot *s = &ip->slots[ip->nslots];
		s->node = n;
		s->size = max_batch * shape_size(n->shape);
		s->first = s->last = ip->step[i];
		ip->slot_of[i] = ip->nslots++;
	}
	/* A tensor stays live until the last step that reads it, or a view
	 * of it. */
	for (int i = 0; i < m->nnodes; i++) {
		const IrNode *n = p->nodes[i].node;
		for (int k = 0; ip->step[i] && k < n->ninputs; k++) {
			int r = ip->slot_of[p->nodes[n->inputs[k]->id].root->id];
			if (r >= 0 && ip->slots[r].last < ip->step[i])
				ip->slots[r].last = ip->step[i];
		}
	}
	for (int t = 1; t <= ip->nsteps; t++) {
		int64_t live = 0;
		for (int k = 0; k < ip->nslots; k++)
			if (ip->slots[k].first <= t && t <= ip->slots[k].last)
				live += ip->slots[k].size;
		if (live > ip->bound)
			ip->bound = live;
	}

	/* Two greedy placements; the smaller block wins (the first on a tie). */
	int n = ip->nslots;
	int *order = arena_array(a, (size_t)n + 1, sizeof *order);
	int64_t *first = arena_array(a, (size_t)n + 1, sizeof *first);
	for (int k = 0; k < n; k++)
		order[k] = k;
	ip->scratch = place(a, ip->slots, order, n, ip->bound, true);
	ip->strategy = "forward order, alternating ends";
	for (int k = 0; k < n; k++)
		first[k] = ip->slots[k].offset;
	if (ip->scratch > ip->bound) {
		/* Largest first; equal sizes in forward order (a stable sort). */
		for (int k = 1; k < n; k++)
			for (int j = k; j > 0 && ip->slots[order[j - 1]].size <
			                         ip->slots[order[j]].size; j--) {
				int t = order[j];
				order[j] = order[j - 1];
				order[j - 1] = t;
			}
		int64_t size = place(a, ip->slots, order, n, ip->bound, false);
		if (size < ip->scratch) {
			ip->scratch = size;
			ip->strategy = "largest first, lowest offset";
		} else {
			for (int k = 0; k < n; k++)
				ip->slots[k].offset = first[k];
		}
	}
	/* The invariant everything rests on. */
	for (int x = 0; x < n; x++)
		for (int y = x + 1; y < n; y++) {
			const Slot *u = &ip->slots[x], *v = &ip->slots[y];
			ASSERT(!live_together(u, v) || u->offset + u->size <= v->offset ||
			       v->offset + v->size <= u->offset);
		}
	ASSERT(ip->scratch >= ip->bound && ip->scratch <= ip->sum);
	return ip;
}

/* ---- --weights ---------------------------------------------------------- */

/* The tensors of a weights file, as NAME_save writes them: per dense layer
 * its weight [out, in] and bias [out], pointing into block, the parameter
 * block of plan p (elem-byte values).  t needs room for 2 per node. */
static int weight_table(Arena *a, const Plan *p, nnrt_dtype dt, size_t elem,
                        void *block, nnrt_tensor *t)
{
	const IrModel *m = p->model;
	int count = 0;
	for (int i = 0; i < m->nnodes; i++) {
		const NodePlan *np = &p->nodes[i];
		const IrNode *n = np->node;
		if (n->op != OP_DENSE)
			continue;
		t[count++] = (nnrt_tensor){
			.name = arena_printf(a, "%s.weight", n->name),
			.dtype = dt, .rank = 2,
			.shape = {n->wshape.dims[0], n->wshape.dims[1]},
			.data = (char *)block + (size_t)np->weight * elem,
		};
		if (n->use_bias)
			t[count++] = (nnrt_tensor){
				.name = arena_printf(a, "%s.bias", n->name),
				.dtype = dt, .rank = 1, .shape = {n->bshape.dims[0]},
				.data = (char *)block + (size_t)np->bias * elem,
			};
	}
	return count;
}

/* Whether path is a checkpoint of the model (nnc train's, with the
 * optimizer's state after the weights): then its weights go into block. */
static bool read_checkpoint(Arena *a, const Plan *p, const char *path,
                            nnrt_dtype dt, size_t elem, void *block)
{
	if (!p->training)
		return false;
	nnrt_tensor *t = arena_array(a, (size_t)p->model->nnodes * 2 + 4,
	                             sizeof *t);
	int count = weight_table(a, p, dt, elem, block, t);
	if (p->nslots > 0 && p->nparams > 0)
		t[count++] = (nnrt_tensor){
			.name = "optimizer.state", .dtype = dt, .rank = 1,
			.shape = {p->nslots * p->nparams},
			.data = arena_array(a, (size_t)(p->nslots * p->nparams), elem),
		};
	double *counts = arena_array(a, 6, sizeof *counts);
	t[count++] = (nnrt_tensor){"optimizer.step", NNRT_F64, 1, {1}, counts};
	t[count++] = (nnrt_tensor){"dropout.rng", NNRT_F64, 1, {4}, counts + 1};
	t[count++] = (nnrt_tensor){"epoch", NNRT_F64, 1, {1}, counts + 5};
	return nnrt_load_safetensors(path, t, (size_t)count, NULL, 0) == 0;
}

bool emit_infer_read_weights(Arena *a, const IrModel *m, bool f64,
                             const char *path, double **values, char *err,
                             size_t errlen)
{
	const Plan *p = plan_model(a, m, 0);
	nnrt_dtype dt = f64 ? NNRT_F64 : NNRT_F32;
	size_t elem = f64 ? sizeof(double) : sizeof(float);
	size_t count1 = (size_t)(p->nparams > 0 ? p->nparams : 1);
	void *block = arena_array(a, count1, elem);
	nnrt_tensor *t = arena_array(a, (size_t)m->nnodes * 2 + 1, sizeof *t);
	int count = weight_table(a, p, dt, elem, block, t);
	if (nnrt_load_safetensors(path, t, (size_t)count, err, errlen) != 0 &&
	    !read_checkpoint(a, p, path, dt, elem, block))
		return false;          /* the message of the weights-only reading */
	double *v = arena_array(a, count1, sizeof *v);
	for (int64_t i = 0; i < p->nparams; i++)
		v[i] = f64 ? ((double *)block)[i] : ((float *)block)[i];
	/* A NaN has no C literal, and a model holding one predicts nothing. */
	for (int k = 0; k < count; k++) {
		int64_t first = ((char *)t[k].data - (char *)block) / (int64_t)elem;
		int64_t size = t[k].shape[0] * (t[k].rank > 1 ? t[k].shape[1] : 1);
		for (int64_t i = 0; i < size; i++)
			if (isnan(v[first + i])) {
				snprintf(err, errlen, "%s: tensor '%s' holds NaN (element %"
				         PRId64 "); the weights are not usable", path,
				         t[k].name, i);
				return false;
			}
	}
	*values = v;
	return true;
}

int64_t emit_infer_max_batch(const IrModel *m)
{
	int64_t largest = 1;
	for (int i = 0; i < m->nnodes; i++)
		if (shape_size(m->nodes[i]->shape) > largest)
			largest = shape_size(m->nodes[i]->shape);
	return IR_MAX_ELEMS / largest;
}

/* ---- printing ----------------------------------------------------------- */

typedef struct Deploy {
	Emitter E;                 /* E.p is ip->p, E.infer is true */
	const InferPlan *ip;
	const InferOptions *io;
	int64_t elem;              /* sizeof the real type */
} Deploy;

static int64_t size_of(const IrNode *n)
{
	return shape_size(n->shape);
}

/* Whether dense layer n is printed here rather than by emit_forward_op. */
static bool own_dense(const Deploy *d, const IrNode *n)
{
	return n->op == OP_DENSE && !d->ip->p->nodes[n->id].unrolled;
}

/* Whether the array of n's weight holds W transposed, [in, out]: the
 * layout of the --no-blas loops. */
static bool transposed(const Deploy *d, const IrNode *n)
{
	return d->io->no_blas && own_dense(d, n);
}

static const char *bytes_range(Deploy *d, const Slot *s)
{
	return emit_fmt(&d->E, "[%" PRId64 ", %" PRId64 ")", s->offset * d->elem,
	                (s->offset + s->size) * d->elem);
}

/* "T NAME[n] = {" ... "};" or "T NAME[n];": one parameter array. */
static void emit_param_array(Deploy *d, const IrNode *n, const char *which,
                             int64_t first, int64_t size, const char *shape)
{
	Emitter *E = &d->E;
	const char *decl = emit_fmt(E, "static %s%s %s[%" PRId64 "]",
	                            d->io->weights ? "const " : "", E->T,
	                            emit_param_of(E, n, which), size);
	emit_line(E, "/* %s */", shape);
	if (!d->io->weights) {
		emit_line(E, "%s;", decl);
		return;
	}
	emit_open(E, "%s =", decl);
	const double *v = d->io->weights + first;
	bool t = !strcmp(which, "weight") && transposed(d, n);
	int64_t in = t ? size_of(n->inputs[0]) : 0, units = n->units;
	EmitBuf line = {0};
	for (int64_t e = 0; e < size; e++) {
		/* Element e of the array; transposed, it is W[j][k] for e = k, j. */
		double x = t ? v[e % units * in + e / units] : v[e];
		const char *s = emit_fmt(E, "%s,", emit_lit(E, x));
		if (line.len > 0 && 4 + line.len + 1 + strlen(s) > 80) {
			emit_line(E, "%s", line.s);
			line.len = 0;
			line.s[0] = '\0';
		}
		if (line.len > 0)
			emit_buf_puts(&line, " ");
		emit_buf_puts(&line, s);
	}
	if (line.len > 0)
		emit_line(E, "%s", line.s);
	emit_buf_free(&line);
	emit_line(E, "};");
}

static void emit_params(Deploy *d)
{
	Emitter *E = &d->E;
	const Plan *p = d->ip->p;
	const IrModel *m = E->m;
	if (d->ip->kept == 0)
		return;
	emit_line(E, "/* ---- the parameters (%s_PARAM_BYTES bytes)%s ---- */",
	          E->U, d->io->weights ? "" : ": zero until loaded");
	for (int i = 0; i < m->nnodes; i++) {
		const NodePlan *np = &p->nodes[i];
		const IrNode *n = np->node;
		if (n->op != OP_DENSE || !np->live)
			continue;
		emit_blank(E);
		emit_line(E, "/* %s: %s at %s */", n->name,
		          emit_comment_safe(E, emit_layer_desc(E, n)),
		          emit_where(E, n->loc));
		int64_t in = size_of(n->inputs[0]);
		emit_param_array(d, n, "weight", np->weight, in * n->units,
		                 transposed(d, n)
		                 ? emit_fmt(E, "%s.weight %s, stored transposed as "
		                            "[%" PRId64 ", %" PRId64 "]", n->name,
		                            emit_eshape(E, n->wshape), in, n->units)
		                 : emit_fmt(E, "%s.weight %s", n->name,
		                            emit_eshape(E, n->wshape)));
		if (n->use_bias)
			emit_param_array(d, n, "bias", np->bias, n->units,
			                 emit_fmt(E, "%s.bias %s", n->name,
			                          emit_eshape(E, n->bshape)));
	}
	emit_blank(E);
}

/* The comment that shows the memory plan: where each tensor lives. */
static void emit_plan_comment(Deploy *d)
{
	Emitter *E = &d->E;
	const InferPlan *ip = d->ip;
	const Plan *p = ip->p;
	const IrModel *m = E->m;
	emit_line(E, "/*");
	emit_line(E, " * The memory plan.  x and y are the caller's; every other "
	          "tensor that");
	emit_line(E, " * is computed lives in the scratch block, %s_MAX_BATCH "
	          "rows of it, at", E->U);
	emit_line(E, " * bytes that no tensor live at the same time uses.  A "
	          "tensor is live");
	emit_line(E, " * from the step that computes it to the last step that "
	          "reads it:");
	emit_line(E, " *");
	/* Columns: step, tensor, shape, live, where. */
	PtrVec cells = {0};
	for (int i = 0; i < m->nnodes; i++) {
		const NodePlan *np = &p->nodes[i];
		const IrNode *n = np->node;
		const char *step = ip->step[i] ? emit_fmt(E, "%d", ip->step[i]) : "";
		const char *live = "", *at;
		int si = ip->slot_of[i];
		if (si >= 0) {
			const Slot *s = &ip->slots[si];
			live = s->first == s->last ? emit_fmt(E, "%d", s->first)
			       : emit_fmt(E, "%d-%d", s->first, s->last);
			at = emit_fmt(E, "bytes %s", bytes_range(d, s));
		} else if (n->op == OP_INPUT && !ip->step[i]) {
			at = "x (the caller's)";
		} else if (ip->step[i]) {
			at = "y (the caller's)";
		} else if (!np->live) {
			at = "not computed: it does not reach the output";
		} else {
			const IrNode *r = np->root;
			at = emit_fmt(E, "a view of %s", r->op == OP_INPUT &&
			              !ip->step[r->id] ? "x" : r->name);
		}
		ptrvec_push(&cells, (void *)step);
		ptrvec_push(&cells, (void *)ir_node_label(n));
		ptrvec_push(&cells, (void *)emit_bshape(E, n->shape));
		ptrvec_push(&cells, (void *)live);
		ptrvec_push(&cells, (void *)at);
	}
	static const char *const head[5] = {"step", "tensor", "shape", "live",
	                                    "where"};
	size_t width[5];
	for (int c = 0; c < 5; c++) {
		width[c] = strlen(head[c]);
		for (int r = 0; r < cells.len / 5; r++) {
			size_t w = strlen(cells.items[r * 5 + c]);
			width[c] = w > width[c] ? w : width[c];
		}
	}
	for (int r = -1; r < cells.len / 5; r++) {
		EmitBuf b = {0};
		emit_buf_puts(&b, " *   ");
		for (int c = 0; c < 5; c++) {
			const char *cell = r < 0 ? head[c] : cells.items[r * 5 + c];
			if (c == 0)        /* numbers to the right */
				emit_buf_puts(&b, emit_fmt(E, "%*s  ", (int)width[c], cell));
			else if (c < 4)
				emit_buf_puts(&b, emit_fmt(E, "%-*s  ", (int)width[c], cell));
			else
				emit_buf_puts(&b, cell);
		}
		while (b.len > 0 && b.s[b.len - 1] == ' ')
			b.s[--b.len] = '\0';
		emit_line(E, "%s", emit_comment_safe(E, b.s));
		emit_buf_free(&b);
	}
	free(cells.items);
	emit_line(E, " *");
	if (ip->nslots == 0) {
		emit_line(E, " * Nothing needs scratch memory.");
	} else {
		emit_line(E, " * Scratch: %" PRId64 " bytes; the most bytes live at "
		          "one step are %" PRId64 ",", ip->scratch * d->elem,
		          ip->bound * d->elem);
		emit_line(E, " * a buffer per tensor computed (as in the training "
		          "build) would take %" PRId64, ip->sum * d->elem);
		emit_line(E, " * (placement: %s).", ip->strategy);
	}
	emit_line(E, " */");
}

/* The bias and the activation of dense layer n on row yi, after the
 * product: what the training build's GEMM path does after its GEMM. */
static void dense_epilogue(Deploy *d, const IrNode *n)
{
	Emitter *E = &d->E;
	int64_t O = n->units;
	if (n->act.kind == ACT_SOFTMAX) {
		if (n->use_bias) {
			emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", O);
			emit_line(E, "yi[j] += b[j];");
		}
		emit_softmax_row(E, "yi", "yi", O);
	} else if (n->act.kind != ACT_LINEAR) {
		emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", O);
		emit_line(E, "yi[j] = %s;", emit_act_call(E, n->act, n->use_bias
		                                          ? "yi[j] + b[j]" : "yi[j]"));
	} else if (n->use_bias) {
		emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", O);
		emit_line(E, "yi[j] += b[j];");
	}
}

/* Dense, --no-blas: y = act(x W^T + b) in loops over the stored W^T whose
 * innermost loop runs along a row of the output, which compilers
 * vectorize.  Each output adds its products from k = 0 up, starting from
 * 0, then the bias: the order of the runtime's plain GEMM (gemm.c), so the
 * result is the training build's bit for bit.  The loops are a function of
 * their own, called once: its restrict parameters tell the compiler that
 * x, y and the weights do not overlap, so that gcc vectorizes at -O2 too
 * (without a run-time overlap check).  Printed into layers; the call into
 * the forward pass. */
static void fwd_dense_loops(Deploy *d, const IrNode *n, EmitBuf *layers)
{
	Emitter *E = &d->E;
	const IrNode *in = n->inputs[0];
	int64_t I = size_of(in), O = n->units;
	const char *fn = emit_fmt(E, "%s_%s_forward", E->M, n->name);
	const char *src = emit_y_of(E, in), *dst = emit_y_of(E, n);
	emit_line(E, "%s(%s, n, %s);", fn, src, dst);

	EmitBuf *saved = E->out;
	int indent = E->indent;
	E->out = layers;
	E->indent = 0;
	emit_line(E, "/* %s */", emit_layer_title(E, n));
	emit_sig(E, emit_fmt(E, "static void %s", fn),
	         emit_fmt(E, "const %s *restrict x, int n, %s *restrict y", E->T,
	                  E->T));
	emit_brace(E);
	emit_line(E, "const %s *w = %s; /* [%" PRId64 ", %" PRId64 "]: W "
	          "transposed */", E->T, emit_param_of(E, n, "weight"), I, O);
	if (n->use_bias)
		emit_line(E, "const %s *b = %s; /* %s */", E->T,
		          emit_param_of(E, n, "bias"), emit_eshape(E, n->bshape));
	emit_open(E, "for (int i = 0; i < n; i++)");
	emit_line(E, "const %s *xi = x + i * %" PRId64 ";", E->T, I);
	emit_line(E, "%s *yi = y + i * %" PRId64 ";", E->T, O);
	emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", O);
	emit_line(E, "yi[j] = %s + xi[0] * w[j];", emit_lit(E, 0));
	/* Then the rows of W^T KSTEP at a time, each yi[j] kept in a register
	 * over them: the same additions in the same order as one row at a
	 * time (the runtime's loops), so the results are the same bits. */
	enum { KSTEP = 8 };
	if (I > KSTEP) {
		emit_line(E, "int k = 1;");
		emit_open(E, "for (; k + %d <= %" PRId64 "; k += %d)", KSTEP, I, KSTEP);
		emit_open(E, "for (int j = 0; j < %" PRId64 "; j++)", O);
		emit_line(E, "%s s = yi[j];", E->T);
		for (int t = 0; t < KSTEP; t++)
			emit_line(E, "s += xi[k + %d] * w[(k + %d) * %" PRId64 " + j];",
			          t, t, O);
		emit_line(E, "yi[j] = s;");
		emit_close(E);
		emit_close(E);
		emit_line(E, "for (; k < %" PRId64 "; k++)", I);
		emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", O);
		emit_line(E, "yi[j] += xi[k] * w[k * %" PRId64 " + j];", O);
	} else if (I > 1) {
		emit_line(E, "for (int k = 1; k < %" PRId64 "; k++)", I);
		emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", O);
		emit_line(E, "yi[j] += xi[k] * w[k * %" PRId64 " + j];", O);
	}
	dense_epilogue(d, n);
	emit_close(E);
	emit_close(E);
	emit_blank(E);
	ASSERT(E->indent == 0);
	E->out = saved;
	E->indent = indent;
}

/* Dense with BLAS: Z = X W^T, then the bias and the activation row by row.
 * The product is the call the runtime's GEMM wrapper (gemm.c) makes for the
 * same rows: cblas_?gemm, or for a single row cblas_?gemv (which skips the
 * packing of W that makes GEMM slow for one row), its output cleared first
 * so that no NaN in it survives beta == 0. */
static void fwd_dense_blas(Deploy *d, const IrNode *n)
{
	Emitter *E = &d->E;
	const IrNode *in = n->inputs[0];
	int64_t I = size_of(in), O = n->units;
	const char *x = emit_y_of(E, in), *y = emit_y_of(E, n);
	const char *w = emit_param_of(E, n, "weight");
	const char *p = E->o->f64 ? "d" : "s";
	bool one = d->ip->p->batch == 1;    /* n is always 1 */
	emit_brace(E);
	if (n->use_bias)
		emit_line(E, "const %s *b = %s; /* %s */", E->T,
		          emit_param_of(E, n, "bias"), emit_eshape(E, n->bshape));
	if (!one)
		emit_open(E, "if (n == 1)");
	emit_line(E, "for (int j = 0; j < %" PRId64 "; j++)", O);
	emit_line(E, "%s[j] = %s;", y, emit_lit(E, 0));
	PtrVec pcs = {0};
	emit_piece(E, &pcs, "cblas_%sgemv(", p);
	emit_piece(E, &pcs, "CblasRowMajor, ");
	emit_piece(E, &pcs, "CblasNoTrans, ");
	emit_piece(E, &pcs, "%" PRId64 ", %" PRId64 ", %s, ", O, I, emit_lit(E, 1));
	emit_piece(E, &pcs, "%s, %" PRId64 ", ", w, I);
	emit_piece(E, &pcs, "%s, 1, ", x);
	emit_piece(E, &pcs, "%s, ", emit_lit(E, 0));
	emit_piece(E, &pcs, "%s, 1);", y);
	emit_wrapped(E, &pcs);
	if (!one) {
		emit_raw_line(E, "} else {");
		emit_piece(E, &pcs, "cblas_%sgemm(", p);
		emit_piece(E, &pcs, "CblasRowMajor, ");
		emit_piece(E, &pcs, "CblasNoTrans, ");
		emit_piece(E, &pcs, "CblasTrans, ");
		emit_piece(E, &pcs, "n, %" PRId64 ", %" PRId64 ", %s, ", O, I,
		           emit_lit(E, 1));
		emit_piece(E, &pcs, "%s, %" PRId64 ", ", x, I);
		emit_piece(E, &pcs, "%s, %" PRId64 ", ", w, I);
		emit_piece(E, &pcs, "%s, ", emit_lit(E, 0));
		emit_piece(E, &pcs, "%s, %" PRId64 ");", y, O);
		emit_wrapped(E, &pcs);
		emit_close(E);
	}
	if (n->use_bias || n->act.kind != ACT_LINEAR) {
		emit_open(E, "for (int i = 0; i < n; i++)");
		emit_line(E, "%s *yi = %s + i * %" PRId64 ";", E->T, y, O);
		dense_epilogue(d, n);
		emit_close(E);
	}
	emit_close(E);
}

static void emit_forward(Deploy *d, EmitBuf *layers)
{
	Emitter *E = &d->E;
	const InferPlan *ip = d->ip;
	const Plan *p = ip->p;
	const IrModel *m = E->m;
	bool scratch = ip->nslots > 0;
	emit_line(E, "/* The forward pass over rows [0, n) of x into the same rows "
	          "of y,");
	emit_line(E, " * n <= %s_MAX_BATCH%s */", E->U,
	          scratch ? "; s is the scratch block." : ".");
	EmitBuf body = {0}, *saved = E->out;
	E->out = &body;
	E->used_x = false;
	E->indent++;
	for (int k = 0; k < ip->nslots; k++) {
		const Slot *s = &ip->slots[k];
		emit_line(E, "%s *%s_y = s + %" PRId64 "; /* %s, bytes %s */", E->T,
		          s->node->name, s->offset, emit_bshape(E, s->node->shape),
		          bytes_range(d, s));
	}
	for (int i = 0; i < m->nnodes; i++) {
		const NodePlan *np = &p->nodes[i];
		const IrNode *n = np->node;
		if (n->op == OP_INPUT && ip->step[i]) {
			emit_line(E, "/* %s: the input is the output: a copy */", n->name);
			emit_line(E, "for (int k = 0; k < n * %" PRId64 "; k++)",
			          size_of(n));
			emit_line(E, "y[k] = x[k];");
			E->used_x = true;
		}
		if (n->op == OP_INPUT)
			continue;
		emit_line(E, "/* %s */", emit_layer_title(E, n));
		if (!np->live) {
			emit_line(E, "/* (not computed: it does not reach the output) */");
		} else if (np->view) {
			const IrNode *r = np->root;
			emit_line(E, "/* (%sa view of %s: no code) */",
			          n->op == OP_DROPOUT ? "the identity at inference, " : "",
			          r->op == OP_INPUT && !ip->step[r->id] ? "x" : r->name);
		} else if (infer_view(n)) {
			/* The output, and a view of the input: a copy. */
			emit_line(E, "for (int k = 0; k < n * %" PRId64 "; k++)",
			          size_of(n));
			emit_line(E, "%s[k] = %s[k];", emit_y_of(E, n),
			          emit_y_of(E, n->inputs[0]));
		} else if (own_dense(d, n) && d->io->no_blas) {
			fwd_dense_loops(d, n, layers);
		} else if (own_dense(d, n)) {
			fwd_dense_blas(d, n);
		} else {
			emit_forward_op(E, np);
		}
	}
	E->indent--;
	E->out = saved;
	emit_line(E, "static void %s_forward(const %s *x, int n, %s *y%s)", E->M,
	          E->T, E->T, scratch ? emit_fmt(E, ", %s *s", E->T) : "");
	emit_brace(E);
	if (!E->used_x)
		emit_line(E, "(void)x;");
	emit_buf_puts(E->out, body.s ? body.s : "");
	emit_close(E);
	emit_blank(E);
	emit_buf_free(&body);
}

/* NAME_load and NAME_load_memory: a safetensors reader of its own, so that
 * the pair needs no JSON library, and no allocation (the file's header is
 * read into a buffer on the stack of $U_HEADER_MAX bytes). */
static void emit_loader(Deploy *d)
{
	Emitter *E = &d->E;
	const Plan *p = d->ip->p;
	const IrModel *m = E->m;
	int count = 0;
	bool any_t = false, any_dead = false;
	for (int i = 0; i < m->nnodes; i++)
		if (m->nodes[i]->op == OP_DENSE) {
			count += 1 + m->nodes[i]->use_bias;
			any_t = any_t || transposed(d, m->nodes[i]);
			any_dead = any_dead || !p->nodes[i].live;
		}
	emit_line(E, "/* ---- loading the parameters: a small safetensors reader "
	          "---- */");
	emit_blank(E);
	emit_code(E,
		"/* A tensor of the file, and the array it goes to. */\n"
		"typedef struct $M_tensor {\n"
		"const char *name;\n"
		"int rank;\n"
		"uint64_t dims[2];          /* in the file: [out, in] or [out] */\n");
	if (any_dead)
		emit_code(E,
			"$T *data;                   /* NULL: checked, not kept */\n");
	else
		emit_code(E, "$T *data;\n");
	if (any_t)
		emit_code(E, "int transposed;             /* data is [in, out] */\n");
	emit_code(E, "} $M_tensor;\n\n");
	emit_line(E, "enum { %s_NTENSORS = %d, %s_HEADER_MAX = %d };", E->U, count,
	          E->U, 4096 + 256 * count);
	emit_blank(E);
	emit_open(E, "static const %s_tensor %s_tensors[%s_NTENSORS + 1] =", E->M,
	          E->M, E->U);
	for (int i = 0; i < m->nnodes; i++) {
		const IrNode *n = p->nodes[i].node;
		bool live = p->nodes[i].live;
		if (n->op != OP_DENSE)
			continue;
		emit_line(E, "{\"%s.weight\", 2, {%" PRId64 ", %" PRId64 "}, %s%s},",
		          n->name, n->wshape.dims[0], n->wshape.dims[1],
		          live ? emit_param_of(E, n, "weight") : "NULL",
		          any_t ? (transposed(d, n) ? ", 1" : ", 0") : "");
		if (n->use_bias)
			emit_line(E, "{\"%s.bias\", 1, {%" PRId64 "}, %s%s},", n->name,
			          n->bshape.dims[0],
			          live ? emit_param_of(E, n, "bias") : "NULL",
			          any_t ? ", 0" : "");
	}
	emit_line(E, "{0}, /* the end */");
	emit_line(E, "};");
	emit_blank(E);
	emit_code(E,
		"/* Whether the n bytes at s spell z. */\n"
		"static int $M_is(const char *s, size_t n, const char *z)\n"
		"{\n"
		"size_t i = 0;\n"
		"while (i < n && z[i] && s[i] == z[i])\n"
		"i++;\n"
		"return i == n && !z[i];\n"
		"}\n"
		"\n"
		"/* Bytes of tensor t's data. */\n"
		"static uint64_t $M_bytes(int t)\n"
		"{\n"
		"uint64_t size = sizeof ($T);\n"
		"for (int k = 0; k < $M_tensors[t].rank; k++)\n"
		"size *= $M_tensors[t].dims[k];\n"
		"return size;\n"
		"}\n"
		"\n"
		"/* A cursor in the file's JSON header. */\n"
		"typedef struct $M_json {\n"
		"const char *s, *end;\n"
		"} $M_json;\n"
		"\n"
		"static void $M_ws($M_json *j)\n"
		"{\n"
		"while (j->s < j->end && (*j->s == ' ' || *j->s == '\\t' ||\n"
		"*j->s == '\\n' || *j->s == '\\r'))\n"
		"j->s++;\n"
		"}\n"
		"\n"
		"/* Consumes c, after white space, if it comes next. */\n"
		"static int $M_eat($M_json *j, char c)\n"
		"{\n"
		"$M_ws(j);\n"
		"if (j->s == j->end || *j->s != c)\n"
		"return 0;\n"
		"j->s++;\n"
		"return 1;\n"
		"}\n"
		"\n"
		"/* A string: *s and *n receive its bytes between the quotes, escapes\n"
		" * as written (the names it is compared with have none). */\n"
		"static int $M_string($M_json *j, const char **s, size_t *n)\n"
		"{\n"
		"if (!$M_eat(j, '\"'))\n"
		"return 0;\n"
		"*s = j->s;\n"
		"for (; j->s < j->end && *j->s != '\"'; j->s++)\n"
		"if (*j->s == '\\\\' && j->s + 1 < j->end)\n"
		"j->s++;\n"
		"if (j->s == j->end)\n"
		"return 0;\n"
		"*n = (size_t)(j->s - *s);\n"
		"j->s++;\n"
		"return 1;\n"
		"}\n"
		"\n"
		"/* A whole number of at most 2^53 digits only, as writers print them. */\n"
		"static int $M_uint($M_json *j, uint64_t *v)\n"
		"{\n"
		"const char *start;\n"
		"$M_ws(j);\n"
		"start = j->s;\n"
		"*v = 0;\n"
		"for (; j->s < j->end && *j->s >= '0' && *j->s <= '9'; j->s++) {\n"
		"*v = *v * 10 + (uint64_t)(*j->s - '0');\n"
		"if (*v > (uint64_t)1 << 53)\n"
		"return 0;\n"
		"}\n"
		"return j->s > start;\n"
		"}\n"
		"\n"
		"/* Skips a value of any kind (__metadata__, a field not read here),\n"
		" * nested at most 16 deep. */\n"
		"static int $M_skip($M_json *j, int depth)\n"
		"{\n"
		"const char *s;\n"
		"size_t n;\n"
		"char close;\n"
		"$M_ws(j);\n"
		"if (j->s == j->end || depth > 16)\n"
		"return 0;\n"
		"if (*j->s == '\"')\n"
		"return $M_string(j, &s, &n);\n"
		"if (*j->s != '{' && *j->s != '[') {\n"
		"/* a number, true, false or null: up to what follows it */\n"
		"s = j->s;\n"
		"while (j->s < j->end && *j->s > ' ' && *j->s != ',' &&\n"
		"*j->s != '}' && *j->s != ']')\n"
		"j->s++;\n"
		"return j->s > s;\n"
		"}\n"
		"close = *j->s == '{' ? '}' : ']';\n"
		"j->s++;\n"
		"if ($M_eat(j, close))\n"
		"return 1;\n"
		"do {\n"
		"if (close == '}' && (!$M_string(j, &s, &n) || !$M_eat(j, ':')))\n"
		"return 0;\n"
		"if (!$M_skip(j, depth + 1))\n"
		"return 0;\n"
		"} while ($M_eat(j, ','));\n"
		"return $M_eat(j, close);\n"
		"}\n"
		"\n");
	emit_code(E, d->E.o->f64
		? "/* One tensor's entry: dtype F64, the shape of tensor t, and\n"
		: "/* One tensor's entry: dtype F32, the shape of tensor t, and\n");
	emit_code(E,
		" * data_offsets within the data_len bytes of data; *begin receives the\n"
		" * first offset. */\n"
		"static int $M_entry($M_json *j, int t, uint64_t data_len,\n"
		"uint64_t *begin)\n"
		"{\n"
		"const $M_tensor *tensor = &$M_tensors[t];\n"
		"const char *key, *v;\n"
		"size_t klen, vlen;\n"
		"uint64_t end = 0, dim;\n"
		"int got = 0, k;\n"
		"if (!$M_eat(j, '{'))\n"
		"return 0;\n"
		"do {\n"
		"if (!$M_string(j, &key, &klen) || !$M_eat(j, ':'))\n"
		"return 0;\n"
		"if ($M_is(key, klen, \"dtype\")) {\n"
		"if (!$M_string(j, &v, &vlen))\n"
		"return 0;\n");
	emit_line(E, "if (!%s_is(v, vlen, \"%s\"))", E->M,
	          E->o->f64 ? "F64" : "F32");
	emit_code(E,
		"return 0;\n"
		"got |= 1;\n"
		"} else if ($M_is(key, klen, \"shape\")) {\n"
		"if (!$M_eat(j, '['))\n"
		"return 0;\n"
		"for (k = 0; !$M_eat(j, ']'); k++)\n"
		"if ((k > 0 && !$M_eat(j, ',')) || !$M_uint(j, &dim) ||\n"
		"k >= tensor->rank || dim != tensor->dims[k])\n"
		"return 0;\n"
		"if (k != tensor->rank)\n"
		"return 0;\n"
		"got |= 2;\n"
		"} else if ($M_is(key, klen, \"data_offsets\")) {\n"
		"if (!$M_eat(j, '[') || !$M_uint(j, begin) ||\n"
		"!$M_eat(j, ',') || !$M_uint(j, &end) ||\n"
		"!$M_eat(j, ']'))\n"
		"return 0;\n"
		"got |= 4;\n"
		"} else if (!$M_skip(j, 0)) {\n"
		"return 0;\n"
		"}\n"
		"} while ($M_eat(j, ','));\n"
		"if (!$M_eat(j, '}') || got != 7)\n"
		"return 0;\n"
		"return (*begin <= end && end <= data_len &&\n"
		"end - *begin == $M_bytes(t));\n"
		"}\n"
		"\n"
		"/* Checks a file's header, hlen bytes of JSON followed by data_len bytes\n"
		" * of data: every tensor of $M_tensors exactly once, nothing else, no two\n"
		" * sharing bytes.  begin[t] receives where tensor t's data starts. */\n"
		"static int $M_header(const char *h, size_t hlen, uint64_t data_len,\n"
		"uint64_t *begin)\n"
		"{\n"
		"$M_json j;\n"
		"int seen[$U_NTENSORS + 1] = {0};\n"
		"int count = 0, t, u;\n"
		"const char *key;\n"
		"size_t klen;\n"
		"j.s = h;\n"
		"j.end = h + hlen;\n"
		"if (!$M_eat(&j, '{'))\n"
		"return 0;\n"
		"if (!$M_eat(&j, '}')) {\n"
		"do {\n"
		"if (!$M_string(&j, &key, &klen) || !$M_eat(&j, ':'))\n"
		"return 0;\n"
		"if ($M_is(key, klen, \"__metadata__\")) {\n"
		"if (!$M_skip(&j, 0))\n"
		"return 0;\n"
		"continue;\n"
		"}\n"
		"t = 0;\n"
		"while (t < $U_NTENSORS &&\n"
		"!$M_is(key, klen, $M_tensors[t].name))\n"
		"t++;\n"
		"if (t == $U_NTENSORS || seen[t])\n"
		"return 0;\n"
		"if (!$M_entry(&j, t, data_len, &begin[t]))\n"
		"return 0;\n"
		"seen[t] = 1;\n"
		"count++;\n"
		"} while ($M_eat(&j, ','));\n"
		"if (!$M_eat(&j, '}'))\n"
		"return 0;\n"
		"}\n"
		"$M_ws(&j);\n"
		"if (j.s != j.end || count != $U_NTENSORS)\n"
		"return 0;\n"
		"for (t = 0; t < $U_NTENSORS; t++)\n"
		"for (u = t + 1; u < $U_NTENSORS; u++)\n"
		"if (begin[t] < begin[u] + $M_bytes(u) &&\n"
		"begin[u] < begin[t] + $M_bytes(t))\n"
		"return 0;\n"
		"return 1;\n"
		"}\n"
		"\n");
	int bytes = d->E.o->f64 ? 8 : 4;
	emit_line(E, "/* Element e of tensor t from its %d little-endian bytes at "
	          "b. */", bytes);
	emit_code(E,
		"static void $M_store(int t, uint64_t e, const unsigned char *b)\n"
		"{\n"
		"const $M_tensor *tensor = &$M_tensors[t];\n");
	emit_line(E, "union { uint%d_t u; %s f; } v;", 8 * bytes, E->T);
	if (any_dead)
		emit_code(E,
			"if (!tensor->data)\n"
			"return;\n");
	emit_line(E, "v.u = 0;");
	emit_line(E, "for (int i = %d; i >= 0; i--)", bytes - 1);
	emit_line(E, "v.u = v.u << 8 | b[i];");
	if (any_t)
		emit_code(E,
			"if (tensor->transposed) /* (r, c) of [out, in] goes to [c][r] */\n"
			"e = e % tensor->dims[1] * tensor->dims[0] + e / tensor->dims[1];\n");
	emit_code(E,
		"tensor->data[e] = v.f;\n"
		"}\n"
		"\n");
	emit_code(E,
		"int $M_load_memory(const void *buf, size_t len)\n"
		"{\n"
		"const unsigned char *p = buf;\n"
		"uint64_t hlen = 0, begin[$U_NTENSORS + 1];\n"
		"if (len < 8)\n"
		"return -2;\n"
		"for (int i = 0; i < 8; i++)\n"
		"hlen |= (uint64_t)p[i] << (8 * i);\n"
		"if (hlen > len - 8)\n"
		"return -2;\n"
		"if (!$M_header((const char *)p + 8, (size_t)hlen, len - 8 - hlen,\n"
		"begin))\n"
		"return -2;\n"
		"for (int t = 0; t < $U_NTENSORS; t++)\n"
		"for (uint64_t e = 0; e < $M_bytes(t) / sizeof ($T); e++)\n"
		"$M_store(t, e, p + 8 + hlen + begin[t] + e * sizeof ($T));\n"
		"return 0;\n"
		"}\n"
		"\n"
		"#ifndef $U_NO_STDIO\n"
		"int $M_load(const char *path)\n"
		"{\n"
		"unsigned char chunk[512];\n"
		"char header[$U_HEADER_MAX];\n"
		"uint64_t hlen = 0, begin[$U_NTENSORS + 1];\n"
		"long size = -1;\n"
		"int status;\n"
		"FILE *f = fopen(path, \"rb\");\n"
		"if (!f)\n"
		"return -1;\n"
		"/* The header first, and the file's size: all is checked before\n"
		" * a parameter changes. */\n"
		"if (fread(chunk, 1, 8, f) == 8) {\n"
		"for (int i = 0; i < 8; i++)\n"
		"hlen |= (uint64_t)chunk[i] << (8 * i);\n"
		"if (hlen <= sizeof header &&\n"
		"fread(header, 1, (size_t)hlen, f) == hlen &&\n"
		"fseek(f, 0, SEEK_END) == 0)\n"
		"size = ftell(f);\n"
		"}\n"
		"if (size < 0 || (uint64_t)size < 8 + hlen)\n"
		"status = ferror(f) ? -1 : -2;\n"
		"else if (!$M_header(header, (size_t)hlen, (uint64_t)size - 8 - hlen,\n"
		"begin))\n"
		"status = -2;\n"
		"else\n"
		"status = 0;\n"
		"for (int t = 0; t < $U_NTENSORS && status == 0; t++) {\n"
		"uint64_t done = 0, total = $M_bytes(t);\n"
		"if (fseek(f, (long)(8 + hlen + begin[t]), SEEK_SET) != 0)\n"
		"status = -1;\n"
		"while (status == 0 && done < total) {\n"
		"size_t want = sizeof chunk;\n"
		"if (total - done < want)\n"
		"want = (size_t)(total - done);\n"
		"if (fread(chunk, 1, want, f) != want)\n"
		"status = -1;\n"
		"for (size_t i = 0; status == 0 && i < want; i += sizeof ($T))\n"
		"$M_store(t, (done + i) / sizeof ($T), chunk + i);\n"
		"done += want;\n"
		"}\n"
		"}\n"
		"fclose(f);\n"
		"return status;\n"
		"}\n"
		"#endif\n"
		"\n");
}

/* NAME_predict: the rows in chunks of NAME_MAX_BATCH. */
static void emit_predict(Deploy *d)
{
	Emitter *E = &d->E;
	bool caller = d->io->scratch_caller, scratch = d->ip->nslots > 0;
	emit_line(E, "void %s_predict(const %s *x, size_t n, %s *y%s)", E->M, E->T,
	          E->T, caller ? ", void *scratch" : "");
	emit_brace(E);
	if (caller && !scratch)
		emit_line(E, "(void)scratch; /* nothing needs it */");
	emit_open(E, "for (size_t i = 0; i < n; i += %s_MAX_BATCH)", E->U);
	PtrVec pcs = {0};
	emit_piece(E, &pcs, "const int rows = ");
	emit_piece(E, &pcs, "n - i < %s_MAX_BATCH ? (int)(n - i) : ", E->U);
	emit_piece(E, &pcs, "%s_MAX_BATCH;", E->U);
	emit_wrapped(E, &pcs);
	emit_piece(E, &pcs, "%s_forward(x + i * %s_INPUT_SIZE, rows, ", E->M, E->U);
	emit_piece(E, &pcs, "y + i * %s_OUTPUT_SIZE%s", E->U,
	           scratch ? ", " : ");");
	if (scratch)
		emit_piece(E, &pcs, "%s);", caller ? "scratch"
		           : emit_fmt(E, "%s_scratch", E->M));
	emit_wrapped(E, &pcs);
	emit_close(E);
	emit_close(E);
}

static bool uses_blas(Deploy *d)
{
	for (int i = 0; i < d->E.m->nnodes; i++) {
		const NodePlan *np = &d->ip->p->nodes[i];
		if (np->live && own_dense(d, np->node) && !d->io->no_blas)
			return true;
	}
	return false;
}

/* What the pair needs besides itself, for the banners. */
static const char *needs(Deploy *d)
{
	Emitter *E = &d->E;
	const char *blas = uses_blas(d) ? "CBLAS" : NULL;
	const char *io = d->io->weights ? NULL
	                 : emit_fmt(E, "stdio for %s_load", E->M);
	return emit_fmt(E, "the C library's math functions%s%s%s%s",
	                io ? (blas ? ", " : " and ") : "", io ? io : "",
	                blas ? " and " : "", blas ? blas : "");
}

/* A sentence of a block comment, " * " and words, in lines of at most 80
 * columns. */
static void emit_comment_text(Emitter *E, const char *text)
{
	EmitBuf line = {0};
	emit_buf_puts(&line, " *");
	for (const char *s = text; *s;) {
		size_t n = strcspn(s, " ");
		if (line.len > 2 && line.len + 1 + n > 80) {
			emit_line(E, "%s", line.s);
			line.len = 2;
			line.s[2] = '\0';
		}
		emit_buf_puts(&line, " ");
		emit_buf_puts(&line, emit_fmt(E, "%.*s", (int)n, s));
		s += n;
		while (*s == ' ')
			s++;
	}
	if (line.len > 2)
		emit_line(E, "%s", line.s);
	emit_buf_free(&line);
}

static void emit_c(Deploy *d, EmitBuf *out)
{
	Emitter *E = &d->E;
	const InferPlan *ip = d->ip;
	const Plan *p = ip->p;
	const IrModel *m = E->m;
	EmitBuf body = {0}, helpers = {0}, customs = {0}, layers = {0};

	/* The code first, to learn which helpers it uses. */
	E->out = &body;
	emit_forward(d, &layers);
	if (!d->io->weights)
		emit_loader(d);
	emit_line(E, "/* ---- the API (%s.h) ---- */", E->M);
	emit_blank(E);
	emit_predict(d);
	E->out = &customs;
	emit_custom_fns(E);    /* first: they may use the helpers */
	E->out = &helpers;
	emit_helpers(E);

	E->out = out;
	emit_line(E, "/* %s.c — generated by nnc %s from %s. Do not edit. */",
	          m->name, NNC_VERSION, emit_comment_safe(E, E->o->source));
	emit_line(E, "/*");
	emit_line(E, " * Model %s for inference only: input %s %s -> output %s %s,",
	          m->name, m->input->name, emit_eshape(E, m->input->shape),
	          ir_node_label(m->output), emit_eshape(E, m->output->shape));
	emit_line(E, " * %" PRId64 " parameters, %s.", ip->kept, d->io->weights
	          ? emit_fmt(E, "built in from %s",
	                     emit_comment_safe(E, d->io->weights_path))
	          : emit_fmt(E, "loaded by %s_load", E->M));
	if (ip->kept < p->nparams)
		emit_line(E, " * (%" PRId64 " more are in layers that do not reach "
		          "the output: not kept.)", p->nparams - ip->kept);
	emit_line(E, " * Precision %s; dense layers of at most %" PRId64
	          " multiply-adds per example", E->T, E->o->unroll_limit);
	emit_line(E, " * are unrolled, larger ones %s.", d->io->no_blas
	          ? "are loops over the transposed weight"
	          : emit_fmt(E, "call cblas_%sgemm (or gemv)",
	                     E->o->f64 ? "d" : "s"));
	emit_line(E, " * Nothing is allocated: the parameters are static arrays, "
	          "the activations");
	emit_line(E, " * live in %s.", d->io->scratch_caller
	          ? "the caller's scratch block" : "one static scratch block");
	emit_comment_text(E, emit_fmt(E, "It needs %s.", needs(d)));
	emit_line(E, " * docs/API.md, \"Deployment\", describes it.");
	emit_line(E, " */");
	emit_line(E, "#include \"%s.h\"", m->name);
	emit_blank(E);
	emit_line(E, "#include <math.h>");
	if (!d->io->weights || E->helper[H_TANHF])
		emit_line(E, "#include <stdint.h>");
	if (!d->io->weights) {
		emit_line(E, "#ifndef %s_NO_STDIO", E->U);
		emit_line(E, "#include <stdio.h>");
		emit_line(E, "#endif");
	}
	if (uses_blas(d))
		emit_line(E, "#include <cblas.h>");
	if (d->io->no_blas) {
		emit_blank(E);
		emit_line(E, "/* GCC keeps to 256-bit vectors on CPUs with AVX-512 "
		          "unless told otherwise;");
		emit_line(E, " * the loops over the weights below read them faster "
		          "with 512-bit ones. */");
		emit_line(E, "#if defined(__GNUC__) && !defined(__clang__) && "
		          "__GNUC__ >= 8 && defined(__AVX512F__)");
		emit_line(E, "#pragma GCC target(\"prefer-vector-width=512\")");
		emit_line(E, "#endif");
	}
	emit_blank(E);
	emit_plan_comment(d);
	emit_blank(E);
	emit_params(d);
	if (ip->nslots > 0 && !d->io->scratch_caller) {
		emit_line(E, "/* The scratch block: %s_SCRATCH_BYTES bytes. */", E->U);
		emit_line(E, "static %s %s_scratch[%" PRId64 "];", E->T, E->M,
		          ip->scratch);
		emit_blank(E);
	}
	emit_buf_puts(out, helpers.s ? helpers.s : "");
	emit_buf_puts(out, customs.s ? customs.s : "");
	emit_buf_puts(out, layers.s ? layers.s : "");
	emit_buf_puts(out, body.s ? body.s : "");
	emit_buf_free(&layers);
	emit_buf_free(&body);
	emit_buf_free(&helpers);
	emit_buf_free(&customs);
	while (out->len >= 2 && out->s[out->len - 1] == '\n' &&
	       out->s[out->len - 2] == '\n')
		out->s[--out->len] = '\0';
	ASSERT(E->indent == 0);
}

/* One #define of the header, with its value and comment aligned. */
static void define(Emitter *E, const char *name, int64_t value,
                   const char *comment)
{
	emit_line(E, "%-*s %-7s /* %s */", (int)strlen(E->U) + 22,
	          emit_fmt(E, "#define %s_%s", E->U, name),
	          emit_fmt(E, "%" PRId64, value), comment);
}

static void emit_h(Deploy *d, EmitBuf *out)
{
	Emitter *E = &d->E;
	const InferPlan *ip = d->ip;
	const IrModel *m = E->m;
	bool caller = d->io->scratch_caller;
	E->out = out;
	emit_line(E, "/* %s.h — generated by nnc %s from %s. Do not edit. */",
	          m->name, NNC_VERSION, emit_comment_safe(E, E->o->source));
	emit_line(E, "/*");
	emit_line(E, " * The model %s as standalone C for inference: the forward "
	          "pass only,", m->name);
	if (d->io->weights)
		emit_line(E, " * with the weights of %s built in.",
		          emit_comment_safe(E, d->io->weights_path));
	else
		emit_line(E, " * its weights loaded by %s_load or %s_load_memory.",
		          E->M, E->M);
	emit_comment_text(E, emit_fmt(E, "No allocation; it needs %s.",
	                              needs(d)));
	emit_line(E, " * Arrays of examples are row-major, values are %s: example "
	          "i of x is", E->T);
	emit_line(E, " * x[i * %s_INPUT_SIZE .. (i + 1) * %s_INPUT_SIZE).", E->U,
	          E->U);
	emit_line(E, " * docs/API.md, \"Deployment\", describes it.");
	emit_line(E, " */");
	emit_line(E, "#ifndef %s_H", E->U);
	emit_line(E, "#define %s_H", E->U);
	emit_blank(E);
	emit_line(E, "#include <stddef.h>");
	emit_blank(E);
	emit_extern_c_open(E);
	emit_blank(E);
	const IrNode *in = m->input, *o = m->output;
	define(E, "INPUT_SIZE", size_of(in),
	       emit_fmt(E, "values per example: %s %s", in->name,
	                emit_eshape(E, in->shape)));
	define(E, "OUTPUT_SIZE", size_of(o),
	       emit_fmt(E, "values per prediction: %s %s", ir_node_label(o),
	                emit_eshape(E, o->shape)));
	define(E, "MAX_BATCH", ip->p->batch, "rows per forward pass");
	define(E, "PARAM_COUNT", ip->kept, "parameters");
	define(E, "PARAM_BYTES", ip->kept * d->elem, "bytes of them, static");
	define(E, "SCRATCH_BYTES", ip->scratch * d->elem, caller
	       ? "bytes of scratch memory predict needs"
	       : "bytes of activations, static");
	emit_blank(E);
	emit_code(E,
		"/* Writes the predictions for rows x[0 .. n) into y, row-major,\n"
		" * $U_MAX_BATCH rows at a time (any n works; dropout is off).\n"
		" * x and y must not overlap.\n");
	if (caller)
		emit_code(E,
			" * scratch is $U_SCRATCH_BYTES bytes, aligned for $T, that predict\n"
			" * uses during the call only, e.g.\n"
			" *     static $T scratch[$U_SCRATCH_BYTES / sizeof ($T)];\n"
			" * (it may be NULL when $U_SCRATCH_BYTES is 0).  Nothing else is\n"
			" * written: calls with different scratch blocks may run at once. */\n"
			"void $M_predict(const $T *x, size_t n, $T *y, void *scratch);\n");
	else
		emit_code(E,
			" * The activations live in a static block: one call at a time\n"
			" * (build with --scratch caller for a reentrant predict). */\n"
			"void $M_predict(const $T *x, size_t n, $T *y);\n");
	if (!d->io->weights)
		emit_code(E,
			"\n"
			"/* Reads the parameters from a safetensors file, as nnc train and\n"
			" * $M_save write it: LAYER.weight [out, in] and LAYER.bias [out] for\n"
			" * each dense layer, nothing else.  Until then they are zero.  Return\n"
			" * 0; -1 if the file cannot be opened or read; -2 if it is not a\n"
			" * safetensors file of exactly these tensors, dtypes and shapes, or its\n"
			" * header is over 4 KiB + 256 bytes per tensor.  All is checked before\n"
			" * a parameter changes (only a read error midway, -1, leaves them half\n"
			" * loaded).  $M_load uses stdio: compile with -D$U_NO_STDIO to leave it\n"
			" * out.  $M_load_memory reads the file's image buf[0 .. len). */\n"
			"int $M_load(const char *path);\n"
			"int $M_load_memory(const void *buf, size_t len);\n");
	emit_blank(E);
	emit_extern_c_close(E);
	emit_blank(E);
	emit_line(E, "#endif /* %s_H */", E->U);
	ASSERT(E->indent == 0);
}

bool emit_infer_model(FILE *h, FILE *c, Arena *a, const IrProgram *prog,
                      const IrModel *m, const EmitOptions *o,
                      const InferOptions *io)
{
	ASSERT(io->max_batch >= 1 && io->max_batch <= emit_infer_max_batch(m));
	Deploy d = {.io = io, .elem = o->f64 ? 8 : 4};
	d.ip = plan_infer(a, m, io->max_batch, o->unroll_limit);
	emit_setup(&d.E, a, prog, m, d.ip->p, o);
	d.E.infer = true;
	EmitBuf hb = {0}, cb = {0};
	emit_c(&d, &cb);       /* first: the header names what the code uses */
	emit_h(&d, &hb);
	bool ok = fwrite(hb.s, 1, hb.len, h) == hb.len &&
	          fwrite(cb.s, 1, cb.len, c) == cb.len;
	emit_buf_free(&hb);
	emit_buf_free(&cb);
	return ok;
}

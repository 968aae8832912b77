/*
 * ir.c — the IR's tables, small helpers on shapes and numbers, and the
 * --dump=ir printer.
 *
 * The names of ops, activations, losses, metrics and optimizers are
 * generated from the X-macros in nnc.h, so an enum and its spelling cannot
 * drift apart.  The dump is golden-tested: it prints nodes in their
 * topological order, numbers in their shortest round-trip form, and no
 * pointer or hash-order dependent text.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnc.h"

const char *const act_names[ACT_CUSTOM] = {
#define X(e, s) s,
	NNC_ACTS(X)
#undef X
};

const char *const op_names[OP_COUNT] = {
#define X(e, s, k) s,
	NNC_OPS(X)
#undef X
};

const char *const op_classes[OP_COUNT] = {
#define X(e, s, k) k,
	NNC_OPS(X)
#undef X
};

const char *const loss_names[LOSS_COUNT] = {
#define X(e, s) s,
	NNC_LOSSES(X)
#undef X
};

const char *const metric_names[METRIC_COUNT] = {
#define X(e, s) s,
	NNC_METRICS(X)
#undef X
};

const char *const opt_names[OPT_COUNT] = {
#define X(e, s) s,
	NNC_OPTIMIZERS(X)
#undef X
};

const OptParam opt_params[] = {
#define X(opt, field, name, def, min, min_incl, max, max_incl, is_bool) \
	{opt, name, offsetof(Optimizer, field), def, min, min_incl, max, \
	 max_incl, is_bool},
	NNC_OPT_PARAMS(X)
#undef X
};
const int opt_nparams = (int)(sizeof opt_params / sizeof opt_params[0]);

/* ---- activations, nodes ------------------------------------------------ */

const char *act_name(Activation a)
{
	if (a.kind == ACT_CUSTOM)
		return a.custom ? a.custom->name : "?";
	ASSERT(a.kind >= 0 && a.kind < ACT_CUSTOM);
	return act_names[a.kind];
}

const char *ir_node_kind(const IrNode *n)
{
	return n->op == OP_ACT ? act_name(n->act) : op_names[n->op];
}

const char *ir_node_label(const IrNode *n)
{
	return n->tensor ? n->tensor : n->name;
}

/* ---- shapes ------------------------------------------------------------ */

int64_t shape_size(Shape s)
{
	if (s.rank < 0)
		return -1;
	int64_t n = 1;
	for (int i = 0; i < s.rank; i++) {
		if (s.dims[i] < 0 || (s.dims[i] && n > INT64_MAX / s.dims[i]))
			return -1;     /* callers check sizes first; be safe anyway */
		n *= s.dims[i];
	}
	return n;
}

bool shape_equal(Shape a, Shape b)
{
	if (a.rank != b.rank)
		return false;
	for (int i = 0; i < a.rank; i++)
		if (a.dims[i] != b.dims[i])
			return false;
	return true;
}

/* Writes "[16]" / "[28, 28]" / "[?]" into buf (at least 8 + 22 per dim). */
static void shape_format(char *buf, size_t len, Shape s)
{
	if (s.rank < 0) {
		snprintf(buf, len, "[?]");
		return;
	}
	size_t used = 0;
	used += (size_t)snprintf(buf, len, "[");
	for (int i = 0; i < s.rank && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%" PRId64,
		                         i ? ", " : "", s.dims[i]);
	if (used < len)
		snprintf(buf + used, len - used, "]");
}

enum { SHAPE_BUF = 8 + 22 * NNC_MAX_RANK };

const char *shape_str(Arena *a, Shape s)
{
	char buf[SHAPE_BUF];
	shape_format(buf, sizeof buf, s);
	return arena_strdup(a, buf);
}

/* ---- numbers ----------------------------------------------------------- */

char *ir_fmt_num(char *buf, double x)
{
	if (isnan(x))
		return strcpy(buf, "nan");
	if (isinf(x))
		return strcpy(buf, x < 0 ? "-inf" : "inf");
	if (x == 0)
		return strcpy(buf, "0");
	/* The fewest significant digits that read back exactly... */
	int digits = 1;
	for (; digits < 17; digits++) {
		snprintf(buf, IR_NUM_BUF, "%.*e", digits - 1, x);
		if (strtod(buf, NULL) == x)
			break;
	}
	snprintf(buf, IR_NUM_BUF, "%.*e", digits - 1, x);
	int exp10 = atoi(strchr(buf, 'e') + 1);
	/* ...laid out as Python's repr does: plain unless very large or small. */
	if (exp10 < -4 || exp10 >= 16)
		return buf;
	int decimals = digits - 1 - exp10;
	snprintf(buf, IR_NUM_BUF, "%.*f", decimals > 0 ? decimals : 0, x);
	return buf;
}

char *ir_fmt_count(char *buf, int64_t n)
{
	char digits[24];
	snprintf(digits, sizeof digits, "%" PRId64, n);
	const char *d = digits;
	char *p = buf;
	if (*d == '-')
		*p++ = *d++;
	size_t len = strlen(d);
	for (size_t i = 0; i < len; i++) {
		if (i && (len - i) % 3 == 0)
			*p++ = ',';
		*p++ = d[i];
	}
	*p = '\0';
	return buf;
}

/* ---- optimizers -------------------------------------------------------- */

double ir_opt_get(const Optimizer *o, const OptParam *p)
{
	double v;
	memcpy(&v, (const char *)o + p->offset, sizeof v);
	return v;
}

void ir_opt_set(Optimizer *o, const OptParam *p, double v)
{
	memcpy((char *)o + p->offset, &v, sizeof v);
}

Optimizer ir_opt_default(OptKind k)
{
	Optimizer o;
	memset(&o, 0, sizeof o);
	o.kind = k;
	for (int i = 0; i < opt_nparams; i++)
		if (opt_params[i].opt == k)
			ir_opt_set(&o, &opt_params[i], opt_params[i].def);
	return o;
}

char *ir_fmt_opt(char *buf, const Optimizer *o)
{
	char num[IR_NUM_BUF];
	size_t used = (size_t)snprintf(buf, IR_OPT_BUF, "%s(",
	                               opt_names[o->kind]);
	const char *sep = "";
	for (int i = 0; i < opt_nparams && used < IR_OPT_BUF; i++) {
		const OptParam *p = &opt_params[i];
		if (p->opt != o->kind)
			continue;
		double v = ir_opt_get(o, p);
		used += (size_t)snprintf(buf + used, IR_OPT_BUF - used, "%s%s=%s",
		                         sep, p->name, p->is_bool
		                         ? (v != 0 ? "true" : "false")
		                         : ir_fmt_num(num, v));
		sep = ", ";
	}
	if (used < IR_OPT_BUF)
		snprintf(buf + used, IR_OPT_BUF - used, ")");
	return buf;
}

/* ---- the dump ---------------------------------------------------------- */

static void dump_node(FILE *out, const IrNode *n)
{
	char sbuf[SHAPE_BUF], nbuf[IR_NUM_BUF];
	/* A placeholder for a step that failed shows as error(...) without
	 * the attributes it does not really have. */
	fprintf(out, "  %%%d = %s", n->id, n->error ? "error" : op_names[n->op]);
	if (n->op != OP_INPUT || n->error) {
		fputc('(', out);
		for (int i = 0; i < n->ninputs; i++)
			fprintf(out, "%s%%%d", i ? ", " : "", n->inputs[i]->id);
		fputc(')', out);
	}
	switch (n->error ? OP_COUNT : n->op) {
	case OP_DENSE:
		fprintf(out, " units=%" PRId64 " act=%s bias=%s", n->units,
		        act_name(n->act), n->use_bias ? "true" : "false");
		break;
	case OP_ACT:
		fprintf(out, " act=%s", act_name(n->act));
		break;
	case OP_DROPOUT:
		fprintf(out, " rate=%s", ir_fmt_num(nbuf, n->rate));
		break;
	default:
		break;
	}
	shape_format(sbuf, sizeof sbuf, n->shape);
	fprintf(out, " : %s", sbuf);
	if (n->op == OP_DENSE && n->shape.rank >= 0) {
		shape_format(sbuf, sizeof sbuf, n->wshape);
		fprintf(out, "  params %s", sbuf);
		if (n->use_bias) {
			shape_format(sbuf, sizeof sbuf, n->bshape);
			fprintf(out, "+%s", sbuf);
		}
	}
	fprintf(out, "  @%d:%d  name=%s", n->loc.first_line, n->loc.first_column,
	        n->name);
	if (!n->error && !n->reaches_output)
		fprintf(out, "  unused");
	fputc('\n', out);
}

static void dump_training(FILE *out, const Training *t)
{
	char buf[IR_OPT_BUF];
	fprintf(out, "  loss %s\n  optimizer %s\n  metrics", loss_names[t->loss],
	        ir_fmt_opt(buf, &t->opt));
	bool any = false;
	for (int i = 0; i < METRIC_COUNT; i++)
		if (t->metrics[i]) {
			fprintf(out, "%s %s", any ? "," : "", metric_names[i]);
			any = true;
		}
	fprintf(out, "%s\n", any ? "" : " none");
	fprintf(out, "  batch %" PRId64 ", epochs %" PRId64 ", seed %" PRIu64
	        ", shuffle %s\n", t->batch, t->epochs, t->seed,
	        t->shuffle ? "true" : "false");
}

static void dump_model(FILE *out, const IrProgram *p, const IrModel *m)
{
	fprintf(out, "model %s  # %s:%d:%d\n", m->name, p->src->name,
	        m->loc.first_line, m->loc.first_column);
	for (int i = 0; i < m->nnodes; i++)
		dump_node(out, m->nodes[i]);
	if (m->input)
		fprintf(out, "  input %%%d (%s)\n", m->input->id, m->input->name);
	if (m->output)
		fprintf(out, "  output %%%d (%s)\n", m->output->id,
		        ir_node_label(m->output));
	fprintf(out, "  params %" PRId64 "\n", m->total_params);
	dump_training(out, &m->train);
	if (!m->ok)
		fprintf(out, "  # has errors\n");
}

void ir_dump(FILE *out, const IrProgram *p)
{
	bool any = false;
	for (CustomAct **c = p->acts; c && *c; c++) {
		if (!(*c)->ok)
			continue;
		fprintf(out, "%s(x) = ", (*c)->name);
		expr_print(out, (*c)->f);
		fprintf(out, "\n%s'(x) = ", (*c)->name);
		expr_print(out, (*c)->df);
		fputc('\n', out);
		any = true;
	}
	for (int i = 0; i < p->nmodels; i++) {
		if (any || i)
			fputc('\n', out);
		dump_model(out, p, p->models[i]);
	}
}

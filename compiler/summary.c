/*
 * summary.c — the Keras-style model summary (nnc check) and the Graphviz
 * DOT graph (nnc graph).
 *
 * Both print a checked model only.  The summary's layout is golden-tested:
 * columns are as wide as their longest cell (with Keras's widths as a
 * minimum), rows carry no trailing blanks, and numbers are printed in their
 * shortest round-trip form.
 */
#include <inttypes.h>
#include <string.h>

#include "nnc.h"

/* "Dense, tanh", "Activation, relu", "Dropout, rate 0.1", "InputLayer" */
static const char *layer_type(Arena *a, const IrNode *n)
{
	char num[IR_NUM_BUF];
	const char *cls = op_classes[n->op];
	switch (n->op) {
	case OP_DENSE:
		return arena_printf(a, "%s%s%s%s", cls,
		                    n->act.kind == ACT_LINEAR ? "" : ", ",
		                    n->act.kind == ACT_LINEAR ? "" : act_name(n->act),
		                    n->use_bias ? "" : ", no bias");
	case OP_ACT:
		return arena_printf(a, "%s, %s", cls, act_name(n->act));
	case OP_DROPOUT:
		return arena_printf(a, "%s, rate %s", cls, ir_fmt_num(num, n->rate));
	default:
		return cls;
	}
}

/* ---- the summary -------------------------------------------------------- */

enum { NCOLS = 4 };

typedef struct Row {
	const char *cell[NCOLS];
} Row;

/* Keras's column widths, the minimum for ours. */
static const int min_width[NCOLS] = {25, 20, 10, 12};

/* "(None, 28, 28)": the batch dimension is None, as in Keras. */
static const char *keras_shape(Arena *a, Shape s)
{
	if (s.rank < 0)
		return "(None, ?)";
	const char *out = "(None";
	for (int i = 0; i < s.rank; i++)
		out = arena_printf(a, "%s, %" PRId64, out, s.dims[i]);
	return arena_printf(a, "%s)", out);
}

static Row make_row(Arena *a, const IrNode *n)
{
	char count[32];
	Row r;
	r.cell[0] = arena_printf(a, "%s (%s)", n->name, layer_type(a, n));
	r.cell[1] = keras_shape(a, n->shape);
	r.cell[2] = arena_strdup(a, ir_fmt_count(count, n->nparams));
	/* "a, b, c": sized first, as a merge may read thousands of tensors
	 * (appending one by one would copy the list each time). */
	size_t len = 1;
	for (int i = 0; i < n->ninputs; i++)
		len += strlen(n->inputs[i]->name) + 2;
	char *conn = arena_alloc(a, len), *p = conn;
	for (int i = 0; i < n->ninputs; i++) {
		size_t k = strlen(n->inputs[i]->name);
		if (i) {
			memcpy(p, ", ", 2);
			p += 2;
		}
		memcpy(p, n->inputs[i]->name, k);
		p += k;
	}
	*p = '\0';
	r.cell[3] = conn;
	return r;
}

/* One table line: a leading blank, then each cell padded to its column,
 * the last one unpadded so no line ends in blanks. */
static void print_row(FILE *out, const Row *r, const int *width)
{
	int last = NCOLS - 1;
	while (last > 0 && !r->cell[last][0])
		last--;
	fputc(' ', out);
	for (int i = 0; i <= last; i++)
		fprintf(out, "%-*s", i < last ? width[i] : 0, r->cell[i]);
	fputc('\n', out);
}

static void print_rule(FILE *out, char c, int len)
{
	for (int i = 0; i < len; i++)
		fputc(c, out);
	fputc('\n', out);
}

/* The training settings in force, defaults filled in, one kind per line. */
static void print_training(FILE *out, const Training *t)
{
	char buf[IR_OPT_BUF];
	fprintf(out, "Loss: %s\n", t->loss == LOSS_NONE
	        ? "none (inference only)" : loss_names[t->loss]);
	fprintf(out, "Optimizer: %s\n", ir_fmt_opt(buf, &t->opt));
	fprintf(out, "Metrics:");
	const char *sep = " ";
	for (int i = 0; i < METRIC_COUNT; i++)
		if (t->metrics[i]) {
			fprintf(out, "%s%s", sep, metric_names[i]);
			sep = ", ";
		}
	fprintf(out, "%s\n", *sep == ' ' ? " none" : "");
	fprintf(out, "Training: batch %" PRId64 ", epochs %" PRId64 ", seed %"
	        PRIu64 ", shuffle %s\n", t->batch, t->epochs, t->seed,
	        t->shuffle ? "true" : "false");
}

void summary_print(FILE *out, Arena *a, const IrModel *m)
{
	static const Row header = {{"Layer (type)", "Output Shape", "Param #",
	                            "Connected to"}};
	Row *rows = arena_array(a, (size_t)m->nnodes + 1, sizeof *rows);
	int width[NCOLS];
	for (int c = 0; c < NCOLS; c++)
		width[c] = min_width[c];
	for (int i = 0; i < m->nnodes; i++) {
		rows[i] = make_row(a, m->nodes[i]);
		for (int c = 0; c < NCOLS; c++) {
			int w = (int)strlen(rows[i].cell[c]) + (c < NCOLS - 1 ? 2 : 0);
			if (w > width[c])
				width[c] = w;
		}
	}
	int total = 1;
	for (int c = 0; c < NCOLS; c++)
		total += width[c];
	if (total < 65)
		total = 65;

	char count[32];
	fprintf(out, "Model: \"%s\"\n", m->name);
	print_rule(out, '_', total);
	print_row(out, &header, width);
	print_rule(out, '=', total);
	for (int i = 0; i < m->nnodes; i++)
		print_row(out, &rows[i], width);
	print_rule(out, '=', total);
	fprintf(out, "Total params: %s\n", ir_fmt_count(count, m->total_params));
	fprintf(out, "Trainable params: %s\n", count);
	fprintf(out, "Non-trainable params: 0\n");
	print_rule(out, '_', total);
	print_training(out, &m->train);
}

/* ---- the graph ---------------------------------------------------------- */

/* Text inside a double-quoted DOT record label: escapes the characters that
 * are special to DOT strings or to record labels. */
static void print_escaped(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (strchr("{}|<>\"\\", *s))
			fputc('\\', out);
		fputc(*s, out);
	}
}

void graph_print(FILE *out, Arena *a, const IrModel *m)
{
	fputs("digraph \"", out);
	print_escaped(out, m->name);
	fputs("\" {\n", out);
	fputs("\trankdir=TB;\n", out);
	fputs("\tnode [shape=record, fontname=\"Helvetica\", fontsize=10];\n",
	      out);
	for (int i = 0; i < m->nnodes; i++) {
		const IrNode *n = m->nodes[i];
		fprintf(out, "\tn%d [label=\"{", n->id);
		print_escaped(out, n->name);
		fputc('|', out);
		print_escaped(out, layer_type(a, n));
		fputc('|', out);
		print_escaped(out, shape_str(a, n->shape));
		fprintf(out, "}\"%s];\n", n == m->output ? ", style=bold" : "");
	}
	for (int i = 0; i < m->nnodes; i++) {
		const IrNode *n = m->nodes[i];
		for (int k = 0; k < n->ninputs; k++)
			fprintf(out, "\tn%d -> n%d;\n", n->inputs[k]->id, n->id);
	}
	fputs("}\n", out);
}

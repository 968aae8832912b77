/*
 * lower.c — name resolution and lowering of the AST to IR.
 *
 * Each model is walked once, statement by statement, keeping "the current
 * tensor" (the previous statement's result) so that a plain list of layers
 * chains like a Keras Sequential model.  Every step of a chain becomes one
 * IrNode, appended as it is made, so the node list is in topological order.
 *
 * All name and value errors are reported here: unknown names (with a "did
 * you mean"), redefinitions, bad argument values and settings.  A step that
 * fails becomes a placeholder node marked `error`: shape_check leaves its
 * shape unknown and its users stay quiet, so one mistake gives one message.
 * The AST may be partial (statements dropped by the parser's recovery), so
 * every pointer from it is checked before use.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnc.h"

/* ---- the lowering context ---------------------------------------------- */

typedef struct Binding {
	const char *name;
	Loc loc;                   /* where the name is bound */
	IrNode *node;              /* NULL in Lower.later */
} Binding;

/* Names to bindings: open addressing, linear probing, kept at most half
 * full.  Models may have many thousands of named tensors, and every step
 * looks its name up. */
typedef struct NameMap {
	Binding **slots;
	size_t cap, len;           /* cap is 0 or a power of two */
} NameMap;

/* Names to anything else (models, custom activations, layer counters),
 * the value beside the key.  A file may define thousands of each, and
 * every use looks one up. */
typedef struct StrMap {
	const char **keys;
	void **vals;
	size_t cap, len;           /* cap is 0 or a power of two */
} StrMap;
static void *strmap_get(const StrMap *m, const char *key);

typedef struct Counter {
	const char *kind;          /* "dense", "relu", ... */
	int n;
} Counter;

enum { SET_LOSS, NSETTINGS = 7 };   /* indexes in settings[] */

/* Notes that give advice rather than point at text have no location. */
static const Loc NOLOC = {0, 0, 0, 0};

typedef struct Lower {
	Arena *a;
	Diag *d;
	CustomAct **acts;          /* NULL-terminated */
	const StrMap *act_map;     /* the same, by name (first wins) */
	IrModel *m;
	const AstStmt *stmt;       /* the statement being lowered */
	PtrVec nodes;              /* IrNode *, in creation (topological) order */
	PtrVec tensors;            /* Binding *, the names bound so far, in order */
	NameMap tensor_map;        /* the same, by name */
	NameMap later;             /* every name the model binds (node NULL) */
	PtrVec counters;           /* Counter *, for automatic layer names */
	StrMap counter_map;        /* the same, by kind */
	IrNode *current;           /* the previous statement's tensor */
	const AstStmt *input_stmt, *output_stmt;
	bool no_input_reported;    /* "layer ... has no input" was said */
	const AstStmt *settings[NSETTINGS];
} Lower;

static const char *const layer_words[] = {"dense", "dropout", "flatten", NULL};
static const char *const merge_words[] = {"add", "concat", "concatenate",
                                          NULL};

static bool in_list(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(name, *list) == 0)
			return true;
	return false;
}

/* Resolves an activation name, built-in first, then custom. */
static bool find_act(const Lower *L, const char *name, Activation *out)
{
	for (int i = 0; i < ACT_CUSTOM; i++)
		if (strcmp(name, act_names[i]) == 0) {
			*out = (Activation){(ActKind)i, NULL};
			return true;
		}
	CustomAct *c = strmap_get(L->act_map, name);
	if (c) {
		*out = (Activation){ACT_CUSTOM, c};
		return true;
	}
	return false;
}

static bool is_act(const Lower *L, const char *name)
{
	Activation unused;
	return find_act(L, name, &unused);
}

static size_t hash_name(const char *s)
{
	size_t h = 2166136261u;    /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static Binding *find_binding(const NameMap *m, const char *name)
{
	if (!m->cap)
		return NULL;
	for (size_t i = hash_name(name) & (m->cap - 1); m->slots[i];
	     i = (i + 1) & (m->cap - 1))
		if (strcmp(m->slots[i]->name, name) == 0)
			return m->slots[i];
	return NULL;
}

/* Adds b, whose name is not in m yet. */
static void map_put(NameMap *m, Binding *b)
{
	if (2 * (m->len + 1) > m->cap) {
		NameMap big = {NULL, m->cap ? 2 * m->cap : 64, m->len};
		big.slots = xmalloc(big.cap * sizeof *big.slots);
		memset(big.slots, 0, big.cap * sizeof *big.slots);
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->slots[i])
				continue;
			size_t j = hash_name(m->slots[i]->name) & (big.cap - 1);
			while (big.slots[j])
				j = (j + 1) & (big.cap - 1);
			big.slots[j] = m->slots[i];
		}
		free(m->slots);
		*m = big;
	}
	size_t i = hash_name(b->name) & (m->cap - 1);
	while (m->slots[i])
		i = (i + 1) & (m->cap - 1);
	m->slots[i] = b;
	m->len++;
}

/* StrMap: the same hashing and probing as NameMap. */
static void *strmap_get(const StrMap *m, const char *key)
{
	if (!m->cap)
		return NULL;
	for (size_t i = hash_name(key) & (m->cap - 1); m->keys[i];
	     i = (i + 1) & (m->cap - 1))
		if (strcmp(m->keys[i], key) == 0)
			return m->vals[i];
	return NULL;
}

/* Adds key -> val (not NULL) unless key is there already: the first
 * definition of a name is the one that counts. */
static void strmap_add(StrMap *m, const char *key, void *val)
{
	if (strmap_get(m, key))
		return;
	if (2 * (m->len + 1) > m->cap) {
		StrMap big = {NULL, NULL, m->cap ? 2 * m->cap : 64, 0};
		big.keys = xmalloc(big.cap * sizeof *big.keys);
		big.vals = xmalloc(big.cap * sizeof *big.vals);
		memset(big.keys, 0, big.cap * sizeof *big.keys);
		for (size_t i = 0; i < m->cap; i++)
			if (m->keys[i])
				strmap_add(&big, m->keys[i], m->vals[i]);
		free(m->keys);
		free(m->vals);
		*m = big;
	}
	size_t i = hash_name(key) & (m->cap - 1);
	while (m->keys[i])
		i = (i + 1) & (m->cap - 1);
	m->keys[i] = key;
	m->vals[i] = val;
	m->len++;
}

static void strmap_free(StrMap *m)
{
	free(m->keys);
	free(m->vals);
	*m = (StrMap){NULL, NULL, 0, 0};
}

/* ---- candidates and "did you mean" ------------------------------------ */

/* Keras spellings nnc does not accept, mapped to nnc's. */
static const char *const aliases[][2] = {
	{"lr", "learning_rate"},
	{"acc", "accuracy"},
	{"mean_squared_error", "mse"},
	{"mean_absolute_error", "mae"},
	{"batch_size", "batch"},
	{"concatenate", "concat"},
};

static const char *suggest(const char *name, const char *const *cands)
{
	if (!cands)
		return NULL;
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (strcmp(name, aliases[i][0]) == 0 && in_list(aliases[i][1], cands))
			return aliases[i][1];
	return diag_suggest(name, cands);
}

static void push_list(PtrVec *v, const char *const *list, int n)
{
	for (int i = 0; n < 0 ? list[i] != NULL : i < n; i++)
		ptrvec_push(v, (void *)list[i]);
}

static void push_acts(const Lower *L, PtrVec *v)
{
	if (L->d->nerrors >= L->d->max_errors)
		return;                /* see freeze() */
	push_list(v, act_names, ACT_CUSTOM);
	for (CustomAct **c = L->acts; c && *c; c++)
		ptrvec_push(v, (void *)(*c)->name);
}

static void push_tensors(const Lower *L, PtrVec *v)
{
	if (L->d->nerrors >= L->d->max_errors)
		return;                /* see freeze() */
	for (int i = 0; i < L->tensors.len; i++)
		ptrvec_push(v, (void *)((Binding *)L->tensors.items[i])->name);
}

/* The candidates for a "did you mean", or NULL (no suggestion) once the
 * error limit is reached: messages are no longer printed, and computing
 * suggestions for thousands of errors would only cost time. */
static const char *const *freeze(Lower *L, PtrVec *v)
{
	if (L->d->nerrors >= L->d->max_errors) {
		free(v->items);
		*v = (PtrVec){NULL, 0, 0};
		return NULL;
	}
	return (const char *const *)ptrvec_freeze(v, L->a);
}

/* "unknown WHAT 'NAME'CONTEXT; did you mean 'X'?" */
static void error_unknown(Lower *L, Loc loc, const char *what,
                          const char *name, const char *context,
                          const char *const *cands)
{
	const char *hint = suggest(name, cands);
	if (hint)
		diag_error(L->d, loc, "unknown %s '%s'%s; did you mean '%s'?", what,
		           name, context, hint);
	else
		diag_error(L->d, loc, "unknown %s '%s'%s", what, name, context);
}

/* ---- values ------------------------------------------------------------ */

/* A value as the user wrote it, for "got ..." in messages. */
static const char *value_str(Lower *L, const AstValue *v)
{
	char buf[IR_NUM_BUF];
	switch (v->kind) {
	case VAL_NUM:
		if (!v->text)
			return arena_strdup(L->a, ir_fmt_num(buf, v->num));
		if (signbit(v->num) && v->text[0] != '-')
			return arena_printf(L->a, "-%s", v->text);
		return v->text;
	case VAL_IDENT:
		return arena_printf(L->a, "'%s'", v->text);
	case VAL_CALL:
		return arena_printf(L->a, "'%s(...)'", v->text);
	}
	return "?";
}

/* A number the scanner reported (malformed, too large or too small): the
 * places that read it stay quiet, so one mistake gives one message. */
static bool reported(const AstValue *v)
{
	return v->kind == VAL_NUM && v->bad;
}

/* The location of the name at the start of v (`adam` in `adam(0.1)`). */
static Loc name_loc(const AstValue *v)
{
	Loc l = v->loc;
	if (v->kind == VAL_CALL && v->text) {
		l.last_line = l.first_line;
		l.last_column = l.first_column + (int)strlen(v->text) - 1;
	}
	return l;
}

/* The exact value of an integer literal: from its text when there is one,
 * since a double cannot hold every large integer.  Saturates at
 * INT64_MAX / INT64_MIN. */
static int64_t int_value(const AstValue *v)
{
	if (!v->text)
		return v->num >= 9.2e18 ? INT64_MAX
		       : v->num <= -9.2e18 ? INT64_MIN : (int64_t)v->num;
	const char *p = v->text + (v->text[0] == '-');
	int64_t x = 0;
	for (; *p >= '0' && *p <= '9'; p++)
		x = x > (INT64_MAX - 9) / 10 ? INT64_MAX : x * 10 + (*p - '0');
	return signbit(v->num) ? -x : x;
}

/* An integer in [min, max], written as one (2.0 and 1e3 are not). */
static bool get_int(Lower *L, const AstValue *v, const char *what,
                    int64_t min, int64_t max, int64_t *out)
{
	if (reported(v))
		return false;
	int64_t x = v->kind == VAL_NUM && v->is_int ? int_value(v) : 0;
	if (v->kind == VAL_NUM && v->is_int && x >= min) {
		if (x > max) {
			diag_error(L->d, v->loc, "%s is too large (limit %lld)", what,
			           (long long)max);
			return false;
		}
		*out = x;
		return true;
	}
	diag_error(L->d, v->loc, "%s must be a %s integer, got %s", what,
	           min >= 1 ? "positive" : "non-negative", value_str(L, v));
	return false;
}

static bool get_bool(Lower *L, const AstValue *v, const char *what, bool *out)
{
	if (reported(v))
		return false;
	if (v->kind == VAL_IDENT && strcmp(v->text, "true") == 0) {
		*out = true;
		return true;
	}
	if (v->kind == VAL_IDENT && strcmp(v->text, "false") == 0) {
		*out = false;
		return true;
	}
	diag_error(L->d, v->loc, "%s must be true or false, got %s", what,
	           value_str(L, v));
	return false;
}

/* An allowed interval of real values; max >= 1e30 means unbounded. */
typedef struct Range {
	double min;
	bool min_incl;
	double max;
	bool max_incl;
} Range;

static const char *range_str(Lower *L, Range r)
{
	char lo[IR_NUM_BUF], hi[IR_NUM_BUF];
	ir_fmt_num(lo, r.min);
	if (r.max >= 1e30)
		return arena_printf(L->a, "%s %s", r.min_incl ? ">=" : ">", lo);
	return arena_printf(L->a, "in %c%s, %s%c", r.min_incl ? '[' : '(', lo,
	                    ir_fmt_num(hi, r.max), r.max_incl ? ']' : ')');
}

static bool get_real(Lower *L, const AstValue *v, const char *what, Range r,
                     double *out)
{
	if (reported(v))
		return false;
	if (v->kind != VAL_NUM) {
		diag_error(L->d, v->loc, "%s must be a number %s, got %s", what,
		           range_str(L, r), value_str(L, v));
		return false;
	}
	double x = v->num;
	bool lo_ok = r.min_incl ? x >= r.min : x > r.min;
	bool hi_ok = r.max_incl ? x <= r.max : x < r.max;
	if (lo_ok && hi_ok) {
		*out = x;
		return true;
	}
	if (lo_ok && r.max >= 1e30) {
		char hi[IR_NUM_BUF];
		diag_error(L->d, v->loc, "%s is too large (limit %s)", what,
		           ir_fmt_num(hi, r.max));
	} else {
		diag_error(L->d, v->loc, "%s must be %s, got %s", what,
		           range_str(L, r), value_str(L, v));
	}
	return false;
}

static bool get_act(Lower *L, const AstValue *v, Activation *out)
{
	if (v->kind == VAL_IDENT && find_act(L, v->text, out))
		return true;
	if (reported(v))
		return false;
	if (v->kind != VAL_IDENT) {
		diag_error(L->d, v->loc,
		           "activation must be an activation name, got %s",
		           value_str(L, v));
		return false;
	}
	PtrVec cands = {0};
	push_acts(L, &cands);
	error_unknown(L, v->loc, "activation", v->text, "", freeze(L, &cands));
	return false;
}

/* ---- arguments ---------------------------------------------------------- */

static int count_args(const AstArg *args)
{
	int n = 0;
	for (; args; args = args->next)
		n++;
	return n;
}

static const char *joined(Lower *L, const char *const *names, int n)
{
	const char *s = "";
	for (int i = 0; i < n; i++)
		s = arena_printf(L->a, "%s%s%s", s, i ? ", " : "", names[i]);
	return s;
}

/* Matches args to the parameters names[0 .. n) by position or by keyword:
 * vals[i] receives the value given for names[i], or stays NULL.  what
 * names the callee in messages ("dense", "adam", "activation 'relu'").
 * Returns false after reporting any error. */
static bool bind_args(Lower *L, const char *what, const char *const *names,
                      int n, const AstArg *args, const AstValue **vals)
{
	int nargs = count_args(args);
	if (nargs && n == 0) {
		const AstArg *last = args;
		while (last->next)
			last = last->next;
		diag_error(L->d, loc_span(args->loc, last->loc),
		           "%s takes no arguments", what);
		return false;
	}
	Loc given[8] = {{0, 0, 0, 0}};
	ASSERT(n <= 8);
	bool ok = true, keywords = false;
	int pos = 0;
	for (const AstArg *arg = args; arg; arg = arg->next) {
		int slot = -1;
		if (!arg->name) {
			if (keywords) {
				diag_error(L->d, arg->loc,
				           "positional argument after keyword argument");
				ok = false;
				continue;
			}
			if (pos == n) {
				diag_error(L->d, arg->loc,
				           "%s takes at most %d argument%s (%s), got %d", what,
				           n, n == 1 ? "" : "s", joined(L, names, n), nargs);
				return false;
			}
			slot = pos++;
		} else {
			keywords = true;
			for (int i = 0; i < n; i++)
				if (strcmp(arg->name, names[i]) == 0)
					slot = i;
			if (slot < 0) {
				PtrVec cands = {0};
				push_list(&cands, names, n);
				error_unknown(L, arg->name_loc, "argument", arg->name,
				              arena_printf(L->a, " for %s", what),
				              freeze(L, &cands));
				ok = false;
				continue;
			}
		}
		if (given[slot].first_line || vals[slot]) {
			diag_error(L->d, arg->loc, "duplicate argument '%s' for %s",
			           names[slot], what);
			diag_note(L->d, given[slot], "'%s' was first given here",
			          names[slot]);
			ok = false;
			continue;
		}
		given[slot] = arg->loc;
		vals[slot] = arg->value;
	}
	return ok;
}

/* ---- nodes -------------------------------------------------------------- */

/* "dense_3": the next automatic name for this kind of layer. */
static const char *auto_name(Lower *L, const char *kind)
{
	Counter *c = strmap_get(&L->counter_map, kind);
	if (!c) {
		c = arena_alloc(L->a, sizeof *c);
		c->kind = kind;
		ptrvec_push(&L->counters, c);
		strmap_add(&L->counter_map, kind, c);
	}
	return arena_printf(L->a, "%s_%d", kind, ++c->n);
}

/* A new node reading `in` (if any).  name is the tensor name the statement
 * gives it, or NULL for an automatic name counted under kind. */
static IrNode *new_node(Lower *L, Op op, Loc loc, const char *kind,
                        const char *name, IrNode *in)
{
	IrNode *n = arena_alloc(L->a, sizeof *n);
	n->id = L->nodes.len;
	n->op = op;
	n->loc = loc;
	n->shape.rank = -1;
	n->act.kind = ACT_LINEAR;
	n->use_bias = true;
	if (name) {
		n->name = n->tensor = name;
		n->tensor_loc = L->stmt->name_loc;
	} else {
		n->name = auto_name(L, kind);
	}
	if (in) {
		n->inputs = arena_alloc(L->a, sizeof *n->inputs);
		n->inputs[0] = in;
		n->ninputs = 1;
	}
	ptrvec_push(&L->nodes, n);
	return n;
}

/* A placeholder for a step that failed (already reported). */
static IrNode *error_node(Lower *L, Loc loc, const char *name, IrNode *in)
{
	IrNode *n = new_node(L, OP_ACT, loc, NULL, name ? name : "?", in);
	if (!name)
		n->tensor = NULL;
	n->error = true;
	return n;
}

/* ---- tensor names ------------------------------------------------------- */

/* "a layer" if name is a layer's, merge's or activation's, which cannot
 * name a tensor; NULL otherwise. */
static const char *reserved(const Lower *L, const char *name)
{
	return in_list(name, layer_words) ? "a layer"
	       : in_list(name, merge_words) ? "a merge"
	       : is_act(L, name) ? "an activation" : NULL;
}

/* Can `name` name a new tensor here?  Reports why not. */
static bool check_new_name(Lower *L, const char *name, Loc loc)
{
	const char *what = reserved(L, name);
	if (what) {
		diag_error(L->d, loc, "'%s' is %s name and cannot name a tensor",
		           name, what);
		return false;
	}
	Binding *prev = find_binding(&L->tensor_map, name);
	if (prev) {
		diag_error(L->d, loc, "redefinition of tensor '%s'", name);
		diag_note(L->d, prev->loc, "previous definition is here");
		return false;
	}
	return true;
}

static void bind(Lower *L, const char *name, Loc loc, IrNode *node)
{
	Binding *b = arena_alloc(L->a, sizeof *b);
	b->name = name;
	b->loc = loc;
	b->node = node;
	ptrvec_push(&L->tensors, b);
	map_put(&L->tensor_map, b);
}

/* The tensor `name` refers to, or NULL after reporting why there is none. */
static IrNode *lookup_tensor(Lower *L, const char *name, Loc loc)
{
	Binding *b = find_binding(&L->tensor_map, name);
	if (b)
		return b->node;
	b = find_binding(&L->later, name);
	if (b) {
		diag_error(L->d, loc, "tensor '%s' is used before it is defined",
		           name);
		diag_note(L->d, b->loc, "'%s' is defined here", name);
		return NULL;
	}
	PtrVec cands = {0};
	push_tensors(L, &cands);
	error_unknown(L, loc, "tensor", name, "", freeze(L, &cands));
	return NULL;
}

/* ---- layers ------------------------------------------------------------- */

static IrNode *lower_dense(Lower *L, const AstStep *st, IrNode *in,
                           const char *name)
{
	static const char *const params[] = {"units", "activation", "use_bias"};
	const AstValue *v[3] = {NULL, NULL, NULL};
	bool ok = bind_args(L, "dense", params, 3, st->args, v);
	if (ok && !v[0]) {
		diag_error(L->d, st->loc,
		           "dense needs a number of units, e.g. dense(16)");
		ok = false;
	}
	int64_t units = 0;
	Activation act = {ACT_LINEAR, NULL};
	bool bias = true;
	if (v[0] && !get_int(L, v[0], "units", 1, IR_MAX_ELEMS, &units))
		ok = false;
	if (v[1] && !get_act(L, v[1], &act))
		ok = false;
	if (v[2] && !get_bool(L, v[2], "use_bias", &bias))
		ok = false;
	if (!ok)
		return error_node(L, st->loc, name, in);
	IrNode *n = new_node(L, OP_DENSE, st->loc, "dense", name, in);
	n->units = units;
	n->act = act;
	n->use_bias = bias;
	return n;
}

static IrNode *lower_dropout(Lower *L, const AstStep *st, IrNode *in,
                             const char *name)
{
	static const char *const params[] = {"rate"};
	const AstValue *v[1] = {NULL};
	bool ok = bind_args(L, "dropout", params, 1, st->args, v);
	if (ok && !v[0]) {
		diag_error(L->d, st->loc, "dropout needs a rate, e.g. dropout(0.5)");
		ok = false;
	}
	double rate = 0;
	Range r = {0, true, 1, false};
	if (v[0] && !get_real(L, v[0], "dropout rate", r, &rate))
		ok = false;
	if (!ok)
		return error_node(L, st->loc, name, in);
	IrNode *n = new_node(L, OP_DROPOUT, st->loc, "dropout", name, in);
	n->rate = rate;
	return n;
}

static IrNode *lower_flatten(Lower *L, const AstStep *st, IrNode *in,
                             const char *name)
{
	if (!bind_args(L, "flatten", NULL, 0, st->args, NULL))
		return error_node(L, st->loc, name, in);
	return new_node(L, OP_FLATTEN, st->loc, "flatten", name, in);
}

static IrNode *lower_act(Lower *L, const AstStep *st, IrNode *in,
                         const char *name, Activation act)
{
	const char *what = arena_printf(L->a, "activation '%s'", st->name);
	if (!bind_args(L, what, NULL, 0, st->args, NULL))
		return error_node(L, st->loc, name, in);
	IrNode *n = new_node(L, OP_ACT, st->loc, act_name(act), name, in);
	n->act = act;
	return n;
}

typedef IrNode *LayerFn(Lower *L, const AstStep *st, IrNode *in,
                        const char *name);

static const struct {
	const char *word;
	LayerFn *lower;
} layers[] = {
	{"dense", lower_dense},
	{"dropout", lower_dropout},
	{"flatten", lower_flatten},
};
enum { NLAYERS = sizeof layers / sizeof layers[0] };

/* An unknown step name: a misspelt layer, or at the start of a chain
 * possibly a misspelt tensor (`hiden -> dense(2)`). */
static void error_unknown_layer(Lower *L, const AstStep *st, bool first)
{
	PtrVec cands = {0};
	push_list(&cands, layer_words, -1);
	push_acts(L, &cands);
	push_list(&cands, merge_words, -1);
	if (first)
		push_tensors(L, &cands);
	const char *hint = suggest(st->name, freeze(L, &cands));
	if (hint && find_binding(&L->tensor_map, hint))
		diag_error(L->d, st->name_loc, "unknown tensor '%s'; did you mean "
		           "'%s'?", st->name, hint);
	else if (hint)
		diag_error(L->d, st->name_loc, "unknown layer '%s'; did you mean "
		           "'%s'?", st->name, hint);
	else
		diag_error(L->d, st->name_loc, "unknown layer '%s'", st->name);
}

/* A merge: add(a, b, ...) or concat(a, b, ...), reading named tensors. */
static IrNode *lower_merge(Lower *L, const AstStep *st, const char *name)
{
	Op op = strcmp(st->name, "add") == 0 ? OP_ADD : OP_CONCAT;
	const char *kind = op_names[op];
	if (!st->has_parens) {
		diag_error(L->d, st->loc, "%s needs the tensors to merge, e.g. "
		           "%s(a, b)", st->name, st->name);
		return error_node(L, st->loc, name, NULL);
	}
	PtrVec ins = {0};
	bool ok = true;
	int nargs = 0;
	for (const AstArg *arg = st->args; arg; arg = arg->next) {
		nargs++;
		const AstValue *v = arg->value;
		if (arg->name) {
			diag_error(L->d, arg->name_loc, "%s takes tensor names, not "
			           "keyword arguments", st->name);
			ok = false;
		} else if (v && v->kind != VAL_IDENT) {
			if (!reported(v))
				diag_error(L->d, v->loc, "%s takes tensor names, got %s",
				           st->name, value_str(L, v));
			ok = false;
		} else if (v) {
			IrNode *t = lookup_tensor(L, v->text, v->loc);
			if (t)
				ptrvec_push(&ins, t);
			else
				ok = false;
		} else {
			ok = false;
		}
	}
	if (nargs < 2) {
		diag_error(L->d, st->loc, "%s needs at least 2 tensors, got %d",
		           st->name, nargs);
		ok = false;
	}
	IrNode *n = ok ? new_node(L, op, st->loc, kind, name, NULL)
	               : error_node(L, st->loc, name, NULL);
	n->ninputs = ins.len;
	n->inputs = (IrNode **)ptrvec_freeze(&ins, L->a);
	return n;
}

/* A step after the first one of a chain (or a first step that is neither a
 * tensor nor a merge): a layer applied to `in`. */
static IrNode *lower_layer(Lower *L, const AstStep *st, IrNode *in,
                           const char *name, bool first)
{
	if (!st->name)
		return error_node(L, st->loc, name, in);
	if (find_binding(&L->tensor_map, st->name) ||
	    find_binding(&L->later, st->name)) {
		if (first)
			diag_error(L->d, st->loc, "'%s' is a tensor, not a layer, and "
			           "takes no arguments", st->name);
		else
			diag_error(L->d, st->name_loc, "'%s' is a tensor, not a layer; "
			           "a merge such as concat(...) can only start a chain",
			           st->name);
		return error_node(L, st->loc, name, in);
	}
	if (in_list(st->name, merge_words)) {
		diag_error(L->d, st->name_loc, "merge '%s' can only start a chain: "
		           "it reads the tensors named in its arguments", st->name);
		return error_node(L, st->loc, name, in);
	}
	for (int i = 0; i < NLAYERS; i++)
		if (strcmp(st->name, layers[i].word) == 0)
			return layers[i].lower(L, st, in, name);
	Activation act;
	if (find_act(L, st->name, &act))
		return lower_act(L, st, in, name, act);
	error_unknown_layer(L, st, first);
	return error_node(L, st->loc, name, in);
}

/* The first step of a chain: a tensor name, a merge, or a layer reading
 * the current tensor. */
static IrNode *lower_first(Lower *L, const AstStep *st, const char *name)
{
	if (!st->name)
		return error_node(L, st->loc, name, L->current);
	if (in_list(st->name, merge_words))
		return lower_merge(L, st, name);
	if (!st->has_parens) {
		if (find_binding(&L->tensor_map, st->name) ||
		    find_binding(&L->later, st->name)) {
			IrNode *t = lookup_tensor(L, st->name, st->name_loc);
			return t ? t : error_node(L, st->loc, name, NULL);
		}
	}
	if (!L->current) {
		bool known = is_act(L, st->name) || in_list(st->name, layer_words);
		if (!known) {
			error_unknown_layer(L, st, true);
		} else if (!L->m->incomplete) {
			/* (In a model the parser dropped statements from, the
			 * input may be one of them.) */
			diag_error(L->d, st->loc, "layer '%s' has no input: no tensor "
			           "before it", st->name);
			diag_note(L->d, NOLOC, "declare the model's input first, "
			          "e.g. 'input x[4]'");
			L->no_input_reported = true;
		}
		return error_node(L, st->loc, name, NULL);
	}
	return lower_layer(L, st, L->current, name, true);
}

/* Lowers s's chain; its last new node is named `name` (or automatically if
 * NULL).  Returns the chain's result, never NULL. */
static IrNode *lower_chain(Lower *L, const AstStmt *s, const char *name)
{
	const AstStep *st = s->chain;
	if (!st)
		return error_node(L, s->loc, name, L->current);
	IrNode *cur = lower_first(L, st, st->next ? NULL : name);
	for (st = st->next; st; st = st->next)
		cur = lower_layer(L, st, cur, st->next ? NULL : name, false);
	return cur;
}

/* ---- statements --------------------------------------------------------- */

static void lower_input(Lower *L, const AstStmt *s)
{
	const char *name = s->name ? s->name : "?";
	IrNode *n = new_node(L, OP_INPUT, s->loc, NULL, name, NULL);
	if (L->input_stmt) {
		diag_error(L->d, s->loc, "a model may have only one input for now "
		           "(multiple inputs are not supported yet)");
		diag_note(L->d, L->input_stmt->loc, "the first input is here");
		n->error = true;
	}
	if (s->nvalues > NNC_MAX_RANK) {
		const AstValue *first = s->values[0];
		const AstValue *last = s->values[s->nvalues - 1];
		diag_error(L->d, first && last ? loc_span(first->loc, last->loc)
		                               : s->loc,
		           "too many dimensions: %d (limit %d)", s->nvalues,
		           NNC_MAX_RANK);
		n->error = true;
	}
	for (int i = 0; i < s->nvalues && i < NNC_MAX_RANK; i++) {
		const AstValue *v = s->values[i];
		if (!v || !get_int(L, v, "dimension", 1, IR_MAX_ELEMS,
		                   &n->shape.dims[i]))
			n->error = true;
	}
	if (s->nvalues == 0 || !s->values)
		n->error = true;
	n->shape.rank = n->error ? -1 : s->nvalues;
	if (s->name && check_new_name(L, s->name, s->name_loc))
		bind(L, s->name, s->name_loc, n);
	if (!L->input_stmt) {
		L->input_stmt = s;
		L->m->input = n;
	}
	L->current = n;
}

static void set_output(Lower *L, const AstStmt *s, IrNode *n)
{
	if (L->output_stmt) {
		diag_error(L->d, s->loc, "a model may have only one output for now "
		           "(multiple outputs are not supported yet)");
		diag_note(L->d, L->output_stmt->loc, "the first output is here");
		return;
	}
	L->output_stmt = s;
	L->m->output = n;
}

/* NAME = chain, output NAME = chain, output NAME, or a bare chain. */
static void lower_tensor_stmt(Lower *L, const AstStmt *s)
{
	IrNode *n;
	if (s->kind == STMT_OUTPUT && !s->chain && s->name) {
		n = lookup_tensor(L, s->name, s->name_loc);
		if (!n)
			n = error_node(L, s->loc, NULL, NULL);
	} else {
		const char *name = NULL;
		if (s->kind != STMT_CHAIN && s->name &&
		    check_new_name(L, s->name, s->name_loc))
			name = s->name;
		n = lower_chain(L, s, name);
		if (name)
			bind(L, name, s->name_loc, n);
	}
	if (s->kind == STMT_OUTPUT)
		set_output(L, s, n);
	L->current = n;
}

/* ---- settings ----------------------------------------------------------- */

static void set_loss(Lower *L, const AstStmt *s, const AstValue *v)
{
	(void)s;
	if (reported(v))
		return;
	if (v->kind != VAL_IDENT) {
		diag_error(L->d, v->loc, "'loss' needs a loss name such as 'mse', "
		           "got %s", value_str(L, v));
		return;
	}
	for (int i = 1; i < LOSS_COUNT; i++)
		if (strcmp(v->text, loss_names[i]) == 0) {
			L->m->train.loss = (Loss)i;
			return;
		}
	/* "none" is the absence of a loss, not something to write. */
	PtrVec cands = {0};
	push_list(&cands, loss_names + 1, LOSS_COUNT - 1);
	error_unknown(L, v->loc, "loss", v->text, "", freeze(L, &cands));
}

static void set_opt_args(Lower *L, Optimizer *o, const AstValue *v)
{
	const OptParam *rows[8] = {NULL};
	const char *names[8] = {NULL};
	int n = 0;
	for (int i = 0; i < opt_nparams; i++)
		if (opt_params[i].opt == o->kind) {
			ASSERT(n < 8);
			rows[n] = &opt_params[i];
			names[n++] = opt_params[i].name;
		}
	const AstValue *vals[8] = {NULL};
	bind_args(L, opt_names[o->kind], names, n, v->args, vals);
	for (int i = 0; i < n; i++) {
		const OptParam *p = rows[i];
		if (!vals[i])
			continue;
		if (p->is_bool) {
			bool b;
			if (get_bool(L, vals[i], p->name, &b))
				ir_opt_set(o, p, b ? 1 : 0);
		} else {
			double x;
			Range r = {p->min, p->min_incl, p->max, p->max_incl};
			if (get_real(L, vals[i], p->name, r, &x))
				ir_opt_set(o, p, x);
		}
	}
}

static void set_optimizer(Lower *L, const AstStmt *s, const AstValue *v)
{
	if (v->kind == VAL_NUM) {
		if (!reported(v))
			diag_error(L->d, v->loc, "'optimizer' needs an optimizer name "
			           "such as 'adam', got %s", value_str(L, v));
		return;
	}
	for (int k = 0; k < OPT_COUNT; k++)
		if (strcmp(v->text, opt_names[k]) == 0) {
			Optimizer o = ir_opt_default((OptKind)k);
			set_opt_args(L, &o, v);
			L->m->train.opt = o;
			L->m->train.opt_loc = s->loc;
			return;
		}
	PtrVec cands = {0};
	push_list(&cands, opt_names, OPT_COUNT);
	error_unknown(L, name_loc(v), "optimizer", v->text, "",
	              freeze(L, &cands));
}

static void set_metric(Lower *L, const AstValue *v)
{
	Training *t = &L->m->train;
	if (reported(v))
		return;
	if (v->kind != VAL_IDENT) {
		diag_error(L->d, v->loc, "'metrics' needs metric names such as "
		           "'accuracy', got %s", value_str(L, v));
		return;
	}
	for (int i = 0; i < METRIC_COUNT; i++) {
		if (strcmp(v->text, metric_names[i]) != 0)
			continue;
		if (t->metrics[i]) {
			diag_error(L->d, v->loc, "metric '%s' is listed twice",
			           v->text);
			diag_note(L->d, t->metric_loc[i], "first listed here");
			return;
		}
		t->metrics[i] = true;
		t->metric_loc[i] = v->loc;
		return;
	}
	PtrVec cands = {0};
	push_list(&cands, metric_names, METRIC_COUNT);
	error_unknown(L, v->loc, "metric", v->text, "", freeze(L, &cands));
}

static void set_metrics(Lower *L, const AstStmt *s, const AstValue *v)
{
	(void)v;
	for (int i = 0; i < s->nvalues; i++)
		if (s->values[i])
			set_metric(L, s->values[i]);
}

static void set_batch(Lower *L, const AstStmt *s, const AstValue *v)
{
	(void)s;
	get_int(L, v, "batch", 1, IR_MAX_ELEMS, &L->m->train.batch);
}

static void set_epochs(Lower *L, const AstStmt *s, const AstValue *v)
{
	(void)s;
	get_int(L, v, "epochs", 1, IR_MAX_ELEMS, &L->m->train.epochs);
}

static void set_seed(Lower *L, const AstStmt *s, const AstValue *v)
{
	(void)s;
	/* Up to 2^53, so that every seed is exact in the double it was
	 * parsed as. */
	int64_t seed;
	if (get_int(L, v, "seed", 0, INT64_C(9007199254740992), &seed))
		L->m->train.seed = (uint64_t)seed;
}

static void set_shuffle(Lower *L, const AstStmt *s, const AstValue *v)
{
	(void)s;
	get_bool(L, v, "shuffle", &L->m->train.shuffle);
}

typedef void SettingFn(Lower *L, const AstStmt *s, const AstValue *first);

static const struct {
	const char *name;
	SettingFn *set;
	bool list;                 /* takes several values */
	const char *example;       /* a value, for "needs a value" */
} settings[NSETTINGS] = {
	{"loss", set_loss, false, "mse"},
	{"optimizer", set_optimizer, false, "adam"},
	{"metrics", set_metrics, true, "accuracy"},
	{"batch", set_batch, false, "32"},
	{"epochs", set_epochs, false, "10"},
	{"seed", set_seed, false, "0"},
	{"shuffle", set_shuffle, false, "true"},
};

static int find_setting(const char *name)
{
	int i = 0;
	while (i < NSETTINGS && strcmp(name, settings[i].name) != 0)
		i++;
	return i;
}

static void error_unknown_setting(Lower *L, const AstStmt *s)
{
	if (in_list(s->name, layer_words) || in_list(s->name, merge_words) ||
	    is_act(L, s->name)) {
		diag_error(L->d, s->name_loc, "'%s' is a layer, not a setting: "
		           "write its arguments in parentheses", s->name);
		return;
	}
	const char *names[NSETTINGS + 1];
	for (int i = 0; i < NSETTINGS; i++)
		names[i] = settings[i].name;
	names[NSETTINGS] = NULL;
	error_unknown(L, s->name_loc, "setting", s->name, "", names);
}

static void lower_setting(Lower *L, const AstStmt *s)
{
	if (!s->name)
		return;
	int i = find_setting(s->name);
	if (i == NSETTINGS) {
		error_unknown_setting(L, s);
		return;
	}
	if (s->nvalues < 1 || !s->values || !s->values[0]) {
		diag_error(L->d, s->loc, "'%s' needs a value, e.g. '%s %s'",
		           s->name, s->name, settings[i].example);
		/* Given, if wrongly: later checks stay quiet (see below). */
		if (!L->settings[i])
			L->settings[i] = s;
		if (i == SET_LOSS)
			L->m->train.loss_loc = s->loc;
		return;
	}
	if (L->settings[i]) {
		diag_error(L->d, s->name_loc, "duplicate '%s' setting", s->name);
		diag_note(L->d, L->settings[i]->name_loc,
		          "previous '%s' setting is here", s->name);
		return;
	}
	L->settings[i] = s;
	/* Set even if the value is wrong, so later checks know a loss was
	 * meant and stay quiet. */
	if (i == SET_LOSS)
		L->m->train.loss_loc = s->loc;
	if (s->nvalues > 1 && !settings[i].list) {
		const AstValue *last = s->values[s->nvalues - 1];
		diag_error(L->d, last ? loc_span(s->values[1]->loc, last->loc)
		                      : s->loc,
		           "'%s' takes one value, got %d", s->name, s->nvalues);
		return;
	}
	settings[i].set(L, s, s->values[0]);
}

/* A lone setting name, such as `loss`, parses as a chain of one step.
 * If no tensor, layer or activation has that name, it is taken as the
 * setting without its value: returns that setting statement (to report
 * as such), else NULL. */
static const AstStmt *setting_without_value(Lower *L, const AstStmt *s)
{
	const AstStep *st = s->chain;
	if (s->kind != STMT_CHAIN || !st || st->next || st->has_parens ||
	    !st->name || find_setting(st->name) == NSETTINGS ||
	    find_binding(&L->tensor_map, st->name) ||
	    find_binding(&L->later, st->name) || reserved(L, st->name))
		return NULL;
	AstStmt *set = arena_alloc(L->a, sizeof *set);
	set->kind = STMT_SETTING;
	set->loc = s->loc;
	set->name = st->name;
	set->name_loc = st->name_loc;
	return set;
}

/* ---- models ------------------------------------------------------------- */

static void init_training(Training *t)
{
	memset(t, 0, sizeof *t);
	t->loss = LOSS_NONE;
	t->opt = ir_opt_default(OPT_SGD);
	t->batch = 32;
	t->epochs = 1;
	t->seed = 0;
	t->shuffle = true;
}

/* Every name the model binds, so a use before the definition can say so. */
static void collect_later(Lower *L, const AstModel *am)
{
	for (const AstStmt *s = am->stmts; s; s = s->next) {
		bool binds = s->kind == STMT_INPUT || s->kind == STMT_ASSIGN ||
		             (s->kind == STMT_OUTPUT && s->chain);
		if (!binds || !s->name || find_binding(&L->later, s->name) ||
		    reserved(L, s->name))
			continue;
		Binding *b = arena_alloc(L->a, sizeof *b);
		b->name = s->name;
		b->loc = s->name_loc;
		map_put(&L->later, b);
	}
}

/* The node whose automatic name is `name`, if some layer has it: names
 * are KIND_K, so only a name of that form with K no more than KIND's count
 * can clash. */
static const IrNode *auto_named(const Lower *L, const char *name)
{
	const char *us = strrchr(name, '_');
	if (!us || us[1] < '1' || us[1] > '9' || strspn(us + 1, "0123456789")
	    != strlen(us + 1) || strlen(us + 1) > 9)
		return NULL;
	int k = atoi(us + 1);
	size_t kind_len = (size_t)(us - name);
	for (int i = 0; i < L->counters.len; i++) {
		const Counter *c = L->counters.items[i];
		if (strlen(c->kind) != kind_len || strncmp(c->kind, name, kind_len)
		    || c->n < k)
			continue;
		for (int j = 0; j < L->nodes.len; j++) {
			const IrNode *n = L->nodes.items[j];
			if (!n->tensor && !n->error && strcmp(n->name, name) == 0)
				return n;
		}
	}
	return NULL;
}

/* A tensor name equal to an automatic layer name would make two layers
 * share a name in summaries, generated C and weight files. */
static void check_clashes(Lower *L)
{
	for (int i = 0; i < L->tensors.len; i++) {
		const Binding *b = L->tensors.items[i];
		const IrNode *n = auto_named(L, b->name);
		if (!n)
			continue;
		diag_error(L->d, b->loc, "name '%s' clashes with the automatic "
		           "name of the %s layer at %d:%d", b->name,
		           ir_node_kind(n), n->loc.first_line, n->loc.first_column);
		diag_note(L->d, n->loc, "this layer is named '%s' automatically",
		          n->name);
	}
}

/* The checks for what is missing are skipped in a model the parser dropped
 * statements from: what is missing may be one of them. */
static void finish_model(Lower *L, const AstModel *am)
{
	IrModel *m = L->m;
	if (!L->input_stmt && !L->no_input_reported && !m->incomplete) {
		diag_error(L->d, m->loc, "model '%s' has no input", m->name);
		diag_note(L->d, NOLOC, "declare one with 'input x[N]'");
	}
	if (!L->output_stmt)
		m->output = L->current;
	check_clashes(L);
	if (!L->settings[SET_LOSS] && !m->incomplete) {
		diag_warning(L->d, am->name_loc, "model '%s' has no loss: it can be "
		             "used for inference only", m->name);
		diag_note(L->d, NOLOC, "add e.g. 'loss mse' to train it");
	}
	m->nnodes = L->nodes.len;
	m->nodes = (IrNode **)ptrvec_freeze(&L->nodes, L->a);
}

static IrModel *lower_model(Lower *L, const AstModel *am)
{
	IrModel *m = arena_alloc(L->a, sizeof *m);
	m->name = am->name ? am->name : "?";
	m->loc = am->name_loc.first_line ? am->name_loc : am->loc;
	m->incomplete = am->incomplete;
	init_training(&m->train);
	L->m = m;
	collect_later(L, am);
	for (const AstStmt *s = am->stmts; s; s = s->next) {
		L->stmt = s;
		switch (s->kind) {
		case STMT_INPUT:
			lower_input(L, s);
			break;
		case STMT_CHAIN: {
			const AstStmt *set = setting_without_value(L, s);
			if (set)
				lower_setting(L, set);
			else
				lower_tensor_stmt(L, s);
			break;
		}
		case STMT_ASSIGN:
		case STMT_OUTPUT:
			lower_tensor_stmt(L, s);
			break;
		case STMT_SETTING:
			lower_setting(L, s);
			break;
		}
	}
	finish_model(L, am);
	return m;
}

static void free_lower(Lower *L)
{
	free(L->nodes.items);
	free(L->tensors.items);
	free(L->tensor_map.slots);
	free(L->later.slots);
	free(L->counters.items);
	strmap_free(&L->counter_map);
}

IrProgram *lower_file(Arena *a, const AstFile *f, CustomAct **acts, Diag *d)
{
	IrProgram *p = arena_alloc(a, sizeof *p);
	p->src = f->src;
	p->acts = acts;
	/* After errors in earlier phases the AST may lack statements, so no
	 * model can be trusted to be complete. */
	bool trusted = d->nerrors == 0;
	PtrVec models = {0};
	StrMap by_name = {0}, act_map = {0};   /* IrModel *, CustomAct * */
	for (CustomAct **c = acts; c && *c; c++)
		strmap_add(&act_map, (*c)->name, *c);
	for (const AstModel *am = f->models; am; am = am->next) {
		Lower L = {.a = a, .d = d, .acts = acts, .act_map = &act_map};
		int errors = d->nerrors;
		IrModel *prev = am->name ? strmap_get(&by_name, am->name) : NULL;
		if (prev) {
			diag_error(d, am->name_loc, "redefinition of model '%s'",
			           am->name);
			diag_note(d, prev->loc, "previous definition is here");
		}
		IrModel *m = lower_model(&L, am);
		free_lower(&L);
		m->ok = trusted && d->nerrors == errors;
		ptrvec_push(&models, m);
		if (am->name)
			strmap_add(&by_name, am->name, m);
	}
	strmap_free(&by_name);
	strmap_free(&act_map);
	p->nmodels = models.len;
	p->models = (IrModel **)ptrvec_freeze(&models, a);
	/* An empty file, or one of activations only, would otherwise pass
	 * silently.  (After an error, the model may be what it was about.) */
	if (!f->models && d->nerrors == 0) {
		diag_warning(d, NOLOC, "this file defines no model");
		diag_note(d, NOLOC, "a model starts with 'model NAME {'");
	}
	return p;
}

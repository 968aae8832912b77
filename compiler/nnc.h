/*
 * nnc.h — the compiler's one internal header, and a map of its architecture.
 *
 * nnc reads a .nn file and runs a flat pipeline (see main.c):
 *
 *   source_load  ->  parse_file (grammar/)  ->  lower_file  ->  shape_check  ->  emit/print
 *      text            AST (this file)           IR             IR, shaped
 *
 * Each section below belongs to one .c file and says what that phase does.
 * Every token, AST node and IR node carries a Loc so that any phase can
 * report a diagnostic that points at the user's text.  Everything that lives
 * as long as one compilation is allocated from that compilation's Arena; there
 * is no global mutable state, so two compilations in one process are
 * independent.
 */
#ifndef NNC_H
#define NNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NNC_VERSION "0.1.0"

#if defined(__GNUC__) || defined(__clang__)
#define NNC_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define NNC_NORETURN __attribute__((noreturn))
#else
#define NNC_PRINTF(fmt, args)
#define NNC_NORETURN
#endif

/* Documented limits of the language (docs/LANGUAGE.md, "Limits"). */
enum {
	NNC_MAX_RANK = 8,          /* dimensions per tensor, batch excluded */
	NNC_MAX_NAME = 64,         /* characters in an identifier */
	NNC_MAX_DEPTH = 100,       /* nesting of expressions and parentheses */
	NNC_MAX_ERRORS = 20,       /* errors reported before giving up */
};

/* ======================================================================
 * arena.c — memory that lives as long as one compilation
 * ====================================================================== */

typedef struct Arena Arena;

Arena *arena_new(void);
/* Frees every block the arena handed out. */
void arena_free(Arena *a);
/* Zeroed memory, aligned for any type; never returns NULL (dies on OOM). */
void *arena_alloc(Arena *a, size_t size);
/* Zeroed array of n elements of size each, with an overflow check. */
void *arena_array(Arena *a, size_t n, size_t size);
char *arena_strndup(Arena *a, const char *s, size_t n);
char *arena_strdup(Arena *a, const char *s);
char *arena_printf(Arena *a, const char *fmt, ...) NNC_PRINTF(2, 3);

/* Heap allocation for the few things that outlive an arena; die on OOM. */
/* Out of memory: "nnc: out of memory (what)" and exit status 3, the end
 * of every failed allocation of nnc's own. */
NNC_NORETURN void nnc_out_of_memory(const char *what);
void *xmalloc(size_t size);
void *xrealloc(void *p, size_t size);

/* A growable array of pointers, backed by the heap until frozen into the
 * arena with ptrvec_freeze (which frees the heap storage). */
typedef struct PtrVec {
	void **items;
	int len, cap;
} PtrVec;
void ptrvec_push(PtrVec *v, void *item);
void **ptrvec_freeze(PtrVec *v, Arena *a);

/* Internal bug, never a user error: prints file:line and aborts. */
NNC_NORETURN void nnc_die(const char *file, int line, const char *fmt, ...)
	NNC_PRINTF(3, 4);
#define DIE(...) nnc_die(__FILE__, __LINE__, __VA_ARGS__)
#define ASSERT(c) ((c) ? (void)0 : DIE("assertion failed: %s", #c))

/* ======================================================================
 * source.c — source text and its line map
 * ====================================================================== */

/* A span of source text: 1-based lines and columns, inclusive at both ends.
 * The field names are those of bison's default YYLTYPE, so the parser uses
 * Loc directly as its location type.  first_line == 0 means "no location". */
typedef struct Loc {
	int first_line, first_column;
	int last_line, last_column;
} Loc;

typedef struct Source {
	const char *name;          /* as the user wrote it on the command line */
	const char *text;          /* NUL-terminated copy; may contain NULs */
	size_t len;
	int nlines;
	size_t *line_start;        /* byte offset of each line, 1-based index */
} Source;

/* Reads a whole file into the arena.  Returns NULL and fills err on failure. */
Source *source_load(Arena *a, const char *path, char *err, size_t errlen);
/* Wraps text already in memory (used by tests and the fuzzer). */
Source *source_from_memory(Arena *a, const char *name, const char *text,
                           size_t len);
/* The text of 1-based line n, without its newline; *len receives its length. */
const char *source_line(const Source *s, int n, size_t *len);
Loc loc_span(Loc a, Loc b);

/* ======================================================================
 * diag.c — gcc/clang-style diagnostics
 * ====================================================================== */

typedef enum DiagLevel { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE } DiagLevel;

typedef struct Diag {
	const Source *src;
	FILE *out;
	int nerrors, nwarnings;
	int max_errors;            /* stop printing errors after this many */
	bool color;                /* ANSI colours, only on a terminal */
	bool suppress_notes;       /* the error they belong to was not shown */
} Diag;

void diag_init(Diag *d, const Source *src, FILE *out);
/* `file:line:col: error: msg`, the source line, and a ^~~~ underline.
 * A note that follows attaches to the last error or warning. */
void diag_error(Diag *d, Loc loc, const char *fmt, ...) NNC_PRINTF(3, 4);
void diag_warning(Diag *d, Loc loc, const char *fmt, ...) NNC_PRINTF(3, 4);
void diag_note(Diag *d, Loc loc, const char *fmt, ...) NNC_PRINTF(3, 4);
/* Prints the closing "N errors generated." line if there were any. */
void diag_finish(Diag *d);

/* The candidate closest to name by edit distance, or NULL if none is close
 * enough to be a plausible typo.  cands is NULL-terminated. */
const char *diag_suggest(const char *name, const char *const *cands);

/* ======================================================================
 * ast.c — the syntax tree the parser builds, and its printer (--dump=ast)
 * ====================================================================== */

/* Expressions of custom activations.  After expr_resolve, EXPR_CALL nodes
 * name a built-in function (fn != FN_NONE); calls of other custom
 * activations have been inlined. */
#define NNC_FUNCS(X) \
	X(FN_EXP, "exp") X(FN_LOG, "log") X(FN_SQRT, "sqrt") X(FN_SIN, "sin") \
	X(FN_COS, "cos") X(FN_TAN, "tan") X(FN_TANH, "tanh") \
	X(FN_SIGMOID, "sigmoid") X(FN_RELU, "relu") X(FN_ABS, "abs") \
	X(FN_STEP, "step")
/* FN_STEP (1 for x > 0, else 0) is not in the language: it appears only in
 * derivatives (relu' and abs' are built from it). */

typedef enum Func {
	FN_NONE,
#define X(e, s) e,
	NNC_FUNCS(X)
#undef X
	FN_COUNT
} Func;
extern const char *const func_names[FN_COUNT];

typedef enum ExprKind {
	EXPR_NUM, EXPR_VAR, EXPR_NEG, EXPR_ADD, EXPR_SUB, EXPR_MUL, EXPR_DIV,
	EXPR_POW, EXPR_CALL
} ExprKind;

typedef struct Expr {
	ExprKind kind;
	Loc loc;
	double num;                /* EXPR_NUM */
	const char *name;          /* EXPR_VAR, EXPR_CALL: as written */
	Func fn;                   /* EXPR_CALL, after resolution */
	struct Expr *lhs, *rhs;    /* operands; EXPR_CALL's argument is lhs */
} Expr;

/* A value in a layer argument or a setting: 8, -0.5, tanh, true, adam(...) */
typedef enum ValueKind { VAL_NUM, VAL_IDENT, VAL_CALL } ValueKind;

typedef struct AstArg AstArg;

typedef struct AstValue {
	ValueKind kind;
	Loc loc;
	double num;                /* VAL_NUM, sign included */
	bool is_int;               /* VAL_NUM written without '.' or exponent */
	bool bad;                  /* VAL_NUM the scanner reported (malformed,
	                              too large or too small): later phases
	                              stay quiet about it */
	const char *text;          /* VAL_NUM: as written; VAL_IDENT/CALL: name */
	AstArg *args;              /* VAL_CALL */
	int nargs;
} AstValue;

struct AstArg {
	Loc loc;
	const char *name;          /* keyword, or NULL for a positional arg */
	Loc name_loc;
	AstValue *value;
	AstArg *next;
};

/* One step of a chain: `dense(4, tanh)`, `relu`, `x` (a tensor name),
 * `concat(a, b)`.  Whether a bare name is a tensor or a layer is decided
 * during lowering. */
typedef struct AstStep {
	Loc loc;                   /* whole step, name through ')' */
	const char *name;
	Loc name_loc;
	bool has_parens;
	AstArg *args;
	int nargs;
	struct AstStep *next;
} AstStep;

typedef enum StmtKind {
	STMT_INPUT,                /* input NAME[d, ...] */
	STMT_ASSIGN,               /* NAME = chain */
	STMT_OUTPUT,               /* output NAME [= chain] */
	STMT_CHAIN,                /* chain */
	STMT_SETTING,              /* NAME value, value ... */
} StmtKind;

typedef struct AstStmt {
	StmtKind kind;
	Loc loc;
	const char *name;          /* INPUT/ASSIGN/OUTPUT: tensor; SETTING: key */
	Loc name_loc;
	AstStep *chain;            /* ASSIGN, OUTPUT (may be NULL), CHAIN */
	AstValue **values;         /* INPUT: dims; SETTING: values */
	int nvalues;
	struct AstStmt *next;
} AstStmt;

typedef struct AstModel {
	Loc loc;
	const char *name;
	Loc name_loc;
	AstStmt *stmts;
	bool incomplete;           /* the parser dropped (part of) a statement
	                              of its body after a syntax error: checks
	                              for what is missing stay quiet */
	struct AstModel *next;
} AstModel;

typedef struct AstActivation {
	Loc loc;
	const char *name;
	Loc name_loc;
	const char *param;         /* the parameter's name, normally x; NULL
	                              if the header had a syntax error */
	Loc param_loc;
	Expr *body;                /* NULL if it had a syntax error: the
	                              definition is kept so that its uses are
	                              not reported as unknown */
	struct AstActivation *next;
} AstActivation;

typedef struct AstFile {
	const Source *src;
	AstModel *models;          /* in source order */
	AstActivation *activations;
} AstFile;

/* Prints the tree in a stable, indented text form for golden tests. */
void ast_dump(FILE *out, const AstFile *f);

/* ======================================================================
 * parse.c + grammar/nn.y + grammar/nn.l — text to AST
 * ====================================================================== */

/* Parses the whole source, reporting syntax errors (with recovery) to d.
 * Always returns a file (possibly with fewer statements than written). */
AstFile *parse_file(Arena *a, const Source *src, Diag *d);

/* ======================================================================
 * expr.c — custom activations: resolution, derivative, simplification
 * ====================================================================== */

/* Resolves every custom activation of f: checks names (unknown functions,
 * variables other than the parameter, recursion), inlines calls of other
 * custom activations, and derives the derivative.  Reports errors to d. */
typedef struct CustomAct {
	const char *name;
	Loc loc;                   /* the definition's name */
	const char *param;
	Expr *f;                   /* resolved body, variable renamed to "x" */
	Expr *df;                  /* simplified derivative d f / d x */
	bool ok;                   /* false if the definition had errors */
} CustomAct;

/* Returns a NULL-terminated array, one per definition, in source order. */
CustomAct **expr_resolve_all(Arena *a, const AstFile *f, Diag *d);

/* Size limits that expr_resolve_all enforces (reporting "too large"), so
 * that every later walk of an ok CustomAct's f and df may simply recurse:
 * f, after inlining, has at most EXPR_MAX_NODES nodes and depth
 * EXPR_MAX_DEPTH; df at most EXPR_MAX_DERIV_NODES and EXPR_MAX_DERIV_DEPTH.
 * Nodes are counted as a tree walk sees them (shared subtrees once per use). */
enum {
	EXPR_MAX_NODES = 100000,
	EXPR_MAX_DEPTH = 1000,
	EXPR_MAX_DERIV_NODES = 1000000,
	EXPR_MAX_DERIV_DEPTH = 4000,
};
Expr *expr_diff(Arena *a, const Expr *e);
Expr *expr_simplify(Arena *a, const Expr *e);
/* Value at x of a resolved expression (built-ins only, no calls left). */
double expr_eval(const Expr *e, double x);
/* Prints an expression with minimal parentheses, e.g. `x * sigmoid(x)`;
 * numbers in the shortest form that reads back exactly. */
void expr_print(FILE *out, const Expr *e);

/* ======================================================================
 * ir.c — the IR: one graph of typed nodes per model, in topological order
 * ====================================================================== */

/* Built-in activations.  ACT_CUSTOM refers to a CustomAct. */
#define NNC_ACTS(X) \
	X(ACT_LINEAR, "linear") X(ACT_SIGMOID, "sigmoid") X(ACT_TANH, "tanh") \
	X(ACT_RELU, "relu") X(ACT_SOFTMAX, "softmax") X(ACT_SIN, "sin") \
	X(ACT_COS, "cos")

typedef enum ActKind {
#define X(e, s) e,
	NNC_ACTS(X)
#undef X
	ACT_CUSTOM,
} ActKind;
extern const char *const act_names[ACT_CUSTOM];

typedef struct Activation {
	ActKind kind;
	const CustomAct *custom;   /* ACT_CUSTOM */
} Activation;
const char *act_name(Activation a);

/* The op table: enum, the name users and summaries see, and the Keras class
 * name printed in summaries.  Shape rules live in shape.c, keyed by op. */
#define NNC_OPS(X) \
	X(OP_INPUT,   "input",    "InputLayer") \
	X(OP_DENSE,   "dense",    "Dense") \
	X(OP_ACT,     "activation", "Activation") \
	X(OP_DROPOUT, "dropout",  "Dropout") \
	X(OP_FLATTEN, "flatten",  "Flatten") \
	X(OP_ADD,     "add",      "Add") \
	X(OP_CONCAT,  "concat",   "Concatenate")

typedef enum Op {
#define X(e, s, k) e,
	NNC_OPS(X)
#undef X
	OP_COUNT
} Op;
extern const char *const op_names[OP_COUNT];
extern const char *const op_classes[OP_COUNT];

/* Shape of one example (the batch dimension is implicit).  rank < 0 means
 * unknown: a node whose shape check failed, whose users stay quiet. */
typedef struct Shape {
	int rank;
	int64_t dims[NNC_MAX_RANK];
} Shape;

int64_t shape_size(Shape s);           /* product of dims; -1 if unknown */
bool shape_equal(Shape a, Shape b);
/* "[16]", "[28, 28]", "[?]" — in the arena. */
const char *shape_str(Arena *a, Shape s);

typedef struct IrNode IrNode;
struct IrNode {
	int id;                    /* index in IrModel.nodes */
	Op op;
	Loc loc;                   /* the step (or input statement) it came from */
	const char *name;          /* stable layer name: dense_1, deep, x, ... */
	const char *tensor;        /* user tensor name bound to it, or NULL */
	Loc tensor_loc;            /* where that name was bound */
	IrNode **inputs;
	int ninputs;
	Shape shape;               /* output shape, per example */

	/* OP_DENSE */
	int64_t units;
	bool use_bias;
	Shape wshape, bshape;      /* PyTorch layout: weight [out, in], bias [out] */
	/* OP_DENSE and OP_ACT */
	Activation act;
	/* OP_DROPOUT */
	double rate;

	int64_t nparams;
	bool reaches_output;
	bool error;                /* lowering reported an error here: the node
	                              is a placeholder, its shape stays unknown
	                              and its users stay quiet */
};

/* The kind a layer is counted and described by: "dense", "concat", and for
 * activation layers the activation's name ("relu", "swish"). */
const char *ir_node_kind(const IrNode *n);
/* The name to show users for the tensor n makes: its tensor name if bound,
 * else its layer name. */
const char *ir_node_label(const IrNode *n);

/* Every buffer (one example's tensor, a layer's parameters, a batch of one
 * tensor, all parameters) is limited to this many elements: the runtime's
 * GEMM and the generated loops index with int. */
#define IR_MAX_ELEMS INT64_C(2147483647)

/* Shortest decimal that reads back as x ("0.01", "1e-07", "3");
 * buf needs IR_NUM_BUF bytes.  Returns buf. */
enum { IR_NUM_BUF = 32 };
char *ir_fmt_num(char *buf, double x);
/* n with thousands separators, like Keras's "Total params: 235,146". */
char *ir_fmt_count(char *buf, int64_t n);

#define NNC_LOSSES(X) \
	X(LOSS_NONE, "none") X(LOSS_MSE, "mse") X(LOSS_MAE, "mae") \
	X(LOSS_BCE, "binary_crossentropy") \
	X(LOSS_CCE, "categorical_crossentropy") \
	X(LOSS_SCCE, "sparse_categorical_crossentropy")
typedef enum Loss {
#define X(e, s) e,
	NNC_LOSSES(X)
#undef X
	LOSS_COUNT
} Loss;
extern const char *const loss_names[LOSS_COUNT];

#define NNC_METRICS(X) \
	X(METRIC_ACCURACY, "accuracy") X(METRIC_MAE, "mae") X(METRIC_MSE, "mse")
typedef enum Metric {
#define X(e, s) e,
	NNC_METRICS(X)
#undef X
	METRIC_COUNT
} Metric;
extern const char *const metric_names[METRIC_COUNT];

/* Optimizers and their hyperparameters, with Keras's defaults and the
 * allowed range: (optimizer, field, name, default, min, min inclusive, max,
 * max inclusive, is boolean).  One row per hyperparameter, in positional
 * order, so the table answers parsing, defaults, checks and printing. */
#define NNC_OPTIMIZERS(X) \
	X(OPT_SGD, "sgd") X(OPT_ADAM, "adam") X(OPT_RMSPROP, "rmsprop") \
	X(OPT_ADAGRAD, "adagrad")
typedef enum OptKind {
#define X(e, s) e,
	NNC_OPTIMIZERS(X)
#undef X
	OPT_COUNT
} OptKind;
extern const char *const opt_names[OPT_COUNT];

#define NNC_OPT_PARAMS(X) \
	X(OPT_SGD,     learning_rate, "learning_rate", 0.01,  0, false, 1e30, true, false) \
	X(OPT_SGD,     momentum,      "momentum",      0.0,   0, true,  1,    false, false) \
	X(OPT_SGD,     nesterov,      "nesterov",      0.0,   0, true,  1,    true, true) \
	X(OPT_ADAM,    learning_rate, "learning_rate", 0.001, 0, false, 1e30, true, false) \
	X(OPT_ADAM,    beta_1,        "beta_1",        0.9,   0, true,  1,    false, false) \
	X(OPT_ADAM,    beta_2,        "beta_2",        0.999, 0, true,  1,    false, false) \
	X(OPT_ADAM,    epsilon,       "epsilon",       1e-7,  0, false, 1e30, true, false) \
	X(OPT_RMSPROP, learning_rate, "learning_rate", 0.001, 0, false, 1e30, true, false) \
	X(OPT_RMSPROP, rho,           "rho",           0.9,   0, true,  1,    false, false) \
	X(OPT_RMSPROP, momentum,      "momentum",      0.0,   0, true,  1,    false, false) \
	X(OPT_RMSPROP, epsilon,       "epsilon",       1e-7,  0, false, 1e30, true, false) \
	X(OPT_ADAGRAD, learning_rate, "learning_rate", 0.001, 0, false, 1e30, true, false) \
	X(OPT_ADAGRAD, initial_accumulator_value, "initial_accumulator_value", 0.1, 0, true, 1e30, true, false) \
	X(OPT_ADAGRAD, epsilon,       "epsilon",       1e-7,  0, false, 1e30, true, false)

typedef struct Optimizer {
	OptKind kind;
	double learning_rate, momentum, nesterov;  /* sgd (+ rmsprop momentum) */
	double beta_1, beta_2, epsilon;            /* adam (+ others' epsilon) */
	double rho;                                /* rmsprop */
	double initial_accumulator_value;          /* adagrad */
} Optimizer;

/* NNC_OPT_PARAMS as data: one row per hyperparameter, in positional order
 * within each optimizer. */
typedef struct OptParam {
	OptKind opt;
	const char *name;
	size_t offset;             /* of the double in Optimizer */
	double def;
	double min;
	bool min_incl;
	double max;                /* 1e30 means "no upper bound" */
	bool max_incl;
	bool is_bool;              /* stored as 0 or 1 */
} OptParam;
extern const OptParam opt_params[];
extern const int opt_nparams;

/* The optimizer k with every hyperparameter at its default. */
Optimizer ir_opt_default(OptKind k);
double ir_opt_get(const Optimizer *o, const OptParam *p);
void ir_opt_set(Optimizer *o, const OptParam *p, double v);
/* Writes "sgd(learning_rate=0.01, momentum=0, nesterov=false)" into buf,
 * which needs IR_OPT_BUF bytes.  Returns buf. */
enum { IR_OPT_BUF = 256 };
char *ir_fmt_opt(char *buf, const Optimizer *o);

/* Training settings in force, defaults filled in.  *_loc point at the
 * setting statement, or have first_line 0 when the default applies. */
typedef struct Training {
	Loss loss;
	Loc loss_loc;
	Optimizer opt;
	Loc opt_loc;
	bool metrics[METRIC_COUNT];
	Loc metric_loc[METRIC_COUNT];
	int64_t batch, epochs;
	uint64_t seed;
	bool shuffle;
} Training;

typedef struct IrModel {
	const char *name;
	Loc loc;                   /* the model's name in `model NAME {` */
	IrNode **nodes;            /* topological order; nodes[0] is the input */
	int nnodes;
	IrNode *input, *output;
	Training train;
	int64_t total_params;
	bool ok;                   /* no errors in this model */
	bool incomplete;           /* AstModel.incomplete: lowering and
	                              shape_check do not report what may be
	                              in the dropped statements (no input, no
	                              loss, metrics without a loss, unused) */
} IrModel;

typedef struct IrProgram {
	const Source *src;
	IrModel **models;          /* in source order */
	int nmodels;
	CustomAct **acts;          /* NULL-terminated */
} IrProgram;

/* Prints the IR in a stable text form (--dump=ir), custom activations with
 * their derivatives first. */
void ir_dump(FILE *out, const IrProgram *p);

/* ======================================================================
 * lower.c — name resolution and lowering of the AST to IR
 * ====================================================================== */

/* Resolves tensor, layer, activation, loss, optimizer and setting names,
 * builds each model's graph in topological order, and assigns the stable
 * layer names.  Reports unknown names (with suggestions), redefinitions and
 * bad argument values to d.  Shapes are left for shape_check. */
IrProgram *lower_file(Arena *a, const AstFile *f, CustomAct **acts, Diag *d);

/* ======================================================================
 * shape.c — shape inference and model-level checks
 * ====================================================================== */

/* Computes every node's shape and parameter shapes, and checks that layers
 * fit together, that sizes do not overflow, that the loss and metrics fit
 * the output, and which tensors reach the output. */
void shape_check(Arena *a, IrProgram *p, Diag *d);

/* ======================================================================
 * summary.c — Keras-style summary (nnc check) and Graphviz DOT (nnc graph)
 * ====================================================================== */

void summary_print(FILE *out, Arena *a, const IrModel *m);
void graph_print(FILE *out, Arena *a, const IrModel *m);

/* ======================================================================
 * plan.c — the memory plan of one model, for the C back end
 * ====================================================================== */

/* What the generated code keeps for one IR node.  Offsets count elements:
 * weight and bias in the parameter block, the rest in the activation block
 * (each buffer holds a batch, Plan.batch rows); -1 means "none". */
typedef struct NodePlan {
	const IrNode *node;
	const IrNode *root;        /* whose buffers it uses: itself, or for a
	                              view the node it is a view of */
	bool view;                 /* flatten, linear activation: no code
	                              (except as the output, see plan.c) */
	bool live;                 /* reaches the output, so it is computed */
	bool grad_flows;           /* it or a node upstream has parameters */
	bool grad;                 /* training needs d loss / d output */
	bool unrolled;             /* dense: scalar code, not GEMM */
	bool fused;                /* the output, activation fused with loss */
	int64_t weight, bias;      /* parameter block */
	int64_t y, z, mask, dy;    /* output, pre-activation (dense), dropout
	                              mask, gradient of the output */
	bool *dx_assign;           /* [ninputs]: backward's write of input k's
	                              gradient is the first (=) or not (+=) */
} NodePlan;

typedef struct Plan {
	const IrModel *model;
	NodePlan *nodes;           /* indexed by IrNode.id */
	bool training;             /* the model has a loss */
	bool fused;                /* the loss is computed from logits */
	bool backward;             /* some parameter gets a gradient */
	int64_t batch;             /* rows of every activation buffer */
	int64_t nparams;           /* == model->total_params */
	int64_t nacts;             /* elements of the activation block */
	int nslots;                /* optimizer state, in blocks of nparams */
	int64_t target_size;       /* values per target row */
	int nmetrics;              /* metrics enabled */
} Plan;

/* Plans a model that passed every check (m->ok); dense layers with
 * in * units <= unroll_limit are marked for unrolled scalar code.  A
 * violated IR invariant is an internal error (DIE). */
Plan *plan_model(Arena *a, const IrModel *m, int64_t unroll_limit);
/* Whether an activation's derivative needs the pre-activation (sin, cos,
 * custom) rather than the output alone. */
bool plan_act_needs_z(Activation act);

/* ======================================================================
 * emit.c — the C back end: NAME.h and NAME.c for one model (nnc build)
 * ====================================================================== */

typedef struct EmitOptions {
	const char *source;        /* the .nn path as given, for the banner */
	bool f64;                  /* --precision f64: double, not float */
	int64_t unroll_limit;      /* --unroll-limit: multiply-adds per example */
} EmitOptions;

enum { EMIT_DEFAULT_UNROLL = 64 };

/* The printer and the pieces of C that the training build (emit.c) and the
 * inference-only build (emit_infer.c) share, so that both print the same
 * code for the same op: the op forward emitters, activations, softmax,
 * custom activations and literals. */

/* Growable text on the heap. */
typedef struct EmitBuf {
	char *s;                   /* NUL-terminated, or NULL while empty */
	size_t len, cap;
} EmitBuf;
void emit_buf_puts(EmitBuf *b, const char *s);
void emit_buf_putc(EmitBuf *b, char c);
NNC_PRINTF(2, 3) void emit_buf_printf(EmitBuf *b, const char *fmt, ...);
void emit_buf_free(EmitBuf *b);

/* Helpers printed before the code that uses them, only if used. */
typedef enum EmitHelper { H_SIGMOID, H_RELU, H_TANHF, H_ROWS, H_COUNT } EmitHelper;

/* One file being printed: the model, its plan, and the printer's state. */
typedef struct Emitter {
	Arena *a;
	const IrProgram *prog;
	const IrModel *m;
	const Plan *p;
	const EmitOptions *o;
	EmitBuf *out;              /* where emit_line writes */
	int indent;                /* levels of 4 spaces */
	int pending;               /* extra levels for an unbraced body */
	int paren;                 /* '(' left open by the lines so far */
	bool in_comment;           /* inside a block comment */
	bool ctrl_open;            /* a control line's condition goes on */
	const char *M;             /* model name: prefix of generated symbols */
	const char *U;             /* its upper-case form: prefix of macros */
	const char *T;             /* "float" or "double" */
	const char *file;          /* the source's base name, for locations */
	bool helper[H_COUNT];
	bool *custom_f, *custom_df;    /* per CustomAct of prog->acts */
	bool used_x;               /* the current function read "x" */
	bool direct;               /* the backward pass writes the gradients
	                              with its GEMMs' alpha and beta (emit.c,
	                              direct_grads) */
	bool infer;                /* the inference-only build: buffers are
	                              locals, parameters static arrays (see
	                              emit_y_of, emit_param_of) */
} Emitter;

/* Fills E for model m of prog with plan p; nothing printed yet. */
void emit_setup(Emitter *E, Arena *a, const IrProgram *prog,
                const IrModel *m, const Plan *p, const EmitOptions *o);

/* The indent-aware printer.  emit_line prints one line of C: a line that
 * starts with '}' closes a level first, one that ends with '{' opens one,
 * a control line without a body indents the next line, and a line inside
 * unclosed parentheses is a continuation.  Call sites never write leading
 * whitespace (except " * " in block comments). */
void emit_raw_line(Emitter *E, const char *s);
void emit_line(Emitter *E, const char *fmt, ...) NNC_PRINTF(2, 3);
void emit_open(Emitter *E, const char *fmt, ...) NNC_PRINTF(2, 3);  /* "x {" */
void emit_brace(Emitter *E);               /* a bare "{" */
void emit_close(Emitter *E);               /* "}" */
void emit_blank(Emitter *E);
/* Fixed text, line by line: $M model name, $U macro prefix, $T real type,
 * $f "f" in f32 (literal and math suffix), $P f32 or f64, $$ a dollar. */
void emit_code(Emitter *E, const char *text);
/* A statement made of pieces (each ending with its separator), on as few
 * lines of at most 80 columns as fit.  Frees the vector. */
void emit_wrapped(Emitter *E, PtrVec *pieces);
void emit_piece(Emitter *E, PtrVec *v, const char *fmt, ...)
	NNC_PRINTF(3, 4);
/* head, the terms joined by " + ", then tail, wrapped. */
void emit_sum(Emitter *E, const char *head, PtrVec *terms, const char *tail);
/* head(params), split after the commas of params, wrapped. */
void emit_sig(Emitter *E, const char *head, const char *params);

/* Text in the arena. */
const char *emit_fmt(Emitter *E, const char *fmt, ...) NNC_PRINTF(2, 3);
/* x as a literal of the target precision: the shortest decimal that reads
 * back exactly, with '.0' or an exponent, and 'f' in f32. */
const char *emit_lit(Emitter *E, double x);
/* A math function of the target precision: "exp" -> "expf" in f32. */
const char *emit_mathfn(Emitter *E, const char *name);
const char *emit_bshape(Emitter *E, Shape s);  /* "[BATCH, 4, 3]" */
const char *emit_eshape(Emitter *E, Shape s);  /* "[4, 3]" */
const char *emit_where(Emitter *E, Loc l);     /* "grades.nn:5:5" */
const char *emit_comment_safe(Emitter *E, const char *s);  /* no "*" "/" */
/* How a layer was written: "dense(4, tanh)", "dropout(0.1)", "add(a, b)". */
const char *emit_layer_desc(Emitter *E, const IrNode *n);
/* "dense_1: dense(4, tanh) at grades.nn:5:5, [8, 3] -> [8, 4]" */
const char *emit_layer_title(Emitter *E, const IrNode *n);

/* The batch buffer that holds n's output, as C: "x" for the input and its
 * views; else, in the training build, the root's buffer in the model
 * ("m->dense_1_y"), and in the inference build "y" (the caller's) for the
 * output's root and a local pointer ("dense_1_y") for the others. */
const char *emit_y_of(Emitter *E, const IrNode *n);
/* A dense layer's parameter, which is "weight" or "bias", as C. */
const char *emit_param_of(Emitter *E, const IrNode *n, const char *which);
/* act(arg) for an elementwise activation, marking its helper used. */
const char *emit_act_call(Emitter *E, Activation act, const char *arg);
/* Softmax of one row of c values from src to dst (may be the same). */
void emit_softmax_row(Emitter *E, const char *dst, const char *src,
                      int64_t c);
/* The forward code of one computed, non-view node over rows [0, n): an
 * unrolled dense layer, an activation layer, add or concat (and in the
 * training build also GEMM dense layers, dropout and output copies). */
void emit_forward_op(Emitter *E, const NodePlan *np);
/* The helpers (sigmoid, relu, rows) and custom activations that the code
 * printed so far used, as static functions. */
void emit_helpers(Emitter *E);
void emit_extern_c_open(Emitter *E);
void emit_extern_c_close(Emitter *E);
void emit_custom_fns(Emitter *E);

/* Writes the header (to h) and the implementation (to c) of model m of p,
 * which must have passed every check.  The text depends only on the IR and
 * the options, so the same input gives byte-identical files.  docs/API.md
 * describes the generated API.  Returns false when a write fell short (a
 * memory stream that could not grow). */
bool emit_model(FILE *h, FILE *c, Arena *a, const IrProgram *p,
                const IrModel *m, const EmitOptions *o);
/* Whether name can be a model name in generated C: not a C keyword or a
 * name the generated files or the C library already use. */
bool emit_name_ok(const char *name);
/* Writes main.c of the trainer program of model m, which must have a loss
 * or be used for prediction only: a main() that hands its arguments to the
 * runtime's nnrt_main with the descriptor NAME_model.  False: a short
 * write. */
bool emit_main(FILE *out, const IrModel *m, const EmitOptions *o);

/* ======================================================================
 * emit_infer.c — the inference-only back end (nnc build --infer-only)
 * ====================================================================== */

/* A standalone NAME.h and NAME.c with the forward pass alone: no
 * allocation, no runtime, parameters in static arrays (built in from a
 * weights file, or loaded by a reader printed into NAME.c), activations in
 * one scratch block planned by liveness.  docs/API.md, "Deployment". */
typedef struct InferOptions {
	int64_t max_batch;         /* --max-batch: rows per forward pass */
	bool no_blas;              /* --no-blas: loops, not cblas_?gemm */
	bool scratch_caller;       /* --scratch caller: predict takes the
	                              scratch block, nothing is static but
	                              the parameters */
	const char *weights_path;  /* --weights as given, or NULL */
	const double *weights;     /* its values (NULL without --weights):
	                              the parameter block of plan_model, in
	                              layer order, weight [out, in] then bias */
} InferOptions;

/* Writes the header (to h) and the implementation (to c) of model m of p,
 * which passed every check; io->max_batch is in [1, emit_infer_max_batch].
 * The text depends only on the IR and the options.  False: a short
 * write. */
bool emit_infer_model(FILE *h, FILE *c, Arena *a, const IrProgram *p,
                      const IrModel *m, const EmitOptions *o,
                      const InferOptions *io);
/* The largest --max-batch for m: a batch of any of its tensors must stay
 * within IR_MAX_ELEMS values. */
int64_t emit_infer_max_batch(const IrModel *m);
/* Reads model m's parameters from the safetensors file at path with the
 * runtime's reader (names, dtype F32 or F64 as f64 says, and shapes must
 * match exactly, as NAME_load wants them; a checkpoint of nnc train is
 * accepted too) into *values, in the arena, as InferOptions.weights wants
 * them.  Returns false with "path: what is wrong" in err. */
bool emit_infer_read_weights(Arena *a, const IrModel *m, bool f64,
                             const char *path, double **values, char *err,
                             size_t errlen);

/* ======================================================================
 * toolchain.c — generate, compile, cache and run a trainer program
 * ====================================================================== */

/* nnc train / eval / predict run the model's trainer: its NAME.h, NAME.c
 * and main.c, compiled with the system C compiler against the runtime
 * (libnnrt.a) and cached, keyed by a hash of everything that goes into the
 * build, so that running a model again does not recompile it. */

/* Where the runtime's library and headers are. */
typedef struct Runtime {
	const char *libdir;        /* holds libnnrt.a; absolute */
	const char *incdir;        /* holds nnrt.h and nnrt_data.h; absolute */
	const char *inc_make;      /* incdir as Make text over $(NNRT_DIR), so
	                              that overriding NNRT_DIR alone works */
	const char *how;           /* how it was found, for --verbose */
} Runtime;

/* Finds the runtime: $NNC_RUNTIME_DIR (library and headers together),
 * else beside the running nnc in a build tree (build/libnnrt.a next to
 * build/nnc, headers in runtime/), else an installed layout
 * (PREFIX/bin/nnc, PREFIX/lib, PREFIX/include/nnc).  Reports where it
 * looked and returns false if none holds both. */
bool toolchain_find_runtime(Arena *a, Runtime *rt);

/* The library flags the trainer links with besides libnnrt.a:
 * `pkg-config --libs openblas libcjson zlib`, or -lopenblas -lcjson -lz
 * when pkg-config cannot answer, then -lm.  One string, space-separated. */
const char *toolchain_libs(Arena *a);

/* The generated sources of one trainer program. */
typedef struct TrainerSources {
	const char *name;          /* the model's name: NAME.h, NAME.c, NAME */
	const char *h, *c, *main;  /* their text */
	size_t hlen, clen, mainlen;
} TrainerSources;

/* The path of the trainer program built from s, compiling it into the
 * cache unless an identical build is there already.  verbose prints the
 * compiler command and whether the cache was hit, on stderr.  Returns NULL
 * after reporting an error (no cache directory, a compiler that fails:
 * its output and an "internal error" line). */
const char *toolchain_build(Arena *a, const Runtime *rt,
                            const TrainerSources *s, bool verbose);

/* Replaces nnc by the trainer program exe with arguments argv (argv[0] is
 * the name its messages use): its output, exit status and signals (Ctrl-C
 * reaches it as it would any foreground program) are the command's own.
 * Returns only if exec failed, after reporting it, with exit status 1. */
int toolchain_exec(const char *exe, char **argv, bool verbose);

/* The text of NAME.mk, the Makefile fragment nnc build --main writes: it
 * builds the trainer NAME from NAME.c and main.c in its own directory,
 * against the runtime rt (NNRT_DIR, NNRT_INCLUDE) with the flags libs. */
char *toolchain_makefile(Arena *a, const Runtime *rt, const char *libs,
                         const char *name, const char *source);

/* ======================================================================
 * plot.c — nnc plot: a training history CSV drawn as SVG learning curves
 * ====================================================================== */

/* Reads csv_path, a history written by a trainer's --history (header
 * epoch,loss,<metric>...,val_loss,val_<metric>...,seconds), and writes an
 * SVG 1.1 file to svg_path atomically: a panel for the loss and one per
 * metric, each with its val_ twin, axes, ticks and a legend.  Returns 0,
 * or -1 with "H.csv:LINE:COL: what is wrong" (or "H.csv: ...") in err. */
int plot_history_svg(const char *csv_path, const char *svg_path, char *err,
                     size_t errlen);

#endif /* NNC_H */

/*
 * main.c — the nnc driver: command-line parsing and the pipeline.
 *
 * Each command runs the same flat list of phases (see compile()):
 *   source_load -> parse_file -> expr_resolve_all -> lower_file -> shape_check
 * and then prints what the command asks for.  Every phase reports to one
 * Diag and returns even after errors, so one run shows every independent
 * problem.  Exit status: 0 clean (warnings allowed), 1 errors in the input,
 * 2 usage errors.
 *
 * train, eval and predict check their options here, run the same pipeline,
 * emit the model's C and a main.c, and hand over to toolchain.c, which
 * compiles (or finds in its cache) the model's trainer program and runs it
 * in nnc's place with the options translated; from then on the exit status
 * is the trainer's (runtime/cli.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nnc.h"
#include "nnrt.h"

enum { EXIT_ERRORS = 1, EXIT_USAGE = 2 };

typedef enum Dump { DUMP_NONE, DUMP_AST, DUMP_IR } Dump;

/* The commands that run a trainer program, as bits of Command.trainer. */
enum { CMD_TRAIN = 1, CMD_EVAL = 2, CMD_PREDICT = 4 };

/* What an option of the trainer takes. */
typedef enum TrainerArg {
	TA_FLAG,                   /* nothing */
	TA_FILE,                   /* a path, not empty */
	TA_POSITIVE,               /* an integer in [1, INT_MAX] */
	TA_COUNT,                  /* an integer in [0, INT_MAX] */
	TA_SEED,                   /* an integer in [0, 2^64) */
} TrainerArg;

/* The options nnc checks and passes on, in this order, to the trainer
 * program (runtime/cli.c, which reads them again); commands is a mask of
 * CMD_ bits. */
typedef struct TrainerOpt {
	const char *name;
	TrainerArg arg;
	unsigned commands;
} TrainerOpt;

static const TrainerOpt trainer_opts[] = {
	{"--data", TA_FILE, CMD_TRAIN | CMD_EVAL | CMD_PREDICT},
	{"--labels", TA_FILE, CMD_TRAIN | CMD_EVAL},
	{"--val", TA_FILE, CMD_TRAIN},
	{"--val-labels", TA_FILE, CMD_TRAIN},
	{"--weights", TA_FILE, CMD_EVAL | CMD_PREDICT},
	{"--epochs", TA_POSITIVE, CMD_TRAIN},
	{"--batch", TA_POSITIVE, CMD_TRAIN},
	{"--seed", TA_SEED, CMD_TRAIN},
	{"--no-shuffle", TA_FLAG, CMD_TRAIN},
	{"--init", TA_FILE, CMD_TRAIN},
	{"--out", TA_FILE, CMD_TRAIN | CMD_PREDICT},
	{"--history", TA_FILE, CMD_TRAIN},
	{"--checkpoint-every", TA_COUNT, CMD_TRAIN},
	{"--checkpoint", TA_FILE, CMD_TRAIN},
	{"--quiet", TA_FLAG, CMD_TRAIN},
};
enum { NTRAINER_OPTS = sizeof trainer_opts / sizeof trainer_opts[0] };

typedef struct Options {
	const char *command;
	const char **files;        /* one or more .nn files, argv order */
	int nfiles;
	const char *file;          /* the one being compiled */
	const char *model;         /* --model NAME, or NULL for every model */
	Dump dump;
	const char *outdir;        /* build: -o DIR */
	bool f64;                  /* build: --precision f64 */
	int64_t unroll_limit;      /* build: --unroll-limit N */
	bool main;                 /* build: --main */
	bool infer_only;           /* build: --infer-only */
	const char *weights;       /* build: --weights FILE (--infer-only) */
	int64_t max_batch;         /* build: --max-batch N, 0 if not given */
	bool no_blas;              /* build: --no-blas */
	const char *scratch;       /* build: --scratch caller|static, or NULL */
	unsigned trainer;          /* train/eval/predict: its CMD_ bit */
	bool verbose;              /* train/eval/predict: --verbose */
	const char *targs[NTRAINER_OPTS];  /* values of trainer_opts given;
	                              "" for a flag */
} Options;

typedef struct Command {
	const char *name;
	const char *summary;
	const char *usage;         /* full --help text after the usage line */
	int (*run)(const Options *o);
	unsigned trainer;          /* CMD_ bit of a command that runs a trainer */
} Command;

static int run_check(const Options *o);
static int run_graph(const Options *o);
static int run_build(const Options *o);
static int run_trainer(const Options *o);
static int run_plot(const Options *o);

static const Command commands[] = {
	{"check", "check model files and print a summary of each model",
	 "usage: nnc check FILE.nn... [--model NAME] [--dump=ast|ir]\n"
	 "\n"
	 "Parses each FILE.nn, checks that the layers of every model fit\n"
	 "together and that the training settings make sense, and prints a\n"
	 "Keras-style summary of each model (or only of NAME).\n"
	 "\n"
	 "options:\n"
	 "  --model NAME   summarize only the model NAME\n"
	 "  --dump=ast     print the syntax tree instead of the summary\n"
	 "  --dump=ir      print the checked IR (with derivatives of custom\n"
	 "                 activations) instead of the summary\n",
	 run_check, 0},
	{"graph", "print a model as a Graphviz DOT graph",
	 "usage: nnc graph FILE.nn... [--model NAME]\n"
	 "\n"
	 "Prints each model (or only NAME) as a Graphviz digraph: one node per\n"
	 "layer with its output shape, edges as data flow.  Render it with\n"
	 "  nnc graph model.nn | dot -Tsvg -o model.svg\n"
	 "\n"
	 "options:\n"
	 "  --model NAME   print only the model NAME\n",
	 run_graph, 0},
	{"build", "generate C that trains and runs each model",
	 "usage: nnc build FILE.nn... [--model NAME] [-o DIR] [--precision f32|f64]\n"
	 "                 [--unroll-limit N] [--main]\n"
	 "       nnc build FILE.nn... --infer-only [--weights W.safetensors]\n"
	 "                 [--max-batch N] [--no-blas] [--scratch caller|static]\n"
	 "                 [--model NAME] [-o DIR] [--precision f32|f64]\n"
	 "                 [--unroll-limit N]\n"
	 "\n"
	 "Writes DIR/NAME.h and DIR/NAME.c for each model (or only NAME): C99\n"
	 "that creates, trains, evaluates and runs the model.  Compile them\n"
	 "with your program:\n"
	 "  cc -std=c99 -Iruntime -IDIR main.c DIR/NAME.c build/libnnrt.a \\\n"
	 "     $(pkg-config --libs openblas libcjson zlib) -lm\n"
	 "docs/API.md describes the generated functions.\n"
	 "\n"
	 "With --main (one model), also DIR/main.c, the trainer program nnc\n"
	 "train runs, and DIR/NAME.mk, a Makefile fragment that builds it with\n"
	 "no nnc installed: make -f DIR/NAME.mk, then DIR/NAME --help.\n"
	 "\n"
	 "With --infer-only, the pair is for deployment: the forward pass alone,\n"
	 "NAME_predict(x, n, y), with no allocation and no runtime library; it\n"
	 "needs only the C library's math functions (and CBLAS for large dense\n"
	 "layers, unless --no-blas).  With --weights the trained parameters are\n"
	 "built into NAME.c; without, NAME_load(path) reads them.  The header\n"
	 "gives the memory it takes: NAME_PARAM_BYTES and NAME_SCRATCH_BYTES.\n"
	 "docs/API.md, \"Deployment\", describes it.\n"
	 "\n"
	 "options:\n"
	 "  --model NAME        build only the model NAME\n"
	 "  -o DIR              write the files into DIR (default: .)\n"
	 "  --precision f32     float everywhere (the default)\n"
	 "  --precision f64     double everywhere\n"
	 "  --unroll-limit N    unroll dense layers of at most N multiply-adds\n"
	 "                      per example into scalar code; larger ones call\n"
	 "                      GEMM (default 64; 0 never unrolls)\n"
	 "  --main              also write main.c and NAME.mk: a trainer program\n"
	 "\n"
	 "options of --infer-only:\n"
	 "  --weights FILE      build in these weights (a safetensors file of\n"
	 "                      nnc train, or a checkpoint); one model only\n"
	 "  --max-batch N       rows per forward pass, which sizes the scratch\n"
	 "                      memory; predict takes more in chunks (default 1)\n"
	 "  --no-blas           plain loops for every dense layer, no CBLAS\n"
	 "  --scratch static    the activations in a static block (the default)\n"
	 "  --scratch caller    NAME_predict(x, n, y, scratch) takes the block:\n"
	 "                      reentrant, no static mutable state\n",
	 run_build, 0},
	{"train", "train a model on a data file and save its weights",
	 "usage: nnc train FILE.nn --data FILE [options]\n"
	 "\n"
	 "Trains the model of FILE.nn (or --model NAME) on a data file and saves\n"
	 "its weights, like Keras's model.fit.  nnc generates the model's C,\n"
	 "compiles it with the system C compiler (${CC:-cc}; the program is\n"
	 "cached, so the next run starts at once) and runs it.  The options\n"
	 "below override the model file's settings.\n"
	 "\n"
	 "options:\n"
	 "  --data FILE            training data: CSV/TSV rows (inputs, then\n"
	 "                         targets) or IDX images\n"
	 "  --labels FILE          the IDX labels of --data\n"
	 "  --val FILE             validation data, evaluated after every epoch\n"
	 "  --val-labels FILE      the IDX labels of --val\n"
	 "  --model NAME           the model to train, if FILE.nn has several\n"
	 "  --epochs N             train until N epochs are done\n"
	 "  --batch N              rows per optimizer step\n"
	 "  --seed N               seeds the initial weights and the shuffling\n"
	 "  --no-shuffle           keep the rows in file order\n"
	 "  --init FILE            start from these weights, or resume this\n"
	 "                         checkpoint (same --seed to resume exactly)\n"
	 "  --out FILE             the weights (default NAME.safetensors)\n"
	 "  --history FILE         loss and metrics of every epoch, as CSV\n"
	 "  --checkpoint-every N   save a checkpoint every N epochs\n"
	 "  --checkpoint FILE      the checkpoint (default NAME.ckpt.safetensors)\n"
	 "  --quiet                no progress output\n"
	 "  --verbose              show the C compiler command and whether the\n"
	 "                         compiled trainer came from the cache\n"
	 "\n"
	 "Ctrl-C stops after the current batch and saves a checkpoint and the\n"
	 "weights.  The trainers are cached in $NNC_CACHE_DIR, else\n"
	 "$XDG_CACHE_HOME/nnc, else ~/.cache/nnc; the runtime is found through\n"
	 "$NNC_RUNTIME_DIR, else beside nnc.  Exit status: 0 done, 1 errors (in\n"
	 "the model or the data, a loss that became NaN), 2 usage errors, 130\n"
	 "interrupted.\n",
	 run_trainer, CMD_TRAIN},
	{"eval", "print the loss and metrics of saved weights on a data file",
	 "usage: nnc eval FILE.nn --weights FILE --data FILE [--labels FILE]\n"
	 "\n"
	 "Loads the weights (or a checkpoint) into the model of FILE.nn and\n"
	 "prints its loss and metrics on the data, like Keras's\n"
	 "model.evaluate:\n"
	 "  loss: 0.3412 - accuracy: 0.8791\n"
	 "The model's trainer program is built and cached as for nnc train.\n"
	 "\n"
	 "options:\n"
	 "  --weights FILE   the weights: a weights file or a checkpoint\n"
	 "  --data FILE      test data: CSV/TSV rows (inputs, then targets) or\n"
	 "                   IDX images\n"
	 "  --labels FILE    the IDX labels of --data\n"
	 "  --model NAME     the model, if FILE.nn has several\n"
	 "  --verbose        show the C compiler command and the cache's use\n"
	 "\n"
	 "Exit status: 0 done, 1 errors, 2 usage errors.\n",
	 run_trainer, CMD_EVAL},
	{"predict", "write a model's predictions for a data file as CSV",
	 "usage: nnc predict FILE.nn --weights FILE --data FILE [--out FILE]\n"
	 "\n"
	 "Loads the weights into the model of FILE.nn and writes one CSV row of\n"
	 "outputs per input row (y0,y1,...; a classifier's p0,p1,...,class\n"
	 "with the predicted class), to standard output or --out.  Target\n"
	 "columns in the data, if any, are ignored.  The model's trainer\n"
	 "program is built and cached as for nnc train.\n"
	 "\n"
	 "options:\n"
	 "  --weights FILE   the weights: a weights file or a checkpoint\n"
	 "  --data FILE      the inputs: CSV/TSV rows or IDX images\n"
	 "  --out FILE       write the CSV to FILE\n"
	 "  --model NAME     the model, if FILE.nn has several\n"
	 "  --verbose        show the C compiler command and the cache's use\n"
	 "\n"
	 "Exit status: 0 done, 1 errors, 2 usage errors.\n",
	 run_trainer, CMD_PREDICT},
	{"plot", "draw a training history's learning curves as SVG",
	 "usage: nnc plot HISTORY.csv [-o CURVES.svg]\n"
	 "\n"
	 "Reads a history written by 'nnc train --history HISTORY.csv' and\n"
	 "draws the loss (and validation loss) and each metric per epoch as an\n"
	 "SVG image that a browser shows.  The default output is HISTORY.svg.\n"
	 "\n"
	 "options:\n"
	 "  -o FILE   write the SVG to FILE\n"
	 "\n"
	 "Exit status: 0 done, 1 errors, 2 usage errors.\n",
	 run_plot, 0},
};
enum { NCOMMANDS = sizeof commands / sizeof commands[0] };

static void print_help(FILE *out)
{
	fprintf(out, "usage: nnc COMMAND FILE.nn [OPTIONS]\n"
	        "\n"
	        "nnc compiles neural-network models written in the .nn language\n"
	        "into C that trains and runs them.\n"
	        "\n"
	        "commands:\n");
	for (int i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n"
	        "  nnc --help           this text\n"
	        "  nnc COMMAND --help   help on one command\n"
	        "  nnc --version        the compiler's version\n"
	        "\n"
	        "Exit status: 0 when clean (warnings allowed), 1 when the input\n"
	        "has errors, 2 on usage errors.  The language is described in\n"
	        "docs/LANGUAGE.md.\n");
}

NNC_PRINTF(1, 2) static int usage_error(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "nnc: error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(run 'nnc --help' for usage)\n");
	return EXIT_USAGE;
}

/* The front end's result: everything lives in the arena. */
typedef struct Compilation {
	Arena *arena;
	const Source *src;
	Diag diag;
	AstFile *ast;
	IrProgram *ir;
} Compilation;

/* Runs the front-end pipeline on o->file.  Returns false if the file could
 * not be read (already reported; nothing is left to free); errors in the
 * text leave c->diag counting them, with as much of the AST and IR built as
 * was possible, for finish() to report and free. */
static bool compile(Compilation *c, const Options *o)
{
	char err[512];
	c->arena = arena_new();
	c->src = source_load(c->arena, o->file, err, sizeof err);
	if (!c->src) {
		fprintf(stderr, "nnc: error: %s\n", err);
		arena_free(c->arena);
		c->arena = NULL;
		return false;
	}
	diag_init(&c->diag, c->src, stderr);
	c->ast = parse_file(c->arena, c->src, &c->diag);
	if (o->dump == DUMP_AST) {
		fflush(stderr);   /* diagnostics first, as they were found */
		ast_dump(stdout, c->ast);
		return true;
	}
	CustomAct **acts = expr_resolve_all(c->arena, c->ast, &c->diag);
	c->ir = lower_file(c->arena, c->ast, acts, &c->diag);
	shape_check(c->arena, c->ir, &c->diag);
	return true;
}

/* The models the command applies to: all, or the one --model names.
 * Reports an unknown name (with a suggestion) and returns NULL. */
static IrModel **select_models(Compilation *c, const Options *o, int *n)
{
	IrProgram *p = c->ir;
	if (!o->model) {
		*n = p->nmodels;
		return p->models;
	}
	for (int i = 0; i < p->nmodels; i++)
		if (strcmp(p->models[i]->name, o->model) == 0) {
			*n = 1;
			return &p->models[i];
		}
	PtrVec names = {0};
	for (int i = 0; i < p->nmodels; i++)
		ptrvec_push(&names, (void *)p->models[i]->name);
	const char **cands = (const char **)ptrvec_freeze(&names, c->arena);
	const char *hint = diag_suggest(o->model, cands);
	Loc none = {0, 0, 0, 0};
	if (hint)
		diag_error(&c->diag, none, "no model named '%s'; did you mean '%s'?",
		           o->model, hint);
	else
		diag_error(&c->diag, none, "no model named '%s' in this file",
		           o->model);
	return NULL;
}

static int finish(Compilation *c)
{
	fflush(stdout);
	diag_finish(&c->diag);
	int status = c->diag.nerrors ? EXIT_ERRORS : 0;
	arena_free(c->arena);
	return status;
}

static int run_check(const Options *o)
{
	Compilation c = {0};
	if (!compile(&c, o))
		return EXIT_ERRORS;
	if (o->dump == DUMP_AST)
		return finish(&c);
	int n = 0;
	IrModel **models = select_models(&c, o, &n);
	if (o->dump == DUMP_IR) {
		fflush(stderr);
		ir_dump(stdout, c.ir);
		return finish(&c);
	}
	if (models && !c.diag.nerrors) {
		fflush(stderr);
		for (int i = 0; i < n; i++) {
			if (i || o->file != o->files[0])
				putchar('\n');
			summary_print(stdout, c.arena, models[i]);
		}
	}
	return finish(&c);
}

static int run_graph(const Options *o)
{
	Compilation c = {0};
	if (!compile(&c, o))
		return EXIT_ERRORS;
	int n = 0;
	IrModel **models = select_models(&c, o, &n);
	fflush(stderr);
	if (models && !c.diag.nerrors)
		for (int i = 0; i < n; i++)
			graph_print(stdout, c.arena, models[i]);
	return finish(&c);
}

/* DIR/NAME.EXT, written from memory; reports failures and returns false. */
static bool write_file(const char *dir, const char *name, const char *ext,
                       const char *text, size_t len)
{
	size_t n = strlen(dir) + strlen(name) + strlen(ext) + 3;
	char *path = xmalloc(n);
	snprintf(path, n, "%s/%s.%s", dir, name, ext);
	/* Atomic: an interrupted build never leaves half a file behind. */
	char err[512];
	bool ok = nnrt_write_file_atomic(path, text, len, err, sizeof err) == 0;
	if (!ok)
		fprintf(stderr, "nnc: error: %s\n", err);
	free(path);
	return ok;
}

/* Reports a model name that cannot name things in generated C. */
static void check_name(Compilation *c, const IrModel *m)
{
	if (!emit_name_ok(m->name))
		diag_error(&c->diag, m->loc, "the model name '%s' cannot be used in "
		           "generated C: it is a C keyword or a name the generated "
		           "code or the C library uses; rename the model", m->name);
}

/* A trainer program needs a loss, except to predict. */
static void check_trainable(Compilation *c, const IrModel *m, const char *why)
{
	if (m->train.loss == LOSS_NONE)
		diag_error(&c->diag, m->loc, "model '%s' has no loss: %s", m->name,
		           why);
}

/* The generated files of one model, in memory (malloc'ed). */
typedef struct Generated {
	char *h, *c, *main;
	size_t hlen, clen, mainlen;
} Generated;

/* The model's files: the training build, or with io the inference-only
 * build.  glibc's memory streams drop what they cannot grow for without
 * an error, so every write and the buffers are checked: out of memory
 * exits before anything is written. */
static void generate(Compilation *c, const IrModel *m, const EmitOptions *eo,
                     const InferOptions *io, bool with_main, Generated *g)
{
	*g = (Generated){0};
	FILE *hf = open_memstream(&g->h, &g->hlen);
	FILE *cf = open_memstream(&g->c, &g->clen);
	if (!hf || !cf)
		nnc_out_of_memory("writing the generated C");
	bool ok = io ? emit_infer_model(hf, cf, c->arena, c->ir, m, eo, io)
	             : emit_model(hf, cf, c->arena, c->ir, m, eo);
	ok = fclose(hf) == 0 && ok;
	ok = fclose(cf) == 0 && ok;
	if (!ok || !g->h || !g->c)
		nnc_out_of_memory("writing the generated C");
	if (with_main) {
		FILE *mf = open_memstream(&g->main, &g->mainlen);
		if (!mf)
			nnc_out_of_memory("writing the generated C");
		ok = emit_main(mf, m, eo);
		if (fclose(mf) != 0 || !ok || !g->main)
			nnc_out_of_memory("writing the generated C");
	}
}

static void generated_free(Generated *g)
{
	free(g->h);
	free(g->c);
	free(g->main);
}

static int run_build(const Options *o)
{
	Compilation c = {0};
	if (!compile(&c, o))
		return EXIT_ERRORS;
	int n = 0;
	IrModel **models = select_models(&c, o, &n);
	if (!models || c.diag.nerrors)
		return finish(&c);
	for (int i = 0; i < n; i++)
		check_name(&c, models[i]);
	if (o->main && n > 1) {
		Loc none = {0, 0, 0, 0};
		diag_error(&c.diag, none, "--main builds the trainer of one model, "
		           "but this file has %d; choose one with --model NAME", n);
	} else if (o->main) {
		check_trainable(&c, models[0], "there is nothing to train; build it "
		                "without --main");
	}
	Loc none = {0, 0, 0, 0};
	if (o->weights && n != 1)
		diag_error(&c.diag, none, "--weights holds the parameters of one "
		           "model, but this file has %d; choose one with --model NAME",
		           n);
	for (int i = 0; i < n && o->infer_only; i++) {
		int64_t limit = emit_infer_max_batch(models[i]);
		if (o->max_batch > limit)
			diag_error(&c.diag, models[i]->loc, "--max-batch %" PRId64 " is "
			           "too large for model '%s': a batch of its largest "
			           "tensor would exceed %" PRId64 " values; at most %"
			           PRId64, o->max_batch, models[i]->name, IR_MAX_ELEMS,
			           limit);
	}
	if (c.diag.nerrors)
		return finish(&c);
	InferOptions io = {
		.max_batch = o->max_batch ? o->max_batch : 1,
		.no_blas = o->no_blas,
		.scratch_caller = o->scratch && !strcmp(o->scratch, "caller"),
		.weights_path = o->weights,
	};
	if (o->weights) {
		double *values;
		char err[512];
		if (!emit_infer_read_weights(c.arena, models[0], o->f64, o->weights,
		                             &values, err, sizeof err)) {
			fprintf(stderr, "nnc: error: %s\n", err);
			arena_free(c.arena);
			return EXIT_ERRORS;
		}
		io.weights = values;
	}
	/* NAME.mk names the runtime nnc would use itself. */
	Runtime rt;
	if (o->main && !toolchain_find_runtime(c.arena, &rt)) {
		arena_free(c.arena);
		return EXIT_ERRORS;
	}
	const char *dir = o->outdir ? o->outdir : ".";
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "nnc: error: cannot create directory %s: %s\n", dir,
		        strerror(errno));
		arena_free(c.arena);
		return EXIT_ERRORS;
	}
	EmitOptions eo = {
		.source = o->file,
		.f64 = o->f64,
		.unroll_limit = o->unroll_limit,
	};
	int status = 0;
	for (int i = 0; i < n && status == 0; i++) {
		const char *name = models[i]->name;
		Generated g;
		generate(&c, models[i], &eo, o->infer_only ? &io : NULL, o->main, &g);
		if (!write_file(dir, name, "h", g.h, g.hlen) ||
		    !write_file(dir, name, "c", g.c, g.clen))
			status = EXIT_ERRORS;
		if (status == 0 && o->main) {
			const char *mk = toolchain_makefile(c.arena, &rt,
			                                    toolchain_libs(c.arena), name,
			                                    o->file);
			if (!write_file(dir, "main", "c", g.main, g.mainlen) ||
			    !write_file(dir, name, "mk", mk, strlen(mk)))
				status = EXIT_ERRORS;
		}
		generated_free(&g);
	}
	int s = finish(&c);
	return s > status ? s : status;
}

/* The one model a trainer command applies to: --model NAME, or the file's
 * only model.  Reports the problems and returns NULL. */
static IrModel *trainer_model(Compilation *c, const Options *o)
{
	Loc none = {0, 0, 0, 0};
	int n = 0;
	IrModel **models = select_models(c, o, &n);
	if (!models)
		return NULL;
	if (n == 0) {
		diag_error(&c->diag, none, "this file has no model");
		return NULL;
	}
	if (n > 1) {
		const char *names = arena_strdup(c->arena, "");
		for (int i = 0; i < n; i++)
			names = arena_printf(c->arena, "%s%s%s", names, i ? ", " : "",
			                     models[i]->name);
		diag_error(&c->diag, none, "this file has %d models (%s); choose one "
		           "with --model NAME", n, names);
		return NULL;
	}
	check_name(c, models[0]);
	if (o->trainer == CMD_TRAIN)
		check_trainable(c, models[0], "there is nothing to train");
	else if (o->trainer == CMD_EVAL)
		check_trainable(c, models[0], "it cannot be evaluated");
	return models[0];
}

/* train, eval and predict: the front end, the model's C, its trainer
 * program (compiled or from the cache), which then replaces nnc. */
static int run_trainer(const Options *o)
{
	Compilation c = {0};
	if (!compile(&c, o))
		return EXIT_ERRORS;
	IrModel *m = c.diag.nerrors ? NULL : trainer_model(&c, o);
	if (!m || c.diag.nerrors)
		return finish(&c);
	Runtime rt;
	if (!toolchain_find_runtime(c.arena, &rt)) {
		arena_free(c.arena);
		return EXIT_ERRORS;
	}
	EmitOptions eo = {.source = o->file, .unroll_limit = EMIT_DEFAULT_UNROLL};
	Generated g;
	generate(&c, m, &eo, NULL, true, &g);
	TrainerSources src = {
		.name = m->name,
		.h = g.h, .hlen = g.hlen,
		.c = g.c, .clen = g.clen,
		.main = g.main, .mainlen = g.mainlen,
	};
	const char *exe = toolchain_build(c.arena, &rt, &src, o->verbose);
	generated_free(&g);
	if (!exe) {
		arena_free(c.arena);
		return EXIT_ERRORS;
	}
	/* Warnings, if any, before the trainer's output. */
	fflush(stdout);
	diag_finish(&c.diag);

	/* nnc's name in the trainer's messages, the mode, then the options
	 * in trainer_opts order. */
	PtrVec args = {0};
	ptrvec_push(&args, (void *)"nnc");
	ptrvec_push(&args, (void *)o->command);
	for (int k = 0; k < NTRAINER_OPTS; k++) {
		if (!o->targs[k])
			continue;
		ptrvec_push(&args, (void *)trainer_opts[k].name);
		if (trainer_opts[k].arg != TA_FLAG)
			ptrvec_push(&args, (void *)o->targs[k]);
	}
	ptrvec_push(&args, NULL);
	char **argv = (char **)ptrvec_freeze(&args, c.arena);
	int status = toolchain_exec(exe, argv, o->verbose);
	arena_free(c.arena);
	return status;
}

/* The trainer option arg names ("--epochs", "--out=p.csv"), or -1. */
static int find_trainer_opt(const char *arg)
{
	for (int k = 0; k < NTRAINER_OPTS; k++) {
		size_t n = strlen(trainer_opts[k].name);
		if (!strncmp(arg, trainer_opts[k].name, n) &&
		    (arg[n] == '\0' || arg[n] == '='))
			return k;
	}
	return -1;
}

/* Whether s is an option of trainer command cmd (so not a value). */
static bool is_trainer_option(const char *s, unsigned cmd)
{
	int k = find_trainer_opt(s);
	return (k >= 0 && (trainer_opts[k].commands & cmd)) ||
	       !strcmp(s, "--model") || !strcmp(s, "--verbose") ||
	       !strcmp(s, "--help");
}

/* An integer option's value: digits only, at most max.  Returns false if
 * it is not one, or is too large (*too_large). */
static bool parse_uint(const char *v, uint64_t max, uint64_t *out,
                       bool *too_large)
{
	*too_large = false;
	if (!*v || strspn(v, "0123456789") != strlen(v))
		return false;
	uint64_t x = 0;
	for (const char *p = v; *p; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (x > (UINT64_MAX - d) / 10 || x * 10 + d > max) {
			*too_large = true;
			return false;
		}
		x = x * 10 + d;
	}
	*out = x;
	return true;
}

/* Reads trainer option k at argv[*i], as "--x V" or "--x=V", into
 * o->targs[k] after checking it as the trainer would.  Returns 0 or the
 * exit status of a usage error. */
static int parse_trainer_opt(Options *o, int k, int argc, char **argv,
                             int *i)
{
	static const char *const metavar[] = {
		[TA_FLAG] = "", [TA_FILE] = "FILE", [TA_POSITIVE] = "N",
		[TA_COUNT] = "N", [TA_SEED] = "N",
	};
	const TrainerOpt *t = &trainer_opts[k];
	const char *arg = argv[*i];
	size_t n = strlen(t->name);
	if (!(t->commands & o->trainer)) {
		const char *owner = t->commands & CMD_TRAIN ? "train"
		                    : t->commands & CMD_EVAL ? "eval" : "predict";
		return usage_error("%s is an option of 'nnc %s', not of 'nnc %s'",
		                   t->name, owner, o->command);
	}
	if (o->targs[k])
		return usage_error("%s is given twice", t->name);
	if (t->arg == TA_FLAG) {
		if (arg[n] == '=')
			return usage_error("%s takes no value", t->name);
		o->targs[k] = "";
		return 0;
	}
	const char *v;
	if (arg[n] == '=')
		v = arg + n + 1;
	else if (*i + 1 < argc && !is_trainer_option(argv[*i + 1], o->trainer))
		v = argv[++*i];
	else
		return usage_error("%s needs a value (%s %s)", t->name, t->name,
		                   metavar[t->arg]);
	if (!*v)
		return usage_error("%s needs a value (%s %s), not an empty one",
		                   t->name, t->name, metavar[t->arg]);
	uint64_t x;
	bool big;
	switch (t->arg) {
	case TA_POSITIVE:
	case TA_COUNT: {
		bool ok = parse_uint(v, INT_MAX, &x, &big);
		if (big)
			return usage_error("%s is too large (limit %d), got '%s'",
			                   t->name, INT_MAX, v);
		if (!ok || (t->arg == TA_POSITIVE && x == 0))
			return usage_error("%s must be a %s integer, got '%s'", t->name,
			                   t->arg == TA_POSITIVE ? "positive"
			                                         : "non-negative", v);
		break;
	}
	case TA_SEED:
		if (!parse_uint(v, UINT64_MAX, &x, &big))
			return usage_error("%s must be an integer from 0 to %" PRIu64
			                   ", got '%s'", t->name, UINT64_MAX, v);
		break;
	case TA_FLAG:
	case TA_FILE:
		break;
	}
	o->targs[k] = v;
	return 0;
}

/* "unknown option '--epoch' for 'nnc train'; did you mean '--epochs'?" */
static int unknown_option(const char *arg, const Command *cmd)
{
	const char *names[NTRAINER_OPTS + 4];
	int n = 0;
	if (cmd->trainer) {
		for (int k = 0; k < NTRAINER_OPTS; k++)
			if (trainer_opts[k].commands & cmd->trainer)
				names[n++] = trainer_opts[k].name;
		names[n++] = "--model";
		names[n++] = "--verbose";
	}
	names[n] = NULL;
	size_t len = strcspn(arg, "=");
	char *given = xmalloc(len + 1);
	memcpy(given, arg, len);
	given[len] = '\0';
	const char *hint = n ? diag_suggest(given, names) : NULL;
	int s = hint ? usage_error("unknown option '%s' for 'nnc %s'; did you "
	                           "mean '%s'?", given, cmd->name, hint)
	             : usage_error("unknown option '%s' for 'nnc %s'", arg,
	                           cmd->name);
	free(given);
	return s;
}

/* The value of trainer option name, or NULL if it was not given. */
static const char *targ(const Options *o, const char *name)
{
	int k = find_trainer_opt(name);
	ASSERT(k >= 0);
	return o->targs[k];
}

/* What a trainer command needs besides its options' own checks. */
static int check_trainer_options(const Options *o)
{
	if (o->nfiles > 1)
		return usage_error("'nnc %s' takes one .nn file, got %d", o->command,
		                   o->nfiles);
	if (o->trainer != CMD_TRAIN && !targ(o, "--weights"))
		return usage_error("'nnc %s' needs --weights FILE", o->command);
	if (!targ(o, "--data"))
		return usage_error("'nnc %s' needs --data FILE", o->command);
	if (targ(o, "--val-labels") && !targ(o, "--val"))
		return usage_error("--val-labels is given without --val");
	return 0;
}

/* The options of --infer-only go with it, and --main does not. */
static int check_build_options(const Options *o)
{
	const char *need = o->weights ? "--weights" : o->max_batch ? "--max-batch"
	                   : o->no_blas ? "--no-blas" : o->scratch ? "--scratch"
	                   : NULL;
	if (need && !o->infer_only)
		return usage_error("%s is an option of 'nnc build --infer-only'; add "
		                   "--infer-only", need);
	if (o->infer_only && o->main)
		return usage_error("--main writes a trainer program, --infer-only a "
		                   "pair for deployment: choose one");
	return 0;
}

/* nnc plot H.csv [-o H.svg]: the one command that reads no .nn file. */
static int run_plot(const Options *o)
{
	char *svg = NULL;
	if (!o->outdir) {
		/* H.csv -> H.svg beside it; any other name gets .svg appended */
		size_t n = strlen(o->file);
		svg = xmalloc(n + 5);
		memcpy(svg, o->file, n + 1);
		if (n > 4 && !strcmp(svg + n - 4, ".csv"))
			svg[n - 4] = '\0';
		strcat(svg, ".svg");
	}
	char err[512];
	int rc = plot_history_svg(o->file, o->outdir ? o->outdir : svg, err,
	                          sizeof err);
	if (rc != 0)
		fprintf(stderr, "nnc: error: %s\n", err);
	else
		fprintf(stderr, "wrote %s\n", o->outdir ? o->outdir : svg);
	free(svg);
	return rc ? EXIT_ERRORS : 0;
}

static const Command *find_command(const char *name)
{
	for (int i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	/* Diagnostics are written a few bytes at a time; buffer them (each
	 * phase flushes before anything goes to stdout). */
	setvbuf(stderr, NULL, _IOFBF, 1 << 14);
	if (argc < 2) {
		print_help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		const Command *cmd = argc > 2 ? find_command(argv[2]) : NULL;
		if (cmd)
			printf("%s", cmd->usage);
		else
			print_help(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("nnc %s\n", NNC_VERSION);
		return 0;
	}
	const Command *cmd = find_command(argv[1]);
	if (!cmd) {
		const char *names[NCOMMANDS + 1];
		for (int i = 0; i < NCOMMANDS; i++)
			names[i] = commands[i].name;
		names[NCOMMANDS] = NULL;
		const char *hint = diag_suggest(argv[1], names);
		if (hint)
			return usage_error("unknown command '%s'; did you mean '%s'?",
			                   argv[1], hint);
		return usage_error("unknown command '%s'", argv[1]);
	}

	Options o = {.command = cmd->name, .unroll_limit = EMIT_DEFAULT_UNROLL,
	             .trainer = cmd->trainer};
	bool build = cmd->run == run_build;
	for (int i = 2; i < argc; i++) {
		const char *arg = argv[i];
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			printf("%s", cmd->usage);
			return 0;
		} else if (!strcmp(arg, "--model")) {
			if (++i == argc)
				return usage_error("--model needs a model name");
			o.model = argv[i];
		} else if (!strncmp(arg, "--model=", 8)) {
			o.model = arg + 8;
		} else if (!strncmp(arg, "--dump=", 7) && cmd->run == run_check) {
			if (!strcmp(arg + 7, "ast"))
				o.dump = DUMP_AST;
			else if (!strcmp(arg + 7, "ir"))
				o.dump = DUMP_IR;
			else
				return usage_error("--dump takes 'ast' or 'ir', not '%s'",
				                   arg + 7);
		} else if ((build || cmd->run == run_plot) && !strcmp(arg, "-o")) {
			if (++i == argc)
				return usage_error("-o needs a %s", build ? "directory"
				                                          : "file name");
			o.outdir = argv[i];
		} else if (build && (!strcmp(arg, "--precision") ||
		                     !strncmp(arg, "--precision=", 12))) {
			const char *v = arg[11] == '=' ? arg + 12 : NULL;
			if (!v && ++i == argc)
				return usage_error("--precision needs f32 or f64");
			v = v ? v : argv[i];
			if (strcmp(v, "f32") && strcmp(v, "f64"))
				return usage_error("--precision takes 'f32' or 'f64', not "
				                   "'%s'", v);
			o.f64 = !strcmp(v, "f64");
		} else if (build && (!strcmp(arg, "--unroll-limit") ||
		                     !strncmp(arg, "--unroll-limit=", 15))) {
			const char *v = arg[14] == '=' ? arg + 15 : NULL;
			if (!v && ++i == argc)
				return usage_error("--unroll-limit needs a number");
			v = v ? v : argv[i];
			char *end;
			errno = 0;
			long long lim = strtoll(v, &end, 10);
			if (end == v || *end || lim < 0 || errno)
				return usage_error("--unroll-limit takes a number >= 0, "
				                   "not '%s'", v);
			o.unroll_limit = lim;
		} else if (build && !strcmp(arg, "--main")) {
			o.main = true;
		} else if (build && !strcmp(arg, "--infer-only")) {
			o.infer_only = true;
		} else if (build && !strcmp(arg, "--no-blas")) {
			o.no_blas = true;
		} else if (build && (!strcmp(arg, "--weights") ||
		                     !strncmp(arg, "--weights=", 10))) {
			const char *v = arg[9] == '=' ? arg + 10 : NULL;
			if (!v && ++i == argc)
				return usage_error("--weights needs a file");
			v = v ? v : argv[i];
			if (!*v)
				return usage_error("--weights needs a file, not an empty "
				                   "name");
			o.weights = v;
		} else if (build && (!strcmp(arg, "--scratch") ||
		                     !strncmp(arg, "--scratch=", 10))) {
			const char *v = arg[9] == '=' ? arg + 10 : NULL;
			if (!v && ++i == argc)
				return usage_error("--scratch needs 'caller' or 'static'");
			v = v ? v : argv[i];
			if (strcmp(v, "caller") && strcmp(v, "static"))
				return usage_error("--scratch takes 'caller' or 'static', not "
				                   "'%s'", v);
			o.scratch = v;
		} else if (build && (!strcmp(arg, "--max-batch") ||
		                     !strncmp(arg, "--max-batch=", 12))) {
			const char *v = arg[11] == '=' ? arg + 12 : NULL;
			if (!v && ++i == argc)
				return usage_error("--max-batch needs a number");
			v = v ? v : argv[i];
			uint64_t x;
			bool big;
			if (!parse_uint(v, INT_MAX, &x, &big) || x == 0)
				return usage_error("--max-batch takes a number from 1 to %d, "
				                   "not '%s'", INT_MAX, v);
			o.max_batch = (int64_t)x;
		} else if (cmd->trainer && !strcmp(arg, "--verbose")) {
			o.verbose = true;
		} else if (cmd->trainer && find_trainer_opt(arg) >= 0) {
			int s = parse_trainer_opt(&o, find_trainer_opt(arg), argc, argv,
			                          &i);
			if (s)
				return s;
		} else if (arg[0] == '-' && arg[1] != '\0') {
			return unknown_option(arg, cmd);
		} else {
			argv[2 + o.nfiles++] = argv[i];   /* compact the file names */
		}
	}
	if (!o.nfiles)
		return usage_error("'nnc %s' needs a%s file", cmd->name,
		                   cmd->run == run_plot ? " history .csv" : " .nn");
	if (cmd->run == run_plot && o.nfiles > 1)
		return usage_error("'nnc plot' takes one history file, got %d",
		                   o.nfiles);
	if (cmd->trainer) {
		int s = check_trainer_options(&o);
		if (s)
			return s;
	}
	if (build) {
		int s = check_build_options(&o);
		if (s)
			return s;
	}
	o.files = (const char **)&argv[2];
	int status = 0;
	for (int i = 0; i < o.nfiles; i++) {
		o.file = o.files[i];
		int s = cmd->run(&o);
		if (s > status)
			status = s;
	}
	return status;
}

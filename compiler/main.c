/*
 * main.c — the nnc driver: command-line parsing and the pipeline.
 *
 * Each command runs the same flat list of phases (see compile()):
 *   source_load -> parse_file -> expr_resolve_all -> lower_file -> shape_check
 * and then prints what the command asks for.  Every phase reports to one
 * Diag and returns even after errors, so one run shows every independent
 * problem.  Exit status: 0 clean (warnings allowed), 1 errors in the input,
 * 2 usage errors.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nnc.h"

enum { EXIT_ERRORS = 1, EXIT_USAGE = 2 };

typedef enum Dump { DUMP_NONE, DUMP_AST, DUMP_IR } Dump;

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
} Options;

typedef struct Command {
	const char *name;
	const char *summary;
	const char *usage;         /* full --help text after the usage line */
	int (*run)(const Options *o);
} Command;

static int run_check(const Options *o);
static int run_graph(const Options *o);
static int run_build(const Options *o);

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
	 run_check},
	{"graph", "print a model as a Graphviz DOT graph",
	 "usage: nnc graph FILE.nn... [--model NAME]\n"
	 "\n"
	 "Prints each model (or only NAME) as a Graphviz digraph: one node per\n"
	 "layer with its output shape, edges as data flow.  Render it with\n"
	 "  nnc graph model.nn | dot -Tsvg -o model.svg\n"
	 "\n"
	 "options:\n"
	 "  --model NAME   print only the model NAME\n",
	 run_graph},
	{"build", "generate C that trains and runs each model",
	 "usage: nnc build FILE.nn... [--model NAME] [-o DIR] [--precision f32|f64]\n"
	 "                 [--unroll-limit N]\n"
	 "\n"
	 "Writes DIR/NAME.h and DIR/NAME.c for each model (or only NAME): C99\n"
	 "that creates, trains, evaluates and runs the model.  Compile them\n"
	 "with your program:\n"
	 "  cc -std=c99 -Iruntime -IDIR main.c DIR/NAME.c build/libnnrt.a \\\n"
	 "     $(pkg-config --libs openblas libcjson) -lm\n"
	 "docs/API.md describes the generated functions.\n"
	 "\n"
	 "options:\n"
	 "  --model NAME        build only the model NAME\n"
	 "  -o DIR              write the files into DIR (default: .)\n"
	 "  --precision f32     float everywhere (the default)\n"
	 "  --precision f64     double everywhere\n"
	 "  --unroll-limit N    unroll dense layers of at most N multiply-adds\n"
	 "                      per example into scalar code; larger ones call\n"
	 "                      GEMM (default 64; 0 never unrolls)\n",
	 run_build},
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
 * not be read (already reported); errors in the text leave c->diag counting
 * them, with as much of the AST and IR built as was possible. */
static bool compile(Compilation *c, const Options *o)
{
	char err[512];
	c->arena = arena_new();
	c->src = source_load(c->arena, o->file, err, sizeof err);
	if (!c->src) {
		fprintf(stderr, "nnc: error: %s\n", err);
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
	if (!compile(&c, o)) {
		arena_free(c.arena);
		return EXIT_ERRORS;
	}
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
	if (!compile(&c, o)) {
		arena_free(c.arena);
		return EXIT_ERRORS;
	}
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
	FILE *f = fopen(path, "wb");
	bool ok = f && fwrite(text, 1, len, f) == len;
	if (f && fclose(f) != 0)
		ok = false;
	if (!ok)
		fprintf(stderr, "nnc: error: cannot write %s: %s\n", path,
		        strerror(errno));
	free(path);
	return ok;
}

static int run_build(const Options *o)
{
	Compilation c = {0};
	if (!compile(&c, o)) {
		arena_free(c.arena);
		return EXIT_ERRORS;
	}
	int n = 0;
	IrModel **models = select_models(&c, o, &n);
	if (!models || c.diag.nerrors)
		return finish(&c);
	for (int i = 0; i < n; i++)
		if (!emit_name_ok(models[i]->name))
			diag_error(&c.diag, models[i]->loc, "the model name '%s' cannot "
			           "be used in generated C: it is a C keyword or a name "
			           "the generated code or the C library uses; rename "
			           "the model", models[i]->name);
	if (c.diag.nerrors)
		return finish(&c);
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
		char *h = NULL, *cs = NULL;
		size_t hlen = 0, clen = 0;
		FILE *hf = open_memstream(&h, &hlen), *cf = open_memstream(&cs, &clen);
		if (!hf || !cf)
			DIE("open_memstream failed");
		emit_model(hf, cf, c.arena, c.ir, models[i], &eo);
		fclose(hf);
		fclose(cf);
		if (!write_file(dir, models[i]->name, "h", h, hlen) ||
		    !write_file(dir, models[i]->name, "c", cs, clen))
			status = EXIT_ERRORS;
		free(h);
		free(cs);
	}
	int s = finish(&c);
	return s > status ? s : status;
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

	Options o = {.command = cmd->name, .unroll_limit = EMIT_DEFAULT_UNROLL};
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
		} else if (build && !strcmp(arg, "-o")) {
			if (++i == argc)
				return usage_error("-o needs a directory");
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
		} else if (arg[0] == '-' && arg[1] != '\0') {
			return usage_error("unknown option '%s' for 'nnc %s'", arg,
			                   cmd->name);
		} else {
			argv[2 + o.nfiles++] = argv[i];   /* compact the file names */
		}
	}
	if (!o.nfiles)
		return usage_error("'nnc %s' needs a .nn file", cmd->name);
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

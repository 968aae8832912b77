/*
 * fuzz_frontend.c — libFuzzer target for the whole front end and back end.
 *
 * The input is the text of a .nn file.  It goes through the pipeline that
 * `nnc check --dump=ast|ir`, `nnc graph` and `nnc build --main` run
 * (main.c): parse_file -> expr_resolve_all -> lower_file -> shape_check,
 * then every printer, and for a file without errors the C back end.
 * Diagnostics and output go to memory streams that are thrown away: what
 * is checked is that no input crashes, leaks, hangs or trips UBSan.
 *
 * Built by tests/fuzz/fuzz.mk; `build/fuzz/fuzz_frontend FILE...` replays
 * inputs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "nnc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A memory stream for one run's output, discarded afterwards. */
typedef struct Sink {
	char *buf;
	size_t len;
	FILE *f;
} Sink;

static void sink_open(Sink *s)
{
	s->buf = NULL;
	s->len = 0;
	s->f = open_memstream(&s->buf, &s->len);
	if (!s->f)
		abort();
}

static void sink_close(Sink *s)
{
	fclose(s->f);
	free(s->buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Arena *a = arena_new();
	Sink diag, out;
	sink_open(&diag);
	sink_open(&out);

	const Source *src = source_from_memory(a, "fuzz.nn", (const char *)data,
	                                       size);
	Diag d;
	diag_init(&d, src, diag.f);
	AstFile *ast = parse_file(a, src, &d);
	ast_dump(out.f, ast);
	CustomAct **acts = expr_resolve_all(a, ast, &d);
	IrProgram *p = lower_file(a, ast, acts, &d);
	shape_check(a, p, &d);
	ir_dump(out.f, p);
	if (d.nerrors == 0) {
		/* What `nnc check`, `nnc graph` and `nnc build` print.  The
		 * precision and unroll limit vary with the input's length so
		 * that both code paths of the emitter are reached. */
		EmitOptions eo = {
			.source = "fuzz.nn",
			.f64 = size & 1,
			.unroll_limit = size & 2 ? 0 : EMIT_DEFAULT_UNROLL,
		};
		for (int i = 0; i < p->nmodels; i++) {
			IrModel *m = p->models[i];
			summary_print(out.f, a, m);
			graph_print(out.f, a, m);
			if (!emit_name_ok(m->name))
				continue;
			Sink h, c;
			sink_open(&h);
			sink_open(&c);
			emit_model(h.f, c.f, a, p, m, &eo);
			emit_main(c.f, m, &eo);
			sink_close(&h);
			sink_close(&c);
		}
	}
	diag_finish(&d);

	sink_close(&out);
	sink_close(&diag);
	arena_free(a);
	return 0;
}

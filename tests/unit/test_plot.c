/*
 * test_plot.c — Check suite for plot.c (nnc plot): a training history CSV
 * drawn as SVG.
 *
 * The SVG is checked structurally — it starts with <svg, every tag is
 * closed in order (a small tag-balance parser below), it has one polyline
 * per series and run of finite values, the legend and titles name the
 * columns, XML specials are escaped — and byte-stable for the same input.
 * Every error case is pinned by its exact message.  Files live under one
 * mkdtemp directory in /tmp, made and removed by a fixture in the parent
 * process.  Exports plot_suite(); the runner is tests/unit/main.c.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* mkdtemp */
#endif

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nnc.h"
#include "tmpdir.h"

Suite *plot_suite(void);

/* ---- helpers ------------------------------------------------------------ */


static const char *put(const char *name, const char *text)
{
	const char *p = path_of(name);
	FILE *f = fopen(p, "w");
	ck_assert(f != NULL);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	return p;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *s = malloc((size_t)n + 1);
	ck_assert(fread(s, 1, (size_t)n, f) == (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

static int count(const char *s, const char *needle)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* Whether every element of the document is closed in order, attribute
 * values are quoted, and text holds no raw '<' or stray '&': enough XML to
 * catch what a printf-built SVG gets wrong.  Returns NULL or a problem. */
static const char *xml_problem(const char *s)
{
	static char msg[200];
	const char *stack[64];
	size_t lens[64];
	int depth = 0, seen_root = 0;
	for (const char *p = s; *p;) {
		if (*p == '&') {
			if (strncmp(p, "&amp;", 5) && strncmp(p, "&lt;", 4) &&
			    strncmp(p, "&gt;", 4) && strncmp(p, "&quot;", 6) &&
			    strncmp(p, "&apos;", 6))
				return "a bare '&'";
			p++;
			continue;
		}
		if (*p != '<') {
			if (depth == 0 && *p != '\n')
				return "text outside the root element";
			p++;
			continue;
		}
		const char *end = strchr(p, '>');
		if (end == NULL)
			return "an unterminated tag";
		/* Quoted attribute values may not hold '<' or '>'. */
		int quotes = 0;
		for (const char *q = p + 1; q < end; q++) {
			quotes += *q == '"';
			if (*q == '<')
				return "'<' inside a tag";
		}
		if (quotes % 2)
			return "an unbalanced quote in a tag";
		if (p[1] == '/') {
			size_t n = strcspn(p + 2, " >");
			if (depth == 0 || lens[depth - 1] != n ||
			    strncmp(stack[depth - 1], p + 2, n)) {
				snprintf(msg, sizeof msg, "mismatched %.*s",
				         (int)(end - p + 1), p);
				return msg;
			}
			depth--;
		} else if (end[-1] != '/') {
			if (depth == 64)
				return "nested too deep";
			stack[depth] = p + 1;
			lens[depth] = strcspn(p + 1, " />");
			depth++;
			if (depth == 1 && seen_root++)
				return "two root elements";
		} else if (depth == 0) {
			return "an empty root element";
		}
		p = end + 1;
	}
	return depth ? "unclosed elements" : NULL;
}

/* Plots csv text, returns the SVG (to free). */
static char *plot(const char *csv)
{
	char err[256] = "";
	const char *in = put("h.csv", csv), *out = path_of("h.svg");
	int rc = plot_history_svg(in, out, err, sizeof err);
	ck_assert_msg(rc == 0, "%s", err);
	char *svg = slurp(out);
	const char *problem = xml_problem(svg);
	ck_assert_msg(problem == NULL, "%s in:\n%s", problem, svg);
	return svg;
}

/* Plotting csv fails with exactly `want` (PATH stands for the CSV's path),
 * and an existing SVG is left as it was. */
static void plot_fails(const char *csv, const char *want)
{
	char err[256] = "", full[512];
	const char *in = put("bad.csv", csv), *out = put("old.svg", "old");
	ck_assert_int_eq(plot_history_svg(in, out, err, sizeof err), -1);
	snprintf(full, sizeof full, "%s%s", in, want);
	ck_assert_str_eq(err, full);
	char *s = slurp(out);
	ck_assert_str_eq(s, "old");
	free(s);
}

static const char *history =
	"epoch,loss,accuracy,val_loss,val_accuracy,seconds\n"
	"1,1.0986,0.41,1.05,0.45,0.2\n"
	"2,0.9,0.55,0.92,0.52,0.2\n"
	"3,0.7,0.68,0.8,0.61,0.21\n"
	"4,0.55,0.75,0.71,0.66,0.2\n";

/* ---- tests ------------------------------------------------------------ */

START_TEST(test_plot_two_panels)
{
	char *svg = plot(history);
	static const char head[] = "<svg xmlns=\"http://www.w3.org/2000/svg\" "
	                           "version=\"1.1\" ";
	ck_assert(strncmp(svg, head, strlen(head)) == 0);
	ck_assert(strcmp(svg + strlen(svg) - 7, "</svg>\n") == 0);
	ck_assert_int_eq(count(svg, "<polyline"), 4);
	/* Training solid blue, validation dashed red, in both panels. */
	ck_assert_int_eq(count(svg, "stroke=\"#1f77b4\" stroke-width=\"2\" "
	                            "points="), 2);
	ck_assert_int_eq(count(svg, "stroke=\"#d62728\" stroke-width=\"2\" "
	                            "stroke-dasharray=\"6 3\" points="), 2);
	ck_assert_int_eq(count(svg, "<circle"), 16);
	ck_assert(strstr(svg, "<title>Training history: h.csv</title>"));
	ck_assert(strstr(svg, "(4 epochs)</text>"));
	ck_assert(strstr(svg, "font-weight=\"bold\">loss</text>"));
	ck_assert(strstr(svg, "font-weight=\"bold\">accuracy</text>"));
	ck_assert(strstr(svg, ">val_accuracy</text>"));
	ck_assert_int_eq(count(svg, ">epoch</text>"), 2);
	/* Integer epoch ticks 1..4; accuracy ticks at round values. */
	ck_assert(strstr(svg, "text-anchor=\"middle\">1</text>"));
	ck_assert(strstr(svg, "text-anchor=\"middle\">4</text>"));
	ck_assert(strstr(svg, "text-anchor=\"end\">0.40</text>") ||
	          strstr(svg, "text-anchor=\"end\">0.4</text>"));
	/* Two panels side by side. */
	ck_assert(strstr(svg, "width=\"940\" height=\"354\""));
	free(svg);
}
END_TEST

START_TEST(test_plot_no_validation)
{
	char *svg = plot("epoch,loss,mae,mse,seconds\n1,3,1.5,3,0.1\n"
	                 "2,2,1.2,2,0.1\n3,1.5,1,1.5,0.1\n");
	ck_assert_int_eq(count(svg, "<polyline"), 3);
	ck_assert_int_eq(count(svg, "stroke-dasharray=\"6 3\""), 0);
	ck_assert(strstr(svg, "font-weight=\"bold\">mse</text>"));
	/* Three panels: two rows of two columns. */
	ck_assert(strstr(svg, "width=\"940\" height=\"654\""));
	free(svg);
}
END_TEST

START_TEST(test_plot_nan_gap_and_crlf)
{
	char *svg = plot("\xEF\xBB\xBF" "epoch,loss,val_loss,seconds\r\n"
	                 "1,1,1.1,0\r\n2,0.8,nan,0\r\n\r\n3,0.7,0.9,0\r\n"
	                 "4,0.6,0.85,0\r\n");
	/* loss: one line; val_loss: two, around the NaN. */
	ck_assert_int_eq(count(svg, "<polyline"), 3);
	ck_assert_int_eq(count(svg, "<circle"), 4 + 3);
	free(svg);
}
END_TEST

START_TEST(test_plot_one_epoch_and_flat)
{
	char *svg = plot("epoch,loss,seconds\n1,0.5,2\n");
	ck_assert_int_eq(count(svg, "<polyline"), 1);
	ck_assert_int_eq(count(svg, "<circle"), 1);
	ck_assert(strstr(svg, "(1 epoch)</text>"));
	free(svg);
	svg = plot("epoch,loss,seconds\n1,0,1\n2,0,1\n");
	ck_assert_int_eq(count(svg, "<polyline"), 1);
	free(svg);
	/* All NaN: an empty frame, still a valid document. */
	svg = plot("epoch,loss,seconds\n1,nan,1\n");
	ck_assert_int_eq(count(svg, "<polyline"), 0);
	free(svg);
}
END_TEST

START_TEST(test_plot_escapes_and_is_stable)
{
	char *a = plot("epoch,loss,a<b&c,seconds\n1,1,2,0\n2,0.5,1,0\n");
	ck_assert(strstr(a, ">a&lt;b&amp;c</text>"));
	ck_assert(strstr(a, "a<b") == NULL);
	char *b = plot("epoch,loss,a<b&c,seconds\n1,1,2,0\n2,0.5,1,0\n");
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	/* A resumed history starts later; large epochs and values work. */
	a = plot("epoch,loss,seconds\n101,25000000,1\n150,12000000,1\n"
	         "200,9000000,1\n");
	ck_assert_int_eq(count(a, "<polyline"), 1);
	free(a);
}
END_TEST

START_TEST(test_plot_errors)
{
	char err[256];
	ck_assert_int_eq(plot_history_svg(path_of("none.csv"), path_of("o.svg"),
	                                  err, sizeof err), -1);
	char want[300];
	snprintf(want, sizeof want, "%s: cannot open: No such file or directory",
	         path_of("none.csv"));
	ck_assert_str_eq(err, want);

	plot_fails("", ": the file is empty (a training history starts with "
	               "the header epoch,loss,...,seconds)");
	plot_fails("epoch,loss,seconds\n", ": no epochs (the history has only "
	                                   "its header)");
	plot_fails("x0,x1,y\n1,2,3\n", ":1: not a training history: the header "
	           "must be epoch,loss,...,seconds (it starts with 'x0', ...)");
	plot_fails("epoch,loss\n1,2\n", ":1: not a training history: the header "
	           "must be epoch,loss,...,seconds (it starts with 'epoch', ...)");
	plot_fails("epoch,loss,,seconds\n", ":1: column 3 of the header has no "
	           "name");
	plot_fails("epoch,loss,mae,mae,seconds\n", ":1: column 'mae' appears "
	           "twice in the header");
	plot_fails("epoch,loss,mae,seconds\n1,2,3,4\n2,2,abc,4\n",
	           ":3:5: expected a number, got 'abc'");
	plot_fails("epoch,loss,mae,seconds\n1,,3,4\n",
	           ":2:3: expected a number, got an empty cell");
	plot_fails("epoch,loss,mae,seconds\n1,2, 3,4\n",
	           ":2:5: expected a number, got ' 3'");
	plot_fails("epoch,loss,mae,seconds\n1,2,3\n",
	           ":2: expected 4 columns, like the header, got 3");
	plot_fails("epoch,loss,seconds\n2,1,1\n2,1,1\n",
	           ":3:1: epoch 2 does not come after epoch 2");
	plot_fails("epoch,loss,seconds\ninf,1,1\n",
	           ":2:1: the epoch must be a finite number");
	static const char nul[] = "epoch,loss,seconds\n1,1,1\n2,1,1\0\n";
	const char *bin = path_of("bin.csv");
	FILE *f = fopen(bin, "wb");
	ck_assert(f != NULL);
	fwrite(nul, 1, sizeof nul - 1, f);
	fclose(f);
	ck_assert_int_eq(plot_history_svg(bin, path_of("o.svg"), err,
	                                  sizeof err), -1);
	snprintf(want, sizeof want, "%s:3: line contains a NUL byte (is this a "
	         "binary file?)", bin);
	ck_assert_str_eq(err, want);

	/* An SVG that cannot be written. */
	const char *in = put("h.csv", history);
	ck_assert_int_eq(plot_history_svg(in, "/nonexistent-dir/h.svg", err,
	                                  sizeof err), -1);
	ck_assert(strncmp(err, "/nonexistent-dir/h.svg: cannot create", 37) == 0);
}
END_TEST

Suite *plot_suite(void)
{
	Suite *s = suite_create("plot");
	TCase *tc = tcase_create("svg");
	tcase_add_unchecked_fixture(tc, root_setup, root_teardown);
	tcase_add_checked_fixture(tc, dir_setup, NULL);
	tcase_add_test(tc, test_plot_two_panels);
	tcase_add_test(tc, test_plot_no_validation);
	tcase_add_test(tc, test_plot_nan_gap_and_crlf);
	tcase_add_test(tc, test_plot_one_epoch_and_flat);
	tcase_add_test(tc, test_plot_escapes_and_is_stable);
	tcase_add_test(tc, test_plot_errors);
	suite_add_tcase(s, tc);
	return s;
}

/*
 * plot.c — `nnc plot H.csv -o curves.svg`: draws the learning curves of a
 * training history (the CSV a trainer writes with --history) as SVG.
 *
 * The history's header is epoch,loss,<metric>...,val_loss,val_<metric>...,
 * seconds.  Each quantity gets a panel: loss, then each metric, with its
 * validation twin (val_X) drawn in the same panel, dashed, in a second
 * colour.  The SVG is plain SVG 1.1 with no scripts, fonts or external
 * references, so any browser shows it; numbers are printed with fixed
 * precision so the same CSV always gives the same bytes.
 *
 * The CSV is untrusted input: every cell is checked and a problem is
 * reported as "H.csv:LINE:COL: ..." (COL the byte column where the cell
 * starts, as the runtime's data reader counts).  The SVG is written to a
 * temporary file and renamed, so a failure leaves an old plot intact.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnc.h"
#include "nnrt.h"

/* Geometry of the drawing, in SVG user units (pixels). */
enum {
	PANEL_W = 460,             /* one panel, axes and labels included */
	PANEL_H = 300,
	PANEL_COLS = 2,            /* panels per row, at most */
	TITLE_H = 44,              /* band above the panels */
	MARGIN = 10,               /* around the panel grid */
	PLOT_LEFT = 64,            /* inside a panel: room for y labels */
	PLOT_RIGHT = 16,
	PLOT_TOP = 34,             /* room for the panel's title */
	PLOT_BOTTOM = 46,          /* room for x labels and "epoch" */
	MARKER_MAX_ROWS = 60,      /* draw a dot per epoch up to this many */
	MAX_COLUMNS = 64,
};

/* The two series of a panel: training, then validation. */
static const char *const colours[2] = {"#1f77b4", "#d62728"};

/* A parsed history: rows x cols numbers, row-major. */
typedef struct History {
	char **names;              /* [cols] header fields */
	int cols;
	int rows;
	double *v;                 /* [rows][cols] */
} History;

/* One panel: the column it plots and its validation twin (-1: none). */
typedef struct Panel {
	int col, val;
} Panel;

/* Formats "message" into err; returns -1 for `return fail(...)`. */
NNC_PRINTF(3, 4)
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err != NULL && errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void history_free(History *h)
{
	for (int i = 0; i < h->cols; i++)
		free(h->names[i]);
	free(h->names);
	free(h->v);
	memset(h, 0, sizeof *h);
}

/* ------------------------------------------------------------ reading */

/* Reads the whole file; NULL with a message in err. */
static char *read_all(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 4096, n = 0;
	char *buf = xmalloc(cap);
	size_t got;
	while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (cap - n - 1 == 0)
			buf = xrealloc(buf, cap *= 2);
	}
	if (ferror(f)) {
		fail(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Splits line[0 .. len) at commas into at most max fields; returns the
 * field count (max + 1 when there are more).  starts[] receives each
 * field's byte offset in the line. */
static int split(char *line, size_t len, char **fields, size_t *starts,
                 int max)
{
	int n = 0;
	size_t b = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && line[i] != ',')
			continue;
		if (n == max)
			return max + 1;
		line[i] = '\0';
		fields[n] = line + b;
		starts[n++] = b;
		b = i + 1;
	}
	return n;
}

/* A cell: a decimal number, or nan/inf (a validation loss can be NaN),
 * surrounded by nothing else. */
static int parse_number(const char *s, double *out)
{
	char *end;
	if (*s == '\0' || *s == ' ' || *s == '\t')
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	if (end == s || *end != '\0')
		return -1;
	return 0;
}

/* "'abc'", or the first 40 bytes and "..." of a longer text. */
static void quote(char *buf, size_t len, const char *s)
{
	size_t n = strlen(s);
	snprintf(buf, len, "'%.*s%s'", (int)(n > 40 ? 40 : n), s,
	         n > 40 ? "..." : "");
}

/* Checks the header: epoch, loss, ..., seconds, unique non-empty names. */
static int check_header(const char *path, char **f, int n, char *err,
                        size_t errlen)
{
	if (n > MAX_COLUMNS)
		return fail(err, errlen, "%s:1: the header has more than %d "
		            "columns; is this a training history?", path,
		            MAX_COLUMNS);
	if (n < 3 || strcmp(f[0], "epoch") != 0 || strcmp(f[1], "loss") != 0 ||
	    strcmp(f[n - 1], "seconds") != 0) {
		char got[64];
		quote(got, sizeof got, f[0]);
		return fail(err, errlen, "%s:1: not a training history: the header "
		            "must be epoch,loss,...,seconds (it starts with %s%s)",
		            path, got, n > 1 ? ", ..." : "");
	}
	for (int i = 2; i < n - 1; i++) {
		if (f[i][0] == '\0')
			return fail(err, errlen, "%s:1: column %d of the header has "
			            "no name", path, i + 1);
		for (int j = 0; j < i; j++)
			if (strcmp(f[i], f[j]) == 0)
				return fail(err, errlen, "%s:1: column '%s' appears twice "
				            "in the header", path, f[i]);
	}
	return 0;
}

/* Parses the CSV text into h; -1 with "PATH:LINE[:COL]: ..." in err. */
static int parse_history(const char *path, char *text, size_t len,
                         History *h, char *err, size_t errlen)
{
	char *fields[MAX_COLUMNS + 1];
	size_t starts[MAX_COLUMNS + 1];
	size_t cap = 0;
	int line = 0;
	char *p = text, *end = text + len;
	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;            /* a BOM from a spreadsheet's "save as" */
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *next = nl ? nl + 1 : end;
		line++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (memchr(p, '\0', n) != NULL)
			return fail(err, errlen, "%s:%d: line contains a NUL byte (is "
			            "this a binary file?)", path, line);
		if (n == 0) {       /* blank lines: skipped */
			p = next;
			continue;
		}
		int nf = split(p, n, fields, starts, MAX_COLUMNS);
		if (h->names == NULL) {
			if (check_header(path, fields, nf, err, errlen) != 0)
				return -1;
			h->cols = nf;
			h->names = xmalloc((size_t)nf * sizeof *h->names);
			for (int i = 0; i < nf; i++) {
				size_t l = strlen(fields[i]);
				h->names[i] = xmalloc(l + 1);
				memcpy(h->names[i], fields[i], l + 1);
			}
			p = next;
			continue;
		}
		if (nf != h->cols)
			return fail(err, errlen, "%s:%d: expected %d columns, like the "
			            "header, got %s%d", path, line, h->cols,
			            nf > MAX_COLUMNS ? "more than " : "",
			            nf > MAX_COLUMNS ? MAX_COLUMNS : nf);
		if ((size_t)h->rows == cap) {
			cap = cap ? 2 * cap : 64;
			h->v = xrealloc(h->v, cap * (size_t)h->cols * sizeof *h->v);
		}
		double *row = h->v + (size_t)h->rows * (size_t)h->cols;
		for (int i = 0; i < nf; i++) {
			char got[64];
			int col = (int)starts[i] + 1;
			if (parse_number(fields[i], &row[i]) != 0) {
				quote(got, sizeof got, fields[i]);
				return fail(err, errlen, "%s:%d:%d: expected a number, got "
				            "%s", path, line, col,
				            fields[i][0] ? got : "an empty cell");
			}
			if (i == 0 && !isfinite(row[0]))
				return fail(err, errlen, "%s:%d:%d: the epoch must be a "
				            "finite number", path, line, col);
		}
		if (h->rows > 0 && row[0] <= row[-h->cols])
			return fail(err, errlen, "%s:%d:1: epoch %.9g does not come "
			            "after epoch %.9g", path, line, row[0],
			            row[-h->cols]);
		h->rows++;
		p = next;
	}
	if (h->names == NULL)
		return fail(err, errlen, "%s: the file is empty (a training history "
		            "starts with the header epoch,loss,...,seconds)", path);
	if (h->rows == 0)
		return fail(err, errlen, "%s: no epochs (the history has only its "
		            "header)", path);
	return 0;
}

/* ------------------------------------------------------------ drawing */

/* Text with XML's special characters escaped. */
static void put_xml(EmitBuf *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': emit_buf_puts(f, "&amp;"); break;
		case '<': emit_buf_puts(f, "&lt;"); break;
		case '>': emit_buf_puts(f, "&gt;"); break;
		case '"': emit_buf_puts(f, "&quot;"); break;
		case '\'': emit_buf_puts(f, "&apos;"); break;
		default:
			/* Control characters are not allowed in XML 1.0. */
			if ((unsigned char)*s >= 0x20 || *s == '\t')
				emit_buf_putc(f, *s);
			break;
		}
	}
}

/* An axis: the range shown and its ticks at start + i * step. */
typedef struct Axis {
	double lo, hi;             /* the range mapped onto the plot */
	double step;
	int nticks;
	int decimals;              /* for the tick labels */
} Axis;

/* Round ticks (1, 2 or 5 times a power of ten) covering [lo, hi] with
 * about `want` intervals; integer steps only if `integer`. */
static Axis nice_axis(double lo, double hi, int want, int integer)
{
	Axis a;
	if (!(hi > lo)) {          /* one value, or none: widen around it */
		double pad = fabs(lo) > 0 ? fabs(lo) * 0.1 : 1;
		lo -= pad;
		hi += pad;
		if (integer && lo < 0 && lo + pad >= 0)
			lo = 0;
	}
	double raw = (hi - lo) / want;
	double mag = pow(10, floor(log10(raw)));
	double norm = raw / mag;
	double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
	if (integer && step < 1)
		step = 1;
	a.step = step;
	a.lo = floor(lo / step + 1e-9) * step;
	a.hi = ceil(hi / step - 1e-9) * step;
	if (a.hi <= a.lo)
		a.hi = a.lo + step;
	a.nticks = (int)floor((a.hi - a.lo) / step + 0.5) + 1;
	int d = (int)-floor(log10(step) + 1e-9);
	a.decimals = d > 0 ? d : 0;
	return a;
}

/* A tick label: fixed decimals from the step, or %g for huge or tiny
 * values where fixed notation would be unreadable. */
static void put_tick(EmitBuf *f, const Axis *a, double v)
{
	if (fabs(v) < a->step * 1e-6)
		v = 0;             /* not "-0.0000" or "1e-17" */
	if (a->decimals > 6 || fabs(v) >= 1e7)
		emit_buf_printf(f, "%g", v);
	else
		emit_buf_printf(f, "%.*f", a->decimals, v);
}

/* Where a value lands in a panel's plot area. */
typedef struct Frame {
	Axis x, y;
	int w, h;                  /* size of the plot area */
} Frame;

static double px(const Frame *fr, double epoch)
{
	return PLOT_LEFT + fr->w * (epoch - fr->x.lo) / (fr->x.hi - fr->x.lo);
}

static double py(const Frame *fr, double v)
{
	return PLOT_TOP + fr->h - fr->h * (v - fr->y.lo) / (fr->y.hi - fr->y.lo);
}

/* How much of the curves a legend box at (x, y, w, h) would hide: points
 * sampled along every segment that fall inside it. */
static int legend_hits(const History *h, const int *cols, int nser,
                       const Frame *fr, int x, int y, int w, int ht)
{
	int hits = 0;
	for (int s = 0; s < nser; s++) {
		for (int r = 0; r < h->rows; r++) {
			const double *row = h->v + (size_t)r * (size_t)h->cols;
			const double *prev = r ? row - h->cols : row;
			if (!isfinite(row[cols[s]]) || !isfinite(prev[cols[s]]))
				continue;
			for (int k = 0; k <= 8; k++) {
				double t = k / 8.0;
				double sx = px(fr, prev[0] + t * (row[0] - prev[0]));
				double sy = py(fr, prev[cols[s]] +
				               t * (row[cols[s]] - prev[cols[s]]));
				hits += sx >= x && sx <= x + w && sy >= y && sy <= y + ht;
			}
		}
	}
	return hits;
}

/* Draws one panel at (x0, y0): frame, grid, ticks, curves, legend. */
static void draw_panel(EmitBuf *f, const History *h, const Panel *pn,
                       int x0, int y0)
{
	const int pw = PANEL_W - PLOT_LEFT - PLOT_RIGHT;
	const int ph = PANEL_H - PLOT_TOP - PLOT_BOTTOM;
	const int cols[2] = {pn->col, pn->val};
	const int nser = pn->val >= 0 ? 2 : 1;

	double ylo = INFINITY, yhi = -INFINITY;
	for (int s = 0; s < nser; s++)
		for (int r = 0; r < h->rows; r++) {
			double v = h->v[(size_t)r * (size_t)h->cols + (size_t)cols[s]];
			if (isfinite(v)) {
				ylo = fmin(ylo, v);
				yhi = fmax(yhi, v);
			}
		}
	if (!isfinite(ylo))
		ylo = 0, yhi = 1;  /* nothing finite to draw: an empty frame */
	double e0 = h->v[0], e1 = h->v[(size_t)(h->rows - 1) * (size_t)h->cols];
	Axis xa = nice_axis(e0, e1, 8, 1);
	Axis ya = nice_axis(ylo, yhi, 5, 0);
	const Frame fr = {xa, ya, pw, ph};

	emit_buf_printf(f, "<g transform=\"translate(%d,%d)\">\n", x0, y0);
	emit_buf_puts(f, "<text x=\"");
	emit_buf_printf(f, "%d\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" "
	        "font-weight=\"bold\">", PLOT_LEFT + pw / 2);
	put_xml(f, h->names[pn->col]);
	emit_buf_puts(f, "</text>\n");

	/* Grid and tick labels. */
	emit_buf_puts(f, "<g stroke=\"#e4e4e4\" stroke-width=\"1\">\n");
	for (int i = 0; i < ya.nticks; i++) {
		double y = PLOT_TOP + ph - (double)ph * i / (ya.nticks - 1);
		emit_buf_printf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n",
		        PLOT_LEFT, y, PLOT_LEFT + pw, y);
	}
	for (int i = 0; i < xa.nticks; i++) {
		double x = PLOT_LEFT + (double)pw * i / (xa.nticks - 1);
		emit_buf_printf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n",
		        x, PLOT_TOP, x, PLOT_TOP + ph);
	}
	emit_buf_puts(f, "</g>\n");
	emit_buf_printf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
	        "fill=\"none\" stroke=\"#444\" stroke-width=\"1\"/>\n",
	        PLOT_LEFT, PLOT_TOP, pw, ph);
	emit_buf_puts(f, "<g font-size=\"11\" fill=\"#333\">\n");
	for (int i = 0; i < ya.nticks; i++) {
		double y = PLOT_TOP + ph - (double)ph * i / (ya.nticks - 1);
		emit_buf_printf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">",
		        PLOT_LEFT - 6, y + 4);
		put_tick(f, &ya, ya.lo + i * ya.step);
		emit_buf_puts(f, "</text>\n");
	}
	for (int i = 0; i < xa.nticks; i++) {
		double x = PLOT_LEFT + (double)pw * i / (xa.nticks - 1);
		emit_buf_printf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
		        x, PLOT_TOP + ph + 16);
		put_tick(f, &xa, xa.lo + i * xa.step);
		emit_buf_puts(f, "</text>\n");
	}
	emit_buf_puts(f, "</g>\n");
	emit_buf_printf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
	        "font-size=\"12\">epoch</text>\n", PLOT_LEFT + pw / 2,
	        PLOT_TOP + ph + 36);
	emit_buf_printf(f, "<text transform=\"translate(14,%d) rotate(-90)\" "
	        "text-anchor=\"middle\" font-size=\"12\">",
	        PLOT_TOP + ph / 2);
	put_xml(f, h->names[pn->col]);
	emit_buf_puts(f, "</text>\n");

	/* The curves: a polyline per run of finite values, so a NaN leaves a
	 * gap instead of a line to nowhere. */
	for (int s = 0; s < nser; s++) {
		const char *dash = s ? " stroke-dasharray=\"6 3\"" : "";
		int open = 0;
		for (int r = 0; r < h->rows; r++) {
			const double *row = h->v + (size_t)r * (size_t)h->cols;
			double v = row[cols[s]];
			if (!isfinite(v)) {
				if (open)
					emit_buf_puts(f, "\"/>\n");
				open = 0;
				continue;
			}
			double x = px(&fr, row[0]), y = py(&fr, v);
			if (!open)
				emit_buf_printf(f, "<polyline fill=\"none\" stroke=\"%s\" "
				        "stroke-width=\"2\"%s points=\"", colours[s], dash);
			emit_buf_printf(f, "%s%.1f,%.1f", open ? " " : "", x, y);
			open = 1;
		}
		if (open)
			emit_buf_puts(f, "\"/>\n");
		if (h->rows <= MARKER_MAX_ROWS) {
			emit_buf_printf(f, "<g fill=\"%s\">\n", colours[s]);
			for (int r = 0; r < h->rows; r++) {
				const double *row = h->v + (size_t)r * (size_t)h->cols;
				double v = row[cols[s]];
				if (!isfinite(v))
					continue;
				emit_buf_printf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"/>\n",
				        px(&fr, row[0]), py(&fr, v));
			}
			emit_buf_puts(f, "</g>\n");
		}
	}

	/* Legend on a white box, in the corner of the plot where it hides
	 * the least of the curves (top right on a tie). */
	int lw = 0, lh = 8 + 16 * nser;
	for (int s = 0; s < nser; s++) {
		int w = (int)strlen(h->names[cols[s]]) * 7 + 36;
		lw = w > lw ? w : lw;
	}
	const int cx[4] = {PLOT_LEFT + pw - lw - 8, PLOT_LEFT + pw - lw - 8,
	                   PLOT_LEFT + 8, PLOT_LEFT + 8};
	const int cy[4] = {PLOT_TOP + 8, PLOT_TOP + ph - lh - 8, PLOT_TOP + 8,
	                   PLOT_TOP + ph - lh - 8};
	int lx = cx[0], ly = cy[0], least = INT_MAX;
	for (int k = 0; k < 4; k++) {
		int hits = legend_hits(h, cols, nser, &fr, cx[k], cy[k], lw, lh);
		if (hits < least) {
			least = hits;
			lx = cx[k];
			ly = cy[k];
		}
	}
	emit_buf_printf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
	        "fill=\"white\" fill-opacity=\"0.85\" stroke=\"#bbb\"/>\n",
	        lx, ly, lw, lh);
	for (int s = 0; s < nser; s++) {
		int y = ly + 14 + 16 * s;
		emit_buf_printf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
		        "stroke=\"%s\" stroke-width=\"2\"%s/>\n", lx + 6, y - 4,
		        lx + 28, y - 4, colours[s],
		        s ? " stroke-dasharray=\"6 3\"" : "");
		emit_buf_printf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\">", lx + 32, y);
		put_xml(f, h->names[cols[s]]);
		emit_buf_puts(f, "</text>\n");
	}
	emit_buf_puts(f, "</g>\n");
}

/* The panels: each column but epoch and seconds that is not the
 * validation twin of another; returns how many. */
static int make_panels(const History *h, Panel *pn)
{
	int n = 0;
	for (int c = 1; c < h->cols - 1; c++) {
		const char *name = h->names[c];
		int base = -1;
		if (strncmp(name, "val_", 4) == 0)
			for (int b = 1; b < h->cols - 1; b++)
				if (strcmp(h->names[b], name + 4) == 0)
					base = b;
		if (base >= 0)
			continue;      /* drawn with its training twin */
		pn[n].col = c;
		pn[n].val = -1;
		for (int v = 1; v < h->cols - 1; v++)
			if (strncmp(h->names[v], "val_", 4) == 0 &&
			    strcmp(h->names[v] + 4, name) == 0)
				pn[n].val = v;
		n++;
	}
	return n;
}

/* The whole document. */
static void draw(EmitBuf *f, const History *h, const char *csv_path)
{
	Panel pn[MAX_COLUMNS];
	int np = make_panels(h, pn);
	int ncols = np < PANEL_COLS ? np : PANEL_COLS;
	int nrows = (np + PANEL_COLS - 1) / PANEL_COLS;
	int w = 2 * MARGIN + ncols * PANEL_W;
	int ht = TITLE_H + MARGIN + nrows * PANEL_H;
	emit_buf_printf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
	        "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	        "font-family=\"Helvetica, Arial, sans-serif\">\n", w, ht, w, ht);
	const char *base = strrchr(csv_path, '/');
	base = base ? base + 1 : csv_path;
	emit_buf_puts(f, "<title>Training history: ");
	put_xml(f, base);
	emit_buf_puts(f, "</title>\n");
	emit_buf_printf(f, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", w, ht);
	emit_buf_printf(f, "<text x=\"%d\" y=\"28\" text-anchor=\"middle\" "
	        "font-size=\"17\" font-weight=\"bold\">Training history: ", w / 2);
	put_xml(f, base);
	emit_buf_printf(f, " (%d epoch%s)</text>\n", h->rows, h->rows == 1 ? "" : "s");
	for (int i = 0; i < np; i++)
		draw_panel(f, h, &pn[i], MARGIN + (i % PANEL_COLS) * PANEL_W,
		           TITLE_H + (i / PANEL_COLS) * PANEL_H);
	emit_buf_puts(f, "</svg>\n");
}

/* ------------------------------------------------------------ writing */


int plot_history_svg(const char *csv_path, const char *svg_path, char *err,
                     size_t errlen)
{
	size_t len;
	char *text = read_all(csv_path, &len, err, errlen);
	if (text == NULL)
		return -1;
	History h = {0};
	int rc = parse_history(csv_path, text, len, &h, err, errlen);
	free(text);
	if (rc != 0) {
		history_free(&h);
		return -1;
	}
	/* In an EmitBuf, which exits with "nnc: out of memory" when it cannot
	 * grow (a memory stream would drop the rest of the picture quietly). */
	EmitBuf svg = {0};
	draw(&svg, &h, csv_path);
	history_free(&h);
	rc = nnrt_write_file_atomic(svg_path, svg.s, svg.len, err, errlen);
	emit_buf_free(&svg);
	return rc;
}

/* report_text.c - a diagnosis report for a terminal: aligned tables, a chart per series. */
#include "parser/report.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tracespec/strbuf.h"

#define CELL_MAX    96 /* widest cell shown; longer text is cut with "..." */
#define CHART_WIDTH 60 /* seconds per chart line; longer timelines are folded */

/* Text for a terminal: control bytes as \xHH, cut at CELL_MAX columns. */
static void put_safe(struct strbuf *sb, const char *s, size_t max)
{
	size_t shown = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (max && shown >= max) {
			strbuf_puts(sb, "...");
			return;
		}
		if (c < 0x20 || c == 0x7f) {
			strbuf_addf(sb, "\\x%02x", c);
			shown += 4;
		} else {
			strbuf_putc(sb, (char)c);
			shown += (c & 0xc0) != 0x80; /* continuation bytes take no column */
		}
	}
}

static void cell(const json_t *v, const char *type, struct strbuf *sb)
{
	char buf[64];

	if (!v || json_is_null(v)) {
		strbuf_puts(sb, "-");
	} else if (json_is_string(v)) {
		put_safe(sb, json_string_value(v), CELL_MAX);
	} else if (strcmp(type, "ns") == 0) {
		strbuf_puts(sb, report_ns((uint64_t)json_number_value(v), buf, sizeof(buf)));
	} else if (strcmp(type, "bytes") == 0) {
		strbuf_puts(sb, report_bytes((uint64_t)json_number_value(v), buf, sizeof(buf)));
	} else if (strcmp(type, "rate") == 0) {
		double x = json_number_value(v);

		strbuf_addf(sb, x >= 100 || x == (double)(long long)x ? "%.0f" : "%.1f", x);
	} else if (strcmp(type, "pct") == 0) {
		strbuf_addf(sb, "%.1f%%", json_number_value(v));
	} else if (json_is_integer(v)) {
		strbuf_addf(sb, "%lld", (long long)json_integer_value(v));
	} else if (json_is_real(v)) {
		strbuf_addf(sb, "%.2f", json_real_value(v));
	} else if (json_is_boolean(v)) {
		strbuf_puts(sb, json_is_true(v) ? "yes" : "no");
	} else {
		strbuf_puts(sb, "?");
	}
}

static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void print_table(const json_t *t, FILE *out)
{
	const json_t *cols = json_object_get(t, "columns"), *rows = json_object_get(t, "rows");
	size_t ncols = json_array_size(cols), nrows = json_array_size(rows);
	struct strbuf sb = STRBUF_INIT(1 << 20);
	size_t w[32] = { 0 };
	const char *title = json_string_value(json_object_get(t, "title"));
	long long left = (long long)json_integer_value(json_object_get(t, "rows_left_out"));

	if (ncols > 32)
		ncols = 32;
	if (title && *title)
		fprintf(out, "  %s\n", title);
	if (nrows == 0) {
		fprintf(out, "    (none)\n");
		return;
	}
	for (size_t c = 0; c < ncols; c++)
		w[c] = width(json_string_value(json_object_get(json_array_get(cols, c), "title")));
	for (size_t r = 0; r < nrows; r++) {
		for (size_t c = 0; c < ncols; c++) {
			const json_t *col = json_array_get(cols, c);

			strbuf_reset(&sb);
			cell(json_object_get(json_array_get(rows, r), json_string_value(json_object_get(col, "key"))),
			     json_string_value(json_object_get(col, "type")), &sb);
			if (width(strbuf_str(&sb)) > w[c])
				w[c] = width(strbuf_str(&sb));
		}
	}
	fputs("   ", out);
	for (size_t c = 0; c < ncols; c++)
		fprintf(out, " %-*s", c + 1 < ncols ? (int)w[c] : 0,
			json_string_value(json_object_get(json_array_get(cols, c), "title")));
	fputc('\n', out);
	for (size_t r = 0; r < nrows; r++) {
		fputs("   ", out);
		for (size_t c = 0; c < ncols; c++) {
			const json_t *col = json_array_get(cols, c);
			const char *type = json_string_value(json_object_get(col, "type"));
			bool left_align = strcmp(type, "str") == 0;
			size_t cw;

			strbuf_reset(&sb);
			cell(json_object_get(json_array_get(rows, r), json_string_value(json_object_get(col, "key"))),
			     type, &sb);
			cw = width(strbuf_str(&sb));
			/* text to the left, figures to the right, the last column unpadded */
			if (left_align) {
				fprintf(out, " %s", strbuf_str(&sb));
				if (c + 1 < ncols)
					fprintf(out, "%*s", (int)(w[c] - cw), "");
			} else {
				fprintf(out, " %*s%s", (int)(w[c] - cw), "", strbuf_str(&sb));
			}
		}
		fputc('\n', out);
	}
	if (left > 0)
		fprintf(out, "    ... and %lld more\n", left);
	strbuf_release(&sb);
}

/* One line per series: a chart of 10 levels, then the peak and the total. */
static void print_series(const json_t *s, FILE *out)
{
	static const char levels[] = " .:-=+*#%@";
	const json_t *vals = json_object_get(s, "values");
	size_t n = json_array_size(vals), peak_at = 0;
	json_int_t peak = 0, total = 0;
	const char *unit = json_string_value(json_object_get(s, "unit"));
	char buf[64];

	for (size_t i = 0; i < n; i++) {
		json_int_t v = json_integer_value(json_array_get(vals, i));

		total += v;
		if (v > peak) {
			peak = v;
			peak_at = i;
		}
	}
	for (size_t start = 0; start < n || start == 0; start += CHART_WIDTH) {
		fprintf(out, "  %-22s |", start ? "" : json_string_value(json_object_get(s, "name")));
		for (size_t i = start; i < n && i < start + CHART_WIDTH; i++) {
			json_int_t v = json_integer_value(json_array_get(vals, i));
			int lvl = peak > 0 ? (int)((v * 9 + peak - 1) / peak) : 0;

			fputc(levels[v > 0 && lvl == 0 ? 1 : lvl], out);
		}
		fputc('|', out);
		if (start == 0) {
			if (unit && strcmp(unit, "ns") == 0)
				fprintf(out, " peak %s at %zu s", report_ns((uint64_t)peak, buf, sizeof(buf)), peak_at);
			else if (unit && strcmp(unit, "bytes") == 0)
				fprintf(out, " peak %s/s at %zu s, %s in all",
					report_bytes((uint64_t)peak, buf, sizeof(buf)), peak_at,
					report_bytes((uint64_t)total, buf + 32, 32));
			else
				fprintf(out, " peak %lld/s at %zu s, %lld in all", (long long)peak, peak_at,
					(long long)total);
		}
		fputc('\n', out);
		if (n == 0)
			break;
	}
}

static void print_lines(const json_t *arr, const char *lead, FILE *out)
{
	struct strbuf sb = STRBUF_INIT(1 << 16);
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
	{
		strbuf_reset(&sb);
		put_safe(&sb, json_string_value(v) ? json_string_value(v) : "", 0);
		fprintf(out, "%s%s\n", lead, strbuf_str(&sb));
	}
	strbuf_release(&sb);
}

void report_print(const json_t *r, FILE *out)
{
	const json_t *secs = json_object_get(r, "sections"), *series, *issues = json_object_get(r, "issues");
	size_t i, j;
	json_t *s, *t;

	print_lines(json_object_get(r, "summary"), "", out);
	json_array_foreach(secs, i, s)
	{
		fprintf(out, "\n%s\n", json_string_value(json_object_get(s, "title")));
		json_array_foreach(json_object_get(s, "tables"), j, t)
		{
			if (j > 0)
				fputc('\n', out);
			print_table(t, out);
		}
		print_lines(json_object_get(s, "notes"), "  note: ", out);
	}
	series = json_object_get(json_object_get(r, "timeline"), "series");
	if (json_array_size(series)) {
		fprintf(out, "\nActivity per second (each mark is one second; ' .:-=+*#%%@' from none to the peak)\n");
		json_array_foreach(series, i, s) print_series(s, out);
	}
	fprintf(out, "\nPotential issues\n");
	if (!json_array_size(issues))
		fprintf(out, "  none found with these thresholds\n");
	json_array_foreach(issues, i, s)
	{
		const json_t *next = json_object_get(s, "next");
		struct strbuf sb = STRBUF_INIT(1 << 16);

		put_safe(&sb, json_string_value(json_object_get(s, "title")), 0);
		fprintf(out, "  %zu. [%s] %s\n", i + 1, json_string_value(json_object_get(s, "severity")),
			strbuf_str(&sb));
		print_lines(json_object_get(s, "evidence"), "     ", out);
		if (next) {
			strbuf_reset(&sb);
			put_safe(&sb, json_string_value(json_object_get(next, "command")), 0);
			fprintf(out, "     next: %s\n", strbuf_str(&sb));
			strbuf_reset(&sb);
			put_safe(&sb, json_string_value(json_object_get(next, "why")), 0);
			fprintf(out, "           (%s)\n", strbuf_str(&sb));
		}
		strbuf_release(&sb);
	}
}

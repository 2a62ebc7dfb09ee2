/* report.c - build a diagnosis report as JSON. */
#include "parser/report.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tracespec/strbuf.h"

#define LINE_MAX_REPORT 4096

json_t *report_new(const char *preset, const char *title)
{
	return json_pack("{ss ss s[] s{si s[]} s[]}", "preset", preset, "title", title, "sections", "timeline",
			 "interval_s", 1, "series", "issues");
}

static json_t *vtext(const char *fmt, va_list ap)
{
	char buf[LINE_MAX_REPORT];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	return json_string(buf);
}

json_t *report_section(json_t *r, const char *id, const char *title)
{
	json_t *sec = json_pack("{ss ss s[] s[]}", "id", id, "title", title, "notes", "tables");

	json_array_append_new(json_object_get(r, "sections"), sec);
	return sec;
}

void report_note(json_t *sec, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	json_array_append_new(json_object_get(sec, "notes"), vtext(fmt, ap));
	va_end(ap);
}

json_t *report_table(json_t *sec, const char *title, const char *columns)
{
	json_t *t = json_pack("{ss s[] s[] si}", "title", title, "columns", "rows", "rows_left_out", 0);
	json_t *cols = json_object_get(t, "columns");
	const char *p = columns;

	while (*p) {
		size_t n = strcspn(p, ",");
		char one[128], *type, *name;

		snprintf(one, sizeof(one), "%.*s", (int)n, p);
		type = strchr(one, ':');
		name = type ? strchr(type + 1, ':') : NULL;
		if (type && name) {
			*type++ = '\0';
			*name++ = '\0';
			json_array_append_new(cols, json_pack("{ss ss ss}", "key", one, "title", name, "type", type));
		}
		p += n;
		if (*p == ',')
			p++;
	}
	json_array_append_new(json_object_get(sec, "tables"), t);
	return t;
}

void report_row(json_t *table, json_t *row, int max)
{
	json_t *rows = json_object_get(table, "rows");

	if (!row)
		return;
	if (max > 0 && (int)json_array_size(rows) >= max) {
		json_t *left = json_object_get(table, "rows_left_out");

		json_integer_set(left, json_integer_value(left) + 1);
		json_decref(row);
		return;
	}
	json_array_append_new(rows, row);
}

void report_series(json_t *r, const char *name, const char *unit, const int64_t *v, int n)
{
	json_t *vals = json_array();

	for (int i = 0; i < n; i++)
		json_array_append_new(vals, json_integer((json_int_t)v[i]));
	json_array_append_new(json_object_get(json_object_get(r, "timeline"), "series"),
			      json_pack("{ss ss so}", "name", name, "unit", unit, "values", vals));
}

json_t *report_issue(json_t *r, const char *severity, const char *kind, const char *fmt, ...)
{
	json_t *issue = json_pack("{ss ss s[]}", "severity", severity, "kind", kind, "evidence");
	va_list ap;

	va_start(ap, fmt);
	json_object_set_new(issue, "title", vtext(fmt, ap));
	va_end(ap);
	json_array_append_new(json_object_get(r, "issues"), issue);
	return issue;
}

void report_evidence(json_t *issue, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	json_array_append_new(json_object_get(issue, "evidence"), vtext(fmt, ap));
	va_end(ap);
}

void report_next(json_t *issue, const char *spec, const char *opts, const char *why)
{
	struct strbuf cmd = STRBUF_INIT(LINE_MAX_REPORT);

	strbuf_puts(&cmd, "diagagent trace ");
	if (opts && *opts)
		strbuf_addf(&cmd, "%s ", opts);
	strbuf_shell_quote(&cmd, spec);
	json_object_set_new(issue, "next",
			    json_pack("{ss ss ss}", "spec", spec, "command", strbuf_str(&cmd), "why", why));
	strbuf_release(&cmd);
}

void report_next_command(json_t *issue, const char *command, const char *why)
{
	json_object_set_new(issue, "next", json_pack("{sn ss ss}", "spec", "command", command, "why", why));
}

/* "%.Nf UNIT" without trailing zeros: 10 ms, 1.5 ms, 12.01 ms. */
static const char *trimmed(char *buf, size_t size, double v, int decimals, const char *unit)
{
	char num[48];
	size_t n;

	snprintf(num, sizeof(num), "%.*f", decimals, v);
	n = strlen(num);
	while (decimals && n > 0 && num[n - 1] == '0')
		num[--n] = '\0';
	if (n > 0 && num[n - 1] == '.')
		num[--n] = '\0';
	snprintf(buf, size, "%s %s", num, unit);
	return buf;
}

const char *report_ns(uint64_t ns, char *buf, size_t size)
{
	if (ns < 1000)
		return trimmed(buf, size, (double)ns, 0, "ns");
	if (ns < 1000000)
		return trimmed(buf, size, (double)ns / 1e3, 1, "us");
	if (ns < 1000000000)
		return trimmed(buf, size, (double)ns / 1e6, 2, "ms");
	return trimmed(buf, size, (double)ns / 1e9, 2, "s");
}

const char *report_bytes(uint64_t n, char *buf, size_t size)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		snprintf(buf, size, "%llu B", (unsigned long long)n);
		return buf;
	}
	do { /* n >= 1024: at least once */
		v /= 1024;
		u++;
	} while (v >= 1024 && u < 4);
	snprintf(buf, size, "%.1f %s", v, unit[u]);
	return buf;
}

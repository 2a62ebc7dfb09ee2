/* report.h - a diagnosis report: sections of tables and notes, a per-second
 * timeline, and the potential issues with their evidence and a next trace.
 *
 * The report is a JSON object (the protocol's diagnostic result carries it
 * as "report"); report_print() renders the same object for a terminal, so
 * the CLI and the agent never disagree. Shape:
 *
 *   {"preset", "title", "sections": [{"id", "title", "notes": [...],
 *     "tables": [{"title", "columns": [{"key", "title", "type"}],
 *                 "rows": [{KEY: VALUE}], "rows_left_out": N}]}],
 *    "timeline": {"interval_s": 1, "series": [{"name", "unit", "values"}]},
 *    "issues": [{"severity", "kind", "title", "evidence": [...],
 *                "next": {"spec", "command", "why"}}]}
 *
 * Column types say how a value reads: int, ns (a duration), bytes, rate
 * (per second), pct, str. Helpers return borrowed references into r.
 */
#ifndef DIAG_REPORT_H
#define DIAG_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* A new report (NULL when out of memory). */
json_t *report_new(const char *preset, const char *title);

/* Append a section; returns it (borrowed). */
json_t *report_section(json_t *r, const char *id, const char *title);

/* Append a note line to a section. */
void report_note(json_t *sec, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append a table with columns "key:type:TITLE,key:type:TITLE,..."; returns
 * it (borrowed). Rows are added with report_row(). */
json_t *report_table(json_t *sec, const char *title, const char *columns);

/* Append row (a JSON object keyed by column; the reference is stolen),
 * unless the table already has max rows (max <= 0: no limit): then it is
 * counted in "rows_left_out" and dropped. */
void report_row(json_t *table, json_t *row, int max);

/* Append a timeline series of n per-second values. */
void report_series(json_t *r, const char *name, const char *unit, const int64_t *v, int n);

/* Append a potential issue; returns it (borrowed) for evidence and next. */
json_t *report_issue(json_t *r, const char *severity, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Add an evidence line to an issue. */
void report_evidence(json_t *issue, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Set the issue's next step: a spec for `diagagent trace`, the options to
 * run it with (e.g. "-p 1234 -d 10"; NULL for none) and why. */
void report_next(json_t *issue, const char *spec, const char *opts, const char *why);

/* Set the issue's next step to another command (no spec), e.g. a narrower
 * diagnosis: `diagagent diagnose fdleak -p 1234`. */
void report_next_command(json_t *issue, const char *command, const char *why);

/* Print r for a terminal: aligned tables, the timeline as a one-line
 * chart per series, the issues numbered. Control bytes are shown as \xHH. */
void report_print(const json_t *r, FILE *out);

/* A duration in ns as a person reads it: "850 ns", "12.3 us", "4.56 ms", "1.20 s". */
const char *report_ns(uint64_t ns, char *buf, size_t size);

/* Bytes: "512 B", "4.0 KiB", "1.5 MiB", ... */
const char *report_bytes(uint64_t n, char *buf, size_t size);

#endif /* DIAG_REPORT_H */

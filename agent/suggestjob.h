/* suggestjob.h - suggestion answers as the protocol's JSON, for the CLI and the agent.
 *
 * One place builds the suggestion result (control-api.md: query and a ranked
 * list of {target, spec, score, reason}, plus what diagagent adds: the
 * target's type, the filters carried from the text, the command to run it,
 * what was read from the text and what cannot attach here), so
 * `diagagent suggest --json` and a `suggestions` job answer alike.
 */
#ifndef DIAG_SUGGESTJOB_H
#define DIAG_SUGGESTJOB_H

#include <jansson.h>

#include "agent/caps.h"
#include "tracespec/kb.h"
#include "tracespec/suggest.h"

/* The suggestion result for query and its answer r: id (left out when
 * NULL, as the CLI prints it), kind, status, query, matched, suggestions,
 * unavailable, read, started_at/finished_at. New reference, or NULL when
 * out of memory. */
json_t *suggestjob_result(const char *id, const char *query, const struct suggest_result *r, int64_t started_ns);

/* Answer a `suggestions` job (decoded by jobs.c: query and max checked).
 * Returns the finished result with the job's id (completed, or failed with
 * the engine's error), or NULL when out of memory. */
json_t *suggestjob_run(const struct kb *kb, const struct caps *c, const char *id, const char *query, int max);

#endif /* DIAG_SUGGESTJOB_H */

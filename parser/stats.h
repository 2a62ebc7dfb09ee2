/* stats.h - a trace's statistics: exact totals from the kernel's maps, what
 * reached user space, latency percentiles, top processes, -A aggregation.
 */
#ifndef DIAG_STATS_H
#define DIAG_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "parser/scan.h"

#define STATS_MAX_LATENCIES (1u << 20) /* latency samples kept for exact percentiles */
#define STATS_MAX_MESSAGES  100000     /* distinct -A messages counted; the rest as "(other)" */
#define STATS_TOP	    10	       /* top_processes entries */

struct trace_stats;

/* Statistics for a program with layout l (borrowed). NULL on allocation failure. */
struct trace_stats *stats_new(const struct event_layout *l);

/* Free; NULL is a no-op. */
void stats_free(struct trace_stats *st);

/* An event that reached user space (passed -f): counts per probe and
 * latency. Returns 0 or -ENOMEM (the sample is then dropped, and counted). */
int stats_event(struct trace_stats *st, const struct scan_event *ev);

/* -A: count one more of this message. */
int stats_message(struct trace_stats *st, const char *msg, size_t len);

/* An event that reached user space past the -M cap. */
void stats_over_cap(struct trace_stats *st);

/* An event the -f filter dropped. */
void stats_filtered(struct trace_stats *st);

/* A map from bpftrace's exit dump (scan_callbacks.on_map). Returns 0, or
 * -ENOMEM when @__procs could not be kept: stats_json() then fails too, so
 * a partial process list never passes for the whole one. */
int stats_map(struct trace_stats *st, const char *name, json_t *value);

/* Lost events reported by bpftrace. */
void stats_lost(struct trace_stats *st, uint64_t n);

/* Totals as the kernel counted them; false when the exit dump never came
 * (bpftrace was killed), and totals are then what reached user space. */
bool stats_have_kernel_totals(const struct trace_stats *st);
uint64_t stats_total(const struct trace_stats *st);
uint64_t stats_streamed(const struct trace_stats *st);

/* The protocol's statistics object (see README): total_events,
 * events_per_second over duration_s, streamed_events, lost_events, capped,
 * filtered_events, malformed_lines, top_processes, probes, latency (when the
 * probes have latency), aggregates (with -A). New reference, or NULL
 * (errno ENOMEM) when memory ran out here or in stats_map(): never an
 * object with a member missing. */
json_t *stats_json(const struct trace_stats *st, double duration_s, const struct scan_stats *ss);

/* -A's counts, most frequent first: calls fn(msg, len, count) for each.
 * Returns 0, or -ENOMEM (fn was not called). */
int stats_each_message(const struct trace_stats *st, void (*fn)(void *ud, const char *msg, size_t len, uint64_t count),
		       void *ud);

#endif /* DIAG_STATS_H */

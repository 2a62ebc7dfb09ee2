/* render.h - events to text and JSON: trace.py's format conversions, UTF-8
 * that stays recoverable, and the protocol's event object.
 */
#ifndef DIAG_RENDER_H
#define DIAG_RENDER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "parser/scan.h"
#include "tracespec/strbuf.h"

/* Render the user's format with ev's values, with trace.py's semantics: each
 * conversion truncates the raw 64-bit value to its C type (%d int32, %u
 * uint32, %hd int16, %hu uint16, %ld/%lld int64, %lu/%llu uint64, %x uint32
 * hex, %lx/%llx uint64 hex, %c one byte), %s copies the string bytes, %K/%U
 * the symbol bpftrace resolved; %% is '%'. Raw bytes are appended as they are
 * (see render_json_string for JSON). When the probe has no format, the
 * message is empty. Returns 0 or the strbuf error. */
int render_message(const struct scan_event *ev, struct strbuf *out);

/* The text of format value i as raw_args shows it: an integer in decimal
 * after the conversion's truncation (hex for %x/%lx/%llx with 0x), a string
 * as its bytes. */
int render_value(const struct scan_event *ev, int i, struct strbuf *out);

/* A JSON string for raw bytes: valid UTF-8 passes unchanged; every byte
 * that is not part of valid UTF-8 becomes U+FFFD. *lossy is set when that
 * happened: the caller then adds the exact bytes in base64 (render_b64). */
json_t *render_json_string(const char *s, size_t len, bool *lossy);

/* Base64 (RFC 4648, with padding) of raw bytes, as a JSON string. */
json_t *render_b64(const char *s, size_t len);

/* RFC 3339 UTC time with microseconds, "2026-11-22T10:00:00.123456Z", of a
 * wall-clock time in ns since the epoch. out must hold 32 bytes. */
void render_time(int64_t ns, char *out);

/* The protocol's event object:
 *   {"timestamp": NS, "time": "...", "cpu": N, "pid": N, "tid": N, "uid": N,
 *    "process_name": "...", "function": "...", "message": "...",
 *    "raw_args": {"arg3": "4096", ...}, "retval": N, "latency_ns": N,
 *    "kstack": ["frame", ...], "ustack": [...],
 *    "b64": {"message": "...", "process_name": "...", "raw_args.arg2": "..."}}
 * retval/latency_ns/kstack/ustack only where the probe has them; b64 only
 * when some string was not valid UTF-8 (it then holds the exact bytes).
 * mono_to_wall_ns is added to ev->nsecs to get the wall-clock timestamp.
 * Returns a new reference, or NULL on allocation failure. */
json_t *render_event_json(const struct scan_event *ev, int64_t mono_to_wall_ns);

/* The same object as render_event_json, written as compact JSON text (no
 * newline) straight into out, without building a jansson tree: the fast
 * path for streaming. scratch is a work buffer the caller keeps between
 * calls. Returns 0, or the error of out or scratch, or -ENOMEM when the
 * exact bytes for b64 cannot be kept; out then holds no whole object. */
#define RENDER_MAX_LOSSY 24 /* non-UTF-8 fields of one event: process_name, message, every value */
int render_event_text(const struct scan_event *ev, int64_t mono_to_wall_ns, struct strbuf *out, struct strbuf *scratch);

#endif /* DIAG_RENDER_H */

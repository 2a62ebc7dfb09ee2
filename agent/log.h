/* log.h - the agent's log: one line per event on stderr, time and level first.
 *
 *   2026-11-22T10:00:00.123Z info  job t1: trace started
 *
 * Messages are one line: newlines and control bytes in the text are shown
 * as \xHH, so a job id or a server's error text cannot forge a log line.
 * Callers never pass tokens or command output.
 */
#ifndef DIAG_LOG_H
#define DIAG_LOG_H

#include "agent/config.h"

/* Lines above this level are dropped (default LOG_INFO). */
void log_set_level(enum log_level level);

/* True when a message at level would be written. */
bool log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif /* DIAG_LOG_H */

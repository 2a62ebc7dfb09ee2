/* result.c - the protocol's result objects: the fields every kind shares. */
#include "agent/result.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "parser/render.h"

int64_t result_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void result_set_time(json_t *r, const char *key, int64_t ns)
{
	char buf[32];

	render_time(ns, buf);
	json_object_set_new(r, key, json_string(buf));
}

static void set_status(json_t *r, const char *status, const char *fmt, va_list ap)
{
	char err[1024];

	json_object_set_new(r, "status", json_string(status));
	json_object_set_new(r, "success", json_boolean(strcmp(status, "completed") == 0));
	if (strcmp(status, "completed") == 0 || !fmt)
		return;
	vsnprintf(err, sizeof(err), fmt, ap);
	/* json_string() refuses invalid UTF-8: repair what a server or a
	 * child sent us rather than lose the whole message. */
	json_object_set_new(r, "error", render_json_string(err, strlen(err), NULL));
}

json_t *result_set_status(json_t *r, const char *status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_status(r, status, fmt, ap);
	va_end(ap);
	return r;
}

json_t *result_new_final(const char *id, const char *kind, int64_t started_ns, const char *status, const char *fmt, ...)
{
	json_t *r = json_object();
	int64_t now = result_now_ns();
	va_list ap;

	if (!r)
		return NULL;
	json_object_set_new(r, "id", json_string(id));
	json_object_set_new(r, "kind", json_string(kind));
	va_start(ap, fmt);
	set_status(r, status, fmt, ap);
	va_end(ap);
	result_set_time(r, "started_at", started_ns > 0 ? started_ns : now);
	result_set_time(r, "finished_at", now);
	return r;
}

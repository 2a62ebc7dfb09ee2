/* specerr.c - the error a spec parser fills in instead of printing. */
#include "tracespec/specerr.h"

#include <stdarg.h>
#include <stdio.h>

void specerr_set(struct spec_error *err, int col, const char *hint, const char *fmt, ...)
{
	va_list ap;

	if (!err || err->msg[0])
		return;
	err->col = col;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	snprintf(err->hint, sizeof(err->hint), "%s", hint ? hint : "");
}

void specerr_clear(struct spec_error *err)
{
	if (!err)
		return;
	err->col = -1;
	err->msg[0] = '\0';
	err->hint[0] = '\0';
}

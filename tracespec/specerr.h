/* specerr.h - the error a spec parser fills in instead of printing.
 *
 * Like jansson's json_error_t: the position (a 0-based column in the text
 * being parsed), a message that says what is wrong and a hint at the fix.
 * The CLI prints the text with a caret under the column.
 */
#ifndef DIAG_SPECERR_H
#define DIAG_SPECERR_H

struct spec_error {
	int col;	/* 0-based column in the parsed text; -1 when there is none */
	char msg[256];	/* "unknown name 'foo'"; lowercase, no trailing period */
	char hint[256]; /* "" or a hint at the fix */
};

/* Fill *err (when err is not NULL). Keeps the first error: a second call on an
 * error that already has a message is ignored, so the innermost, earliest
 * failure is the one reported. */
void specerr_set(struct spec_error *err, int col, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Reset *err to "no error". */
void specerr_clear(struct spec_error *err);

#endif /* DIAG_SPECERR_H */

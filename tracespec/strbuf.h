/* strbuf.h - a growable string buffer with a hard size cap.
 *
 * Every generated text (bpftrace programs, canonical specs, messages) is built
 * in a strbuf. Appending past the cap or failing to allocate sets a sticky
 * error (-E2BIG or -ENOMEM) and leaves the contents as they were; later
 * appends are no-ops, so callers may check once at the end.
 */
#ifndef DIAG_STRBUF_H
#define DIAG_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *buf;  /* NUL-terminated when len > 0; NULL before the first append */
	size_t len; /* bytes used, without the NUL */
	size_t cap; /* bytes allocated */
	size_t max; /* most bytes the buffer may ever hold (without the NUL) */
	int err;    /* 0, or the first error: -E2BIG, -ENOMEM */
};

#define STRBUF_INIT(maxlen) \
	{ \
		NULL, 0, 0, (maxlen), 0 \
	}

/* Start an empty buffer that will hold at most max bytes. Cannot fail. */
void strbuf_init(struct strbuf *sb, size_t max);

/* Append n bytes / a C string / printf-style text. Return 0 or sb->err. */
int strbuf_add(struct strbuf *sb, const void *data, size_t n);
int strbuf_puts(struct strbuf *sb, const char *s);
int strbuf_putc(struct strbuf *sb, char c);
int strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);

/* Append s quoted for a POSIX shell: in single quotes, each ' as '\''. */
int strbuf_shell_quote(struct strbuf *sb, const char *s);

/* Empty the buffer (keeping its memory) and clear its error. */
void strbuf_reset(struct strbuf *sb);

/* The contents as a C string; "" when empty. Valid until the next append. */
const char *strbuf_str(const struct strbuf *sb);

/* Hand the contents to the caller (free() it; never NULL unless allocation
 * fails) and reset the buffer to empty. */
char *strbuf_detach(struct strbuf *sb, size_t *len);

/* Free the contents and reset; a released or empty buffer is a no-op. */
void strbuf_release(struct strbuf *sb);

#endif /* DIAG_STRBUF_H */

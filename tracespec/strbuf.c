/* strbuf.c - a growable string buffer with a hard size cap. */
#include "tracespec/strbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strbuf_init(struct strbuf *sb, size_t max)
{
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	sb->max = max;
	sb->err = 0;
}

static int grow(struct strbuf *sb, size_t extra)
{
	size_t need, ncap;
	char *nbuf;

	if (sb->err)
		return sb->err;
	if (extra > sb->max || sb->len > sb->max - extra)
		return sb->err = -E2BIG;
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return 0;
	ncap = sb->cap ? sb->cap : 64;
	while (ncap < need)
		ncap *= 2;
	nbuf = realloc(sb->buf, ncap);
	if (!nbuf)
		return sb->err = -ENOMEM;
	sb->buf = nbuf;
	sb->cap = ncap;
	return 0;
}

int strbuf_add(struct strbuf *sb, const void *data, size_t n)
{
	int rc = grow(sb, n);

	if (rc)
		return rc;
	if (n)
		memcpy(sb->buf + sb->len, data, n);
	sb->len += n;
	if (sb->buf)
		sb->buf[sb->len] = '\0';
	return 0;
}

int strbuf_puts(struct strbuf *sb, const char *s)
{
	return strbuf_add(sb, s, strlen(s));
}

int strbuf_putc(struct strbuf *sb, char c)
{
	return strbuf_add(sb, &c, 1);
}

int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	size_t room = sb->cap > sb->len ? sb->cap - sb->len : 0;
	va_list ap2;
	int n;

	if (sb->err)
		return sb->err;
	/* Usually the text fits in the space already there: format once. */
	va_copy(ap2, ap);
	n = vsnprintf(room ? sb->buf + sb->len : NULL, room, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return sb->err = -EINVAL;
	if ((size_t)n < room && sb->len + (size_t)n <= sb->max) {
		sb->len += (size_t)n;
		return 0;
	}
	if (room)
		sb->buf[sb->len] = '\0';
	if (grow(sb, (size_t)n))
		return sb->err;
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
	return 0;
}

int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
	return rc;
}

const char *strbuf_str(const struct strbuf *sb)
{
	return sb->buf ? sb->buf : "";
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *s = sb->buf ? sb->buf : strdup("");

	if (len)
		*len = sb->buf ? sb->len : 0;
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	sb->err = 0;
	return s;
}

void strbuf_release(struct strbuf *sb)
{
	if (!sb)
		return;
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	sb->err = 0;
}

int strbuf_shell_quote(struct strbuf *sb, const char *s)
{
	strbuf_putc(sb, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			strbuf_puts(sb, "'\\''");
		else
			strbuf_putc(sb, *s);
	}
	return strbuf_putc(sb, '\'');
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	sb->err = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

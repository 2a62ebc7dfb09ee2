/* jsontext.c - a jansson tree to JSON text, with every failure seen. */
#include "agent/jsontext.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "tracespec/strbuf.h"

static int put(const char *buf, size_t size, void *data)
{
	return strbuf_add(data, buf, size) < 0 ? -1 : 0;
}

char *jsontext_dump(const json_t *j, size_t flags)
{
	struct strbuf sb = STRBUF_INIT(SIZE_MAX / 2);
	char *text = NULL;
	int rc = json_dump_callback(j, put, &sb, flags);

	/* sb.err catches the failures jansson did not pass on */
	if (rc == 0 && sb.err == 0)
		text = strbuf_detach(&sb, NULL);
	errno = sb.err || rc == 0 ? ENOMEM : EINVAL;
	strbuf_release(&sb);
	return text;
}

int jsontext_print(const json_t *j, size_t flags, FILE *f)
{
	char *text = jsontext_dump(j, flags);
	int rc;

	if (!text)
		return -errno;
	rc = fputs(text, f) < 0 || fputc('\n', f) == EOF ? -EIO : 0;
	free(text);
	return rc;
}

/* spec_builder.c - build a spec from fields, with the parser's own checks.
 *
 * No field is ever pasted into spec text: names are checked by spec_check(),
 * expressions go through expr_parse() alone, the format through
 * spec_parse_format().
 */
#include "tracespec/spec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct spec_builder {
	struct trace_spec *s;
	struct spec_error err;
	int rc; /* first failure: 0, -EINVAL, -ENOMEM */
};

static struct spec_builder oom_builder = { NULL, { -1, "out of memory", "" }, -ENOMEM };

static bool failed(struct spec_builder *b)
{
	return b == &oom_builder || b->rc < 0;
}

static char *dup_or_fail(struct spec_builder *b, const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d && b->rc == 0)
		b->rc = -ENOMEM;
	return d;
}

struct spec_builder *spec_builder_new(enum spec_type type, const char *library, const char *target)
{
	struct spec_builder *b = calloc(1, sizeof(*b));

	if (!b)
		return &oom_builder;
	specerr_clear(&b->err);
	b->s = calloc(1, sizeof(*b->s));
	if (!b->s) {
		free(b);
		return &oom_builder;
	}
	b->s->type = type;
	b->s->library = dup_or_fail(b, library);
	b->s->function = dup_or_fail(b, target);
	b->s->values = calloc(SPEC_MAX_VALUES, sizeof(struct expr *));
	b->s->convs = calloc(SPEC_MAX_VALUES, sizeof(*b->s->convs));
	if (!b->s->values || !b->s->convs)
		b->rc = -ENOMEM;
	return b;
}

struct spec_builder *spec_builder_category(struct spec_builder *b, const char *category)
{
	if (failed(b))
		return b;
	free(b->s->category);
	b->s->category = category ? dup_or_fail(b, category) : NULL;
	return b;
}

struct spec_builder *spec_builder_offset(struct spec_builder *b, uint64_t offset)
{
	if (failed(b))
		return b;
	b->s->offset = offset;
	b->s->has_offset = true;
	return b;
}

static struct expr *parse_whole(struct spec_builder *b, const char *text, const char *what)
{
	struct expr_names names = { NULL, 0, SPEC_MAX_ARG };
	const char *src = text ? text : "";
	struct expr *e = NULL;
	size_t used;
	int rc = expr_parse(src, 0, &names, &e, &used, &b->err);

	if (rc == 0 && src[used] != '\0') {
		specerr_set(&b->err, (int)used, "give one expression", "unexpected '%c' in the %s", src[used], what);
		expr_free(e);
		e = NULL;
		rc = -EINVAL;
	}
	if (rc < 0)
		b->rc = rc;
	return e;
}

struct spec_builder *spec_builder_filter(struct spec_builder *b, const char *expr)
{
	if (failed(b))
		return b;
	expr_free(b->s->filter);
	b->s->filter = parse_whole(b, expr, "filter");
	return b;
}

struct spec_builder *spec_builder_format(struct spec_builder *b, const char *format)
{
	if (failed(b))
		return b;
	free(b->s->format);
	b->s->format = dup_or_fail(b, format);
	return b;
}

struct spec_builder *spec_builder_value(struct spec_builder *b, const char *expr)
{
	struct expr *e;

	if (failed(b))
		return b;
	if (b->s->nvalues == SPEC_MAX_VALUES) {
		specerr_set(&b->err, -1, NULL, "too many values (at most %d)", SPEC_MAX_VALUES);
		b->rc = -EINVAL;
		return b;
	}
	e = parse_whole(b, expr, "value");
	if (e)
		b->s->values[b->s->nvalues++] = e;
	return b;
}

struct trace_spec *spec_builder_build(struct spec_builder *b, struct spec_error *err)
{
	struct trace_spec *s = NULL;
	struct strbuf text = STRBUF_INIT(SPEC_MAX_LEN);

	specerr_clear(err);
	if (b == &oom_builder) {
		specerr_set(err, -1, NULL, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	if (b->rc == 0 && b->s->format) {
		int nconv = spec_parse_format(b->s->format, -1, b->s->convs, SPEC_MAX_VALUES, &b->err);

		if (nconv < 0)
			b->rc = nconv;
		else if (nconv != b->s->nvalues) {
			specerr_set(&b->err, -1, "give one value per conversion, in order",
				    "the format has %d conversions but %d values were given", nconv, b->s->nvalues);
			b->rc = -EINVAL;
		}
	}
	if (b->rc == 0)
		b->rc = spec_check(b->s, &b->err);
	if (b->rc == 0 && spec_print(b->s, &text) == 0) {
		b->s->text = strbuf_detach(&text, NULL);
		if (!b->s->text)
			b->rc = -ENOMEM;
	} else if (b->rc == 0) {
		b->rc = text.err;
	}
	strbuf_release(&text);
	if (b->rc == 0) {
		s = b->s;
		b->s = NULL;
	} else if (err) {
		if (b->rc == -ENOMEM && !b->err.msg[0])
			specerr_set(&b->err, -1, NULL, "out of memory");
		*err = b->err;
		err->col = -1; /* a builder has no text to point into */
	}
	if (b->rc < 0)
		errno = -b->rc;
	spec_free(b->s);
	free(b);
	return s;
}

/* spec_print.c - a spec back to its canonical text. */
#include "tracespec/spec.h"

#include <inttypes.h>
#include <string.h>

static const char *c_type_name(enum expr_type t)
{
	static const char *const names[] = {
		[ET_INT8] = "char", [ET_UINT8] = "unsigned char", [ET_INT16] = "short", [ET_UINT16] = "unsigned short",
		[ET_INT32] = "int", [ET_UINT32] = "unsigned int", [ET_INT64] = "long",	[ET_UINT64] = "unsigned long",
	};
	return t <= ET_UINT64 ? names[t] : "unsigned long";
}

static void print_param(const struct spec_param *p, struct strbuf *out)
{
	if (p->type == ET_STRUCT_PTR) {
		strbuf_addf(out, "struct %s ", p->struct_name);
		for (int i = 0; i < p->stars; i++)
			strbuf_putc(out, '*');
	} else if (p->is_string) {
		strbuf_puts(out, "char *");
	} else {
		strbuf_addf(out, "%s ", c_type_name(p->type));
	}
	strbuf_puts(out, p->name);
}

int spec_print(const struct trace_spec *s, struct strbuf *out)
{
	switch (s->type) {
	case SPEC_TRACEPOINT:
		strbuf_addf(out, "t:%s:%s", s->category, s->function);
		break;
	case SPEC_USDT:
		strbuf_addf(out, "u:%s:", s->library);
		if (s->category)
			strbuf_addf(out, "%s:", s->category);
		strbuf_puts(out, s->function);
		break;
	default:
		strbuf_addf(out, "%c:%s:%s", (char)s->type, s->library ? s->library : "", s->function);
		if (s->has_offset)
			strbuf_addf(out, "+0x%" PRIx64, s->offset);
		break;
	}
	if (s->has_signature) {
		strbuf_putc(out, '(');
		for (int i = 0; i < s->nparams; i++) {
			if (i)
				strbuf_puts(out, ", ");
			print_param(&s->params[i], out);
		}
		strbuf_putc(out, ')');
	}
	if (s->filter) {
		strbuf_puts(out, " (");
		expr_print(s->filter, out);
		strbuf_putc(out, ')');
	}
	if (s->format) {
		strbuf_putc(out, ' ');
		expr_emit_string(s->format, strlen(s->format), out);
		for (int i = 0; i < s->nvalues; i++) {
			strbuf_puts(out, ", ");
			expr_print(s->values[i], out);
		}
	}
	return out->err;
}

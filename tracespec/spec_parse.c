/* spec_parse.c - parse trace.py's probe spec text into a struct trace_spec. */
#include "tracespec/spec.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONV_HINT "trace.py takes %s %d %u %ld %lu %lld %llu %hd %hu %x %lx %llx %c %K %U (%% for a '%')"

/* ---- names ------------------------------------------------------------ */

#define SPEC_NAME_MAX 128 /* a function, event, category or probe name is shorter */

static bool is_ident(const char *s)
{
	if (!s || !(isalpha((unsigned char)*s) || *s == '_') || strlen(s) >= SPEC_NAME_MAX)
		return false;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* Kernel and ELF symbols: identifiers, plus '.' for compiler clones
 * (vfs_read.cold, foo.isra.0). */
static bool is_symbol(const char *s)
{
	if (!s || !(isalpha((unsigned char)*s) || *s == '_') || strlen(s) >= SPEC_NAME_MAX)
		return false;
	for (s++; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.')
			return false;
	return true;
}

/* Library names and paths: only characters bpftrace's attach-point syntax
 * takes without quoting. */
static bool is_library(const char *s)
{
	if (!s || !*s || strlen(s) >= 256)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_./+-", *s))
			return false;
	return true;
}

/* ---- conversions -------------------------------------------------------- */

int spec_parse_format(const char *fmt, int col0, struct spec_conv *convs, int max, struct spec_error *err)
{
	static const char *const known[] = { "llu", "lld", "llx", "lu", "ld", "lx", "hu", "hd",
					     "d",   "u",   "x",	  "c",	"s",  "K",  "U" };
	int n = 0;

	/* the text parser reads the format as a string literal: a built spec
	 * (spec_builder) must hold no longer one, or its text would not parse */
	if (strlen(fmt) > EXPR_MAX_STR) {
		specerr_set(err, col0, NULL, "the format is longer than %d bytes", EXPR_MAX_STR);
		return -EINVAL;
	}
	for (const char *p = fmt; *p; p++) {
		size_t i;

		if (*p != '%')
			continue;
		if (p[1] == '%') {
			p++;
			continue;
		}
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strncmp(p + 1, known[i], strlen(known[i])) == 0)
				break;
		if (i == sizeof(known) / sizeof(known[0])) {
			int len = 1;

			while (len < 6 && p[len] && !isspace((unsigned char)p[len]) && p[len] != '%')
				len++;
			specerr_set(err, col0 + (int)(p - fmt), CONV_HINT, "unknown conversion '%.*s' in the format",
				    len, p);
			return -EINVAL;
		}
		if (n >= max) {
			specerr_set(err, col0 + (int)(p - fmt), NULL, "too many conversions in the format (at most %d)",
				    max);
			return -EINVAL;
		}
		snprintf(convs[n].conv, sizeof(convs[n].conv), "%s", known[i]);
		convs[n].col = col0 + (int)(p - fmt);
		n++;
		p += strlen(known[i]);
	}
	return n;
}

/* ---- signatures ----------------------------------------------------------- */

static const struct {
	const char *c;
	enum expr_type t;
} sig_types[] = {
	{ "unsigned long long", ET_UINT64 },
	{ "long long", ET_INT64 },
	{ "unsigned long", ET_UINT64 },
	{ "unsigned int", ET_UINT32 },
	{ "unsigned short", ET_UINT16 },
	{ "unsigned char", ET_UINT8 },
	{ "signed char", ET_INT8 },
	{ "unsigned", ET_UINT32 },
	{ "long", ET_INT64 },
	{ "int", ET_INT32 },
	{ "short", ET_INT16 },
	{ "char", ET_INT8 },
	{ "bool", ET_UINT8 },
	{ "size_t", ET_UINT64 },
	{ "ssize_t", ET_INT64 },
	{ "pid_t", ET_INT32 },
	{ "uid_t", ET_UINT32 },
	{ "gid_t", ET_UINT32 },
	{ "off_t", ET_INT64 },
	{ "loff_t", ET_INT64 },
	{ "umode_t", ET_UINT16 },
	{ "u8", ET_UINT8 },
	{ "u16", ET_UINT16 },
	{ "u32", ET_UINT32 },
	{ "u64", ET_UINT64 },
	{ "s8", ET_INT8 },
	{ "s16", ET_INT16 },
	{ "s32", ET_INT32 },
	{ "s64", ET_INT64 },
};

#define NSIG_TYPES (sizeof(sig_types) / sizeof(sig_types[0]))

/* Index of a C integer type in sig_types, accepting "long int", "signed
 * int" and the like; NSIG_TYPES when unknown. */
static size_t sig_type_find(const char *type)
{
	char t[128];
	size_t len;

	snprintf(t, sizeof(t), "%s", strncmp(type, "signed ", 7) == 0 ? type + 7 : type);
	if (strcmp(t, "signed") == 0)
		snprintf(t, sizeof(t), "int");
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < NSIG_TYPES; i++)
			if (strcmp(t, sig_types[i].c) == 0)
				return i;
		len = strlen(t);
		if (len <= 4 || strcmp(t + len - 4, " int") != 0)
			break;
		t[len - 4] = '\0';
	}
	return NSIG_TYPES;
}

/* Split "const struct sock *sk" into words and stars; fill one param. */
static int parse_param(char *text, int col, struct spec_param *p, struct spec_error *err)
{
	char *words[8], *save = NULL, *name;
	char type[128] = "";
	int nwords = 0, stars = 0;

	for (char *c = text; *c; c++)
		if (*c == '*') {
			stars++;
			*c = ' ';
		}
	for (char *w = strtok_r(text, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (nwords == 8) {
			specerr_set(err, col, NULL, "signature parameter too long");
			return -EINVAL;
		}
		if (strcmp(w, "const") != 0 && strcmp(w, "volatile") != 0)
			words[nwords++] = w;
	}
	if (nwords < 2) {
		specerr_set(err, col, "write each parameter as TYPE NAME, e.g. (struct sock *sk, int len)",
			    "signature parameter needs a type and a name");
		return -EINVAL;
	}
	name = words[nwords - 1];
	if (!is_ident(name) || strlen(name) > 63) {
		specerr_set(err, col, NULL, "bad parameter name '%s'", name);
		return -EINVAL;
	}
	memset(p, 0, sizeof(*p));
	if (strcmp(words[0], "struct") == 0) {
		if (nwords != 3 || !is_ident(words[1]) || stars == 0 || stars > 2) {
			specerr_set(err, col, "struct parameters are pointers: struct NAME *param (or **param)",
				    "bad struct parameter");
			return -EINVAL;
		}
		if (strlen(words[1]) > 63) { /* the type's name must fit a ktype's, uncut */
			specerr_set(err, col, NULL, "struct name '%.32s...' is longer than 63 characters", words[1]);
			return -EINVAL;
		}
		p->type = ET_STRUCT_PTR;
		p->struct_name = strdup(words[1]);
		p->stars = stars;
	} else {
		size_t i, len = 0;

		for (int w = 0; w < nwords - 1; w++) {
			size_t wlen = strlen(words[w]);

			if (len + (w ? 1 : 0) + wlen >= sizeof(type)) {
				specerr_set(err, col, NULL, "the type of parameter '%s' is longer than %zu characters",
					    name, sizeof(type) - 1);
				return -EINVAL;
			}
			if (w)
				type[len++] = ' ';
			memcpy(type + len, words[w], wlen + 1);
			len += wlen;
		}
		i = sig_type_find(type);
		if (i == NSIG_TYPES && strcmp(type, "void") != 0) {
			specerr_set(err, col, "use a C integer type, char *, or struct NAME *",
				    "unknown parameter type '%s'", type);
			return -EINVAL;
		}
		if (strcmp(type, "void") == 0 && stars == 0) {
			specerr_set(err, col, NULL, "parameter '%s' cannot be void", name);
			return -EINVAL;
		}
		p->is_string = stars == 1 && (strcmp(type, "char") == 0);
		p->type = stars || i == NSIG_TYPES ? ET_UINT64 : sig_types[i].t;
	}
	p->name = strdup(name);
	if (!p->name || (p->type == ET_STRUCT_PTR && !p->struct_name)) {
		free(p->name);
		free(p->struct_name);
		return -ENOMEM;
	}
	return 0;
}

static void params_free(struct spec_param *params, int n)
{
	for (int i = 0; i < n; i++) {
		free(params[i].name);
		free(params[i].struct_name);
	}
}

int spec_parse_signature(const char *text, int col0, struct spec_param *params, int max, struct spec_error *err)
{
	char *copy = strdup(text), *p, *comma;
	int n = 0, rc = 0;

	if (!copy)
		return -ENOMEM;
	p = copy;
	while (*p && isspace((unsigned char)*p))
		p++;
	for (char *e = p + strlen(p); e > p && isspace((unsigned char)e[-1]); e--)
		e[-1] = '\0';
	if (*p == '\0' || strcmp(p, "void") == 0)
		goto out;
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		if (n == max) {
			specerr_set(err, col0 + (int)(p - copy), "trace.py sees arg1..arg6 only",
				    "too many signature parameters (at most %d)", max);
			rc = -EINVAL;
			goto out;
		}
		rc = parse_param(p, col0 + (int)(p - copy), &params[n], err);
		if (rc < 0)
			goto out;
		for (int i = 0; i < n; i++)
			if (strcmp(params[i].name, params[n].name) == 0) {
				specerr_set(err, col0 + (int)(p - copy), NULL, "parameter '%s' named twice",
					    params[n].name);
				n++;
				rc = -EINVAL;
				goto out;
			}
		n++;
		if (!comma)
			break;
		p = comma + 1;
	}
out:
	free(copy);
	if (rc < 0) {
		params_free(params, n);
		return rc;
	}
	return n;
}

/* ---- checks shared by the parser and the builder ---------------------------- */

struct check_ctx {
	const struct trace_spec *s;
	struct spec_error *err;
};

static int check_node(const struct expr *e, void *ud)
{
	struct check_ctx *c = ud;

	if (e->kind == EXPR_RETVAL && c->s->type != SPEC_RETURN) {
		specerr_set(c->err, e->col,
			    c->s->type == SPEC_TRACEPOINT ?
				    "a tracepoint's fields are args->NAME (args->ret in sys_exit_*)" :
				    "trace the return: r::FUNCTION",
			    "retval is only known in a return probe");
		return -EINVAL;
	}
	if (e->kind == EXPR_ARG && (c->s->type == SPEC_TRACEPOINT)) {
		specerr_set(
			c->err, e->col,
			"a tracepoint's fields are args->NAME (see /sys/kernel/tracing/events/CATEGORY/EVENT/format)",
			"arg%d is not defined for a tracepoint", e->u.arg.n);
		return -EINVAL;
	}
	if (e->kind == EXPR_TPFIELD && (c->s->type == SPEC_USDT || (c->s->library && *c->s->library))) {
		specerr_set(c->err, e->col, "use arg1..arg6", "args->%s is only defined for tracepoints and syscalls",
			    e->u.name);
		return -EINVAL;
	}
	return 0;
}

static int check_expr(const struct trace_spec *s, const struct expr *e, struct spec_error *err)
{
	struct check_ctx c = { s, err };

	return e ? expr_walk(e, check_node, &c) : 0;
}

int spec_check(const struct trace_spec *s, struct spec_error *err)
{
	bool lib = s->library && *s->library;

	switch (s->type) {
	case SPEC_ENTRY:
	case SPEC_RETURN:
		if (!is_symbol(s->function)) {
			specerr_set(err, 0, "a function name is letters, digits, '_' and '.'", "bad function name '%s'",
				    s->function ? s->function : "");
			return -EINVAL;
		}
		if (lib && !is_library(s->library)) {
			specerr_set(err, 0, "library paths may hold letters, digits and _ . / + -",
				    "bad library name '%s'", s->library);
			return -EINVAL;
		}
		if (s->type == SPEC_RETURN && s->has_offset) {
			specerr_set(err, 0, "trace the function's return with r::FUNC, without +OFFSET",
				    "a return probe cannot take an offset");
			return -EINVAL;
		}
		break;
	case SPEC_TRACEPOINT:
		if (!s->category || !is_ident(s->category) || !is_ident(s->function)) {
			specerr_set(err, 0, "write t:CATEGORY:EVENT, e.g. t:sched:sched_switch",
				    "bad tracepoint '%s:%s'", s->category ? s->category : "",
				    s->function ? s->function : "");
			return -EINVAL;
		}
		break;
	case SPEC_USDT:
		if (!lib || !is_library(s->library)) {
			specerr_set(err, 0, "write u:LIBRARY:PROBE or u:LIBRARY:PROVIDER:PROBE",
				    "a USDT probe needs a library or binary");
			return -EINVAL;
		}
		if (!is_ident(s->function) || (s->category && !is_ident(s->category))) {
			specerr_set(err, 0, NULL, "bad USDT probe name '%s'", s->function ? s->function : "");
			return -EINVAL;
		}
		break;
	default:
		specerr_set(err, 0, "use p, r, t or u", "unknown probe type '%c'", s->type);
		return -EINVAL;
	}
	if ((s->type == SPEC_ENTRY || s->type == SPEC_RETURN) && s->category) {
		specerr_set(err, 0, "a category or provider belongs to t: and u: probes",
			    "a function probe has no category");
		return -EINVAL;
	}
	if (s->type == SPEC_TRACEPOINT && lib) {
		specerr_set(err, 0, "write t:CATEGORY:EVENT", "a tracepoint has no library");
		return -EINVAL;
	}
	if ((s->type == SPEC_TRACEPOINT || s->type == SPEC_USDT) && (s->has_signature || s->has_offset)) {
		specerr_set(err, 0, "use arguments (arg1.., args->FIELD) instead",
			    "tracepoint and USDT probes take no signature or offset");
		return -EINVAL;
	}
	if (s->nvalues > 0 && !s->format) {
		specerr_set(err, 0, NULL, "values need a format string");
		return -EINVAL;
	}
	for (int i = 0; i < s->nvalues; i++)
		if (check_expr(s, s->values[i], err) < 0)
			return -EINVAL;
	return check_expr(s, s->filter, err);
}

bool spec_is_kernel(const struct trace_spec *s)
{
	return s->type == SPEC_TRACEPOINT ||
	       ((s->type == SPEC_ENTRY || s->type == SPEC_RETURN) && !(s->library && *s->library));
}

void spec_free(struct trace_spec *s)
{
	if (!s)
		return;
	free(s->library);
	free(s->function);
	free(s->category);
	params_free(s->params, s->nparams);
	free(s->params);
	expr_free(s->filter);
	free(s->format);
	free(s->convs);
	for (int i = 0; i < s->nvalues; i++)
		expr_free(s->values[i]);
	free(s->values);
	free(s->text);
	free(s);
}

/* ---- the probe part: [type:][lib:]func[+off] ------------------------------- */

static int parse_offset(const char *text, int col, uint64_t *off, struct spec_error *err)
{
	char *end;

	errno = 0;
	*off = strtoull(text, &end, 0);
	if (!*text || *end || errno || *text == '-') {
		specerr_set(err, col, "write the offset in decimal or 0x hex: func+0x12", "bad offset '%s'", text);
		return -EINVAL;
	}
	return 0;
}

static int parse_probe(struct trace_spec *s, const char *tok, size_t len, struct spec_error *err)
{
	char *copy = strndup(tok, len), *parts[5];
	int cols[5], nparts = 0, rc = -EINVAL;
	char *p;

	if (!copy)
		return -ENOMEM;
	parts[nparts] = copy;
	cols[nparts++] = 0;
	for (p = copy; *p; p++)
		if (*p == ':') {
			if (nparts == 5) {
				specerr_set(err, (int)(p - copy), "write [p|r|t|u]:[lib]:func",
					    "too many ':' in the probe");
				goto out;
			}
			*p = '\0';
			parts[nparts] = p + 1;
			cols[nparts++] = (int)(p + 1 - copy);
		}
	if (nparts == 1) { /* func */
		s->type = SPEC_ENTRY;
		s->library = strdup("");
		s->function = strdup(parts[0]);
	} else if (nparts == 2) { /* lib:func, always, as in trace.py */
		s->type = SPEC_ENTRY;
		s->library = strdup(parts[0]);
		s->function = strdup(parts[1]);
	} else {
		const char *t = parts[0];

		if (strlen(t) > 1 || (*t && !strchr("prtu", *t))) {
			specerr_set(err, 0, "the probe type is p, r, t or u (or empty for p)",
				    "unknown probe type '%s'", t);
			goto out;
		}
		s->type = *t ? (enum spec_type) * t : SPEC_ENTRY;
		if (s->type == SPEC_TRACEPOINT) {
			if (nparts != 3) {
				specerr_set(err, 0, "write t:CATEGORY:EVENT", "a tracepoint has two parts");
				goto out;
			}
			s->library = strdup("");
			s->category = strdup(parts[1]);
			s->function = strdup(parts[2]);
		} else if (s->type == SPEC_USDT) {
			if (nparts > 4) {
				specerr_set(err, cols[4], "write u:LIBRARY:PROBE or u:LIBRARY:PROVIDER:PROBE",
					    "too many ':' in the probe");
				goto out;
			}
			s->library = strdup(parts[1]);
			if (nparts == 4)
				s->category = strdup(parts[2]);
			s->function = strdup(parts[nparts - 1]);
		} else {
			if (nparts != 3) {
				specerr_set(err, cols[3], "write p:LIBRARY:FUNCTION", "too many ':' in the probe");
				goto out;
			}
			s->library = strdup(parts[1]);
			s->function = strdup(parts[2]);
		}
	}
	if (!s->library || !s->function || (nparts == 4 && !s->category) ||
	    (s->type == SPEC_TRACEPOINT && !s->category)) {
		rc = -ENOMEM;
		goto out;
	}
	/* "c" is libc, as in trace.py; kept as written, resolved when lowering. */
	p = strchr(s->function, '+');
	if (p) {
		int col = cols[nparts - 1] + (int)(p - s->function);

		if (s->type != SPEC_ENTRY && s->type != SPEC_RETURN) {
			specerr_set(err, col, NULL, "only function probes take an offset");
			goto out;
		}
		*p = '\0';
		if (parse_offset(p + 1, col + 1, &s->offset, err) < 0)
			goto out;
		s->has_offset = true;
	}
	if (!*s->function) {
		specerr_set(err, cols[nparts - 1], "name a function, event or probe", "the probe has no target");
		goto out;
	}
	if (!is_symbol(s->function)) {
		specerr_set(err, cols[nparts - 1], "a function, event or probe name is letters, digits, '_' and '.'",
			    "bad name '%s'", s->function);
		goto out;
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

/* ---- the whole spec ---------------------------------------------------------- */

static const char *skip_ws(const char *p)
{
	while (*p && isspace((unsigned char)*p))
		p++;
	return p;
}

/* Find the ')' that closes the '(' at open, skipping string and char
 * literals. Returns NULL when there is none. */
static const char *match_paren(const char *open)
{
	int depth = 0;

	for (const char *p = open; *p; p++) {
		if (*p == '"' || *p == '\'') {
			char q = *p;

			for (p++; *p && *p != q; p++)
				if (*p == '\\' && p[1])
					p++;
			if (!*p)
				return NULL;
			continue;
		}
		if (*p == '(')
			depth++;
		else if (*p == ')' && --depth == 0)
			return p;
	}
	return NULL;
}

static int parse_filter(struct trace_spec *s, const char *text, const char *open, const struct expr_names *names,
			struct spec_error *err)
{
	const char *close = match_paren(open);
	char *inner;
	size_t used;
	int rc;

	if (!close) {
		specerr_set(err, (int)(open - text), "close the filter with ')'", "unmatched '(' in the filter");
		return -EINVAL;
	}
	inner = strndup(open + 1, (size_t)(close - open - 1));
	if (!inner)
		return -ENOMEM;
	rc = expr_parse(inner, (int)(open + 1 - text), names, &s->filter, &used, err);
	if (rc == 0 && inner[used] != '\0') {
		specerr_set(err, (int)(open + 1 - text + (long)used), "a filter is one expression",
			    "unexpected '%c' in the filter", inner[used]);
		rc = -EINVAL;
	}
	free(inner);
	return rc < 0 ? rc : (int)(close + 1 - text);
}

/* The offset in the quoted literal at lit of decoded byte number n: each
 * escape (\n, \xHH, \ooo, ...) is one decoded byte. */
static int raw_offset(const char *lit, int n)
{
	const char *p = lit + 1; /* past the opening quote */

	for (int i = 0; i < n && *p && *p != '"'; i++) {
		if (*p != '\\') {
			p++;
			continue;
		}
		p++;
		if (*p == 'x') {
			p++;
			for (int k = 0; k < 2 && isxdigit((unsigned char)*p); k++)
				p++;
		} else if (*p >= '0' && *p <= '7') {
			for (int k = 0; k < 3 && *p >= '0' && *p <= '7'; k++)
				p++;
		} else if (*p) {
			p++;
		}
	}
	return (int)(p - lit);
}

static int parse_action(struct trace_spec *s, const char *text, const char *p, const struct expr_names *names,
			struct spec_error *err)
{
	struct expr *fmt = NULL;
	struct spec_conv convs[SPEC_MAX_VALUES];
	size_t used;
	int rc, nconv, col = (int)(p - text);

	if (*p != '"') {
		specerr_set(err, col, "a filter goes in parentheses after a space; a format in double quotes",
			    "unexpected '%c'", *p);
		return -EINVAL;
	}
	rc = expr_parse(p, col, names, &fmt, &used, err);
	if (rc < 0)
		return rc;
	if (fmt->kind != EXPR_STR) {
		expr_free(fmt);
		specerr_set(err, col, "write \"format\", value, ...", "expected a format string in double quotes");
		return -EINVAL;
	}
	s->format = strdup(fmt->u.str.s);
	expr_free(fmt);
	if (!s->format)
		return -ENOMEM;
	nconv = spec_parse_format(s->format, 0, convs, SPEC_MAX_VALUES, err);
	/* Columns so far are offsets in the decoded format: point them into the text. */
	for (int i = 0; i < nconv; i++)
		convs[i].col = col + raw_offset(p, convs[i].col);
	if (nconv < 0) {
		if (err && err->col >= 0)
			err->col = col + raw_offset(p, err->col);
		return nconv;
	}
	p = skip_ws(p + used);
	s->values = calloc(SPEC_MAX_VALUES, sizeof(struct expr *));
	if (!s->values)
		return -ENOMEM;
	while (*p == ',') {
		struct expr *v = NULL;

		p = skip_ws(p + 1);
		if (s->nvalues == SPEC_MAX_VALUES) {
			specerr_set(err, (int)(p - text), NULL, "too many values (at most %d)", SPEC_MAX_VALUES);
			return -EINVAL;
		}
		if (!*p) {
			specerr_set(err, (int)(p - text), NULL, "expected a value after ','");
			return -EINVAL;
		}
		rc = expr_parse(p, (int)(p - text), names, &v, &used, err);
		if (rc < 0)
			return rc;
		s->values[s->nvalues++] = v;
		p = skip_ws(p + used);
	}
	if (*p) {
		specerr_set(err, (int)(p - text), "separate values with ','", "unexpected '%c' after the format", *p);
		return -EINVAL;
	}
	if (nconv != s->nvalues) {
		specerr_set(err, col, "give one value per conversion, in order",
			    "the format has %d conversion%s but %d value%s follow%s", nconv, nconv == 1 ? "" : "s",
			    s->nvalues, s->nvalues == 1 ? "" : "s", s->nvalues == 1 ? "s" : "");
		return -EINVAL;
	}
	s->convs = calloc((size_t)(nconv ? nconv : 1), sizeof(*s->convs));
	if (!s->convs)
		return -ENOMEM;
	memcpy(s->convs, convs, sizeof(convs[0]) * (size_t)nconv);
	return 0;
}

int spec_parse(const char *text, struct trace_spec **out, struct spec_error *err)
{
	struct trace_spec *s;
	const char *names_list[SPEC_MAX_PARAMS];
	struct expr_names names = { names_list, 0, SPEC_MAX_ARG };
	const char *p, *start, *end;
	int rc;

	*out = NULL;
	specerr_clear(err);
	if (strlen(text) > SPEC_MAX_LEN) {
		specerr_set(err, SPEC_MAX_LEN, NULL, "spec longer than %d bytes", SPEC_MAX_LEN);
		return -E2BIG;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->text = strdup(text);
	if (!s->text) {
		rc = -ENOMEM;
		goto fail;
	}
	start = skip_ws(text);
	if (!*start) {
		specerr_set(err, 0, "e.g. sys_read (arg3 > 1024) \"read %d bytes\", arg3", "empty spec");
		rc = -EINVAL;
		goto fail;
	}
	for (end = start; *end && !isspace((unsigned char)*end) && *end != '('; end++)
		;
	rc = parse_probe(s, start, (size_t)(end - start), err);
	if (rc < 0) {
		if (err && err->col >= 0)
			err->col += (int)(start - text);
		goto fail;
	}
	p = end;
	if (*p == '(') { /* a signature */
		const char *close = strchr(p, ')');
		char *sig;

		if (!close || memchr(p + 1, '(', (size_t)(close - p - 1))) {
			specerr_set(err, (int)(p - text), "put a space before a filter: func (arg1 > 0)",
				    "unmatched '(' in the signature");
			rc = -EINVAL;
			goto fail;
		}
		sig = strndup(p + 1, (size_t)(close - p - 1));
		s->params = calloc(SPEC_MAX_PARAMS, sizeof(*s->params));
		if (!sig || !s->params) {
			free(sig);
			rc = -ENOMEM;
			goto fail;
		}
		rc = spec_parse_signature(sig, (int)(p + 1 - text), s->params, SPEC_MAX_PARAMS, err);
		if (rc < 0 && err && strpbrk(sig, "<>=!&|+\"")) {
			/* It reads like a filter written without the space trace.py needs. */
			specerr_clear(err);
			specerr_set(err, (int)(p - text), "put a space before a filter: func (arg1 > 0)",
				    "a '(' right after the function starts a C signature, not a filter");
		} else if (rc < 0 && err && !strstr(err->hint, "space")) {
			snprintf(err->hint, sizeof(err->hint), "%s",
				 "a '(' right after the function starts a C signature; put a space before a filter");
		}
		free(sig);
		if (rc < 0)
			goto fail;
		s->nparams = rc;
		s->has_signature = true;
		for (int i = 0; i < s->nparams; i++)
			names_list[i] = s->params[i].name;
		names.nparams = s->nparams;
		p = close + 1;
	}
	if (*p && !isspace((unsigned char)*p)) {
		specerr_set(err, (int)(p - text), NULL, "unexpected '%c' after the probe", *p);
		rc = -EINVAL;
		goto fail;
	}
	p = skip_ws(p);
	if (*p == '(') {
		rc = parse_filter(s, text, p, &names, err);
		if (rc < 0)
			goto fail;
		p = skip_ws(text + rc);
	}
	if (*p) {
		rc = parse_action(s, text, p, &names, err);
		if (rc < 0)
			goto fail;
	}
	rc = spec_check(s, err);
	if (rc < 0) {
		if (err && err->col == 0)
			err->col = (int)(start - text);
		goto fail;
	}
	*out = s;
	return 0;
fail:
	spec_free(s);
	return rc;
}

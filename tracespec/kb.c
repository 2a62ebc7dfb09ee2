/* kb.c - the symptom knowledge base: a line-oriented text file, loaded and checked. */
#include "tracespec/kb.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tracespec/editdist.h"
#include "tracespec/spec.h"

/* The built-in copy, from kb_builtin.S. */
extern const char diag_kb_builtin_start[];
extern const uint64_t diag_kb_builtin_size;

#define KB_MIN_WORD 4
#define PLACEHOLDERS_HINT \
	"write {errno}, {errno_name} or {syscall}; '{{' is a literal '{'" /* shorter pattern words are not worth correcting towards */

struct loader {
	struct kb *kb;
	struct kb_error *err;
	int line;
	struct kb_family *cur;	    /* family being read; NULL at top level */
	struct kb_suggestion *sugg; /* last suggest of cur */
	int nwords_cap, nprocs_cap, nstop_cap;
};

static const char *const directives[] = {
	"threshold", "vocabulary", "process", "stopword", "extract", "family", "title",	  "match",
	"errno",     "syscall",	   "carry",   "starter",  "suggest", "reason", "instead",
};

/* ---- errors ------------------------------------------------------------------ */

static int fail(struct loader *l, const char *hint, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct loader *l, const char *hint, const char *fmt, ...)
{
	va_list ap;

	l->err->line = l->line;
	va_start(ap, fmt);
	vsnprintf(l->err->msg, sizeof(l->err->msg), fmt, ap);
	va_end(ap);
	snprintf(l->err->hint, sizeof(l->err->hint), "%s", hint ? hint : "");
	return -EINVAL;
}

const char *kb_error_text(const struct kb_error *err, char *buf, size_t size)
{
	if (err->line > 0)
		snprintf(buf, size, "%s:%d: %s", err->source, err->line, err->msg);
	else
		snprintf(buf, size, "%s: %s", err->source, err->msg);
	return buf;
}

/* ---- errnos ------------------------------------------------------------------- */

const char *kb_errno_name(int errnum)
{
	if (errnum <= 0 || errnum > KB_ERRNO_MAX)
		return NULL;
	return strerrorname_np(errnum);
}

int kb_errno_by_name(const char *name, size_t len)
{
	/* names the C library gives another errno's number (one name each back) */
	static const struct {
		const char *name;
		int errnum;
	} aliases[] = {
		{ "EWOULDBLOCK", EWOULDBLOCK },
		{ "EDEADLOCK", EDEADLOCK },
		{ "ENOTSUP", ENOTSUP },
	};

	if (len < 3 || len > 16 || (name[0] != 'E' && name[0] != 'e'))
		return 0;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strlen(aliases[i].name) == len && strncasecmp(aliases[i].name, name, len) == 0)
			return aliases[i].errnum;
	for (int e = 1; e <= KB_ERRNO_MAX; e++) {
		const char *n = strerrorname_np(e);

		if (n && strlen(n) == len && strncasecmp(n, name, len) == 0)
			return e;
	}
	return 0;
}

/* ---- small parsers ------------------------------------------------------------- */

/* Split the next whitespace-separated word off *p. */
static char *next_word(char **p)
{
	char *s = *p, *w;

	while (*s && isspace((unsigned char)*s))
		s++;
	if (!*s) {
		*p = s;
		return NULL;
	}
	w = s;
	while (*s && !isspace((unsigned char)*s))
		s++;
	if (*s)
		*s++ = '\0';
	while (*s && isspace((unsigned char)*s))
		s++;
	*p = s;
	return w;
}

/* A weight or factor in (0, 1]. */
static int parse_weight(struct loader *l, const char *w, const char *what, double *out)
{
	char *end;
	double v;

	*out = 0;
	if (!w)
		return fail(l, NULL, "%s: missing number", what);
	errno = 0;
	v = strtod(w, &end);
	if (errno || *end || end == w || !(v > 0 && v <= 1))
		return fail(l, "write a number such as 0.8", "%s '%s' must be a number in (0, 1]", what, w);
	*out = v;
	return 0;
}

static int compile_re(struct loader *l, const char *src, pcre2_code **out)
{
	int code;
	PCRE2_SIZE off;
	PCRE2_UCHAR msg[160];

	*out = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED,
			     PCRE2_CASELESS | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &off, NULL);
	if (*out)
		return 0;
	/* pcre2_compile() reports a failed allocation as a compile error */
	if (code == PCRE2_ERROR_HEAP_FAILED || code == PCRE2_ERROR_NOMEMORY)
		return -ENOMEM;
	pcre2_get_error_message(code, msg, sizeof(msg));
	return fail(l, "patterns are PCRE2, matched without case", "bad pattern at offset %zu: %s", (size_t)off,
		    (const char *)msg);
}

static int push_str(char ***arr, int *n, int *cap, const char *s, size_t len)
{
	char *d;

	if (*n == *cap) {
		int nc = *cap ? *cap * 2 : 32;
		char **na = realloc(*arr, (size_t)nc * sizeof(*na));

		if (!na)
			return -ENOMEM;
		*arr = na;
		*cap = nc;
	}
	d = strndup(s, len);
	if (!d)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++)
		d[i] = (char)tolower((unsigned char)d[i]);
	(*arr)[(*n)++] = d;
	return 0;
}

/* Add the words of a list directive ("vocabulary a b c") to arr; with
 * pairs, a word may be NAME=COMM (process), both parts non-empty. */
static int add_words(struct loader *l, char *rest, char ***arr, int *n, int *cap, const char *what, bool pairs)
{
	char *w;
	int rc;

	if (!*rest)
		return fail(l, NULL, "%s: no words given", what);
	while ((w = next_word(&rest))) {
		size_t len = strlen(w);
		const char *eq = strchr(w, '=');

		if (len > KB_MAX_WORD)
			return fail(l, NULL, "%s: '%s' is longer than %d bytes", what, w, KB_MAX_WORD);
		if (pairs && eq && (eq == w || !eq[1] || strchr(eq + 1, '=')))
			return fail(l, "write NAME or NAME=COMM", "%s: bad entry '%s'", what, w);
		rc = push_str(arr, n, cap, w, len);
		if (rc)
			return rc;
	}
	return 0;
}

/* Words of KB_MIN_WORD letters or more in a pattern's source become
 * vocabulary: what the typo corrector may correct towards. An escape
 * (\b, \s, \d, ...) ends a word and is not part of one. */
static int add_pattern_words(struct loader *l, const char *src)
{
	const char *p = src;

	while (*p) {
		const char *s;

		if (*p == '\\') {
			p += p[1] ? 2 : 1;
			continue;
		}
		if (!isalpha((unsigned char)*p)) {
			p++;
			continue;
		}
		s = p;
		while (isalpha((unsigned char)*p))
			p++;
		if (p - s >= KB_MIN_WORD && p - s <= KB_MAX_WORD) {
			int rc = push_str(&l->kb->words, &l->kb->nwords, &l->nwords_cap, s, (size_t)(p - s));

			if (rc)
				return rc;
		}
	}
	return 0;
}

/* ---- templates ----------------------------------------------------------------- */

int kb_fill(const char *tmpl, const struct kb_vars *v, struct strbuf *out)
{
	const char *name = kb_errno_name(v->errnum);

	for (const char *p = tmpl; *p; p++) {
		if (p[0] == '{' && p[1] == '{') {
			strbuf_putc(out, '{');
			p++;
		} else if (*p != '{') {
			strbuf_putc(out, *p);
		} else if (strncmp(p, "{errno}", 7) == 0 && name) {
			strbuf_addf(out, "%d", v->errnum);
			p += 6;
		} else if (strncmp(p, "{errno_name}", 12) == 0 && name) {
			strbuf_puts(out, name);
			p += 11;
		} else if (strncmp(p, "{syscall}", 9) == 0 && v->syscall) {
			strbuf_puts(out, v->syscall);
			p += 8;
		} else {
			return -EINVAL;
		}
	}
	return out->err;
}

bool kb_fillable(const char *tmpl, const struct kb_vars *v)
{
	struct strbuf sb = STRBUF_INIT(KB_MAX_LINE * 2);
	int rc = kb_fill(tmpl, v, &sb);

	strbuf_release(&sb);
	return rc != -EINVAL;
}

/* The values a template is checked with when loaded. */
static const struct kb_vars check_vars = { ENOENT, "openat" };

/* A spec template must fill and parse: check it with ENOENT and openat. */
static int check_spec(struct loader *l, const char *tmpl)
{
	struct strbuf sb = STRBUF_INIT(SPEC_MAX_LEN);
	struct trace_spec *s = NULL;
	struct spec_error se;
	int rc = kb_fill(tmpl, &check_vars, &sb);

	if (rc == -EINVAL)
		rc = fail(l, PLACEHOLDERS_HINT, "unknown placeholder in spec");
	if (rc == 0) {
		rc = spec_parse(strbuf_str(&sb), &s, &se);
		if (rc == -EINVAL)
			fail(l, se.hint[0] ? se.hint : NULL, "bad spec: %s (column %d)", se.msg, se.col + 1);
		else if (rc == -E2BIG)
			rc = fail(l, NULL, "spec longer than %d bytes", SPEC_MAX_LEN);
	}
	spec_free(s);
	strbuf_release(&sb);
	return rc;
}

/* ---- families ------------------------------------------------------------------ */

/* A family is complete when it has a title, some evidence and suggestions
 * that all say why. */
static int family_end(struct loader *l)
{
	struct kb_family *f = l->cur;
	int line = l->line, rc = 0;

	if (!f)
		return 0;
	l->line = f->line;
	if (!f->title)
		rc = fail(l, "add: title TEXT", "family '%s' has no title", f->id);
	else if (f->npatterns == 0 && f->nerrnos == 0 && !f->errno_any && !f->syscall_weight)
		rc = fail(l, "add: match W REGEX, errno W NAME..., or syscall W", "family '%s' has nothing to match",
			  f->id);
	else if (f->nsugg == 0)
		rc = fail(l, "add: suggest FACTOR SPEC", "family '%s' suggests nothing", f->id);
	for (int i = 0; rc == 0 && i < f->nsugg; i++) {
		if (!f->sugg[i].reason) {
			l->line = f->sugg[i].line;
			rc = fail(l, "add: reason TEXT, after the suggest", "suggestion without a reason");
		}
	}
	l->line = line;
	l->cur = NULL;
	l->sugg = NULL;
	return rc;
}

static int family_start(struct loader *l, char *rest)
{
	struct kb *kb = l->kb;
	struct kb_family *nf, *f;
	char *id = next_word(&rest);
	int rc = family_end(l);

	if (rc)
		return rc;
	if (!id || *rest)
		return fail(l, NULL, "family: expected one name");
	for (const char *p = id; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-'))
			return fail(l, "use lowercase letters, digits and '-'", "bad family name '%s'", id);
	for (int i = 0; i < kb->nfam; i++)
		if (strcmp(kb->fam[i].id, id) == 0)
			return fail(l, NULL, "family '%s' already defined on line %d", id, kb->fam[i].line);
	nf = realloc(kb->fam, (size_t)(kb->nfam + 1) * sizeof(*nf));
	if (!nf)
		return -ENOMEM;
	kb->fam = nf;
	f = &kb->fam[kb->nfam++];
	memset(f, 0, sizeof(*f));
	f->line = l->line;
	f->id = strdup(id);
	if (!f->id)
		return -ENOMEM;
	l->cur = f;
	return 0;
}

static int family_match(struct loader *l, char *rest)
{
	struct kb_family *f = l->cur;
	struct kb_pattern *np;
	double w;
	int rc = parse_weight(l, next_word(&rest), "match weight", &w);

	if (rc)
		return rc;
	if (!*rest)
		return fail(l, NULL, "match: missing pattern");
	np = realloc(f->patterns, (size_t)(f->npatterns + 1) * sizeof(*np));
	if (!np)
		return -ENOMEM;
	f->patterns = np;
	np = &f->patterns[f->npatterns];
	np->weight = w;
	np->line = l->line;
	rc = compile_re(l, rest, &np->re);
	if (rc)
		return rc;
	f->npatterns++;
	return add_pattern_words(l, rest);
}

static int family_errno(struct loader *l, char *rest)
{
	struct kb_family *f = l->cur;
	char *w;
	int rc = parse_weight(l, next_word(&rest), "errno weight", &f->errno_weight);

	if (rc)
		return rc;
	if (!*rest)
		return fail(l, "e.g. errno 0.9 ENOENT, or errno 0.5 any", "errno: no names given");
	while ((w = next_word(&rest))) {
		int e = kb_errno_by_name(w, strlen(w));

		if (strcmp(w, "any") == 0) {
			f->errno_any = true;
			continue;
		}

		if (!e)
			return fail(l, "names as in errno(3): ENOENT, EACCES, ...", "unknown errno '%s'", w);
		if (f->nerrnos == KB_MAX_ERRNOS)
			return fail(l, NULL, "more than %d errnos in one family", KB_MAX_ERRNOS);
		f->errnos[f->nerrnos++] = e;
	}
	return 0;
}

static int family_suggest(struct loader *l, char *rest)
{
	struct kb_family *f = l->cur;
	struct kb_suggestion *ns;
	double factor;
	int rc = parse_weight(l, next_word(&rest), "suggest factor", &factor);

	if (rc)
		return rc;
	if (!*rest)
		return fail(l, NULL, "suggest: missing spec");
	rc = check_spec(l, rest);
	if (rc)
		return rc;
	ns = realloc(f->sugg, (size_t)(f->nsugg + 1) * sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	f->sugg = ns;
	ns = &f->sugg[f->nsugg++];
	memset(ns, 0, sizeof(*ns));
	ns->factor = factor;
	ns->line = l->line;
	ns->spec = strdup(rest);
	l->sugg = ns;
	return ns->spec ? 0 : -ENOMEM;
}

static int family_instead(struct loader *l, char *rest)
{
	struct kb_suggestion *s = l->sugg;
	char **ni;
	int rc;

	if (!*rest)
		return fail(l, NULL, "instead: missing spec");
	rc = check_spec(l, rest);
	if (rc)
		return rc;
	ni = realloc(s->instead, (size_t)(s->ninstead + 1) * sizeof(*ni));
	if (!ni)
		return -ENOMEM;
	s->instead = ni;
	ni[s->ninstead] = strdup(rest);
	if (!ni[s->ninstead])
		return -ENOMEM;
	s->ninstead++;
	return 0;
}

static int family_carry(struct loader *l, char *rest)
{
	if (strcmp(rest, "pid") == 0)
		l->cur->carry = KB_CARRY_PID;
	else if (strcmp(rest, "name") == 0)
		l->cur->carry = KB_CARRY_NAME;
	else if (strcmp(rest, "none") == 0)
		l->cur->carry = KB_CARRY_NONE;
	else
		return fail(l, "carry pid, carry name or carry none", "bad carry '%s'", rest);
	return 0;
}

static int parse_count(struct loader *l, const char *w, const char *what, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = w ? strtol(w, &end, 10) : 0;
	if (!w || errno || *end || v < 1 || v > 1000)
		return fail(l, NULL, "%s must be a whole number from 1 to 1000", what);
	*out = (int)v;
	return 0;
}

/* ---- top level ------------------------------------------------------------------- */

static int top_extract(struct loader *l, char *rest)
{
	struct kb *kb = l->kb;
	struct kb_extract *ne;
	pcre2_code *re;
	int rc;

	if (!*rest)
		return fail(l, NULL, "extract: missing pattern");
	rc = compile_re(l, rest, &re);
	if (rc)
		return rc;
	if (pcre2_substring_number_from_name(re, (PCRE2_SPTR) "pid") < 0 &&
	    pcre2_substring_number_from_name(re, (PCRE2_SPTR) "name") < 0 &&
	    pcre2_substring_number_from_name(re, (PCRE2_SPTR) "comm") < 0 &&
	    pcre2_substring_number_from_name(re, (PCRE2_SPTR) "errno") < 0) {
		pcre2_code_free(re);
		return fail(l, "name what it finds: (?<pid>\\d+), (?<name>...), (?<comm>...) or (?<errno>\\d+)",
			    "extract pattern has no pid, name, comm or errno group");
	}
	ne = realloc(kb->extract, (size_t)(kb->nextract + 1) * sizeof(*ne));
	if (!ne) {
		pcre2_code_free(re);
		return -ENOMEM;
	}
	kb->extract = ne;
	ne[kb->nextract].re = re;
	ne[kb->nextract].line = l->line;
	kb->nextract++;
	return 0;
}

static int unknown_directive(struct loader *l, const char *w)
{
	char hint[96] = "";
	int best = 3;

	for (size_t i = 0; i < sizeof(directives) / sizeof(directives[0]); i++) {
		int d = editdist(w, strlen(w), directives[i], strlen(directives[i]), best - 1);

		if (d < best) {
			best = d;
			snprintf(hint, sizeof(hint), "did you mean '%s'?", directives[i]);
		}
	}
	return fail(l, hint[0] ? hint : "see the format at the top of tracespec/symptoms.kb", "unknown directive '%s'",
		    w);
}

static int in_family(struct loader *l, const char *w)
{
	if (!l->cur)
		return fail(l, "start a family first: family NAME", "'%s' outside a family", w);
	return 0;
}

static int load_line(struct loader *l, char *line)
{
	char *rest = line, *w = next_word(&rest);
	size_t n = strlen(rest);

	while (n && isspace((unsigned char)rest[n - 1]))
		rest[--n] = '\0';
	if (!w || w[0] == '#')
		return 0;
	if (strcmp(w, "threshold") == 0)
		return parse_weight(l, rest, "threshold", &l->kb->threshold);
	if (strcmp(w, "vocabulary") == 0)
		return add_words(l, rest, &l->kb->words, &l->kb->nwords, &l->nwords_cap, w, false);
	if (strcmp(w, "process") == 0)
		return add_words(l, rest, &l->kb->procs, &l->kb->nprocs, &l->nprocs_cap, w, true);
	if (strcmp(w, "stopword") == 0)
		return add_words(l, rest, &l->kb->stopwords, &l->kb->nstopwords, &l->nstop_cap, w, false);
	if (strcmp(w, "extract") == 0)
		return top_extract(l, rest);
	if (strcmp(w, "family") == 0)
		return family_start(l, rest);
	for (size_t i = 6; i < sizeof(directives) / sizeof(directives[0]); i++) {
		if (strcmp(w, directives[i]) == 0 && in_family(l, w))
			return -EINVAL;
	}
	if (strcmp(w, "title") == 0) {
		if (l->cur->title)
			return fail(l, NULL, "family '%s' has a title already", l->cur->id);
		if (!*rest)
			return fail(l, NULL, "title: missing text");
		l->cur->title = strdup(rest);
		return l->cur->title ? 0 : -ENOMEM;
	}
	if (strcmp(w, "match") == 0)
		return family_match(l, rest);
	if (strcmp(w, "errno") == 0)
		return family_errno(l, rest);
	if (strcmp(w, "syscall") == 0)
		return parse_weight(l, rest, "syscall weight", &l->cur->syscall_weight);
	if (strcmp(w, "carry") == 0)
		return family_carry(l, rest);
	if (strcmp(w, "starter") == 0)
		return parse_count(l, rest, "starter", &l->cur->starter);
	if (strcmp(w, "suggest") == 0)
		return family_suggest(l, rest);
	if ((strcmp(w, "reason") == 0 || strcmp(w, "instead") == 0) && !l->sugg)
		return fail(l, "write it after the suggest it belongs to", "'%s' before any suggest", w);
	if (strcmp(w, "reason") == 0) {
		if (l->sugg->reason)
			return fail(l, NULL, "this suggestion has a reason already");
		if (!*rest)
			return fail(l, NULL, "reason: missing text");
		if (!kb_fillable(rest, &check_vars))
			return fail(l, PLACEHOLDERS_HINT, "unknown placeholder in reason");
		l->sugg->reason = strdup(rest);
		return l->sugg->reason ? 0 : -ENOMEM;
	}
	if (strcmp(w, "instead") == 0)
		return family_instead(l, rest);
	return unknown_directive(l, w);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort the vocabulary and drop repeats, for kb_has_word()'s bsearch. */
static void words_finish(struct kb *kb)
{
	int j = 0;

	if (kb->nwords == 0)
		return;
	qsort(kb->words, (size_t)kb->nwords, sizeof(char *), cmp_str);
	for (int i = 1; i < kb->nwords; i++) {
		if (strcmp(kb->words[i], kb->words[j]) == 0)
			free(kb->words[i]);
		else
			kb->words[++j] = kb->words[i];
	}
	kb->nwords = j + 1;
}

int kb_load_text(const char *text, size_t len, const char *source, struct kb **out, struct kb_error *err)
{
	struct loader l = { .err = err };
	const char *p = text, *end = text + len;
	int rc = 0;

	memset(err, 0, sizeof(*err));
	snprintf(err->source, sizeof(err->source), "%s", source);
	*out = NULL;
	if (len > KB_MAX_BYTES) {
		snprintf(err->msg, sizeof(err->msg), "larger than %d bytes", KB_MAX_BYTES);
		return -E2BIG;
	}
	l.kb = calloc(1, sizeof(*l.kb));
	if (!l.kb)
		return -ENOMEM;
	l.kb->threshold = 0.35;
	l.kb->source = strdup(source);
	if (!l.kb->source)
		rc = -ENOMEM;
	while (rc == 0 && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char buf[KB_MAX_LINE + 1];

		l.line++;
		if (n > KB_MAX_LINE) {
			rc = fail(&l, NULL, "line longer than %d bytes", KB_MAX_LINE);
			break;
		}
		if (memchr(p, '\0', n)) {
			rc = fail(&l, "the knowledge base is text", "NUL byte in line");
			break;
		}
		memcpy(buf, p, n);
		buf[n] = '\0';
		rc = load_line(&l, buf);
		p += n + 1;
	}
	if (rc == 0)
		rc = family_end(&l);
	if (rc == 0 && l.kb->nfam == 0) {
		l.line = 0;
		rc = fail(&l, "add a family; see tracespec/symptoms.kb", "no symptom families");
	}
	if (rc == -ENOMEM)
		snprintf(err->msg, sizeof(err->msg), "out of memory");
	if (rc) {
		kb_free(l.kb);
		return rc;
	}
	words_finish(l.kb);
	*out = l.kb;
	return 0;
}

int kb_load_file(const char *path, struct kb **out, struct kb_error *err)
{
	struct stat st;
	char *buf = NULL;
	ssize_t got = 0;
	int fd, rc;

	memset(err, 0, sizeof(*err));
	snprintf(err->source, sizeof(err->source), "%s", path);
	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		snprintf(err->msg, sizeof(err->msg), "cannot read: %s", strerror(-rc));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > KB_MAX_BYTES) {
		rc = S_ISREG(st.st_mode) ? -E2BIG : -EINVAL;
		snprintf(err->msg, sizeof(err->msg), "%s", rc == -E2BIG ? "larger than 4 MiB" : "not a regular file");
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = -ENOMEM;
		goto out;
	}
	while (got < st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)(st.st_size - got));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? -errno : -EIO;
			snprintf(err->msg, sizeof(err->msg), "cannot read: %s", strerror(-rc));
			goto out;
		}
		got += r;
	}
	rc = kb_load_text(buf, (size_t)got, path, out, err);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

int kb_load_builtin(struct kb **out, struct kb_error *err)
{
	return kb_load_text(diag_kb_builtin_start, (size_t)diag_kb_builtin_size, "built-in", out, err);
}

int kb_load_default(struct kb **out, struct kb_error *err)
{
	const char *path = getenv("DIAGAGENT_KB");

	if (path && *path)
		return kb_load_file(path, out, err);
	return kb_load_builtin(out, err);
}

bool kb_has_word(const struct kb *kb, const char *word, size_t len)
{
	int lo = 0, hi = kb->nwords - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		int c = strncmp(kb->words[mid], word, len);

		if (c == 0 && kb->words[mid][len] != '\0')
			c = 1;
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return false;
}

static void free_strs(char **arr, int n)
{
	for (int i = 0; i < n; i++)
		free(arr[i]);
	free(arr);
}

void kb_free(struct kb *kb)
{
	if (!kb)
		return;
	for (int i = 0; i < kb->nfam; i++) {
		struct kb_family *f = &kb->fam[i];

		for (int j = 0; j < f->npatterns; j++)
			pcre2_code_free(f->patterns[j].re);
		for (int j = 0; j < f->nsugg; j++) {
			free(f->sugg[j].spec);
			free(f->sugg[j].reason);
			free_strs(f->sugg[j].instead, f->sugg[j].ninstead);
		}
		free(f->patterns);
		free(f->sugg);
		free(f->id);
		free(f->title);
	}
	free(kb->fam);
	for (int i = 0; i < kb->nextract; i++)
		pcre2_code_free(kb->extract[i].re);
	free(kb->extract);
	free_strs(kb->words, kb->nwords);
	free_strs(kb->procs, kb->nprocs);
	free_strs(kb->stopwords, kb->nstopwords);
	free(kb->source);
	free(kb);
}

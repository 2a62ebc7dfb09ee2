/* suggest.c - the suggestion engine: read a symptom, score the families, offer specs. */
#include "tracespec/suggest.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tracespec/codegen.h"
#include "tracespec/editdist.h"
#include "tracespec/dwtypes.h"
#include "tracespec/ktypes.h"
#include "tracespec/spec.h"

#define MATCH_LIMIT  100000  /* backtracking bound per pattern and text */
#define MATCHED_MAX  8	     /* words quoted in a reason */
#define MATCHED_LEN  40	     /* longest quoted piece */
#define PID_MAX	     4194304 /* the kernel's highest pid_max */
#define FIXED_WEIGHT 0.75    /* a match only after typo correction is less sure */

/* What one family found in the text. */
struct evidence {
	double score;
	char words[MATCHED_MAX][MATCHED_LEN + 1];
	int nwords;
};

struct query {
	const struct kb *kb;
	const char *text; /* as given */
	char *fixed;	  /* with typos corrected; NULL when none were */
	char *lower;	  /* text in lowercase, for strerror texts */
	struct suggest_result *res;
	char errno_words[SUGGEST_MAX_ERRNOS][MATCHED_LEN + 1]; /* how each errno was written */
	char syscall_word[MATCHED_LEN + 1];		       /* how the syscall was written */
	pcre2_match_data *md;
	pcre2_match_context *mc;
};

/* ---- words ------------------------------------------------------------------------ */

static bool is_word_byte(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '-' || c >= 0x80;
}

/* Where needle occurs in hay as a whole word (hay and needle lowercase);
 * NULL when it does not, or needle is empty. */
static const char *find_word(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0)
		return NULL; /* strstr would find "" everywhere, past the end too */
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) {
		if ((p == hay || !is_word_byte((unsigned char)p[-1])) && !is_word_byte((unsigned char)p[n]))
			return p;
	}
	return NULL;
}

/* True when w[0..len) is in the list, comparing a NAME=COMM entry by NAME. */
static bool in_list(char *const *list, int n, const char *w, size_t len)
{
	for (int i = 0; i < n; i++)
		if (strcspn(list[i], "=") == len && strncasecmp(list[i], w, len) == 0)
			return true;
	return false;
}

/* A four-letter word is corrected only for a swap of neighbours ("fiel") or
 * one missing letter ("mutx"): other edits too often turn a real word into
 * another ("show" -> "slow"). */
static bool short_typo(const char *a, const char *b, size_t vl)
{
	size_t i = 0;

	if (vl == 5) { /* b is a with one letter added */
		while (i < 4 && a[i] == b[i])
			i++;
		return strncmp(a + i, b + i + 1, 4 - i) == 0;
	}
	if (vl != 4)
		return false;
	while (i < 4 && a[i] == b[i])
		i++;
	return i + 1 < 4 && a[i] == b[i + 1] && a[i + 1] == b[i] && strncmp(a + i + 2, b + i + 2, 4 - i - 2) == 0;
}

/* True when a[0..la) and b[0..lb) differ only by an English ending
 * ("deletes" / "deleted", "read" / "ready"): another word, not a typo. */
static bool inflection(const char *a, size_t la, const char *b, size_t lb)
{
	static const char *const endings[] = { "", "s", "es", "ed", "d", "ing", "er", "ers", "y", "ly", "ion", "ions" };
	size_t i = 0, n = sizeof(endings) / sizeof(endings[0]);
	bool ea = false, eb = false;

	while (i < la && i < lb && a[i] == b[i])
		i++;
	for (size_t k = 0; k < n; k++) {
		ea |= la - i == strlen(endings[k]) && strncmp(a + i, endings[k], la - i) == 0;
		eb |= lb - i == strlen(endings[k]) && strncmp(b + i, endings[k], lb - i) == 0;
	}
	return ea && eb;
}

/* The vocabulary word w[0..len) (lowercase) is closest to, or NULL. The
 * first letter must agree, and the two must not be forms of one word. */
static const char *closest_word(const struct kb *kb, const char *w, size_t len)
{
	int bound = len >= 8 ? 2 : 1, best = bound + 1;
	const char *found = NULL;

	for (int i = 0; i < kb->nwords; i++) {
		const char *v = kb->words[i];
		size_t vl = strlen(v);
		int d;

		if (v[0] != w[0] || inflection(w, len, v, vl))
			continue;
		if (len == 4 && !short_typo(w, v, vl))
			continue;
		d = editdist(w, len, v, vl, best - 1 < bound ? best - 1 : bound);
		if (d < best) {
			best = d;
			found = v;
		}
	}
	return found;
}

/* Correct words the vocabulary does not know towards ones it does. The
 * result is matched in addition to the text, never instead of it, so a
 * wrong correction can add a weak match but never lose one. */
static int fix_typos(struct query *q)
{
	struct suggest_result *r = q->res;
	struct strbuf sb = STRBUF_INIT(SUGGEST_MAX_TEXT * 2);
	const char *p = q->lower;

	while (*p) {
		const char *s = p, *to = NULL;
		size_t len;

		if (!isalpha((unsigned char)*p)) {
			strbuf_putc(&sb, *p++);
			continue;
		}
		while (isalpha((unsigned char)*p))
			p++;
		len = (size_t)(p - s);
		if (len >= 4 && len <= KB_MAX_WORD && !is_word_byte((unsigned char)*p) &&
		    (s == q->lower || !is_word_byte((unsigned char)s[-1])) && !kb_has_word(q->kb, s, len) &&
		    !in_list(q->kb->stopwords, q->kb->nstopwords, s, len) &&
		    !in_list(q->kb->procs, q->kb->nprocs, s, len) && !kb_errno_by_name(s, len))
			to = closest_word(q->kb, s, len);
		if (to && r->nfixes < SUGGEST_MAX_FIXES) {
			snprintf(r->fixes[r->nfixes].from, sizeof(r->fixes[0].from), "%.*s", (int)len, s);
			snprintf(r->fixes[r->nfixes].to, sizeof(r->fixes[0].to), "%s", to);
			r->nfixes++;
			strbuf_puts(&sb, to);
		} else {
			strbuf_add(&sb, s, len);
		}
	}
	if (sb.err) {
		strbuf_release(&sb);
		return sb.err;
	}
	if (r->nfixes)
		q->fixed = strbuf_detach(&sb, NULL);
	strbuf_release(&sb);
	return r->nfixes && !q->fixed ? -ENOMEM : 0;
}

/* ---- what the text names: errnos, PIDs, processes ----------------------------------------- */

static void add_errno(struct query *q, int e, const char *how, size_t len)
{
	struct suggest_result *r = q->res;

	if (e <= 0 || e > KB_ERRNO_MAX || !kb_errno_name(e) || r->nerrnos == SUGGEST_MAX_ERRNOS)
		return;
	for (int i = 0; i < r->nerrnos; i++)
		if (r->errnos[i] == e)
			return;
	snprintf(q->errno_words[r->nerrnos], sizeof(q->errno_words[0]), "%.*s",
		 (int)(len > MATCHED_LEN ? MATCHED_LEN : len), how);
	r->errnos[r->nerrnos++] = e;
}

/* Errno names written as words (ENOENT, econnrefused) and the C library's
 * own texts ("no such file or directory"), in the order they appear. */
static void find_errno_names(struct query *q)
{
	const char *p = q->text;
	int pos[KB_ERRNO_MAX + 1] = { 0 };

	while (*p) {
		const char *s = p;

		if (!isalnum((unsigned char)*p)) {
			p++;
			continue;
		}
		while (isalnum((unsigned char)*p))
			p++;
		/* "-ENOTTY" is an errno too: only a letter, digit or '_' joins words */
		if (s == q->text || !(isalnum((unsigned char)s[-1]) || s[-1] == '_'))
			add_errno(q, kb_errno_by_name(s, (size_t)(p - s)), s, (size_t)(p - s));
	}
	for (int e = 1; e <= KB_ERRNO_MAX; e++) {
		char low[128];
		const char *msg = strerror(e), *at;

		if (!kb_errno_name(e) || strncmp(msg, "Unknown error", 13) == 0)
			continue;
		snprintf(low, sizeof(low), "%s", msg);
		for (char *c = low; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		at = find_word(q->lower, low);
		pos[e] = at ? (int)(at - q->lower) + 1 : 0;
	}
	for (;;) {
		int best = 0;

		for (int e = 1; e <= KB_ERRNO_MAX; e++)
			if (pos[e] && (!best || pos[e] < pos[best]))
				best = e;
		if (!best)
			break;
		add_errno(q, best, q->text + pos[best] - 1, strlen(strerror(best)));
		pos[best] = 0;
	}
}

/* Take a process name unless one was found already; a name from free text
 * (checked) must not be a stopword or an errno, a comm the kernel wrote is
 * taken as it is. */
static void take_name(struct query *q, const char *s, size_t len, bool checked)
{
	struct suggest_result *r = q->res;

	while (len && (s[len - 1] == '.' || s[len - 1] == '-' || s[len - 1] == ':'))
		len--;
	if (r->process[0] || len == 0 || isdigit((unsigned char)s[0]))
		return;
	if (checked && (in_list(q->kb->stopwords, q->kb->nstopwords, s, len) || kb_errno_by_name(s, len)))
		return;
	/* the kernel keeps the first 15 bytes of a name; -n matches what it keeps */
	if (len > SUGGEST_COMM_MAX)
		len = SUGGEST_COMM_MAX;
	memcpy(r->process, s, len);
	r->process[len] = '\0';
}

static long group_number(pcre2_code *re, pcre2_match_data *md, const char *subject, const char *name, const char **s,
			 size_t *len)
{
	int n = pcre2_substring_number_from_name(re, (PCRE2_SPTR)name);
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);

	if (n < 0 || ov[2 * n] == PCRE2_UNSET)
		return -1;
	*s = subject + ov[2 * n];
	*len = ov[2 * n + 1] - ov[2 * n];
	if (strcmp(name, "name") == 0 || strcmp(name, "comm") == 0)
		return 0;
	return *len > 0 && *len < 9 ? strtol(*s, NULL, 10) : -1;
}

/* Run every extract pattern over the whole text, every match of each. */
static void find_extracts(struct query *q)
{
	struct suggest_result *r = q->res;
	size_t tlen = strlen(q->text);

	for (int i = 0; i < q->kb->nextract; i++) {
		pcre2_code *re = q->kb->extract[i].re;
		PCRE2_SIZE start = 0;

		while (start <= tlen && pcre2_match(re, (PCRE2_SPTR)q->text, tlen, start, 0, q->md, q->mc) >= 0) {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(q->md);
			const char *s;
			size_t len;
			long v;

			v = group_number(re, q->md, q->text, "pid", &s, &len);
			if (v > 0 && v <= PID_MAX && !r->pid)
				r->pid = (int)v;
			v = group_number(re, q->md, q->text, "errno", &s, &len);
			if (v > 0)
				add_errno(q, (int)v, q->text + ov[0], ov[1] - ov[0]);
			if (group_number(re, q->md, q->text, "comm", &s, &len) == 0)
				take_name(q, s, len, false);
			if (group_number(re, q->md, q->text, "name", &s, &len) == 0)
				take_name(q, s, len, true);
			start = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
		}
	}
	/* a well-known program named anywhere, first in the text first; an
	 * entry NAME=COMM is carried as its comm (postgresql runs as postgres) */
	if (!r->process[0]) {
		const char *first = NULL, *comm = NULL;

		for (int i = 0; i < q->kb->nprocs; i++) {
			const char *e = q->kb->procs[i], *eq = strchr(e, '=');
			char name[KB_MAX_WORD + 1];
			const char *at;

			snprintf(name, sizeof(name), "%.*s", (int)(eq ? eq - e : (ptrdiff_t)strlen(e)), e);
			at = find_word(q->lower, name);
			if (at && (!first || at < first)) {
				first = at;
				comm = eq ? eq + 1 : e;
			}
		}
		if (comm)
			take_name(q, comm, strlen(comm), false);
	}
}

/* Many syscall names are English words ("times", "pause", "select"): a
 * bare word counts as a syscall only when it cannot be one (a digit or '_'
 * in it: getdents64, epoll_wait), when the text names an errno, or when the
 * next word says it is a call ("ioctl fails"). */
static bool syscall_context(const struct query *q, const char *name, const char *end)
{
	static const char *const next[] = { "returns", "returned", "fails", "failed", "failing", "syscall", "call",
					    "calls",   "is",	   "takes", "took",   "errors",	 "hangs",   "blocks" };

	for (const char *c = name; c < end; c++)
		if (isdigit((unsigned char)*c) || *c == '_')
			return true;
	if (q->res->nerrnos)
		return true;
	end += strspn(end, " ");
	for (size_t i = 0; i < sizeof(next) / sizeof(next[0]); i++) {
		size_t n = strlen(next[i]);

		if (strncmp(end, next[i], n) == 0 && !is_word_byte((unsigned char)end[n]))
			return true;
	}
	return false;
}

/* A syscall the text names: written as a call ("ioctl()"), with its
 * kernel prefix (sys_ioctl), or as a word that is no ordinary word of the
 * knowledge base ("getdents64"). A call or a prefix wins over a bare word. */
static void find_syscall(struct query *q, const struct lower_env *env)
{
	const char *p = q->lower, *weak = NULL;

	if (!env || !env->tracefs || !env->tracefs[0])
		return;
	while (*p) {
		const char *s = p, *name;
		size_t len;
		bool strong;
		char buf[SYSCALLS_NAME_MAX];

		if (!(isalpha((unsigned char)*p) || *p == '_')) {
			p++;
			continue;
		}
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		if (s > q->lower && is_word_byte((unsigned char)s[-1]))
			continue;
		name = s;
		if (strncmp(name, "__x64_sys_", 10) == 0)
			name += 10;
		else if (strncmp(name, "sys_", 4) == 0)
			name += 4;
		len = (size_t)(p - name);
		strong = name != s || p[strspn(p, " ")] == '(';
		if (len < 3 || len >= sizeof(buf))
			continue;
		if (!strong &&
		    (len < 4 || weak || kb_has_word(q->kb, name, len) ||
		     in_list(q->kb->stopwords, q->kb->nstopwords, name, len) || !syscall_context(q, name, p)))
			continue;
		memcpy(buf, name, len);
		buf[len] = '\0';
		if (!syscalls_exists(env->tracefs, buf)) {
			const char *rep = syscalls_replacement(env->tracefs, buf);

			if (!rep)
				continue;
			snprintf(buf, sizeof(buf), "%s", rep);
		}
		if (strong || !weak) {
			snprintf(q->res->syscall, sizeof(q->res->syscall), "%s", buf);
			snprintf(q->syscall_word, sizeof(q->syscall_word), "%.*s", (int)(p - s),
				 q->text + (s - q->lower));
			weak = s;
		}
		if (strong)
			return;
	}
}

/* ---- scoring ---------------------------------------------------------------------------- */

static void add_matched(struct evidence *ev, const char *s, size_t len)
{
	char w[MATCHED_LEN + 1];

	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 0)
		return;
	snprintf(w, sizeof(w), "%.*s", (int)(len > MATCHED_LEN ? MATCHED_LEN : len), s);
	for (int i = 0; i < ev->nwords; i++) {
		if (strcasestr(ev->words[i], w))
			return;
		if (strcasestr(w, ev->words[i])) {
			memcpy(ev->words[i], w, sizeof(w));
			return;
		}
	}
	if (ev->nwords < MATCHED_MAX)
		memcpy(ev->words[ev->nwords++], w, sizeof(w));
}

static bool pattern_hit(struct query *q, pcre2_code *re, const char *subject, struct evidence *ev)
{
	PCRE2_SIZE *ov;

	if (!subject || pcre2_match(re, (PCRE2_SPTR)subject, strlen(subject), 0, 0, q->md, q->mc) < 0)
		return false;
	ov = pcre2_get_ovector_pointer(q->md);
	add_matched(ev, subject + ov[0], ov[1] - ov[0]);
	return true;
}

static void score_family(struct query *q, const struct kb_family *f, struct evidence *ev)
{
	double miss = 1.0;

	memset(ev, 0, sizeof(*ev));
	for (int i = 0; i < f->npatterns; i++) {
		if (pattern_hit(q, f->patterns[i].re, q->text, ev))
			miss *= 1.0 - f->patterns[i].weight;
		else if (pattern_hit(q, f->patterns[i].re, q->fixed, ev))
			miss *= 1.0 - f->patterns[i].weight * FIXED_WEIGHT;
	}
	for (int i = 0; i < q->res->nerrnos; i++) {
		bool listed = false;

		for (int j = 0; j < f->nerrnos; j++)
			listed |= f->errnos[j] == q->res->errnos[i];
		if (listed || f->errno_any) {
			miss *= 1.0 - f->errno_weight;
			add_matched(ev, q->errno_words[i], strlen(q->errno_words[i]));
			break;
		}
	}
	if (f->syscall_weight > 0 && q->res->syscall[0]) {
		miss *= 1.0 - f->syscall_weight;
		add_matched(ev, q->syscall_word, strlen(q->syscall_word));
	}
	ev->score = 1.0 - miss;
}

/* The errno a family's {errno} stands for: the first the text names that the
 * family lists, else the family's first, else the first the text names. */
static int family_errno(const struct query *q, const struct kb_family *f)
{
	for (int i = 0; i < q->res->nerrnos; i++)
		for (int j = 0; j < f->nerrnos; j++)
			if (f->errnos[j] == q->res->errnos[i])
				return f->errnos[j];
	if (f->nerrnos)
		return f->errnos[0];
	return q->res->nerrnos ? q->res->errnos[0] : 0;
}

/* ---- targets ----------------------------------------------------------------------------- */

int suggest_target(const char *spec, const struct lower_env *env, char *target, size_t tsize, const char **type,
		   char *library, size_t lsize, char *why, size_t wsize)
{
	static const char *const types[] = {
		[LK_SYSCALL] = "syscall", [LK_TRACEPOINT] = "tracepoint", [LK_KPROBE] = "kprobe",
		[LK_KFUNC] = "kfunc",	  [LK_UPROBE] = "uprobe",	  [LK_USDT] = "usdt",
	};
	struct trace_spec *s = NULL;
	struct lowered *lw = calloc(1, sizeof(*lw));
	struct spec_error se;
	int rc;

	library[0] = '\0';
	if (!lw)
		return -ENOMEM;
	rc = spec_parse(spec, &s, &se);
	if (rc == 0)
		rc = lower_spec(s, env, lw, &se);
	if (rc == 0) {
		/* a spec that lowers can still fail to generate (arguments asked
		 * of a uprobe's return): offer only what `trace` would run */
		struct codegen_result cg = { 0 };
		struct trace_opts o;
		int bad;

		trace_opts_init(&o);
		rc = codegen_emit(&s, 1, &o, env, &cg, &se, &bad);
		codegen_release(&cg);
		trace_opts_release(&o);
	}
	if (rc < 0) {
		snprintf(why, wsize, "%s", rc == -ENOMEM ? "out of memory" : se.msg);
	} else {
		*type = types[lw->kind];
		if (lw->kind == LK_TRACEPOINT || lw->kind == LK_USDT)
			snprintf(target, tsize, "%s:%s", lw->category, lw->name);
		else
			snprintf(target, tsize, "%s", lw->name);
		if (lw->kind == LK_UPROBE || lw->kind == LK_USDT)
			snprintf(library, lsize, "%s", lw->path);
	}
	spec_free(s);
	free(lw);
	return rc;
}

/* ---- building the answer --------------------------------------------------------------------- */

static char *reason_text(const struct query *q, const struct kb_family *f, const struct evidence *ev,
			 const struct kb_suggestion *ks, const struct kb_vars *vars, const char *instead_of,
			 const char *why)
{
	struct strbuf sb = STRBUF_INIT(4096);

	if (ev) {
		strbuf_puts(&sb, "matched ");
		for (int i = 0; i < ev->nwords; i++) {
			strbuf_addf(&sb, "%s'%s'", i ? ", " : "", ev->words[i]);
			for (int j = 0; j < q->res->nfixes; j++)
				if (strcasestr(ev->words[i], q->res->fixes[j].to))
					strbuf_addf(&sb, " (read '%s' as '%s')", q->res->fixes[j].from,
						    q->res->fixes[j].to);
		}
		strbuf_addf(&sb, " [%s]: ", f->title);
	} else {
		strbuf_addf(&sb, "no symptom matched; a general starting point [%s]: ", f->title);
	}
	if (kb_fill(ks->reason, vars, &sb) == -EINVAL)
		strbuf_puts(&sb, ks->reason);
	if (instead_of)
		strbuf_addf(&sb, " (the better '%s' cannot attach here: %s)", instead_of, why);
	if (sb.err) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

static int add_unavailable(struct suggest_result *r, const struct kb_family *f, const char *spec, const char *why)
{
	struct suggest_unavailable *nu;

	for (int i = 0; i < r->nunavail; i++)
		if (strcmp(r->unavail[i].spec, spec) == 0)
			return 0;
	nu = realloc(r->unavail, (size_t)(r->nunavail + 1) * sizeof(*nu));
	if (!nu)
		return -ENOMEM;
	r->unavail = nu;
	nu += r->nunavail;
	nu->fam = f;
	nu->spec = strdup(spec);
	nu->why = strdup(why);
	if (!nu->spec || !nu->why) {
		free(nu->spec);
		free(nu->why);
		return -ENOMEM;
	}
	r->nunavail++;
	return 0;
}

static void item_release(struct suggest_item *it)
{
	free(it->spec);
	free(it->target);
	free(it->library);
	free(it->reason);
	free(it->instead_of);
	free(it->instead_why);
	free(it->process);
	memset(it, 0, sizeof(*it));
}

/* Offer suggestion ks of family f at score: fill it, find what attaches
 * here, carry the PID or name. Returns 0 (offered, or left out because it
 * cannot be filled or attached) or -ENOMEM. */
static int offer(struct query *q, const struct lower_env *env, const struct kb_family *f,
		 const struct kb_suggestion *ks, const struct evidence *ev, double score)
{
	struct suggest_result *r = q->res;
	struct suggest_item it = { .fam = f, .score = score };
	char target[2 * SYSCALLS_NAME_MAX + 2], lib[PATH_MAX], why[256], first_why[256] = "";
	const char *type = NULL;
	struct kb_vars vars = { family_errno(q, f), r->syscall[0] ? r->syscall : NULL };
	int rc = 0;

	for (int k = -1; k < ks->ninstead && !it.spec; k++) {
		struct strbuf sb = STRBUF_INIT(SPEC_MAX_LEN);
		const char *tmpl = k < 0 ? ks->spec : ks->instead[k];

		if (!kb_fillable(tmpl, &vars))
			continue;
		rc = kb_fill(tmpl, &vars, &sb);
		if (rc == 0)
			rc = suggest_target(strbuf_str(&sb), env, target, sizeof(target), &type, lib, sizeof(lib), why,
					    sizeof(why));
		if (rc == -ENOMEM) {
			strbuf_release(&sb);
			goto nomem;
		}
		if (rc == 0) {
			it.spec = strbuf_detach(&sb, NULL);
		} else if (k < 0 && sb.len) {
			snprintf(first_why, sizeof(first_why), "%s", why);
			it.instead_of = strbuf_detach(&sb, NULL);
		}
		strbuf_release(&sb);
	}
	if (!it.spec) {
		rc = it.instead_of ? add_unavailable(r, f, it.instead_of, first_why) : 0;
		item_release(&it);
		return rc;
	}
	if (it.instead_of) {
		it.instead_why = strdup(first_why);
		if (!it.instead_why)
			goto nomem;
	}
	/* the same spec from two families: keep the better offer */
	for (int i = 0; i < r->nitems; i++) {
		if (strcmp(r->items[i].spec, it.spec) == 0) {
			item_release(&it);
			return 0;
		}
	}
	if (f->carry == KB_CARRY_PID && r->pid)
		it.pid = r->pid;
	else if (f->carry != KB_CARRY_NONE && r->process[0] && !(it.process = strdup(r->process)))
		goto nomem;
	it.target = strdup(target);
	it.library = lib[0] ? strdup(lib) : NULL;
	it.target_type = type;
	it.reason = reason_text(q, f, ev, ks, &vars, it.instead_of, first_why);
	if (!it.target || (lib[0] && !it.library) || !it.reason)
		goto nomem;
	if (r->nitems < SUGGEST_MAX_ITEMS * 4) {
		struct suggest_item *ni = realloc(r->items, (size_t)(r->nitems + 1) * sizeof(*ni));

		if (!ni)
			goto nomem;
		r->items = ni;
		r->items[r->nitems++] = it;
		return 0;
	}
	item_release(&it);
	return 0;
nomem:
	item_release(&it);
	return -ENOMEM;
}

struct ranked {
	const struct kb_family *f;
	int order; /* the family's place in the knowledge base */
	struct evidence ev;
};

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->ev.score != y->ev.score)
		return x->ev.score > y->ev.score ? -1 : 1;
	return x->order - y->order;
}

static int cmp_starters(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	return x->f->starter != y->f->starter ? x->f->starter - y->f->starter : x->order - y->order;
}

/* Rank by score, but each repeat of a target already ranked counts 0.8 of
 * its score per repeat, so three specs of one syscall do not push every
 * other target out of the top places; the score shown is the one ranked
 * by. Selection is stable: equal scores keep the order they were offered
 * in (the families' rank, then the knowledge base's order). */
static void rank_items(struct suggest_item *items, int n)
{
	for (int i = 0; i < n; i++) {
		int best = -1;
		double best_score = -1;

		for (int j = i; j < n; j++) {
			double sc = items[j].score;

			for (int k = 0; k < i; k++)
				if (strcmp(items[k].target, items[j].target) == 0)
					sc *= 0.8;
			if (sc > best_score) {
				best_score = sc;
				best = j;
			}
		}
		{
			struct suggest_item v = items[best];

			memmove(&items[i + 1], &items[i], (size_t)(best - i) * sizeof(*items));
			items[i] = v;
			items[i].score = best_score;
		}
	}
}

static int answer(struct query *q, const struct lower_env *env, int max)
{
	const struct kb *kb = q->kb;
	struct ranked *rk = calloc((size_t)kb->nfam, sizeof(*rk));
	int n = 0, rc = 0;

	if (!rk)
		return -ENOMEM;
	for (int i = 0; i < kb->nfam; i++) {
		rk[n].f = &kb->fam[i];
		rk[n].order = i;
		score_family(q, &kb->fam[i], &rk[n].ev);
		if (rk[n].ev.score >= kb->threshold)
			n++;
	}
	q->res->matched = n > 0;
	qsort(rk, (size_t)n, sizeof(*rk), cmp_ranked);
	for (int i = 0; i < n && rc == 0; i++)
		for (int j = 0; j < rk[i].f->nsugg && rc == 0; j++)
			rc = offer(q, env, rk[i].f, &rk[i].f->sugg[j], &rk[i].ev,
				   rk[i].ev.score * rk[i].f->sugg[j].factor);
	if (rc == 0 && n == 0) {
		for (int i = 0; i < kb->nfam; i++) {
			if (kb->fam[i].starter) {
				rk[n].f = &kb->fam[i];
				rk[n++].order = i;
			}
		}
		qsort(rk, (size_t)n, sizeof(*rk), cmp_starters);
		for (int i = 0; i < n && rc == 0 && q->res->nitems < max; i++)
			rc = offer(q, env, rk[i].f, &rk[i].f->sugg[0], NULL, 0.0);
	}
	free(rk);
	if (rc)
		return rc;
	rank_items(q->res->items, q->res->nitems);
	while (q->res->nitems > max)
		item_release(&q->res->items[--q->res->nitems]);
	return 0;
}

int suggest_query(const struct kb *kb, const char *text, const struct lower_env *env, int max,
		  struct suggest_result *out, char *err, size_t size)
{
	struct query q = { .kb = kb, .text = text, .res = out };
	size_t len = strlen(text);
	int rc = -ENOMEM;

	memset(out, 0, sizeof(*out));
	if (max < 1 || max > SUGGEST_MAX_ITEMS) {
		snprintf(err, size, "at most %d suggestions can be asked for, and at least 1", SUGGEST_MAX_ITEMS);
		return -EINVAL;
	}
	if (len > SUGGEST_MAX_TEXT) {
		snprintf(err, size, "the text is %zu bytes; at most %d are read: quote the key line", len,
			 SUGGEST_MAX_TEXT);
		return -E2BIG;
	}
	if (strspn(text, " \t\r\n") == len) {
		snprintf(err, size, "nothing to read: describe the symptom, e.g. \"file not found error\"");
		return -EINVAL;
	}
	q.lower = strdup(text);
	q.md = pcre2_match_data_create(32, NULL);
	q.mc = pcre2_match_context_create(NULL);
	if (!q.lower || !q.md || !q.mc)
		goto out;
	pcre2_set_match_limit(q.mc, MATCH_LIMIT);
	for (char *c = q.lower; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	rc = fix_typos(&q);
	if (rc)
		goto out;
	find_errno_names(&q);
	find_extracts(&q);
	find_syscall(&q, env);
	rc = answer(&q, env, max);
out:
	ktypes_release();
	dwtypes_release();
	free(q.lower);
	free(q.fixed);
	pcre2_match_data_free(q.md);
	pcre2_match_context_free(q.mc);
	if (rc) {
		suggest_release(out);
		snprintf(err, size, "out of memory");
	}
	return rc;
}

void suggest_release(struct suggest_result *r)
{
	for (int i = 0; i < r->nitems; i++)
		item_release(&r->items[i]);
	free(r->items);
	for (int i = 0; i < r->nunavail; i++) {
		free(r->unavail[i].spec);
		free(r->unavail[i].why);
	}
	free(r->unavail);
	memset(r, 0, sizeof(*r));
}

/* ---- the command line to run a suggestion ---------------------------------------------------------- */

int suggest_command(const struct suggest_item *item, struct strbuf *out)
{
	strbuf_puts(out, "diagagent trace ");
	if (item->pid)
		strbuf_addf(out, "-p %d ", item->pid);
	else if (item->process) {
		strbuf_puts(out, "-n ");
		strbuf_shell_quote(out, item->process);
		strbuf_putc(out, ' ');
	}
	strbuf_shell_quote(out, item->spec);
	return out->err;
}

/* config.c - agent.conf: defaults, the file, DIAGAGENT_<KEY> overrides, checks.
 *
 * One table describes every key (type, field, range, default); the file
 * parser, the environment, the range checks and config_print() all walk it.
 * Loading goes: the file (read whole, at most CONFIG_MAX_FILE bytes, lines of
 * at most CONFIG_MAX_LINE), then the environment, then the checks that need
 * every key (agent_id from the host name, client_cert with client_key,
 * plain http), then the command_allow patterns are compiled.
 */
#include "agent/config.h"

#include "tracespec/editdist.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#define CONFIG_MAX_FILE	 (1024 * 1024) /* agent.conf is read whole, up to this */
#define CONFIG_MAX_VALUE 2000	       /* one value; quoted and escaped it still fits a line */
#define TOKEN_MAX	 4096	       /* the token file is read up to this */
#define AGENT_ID_MAX	 128
#define MATCH_LIMIT	 1000000 /* pcre2 backtracking steps per command and pattern */
#define KEY_HINT_MAX	 64	 /* unknown keys longer than this get no "did you mean" */

/* ---- the key table ----------------------------------------------------------------- */

enum key_type {
	K_URL,	   /* server_url */
	K_ID,	   /* agent_id */
	K_PATH,	   /* a path that must be set */
	K_OPTPATH, /* a path; empty: unset (NULL) */
	K_SECONDS, /* integer seconds, suffix s, m or h */
	K_COUNT,   /* plain integer */
	K_SIZE,	   /* integer bytes, suffix K, M or G (KiB, MiB, GiB) */
	K_BOOL,
	K_LEVEL,   /* log_level */
	K_PATTERN, /* command_allow, repeatable */
};

enum key_width { W_NONE, W_INT, W_LONG, W_LLONG };

struct key {
	const char *name;
	enum key_type type;
	enum key_width width; /* for numbers: the C type of the field */
	size_t off;	      /* offsetof(struct config, field) */
	long long min, max;   /* numbers */
	long long def;	      /* numbers, booleans, log_level */
	const char *def_str;  /* strings (NULL: unset) */
	const char *section;  /* a banner before this key in config_print() */
};

#define FIELD(f) offsetof(struct config, f)
#define STR(n, t, f, d, sec) \
	{ \
		n, t, W_NONE, FIELD(f), 0, 0, 0, d, sec \
	}
#define NUM(n, t, w, f, lo, hi, d, sec) \
	{ \
		n, t, w, FIELD(f), lo, hi, d, NULL, sec \
	}
#define FLAG(n, t, f, d, sec) \
	{ \
		n, t, W_NONE, FIELD(f), 0, 0, d, NULL, sec \
	}

#define KiB 1024LL
#define MiB (1024LL * KiB)
#define GiB (1024LL * MiB)
#define TiB (1024LL * GiB)

static const struct key keys[] = {
	STR("server_url", K_URL, server_url, "http://127.0.0.1:8080", "control API"),
	STR("agent_id", K_ID, agent_id, NULL, NULL),
	STR("token_file", K_PATH, token_file, "/etc/diagagent/token", NULL),
	STR("ca_file", K_OPTPATH, ca_file, NULL, NULL),
	STR("client_cert", K_OPTPATH, client_cert, NULL, NULL),
	STR("client_key", K_OPTPATH, client_key, NULL, NULL),
	NUM("poll_interval", K_SECONDS, W_INT, poll_interval, 1, 86400, 10, "timing (seconds)"),
	NUM("heartbeat_interval", K_SECONDS, W_INT, heartbeat_interval, 1, 86400, 60, NULL),
	NUM("max_backoff", K_SECONDS, W_INT, max_backoff, 1, 86400, 300, NULL),
	NUM("http_timeout", K_SECONDS, W_INT, http_timeout, 1, 3600, 15, NULL),
	NUM("connect_timeout", K_SECONDS, W_INT, connect_timeout, 1, 3600, 5, NULL),
	NUM("kill_grace", K_SECONDS, W_INT, kill_grace, 1, 300, 5, NULL),
	NUM("shutdown_grace", K_SECONDS, W_INT, shutdown_grace, 0, 3600, 10, NULL),
	STR("spool_dir", K_PATH, spool_dir, "/var/lib/diagagent", "state"),
	NUM("outbox_max_results", K_COUNT, W_LONG, outbox_max_results, 1, 10000000, 10000, NULL),
	NUM("outbox_max_bytes", K_SIZE, W_LLONG, outbox_max_bytes, MiB, TiB, 256 * MiB, NULL),
	NUM("results_batch", K_COUNT, W_INT, results_batch, 1, 10000, 50, NULL),
	NUM("results_batch_bytes", K_SIZE, W_LLONG, results_batch_bytes, 64 * KiB, GiB, 4 * MiB, NULL),
	NUM("max_concurrent_jobs", K_COUNT, W_INT, max_concurrent_jobs, 1, 64, 4, "limits"),
	NUM("max_queued_jobs", K_COUNT, W_INT, max_queued_jobs, 1, 100000, 1000, NULL),
	NUM("max_trace_duration", K_SECONDS, W_INT, max_trace_duration, 1, 86400, 600, NULL),
	NUM("max_command_timeout", K_SECONDS, W_INT, max_command_timeout, 1, 86400, 300, NULL),
	NUM("max_events", K_COUNT, W_LONG, max_events, 1, 10000000, 10000, NULL),
	NUM("max_output_bytes", K_SIZE, W_LONG, max_output_bytes, KiB, 64 * MiB, 64 * KiB, NULL),
	FLAG("allow_commands", K_BOOL, allow_commands, 0, "what remote jobs may do"),
	STR("command_allow", K_PATTERN, command_allow, NULL, NULL),
	FLAG("allow_raw_programs", K_BOOL, allow_raw_programs, 0, NULL),
	FLAG("log_level", K_LEVEL, log_level, LOG_INFO, "logging"),
};

#define NKEYS ((int)(sizeof(keys) / sizeof(keys[0])))

static const char *const level_names[] = { "error", "warn", "info", "debug" };

const char *config_log_level_name(enum log_level l)
{
	return (unsigned)l < sizeof(level_names) / sizeof(level_names[0]) ? level_names[l] : "?";
}

static char **str_field(struct config *c, const struct key *k)
{
	return (char **)((char *)c + k->off);
}

static const char *str_value(const struct config *c, const struct key *k)
{
	return *(char *const *)((const char *)c + k->off);
}

static void num_store(struct config *c, const struct key *k, long long v)
{
	char *p = (char *)c + k->off;

	if (k->width == W_INT)
		*(int *)p = (int)v;
	else if (k->width == W_LONG)
		*(long *)p = (long)v;
	else
		*(long long *)p = v;
}

static long long num_value(const struct config *c, const struct key *k)
{
	const char *p = (const char *)c + k->off;

	if (k->width == W_INT)
		return *(const int *)p;
	if (k->width == W_LONG)
		return *(const long *)p;
	return *(const long long *)p;
}

static int key_index(const char *name)
{
	for (int i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return i;
	return -1;
}

/* ---- errors ------------------------------------------------------------------------ */

enum key_source { SRC_DEFAULT, SRC_FILE, SRC_ENV };

/* State of one load: where each key was set, for messages. */
struct loader {
	struct config *c;
	const char *name; /* the file name in messages */
	struct config_error *err;
	enum key_source src[NKEYS];
	int line[NKEYS];		   /* SRC_FILE: the line */
	int pat_line[CONFIG_MAX_PATTERNS]; /* each pattern's line (in the file or the variable) */
	bool pat_env;			   /* the patterns came from DIAGAGENT_COMMAND_ALLOW */
};

__attribute__((format(printf, 4, 5))) static int fail(struct config_error *err, int rc, const char *hint,
						      const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return rc;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	snprintf(err->hint, sizeof(err->hint), "%s", hint ? hint : "");
	return rc;
}

static int fail_nomem(struct config_error *err)
{
	return fail(err, -ENOMEM, NULL, "out of memory");
}

static void env_name(const struct key *k, char *buf, size_t size)
{
	size_t n = snprintf(buf, size, "DIAGAGENT_");

	for (const char *s = k->name; *s && n + 1 < size; s++)
		buf[n++] = (char)toupper((unsigned char)*s);
	buf[n < size ? n : size - 1] = '\0';
}

/* Where key i was set: "FILE:LINE", "DIAGAGENT_KEY" or "KEY" (a default). */
static void key_where(const struct loader *l, int i, char *buf, size_t size)
{
	if (l->src[i] == SRC_FILE)
		snprintf(buf, size, "%s:%d", l->name, l->line[i]);
	else if (l->src[i] == SRC_ENV)
		env_name(&keys[i], buf, size);
	else
		snprintf(buf, size, "%s", keys[i].name);
}

/* "did you mean 'poll_interval'?" for a near miss, else a pointer to agent.conf. */
static void unknown_key_hint(const char *name, char *hint, size_t size)
{
	char low[KEY_HINT_MAX + 1];
	size_t n = strlen(name);
	int best = -1, best_d = 3;

	if (n <= KEY_HINT_MAX) {
		for (size_t i = 0; i <= n; i++)
			low[i] = (char)tolower((unsigned char)name[i]);
		for (int i = 0; i < NKEYS; i++) {
			int d = editdist(low, strlen(low), keys[i].name, strlen(keys[i].name), best_d);

			if (d < best_d) {
				best_d = d;
				best = i;
			}
		}
		for (int i = 0; i < NKEYS && best < 0; i++) {
			size_t kl = strlen(keys[i].name);

			if ((n >= 3 && strncmp(keys[i].name, low, n) == 0) ||
			    (n > kl && strncmp(keys[i].name, low, kl) == 0 && !isalnum((unsigned char)low[kl])))
				best = i;
		}
	}
	if (best >= 0)
		snprintf(hint, size, "did you mean '%s'?", keys[best].name);
	else
		snprintf(hint, size, "see agent.conf for the keys");
}

/* ---- values ------------------------------------------------------------------------ */

static bool is_blank(int ch)
{
	return ch == ' ' || ch == '\t';
}

static bool id_char(int ch)
{
	return isalnum(ch) || ch == '.' || ch == '_' || ch == '-';
}

static bool agent_id_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > AGENT_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!id_char((unsigned char)s[i]))
			return false;
	return true;
}

/* A size or a range bound with the largest exact suffix: 1048576 -> "1M". */
static void format_size(long long v, char *buf, size_t size)
{
	if (v >= GiB && v % GiB == 0)
		snprintf(buf, size, "%lldG", v / GiB);
	else if (v >= MiB && v % MiB == 0)
		snprintf(buf, size, "%lldM", v / MiB);
	else if (v >= KiB && v % KiB == 0)
		snprintf(buf, size, "%lldK", v / KiB);
	else
		snprintf(buf, size, "%lld", v);
}

/* What a key takes, for "bad value" messages: "seconds (1..86400)". */
static void key_expect(const struct key *k, char *buf, size_t size, const char **hint)
{
	char lo[32], hi[32];

	*hint = NULL;
	switch (k->type) {
	case K_SECONDS:
		snprintf(buf, size, "seconds (%lld..%lld)", k->min, k->max);
		*hint = "a whole number of seconds; the suffix s, m or h is accepted (90, 90s, 15m, 2h)";
		break;
	case K_COUNT:
		snprintf(buf, size, "a number (%lld..%lld)", k->min, k->max);
		*hint = "a whole decimal number";
		break;
	case K_SIZE:
		format_size(k->min, lo, sizeof(lo));
		format_size(k->max, hi, sizeof(hi));
		snprintf(buf, size, "bytes (%s..%s)", lo, hi);
		*hint = "a whole number of bytes; the suffix K, M or G (also KiB, MiB, GiB; powers of 1024) is "
			"accepted";
		break;
	case K_BOOL:
		snprintf(buf, size, "true or false (also yes/no, on/off, 1/0)");
		break;
	case K_LEVEL:
		snprintf(buf, size, "error, warn, info or debug");
		break;
	case K_URL:
		snprintf(buf, size, "http:// or https:// and a host (https://HOST[:PORT][/PATH])");
		break;
	case K_ID:
		snprintf(buf, size, "1..%d characters of A-Z a-z 0-9 . _ -", AGENT_ID_MAX);
		*hint = "the default is the host name";
		break;
	case K_PATH:
	case K_OPTPATH:
	case K_PATTERN:
		snprintf(buf, size, "a value");
		break;
	}
}

/* True when a URL's authority holds "user@" or "user:password@". */
static bool url_has_credentials(const char *v)
{
	const char *a = strstr(v, "://");

	a = a ? a + 3 : v;
	return memchr(a, '@', strcspn(a, "/?#")) != NULL;
}

static int bad_value(struct loader *l, const struct key *k, const char *where, const char *v)
{
	char expect[128];
	const char *hint;

	key_expect(k, expect, sizeof(expect), &hint);
	return fail(l->err, -EINVAL, hint, "%s: bad value '%.64s%s' for %s: expected %s", where, v,
		    strlen(v) > 64 ? "..." : "", k->name, expect);
}

/* Digits with an optional suffix into bytes or seconds; -ERANGE on overflow. */
static int parse_number(const char *s, enum key_type type, long long *out)
{
	unsigned long long v = 0, mult = 1;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	/* NOLINTNEXTLINE(clang-analyzer-core.uninitialized.ArraySubscript): isdigit('\0') is false, so p stops at the NUL */
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (ULLONG_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (*p && type == K_SECONDS) {
		if (strcmp(p, "s") == 0)
			mult = 1;
		else if (strcmp(p, "m") == 0)
			mult = 60;
		else if (strcmp(p, "h") == 0)
			mult = 3600;
		else
			return -EINVAL;
	} else if (*p && type == K_SIZE) {
		char u = (char)toupper((unsigned char)*p);

		if (u == 'K')
			mult = KiB;
		else if (u == 'M')
			mult = MiB;
		else if (u == 'G')
			mult = GiB;
		else
			return -EINVAL;
		if (p[1] && strcmp(p + 1, "iB") != 0)
			return -EINVAL;
	} else if (*p) {
		return -EINVAL;
	}
	if (v > (unsigned long long)LLONG_MAX / mult)
		return -ERANGE;
	*out = (long long)(v * mult);
	return 0;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* The host of an http(s) URL: "example.com", "[::1]" (brackets dropped). */
struct url_parts {
	bool https;
	char host[256];
};

static int url_parse(const char *s, struct url_parts *u)
{
	const char *a, *end, *host, *host_end, *port = NULL;
	size_t n;

	if (strncasecmp(s, "https://", 8) == 0) {
		u->https = true;
		a = s + 8;
	} else if (strncasecmp(s, "http://", 7) == 0) {
		u->https = false;
		a = s + 7;
	} else {
		return -EINVAL;
	}
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '?' || *p == '#' || *p == 0x7f)
			return -EINVAL;
	end = a + strcspn(a, "/");
	if (memchr(a, '@', end - a))
		return -EINVAL; /* credentials belong in token_file */
	if (*a == '[') {
		host = a + 1;
		host_end = memchr(host, ']', end - host);
		if (!host_end)
			return -EINVAL;
		if (host_end + 1 < end) {
			if (host_end[1] != ':')
				return -EINVAL;
			port = host_end + 2;
		}
	} else {
		host = a;
		host_end = memchr(a, ':', end - a);
		if (host_end)
			port = host_end + 1;
		else
			host_end = end;
		for (const char *p = host; p < host_end; p++)
			if (!id_char((unsigned char)*p))
				return -EINVAL;
	}
	n = host_end - host;
	if (n == 0 || n >= sizeof(u->host))
		return -EINVAL;
	memcpy(u->host, host, n);
	u->host[n] = '\0';
	if (port) {
		long v = 0;

		if (port == end)
			return -EINVAL;
		for (const char *p = port; p < end; p++) {
			if (!isdigit((unsigned char)*p) || v > 65535)
				return -EINVAL;
			v = v * 10 + (*p - '0');
		}
		if (v < 1 || v > 65535)
			return -EINVAL;
	}
	return 0;
}

static bool host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.") == 0)
		return true;
	if (n > 10 && strcasecmp(host + n - 10, ".localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return false;
}

static int set_string(char **dst, const char *v)
{
	char *s = strdup(v);

	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

static void patterns_free(struct config *c)
{
	for (int i = 0; i < c->ncommand_allow; i++) {
		free(c->command_allow[i]);
		if (c->command_re)
			pcre2_code_free(c->command_re[i]);
	}
	free(c->command_allow);
	free(c->command_re);
	c->command_allow = NULL;
	c->command_re = NULL;
	c->ncommand_allow = 0;
}

static int pattern_add(struct loader *l, const char *where, const char *v, int line)
{
	struct config *c = l->c;
	char **list;

	if (c->ncommand_allow >= CONFIG_MAX_PATTERNS)
		return fail(l->err, -EINVAL, "join patterns with '|'", "%s: more than %d command_allow patterns", where,
			    CONFIG_MAX_PATTERNS);
	if (!*v)
		return fail(l->err, -EINVAL, "remove the line, or give a pattern that matches whole commands",
			    "%s: empty command_allow pattern", where);
	list = realloc(c->command_allow, (c->ncommand_allow + 1) * sizeof(*list));
	if (!list)
		return fail_nomem(l->err);
	c->command_allow = list;
	list[c->ncommand_allow] = strdup(v);
	if (!list[c->ncommand_allow])
		return fail_nomem(l->err);
	l->pat_line[c->ncommand_allow++] = line;
	return 0;
}

/* Check v for key i and store it; where is "FILE:LINE" or the variable. */
static int key_set(struct loader *l, int i, const char *where, const char *v, int line)
{
	const struct key *k = &keys[i];
	struct url_parts u;
	long long n;
	bool b;
	size_t len = strlen(v);

	if (len > CONFIG_MAX_VALUE)
		return fail(l->err, -EINVAL, NULL, "%s: value of %s is longer than %d bytes", where, k->name,
			    CONFIG_MAX_VALUE);
	for (size_t j = 0; j < len; j++)
		if (((unsigned char)v[j] < 0x20 && v[j] != '\t') || v[j] == 0x7f)
			return fail(l->err, -EINVAL, NULL,
				    "%s: bad value for %s: control character 0x%02x at offset %zu", where, k->name,
				    (unsigned char)v[j], j);

	switch (k->type) {
	case K_URL:
		/* Never echo a value holding credentials: they would end up in the journal. */
		if (url_has_credentials(v))
			return fail(l->err, -EINVAL, "put the token in token_file",
				    "%s: server_url must not hold credentials ('user@' or 'user:password@')", where);
		if (url_parse(v, &u) < 0)
			return bad_value(l, k, where, v);
		if (set_string(str_field(l->c, k), v) < 0)
			return fail_nomem(l->err);
		/* every trailing '/' (the host is never empty, so "scheme://" stays) */
		len = strlen(l->c->server_url);
		while (len > 0 && l->c->server_url[len - 1] == '/')
			l->c->server_url[--len] = '\0';
		return 0;
	case K_ID:
		if (!agent_id_valid(v))
			return bad_value(l, k, where, v);
		return set_string(str_field(l->c, k), v) < 0 ? fail_nomem(l->err) : 0;
	case K_PATH:
		if (!*v)
			return fail(l->err, -EINVAL, NULL, "%s: %s needs a value (default %s)", where, k->name,
				    k->def_str);
		return set_string(str_field(l->c, k), v) < 0 ? fail_nomem(l->err) : 0;
	case K_OPTPATH:
		if (!*v) {
			free(*str_field(l->c, k));
			*str_field(l->c, k) = NULL;
			return 0;
		}
		return set_string(str_field(l->c, k), v) < 0 ? fail_nomem(l->err) : 0;
	case K_SECONDS:
	case K_COUNT:
	case K_SIZE:
		if (parse_number(v, k->type, &n) < 0 || n < k->min || n > k->max)
			return bad_value(l, k, where, v);
		num_store(l->c, k, n);
		return 0;
	case K_BOOL:
		if (parse_bool(v, &b) < 0)
			return bad_value(l, k, where, v);
		*(bool *)((char *)l->c + k->off) = b;
		return 0;
	case K_LEVEL:
		for (int j = 0; j <= LOG_DEBUG; j++) {
			if (strcasecmp(v, level_names[j]) == 0) {
				l->c->log_level = (enum log_level)j;
				return 0;
			}
		}
		return bad_value(l, k, where, v);
	case K_PATTERN:
		return pattern_add(l, where, v, line);
	}
	return -EINVAL;
}

/* ---- the file ---------------------------------------------------------------------- */

/* The value after '=' in place: quotes removed (\" and \\ inside), a
 * trailing comment cut (unless the key takes patterns), blanks trimmed. */
static int value_extract(char *v, bool pattern, char **out, const char **why)
{
	char *s = v, *e;

	while (is_blank(*s))
		s++;
	if (*s == '"') {
		char *w = s, *r = s + 1;

		while (*r && *r != '"') {
			if (r[0] == '\\' && (r[1] == '"' || r[1] == '\\'))
				r++;
			*w++ = *r++;
		}
		if (*r != '"') {
			*why = "no closing '\"'";
			return -EINVAL;
		}
		r++;
		while (is_blank(*r))
			r++;
		if (*r && *r != '#') {
			*why = "text after the closing '\"'";
			return -EINVAL;
		}
		*w = '\0';
		*out = s;
		return 0;
	}
	if (!pattern) {
		for (e = v; *e; e++) {
			if (*e == '#' && e > v && is_blank(e[-1])) {
				*e = '\0';
				break;
			}
		}
	}
	e = s + strlen(s);
	while (e > s && is_blank(e[-1]))
		*--e = '\0';
	*out = s;
	return 0;
}

static int parse_line(struct loader *l, char *line, int lineno)
{
	char where[320], hint[256];
	char *p = line, *key, *val, *eq;
	const char *why = NULL;
	size_t keylen;
	int i;

	snprintf(where, sizeof(where), "%s:%d", l->name, lineno);
	while (is_blank(*p))
		p++;
	if (!*p || *p == '#')
		return 0;
	key = p;
	while (*p && !is_blank(*p) && *p != '=')
		p++;
	keylen = p - key;
	eq = p;
	while (is_blank(*eq))
		eq++;
	if (*eq != '=' || keylen == 0)
		return fail(l->err, -EINVAL, "a setting is 'key = value'; '#' starts a comment",
			    "%s: expected 'key = value'", where);
	val = eq + 1;
	key[keylen] = '\0';
	i = key_index(key);
	if (i < 0) {
		unknown_key_hint(key, hint, sizeof(hint));
		return fail(l->err, -EINVAL, hint, "%s: unknown key '%.64s%s'", where, key, keylen > 64 ? "..." : "");
	}
	if (keys[i].type != K_PATTERN && l->src[i] == SRC_FILE)
		return fail(l->err, -EINVAL, "keep one of them", "%s: %s set twice (first at line %d)", where,
			    keys[i].name, l->line[i]);
	if (value_extract(val, keys[i].type == K_PATTERN, &val, &why) < 0)
		return fail(l->err, -EINVAL,
			    "a quoted value is \"...\", with \\\" for a quote and \\\\ for a backslash",
			    "%s: bad value for %s: %s", where, keys[i].name, why);
	l->src[i] = SRC_FILE;
	l->line[i] = lineno;
	return key_set(l, i, where, val, lineno);
}

static int parse_file_text(struct loader *l, const char *text, size_t len)
{
	char line[CONFIG_MAX_LINE + 1];
	size_t pos = 0;
	int lineno = 0, rc;

	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3; /* a UTF-8 byte order mark */
	while (pos < len) {
		const char *s = text + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;

		pos += n + (nl ? 1 : 0);
		lineno++;
		/* cppcheck-suppress knownConditionTrueFalse ; an empty line ("\n\n") has n == 0 */
		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (n > CONFIG_MAX_LINE)
			return fail(l->err, -EINVAL, NULL, "%s:%d: line longer than %d bytes", l->name, lineno,
				    CONFIG_MAX_LINE);
		if (memchr(s, '\0', n))
			return fail(l->err, -EINVAL, "agent.conf is a text file", "%s:%d: NUL byte in the line",
				    l->name, lineno);
		memcpy(line, s, n);
		line[n] = '\0';
		rc = parse_line(l, line, lineno);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int read_file(const char *path, char **text, size_t *len, struct config_error *err)
{
	char *buf = NULL;
	size_t n = 0;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		return fail(err, rc, rc == -EACCES ? "run as root, or as the user the agent runs as" : NULL,
			    "cannot open '%s': %s", path, strerror(-rc));
	}
	buf = malloc(CONFIG_MAX_FILE + 1);
	if (!buf) {
		rc = fail_nomem(err);
		goto cleanup;
	}
	for (;;) {
		ssize_t r = read(fd, buf + n, CONFIG_MAX_FILE + 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			fail(err, rc, NULL, "cannot read '%s': %s", path, strerror(-rc));
			goto cleanup;
		}
		if (r == 0)
			break;
		n += r;
		if (n > CONFIG_MAX_FILE) {
			rc = fail(err, -EFBIG, NULL, "cannot read '%s': larger than %d bytes", path, CONFIG_MAX_FILE);
			goto cleanup;
		}
	}
	*text = buf;
	*len = n;
	buf = NULL;
cleanup:
	free(buf);
	close(fd);
	return rc;
}

/* ---- the environment --------------------------------------------------------------- */

static const char *env_lookup(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/* The value with blanks and line ends trimmed, in buf; -E2BIG when too long. */
static int env_trim(const char *v, size_t vlen, char *buf, size_t size)
{
	while (vlen > 0 && isspace((unsigned char)*v)) {
		v++;
		vlen--;
	}
	while (vlen > 0 && isspace((unsigned char)v[vlen - 1]))
		vlen--;
	if (vlen >= size)
		return -E2BIG;
	memcpy(buf, v, vlen);
	buf[vlen] = '\0';
	return 0;
}

static int env_patterns(struct loader *l, const char *name, const char *v)
{
	char buf[CONFIG_MAX_VALUE + 1], where[96];
	int line = 0, rc;

	patterns_free(l->c);
	l->pat_env = true;
	while (*v) {
		const char *nl = strchr(v, '\n');
		size_t n = nl ? (size_t)(nl - v) : strlen(v);

		line++;
		snprintf(where, sizeof(where), "%s (line %d)", name, line);
		if (env_trim(v, n, buf, sizeof(buf)) < 0)
			return fail(l->err, -EINVAL, NULL, "%s: value of command_allow is longer than %d bytes", where,
				    CONFIG_MAX_VALUE);
		if (*buf) {
			rc = pattern_add(l, where, buf, line);
			if (rc < 0)
				return rc;
		}
		v += n + (nl ? 1 : 0);
	}
	return 0;
}

static int apply_env(struct loader *l, char *const *envp)
{
	char name[64], buf[CONFIG_MAX_VALUE + 1];
	int rc;

	for (int i = 0; i < NKEYS; i++) {
		const char *v;

		env_name(&keys[i], name, sizeof(name));
		v = env_lookup(envp, name);
		if (!v)
			continue;
		l->src[i] = SRC_ENV;
		if (keys[i].type == K_PATTERN) {
			rc = env_patterns(l, name, v);
		} else if (env_trim(v, strlen(v), buf, sizeof(buf)) < 0) {
			rc = fail(l->err, -EINVAL, NULL, "%s: value of %s is longer than %d bytes", name, keys[i].name,
				  CONFIG_MAX_VALUE);
		} else {
			rc = key_set(l, i, name, buf, 0);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- the checks that need every key ------------------------------------------------ */

static int add_warning(struct config *c, const char *text)
{
	size_t old = c->warnings ? strlen(c->warnings) : 0, len = strlen(text);
	char *w = realloc(c->warnings, old + len + 2);

	if (!w)
		return -ENOMEM;
	if (old)
		w[old++] = '\n';
	memcpy(w + old, text, len + 1);
	c->warnings = w;
	return 0;
}

static int compile_patterns(struct loader *l)
{
	struct config *c = l->c;
	uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_DOLLAR_ENDONLY;

	if (!c->ncommand_allow)
		return 0;
	c->command_re = calloc(c->ncommand_allow, sizeof(*c->command_re));
	if (!c->command_re)
		return fail_nomem(l->err);
	for (int i = 0; i < c->ncommand_allow; i++) {
		const char *pat = c->command_allow[i];
		PCRE2_UCHAR msg[160];
		PCRE2_SIZE off;
		char where[320];
		int code;

		c->command_re[i] = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, opts, &code, &off, NULL);
		if (c->command_re[i])
			continue;
		/* pcre2_compile() reports a failed allocation as a compile error */
		if (code == PCRE2_ERROR_HEAP_FAILED)
			return fail_nomem(l->err);
		if (l->pat_env)
			snprintf(where, sizeof(where), "DIAGAGENT_COMMAND_ALLOW (line %d)", l->pat_line[i]);
		else
			snprintf(where, sizeof(where), "%s:%d", l->name, l->pat_line[i]);
		pcre2_get_error_message(code, msg, sizeof(msg));
		return fail(l->err, -EINVAL,
			    "PCRE2 syntax (man pcre2pattern); the pattern must match the whole command",
			    "%s: bad command_allow pattern '%.80s': %s at offset %zu", where, pat, (char *)msg,
			    (size_t)off);
	}
	return 0;
}

static int check_all(struct loader *l)
{
	struct config *c = l->c;
	int id = key_index("agent_id"), cert = key_index("client_cert"), key = key_index("client_key");
	char where[320];
	struct url_parts u;
	int rc;

	if (l->src[id] == SRC_DEFAULT && !agent_id_valid(c->agent_id)) {
		if (!*c->agent_id)
			return fail(l->err, -EINVAL, "set agent_id in agent.conf or DIAGAGENT_AGENT_ID",
				    "agent_id: cannot tell the host name for the default");
		return fail(l->err, -EINVAL, "set agent_id in agent.conf or DIAGAGENT_AGENT_ID",
			    "agent_id: the host name '%.64s' is not a valid agent id: expected 1..%d characters of "
			    "A-Z a-z 0-9 . _ -",
			    c->agent_id, AGENT_ID_MAX);
	}
	if (!c->client_cert != !c->client_key) {
		key_where(l, c->client_cert ? cert : key, where, sizeof(where));
		return fail(l->err, -EINVAL, "mutual TLS needs both client_cert and client_key: set both or neither",
			    "%s: %s is set but %s is not", where, c->client_cert ? "client_cert" : "client_key",
			    c->client_cert ? "client_key" : "client_cert");
	}
	if (url_parse(c->server_url, &u) == 0 && !u.https && !host_is_loopback(u.host)) {
		rc = add_warning(c, "server_url uses plain http: the token crosses the network unencrypted; use https");
		if (rc < 0)
			return fail_nomem(l->err);
	}
	if (c->allow_commands && !c->ncommand_allow) {
		rc = add_warning(c, "allow_commands is on but command_allow is empty: no command can run");
		if (rc < 0)
			return fail_nomem(l->err);
	}
	return compile_patterns(l);
}

/* ---- public ------------------------------------------------------------------------ */

void config_init(struct config *c)
{
	char host[256];

	memset(c, 0, sizeof(*c));
	for (int i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];

		switch (k->type) {
		case K_URL:
		case K_PATH:
		case K_OPTPATH:
			if (k->def_str)
				*str_field(c, k) = strdup(k->def_str);
			break;
		case K_SECONDS:
		case K_COUNT:
		case K_SIZE:
			num_store(c, k, k->def);
			break;
		case K_BOOL:
			*(bool *)((char *)c + k->off) = k->def != 0;
			break;
		case K_LEVEL:
			c->log_level = (enum log_level)k->def;
			break;
		case K_ID:
		case K_PATTERN:
			break;
		}
	}
	if (gethostname(host, sizeof(host)) < 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	c->agent_id = strdup(host);
}

static int load(struct config *c, const char *name, const char *text, size_t len, bool env, char *const *envp,
		struct config_error *err)
{
	struct loader l;
	int rc;

	memset(&l, 0, sizeof(l));
	l.c = c;
	l.name = name ? name : "(text)";
	l.err = err;
	if (err)
		err->msg[0] = err->hint[0] = '\0';
	for (int i = 0; i < NKEYS; i++)
		if ((keys[i].def_str || keys[i].type == K_ID) && !str_value(c, &keys[i]))
			return fail_nomem(err);
	if (text) {
		rc = parse_file_text(&l, text, len);
		if (rc < 0)
			return rc;
	}
	if (env) {
		rc = apply_env(&l, envp ? envp : environ);
		if (rc < 0)
			return rc;
	}
	return check_all(&l);
}

int config_load(struct config *c, const char *path, char *const *envp, struct config_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (err)
		err->msg[0] = err->hint[0] = '\0';
	if (path) {
		rc = read_file(path, &text, &len, err);
		if (rc < 0)
			return rc;
		free(c->path);
		c->path = strdup(path);
		if (!c->path) {
			free(text);
			return fail_nomem(err);
		}
	}
	rc = load(c, path, text, len, true, envp, err);
	free(text);
	return rc;
}

int config_parse_text(struct config *c, const char *text, size_t len, const char *name, struct config_error *err)
{
	return load(c, name, text ? text : "", text ? len : 0, false, NULL, err);
}

int config_read_token(const struct config *c, char **token, struct config_error *err)
{
	const char *path = c->token_file;
	char buf[TOKEN_MAX + 1], hint[256];
	size_t n = 0, start, end;
	struct stat st;
	int fd, rc = 0;

	*token = NULL;
	if (!path)
		return fail(err, -EINVAL, NULL, "token_file is not set");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		return fail(err, rc,
			    rc == -ENOENT ? "put the agent's bearer token in it, mode 0600 (or set token_file)" :
			    rc == -EACCES ? "run as root, or as the user the agent runs as" :
					    NULL,
			    "cannot open token file '%s': %s", path, strerror(-rc));
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		fail(err, rc, NULL, "cannot stat token file '%s': %s", path, strerror(-rc));
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = fail(err, -EINVAL, NULL, "token file '%s' is not a regular file", path);
		goto cleanup;
	}
	/* Its owner can read it whatever the mode says: only we or root may own it. */
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(hint, sizeof(hint), "chown %u %s", (unsigned)geteuid(), path);
		rc = fail(err, -EPERM, hint, "token file '%s' is owned by uid %u, who can read or change it", path,
			  (unsigned)st.st_uid);
		goto cleanup;
	}
	if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) {
		snprintf(hint, sizeof(hint), "chmod 600 %s", path);
		rc = fail(err, -EPERM, hint, "token file '%s' is %s by group or others (mode %04o)", path,
			  st.st_mode & (S_IRGRP | S_IROTH) ? "readable" : "writable", (unsigned)(st.st_mode & 07777));
		goto cleanup;
	}
	for (;;) {
		ssize_t r = read(fd, buf + n, sizeof(buf) - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			fail(err, rc, NULL, "cannot read token file '%s': %s", path, strerror(-rc));
			goto cleanup;
		}
		if (r == 0)
			break;
		n += r;
		if (n > TOKEN_MAX) {
			rc = fail(err, -EINVAL, NULL, "token file '%s' is larger than %d bytes", path, TOKEN_MAX);
			goto cleanup;
		}
	}
	end = 0;
	while (end < n && buf[end] != '\n')
		end++;
	start = 0;
	while (start < end && isspace((unsigned char)buf[start]))
		start++;
	while (end > start && isspace((unsigned char)buf[end - 1]))
		end--;
	if (start == end) {
		rc = fail(err, -EINVAL, "put the agent's bearer token on its first line", "token file '%s' is empty",
			  path);
		goto cleanup;
	}
	for (size_t i = start; i < end; i++) {
		if ((unsigned char)buf[i] < 0x21 || buf[i] == 0x7f) {
			rc = fail(err, -EINVAL, "a token is one word of printable characters",
				  "token file '%s': byte 0x%02x at offset %zu is not allowed in an HTTP header", path,
				  (unsigned char)buf[i], i);
			goto cleanup;
		}
	}
	*token = strndup(buf + start, end - start);
	if (!*token)
		rc = fail_nomem(err);
cleanup:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

int config_command_match(const struct config *c, const char *command)
{
	pcre2_match_context *mc = NULL;
	int ok = 0;

	if (!c->allow_commands || !c->command_re || !command)
		return 0;
	mc = pcre2_match_context_create(NULL);
	if (!mc)
		return -ENOMEM;
	pcre2_set_match_limit(mc, MATCH_LIMIT);
	for (int i = 0; i < c->ncommand_allow && ok == 0; i++) {
		pcre2_code *re = c->command_re[i];
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
		int rc;

		if (!md) {
			ok = -ENOMEM;
			break;
		}
		rc = pcre2_match(re, (PCRE2_SPTR)command, strlen(command), 0, 0, md, mc);
		if (rc >= 0)
			ok = 1;
		else if (rc == PCRE2_ERROR_NOMEMORY)
			ok = -ENOMEM;
		pcre2_match_data_free(md);
	}
	pcre2_match_context_free(mc);
	return ok;
}

bool config_command_allowed(const struct config *c, const char *command)
{
	return config_command_match(c, command) == 1;
}

/* ---- printing ---------------------------------------------------------------------- */

static bool needs_quotes(const char *v, bool pattern)
{
	size_t n = strlen(v);

	if (n == 0 || is_blank(v[0]) || is_blank(v[n - 1]) || v[0] == '"')
		return true;
	if (pattern)
		return false;
	if (v[0] == '#')
		return true;
	for (size_t i = 1; i < n; i++)
		if (v[i] == '#' && is_blank(v[i - 1]))
			return true;
	return false;
}

static void print_value(FILE *out, const char *name, const char *v, bool pattern)
{
	if (!needs_quotes(v, pattern)) {
		fprintf(out, "%s = %s\n", name, v);
		return;
	}
	fprintf(out, "%s = \"", name);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', out);
		fputc(*v, out);
	}
	fputs("\"\n", out);
}

void config_print(const struct config *c, FILE *out)
{
	fprintf(out, "# diagagent's effective configuration");
	if (c->path)
		fprintf(out, " (%s and the environment)", c->path);
	fprintf(out, "\n");
	for (int i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		const char *s;

		if (k->section) {
			int n = fprintf(out, "\n# --- %s ", k->section);

			for (; n > 0 && n < 80; n++)
				fputc('-', out);
			fputc('\n', out);
		}
		switch (k->type) {
		case K_URL:
		case K_ID:
		case K_PATH:
		case K_OPTPATH:
			s = str_value(c, k);
			if (s)
				print_value(out, k->name, s, false);
			else
				fprintf(out, "# %s =\n", k->name);
			break;
		case K_SECONDS:
		case K_COUNT:
		case K_SIZE:
			fprintf(out, "%s = %lld\n", k->name, num_value(c, k));
			break;
		case K_BOOL:
			fprintf(out, "%s = %s\n", k->name,
				*(const bool *)((const char *)c + k->off) ? "true" : "false");
			break;
		case K_LEVEL:
			fprintf(out, "%s = %s\n", k->name, config_log_level_name(c->log_level));
			break;
		case K_PATTERN:
			for (int j = 0; j < c->ncommand_allow; j++)
				print_value(out, k->name, c->command_allow[j], true);
			if (!c->ncommand_allow)
				fprintf(out, "# %s =\n", k->name);
			break;
		}
	}
}

void config_release(struct config *c)
{
	if (!c)
		return;
	for (int i = 0; i < NKEYS; i++)
		if (keys[i].type == K_URL || keys[i].type == K_ID || keys[i].type == K_PATH ||
		    keys[i].type == K_OPTPATH)
			free(*str_field(c, &keys[i]));
	patterns_free(c);
	free(c->path);
	free(c->warnings);
	memset(c, 0, sizeof(*c));
}

int config_check_files(const struct config *c, struct config_error *err)
{
	const struct {
		const char *key, *path, *hint;
	} files[] = {
		{ "ca_file", c->ca_file, "ca_file is the PEM bundle of the CA that signed the server's certificate" },
		{ "client_cert", c->client_cert, "client_cert is this agent's PEM certificate for mutual TLS" },
		{ "client_key", c->client_key, "client_key is the PEM private key of client_cert" },
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int fd;

		if (!files[i].path)
			continue;
		fd = open(files[i].path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return fail(err, -errno, files[i].hint, "cannot read %s '%s': %s", files[i].key, files[i].path,
				    strerror(errno));
		close(fd);
	}
	return 0;
}

void config_free_secret(char *secret)
{
	if (!secret)
		return;
	explicit_bzero(secret, strlen(secret));
	free(secret);
}

/* syscalls.c - syscall, tracepoint and kernel-function facts read from tracefs and kallsyms. */
#include "tracespec/syscalls.h"

#include "tracespec/editdist.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SYSCALLS_TRACEFS_DEFAULT "/sys/kernel/tracing"
#define SYSCALLS_KALLSYMS	 "/proc/kallsyms"
#define SYSCALLS_LINE_MAX	 4096 /* longest field line we accept in a format file */
#define SYSCALLS_FORMAT_LINES	 4096 /* most lines read from one format file */
#define SIMILAR_NAME_MAX	 (2 * SYSCALLS_NAME_MAX)
#define SIMILAR_KEEP_MAX	 256	 /* most candidates kept, whatever n asks */
#define SIMILAR_LINES_MAX	 4000000 /* most lines read from kallsyms/available_events */
#define KSYM_IOBUF		 (1 << 16)

/* ------------------------------------------------------------------------ */
/* Names and paths                                                          */
/* ------------------------------------------------------------------------ */

static bool syscalls_valid_name(const char *s)
{
	size_t i;

	if (!s || !s[0])
		return false;
	for (i = 0; s[i]; i++) {
		if (i >= SYSCALLS_NAME_MAX - 1)
			return false;
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	}
	return true;
}

static const char *syscalls_root(const char *tracefs)
{
	return (tracefs && tracefs[0]) ? tracefs : SYSCALLS_TRACEFS_DEFAULT;
}

/* Write "ROOT/events/CAT[/EVENT[/LEAF]]" into buf. 0 or -ENAMETOOLONG. */
static int syscalls_path(char *buf, size_t size, const char *tracefs, const char *category, const char *event,
			 const char *leaf)
{
	int n;

	if (event && leaf)
		n = snprintf(buf, size, "%s/events/%s/%s/%s", syscalls_root(tracefs), category, event, leaf);
	else if (event)
		n = snprintf(buf, size, "%s/events/%s/%s", syscalls_root(tracefs), category, event);
	else
		n = snprintf(buf, size, "%s/events/%s", syscalls_root(tracefs), category);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

static bool syscalls_is_dir(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return false;
	return S_ISDIR(st.st_mode);
}

/* ------------------------------------------------------------------------ */
/* Format files                                                             */
/* ------------------------------------------------------------------------ */

static bool syscalls_is_ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* Copy s[0..n) into dst (size cap), trimming blanks at both ends. */
static int syscalls_copy_trim(char *dst, size_t cap, const char *s, size_t n)
{
	while (n > 0 && isspace((unsigned char)s[0])) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if (n >= cap)
		return -EINVAL;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

/* Classify a field type: pointer when it ends in '*' (trailing const or
 * volatile after the '*' allowed), string when it is a plain char with exactly
 * one level of pointer or exactly one array dimension. "__data_loc char[]" is
 * a string; "unsigned char *", "u8[6]" and "const char *const *" are not. */
static void syscalls_classify(struct tp_field *f)
{
	char tmp[sizeof(f->type)];
	char *tok, *save = NULL;
	int stars = 0, dims = 0, base = 0;
	bool is_char = false;
	const char *p;
	size_t len = strlen(f->type);

	/* is_pointer: strip trailing qualifiers, then look for '*' */
	memcpy(tmp, f->type, len + 1);
	for (;;) {
		while (len > 0 && isspace((unsigned char)tmp[len - 1]))
			len--;
		tmp[len] = '\0';
		if (len >= 5 && strcmp(tmp + len - 5, "const") == 0 &&
		    (len == 5 || !syscalls_is_ident_char(tmp[len - 6])))
			len -= 5;
		else if (len >= 8 && strcmp(tmp + len - 8, "volatile") == 0 &&
			 (len == 8 || !syscalls_is_ident_char(tmp[len - 9])))
			len -= 8;
		else
			break;
	}
	f->is_pointer = len > 0 && tmp[len - 1] == '*';

	for (p = f->type; *p; p++) {
		if (*p == '*')
			stars++;
		else if (*p == '[')
			dims++;
	}
	/* the base type: identifiers other than qualifiers and __data_loc */
	memcpy(tmp, f->type, strlen(f->type) + 1);
	for (tok = strtok_r(tmp, " \t*", &save); tok; tok = strtok_r(NULL, " \t*", &save)) {
		char *br = strchr(tok, '[');

		if (br)
			*br = '\0';
		if (!tok[0])
			continue;
		if (strcmp(tok, "const") == 0 || strcmp(tok, "volatile") == 0 || strcmp(tok, "__data_loc") == 0 ||
		    strcmp(tok, "__rel_loc") == 0 || strcmp(tok, "__user") == 0)
			continue;
		base++;
		is_char = strcmp(tok, "char") == 0;
	}
	f->is_string = base == 1 && is_char && ((stars == 1 && dims == 0) || (stars == 0 && dims == 1));
}

/* Parse DECL ("const char * filename", "char comm[16]", "__data_loc char[] x")
 * into f->name and f->type. 0 or -EINVAL. */
static int syscalls_parse_decl(const char *decl, size_t len, struct tp_field *f)
{
	size_t end = len, name_end, name_start, dims_start;
	char type[sizeof(f->type)];
	size_t tlen, dlen;

	while (end > 0 && isspace((unsigned char)decl[end - 1]))
		end--;
	dims_start = end;
	/* trailing array dimensions belong to the type: "comm[16]" -> "char[16]" */
	while (dims_start > 0 && decl[dims_start - 1] == ']') {
		size_t i = dims_start - 1;

		while (i > 0 && decl[i] != '[')
			i--;
		if (decl[i] != '[')
			return -EINVAL;
		dims_start = i;
	}
	name_end = dims_start;
	while (name_end > 0 && isspace((unsigned char)decl[name_end - 1]))
		name_end--;
	name_start = name_end;
	while (name_start > 0 && syscalls_is_ident_char(decl[name_start - 1]))
		name_start--;
	if (name_start == name_end || isdigit((unsigned char)decl[name_start]))
		return -EINVAL;
	if (name_end - name_start >= sizeof(f->name))
		return -EINVAL;
	memcpy(f->name, decl + name_start, name_end - name_start);
	f->name[name_end - name_start] = '\0';

	if (syscalls_copy_trim(type, sizeof(type), decl, name_start) != 0)
		return -EINVAL;
	if (!type[0])
		return -EINVAL;
	tlen = strlen(type);
	dlen = end - dims_start;
	if (tlen + dlen >= sizeof(f->type))
		return -EINVAL;
	memcpy(f->type, type, tlen);
	memcpy(f->type + tlen, decl + dims_start, dlen);
	f->type[tlen + dlen] = '\0';
	syscalls_classify(f);
	return 0;
}

/* Find "KEY:NUMBER;" in line and store the number. 0 or -EINVAL. */
static int syscalls_parse_attr(const char *line, const char *key, long *out)
{
	const char *p = strstr(line, key);
	char *end = NULL;
	long v;

	if (!p)
		return -EINVAL;
	p += strlen(key);
	errno = 0;
	v = strtol(p, &end, 10);
	if (errno || end == p || *end != ';')
		return -EINVAL;
	*out = v;
	return 0;
}

/* One "\tfield:DECL;\toffset:N;\tsize:N;\tsigned:N;" line (the leading
 * "field:" already stripped). 1 when a field was stored, 0 when it is
 * skipped (common_*, __syscall_nr), -errno on error. */
static int syscalls_parse_field(const char *body, struct tp_format *out)
{
	const char *semi = strchr(body, ';');
	struct tp_field f;
	long size = 0, sgn = 0;
	int err;

	if (!semi)
		return -EINVAL;
	memset(&f, 0, sizeof(f));
	err = syscalls_parse_decl(body, (size_t)(semi - body), &f);
	if (err)
		return err;
	if (syscalls_parse_attr(semi, "size:", &size) != 0 || size < 0 || size > INT_MAX)
		return -EINVAL;
	/* "signed:" is missing on very old kernels; treat as unsigned */
	if (syscalls_parse_attr(semi, "signed:", &sgn) != 0)
		sgn = 0;
	if (strncmp(f.name, "common_", 7) == 0 || strcmp(f.name, "__syscall_nr") == 0)
		return 0;
	if (out->nfields >= TP_FIELDS_MAX)
		return -E2BIG;
	f.size = (int)size;
	f.is_signed = sgn != 0;
	out->fields[out->nfields++] = f;
	return 1;
}

int syscalls_tp_format(const char *tracefs, const char *category, const char *event, struct tp_format *out)
{
	char path[PATH_MAX];
	FILE *fp = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	bool seen_format = false;
	int err = 0, lines = 0;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!syscalls_valid_name(category) || !syscalls_valid_name(event))
		return -EINVAL;
	err = syscalls_path(path, sizeof(path), tracefs, category, event, "format");
	if (err)
		return err;
	fp = fopen(path, "re");
	if (!fp)
		return -errno;
	for (;;) {
		const char *p;

		errno = 0;
		len = getline(&line, &cap, fp);
		if (len < 0) {
			err = errno == ENOMEM ? -ENOMEM : 0; /* not the end of the file */
			break;
		}
		if (++lines > SYSCALLS_FORMAT_LINES) {
			err = -E2BIG;
			goto cleanup;
		}
		p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "format:", 7) == 0) {
			seen_format = true;
			continue;
		}
		if (strncmp(p, "field:", 6) != 0)
			continue;
		if (len > SYSCALLS_LINE_MAX) {
			err = -EINVAL;
			goto cleanup;
		}
		err = syscalls_parse_field(p + 6, out);
		if (err < 0)
			goto cleanup;
	}
	if (!err && ferror(fp))
		err = -EIO;
	if (!err && !seen_format)
		err = -EINVAL;
cleanup:
	free(line);
	(void)fclose(fp); /* read only */
	if (err)
		memset(out, 0, sizeof(*out));
	return err;
}

int syscalls_args(const char *tracefs, const char *name, struct tp_format *out)
{
	char event[SYSCALLS_NAME_MAX];
	int n;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!syscalls_valid_name(name))
		return -EINVAL;
	n = snprintf(event, sizeof(event), "sys_enter_%s", name);
	if (n < 0 || (size_t)n >= sizeof(event))
		return -EINVAL;
	return syscalls_tp_format(tracefs, "syscalls", event, out);
}

bool syscalls_exists(const char *tracefs, const char *name)
{
	char event[SYSCALLS_NAME_MAX];
	char path[PATH_MAX];
	int n;

	if (!syscalls_valid_name(name))
		return false;
	n = snprintf(event, sizeof(event), "sys_enter_%s", name);
	if (n < 0 || (size_t)n >= sizeof(event))
		return false;
	if (syscalls_path(path, sizeof(path), tracefs, "syscalls", event, NULL) != 0)
		return false;
	return syscalls_is_dir(path);
}

/* ------------------------------------------------------------------------ */
/* Renames                                                                  */
/* ------------------------------------------------------------------------ */

struct syscalls_rename {
	const char *name;
	const char *to[3]; /* tried in order; the first that exists wins */
};

/* Old or libc-level names and what the kernel traces in their place. The
 * replacement may take different arguments (open -> openat shifts them by
 * one); callers must read the replacement's own format. */
static const struct syscalls_rename syscalls_renames[] = {
	{ "stat", { "newstat", "newfstatat", NULL } },
	{ "lstat", { "newlstat", "newfstatat", NULL } },
	{ "fstat", { "newfstat", NULL, NULL } },
	{ "stat64", { "newstat", "newfstatat", NULL } },
	{ "lstat64", { "newlstat", "newfstatat", NULL } },
	{ "fstat64", { "newfstat", NULL, NULL } },
	{ "fstatat", { "newfstatat", NULL, NULL } },
	{ "fstatat64", { "newfstatat", NULL, NULL } },
	{ "uname", { "newuname", NULL, NULL } },
	{ "open", { "openat", NULL, NULL } },
	{ "open64", { "openat", NULL, NULL } },
	{ "creat", { "openat", NULL, NULL } },
	{ "dup2", { "dup3", NULL, NULL } },
	{ "pipe", { "pipe2", NULL, NULL } },
	{ "select", { "pselect6", NULL, NULL } },
	{ "_newselect", { "select", "pselect6", NULL } },
	{ "poll", { "ppoll", NULL, NULL } },
	{ "epoll_wait", { "epoll_pwait", NULL, NULL } },
	{ "epoll_create", { "epoll_create1", NULL, NULL } },
	{ "inotify_init", { "inotify_init1", NULL, NULL } },
	{ "eventfd", { "eventfd2", NULL, NULL } },
	{ "signalfd", { "signalfd4", NULL, NULL } },
	{ "fork", { "clone", NULL, NULL } },
	{ "vfork", { "clone", NULL, NULL } },
	{ "getdents", { "getdents64", NULL, NULL } },
	{ "access", { "faccessat", "faccessat2", NULL } },
	{ "mkdir", { "mkdirat", NULL, NULL } },
	{ "rmdir", { "unlinkat", NULL, NULL } },
	{ "unlink", { "unlinkat", NULL, NULL } },
	{ "rename", { "renameat", "renameat2", NULL } },
	{ "renameat", { "renameat2", NULL, NULL } },
	{ "link", { "linkat", NULL, NULL } },
	{ "symlink", { "symlinkat", NULL, NULL } },
	{ "readlink", { "readlinkat", NULL, NULL } },
	{ "chmod", { "fchmodat", "fchmodat2", NULL } },
	{ "chown", { "fchownat", NULL, NULL } },
	{ "lchown", { "fchownat", NULL, NULL } },
	{ "mknod", { "mknodat", NULL, NULL } },
	{ "utime", { "utimensat", NULL, NULL } },
	{ "utimes", { "utimensat", NULL, NULL } },
	{ "futimesat", { "utimensat", NULL, NULL } },
	{ "time", { "clock_gettime", NULL, NULL } },
	{ "stime", { "clock_settime", NULL, NULL } },
	{ "alarm", { "setitimer", NULL, NULL } },
	{ "pause", { "rt_sigsuspend", NULL, NULL } },
	{ "sigaction", { "rt_sigaction", NULL, NULL } },
	{ "signal", { "rt_sigaction", NULL, NULL } },
	{ "sigprocmask", { "rt_sigprocmask", NULL, NULL } },
	{ "sigpending", { "rt_sigpending", NULL, NULL } },
	{ "sigsuspend", { "rt_sigsuspend", NULL, NULL } },
	{ "sigreturn", { "rt_sigreturn", NULL, NULL } },
	{ "sendfile64", { "sendfile", NULL, NULL } },
	{ "sendfile", { "sendfile64", NULL, NULL } },
	{ "fadvise64_64", { "fadvise64", NULL, NULL } },
	{ "fadvise64", { "fadvise64_64", NULL, NULL } },
	{ "posix_fadvise", { "fadvise64", "fadvise64_64", NULL } },
	{ "pread", { "pread64", NULL, NULL } },
	{ "pwrite", { "pwrite64", NULL, NULL } },
	{ "truncate64", { "truncate", NULL, NULL } },
	{ "ftruncate64", { "ftruncate", NULL, NULL } },
	{ "statfs64", { "statfs", NULL, NULL } },
	{ "fstatfs64", { "fstatfs", NULL, NULL } },
	{ "mmap2", { "mmap", NULL, NULL } },
	{ "llseek", { "lseek", NULL, NULL } },
	{ "_llseek", { "lseek", NULL, NULL } },
	{ "getrlimit", { "prlimit64", NULL, NULL } },
	{ "setrlimit", { "prlimit64", NULL, NULL } },
	{ "wait", { "wait4", NULL, NULL } },
	{ "waitpid", { "wait4", NULL, NULL } },
	{ "accept", { "accept4", NULL, NULL } },
	{ "getpgrp", { "getpgid", NULL, NULL } },
	{ "nice", { "setpriority", NULL, NULL } },
	{ "umount", { "umount2", NULL, NULL } },
	{ "clone3", { "clone", NULL, NULL } },
};

const char *syscalls_replacement(const char *tracefs, const char *name)
{
	size_t i, j;

	if (!syscalls_valid_name(name) || syscalls_exists(tracefs, name))
		return NULL;
	for (i = 0; i < sizeof(syscalls_renames) / sizeof(syscalls_renames[0]); i++) {
		const struct syscalls_rename *r = &syscalls_renames[i];

		if (strcmp(r->name, name) != 0)
			continue;
		for (j = 0; j < sizeof(r->to) / sizeof(r->to[0]) && r->to[j]; j++) {
			if (syscalls_exists(tracefs, r->to[j]))
				return r->to[j];
		}
		return NULL;
	}
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* Similar names                                                            */
/* ------------------------------------------------------------------------ */

struct similar_cand {
	char name[SIMILAR_NAME_MAX];
	int dist;
	int prefix;
};

struct similar {
	const char *query;
	size_t qlen;
	int maxd;		/* offer nothing further away than this */
	size_t width;		/* names must fit in a row of this many bytes */
	struct similar_cand *c; /* best first */
	int n, cap;
};

static int similar_prefix(const char *a, size_t la, const char *b, size_t lb)
{
	size_t i = 0;

	while (i < la && i < lb && a[i] == b[i])
		i++;
	return (int)i;
}

/* <0 when x ranks before y */
static int similar_cmp(const struct similar_cand *x, const struct similar_cand *y)
{
	if (x->dist != y->dist)
		return x->dist - y->dist;
	if (x->prefix != y->prefix)
		return y->prefix - x->prefix;
	return strcmp(x->name, y->name);
}

static int similar_init(struct similar *s, const char *query, int n, size_t width)
{
	size_t qlen;
	int third;

	memset(s, 0, sizeof(*s));
	if (!query || n < 0)
		return -EINVAL;
	qlen = strlen(query);
	if (qlen == 0)
		return -EINVAL;
	if (qlen >= SIMILAR_NAME_MAX)
		return -ENAMETOOLONG;
	third = (int)qlen / 3;
	s->query = query;
	s->qlen = qlen;
	s->maxd = third > 2 ? third : 2;
	s->width = width < SIMILAR_NAME_MAX ? width : SIMILAR_NAME_MAX;
	s->cap = n < SIMILAR_KEEP_MAX ? n : SIMILAR_KEEP_MAX;
	/* cppcheck-suppress knownConditionTrueFalse ; n > 0 asks for candidates (cppcheck keeps memset's 0) */
	if (s->cap > 0) {
		s->c = calloc((size_t)s->cap, sizeof(*s->c));
		if (!s->c)
			return -ENOMEM;
	}
	return 0;
}

static void similar_release(struct similar *s)
{
	free(s->c);
	s->c = NULL;
	s->n = 0;
}

/* Offer candidate NAME[0..len) (compared as CMP[0..clen)). */
static void similar_offer(struct similar *s, const char *name, size_t len, const char *cmp, size_t clen)
{
	struct similar_cand cand;
	int bound, pos, i;

	if (s->cap == 0 || len == 0 || len >= s->width || clen >= SIMILAR_NAME_MAX)
		return;
	bound = s->maxd;
	if (s->n == s->cap && s->c[s->n - 1].dist < bound)
		bound = s->c[s->n - 1].dist;
	/* A name that contains the query whole (kfree_skb -> kfree_skb_reason,
	 * __kmalloc -> __kmalloc_noprof) is what renames across kernel versions
	 * usually look like: rank it close, the fewer added bytes the closer. */
	if (s->qlen >= 4 && clen > s->qlen && memmem(cmp, clen, s->query, s->qlen))
		cand.dist = 1 + (int)(clen - s->qlen) / 8;
	else
		cand.dist = editdist(s->query, s->qlen, cmp, clen, bound);
	if (cand.dist > bound)
		return;
	memcpy(cand.name, name, len);
	cand.name[len] = '\0';
	cand.prefix = similar_prefix(s->query, s->qlen, cmp, clen);
	for (i = 0; i < s->n; i++) {
		if (strcmp(s->c[i].name, cand.name) == 0)
			return;
	}
	pos = s->n;
	while (pos > 0 && similar_cmp(&cand, &s->c[pos - 1]) < 0)
		pos--;
	if (pos >= s->cap)
		return;
	if (s->n < s->cap)
		s->n++;
	memmove(&s->c[pos + 1], &s->c[pos], (size_t)(s->n - 1 - pos) * sizeof(s->c[0]));
	s->c[pos] = cand;
}

/* Copy the kept names into out (rows of s->width bytes; every kept name
 * fits). Returns the count. */
static int similar_emit(const struct similar *s, char *out)
{
	int i;

	for (i = 0; i < s->n; i++)
		snprintf(out + (size_t)i * s->width, s->width, "%s", s->c[i].name);
	return s->n;
}

/* Offer every entry of DIR that is a directory; with strip, only entries
 * starting with strip, offered without it. */
static int similar_scan_dir(struct similar *s, const char *dir, const char *strip)
{
	DIR *d;
	struct dirent *de;
	size_t slen = strip ? strlen(strip) : 0;
	int err = 0;

	d = opendir(dir);
	if (!d)
		return -errno;
	for (;;) {
		const char *nm;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				err = -errno;
			break;
		}
		nm = de->d_name;
		if (nm[0] == '.')
			continue;
		if (strip && strncmp(nm, strip, slen) != 0)
			continue;
		if (de->d_type != DT_DIR) {
			char path[PATH_MAX];
			int k;

			if (de->d_type != DT_UNKNOWN)
				continue;
			k = snprintf(path, sizeof(path), "%s/%s", dir, nm);
			if (k < 0 || (size_t)k >= sizeof(path) || !syscalls_is_dir(path))
				continue;
		}
		nm += slen;
		similar_offer(s, nm, strlen(nm), nm, strlen(nm));
	}
	closedir(d);
	return err;
}

int syscalls_similar(const char *tracefs, const char *name, char out[][SYSCALLS_NAME_MAX], int n)
{
	struct similar s;
	char dir[PATH_MAX];
	int err;

	if (!out && n > 0)
		return -EINVAL;
	err = similar_init(&s, name, n, SYSCALLS_NAME_MAX);
	if (err)
		return err;
	if (s.cap == 0)
		goto cleanup;
	err = syscalls_path(dir, sizeof(dir), tracefs, "syscalls", NULL, NULL);
	if (err)
		goto cleanup;
	err = similar_scan_dir(&s, dir, "sys_enter_");
	if (err)
		goto cleanup;
	err = similar_emit(&s, (char *)out);
cleanup:
	similar_release(&s);
	return err;
}

/* Offer "cat:event" lines of available_events. When by_event, the
 * comparison uses only the event part. */
static int similar_scan_events(struct similar *s, const char *tracefs, bool by_event)
{
	char path[PATH_MAX];
	FILE *fp;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lines = 0;
	int k, err = 0;

	k = snprintf(path, sizeof(path), "%s/available_events", syscalls_root(tracefs));
	if (k < 0 || (size_t)k >= sizeof(path))
		return -ENAMETOOLONG;
	fp = fopen(path, "re");
	if (!fp)
		return -errno;
	for (;;) {
		const char *colon;

		errno = 0;
		len = getline(&line, &cap, fp);
		if (len < 0) {
			err = errno == ENOMEM ? -ENOMEM : 0; /* not the end of the file */
			break;
		}
		if (++lines > SIMILAR_LINES_MAX) {
			err = -E2BIG;
			goto cleanup;
		}
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == ' '))
			line[--len] = '\0';
		colon = strchr(line, ':');
		if (!colon || colon == line || !colon[1])
			continue;
		if (by_event)
			similar_offer(s, line, (size_t)len, colon + 1, (size_t)len - (size_t)(colon + 1 - line));
		else
			similar_offer(s, line, (size_t)len, line, (size_t)len);
	}
	if (!err && ferror(fp))
		err = -EIO;
cleanup:
	free(line);
	(void)fclose(fp); /* read only */
	return err;
}

int syscalls_similar_tracepoints(const char *tracefs, const char *category, const char *name,
				 char out[][2 * SYSCALLS_NAME_MAX], int n)
{
	struct similar s;
	char dir[PATH_MAX];
	char full[SIMILAR_NAME_MAX];
	int err, k;

	if (!out && n > 0)
		return -EINVAL;
	if (!name)
		return -EINVAL;
	if (!category) {
		/* "cat:event" compares whole; a bare event name compares with the event part */
		err = similar_init(&s, name, n, 2 * SYSCALLS_NAME_MAX);
		if (err)
			return err;
		if (s.cap > 0)
			err = similar_scan_events(&s, tracefs, strchr(name, ':') == NULL);
		goto emit;
	}
	if (!syscalls_valid_name(category))
		return -EINVAL;
	err = syscalls_path(dir, sizeof(dir), tracefs, category, NULL, NULL);
	if (err)
		return err;
	if (syscalls_is_dir(dir)) {
		err = similar_init(&s, name, n, 2 * SYSCALLS_NAME_MAX);
		if (err)
			return err;
		if (s.cap > 0)
			err = similar_scan_dir(&s, dir, NULL);
		goto emit;
	}
	/* no such category: compare "category:name" with every "cat:event" */
	k = snprintf(full, sizeof(full), "%s:%s", category, name);
	if (k < 0 || (size_t)k >= sizeof(full))
		return -ENAMETOOLONG;
	err = similar_init(&s, full, n, 2 * SYSCALLS_NAME_MAX);
	if (err)
		return err;
	if (s.cap > 0)
		err = similar_scan_events(&s, tracefs, false);
emit:
	if (!err)
		err = similar_emit(&s, (char *)out);
	similar_release(&s);
	return err;
}

/* One kallsyms line "ADDR T name\t[mod]": the name of a text symbol, or NULL. */
static const char *ksym_parse(char *line, size_t *len)
{
	char *p = strchr(line, ' ');
	char *name, *end;

	if (!p || !p[1] || p[2] != ' ')
		return NULL;
	if (p[1] != 't' && p[1] != 'T')
		return NULL;
	name = p + 3;
	end = name;
	while (*end && *end != '\t' && *end != ' ' && *end != '\n')
		end++;
	*end = '\0';
	*len = (size_t)(end - name);
	return *len ? name : NULL;
}

/* Call fn(name, len, arg) for every text symbol of kallsyms; stops when fn
 * returns nonzero and returns that value; 0 at the end, -errno on error. */
static int ksym_each(int (*fn)(const char *, size_t, void *), void *arg)
{
	char *iobuf = NULL;
	FILE *fp;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lines = 0;
	int ret = 0;

	fp = fopen(SYSCALLS_KALLSYMS, "re");
	if (!fp)
		return -errno;
	/* procfs reports a 1 KiB block size; read in larger chunks */
	iobuf = malloc(KSYM_IOBUF);
	if (iobuf)
		(void)setvbuf(fp, iobuf, _IOFBF, KSYM_IOBUF);
	for (;;) {
		const char *name;
		size_t nlen = 0;

		errno = 0;
		len = getline(&line, &cap, fp);
		if (len < 0) {
			ret = errno == ENOMEM ? -ENOMEM : 0; /* not the end of the file */
			break;
		}
		if (++lines > SIMILAR_LINES_MAX) {
			ret = -E2BIG;
			goto cleanup;
		}
		name = ksym_parse(line, &nlen);
		if (!name)
			continue;
		ret = fn(name, nlen, arg);
		if (ret)
			goto cleanup;
	}
	if (!ret && ferror(fp))
		ret = -EIO;
cleanup:
	free(line);
	(void)fclose(fp); /* read only */
	free(iobuf);
	return ret;
}

static int ksym_offer(const char *name, size_t len, void *arg)
{
	/* FineIBT/kCFI preamble symbols are not functions one can probe */
	if (strncmp(name, "__pfx_", 6) == 0 || strncmp(name, "__cfi_", 6) == 0)
		return 0;
	similar_offer(arg, name, len, name, len);
	return 0;
}

int syscalls_similar_ksyms(const char *name, char out[][SYSCALLS_NAME_MAX], int n)
{
	struct similar s;
	int err;

	if (!out && n > 0)
		return -EINVAL;
	err = similar_init(&s, name, n, SYSCALLS_NAME_MAX);
	if (err)
		return err;
	if (s.cap == 0)
		goto cleanup;
	err = ksym_each(ksym_offer, &s);
	if (err)
		goto cleanup;
	err = similar_emit(&s, (char *)out);
cleanup:
	similar_release(&s);
	return err;
}

struct ksym_want {
	const char *name;
	size_t len;
};

static int ksym_match(const char *name, size_t len, void *arg)
{
	const struct ksym_want *want = arg;

	return want->len == len && memcmp(name, want->name, len) == 0;
}

int syscalls_ksym_exists(const char *name)
{
	struct ksym_want want;

	if (!name || !name[0])
		return -EINVAL;
	if (strpbrk(name, " \t\n"))
		return 0;
	want.name = name;
	want.len = strlen(name);
	return ksym_each(ksym_match, &want);
}

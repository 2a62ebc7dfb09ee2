/* ledger.c - the job ledger: which job ids this agent has seen, durably. */
#include "agent/ledger.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/jsontext.h"
#include "agent/log.h"
#include "agent/spool.h"

struct entry {
	char *id;
	char kind[16];
	enum ledger_state state;
	uint64_t order; /* when it was first recorded */
	time_t updated;
	int64_t started_ns;
	json_t *job;  /* only for QUEUED entries */
	bool dirty;   /* the state is in memory only */
	bool on_disk; /* a file holds this entry (in this or an older state) */
};

/* Open addressing, linear probing; slots hold entry pointers. */
struct ledger {
	int dirfd;
	struct entry **slots;
	size_t nslots, count;
	size_t ndirty;
	uint64_t next_order;
	struct spool_health health;
};

static const char *const state_names[] = { "none", "queued", "running", "done" };

static uint64_t hash_id(const char *id)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	return h;
}

static void file_name(const char *id, char *buf, size_t size)
{
	snprintf(buf, size, "%016" PRIx64 ".json", hash_id(id));
}

static void entry_free(struct entry *e)
{
	if (!e)
		return;
	free(e->id);
	json_decref(e->job);
	free(e);
}

static struct entry **find_slot(const struct ledger *lg, const char *id)
{
	size_t mask = lg->nslots - 1, i = hash_id(id) & mask;

	while (lg->slots[i] && strcmp(lg->slots[i]->id, id) != 0)
		i = (i + 1) & mask;
	return &lg->slots[i];
}

static int grow(struct ledger *lg)
{
	size_t n = lg->nslots ? lg->nslots * 2 : 256;
	struct entry **old = lg->slots;
	size_t oldn = lg->nslots;

	lg->slots = calloc(n, sizeof(struct entry *));
	if (!lg->slots) {
		lg->slots = old;
		return -ENOMEM;
	}
	lg->nslots = n;
	for (size_t i = 0; i < oldn; i++)
		if (old[i])
			*find_slot(lg, old[i]->id) = old[i];
	free(old);
	return 0;
}

static int insert(struct ledger *lg, struct entry *e)
{
	if ((lg->count + 1) * 10 > lg->nslots * 7 && grow(lg) < 0)
		return -ENOMEM;
	*find_slot(lg, e->id) = e;
	lg->count++;
	if (e->order >= lg->next_order)
		lg->next_order = e->order + 1;
	return 0;
}

static struct entry *lookup(const struct ledger *lg, const char *id)
{
	return lg->nslots ? *find_slot(lg, id) : NULL;
}

static int save(struct ledger *lg, const struct entry *e)
{
	char name[32], *text;
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "id", e->id, "kind", e->kind, "state",
			      state_names[e->state], "order", (json_int_t)e->order, "updated", (json_int_t)e->updated,
			      "started_ns", (json_int_t)e->started_ns);
	int rc;

	if (!o)
		return -ENOMEM;
	if (e->state == LEDGER_QUEUED && e->job)
		json_object_set(o, "job", e->job);
	text = jsontext_dump(o, JSON_COMPACT);
	json_decref(o);
	if (!text)
		return -ENOMEM;
	file_name(e->id, name, sizeof(name));
	rc = spool_write(lg->dirfd, name, text, strlen(text));
	free(text);
	return rc;
}

static enum ledger_state parse_state(const char *s)
{
	for (int i = LEDGER_QUEUED; i <= LEDGER_DONE; i++)
		if (s && strcmp(s, state_names[i]) == 0)
			return (enum ledger_state)i;
	return LEDGER_NONE;
}

/* One file back into an entry; a file that cannot be read is removed. */
static void load_file(struct ledger *lg, const char *name)
{
	struct entry *e = NULL;
	json_error_t jerr;
	json_t *o = NULL;
	char *data = NULL;
	const char *id = NULL, *kind = NULL, *state = NULL;
	json_int_t order = 0, updated = 0, started = 0;
	size_t len;
	int rc = spool_read(lg->dirfd, name, LEDGER_MAX_FILE, &data, &len);

	if (rc == 0)
		o = json_loadb(data, len, 0, &jerr);
	if (!o ||
	    json_unpack(o, "{s:s, s:s, s:s, s:I, s:I, s:I}", "id", &id, "kind", &kind, "state", &state, "order", &order,
			"updated", &updated, "started_ns", &started) < 0 ||
	    parse_state(state) == LEDGER_NONE) {
		log_warn("ledger: removed unreadable entry %s", name);
		spool_remove(lg->dirfd, name);
		goto cleanup;
	}
	e = calloc(1, sizeof(*e));
	if (!e || !(e->id = strdup(id)))
		goto cleanup;
	snprintf(e->kind, sizeof(e->kind), "%s", kind);
	e->state = parse_state(state);
	e->order = (uint64_t)order;
	e->updated = (time_t)updated;
	e->started_ns = started;
	e->on_disk = true;
	if (e->state == LEDGER_QUEUED)
		e->job = json_incref(json_object_get(o, "job"));
	if (lookup(lg, e->id) || insert(lg, e) < 0)
		goto cleanup;
	e = NULL;
cleanup:
	entry_free(e);
	json_decref(o);
	free(data);
}

static int load(struct ledger *lg)
{
	int fd = dup(lg->dirfd);
	struct dirent *d;
	DIR *dir;

	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -errno;
	}
	rewinddir(dir);
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.') {
			if (strstr(d->d_name, ".tmp"))
				unlinkat(lg->dirfd, d->d_name, 0);
			continue;
		}
		if (strlen(d->d_name) == 21 && strcmp(d->d_name + 16, ".json") == 0)
			load_file(lg, d->d_name);
	}
	closedir(dir);
	return 0;
}

struct ledger *ledger_open(const char *dir, char *err, size_t size)
{
	struct ledger *lg = calloc(1, sizeof(*lg));
	int rc;

	if (!lg || grow(lg) < 0) {
		free(lg);
		snprintf(err, size, "out of memory");
		return NULL;
	}
	lg->next_order = 1;
	lg->dirfd = spool_open_dir(dir, err, size);
	if (lg->dirfd < 0) {
		free(lg->slots);
		free(lg);
		return NULL;
	}
	rc = load(lg);
	if (rc < 0) {
		snprintf(err, size, "cannot read the job ledger '%s': %s", dir, strerror(-rc));
		ledger_free(lg);
		return NULL;
	}
	ledger_prune(lg, time(NULL));
	/* A full or read-only directory still opens: states then wait in memory. */
	rc = spool_probe(lg->dirfd);
	if (rc < 0)
		spool_failed(&lg->health, rc);
	return lg;
}

void ledger_free(struct ledger *lg)
{
	if (!lg)
		return;
	for (size_t i = 0; i < lg->nslots; i++)
		entry_free(lg->slots[i]);
	free(lg->slots);
	if (lg->dirfd >= 0)
		close(lg->dirfd);
	free(lg);
}

enum ledger_state ledger_state(const struct ledger *lg, const char *id)
{
	struct entry *e = lookup(lg, id);

	return e ? e->state : LEDGER_NONE;
}

static void set_dirty(struct ledger *lg, struct entry *e, bool dirty)
{
	if (e->dirty != dirty)
		lg->ndirty += dirty ? 1 : (size_t)-1;
	e->dirty = dirty;
}

/* Write e; on failure, remove its older file where the filesystem lets us. */
static int write_entry(struct ledger *lg, struct entry *e)
{
	char name[32];
	int rc = save(lg, e);

	if (rc == 0) {
		set_dirty(lg, e, false);
		e->on_disk = true;
		return 0;
	}
	file_name(e->id, name, sizeof(name));
	if (e->on_disk && spool_remove(lg->dirfd, name) == 0)
		e->on_disk = false;
	return rc;
}

int ledger_set(struct ledger *lg, const char *id, enum ledger_state state, const char *kind, const json_t *job,
	       int64_t started_ns)
{
	struct entry *e = lookup(lg, id);
	char name[32];
	int rc;

	if (!e) {
		if (lg->count >= LEDGER_MAX_ENTRIES)
			ledger_prune(lg, time(NULL) + LEDGER_KEEP_S); /* every done entry may go */
		e = calloc(1, sizeof(*e));
		if (!e || !(e->id = strdup(id))) {
			entry_free(e);
			return -ENOMEM;
		}
		e->order = lg->next_order;
		rc = insert(lg, e);
		if (rc < 0) {
			entry_free(e);
			return rc;
		}
	}
	snprintf(e->kind, sizeof(e->kind), "%s", kind);
	e->state = state;
	e->updated = time(NULL);
	if (started_ns)
		e->started_ns = started_ns;
	json_decref(e->job);
	e->job = state == LEDGER_QUEUED && job ? json_incref((json_t *)job) : NULL;
	set_dirty(lg, e, true);
	if (lg->health.err) {
		/* Not tried again before ledger_flush(); the older state must not outlive this one. */
		file_name(e->id, name, sizeof(name));
		if (e->on_disk && spool_remove(lg->dirfd, name) == 0)
			e->on_disk = false;
		return lg->health.err;
	}
	rc = write_entry(lg, e);
	if (rc < 0)
		spool_failed(&lg->health, rc);
	return rc;
}

int ledger_flush(struct ledger *lg, size_t *written)
{
	size_t n = 0;
	int rc = 0;

	if (written)
		*written = 0;
	if (!lg->health.err)
		return 0;
	for (size_t i = 0; i < lg->nslots && lg->ndirty; i++) {
		if (!lg->slots[i] || !lg->slots[i]->dirty)
			continue;
		rc = write_entry(lg, lg->slots[i]);
		if (rc < 0)
			break;
		n++;
	}
	if (written)
		*written = n;
	if (rc == 0 && !n)
		rc = spool_probe(lg->dirfd);
	if (rc < 0) {
		spool_failed(&lg->health, rc);
		return rc;
	}
	spool_recovered(&lg->health);
	return 0;
}

size_t ledger_pending(const struct ledger *lg)
{
	return lg->ndirty;
}

int ledger_disk_error(const struct ledger *lg)
{
	return lg->health.err;
}

long ledger_retry_in(const struct ledger *lg)
{
	return spool_retry_in(&lg->health);
}

void ledger_prune(struct ledger *lg, time_t now)
{
	struct entry **old = lg->slots;
	size_t oldn = lg->nslots;

	lg->slots = calloc(oldn, sizeof(struct entry *));
	if (!lg->slots) {
		lg->slots = old;
		return;
	}
	lg->count = 0;
	for (size_t i = 0; i < oldn; i++) {
		struct entry *e = old[i];
		char name[32];

		if (!e)
			continue;
		if (e->state == LEDGER_DONE && now - e->updated >= LEDGER_KEEP_S) {
			/* A file that cannot go now goes at a later start. */
			file_name(e->id, name, sizeof(name));
			spool_remove(lg->dirfd, name);
			set_dirty(lg, e, false);
			entry_free(e);
			continue;
		}
		*find_slot(lg, e->id) = e;
		lg->count++;
	}
	free(old);
}

static int cmp_order(const void *a, const void *b)
{
	const struct entry *x = *(struct entry *const *)a, *y = *(struct entry *const *)b;

	return x->order < y->order ? -1 : x->order > y->order;
}

void ledger_foreach(const struct ledger *lg, enum ledger_state state,
		    void (*fn)(void *ud, const char *id, const char *kind, json_t *job, int64_t started_ns), void *ud)
{
	struct entry **list = calloc(lg->count + 1, sizeof(struct entry *));
	size_t n = 0;

	if (!list)
		return;
	for (size_t i = 0; i < lg->nslots; i++)
		if (lg->slots[i] && lg->slots[i]->state == state)
			list[n++] = lg->slots[i];
	qsort(list, n, sizeof(struct entry *), cmp_order);
	/* fn may call ledger_set(), which never frees entries but drops their job. */
	for (size_t i = 0; i < n; i++) {
		json_t *job = json_incref(list[i]->job);

		fn(ud, list[i]->id, list[i]->kind, job, list[i]->started_ns);
		json_decref(job);
	}
	free(list);
}

size_t ledger_count(const struct ledger *lg)
{
	return lg->count;
}

/* outbox.c - results waiting for the control API, kept durably on disk. */
#include "agent/outbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/jsontext.h"
#include "agent/log.h"
#include "agent/spool.h"

#define DROPPED_FILE "dropped"
#define REJECTED_DIR "rejected"

struct outbox_item {
	uint64_t seq;
	long long size;
	char *text; /* the result while it is kept in memory only; NULL: on disk */
};

/* A queue in an array: items[head..head+count) in sequence order, on disk
 * and in memory mixed (older ones on disk, as a rule). */
struct outbox {
	int dirfd;
	struct outbox_item *items;
	size_t head, count, cap;
	long long bytes;
	size_t nmem; /* items with text */
	long long mem_bytes;
	uint64_t next_seq;
	unsigned long long dropped;
	bool dropped_dirty; /* the dropped file is not up to date */
	bool stale_files;   /* a file could not be removed: remove it once writable */
	long max_results;
	long long max_bytes;
	long long max_memory;
	struct spool_health health;
};

static void seq_name(uint64_t seq, char *buf, size_t size)
{
	snprintf(buf, size, "%020" PRIu64 ".json", seq);
}

static int parse_seq(const char *name, uint64_t *seq)
{
	char *end;

	if (strlen(name) != 25 || strcmp(name + 20, ".json") != 0)
		return -EINVAL;
	errno = 0;
	*seq = strtoull(name, &end, 10);
	return errno || end != name + 20 ? -EINVAL : 0;
}

static int push(struct outbox *ob, uint64_t seq, long long size, char *text)
{
	if (ob->head + ob->count == ob->cap) {
		if (ob->head > ob->cap / 2) {
			memmove(ob->items, ob->items + ob->head, ob->count * sizeof(*ob->items));
			ob->head = 0;
		} else {
			size_t ncap = ob->cap ? ob->cap * 2 : 64;
			struct outbox_item *n = realloc(ob->items, ncap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			ob->items = n;
			ob->cap = ncap;
		}
	}
	ob->items[ob->head + ob->count++] = (struct outbox_item){ seq, size, text };
	ob->bytes += size;
	if (text) {
		ob->nmem++;
		ob->mem_bytes += size;
	}
	return 0;
}

static int cmp_item(const void *a, const void *b)
{
	const struct outbox_item *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int write_dropped(struct outbox *ob)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%llu\n", ob->dropped);

	return ob->dropped ? spool_write(ob->dirfd, DROPPED_FILE, buf, (size_t)n) :
			     spool_remove(ob->dirfd, DROPPED_FILE);
}

/* While the directory cannot be written, the count waits for outbox_flush(). */
static void save_dropped(struct outbox *ob)
{
	int rc;

	ob->dropped_dirty = true;
	if (ob->health.err)
		return;
	rc = write_dropped(ob);
	if (rc < 0)
		spool_failed(&ob->health, rc);
	else
		ob->dropped_dirty = false;
}

/* Remove a result's file; one that cannot be removed now is left for the
 * next outbox_flush() (and the directory is taken as failing). */
static void remove_file(struct outbox *ob, uint64_t seq)
{
	char name[32];
	int rc;

	seq_name(seq, name, sizeof(name));
	rc = spool_remove(ob->dirfd, name);
	if (rc < 0) {
		ob->stale_files = true;
		if (!ob->health.err)
			spool_failed(&ob->health, rc);
	}
}

static void load_dropped(struct outbox *ob)
{
	char *data;
	size_t len;

	if (spool_read(ob->dirfd, DROPPED_FILE, 64, &data, &len) < 0)
		return;
	ob->dropped = strtoull(data, NULL, 10);
	free(data);
}

static int scan_dir(struct outbox *ob)
{
	int fd = dup(ob->dirfd);
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	rewinddir(d);
	while ((e = readdir(d))) {
		struct stat st;
		uint64_t seq;

		if (e->d_name[0] == '.' && strstr(e->d_name, ".tmp")) {
			unlinkat(ob->dirfd, e->d_name, 0); /* a write cut short by a crash */
			continue;
		}
		if (parse_seq(e->d_name, &seq) < 0 || fstatat(ob->dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		rc = push(ob, seq, (long long)st.st_size, NULL);
		if (rc < 0)
			break;
		if (seq >= ob->next_seq)
			ob->next_seq = seq + 1;
	}
	closedir(d);
	/* An empty outbox has no items array, and
	 * qsort() of a null pointer is undefined even for zero elements. */
	if (ob->count)
		qsort(ob->items + ob->head, ob->count, sizeof(*ob->items), cmp_item);
	return rc;
}

/* A sequence number found in rejected/ is never given
 * out again. At open, next_seq used to come from the outbox's own files
 * only, so after a restart a new result could take the number of one
 * already rejected (always when the outbox was empty), and rejecting it too
 * silently replaced the older file in rejected/, kept for a person to read. */
static void skip_rejected_seqs(struct outbox *ob)
{
	int fd = openat(ob->dirfd, REJECTED_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	struct stat st;
	uint64_t seq;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	/* Results kept for a person stay private: the directory ours and 0700,
	 * each file 0600, also when the spool was open to others before. */
	if (fstat(fd, &st) == 0 && ((st.st_uid != geteuid() && fchown(fd, geteuid(), getegid()) < 0) ||
				    ((st.st_mode & 077) && fchmod(fd, 0700) < 0)))
		log_warn("outbox: cannot make '%s' the agent's own and private: %s", REJECTED_DIR, strerror(errno));
	while ((e = readdir(d))) {
		if (parse_seq(e->d_name, &seq) < 0)
			continue;
		if (seq >= ob->next_seq)
			ob->next_seq = seq + 1;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077))
			fchmodat(fd, e->d_name, 0600, 0);
	}
	closedir(d);
}

struct outbox *outbox_open(const char *dir, long max_results, long long max_bytes, char *err, size_t size)
{
	struct outbox *ob = calloc(1, sizeof(*ob));
	int rc;

	if (!ob) {
		snprintf(err, size, "out of memory");
		return NULL;
	}
	ob->max_results = max_results;
	ob->max_bytes = max_bytes;
	ob->max_memory = OUTBOX_MAX_MEMORY;
	ob->next_seq = 1;
	ob->dirfd = spool_open_dir(dir, err, size);
	if (ob->dirfd < 0) {
		free(ob);
		return NULL;
	}
	rc = scan_dir(ob);
	if (rc < 0) {
		snprintf(err, size, "cannot read the outbox '%s': %s", dir, strerror(-rc));
		outbox_free(ob);
		return NULL;
	}
	skip_rejected_seqs(ob);
	load_dropped(ob);
	/* A full or read-only directory still opens: results then wait in memory. */
	rc = spool_probe(ob->dirfd);
	if (rc < 0)
		spool_failed(&ob->health, rc);
	return ob;
}

void outbox_free(struct outbox *ob)
{
	if (!ob)
		return;
	if (ob->dirfd >= 0)
		close(ob->dirfd);
	for (size_t i = 0; i < ob->count; i++)
		free(ob->items[ob->head + i].text);
	free(ob->items);
	free(ob);
}

void outbox_set_limits(struct outbox *ob, long max_results, long long max_bytes)
{
	ob->max_results = max_results;
	ob->max_bytes = max_bytes;
}

void outbox_set_memory_limit(struct outbox *ob, long long max_memory)
{
	ob->max_memory = max_memory;
}

long long outbox_memory_limit(const struct outbox *ob)
{
	return ob->max_bytes < ob->max_memory ? ob->max_bytes : ob->max_memory;
}

/* Forget item i, whose file the caller has removed or moved, and count it
 * as dropped (saved by the caller). The oldest goes in O(1). */
static void forget_at(struct outbox *ob, size_t i)
{
	struct outbox_item *it = &ob->items[ob->head + i];

	ob->bytes -= it->size;
	if (it->text) {
		free(it->text);
		ob->nmem--;
		ob->mem_bytes -= it->size;
	}
	if (i == 0)
		ob->head++;
	else
		memmove(it, it + 1, (ob->count - i - 1) * sizeof(*it));
	ob->count--;
	ob->dropped++;
}

/* Remove item i's file (if it has one) and forget it. */
static void drop_at(struct outbox *ob, size_t i)
{
	if (!ob->items[ob->head + i].text)
		remove_file(ob, ob->items[ob->head + i].seq);
	forget_at(ob, i);
}

/* The oldest result kept in memory (there is one: nmem > 0). */
static size_t oldest_in_memory(const struct outbox *ob)
{
	size_t i = 0;

	while (!ob->items[ob->head + i].text)
		i++;
	return i;
}

int outbox_put(struct outbox *ob, const json_t *result, char *err, size_t size)
{
	char name[32], *text = jsontext_dump(result, JSON_COMPACT | JSON_PRESERVE_ORDER);
	size_t len;
	unsigned long long before = ob->dropped;
	int rc = 0;

	if (!text) {
		snprintf(err, size, "cannot encode the result (out of memory)");
		return -ENOMEM;
	}
	len = strlen(text);
	if ((long long)len > ob->max_bytes || len > OUTBOX_MAX_RESULT) {
		snprintf(err, size, "the result is %zu bytes, more than the outbox holds (outbox_max_bytes %lld)", len,
			 ob->max_bytes);
		free(text);
		return -E2BIG;
	}
	seq_name(ob->next_seq, name, sizeof(name));
	if (!ob->health.err) {
		rc = spool_write(ob->dirfd, name, text, len);
		if (rc < 0) {
			/* Renamed but not synced: the name may be there. */
			if (spool_remove(ob->dirfd, name) < 0)
				ob->stale_files = true;
			spool_failed(&ob->health, rc);
		}
	}
	if (ob->health.err && (long long)len > outbox_memory_limit(ob)) {
		snprintf(err, size,
			 "the result is %zu bytes, more than the outbox keeps in memory (%lld) while it cannot "
			 "write to disk (%s)",
			 len, outbox_memory_limit(ob), strerror(-ob->health.err));
		free(text);
		return -E2BIG;
	}
	if (!ob->health.err) {
		free(text);
		text = NULL;
	}
	rc = push(ob, ob->next_seq, (long long)len, text);
	if (rc < 0) {
		free(text);
		if (!ob->health.err)
			spool_remove(ob->dirfd, name);
		snprintf(err, size, "cannot keep the result in the outbox: %s", strerror(-rc));
		return rc;
	}
	ob->next_seq++;
	while (ob->count > 1 && ((long)ob->count > ob->max_results || ob->bytes > ob->max_bytes))
		drop_at(ob, 0);
	while (ob->nmem > 1 && ob->mem_bytes > outbox_memory_limit(ob))
		drop_at(ob, oldest_in_memory(ob));
	if (ob->dropped != before) {
		log_warn("outbox: full (%zu results, %lld bytes%s): dropped the %llu oldest", ob->count, ob->bytes,
			 ob->nmem ? ", some in memory" : "", ob->dropped - before);
		save_dropped(ob);
	}
	return 0;
}

/* Results that went to disk while they were acknowledged or dropped, on a
 * directory that would not let them go: any result file that is not in the
 * queue. Items are in sequence order, so a binary search finds them. */
static void remove_stale(struct outbox *ob)
{
	int fd = dup(ob->dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	uint64_t seq;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	rewinddir(d);
	ob->stale_files = false;
	while ((e = readdir(d))) {
		size_t lo = 0, hi = ob->count;

		if (parse_seq(e->d_name, &seq) < 0)
			continue;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (ob->items[ob->head + mid].seq < seq)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < ob->count && ob->items[ob->head + lo].seq == seq)
			continue;
		if (unlinkat(ob->dirfd, e->d_name, 0) < 0 && errno != ENOENT)
			ob->stale_files = true;
	}
	closedir(d);
}

int outbox_flush(struct outbox *ob, size_t *written)
{
	size_t n = 0;
	int rc = 0;
	bool wrote = false;

	if (written)
		*written = 0;
	if (!ob->health.err)
		return 0;
	for (size_t i = 0; i < ob->count && ob->nmem; i++) {
		struct outbox_item *it = &ob->items[ob->head + i];
		char name[32];

		if (!it->text)
			continue;
		seq_name(it->seq, name, sizeof(name));
		rc = spool_write(ob->dirfd, name, it->text, (size_t)it->size);
		if (rc < 0)
			break;
		free(it->text);
		it->text = NULL;
		ob->nmem--;
		ob->mem_bytes -= it->size;
		n++;
	}
	if (written)
		*written = n;
	wrote = n > 0;
	if (rc == 0 && ob->dropped_dirty) {
		rc = write_dropped(ob);
		wrote = true;
		if (rc == 0)
			ob->dropped_dirty = false;
	}
	if (rc == 0 && !wrote)
		rc = spool_probe(ob->dirfd);
	if (rc < 0) {
		spool_failed(&ob->health, rc);
		return rc;
	}
	if (ob->stale_files)
		remove_stale(ob);
	spool_recovered(&ob->health);
	return 0;
}

size_t outbox_count(const struct outbox *ob)
{
	return ob->count;
}

long long outbox_bytes(const struct outbox *ob)
{
	return ob->bytes;
}

size_t outbox_memory(const struct outbox *ob)
{
	return ob->nmem;
}

long long outbox_memory_bytes(const struct outbox *ob)
{
	return ob->mem_bytes;
}

int outbox_disk_error(const struct outbox *ob)
{
	return ob->health.err;
}

long outbox_retry_in(const struct outbox *ob)
{
	return spool_retry_in(&ob->health);
}

unsigned long long outbox_dropped(const struct outbox *ob)
{
	return ob->dropped;
}

void outbox_reported(struct outbox *ob, unsigned long long n)
{
	if (!n)
		return;
	ob->dropped = n > ob->dropped ? 0 : ob->dropped - n;
	save_dropped(ob);
}

json_t *outbox_batch(struct outbox *ob, size_t max_n, long long max_bytes, uint64_t **seqs, size_t *n)
{
	json_t *arr = NULL;
	long long bytes = 0;
	size_t i = 0;

	*seqs = NULL;
	*n = 0;
	if (!ob->count)
		return NULL;
	arr = json_array();
	*seqs = calloc(max_n < ob->count ? max_n : ob->count, sizeof(**seqs));
	if (!arr || !*seqs)
		goto fail;
	while (i < ob->count && *n < max_n) {
		struct outbox_item *it = &ob->items[ob->head + i];
		char name[32], *data;
		size_t len;
		json_error_t jerr;
		json_t *r;
		int rc;

		if (*n > 0 && bytes + it->size > max_bytes)
			break;
		seq_name(it->seq, name, sizeof(name));
		if (it->text) {
			rc = 0;
			r = json_loadb(it->text, (size_t)it->size, JSON_ALLOW_NUL, &jerr);
		} else {
			rc = spool_read(ob->dirfd, name, OUTBOX_MAX_RESULT, &data, &len);
			if (rc == -ENOMEM)
				goto fail;
			r = rc == 0 ? json_loadb(data, len, JSON_ALLOW_NUL, &jerr) : NULL;
			free(data);
		}
		if (!r || !json_is_object(r)) {
			log_warn("outbox: dropped unreadable result file %s: %s", name,
				 rc < 0 ? strerror(-rc) :
				 r	? "not an object" :
					  jerr.text);
			json_decref(r);
			drop_at(ob, i);
			save_dropped(ob);
			continue;
		}
		json_array_append_new(arr, r);
		(*seqs)[(*n)++] = it->seq;
		bytes += it->size;
		i++;
	}
	if (*n)
		return arr;
fail:
	json_decref(arr);
	free(*seqs);
	*seqs = NULL;
	*n = 0;
	return NULL;
}

void outbox_ack(struct outbox *ob, const uint64_t *seqs, size_t n)
{
	size_t w = 0;

	/* Both lists are in sequence order; items dropped meanwhile are skipped. */
	for (size_t i = 0, k = 0; i < ob->count; i++) {
		struct outbox_item it = ob->items[ob->head + i];

		while (k < n && seqs[k] < it.seq)
			k++;
		if (k < n && seqs[k] == it.seq) {
			if (it.text) {
				free(it.text);
				ob->nmem--;
				ob->mem_bytes -= it.size;
			} else {
				remove_file(ob, it.seq);
			}
			ob->bytes -= it.size;
			continue;
		}
		ob->items[ob->head + w++] = it;
	}
	ob->count = w;
}

/* Keep a result held in memory in rejected/ as a file, as if it had been
 * moved there. */
static int write_rejected(struct outbox *ob, const struct outbox_item *it)
{
	char name[32];
	int fd, rc;

	fd = openat(ob->dirfd, REJECTED_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	seq_name(it->seq, name, sizeof(name));
	rc = spool_write(fd, name, it->text, (size_t)it->size);
	close(fd);
	return rc;
}

int outbox_reject(struct outbox *ob, uint64_t seq)
{
	char name[32], dest[64];
	int rc = 0;

	for (size_t i = 0; i < ob->count; i++) {
		struct outbox_item *it = &ob->items[ob->head + i];

		if (it->seq != seq)
			continue;
		seq_name(seq, name, sizeof(name));
		snprintf(dest, sizeof(dest), REJECTED_DIR "/%s", name);
		if (mkdirat(ob->dirfd, REJECTED_DIR, 0700) < 0 && errno != EEXIST)
			rc = -errno;
		if (rc == 0 && it->text)
			rc = write_rejected(ob, it);
		else if (rc == 0 && renameat(ob->dirfd, name, ob->dirfd, dest) < 0)
			rc = -errno;
		if (rc < 0 && !it->text)
			remove_file(ob, seq);
		forget_at(ob, i);
		save_dropped(ob);
		return rc;
	}
	return -ENOENT;
}

/* outbox.c - results waiting for the control API, kept durably on disk. */
#include "agent/outbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/log.h"
#include "agent/spool.h"

#define DROPPED_FILE "dropped"
#define REJECTED_DIR "rejected"

struct outbox_item {
	uint64_t seq;
	long long size;
};

/* A queue in an array: items[head..head+count) in sequence order. */
struct outbox {
	int dirfd;
	struct outbox_item *items;
	size_t head, count, cap;
	long long bytes;
	uint64_t next_seq;
	unsigned long long dropped;
	long max_results;
	long long max_bytes;
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

static int push(struct outbox *ob, uint64_t seq, long long size)
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
	ob->items[ob->head + ob->count++] = (struct outbox_item){ seq, size };
	ob->bytes += size;
	return 0;
}

static int cmp_item(const void *a, const void *b)
{
	const struct outbox_item *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void save_dropped(struct outbox *ob)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%llu\n", ob->dropped);
	int rc = ob->dropped ? spool_write(ob->dirfd, DROPPED_FILE, buf, (size_t)n) :
			       spool_remove(ob->dirfd, DROPPED_FILE);

	if (rc < 0)
		log_warn("outbox: cannot record the dropped count: %s", strerror(-rc));
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
		rc = push(ob, seq, (long long)st.st_size);
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
	return ob;
}

void outbox_free(struct outbox *ob)
{
	if (!ob)
		return;
	if (ob->dirfd >= 0)
		close(ob->dirfd);
	free(ob->items);
	free(ob);
}

void outbox_set_limits(struct outbox *ob, long max_results, long long max_bytes)
{
	ob->max_results = max_results;
	ob->max_bytes = max_bytes;
}

/* Forget item i, whose file the caller has removed or moved, and count it
 * as dropped (saved by the caller). The oldest goes in O(1). */
static void forget_at(struct outbox *ob, size_t i)
{
	struct outbox_item *it = &ob->items[ob->head + i];

	ob->bytes -= it->size;
	if (i == 0)
		ob->head++;
	else
		memmove(it, it + 1, (ob->count - i - 1) * sizeof(*it));
	ob->count--;
	ob->dropped++;
}

/* Remove item i's file and forget it. */
static void drop_at(struct outbox *ob, size_t i)
{
	char name[32];

	seq_name(ob->items[ob->head + i].seq, name, sizeof(name));
	spool_remove(ob->dirfd, name);
	forget_at(ob, i);
}

int outbox_put(struct outbox *ob, const json_t *result, char *err, size_t size)
{
	char name[32], *text = json_dumps(result, JSON_COMPACT | JSON_PRESERVE_ORDER);
	size_t len;
	unsigned long long before = ob->dropped;
	int rc;

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
	rc = spool_write(ob->dirfd, name, text, len);
	free(text);
	if (rc == 0)
		rc = push(ob, ob->next_seq, (long long)len);
	if (rc < 0) {
		spool_remove(ob->dirfd, name);
		snprintf(err, size, "cannot write the result to the outbox: %s", strerror(-rc));
		return rc;
	}
	ob->next_seq++;
	while (ob->count > 1 && ((long)ob->count > ob->max_results || ob->bytes > ob->max_bytes))
		drop_at(ob, 0);
	if (ob->dropped != before) {
		log_warn("outbox: full (%zu results, %lld bytes): dropped the %llu oldest", ob->count, ob->bytes,
			 ob->dropped - before);
		save_dropped(ob);
	}
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

unsigned long long outbox_dropped(const struct outbox *ob)
{
	return ob->dropped;
}

void outbox_reported(struct outbox *ob, unsigned long long n)
{
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
		rc = spool_read(ob->dirfd, name, OUTBOX_MAX_RESULT, &data, &len);
		if (rc == -ENOMEM)
			goto fail;
		r = rc == 0 ? json_loadb(data, len, JSON_ALLOW_NUL, &jerr) : NULL;
		free(data);
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
			char name[32];

			seq_name(it.seq, name, sizeof(name));
			spool_remove(ob->dirfd, name);
			ob->bytes -= it.size;
			continue;
		}
		ob->items[ob->head + w++] = it;
	}
	ob->count = w;
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
		if (rc == 0 && renameat(ob->dirfd, name, ob->dirfd, dest) < 0)
			rc = -errno;
		if (rc < 0)
			spool_remove(ob->dirfd, name);
		forget_at(ob, i);
		save_dropped(ob);
		return rc;
	}
	return -ENOENT;
}

/* test_outbox.c - unit tests for the durable outbox of results (and the spool files under it). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/log.h"
#include "agent/outbox.h"
#include "agent/spool.h"
#include "test/unit/smallfs.h"

#define BIG_N	  1000000L
#define BIG_BYTES (1LL << 40)

static char tmpdir[64]; /* one per test */
static char obdir[128]; /* tmpdir/spool/outbox: parents are created too */
static char spdir[128]; /* tmpdir/spool: a small tmpfs in the disk tests */

/* ---- helpers -------------------------------------------------------------------- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* Hundreds of durable writes (fsync): on tmpfs when there is one. */
static int setup(void **state)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	snprintf(tmpdir, sizeof(tmpdir), "%s/diag-outbox-XXXXXX", base);
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(obdir, sizeof(obdir), "%s/spool/outbox", tmpdir);
	snprintf(spdir, sizeof(spdir), "%s/spool", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	smallfs_umount(spdir);
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static struct outbox *open_ob(long max_results, long long max_bytes)
{
	char err[256] = "";
	struct outbox *ob = outbox_open(obdir, max_results, max_bytes, err, sizeof(err));

	if (!ob)
		fail_msg("outbox_open: %s", err);
	assert_string_equal(err, "");
	return ob;
}

/* The compact text outbox_put() writes for r. */
static size_t text_len(const json_t *r)
{
	char *t = json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER);
	size_t n;

	assert_non_null(t);
	n = strlen(t);
	free(t);
	return n;
}

/* {"id":"rN","kind":"command","n":N,"pad":"xx..."} of exactly size bytes. */
static json_t *result_sized(int n, size_t size)
{
	char id[32];
	json_t *r;
	size_t base;
	char *pad;

	snprintf(id, sizeof(id), "r%d", n);
	r = json_pack("{s:s, s:s, s:i, s:s}", "id", id, "kind", "command", "n", n, "pad", "");
	assert_non_null(r);
	base = text_len(r);
	assert_true(size >= base);
	pad = malloc(size - base + 1);
	assert_non_null(pad);
	memset(pad, 'x', size - base);
	pad[size - base] = '\0';
	json_object_set_new(r, "pad", json_string(pad));
	free(pad);
	assert_int_equal(text_len(r), size);
	return r;
}

static json_t *result_n(int n)
{
	return result_sized(n, 100);
}

static void put_ok(struct outbox *ob, json_t *r)
{
	char err[256] = "";
	int rc = outbox_put(ob, r, err, sizeof(err));

	if (rc != 0)
		fail_msg("outbox_put: %d %s", rc, err);
	json_decref(r);
}

static void seq_path(uint64_t seq, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%020" PRIu64 ".json", obdir, seq);
}

static bool seq_exists(uint64_t seq)
{
	char path[256];

	seq_path(seq, path, sizeof(path));
	return access(path, F_OK) == 0;
}

/* Names of the regular files and directories in dir, sorted, joined by ' '. */
static char *list_dir(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	size_t cap = 4096, len = 0;
	char *out = calloc(1, cap);

	assert_true(n >= 0);
	assert_non_null(out);
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0)
			len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? " " : "", names[i]->d_name);
		free(names[i]);
	}
	free(names);
	assert_true(len < cap);
	return out;
}

static void assert_dir_list(const char *dir, const char *want)
{
	char *got = list_dir(dir);

	if (strcmp(got, want) != 0) {
		print_error("%s\n   got: '%s'\n  want: '%s'\n", dir, got, want);
		free(got);
		fail();
	}
	free(got);
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 16);
	size_t n;

	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

/* Take a batch and check the "n" fields and sequence numbers it holds. */
static void expect_batch(struct outbox *ob, size_t max_n, long long max_bytes, const int *want_n,
			 const uint64_t *want_seq, size_t want)
{
	uint64_t *seqs = NULL;
	size_t n = 99;
	json_t *arr = outbox_batch(ob, max_n, max_bytes, &seqs, &n);

	if (want == 0) {
		assert_null(arr);
		assert_null(seqs);
		assert_int_equal(n, 0);
		return;
	}
	assert_non_null(arr);
	assert_non_null(seqs);
	if (n != want)
		fail_msg("batch(%zu, %lld): %zu results, want %zu", max_n, max_bytes, n, want);
	assert_int_equal(json_array_size(arr), want);
	for (size_t i = 0; i < want; i++) {
		json_t *r = json_array_get(arr, i);

		assert_true(json_is_object(r));
		if (json_integer_value(json_object_get(r, "n")) != want_n[i] || seqs[i] != want_seq[i])
			fail_msg("batch[%zu]: n %lld seq %" PRIu64 ", want n %d seq %" PRIu64, i,
				 (long long)json_integer_value(json_object_get(r, "n")), seqs[i], want_n[i],
				 want_seq[i]);
	}
	json_decref(arr);
	free(seqs);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		fail_msg("%s: %s", path, strerror(errno));
	return st.st_mode & 07777;
}

/* ---- put, batch, ack -------------------------------------------------------------- */

static void test_put_batch_ack(void **state)
{
	struct outbox *ob = open_ob(BIG_N, BIG_BYTES);
	uint64_t *seqs;
	size_t n;
	json_t *arr;

	assert_int_equal(outbox_count(ob), 0);
	assert_true(outbox_bytes(ob) == 0);
	expect_batch(ob, 10, BIG_BYTES, NULL, NULL, 0);
	for (int i = 1; i <= 5; i++)
		put_ok(ob, result_sized(i, 100 + (size_t)i));
	assert_int_equal(outbox_count(ob), 5);
	assert_true(outbox_bytes(ob) == 101 + 102 + 103 + 104 + 105);
	assert_true(outbox_dropped(ob) == 0);
	for (uint64_t s = 1; s <= 5; s++)
		assert_true(seq_exists(s));

	/* the whole results come back, equal to what was put, oldest first */
	arr = outbox_batch(ob, 10, BIG_BYTES, &seqs, &n);
	assert_non_null(arr);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < 5; i++) {
		json_t *want = result_sized((int)i + 1, 101 + i);

		assert_true(json_equal(json_array_get(arr, i), want));
		assert_true(seqs[i] == i + 1);
		json_decref(want);
	}
	/* a batch changes nothing: until acknowledged, they stay */
	assert_int_equal(outbox_count(ob), 5);
	outbox_ack(ob, seqs, 3);
	json_decref(arr);
	free(seqs);
	assert_int_equal(outbox_count(ob), 2);
	assert_true(outbox_bytes(ob) == 104 + 105);
	assert_false(seq_exists(1));
	assert_false(seq_exists(3));
	assert_true(seq_exists(4));

	{
		static const int wn[] = { 4, 5 };
		static const uint64_t ws[] = { 4, 5 };

		expect_batch(ob, 10, BIG_BYTES, wn, ws, 2);
	}
	/* unknown seqs are ignored */
	outbox_ack(ob, (const uint64_t[]){ 1, 2, 3, 99 }, 4);
	assert_int_equal(outbox_count(ob), 2);
	outbox_ack(ob, (const uint64_t[]){ 4, 5 }, 2);
	assert_int_equal(outbox_count(ob), 0);
	assert_true(outbox_bytes(ob) == 0);
	assert_true(outbox_dropped(ob) == 0);
	expect_batch(ob, 10, BIG_BYTES, NULL, NULL, 0);
	assert_dir_list(obdir, "");
	outbox_ack(ob, NULL, 0);
	outbox_free(ob);
	outbox_free(NULL);
}

/* max_n and max_bytes, and at least one result whatever they say. */
static void test_batch_limits(void **state)
{
	static const struct {
		size_t max_n;
		long long max_bytes;
		size_t want;
	} cases[] = {
		{ 10, BIG_BYTES, 5 }, { 5, BIG_BYTES, 5 }, { 3, BIG_BYTES, 3 }, { 1, BIG_BYTES, 1 },
		{ 10, 500, 5 }, /* exactly the bytes of all five */
		{ 10, 499, 4 },	      { 10, 300, 3 },	   { 10, 299, 2 },	{ 10, 200, 2 },
		{ 10, 199, 1 },	      { 10, 100, 1 },	   { 10, 99, 1 }, /* the first is larger than max_bytes: still one */
		{ 10, 1, 1 },	      { 10, 0, 1 },	   { 2, 450, 2 }, /* max_n first */
		{ 4, 250, 2 },						  /* max_bytes first */
	};
	static const int wn[] = { 1, 2, 3, 4, 5 };
	static const uint64_t ws[] = { 1, 2, 3, 4, 5 };
	struct outbox *ob = open_ob(BIG_N, BIG_BYTES);

	for (int i = 1; i <= 5; i++)
		put_ok(ob, result_n(i));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_batch(ob, cases[i].max_n, cases[i].max_bytes, wn, ws, cases[i].want);
	assert_int_equal(outbox_count(ob), 5);
	outbox_free(ob);

	/* a first result larger than max_bytes, and then the others fit */
	ob = open_ob(BIG_N, BIG_BYTES);
	outbox_ack(ob, ws, 5);
	put_ok(ob, result_sized(6, 1000));
	put_ok(ob, result_n(7));
	{
		static const int wn2[] = { 6, 7 };
		static const uint64_t ws2[] = { 6, 7 };

		expect_batch(ob, 10, 500, wn2, ws2, 1);
		expect_batch(ob, 10, 1100, wn2, ws2, 2);
	}
	outbox_free(ob);
}

/* Results acknowledged after some of them were dropped by the bounds meanwhile. */
static void test_ack_after_drop(void **state)
{
	struct outbox *ob = open_ob(3, BIG_BYTES);
	uint64_t *seqs;
	size_t n;
	json_t *arr;

	for (int i = 1; i <= 3; i++)
		put_ok(ob, result_n(i));
	arr = outbox_batch(ob, 10, BIG_BYTES, &seqs, &n);
	assert_int_equal(n, 3);
	json_decref(arr);
	/* while the upload is under way, two more push out 1 and 2 */
	put_ok(ob, result_n(4));
	put_ok(ob, result_n(5));
	assert_int_equal(outbox_count(ob), 3);
	assert_true(outbox_dropped(ob) == 2);
	outbox_ack(ob, seqs, n);
	free(seqs);
	assert_int_equal(outbox_count(ob), 2);
	assert_true(outbox_bytes(ob) == 200);
	assert_true(outbox_dropped(ob) == 2);
	{
		static const int wn[] = { 4, 5 };
		static const uint64_t ws[] = { 4, 5 };

		expect_batch(ob, 10, BIG_BYTES, wn, ws, 2);
	}
	assert_false(seq_exists(3));
	assert_true(seq_exists(4));
	assert_true(seq_exists(5));
	outbox_free(ob);
}

/* ---- bounds and the dropped count ----------------------------------------------- */

static void test_bounds(void **state)
{
	static const struct {
		long max_results;
		long long max_bytes;
		int puts;
		size_t left; /* the newest `left` remain */
	} cases[] = {
		{ 3, BIG_BYTES, 5, 3 }, { 1, BIG_BYTES, 4, 1 }, { 10, BIG_BYTES, 10, 10 },
		{ 10, 350, 5, 3 },						   /* by bytes: 3 x 100 <= 350 */
		{ 10, 300, 5, 3 },						   /* exactly full is not over */
		{ 10, 299, 5, 2 },	{ 10, 100, 3, 1 },	{ 2, 1000, 5, 2 }, /* both bounds; the count binds */
		{ 4, 250, 5, 2 },						   /* both bounds; the bytes bind */
	};
	char path[256];

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct outbox *ob;
		char *text;
		unsigned long long dropped = (unsigned long long)(cases[c].puts - (int)cases[c].left);
		int wn[16];
		uint64_t ws[16];

		nftw(obdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		ob = open_ob(cases[c].max_results, cases[c].max_bytes);
		for (int i = 1; i <= cases[c].puts; i++)
			put_ok(ob, result_n(i));
		if (outbox_count(ob) != cases[c].left || outbox_dropped(ob) != dropped)
			fail_msg("case %zu: %zu left, %llu dropped; want %zu, %llu", c, outbox_count(ob),
				 outbox_dropped(ob), cases[c].left, dropped);
		assert_true(outbox_bytes(ob) == 100 * (long long)cases[c].left);
		for (size_t i = 0; i < cases[c].left; i++) {
			wn[i] = cases[c].puts - (int)cases[c].left + 1 + (int)i;
			ws[i] = (uint64_t)wn[i];
		}
		expect_batch(ob, 100, BIG_BYTES, wn, ws, cases[c].left);
		for (int i = 1; i <= cases[c].puts; i++)
			assert_int_equal(seq_exists((uint64_t)i), i > (int)dropped);
		/* the count is on disk too, until reported */
		snprintf(path, sizeof(path), "%s/dropped", obdir);
		if (dropped) {
			char want[32];

			snprintf(want, sizeof(want), "%llu\n", dropped);
			text = read_text(path);
			assert_string_equal(text, want);
			free(text);
			outbox_reported(ob, 1);
			assert_true(outbox_dropped(ob) == dropped - 1);
			outbox_reported(ob, 1000);
			assert_true(outbox_dropped(ob) == 0);
			assert_int_equal(access(path, F_OK), -1);
		} else {
			assert_int_equal(access(path, F_OK), -1);
		}
		outbox_free(ob);
	}
}

/* New bounds apply at the next put. */
static void test_set_limits(void **state)
{
	struct outbox *ob = open_ob(BIG_N, BIG_BYTES);

	for (int i = 1; i <= 6; i++)
		put_ok(ob, result_n(i));
	outbox_set_limits(ob, 2, BIG_BYTES);
	assert_int_equal(outbox_count(ob), 6);
	assert_true(outbox_dropped(ob) == 0);
	put_ok(ob, result_n(7));
	assert_int_equal(outbox_count(ob), 2);
	assert_true(outbox_dropped(ob) == 5);
	outbox_set_limits(ob, BIG_N, 100);
	put_ok(ob, result_n(8));
	assert_int_equal(outbox_count(ob), 1);
	assert_true(outbox_dropped(ob) == 7);
	{
		static const int wn[] = { 8 };
		static const uint64_t ws[] = { 8 };

		expect_batch(ob, 10, BIG_BYTES, wn, ws, 1);
	}
	outbox_free(ob);
}

/* A result larger than max_bytes is refused and changes nothing; one of
 * exactly max_bytes is taken and pushes out everything else. */
static void test_too_big(void **state)
{
	struct outbox *ob = open_ob(BIG_N, 1000);
	json_t *big = result_sized(99, 1001);
	char err[256] = "";
	char *before;

	put_ok(ob, result_n(1));
	put_ok(ob, result_n(2));
	before = list_dir(obdir);
	assert_int_equal(outbox_put(ob, big, err, sizeof(err)), -E2BIG);
	assert_string_equal(err, "the result is 1001 bytes, more than the outbox holds (outbox_max_bytes 1000)");
	json_decref(big);
	assert_int_equal(outbox_count(ob), 2);
	assert_true(outbox_bytes(ob) == 200);
	assert_true(outbox_dropped(ob) == 0);
	assert_dir_list(obdir, before);
	free(before);
	/* no sequence number was used up */
	put_ok(ob, result_n(3));
	{
		static const int wn[] = { 1, 2, 3 };
		static const uint64_t ws[] = { 1, 2, 3 };

		expect_batch(ob, 10, BIG_BYTES, wn, ws, 3);
	}
	put_ok(ob, result_sized(4, 1000));
	assert_int_equal(outbox_count(ob), 1);
	assert_true(outbox_bytes(ob) == 1000);
	assert_true(outbox_dropped(ob) == 3);
	{
		static const int wn[] = { 4 };
		static const uint64_t ws[] = { 4 };

		expect_batch(ob, 10, BIG_BYTES, wn, ws, 1);
	}
	outbox_free(ob);
}

/* ---- restarts -------------------------------------------------------------------- */

static void test_restart(void **state)
{
	struct outbox *ob = open_ob(4, BIG_BYTES);

	for (int i = 1; i <= 6; i++)
		put_ok(ob, result_n(i));
	outbox_ack(ob, (const uint64_t[]){ 4 }, 1);
	assert_int_equal(outbox_count(ob), 3);
	assert_true(outbox_dropped(ob) == 2);
	outbox_free(ob);

	ob = open_ob(4, BIG_BYTES);
	assert_int_equal(outbox_count(ob), 3);
	assert_true(outbox_bytes(ob) == 300);
	assert_true(outbox_dropped(ob) == 2);
	{
		static const int wn[] = { 3, 5, 6 };
		static const uint64_t ws[] = { 3, 5, 6 };

		expect_batch(ob, 10, BIG_BYTES, wn, ws, 3);
	}
	/* new results continue after the old ones */
	put_ok(ob, result_n(7));
	assert_int_equal(outbox_count(ob), 4);
	assert_true(outbox_dropped(ob) == 2);
	put_ok(ob, result_n(8));
	assert_int_equal(outbox_count(ob), 4);
	assert_true(outbox_dropped(ob) == 3);
	assert_true(seq_exists(8));
	{
		static const int wn[] = { 5, 6, 7, 8 };
		static const uint64_t ws[] = { 5, 6, 7, 8 };

		expect_batch(ob, 10, BIG_BYTES, wn, ws, 4);
	}
	outbox_reported(ob, 1);
	outbox_free(ob);

	/* the reported part of the count stays reported */
	ob = open_ob(4, BIG_BYTES);
	assert_true(outbox_dropped(ob) == 2);
	assert_int_equal(outbox_count(ob), 4);
	outbox_free(ob);
}

/* Many results, across the queue's growth and compaction, and a restart. */
static void test_many(void **state)
{
	struct outbox *ob = open_ob(BIG_N, BIG_BYTES);
	uint64_t *seqs;
	size_t n, total = 0;
	json_t *arr;
	int next = 1;

	for (int round = 0; round < 6; round++) {
		for (int i = 0; i < 50; i++)
			put_ok(ob, result_n(next++));
		arr = outbox_batch(ob, 40, BIG_BYTES, &seqs, &n);
		assert_int_equal(n, 40);
		for (size_t i = 0; i < n; i++)
			assert_true(seqs[i] == total + i + 1);
		outbox_ack(ob, seqs, n);
		total += n;
		json_decref(arr);
		free(seqs);
	}
	assert_int_equal(outbox_count(ob), 60);
	outbox_free(ob);
	ob = open_ob(BIG_N, BIG_BYTES);
	assert_int_equal(outbox_count(ob), 60);
	arr = outbox_batch(ob, 1000, BIG_BYTES, &seqs, &n);
	assert_int_equal(n, 60);
	for (size_t i = 0; i < n; i++) {
		assert_true(seqs[i] == 241 + i);
		assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, i), "n")), 241 + (int)i);
	}
	json_decref(arr);
	free(seqs);
	outbox_free(ob);
}

/* Unreadable and corrupt files are dropped by outbox_batch and counted. */
static void test_corrupt_files(void **state)
{
	static const char *const bad[] = { "{\"id\":\"r2\",", "[1,2]", "", "\"text\"", NULL };
	struct outbox *ob = open_ob(BIG_N, BIG_BYTES);
	char path[256], target[300];

	for (int i = 1; i <= 7; i++)
		put_ok(ob, result_n(i));
	/* 2..5: cut short, not an object, empty, a string; 6: a symlink (not followed) */
	for (int i = 0; bad[i]; i++) {
		seq_path((uint64_t)i + 2, path, sizeof(path));
		write_text(path, bad[i]);
	}
	seq_path(6, path, sizeof(path));
	snprintf(target, sizeof(target), "%s.real", path);
	assert_int_equal(rename(path, target), 0);
	assert_int_equal(symlink(target, path), 0);
	{
		static const int wn[] = { 1, 7 };
		static const uint64_t ws[] = { 1, 7 };

		expect_batch(ob, 10, BIG_BYTES, wn, ws, 2);
	}
	assert_int_equal(outbox_count(ob), 2);
	assert_true(outbox_dropped(ob) == 5);
	for (uint64_t s = 2; s <= 6; s++)
		assert_false(seq_exists(s));
	assert_int_equal(access(target, F_OK), 0); /* the symlink's target is left alone */
	outbox_free(ob);

	/* also after a restart, with only bad files at the head */
	ob = open_ob(BIG_N, BIG_BYTES);
	assert_true(outbox_dropped(ob) == 5);
	seq_path(1, path, sizeof(path));
	write_text(path, "garbage");
	seq_path(7, path, sizeof(path));
	write_text(path, "{}");
	{
		static const uint64_t ws[] = { 7 };
		uint64_t *seqs;
		size_t n;
		json_t *arr = outbox_batch(ob, 1, BIG_BYTES, &seqs, &n);

		assert_non_null(arr);
		assert_int_equal(n, 1);
		assert_true(seqs[0] == ws[0]);
		assert_true(json_is_object(json_array_get(arr, 0)) && json_object_size(json_array_get(arr, 0)) == 0);
		json_decref(arr);
		free(seqs);
	}
	assert_true(outbox_dropped(ob) == 6);
	/* only bad files: nothing to send, all counted */
	seq_path(7, path, sizeof(path));
	write_text(path, "nope");
	expect_batch(ob, 10, BIG_BYTES, NULL, NULL, 0);
	assert_int_equal(outbox_count(ob), 0);
	assert_true(outbox_bytes(ob) == 0);
	assert_true(outbox_dropped(ob) == 7);
	outbox_free(ob);
	ob = open_ob(BIG_N, BIG_BYTES);
	assert_true(outbox_dropped(ob) == 7);
	outbox_free(ob);
}

/* A write cut short by a crash leaves a .tmp file: removed at open; other
 * files that are not results are left alone and not counted. */
static void test_leftover_tmp(void **state)
{
	struct outbox *ob = open_ob(BIG_N, BIG_BYTES);
	char path[256];

	put_ok(ob, result_n(1));
	outbox_free(ob);
	snprintf(path, sizeof(path), "%s/.00000000000000000002.json.tmp", obdir);
	write_text(path, "{\"id\":\"half");
	snprintf(path, sizeof(path), "%s/.dropped.tmp", obdir);
	write_text(path, "12");
	snprintf(path, sizeof(path), "%s/notes.txt", obdir);
	write_text(path, "x");
	snprintf(path, sizeof(path), "%s/123.json", obdir);
	write_text(path, "{}");
	ob = open_ob(BIG_N, BIG_BYTES);
	assert_dir_list(obdir, "00000000000000000001.json 123.json notes.txt");
	assert_int_equal(outbox_count(ob), 1);
	assert_true(outbox_dropped(ob) == 0);
	put_ok(ob, result_n(2));
	assert_true(seq_exists(2));
	{
		static const int wn[] = { 1, 2 };
		static const uint64_t ws[] = { 1, 2 };

		expect_batch(ob, 10, BIG_BYTES, wn, ws, 2);
	}
	outbox_free(ob);
}

/* ---- the files ------------------------------------------------------------------- */

static void test_permissions(void **state)
{
	struct outbox *ob = open_ob(1, BIG_BYTES);
	char path[256], err[256];
	mode_t old = umask(0);

	/* created: the directory and its parents 0700, every file 0600 */
	assert_int_equal(mode_of(obdir), 0700);
	snprintf(path, sizeof(path), "%s/spool", tmpdir);
	assert_int_equal(mode_of(path), 0700);
	put_ok(ob, result_n(1));
	put_ok(ob, result_n(2)); /* drops 1: the dropped file */
	seq_path(2, path, sizeof(path));
	assert_int_equal(mode_of(path), 0600);
	snprintf(path, sizeof(path), "%s/dropped", obdir);
	assert_int_equal(mode_of(path), 0600);
	assert_int_equal(outbox_reject(ob, 2), 0);
	snprintf(path, sizeof(path), "%s/rejected", obdir);
	assert_int_equal(mode_of(path), 0700);
	snprintf(path, sizeof(path), "%s/rejected/00000000000000000002.json", obdir);
	assert_int_equal(mode_of(path), 0600);
	outbox_free(ob);

	/* an existing directory open to others is tightened */
	assert_int_equal(chmod(obdir, 0755), 0);
	assert_int_equal(mode_of(obdir), 0755);
	ob = open_ob(1, BIG_BYTES);
	assert_int_equal(mode_of(obdir), 0700);
	/* even with a permissive umask, new files are 0600 */
	put_ok(ob, result_n(3));
	seq_path(3, path, sizeof(path));
	assert_int_equal(mode_of(path), 0600);
	outbox_free(ob);
	umask(old);

	/* a path that cannot be a directory */
	snprintf(path, sizeof(path), "%s/file", tmpdir);
	write_text(path, "x");
	snprintf(path, sizeof(path), "%s/file/outbox", tmpdir);
	assert_null(outbox_open(path, 1, BIG_BYTES, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot create '"));
	assert_non_null(strstr(err, "/file/outbox': Not a directory"));
}

/* Strings with NUL characters (\u0000) come back whole, also after a restart. */
static void test_nul_round_trip(void **state)
{
	static const char bytes[] = "a\0b\0\0c";
	struct outbox *ob = open_ob(BIG_N, BIG_BYTES);
	json_t *r = json_object(), *arr;
	uint64_t *seqs;
	size_t n;

	json_object_set_new(r, "id", json_string("nul"));
	json_object_set_new(r, "stdout", json_stringn(bytes, sizeof(bytes) - 1));
	json_object_set_new(r, "list", json_pack("[s#]", bytes, (size_t)3));
	json_incref(r);
	put_ok(ob, r);
	for (int round = 0; round < 2; round++) {
		json_t *s;

		arr = outbox_batch(ob, 10, BIG_BYTES, &seqs, &n);
		assert_int_equal(n, 1);
		s = json_object_get(json_array_get(arr, 0), "stdout");
		assert_int_equal(json_string_length(s), sizeof(bytes) - 1);
		assert_memory_equal(json_string_value(s), bytes, sizeof(bytes) - 1);
		assert_true(json_equal(json_array_get(arr, 0), r));
		json_decref(arr);
		free(seqs);
		outbox_free(ob);
		ob = open_ob(BIG_N, BIG_BYTES);
	}
	json_decref(r);
	outbox_free(ob);
}

static void test_reject(void **state)
{
	struct outbox *ob = open_ob(BIG_N, BIG_BYTES);
	char path[256], *text, *want;
	json_t *r2 = result_n(2);

	for (int i = 1; i <= 3; i++)
		put_ok(ob, result_n(i));
	seq_path(2, path, sizeof(path));
	want = read_text(path);
	assert_int_equal(outbox_reject(ob, 2), 0);
	assert_int_equal(outbox_count(ob), 2);
	assert_true(outbox_bytes(ob) == 200);
	assert_true(outbox_dropped(ob) == 1);
	assert_false(seq_exists(2));
	snprintf(path, sizeof(path), "%s/rejected/00000000000000000002.json", obdir);
	text = read_text(path);
	assert_string_equal(text, want);
	{
		json_t *back = json_loads(text, 0, NULL);

		assert_true(json_equal(back, r2));
		json_decref(back);
	}
	free(text);
	free(want);
	json_decref(r2);
	{
		static const int wn[] = { 1, 3 };
		static const uint64_t ws[] = { 1, 3 };

		expect_batch(ob, 10, BIG_BYTES, wn, ws, 2);
	}
	assert_int_equal(outbox_reject(ob, 2), -ENOENT);
	assert_int_equal(outbox_reject(ob, 99), -ENOENT);
	assert_true(outbox_dropped(ob) == 1);
	assert_int_equal(outbox_reject(ob, 3), 0);
	assert_dir_list(obdir, "00000000000000000001.json dropped rejected");
	outbox_free(ob);

	/* rejected results stay out after a restart; the count survives */
	ob = open_ob(BIG_N, BIG_BYTES);
	assert_int_equal(outbox_count(ob), 1);
	assert_true(outbox_dropped(ob) == 2);
	snprintf(path, sizeof(path), "%s/rejected", obdir);
	assert_dir_list(path, "00000000000000000002.json 00000000000000000003.json");
	put_ok(ob, result_n(4));
	{
		static const int wn[] = { 1, 4 };
		static const uint64_t ws[] = { 1, 4 };

		/* 4, not 2: a rejected result's number is not given out again */
		expect_batch(ob, 10, BIG_BYTES, wn, ws, 2);
	}
	assert_int_equal(outbox_reject(ob, 4), 0);
	assert_dir_list(path, "00000000000000000002.json 00000000000000000003.json 00000000000000000004.json");
	assert_true(outbox_dropped(ob) == 3);
	outbox_free(ob);
}

/* ---- spool.h directly ------------------------------------------------------------- */

static void test_spool(void **state)
{
	char err[256] = "", *data;
	size_t len;
	int fd = spool_open_dir(obdir, err, sizeof(err));

	assert_true(fd >= 0);
	assert_int_equal(spool_write(fd, "a", "hello\0world", 11), 0);
	assert_int_equal(spool_read(fd, "a", 11, &data, &len), 0);
	assert_int_equal(len, 11);
	assert_memory_equal(data, "hello\0world", 12); /* NUL terminated too */
	free(data);
	assert_int_equal(spool_read(fd, "a", 10, &data, &len), -EFBIG);
	assert_null(data);
	assert_int_equal(len, 0);
	assert_int_equal(spool_write(fd, "a", "", 0), 0);
	assert_int_equal(spool_read(fd, "a", 10, &data, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(data, "");
	free(data);
	assert_int_equal(spool_read(fd, "missing", 10, &data, &len), -ENOENT);
	assert_int_equal(spool_remove(fd, "a"), 0);
	assert_int_equal(spool_remove(fd, "a"), 0);
	assert_int_equal(spool_read(fd, "a", 10, &data, &len), -ENOENT);
	assert_int_equal(mkdirat(fd, "d", 0700), 0);
	assert_int_equal(spool_read(fd, "d", 10, &data, &len), -EINVAL);
	assert_dir_list(obdir, "d");
	close(fd);
}

/* ---- a directory that cannot be written -------------------------------------------- */

/* The text of result file seq, which must exist. */
static char *seq_text(uint64_t seq)
{
	char path[256];

	seq_path(seq, path, sizeof(path));
	return read_text(path);
}

static void assert_seq_is(uint64_t seq, const json_t *want)
{
	char *text = seq_text(seq);
	json_t *back = json_loads(text, 0, NULL);

	if (!json_equal(back, want))
		fail_msg("file %" PRIu64 ": '%.80s' is not the result put", seq, text);
	json_decref(back);
	free(text);
}

/* A full disk: results go to memory, are batched and acknowledged there, in
 * order with those on disk; retries back off; when space returns one flush
 * writes them, and they survive a restart. */
static void test_disk_full(void **state)
{
	struct outbox *ob;
	json_t *r[6];
	size_t written = 99;
	long in;

	smallfs_mount(spdir, 256 * 1024);
	ob = open_ob(BIG_N, BIG_BYTES);
	assert_int_equal(outbox_disk_error(ob), 0);
	assert_int_equal(outbox_retry_in(ob), -1);
	for (int i = 1; i <= 5; i++)
		r[i] = result_sized(i, 200 + (size_t)i);
	put_ok(ob, json_incref(r[1]));
	put_ok(ob, json_incref(r[2]));
	smallfs_fill(spdir);
	/* the first failed write: kept in memory, and the outbox says why */
	put_ok(ob, json_incref(r[3]));
	assert_int_equal(outbox_disk_error(ob), -ENOSPC);
	in = outbox_retry_in(ob);
	if (in <= 0 || in > SPOOL_RETRY_MIN_MS)
		fail_msg("retry in %ld ms, want 1..%d", in, SPOOL_RETRY_MIN_MS);
	put_ok(ob, json_incref(r[4]));
	put_ok(ob, json_incref(r[5]));
	assert_int_equal(outbox_count(ob), 5);
	assert_true(outbox_bytes(ob) == 201 + 202 + 203 + 204 + 205);
	assert_int_equal(outbox_memory(ob), 3);
	assert_true(outbox_memory_bytes(ob) == 203 + 204 + 205);
	assert_true(outbox_dropped(ob) == 0);
	assert_dir_list(obdir, "00000000000000000001.json 00000000000000000002.json");

	/* uploads go on: oldest first, disk and memory in one batch */
	{
		static const int wn[] = { 1, 2, 3, 4, 5 };
		static const uint64_t ws[] = { 1, 2, 3, 4, 5 };
		uint64_t *seqs;
		size_t n;
		json_t *arr = outbox_batch(ob, 10, BIG_BYTES, &seqs, &n);

		expect_batch(ob, 10, BIG_BYTES, wn, ws, 5);
		expect_batch(ob, 3, 600, wn, ws, 2); /* the byte bound counts memory too */
		assert_int_equal(n, 5);
		for (size_t i = 0; i < n; i++)
			assert_true(json_equal(json_array_get(arr, i), r[i + 1]));
		json_decref(arr);
		/* 1 (disk) and 3 (memory) acknowledged; a full disk still lets a file go */
		outbox_ack(ob, (const uint64_t[]){ 1, 3 }, 2);
		free(seqs);
	}
	assert_int_equal(outbox_count(ob), 3);
	assert_int_equal(outbox_memory(ob), 2);
	assert_true(outbox_memory_bytes(ob) == 204 + 205);
	assert_false(seq_exists(1));

	/* still full: the retry fails, nothing is lost, the next waits longer */
	smallfs_fill(spdir); /* the page 1 gave back */
	assert_int_equal(outbox_flush(ob, &written), -ENOSPC);
	assert_int_equal(written, 0);
	assert_int_equal(outbox_memory(ob), 2);
	in = outbox_retry_in(ob);
	if (in <= SPOOL_RETRY_MIN_MS || in > 2 * SPOOL_RETRY_MIN_MS)
		fail_msg("retry in %ld ms after two failures, want %d..%d", in, SPOOL_RETRY_MIN_MS + 1,
			 2 * SPOOL_RETRY_MIN_MS);

	/* space returns: one flush writes them, oldest first, and the outbox is durable again */
	smallfs_unfill(spdir);
	assert_int_equal(outbox_flush(ob, &written), 0);
	assert_int_equal(written, 2);
	assert_int_equal(outbox_disk_error(ob), 0);
	assert_int_equal(outbox_retry_in(ob), -1);
	assert_int_equal(outbox_memory(ob), 0);
	assert_true(outbox_memory_bytes(ob) == 0);
	assert_dir_list(obdir, "00000000000000000002.json 00000000000000000004.json 00000000000000000005.json");
	assert_seq_is(4, r[4]);
	assert_seq_is(5, r[5]);
	assert_int_equal(outbox_flush(ob, &written), 0); /* durable: nothing to do */
	assert_int_equal(written, 0);
	/* the next result goes straight to disk */
	put_ok(ob, result_n(6));
	assert_true(seq_exists(6));
	assert_int_equal(outbox_memory(ob), 0);
	outbox_free(ob);

	ob = open_ob(BIG_N, BIG_BYTES);
	assert_int_equal(outbox_disk_error(ob), 0);
	{
		static const int wn[] = { 2, 4, 5, 6 };
		static const uint64_t ws[] = { 2, 4, 5, 6 };

		expect_batch(ob, 10, BIG_BYTES, wn, ws, 4);
	}
	outbox_free(ob);
	for (int i = 1; i <= 5; i++)
		json_decref(r[i]);
}

/* A flush that writes some results before the disk is full again keeps
 * the rest in memory, in order; the next flush goes on from there. */
static void test_disk_flush_partial(void **state)
{
	struct outbox *ob;
	char path[256];
	size_t written;
	int fd;

	smallfs_mount(spdir, 64 * 1024);
	ob = open_ob(BIG_N, BIG_BYTES);
	smallfs_fill(spdir);
	/* 6 results of 5000 bytes: two 4 KiB pages each */
	for (int i = 1; i <= 6; i++)
		put_ok(ob, result_sized(i, 5000));
	assert_int_equal(outbox_memory(ob), 6);
	/* give back 4 pages: room for two of them */
	snprintf(path, sizeof(path), "%s/" SMALLFS_FILL, spdir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	{
		struct stat st;

		assert_int_equal(fstat(fd, &st), 0);
		assert_int_equal(ftruncate(fd, st.st_size / 4096 * 4096 - 4 * 4096), 0);
	}
	close(fd);
	assert_int_equal(outbox_flush(ob, &written), -ENOSPC);
	assert_int_equal(written, 2);
	assert_int_equal(outbox_memory(ob), 4);
	assert_int_equal(outbox_count(ob), 6);
	assert_true(seq_exists(1) && seq_exists(2) && !seq_exists(3));
	{
		static const int wn[] = { 1, 2, 3, 4, 5, 6 };
		static const uint64_t ws[] = { 1, 2, 3, 4, 5, 6 };

		expect_batch(ob, 10, BIG_BYTES, wn, ws, 6);
	}
	smallfs_unfill(spdir);
	assert_int_equal(outbox_flush(ob, &written), 0);
	assert_int_equal(written, 4);
	assert_int_equal(outbox_memory(ob), 0);
	for (uint64_t s = 1; s <= 6; s++)
		assert_true(seq_exists(s));
	outbox_free(ob);
}

/* The bounds hold while results are in memory: the oldest go first, those
 * on disk included (a full disk lets a file go); the dropped count waits
 * in memory and is written with the results. */
static void test_disk_full_bounds(void **state)
{
	struct outbox *ob;
	char path[256], *text;
	size_t written;

	smallfs_mount(spdir, 256 * 1024);
	ob = open_ob(3, BIG_BYTES);
	put_ok(ob, result_n(1));
	smallfs_fill(spdir);
	for (int i = 2; i <= 6; i++)
		put_ok(ob, result_n(i));
	assert_int_equal(outbox_count(ob), 3);
	assert_int_equal(outbox_memory(ob), 3);
	assert_true(outbox_dropped(ob) == 3);
	assert_false(seq_exists(1)); /* dropped from disk */
	snprintf(path, sizeof(path), "%s/dropped", obdir);
	assert_int_equal(access(path, F_OK), -1);
	{
		static const int wn[] = { 4, 5, 6 };
		static const uint64_t ws[] = { 4, 5, 6 };

		expect_batch(ob, 10, BIG_BYTES, wn, ws, 3);
	}
	/* a heartbeat reported 1 of them */
	outbox_reported(ob, 1);
	assert_true(outbox_dropped(ob) == 2);
	/* the byte bound: max_bytes 250 keeps two of 100 */
	outbox_set_limits(ob, BIG_N, 250);
	put_ok(ob, result_n(7));
	assert_int_equal(outbox_count(ob), 2);
	assert_true(outbox_dropped(ob) == 4);
	smallfs_unfill(spdir);
	assert_int_equal(outbox_flush(ob, &written), 0);
	assert_int_equal(written, 2);
	assert_dir_list(obdir, "00000000000000000006.json 00000000000000000007.json dropped");
	text = read_text(path);
	assert_string_equal(text, "4\n");
	free(text);
	outbox_free(ob);
	ob = open_ob(BIG_N, BIG_BYTES);
	assert_true(outbox_dropped(ob) == 4);
	assert_int_equal(outbox_count(ob), 2);
	outbox_free(ob);
}

/* In memory at most the memory limit (OUTBOX_MAX_MEMORY unless set), or
 * max_bytes when smaller: past it the oldest in memory go, not those on
 * disk; a result larger than it alone is refused while the disk is full,
 * and taken when it is not. */
static void test_disk_memory_cap(void **state)
{
	struct outbox *ob;
	char err[256] = "";
	json_t *big;
	size_t written;

	smallfs_mount(spdir, 256 * 1024);
	ob = open_ob(BIG_N, BIG_BYTES);
	assert_true(outbox_memory_limit(ob) == OUTBOX_MAX_MEMORY);
	outbox_set_limits(ob, BIG_N, 1000);
	assert_true(outbox_memory_limit(ob) == 1000);
	outbox_set_limits(ob, BIG_N, BIG_BYTES);
	outbox_set_memory_limit(ob, 1000);
	assert_true(outbox_memory_limit(ob) == 1000);

	put_ok(ob, result_n(1));
	put_ok(ob, result_n(2));
	smallfs_fill(spdir);
	put_ok(ob, result_sized(3, 400));
	put_ok(ob, result_sized(4, 400));
	assert_int_equal(outbox_memory(ob), 2);
	assert_true(outbox_dropped(ob) == 0);
	put_ok(ob, result_sized(5, 400)); /* 1200 > 1000: 3 goes, the older 1 and 2 on disk stay */
	assert_int_equal(outbox_count(ob), 4);
	assert_int_equal(outbox_memory(ob), 2);
	assert_true(outbox_memory_bytes(ob) == 800);
	assert_true(outbox_dropped(ob) == 1);
	{
		static const int wn[] = { 1, 2, 4, 5 };
		static const uint64_t ws[] = { 1, 2, 4, 5 };

		expect_batch(ob, 10, BIG_BYTES, wn, ws, 4);
	}
	/* exactly the limit is not over it: it pushes out the others in memory */
	put_ok(ob, result_sized(6, 1000));
	assert_int_equal(outbox_memory(ob), 1);
	assert_true(outbox_dropped(ob) == 3);
	big = result_sized(7, 1001);
	assert_int_equal(outbox_put(ob, big, err, sizeof(err)), -E2BIG);
	assert_string_equal(err, "the result is 1001 bytes, more than the outbox keeps in memory (1000) while it "
				 "cannot write to disk (No space left on device)");
	assert_int_equal(outbox_count(ob), 3);
	assert_true(outbox_dropped(ob) == 3);
	/* on disk the limit does not apply */
	smallfs_unfill(spdir);
	assert_int_equal(outbox_flush(ob, &written), 0);
	assert_int_equal(written, 1);
	put_ok(ob, big);
	assert_int_equal(outbox_count(ob), 4);
	assert_int_equal(outbox_memory(ob), 0);
	{
		static const int wn[] = { 1, 2, 6, 7 };
		static const uint64_t ws[] = { 1, 2, 6, 7 }; /* a refused result takes no number */

		expect_batch(ob, 10, BIG_BYTES, wn, ws, 4);
	}
	outbox_free(ob);

	/* a small max_bytes bounds the memory too */
	ob = open_ob(BIG_N, 1000);
	smallfs_fill(spdir);
	for (int i = 8; i <= 11; i++)
		put_ok(ob, result_sized(i, 300));
	assert_true(outbox_bytes(ob) <= 1000);
	assert_int_equal(outbox_memory(ob), 3);
	assert_true(outbox_memory_bytes(ob) == 900);
	outbox_free(ob);
}

/* A read-only disk: results go to memory; files acknowledged or dropped
 * meanwhile cannot be removed, and are removed when it is writable again. */
static void test_disk_readonly(void **state)
{
	struct outbox *ob;
	size_t written;

	smallfs_mount(spdir, 256 * 1024);
	ob = open_ob(BIG_N, BIG_BYTES);
	put_ok(ob, result_n(1));
	put_ok(ob, result_n(2));
	smallfs_readonly(spdir, true);
	put_ok(ob, result_n(3));
	assert_int_equal(outbox_disk_error(ob), -EROFS);
	assert_int_equal(outbox_memory(ob), 1);
	outbox_ack(ob, (const uint64_t[]){ 1 }, 1);
	assert_int_equal(outbox_count(ob), 2);
	assert_true(seq_exists(1)); /* cannot go yet */
	outbox_set_limits(ob, 2, BIG_BYTES);
	put_ok(ob, result_n(4)); /* pushes out 2, on disk */
	assert_true(outbox_dropped(ob) == 1);
	assert_int_equal(outbox_memory(ob), 2);
	assert_true(seq_exists(2));
	{
		static const int wn[] = { 3, 4 };
		static const uint64_t ws[] = { 3, 4 };

		expect_batch(ob, 10, BIG_BYTES, wn, ws, 2);
	}
	assert_int_equal(outbox_flush(ob, &written), -EROFS);
	assert_int_equal(written, 0);
	smallfs_readonly(spdir, false);
	assert_int_equal(outbox_flush(ob, &written), 0);
	assert_int_equal(written, 2);
	assert_dir_list(obdir, "00000000000000000003.json 00000000000000000004.json dropped");
	outbox_free(ob);

	/* an outbox opened read-only works from memory, and its files are there */
	smallfs_readonly(spdir, true);
	ob = open_ob(BIG_N, BIG_BYTES);
	assert_int_equal(outbox_disk_error(ob), -EROFS);
	assert_int_equal(outbox_count(ob), 2);
	assert_true(outbox_dropped(ob) == 1);
	put_ok(ob, result_n(5));
	assert_int_equal(outbox_memory(ob), 1);
	{
		static const int wn[] = { 3, 4, 5 };
		static const uint64_t ws[] = { 3, 4, 5 };

		expect_batch(ob, 10, BIG_BYTES, wn, ws, 3);
	}
	/* a reported count that cannot be written waits too */
	outbox_reported(ob, 1);
	assert_true(outbox_dropped(ob) == 0);
	smallfs_readonly(spdir, false);
	assert_int_equal(outbox_flush(ob, &written), 0);
	assert_int_equal(written, 1);
	assert_dir_list(obdir, "00000000000000000003.json 00000000000000000004.json 00000000000000000005.json");
	outbox_free(ob);
}

/* A refused result held in memory is kept in rejected/ when the disk lets
 * it, and is gone (counted) when it does not. */
static void test_disk_reject(void **state)
{
	struct outbox *ob;
	json_t *r1 = result_n(1);
	char path[256];

	smallfs_mount(spdir, 256 * 1024);
	ob = open_ob(BIG_N, BIG_BYTES);
	smallfs_fill(spdir);
	put_ok(ob, json_incref(r1));
	put_ok(ob, result_n(2));
	assert_int_equal(outbox_memory(ob), 2);
	assert_int_equal(outbox_reject(ob, 2), -ENOSPC);
	assert_int_equal(outbox_count(ob), 1);
	assert_true(outbox_dropped(ob) == 1);
	smallfs_unfill(spdir);
	assert_int_equal(outbox_reject(ob, 1), 0);
	assert_int_equal(outbox_count(ob), 0);
	assert_int_equal(outbox_memory(ob), 0);
	assert_true(outbox_dropped(ob) == 2);
	snprintf(path, sizeof(path), "%s/rejected", obdir);
	assert_dir_list(path, "00000000000000000001.json");
	{
		char *text;
		json_t *back;

		snprintf(path, sizeof(path), "%s/rejected/00000000000000000001.json", obdir);
		text = read_text(path);
		back = json_loads(text, 0, NULL);
		assert_true(json_equal(back, r1));
		json_decref(back);
		free(text);
	}
	json_decref(r1);
	outbox_free(ob);
}

/* spool.h's probe, hints and retry clock. */
static void test_spool_health(void **state)
{
	static const int errs[] = { -ENOSPC, -EDQUOT, -EROFS, -EACCES, -EIO, -ENOENT, -EMFILE, -EFBIG };
	struct spool_health h = { 0 };
	char err[256] = "";
	int fd, want = SPOOL_RETRY_MIN_MS;

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		assert_true(strlen(spool_hint(errs[i])) > 10);
	assert_non_null(strstr(spool_hint(-ENOSPC), "free space"));
	assert_non_null(strstr(spool_hint(-EROFS), "remount it read-write"));
	assert_non_null(strstr(spool_hint(-EIO), "dmesg"));

	assert_int_equal(spool_retry_in(&h), -1);
	for (int i = 0; i < 6; i++) {
		long in;

		spool_failed(&h, i < 3 ? -ENOSPC : -EROFS);
		in = spool_retry_in(&h);
		if (in > want || in < want - 100)
			fail_msg("failure %d: retry in %ld ms, want %d", i + 1, in, want);
		want = want * 2 > SPOOL_RETRY_MAX_MS ? SPOOL_RETRY_MAX_MS : want * 2;
	}
	assert_int_equal(h.err, -EROFS);
	spool_recovered(&h);
	assert_int_equal(spool_retry_in(&h), -1);
	assert_int_equal(h.err, 0);

	smallfs_mount(spdir, 64 * 1024);
	fd = spool_open_dir(spdir, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(spool_probe(fd), 0);
	assert_dir_list(spdir, "");
	smallfs_fill(spdir);
	assert_int_equal(spool_probe(fd), -ENOSPC);
	assert_dir_list(spdir, SMALLFS_FILL);
	smallfs_unfill(spdir);
	smallfs_readonly(spdir, true);
	assert_int_equal(spool_probe(fd), -EROFS);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_batch_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_after_drop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leftover_tmp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nul_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reject, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_flush_partial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_full_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_memory_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_readonly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_reject, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spool_health, setup, teardown),
	};

	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

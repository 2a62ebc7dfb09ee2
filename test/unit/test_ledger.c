/* test_ledger.c - unit tests for the job ledger: states, restarts, recovery order, pruning. */
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
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "agent/ledger.h"
#include "agent/log.h"
#include "agent/spool.h"
#include "test/unit/smallfs.h"

static char tmpdir[64];
static char lgdir[192];
static char spdir[128]; /* tmpdir/spool: a small tmpfs in the disk tests */

/* ---- helpers -------------------------------------------------------------------- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* Thousands of small durable writes: on tmpfs when there is one. */
static int setup(void **state)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	snprintf(tmpdir, sizeof(tmpdir), "%s/diag-ledger-XXXXXX", base);
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(lgdir, sizeof(lgdir), "%s/ledger", tmpdir);
	snprintf(spdir, sizeof(spdir), "%s/spool", tmpdir);
	return 0;
}

static int teardown(void **state)
{
	smallfs_umount(spdir);
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The disk tests: the ledger in spool/ledger, on a small tmpfs. */
static void use_smallfs(void)
{
	smallfs_mount(spdir, 128 * 1024);
	snprintf(lgdir, sizeof(lgdir), "%s/ledger", spdir);
}

static struct ledger *open_lg(void)
{
	char err[256] = "";
	struct ledger *lg = ledger_open(lgdir, err, sizeof(err));

	if (!lg)
		fail_msg("ledger_open: %s", err);
	return lg;
}

static struct ledger *reopen(struct ledger *lg)
{
	ledger_free(lg);
	return open_lg();
}

static void set_ok(struct ledger *lg, const char *id, enum ledger_state st, const char *kind, const json_t *job,
		   int64_t started_ns)
{
	int rc = ledger_set(lg, id, st, kind, job, started_ns);

	if (rc != 0)
		fail_msg("ledger_set '%s': %d", id, rc);
}

/* The entry file's path: FNV-1a 64 of the id, as ledger.c names it. */
static void entry_path(const char *id, char *buf, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	snprintf(buf, size, "%s/%016" PRIx64 ".json", lgdir, h);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

/* An entry file written by hand, in the format ledger.c writes. */
static void write_entry(const char *id, const char *kind, const char *state, long long order, long long updated,
			long long started_ns)
{
	char path[256];
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "id", id, "kind", kind, "state", state, "order",
			      (json_int_t)order, "updated", (json_int_t)updated, "started_ns", (json_int_t)started_ns);
	char *text = json_dumps(o, JSON_COMPACT);

	entry_path(id, path, sizeof(path));
	write_text(path, text);
	free(text);
	json_decref(o);
}

static int count_files(void)
{
	DIR *d = opendir(lgdir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* What ledger_foreach gives, in order. */
struct seen {
	int n;
	char *ids[64];
	char kinds[64][16];
	json_t *jobs[64];
	int64_t started[64];
	struct ledger *set_done; /* when set: the callback marks each entry done */
};

static void on_entry(void *ud, const char *id, const char *kind, json_t *job, int64_t started_ns)
{
	struct seen *s = ud;

	assert_true(s->n < 64);
	s->ids[s->n] = strdup(id);
	snprintf(s->kinds[s->n], sizeof(s->kinds[0]), "%s", kind);
	s->jobs[s->n] = json_incref(job);
	s->started[s->n] = started_ns;
	s->n++;
	if (s->set_done)
		set_ok(s->set_done, id, LEDGER_DONE, kind, NULL, 0);
}

static void seen_release(struct seen *s)
{
	for (int i = 0; i < s->n; i++) {
		free(s->ids[i]);
		json_decref(s->jobs[i]);
	}
	memset(s, 0, sizeof(*s));
}

static json_t *job_of(const char *id)
{
	return json_pack("{s:s, s:s, s:i, s:{s:i}}", "id", id, "command", "uptime", "timeout", 5, "nested", "x", 1);
}

/* ---- states --------------------------------------------------------------------- */

static void test_states(void **state)
{
	struct ledger *lg = open_lg();
	json_t *job = job_of("a");

	assert_int_equal(ledger_count(lg), 0);
	assert_int_equal(ledger_state(lg, "a"), LEDGER_NONE);
	set_ok(lg, "a", LEDGER_QUEUED, "command", job, 0);
	set_ok(lg, "b", LEDGER_RUNNING, "trace", NULL, 123);
	set_ok(lg, "c", LEDGER_DONE, "command", NULL, 0);
	assert_int_equal(ledger_state(lg, "a"), LEDGER_QUEUED);
	assert_int_equal(ledger_state(lg, "b"), LEDGER_RUNNING);
	assert_int_equal(ledger_state(lg, "c"), LEDGER_DONE);
	assert_int_equal(ledger_state(lg, "d"), LEDGER_NONE);
	assert_int_equal(ledger_state(lg, "A"), LEDGER_NONE);
	assert_int_equal(ledger_state(lg, ""), LEDGER_NONE);
	assert_int_equal(ledger_count(lg), 3);
	assert_int_equal(count_files(), 3);
	/* a's life: queued, running, done; still one entry */
	set_ok(lg, "a", LEDGER_RUNNING, "command", NULL, 456);
	assert_int_equal(ledger_state(lg, "a"), LEDGER_RUNNING);
	set_ok(lg, "a", LEDGER_DONE, "command", NULL, 0);
	assert_int_equal(ledger_state(lg, "a"), LEDGER_DONE);
	assert_int_equal(ledger_count(lg), 3);
	assert_int_equal(count_files(), 3);
	json_decref(job);
	ledger_free(lg);
	ledger_free(NULL);
}

/* Everything survives a close and a reopen: states, kinds, jobs, start times. */
static void test_reopen(void **state)
{
	struct ledger *lg = open_lg();
	json_t *job = job_of("q");
	struct seen s = { 0 };

	set_ok(lg, "q", LEDGER_QUEUED, "command", job, 0);
	set_ok(lg, "r", LEDGER_QUEUED, "trace", NULL, 0);
	set_ok(lg, "r", LEDGER_RUNNING, "trace", NULL, 1700000000123456789LL);
	set_ok(lg, "d", LEDGER_RUNNING, "command", NULL, 5);
	set_ok(lg, "d", LEDGER_DONE, "command", NULL, 0);
	lg = reopen(lg);
	assert_int_equal(ledger_count(lg), 3);
	assert_int_equal(ledger_state(lg, "q"), LEDGER_QUEUED);
	assert_int_equal(ledger_state(lg, "r"), LEDGER_RUNNING);
	assert_int_equal(ledger_state(lg, "d"), LEDGER_DONE);

	ledger_foreach(lg, LEDGER_QUEUED, on_entry, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.ids[0], "q");
	assert_string_equal(s.kinds[0], "command");
	assert_non_null(s.jobs[0]);
	assert_true(json_equal(s.jobs[0], job));
	seen_release(&s);

	ledger_foreach(lg, LEDGER_RUNNING, on_entry, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.ids[0], "r");
	assert_string_equal(s.kinds[0], "trace");
	assert_null(s.jobs[0]);
	assert_true(s.started[0] == 1700000000123456789LL);
	seen_release(&s);

	/* the job is kept for queued entries only */
	set_ok(lg, "q", LEDGER_RUNNING, "command", job, 77);
	lg = reopen(lg);
	ledger_foreach(lg, LEDGER_QUEUED, on_entry, &s);
	assert_int_equal(s.n, 0);
	ledger_foreach(lg, LEDGER_RUNNING, on_entry, &s);
	assert_int_equal(s.n, 2);
	assert_null(s.jobs[0]);
	assert_null(s.jobs[1]);
	seen_release(&s);
	/* done keeps the start time it had */
	set_ok(lg, "q", LEDGER_DONE, "command", NULL, 0);
	lg = reopen(lg);
	assert_int_equal(ledger_state(lg, "q"), LEDGER_DONE);
	ledger_foreach(lg, LEDGER_DONE, on_entry, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.ids[0], "q");
	assert_true(s.started[0] == 77);
	assert_string_equal(s.ids[1], "d");
	assert_true(s.started[1] == 5);
	seen_release(&s);
	json_decref(job);
	ledger_free(lg);
}

/* foreach gives entries in the order they were first recorded, whatever
 * their hashes and later changes, across restarts; the callback may mark
 * them done as the agent's recovery does. */
static void test_foreach_order(void **state)
{
	struct ledger *lg = open_lg();
	struct seen s = { 0 };
	char id[32];
	json_t *job;

	/* 40 ids; i % 3: 0 queued, 1 running, 2 done; running ones were queued first */
	for (int i = 0; i < 40; i++) {
		snprintf(id, sizeof(id), "job-%02d", 39 - i); /* the order is not the ids' */
		job = job_of(id);
		set_ok(lg, id, LEDGER_QUEUED, i % 2 ? "trace" : "command", job, 0);
		json_decref(job);
	}
	for (int i = 39; i >= 0; i--) {
		snprintf(id, sizeof(id), "job-%02d", 39 - i);
		if (i % 3 == 1)
			set_ok(lg, id, LEDGER_RUNNING, i % 2 ? "trace" : "command", NULL, 1000 + i);
		else if (i % 3 == 2)
			set_ok(lg, id, LEDGER_DONE, i % 2 ? "trace" : "command", NULL, 0);
	}
	lg = reopen(lg);
	/* two more after the restart: recorded after every old one */
	job = job_of("new-1");
	set_ok(lg, "new-1", LEDGER_QUEUED, "command", job, 0);
	json_decref(job);
	set_ok(lg, "new-0", LEDGER_RUNNING, "trace", NULL, 9);
	lg = reopen(lg);

	ledger_foreach(lg, LEDGER_QUEUED, on_entry, &s);
	assert_int_equal(s.n, 14 + 1);
	for (int k = 0, i = 0; i < 40; i++) {
		if (i % 3 != 0)
			continue;
		snprintf(id, sizeof(id), "job-%02d", 39 - i);
		assert_string_equal(s.ids[k], id);
		assert_string_equal(s.kinds[k], i % 2 ? "trace" : "command");
		job = job_of(id);
		assert_true(json_equal(s.jobs[k], job));
		json_decref(job);
		k++;
	}
	assert_string_equal(s.ids[14], "new-1");
	seen_release(&s);

	s.set_done = lg;
	ledger_foreach(lg, LEDGER_RUNNING, on_entry, &s);
	assert_int_equal(s.n, 13 + 1);
	for (int k = 0, i = 0; i < 40; i++) {
		if (i % 3 != 1)
			continue;
		snprintf(id, sizeof(id), "job-%02d", 39 - i);
		assert_string_equal(s.ids[k], id);
		assert_true(s.started[k] == 1000 + i);
		assert_null(s.jobs[k]);
		k++;
	}
	assert_string_equal(s.ids[13], "new-0");
	assert_true(s.started[13] == 9);
	seen_release(&s);
	/* the callback marked them done */
	ledger_foreach(lg, LEDGER_RUNNING, on_entry, &s);
	assert_int_equal(s.n, 0);
	assert_int_equal(ledger_state(lg, "new-0"), LEDGER_DONE);
	assert_int_equal(ledger_count(lg), 42);
	ledger_free(lg);
}

/* ---- pruning and bad files ------------------------------------------------------- */

static void test_prune(void **state)
{
	struct ledger *lg;
	time_t now = time(NULL);
	char path[256];

	assert_int_equal(mkdir(lgdir, 0700), 0);
	write_entry("old-done", "command", "done", 1, now - LEDGER_KEEP_S - 5, 0);
	write_entry("edge-done", "command", "done", 2, now - LEDGER_KEEP_S - 1, 0);
	write_entry("recent-done", "trace", "done", 3, now - LEDGER_KEEP_S + 3600, 0);
	write_entry("old-queued", "command", "queued", 4, now - 3 * LEDGER_KEEP_S, 0);
	write_entry("old-running", "trace", "running", 5, now - 3 * LEDGER_KEEP_S, 42);
	lg = open_lg();
	assert_int_equal(ledger_count(lg), 3);
	assert_int_equal(ledger_state(lg, "old-done"), LEDGER_NONE);
	assert_int_equal(ledger_state(lg, "edge-done"), LEDGER_NONE);
	assert_int_equal(ledger_state(lg, "recent-done"), LEDGER_DONE);
	assert_int_equal(ledger_state(lg, "old-queued"), LEDGER_QUEUED);
	assert_int_equal(ledger_state(lg, "old-running"), LEDGER_RUNNING);
	entry_path("old-done", path, sizeof(path));
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(count_files(), 3);

	/* an id set now lands in the file this test names: the format is the one written by hand */
	set_ok(lg, "fresh", LEDGER_DONE, "command", NULL, 0);
	entry_path("fresh", path, sizeof(path));
	assert_int_equal(access(path, F_OK), 0);

	/* a day later the recent one goes; one just done stays; queued and running never go */
	ledger_prune(lg, now + 3600 + 1);
	assert_int_equal(ledger_state(lg, "recent-done"), LEDGER_NONE);
	assert_int_equal(ledger_state(lg, "fresh"), LEDGER_DONE);
	assert_int_equal(ledger_count(lg), 3);
	entry_path("recent-done", path, sizeof(path));
	assert_int_equal(access(path, F_OK), -1);
	ledger_prune(lg, now + 10 * LEDGER_KEEP_S);
	assert_int_equal(ledger_state(lg, "fresh"), LEDGER_NONE);
	assert_int_equal(ledger_state(lg, "old-queued"), LEDGER_QUEUED);
	assert_int_equal(ledger_state(lg, "old-running"), LEDGER_RUNNING);
	assert_int_equal(ledger_count(lg), 2);
	assert_int_equal(count_files(), 2);
	/* a pruned id is new again */
	set_ok(lg, "old-done", LEDGER_QUEUED, "command", NULL, 0);
	assert_int_equal(ledger_state(lg, "old-done"), LEDGER_QUEUED);
	lg = reopen(lg);
	assert_int_equal(ledger_count(lg), 3);
	/* recorded after the hand-written ones (orders 4 and 5) */
	{
		struct seen s = { 0 };

		ledger_foreach(lg, LEDGER_QUEUED, on_entry, &s);
		assert_int_equal(s.n, 2);
		assert_string_equal(s.ids[0], "old-queued");
		assert_string_equal(s.ids[1], "old-done");
		seen_release(&s);
	}
	ledger_free(lg);
}

/* A done entry goes exactly LEDGER_KEEP_S after it was done, not a second before. */
static void test_prune_boundary(void **state)
{
	time_t done_at = time(NULL) - 100;
	struct ledger *lg;
	char path[256];

	assert_int_equal(mkdir(lgdir, 0700), 0);
	write_entry("b", "command", "done", 1, done_at, 0);
	write_entry("q", "command", "queued", 2, done_at, 0);
	lg = open_lg();
	ledger_prune(lg, done_at + LEDGER_KEEP_S - 1);
	assert_int_equal(ledger_state(lg, "b"), LEDGER_DONE);
	ledger_prune(lg, done_at + LEDGER_KEEP_S);
	assert_int_equal(ledger_state(lg, "b"), LEDGER_NONE);
	assert_int_equal(ledger_state(lg, "q"), LEDGER_QUEUED);
	assert_int_equal(ledger_count(lg), 1);
	entry_path("b", path, sizeof(path));
	assert_int_equal(access(path, F_OK), -1);
	ledger_free(lg);
}

/* Files that cannot be read back are removed at open; a .tmp left by a
 * crash too; files that are not entries are left alone. */
static void test_corrupt(void **state)
{
	static const struct {
		const char *name;
		const char *text;
	} bad[] = {
		{ "0000000000000001.json", "not json" },
		{ "0000000000000002.json", "" },
		{ "0000000000000003.json", "{\"id\":\"x\",\"kind\":\"command\",\"state\":\"done\"}" },
		{ "0000000000000004.json", "{\"id\":\"y\",\"kind\":\"command\",\"state\":\"bogus\",\"order\":1,"
					   "\"updated\":1,\"started_ns\":0}" },
		{ "0000000000000005.json", "{\"id\":5,\"kind\":\"command\",\"state\":\"done\",\"order\":1,"
					   "\"updated\":1,\"started_ns\":0}" },
		{ "0000000000000006.json", "[\"id\",\"kind\"]" },
		{ "0000000000000007.json", "{\"id\":\"z\",\"kind\":\"command\",\"state\":\"none\",\"order\":1,"
					   "\"updated\":1,\"started_ns\":0}" },
		{ ".0000000000000008.json.tmp", "{\"id\":\"half" },
	};
	struct ledger *lg = open_lg();
	char path[256];
	DIR *d;
	struct dirent *e;
	int files = 0;

	set_ok(lg, "good-1", LEDGER_QUEUED, "command", NULL, 0);
	set_ok(lg, "good-2", LEDGER_DONE, "command", NULL, 0);
	ledger_free(lg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", lgdir, bad[i].name);
		write_text(path, bad[i].text);
	}
	snprintf(path, sizeof(path), "%s/README", lgdir);
	write_text(path, "not an entry");
	lg = open_lg();
	assert_int_equal(ledger_count(lg), 2);
	assert_int_equal(ledger_state(lg, "good-1"), LEDGER_QUEUED);
	assert_int_equal(ledger_state(lg, "good-2"), LEDGER_DONE);
	assert_int_equal(ledger_state(lg, "x"), LEDGER_NONE);
	assert_int_equal(ledger_state(lg, "y"), LEDGER_NONE);
	d = opendir(lgdir);
	assert_non_null(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' && (!e->d_name[1] || strcmp(e->d_name, "..") == 0))
			continue;
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			if (strcmp(e->d_name, bad[i].name) == 0)
				fail_msg("%s was not removed", e->d_name);
		files++;
	}
	closedir(d);
	assert_int_equal(files, 3); /* two entries and README */
	ledger_free(lg);
}

/* ---- many ids, odd ids ------------------------------------------------------------ */

static void test_many_ids(void **state)
{
	enum { N = 5000 };
	struct ledger *lg = open_lg();
	char id[32];

	for (int i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "id-%d", i);
		set_ok(lg, id, (enum ledger_state)(LEDGER_QUEUED + i % 3), "command", NULL, i % 3 == 1 ? i : 0);
		if (i % 997 == 0) /* lookups keep working while the table grows */
			for (int k = 0; k <= i; k += 13) {
				snprintf(id, sizeof(id), "id-%d", k);
				assert_int_equal(ledger_state(lg, id), LEDGER_QUEUED + k % 3);
			}
	}
	assert_int_equal(ledger_count(lg), N);
	lg = reopen(lg);
	assert_int_equal(ledger_count(lg), N);
	for (int i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "id-%d", i);
		if ((int)ledger_state(lg, id) != LEDGER_QUEUED + i % 3)
			fail_msg("%s: state %d", id, ledger_state(lg, id));
	}
	for (int i = N; i < N + 200; i++) {
		snprintf(id, sizeof(id), "id-%d", i);
		assert_int_equal(ledger_state(lg, id), LEDGER_NONE);
	}
	/* overwriting keeps the count */
	for (int i = 0; i < N; i += 2) {
		snprintf(id, sizeof(id), "id-%d", i);
		set_ok(lg, id, LEDGER_DONE, "command", NULL, 0);
	}
	assert_int_equal(ledger_count(lg), N);
	for (int i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "id-%d", i);
		assert_int_equal(ledger_state(lg, id), i % 2 ? LEDGER_QUEUED + i % 3 : LEDGER_DONE);
	}
	ledger_free(lg);
}

static void test_odd_ids(void **state)
{
	char long_id[257];
	const char *ids[] = {
		"a/b/../c",  "/",	 "../../etc/passwd",	     "quote\"d",     "back\\slash", "new\nline",
		"tab\there", "\x01\x7f", "caf\xc3\xa9 \xe2\x9c\x93", "{\"json\":1}", " ",	    "%s%n",
		long_id,
	};
	size_t n = sizeof(ids) / sizeof(ids[0]);
	struct ledger *lg = open_lg();
	struct seen s = { 0 };

	memset(long_id, 'L', 256);
	long_id[0] = '/';
	long_id[256] = '\0';
	for (size_t i = 0; i < n; i++) {
		json_t *job = json_pack("{s:s}", "id", ids[i]);

		set_ok(lg, ids[i], LEDGER_QUEUED, "command", job, 0);
		json_decref(job);
		assert_int_equal(ledger_state(lg, ids[i]), LEDGER_QUEUED);
	}
	assert_int_equal(ledger_count(lg), n);
	assert_int_equal(count_files(), (int)n);
	lg = reopen(lg);
	assert_int_equal(ledger_count(lg), n);
	ledger_foreach(lg, LEDGER_QUEUED, on_entry, &s);
	assert_int_equal(s.n, (int)n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(s.ids[i], ids[i]);
		assert_string_equal(json_string_value(json_object_get(s.jobs[i], "id")), ids[i]);
		assert_int_equal(ledger_state(lg, ids[i]), LEDGER_QUEUED);
	}
	seen_release(&s);
	/* near misses are other ids */
	assert_int_equal(ledger_state(lg, "a/b/c"), LEDGER_NONE);
	assert_int_equal(ledger_state(lg, "new"), LEDGER_NONE);
	long_id[255] = '\0';
	assert_int_equal(ledger_state(lg, long_id), LEDGER_NONE);
	ledger_free(lg);
}

/* The directory is private; a path under a file cannot be opened. */
static void test_dir(void **state)
{
	struct ledger *lg;
	char path[256], err[256] = "";
	struct stat st;

	assert_int_equal(mkdir(lgdir, 0755), 0);
	lg = open_lg();
	assert_int_equal(stat(lgdir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	set_ok(lg, "x", LEDGER_DONE, "command", NULL, 0);
	entry_path("x", path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	ledger_free(lg);
	snprintf(path, sizeof(path), "%s/x", tmpdir);
	write_text(path, "");
	snprintf(path, sizeof(path), "%s/x/ledger", tmpdir);
	assert_null(ledger_open(path, err, sizeof(err)));
	assert_non_null(strstr(err, "Not a directory"));
}

/* ---- a directory that cannot be written -------------------------------------------- */

/* The state an entry's file holds, or "" when there is no file. */
static const char *file_state(const char *id)
{
	static char state[16];
	char path[256];
	json_t *o;

	entry_path(id, path, sizeof(path));
	o = json_load_file(path, 0, NULL);
	snprintf(state, sizeof(state), "%s", o ? json_string_value(json_object_get(o, "state")) : "");
	json_decref(o);
	return state;
}

/* A full disk: states are kept in memory and answered from there; an
 * older state's file goes (a full disk lets it), so a restart meanwhile
 * never sees a job queued or running that is done; when space returns,
 * one flush writes them all. */
static void test_disk_full(void **state)
{
	struct ledger *lg;
	json_t *job = job_of("b");
	struct seen s = { 0 };
	size_t written = 99;
	long in;

	use_smallfs();
	lg = open_lg();
	assert_int_equal(ledger_disk_error(lg), 0);
	assert_int_equal(ledger_retry_in(lg), -1);
	set_ok(lg, "a", LEDGER_QUEUED, "command", NULL, 0);
	set_ok(lg, "c", LEDGER_DONE, "command", NULL, 0);
	assert_string_equal(file_state("a"), "queued");
	smallfs_fill(spdir);

	assert_int_equal(ledger_set(lg, "b", LEDGER_QUEUED, "command", job, 0), -ENOSPC);
	assert_int_equal(ledger_disk_error(lg), -ENOSPC);
	in = ledger_retry_in(lg);
	if (in <= 0 || in > SPOOL_RETRY_MIN_MS)
		fail_msg("retry in %ld ms, want 1..%d", in, SPOOL_RETRY_MIN_MS);
	assert_int_equal(ledger_state(lg, "b"), LEDGER_QUEUED);
	assert_string_equal(file_state("b"), "");
	/* a's life goes on in memory; its queued file goes at once */
	assert_int_equal(ledger_set(lg, "a", LEDGER_RUNNING, "command", NULL, 42), -ENOSPC);
	assert_int_equal(ledger_state(lg, "a"), LEDGER_RUNNING);
	assert_string_equal(file_state("a"), "");
	assert_int_equal(ledger_set(lg, "a", LEDGER_DONE, "command", NULL, 0), -ENOSPC);
	assert_int_equal(ledger_state(lg, "a"), LEDGER_DONE);
	assert_int_equal(ledger_count(lg), 3);
	assert_int_equal(ledger_pending(lg), 2);
	assert_string_equal(file_state("c"), "done"); /* untouched */

	/* a restart now: a is forgotten rather than run again or reported interrupted */
	smallfs_fill(spdir); /* the page a's file gave back */
	lg = reopen(lg);
	assert_int_equal(ledger_disk_error(lg), -ENOSPC); /* found at open */
	assert_int_equal(ledger_state(lg, "a"), LEDGER_NONE);
	assert_int_equal(ledger_state(lg, "c"), LEDGER_DONE);
	assert_int_equal(ledger_set(lg, "a", LEDGER_DONE, "command", NULL, 42), -ENOSPC);
	assert_int_equal(ledger_set(lg, "b", LEDGER_QUEUED, "command", job, 0), -ENOSPC);
	assert_int_equal(ledger_pending(lg), 2);

	/* still full: the flush fails, the next waits longer */
	assert_int_equal(ledger_flush(lg, &written), -ENOSPC);
	assert_int_equal(written, 0);
	in = ledger_retry_in(lg);
	if (in <= SPOOL_RETRY_MIN_MS || in > 2 * SPOOL_RETRY_MIN_MS)
		fail_msg("retry in %ld ms after two failures, want %d..%d", in, SPOOL_RETRY_MIN_MS + 1,
			 2 * SPOOL_RETRY_MIN_MS);

	/* space returns: both written, the queued one with its job */
	smallfs_unfill(spdir);
	assert_int_equal(ledger_flush(lg, &written), 0);
	assert_int_equal(written, 2);
	assert_int_equal(ledger_pending(lg), 0);
	assert_int_equal(ledger_disk_error(lg), 0);
	assert_int_equal(ledger_retry_in(lg), -1);
	assert_int_equal(ledger_flush(lg, &written), 0);
	assert_int_equal(written, 0);
	set_ok(lg, "d", LEDGER_DONE, "trace", NULL, 0); /* straight to disk again */
	assert_string_equal(file_state("d"), "done");
	lg = reopen(lg);
	assert_int_equal(ledger_disk_error(lg), 0);
	assert_int_equal(ledger_count(lg), 4);
	assert_int_equal(ledger_state(lg, "a"), LEDGER_DONE);
	assert_int_equal(ledger_state(lg, "b"), LEDGER_QUEUED);
	ledger_foreach(lg, LEDGER_QUEUED, on_entry, &s);
	assert_int_equal(s.n, 1);
	assert_true(json_equal(s.jobs[0], job));
	seen_release(&s);
	json_decref(job);
	ledger_free(lg);
}

/* A read-only disk: states in memory; older files cannot go, and are
 * overwritten once it is writable. A ledger opened read-only works. */
static void test_disk_readonly(void **state)
{
	struct ledger *lg;
	size_t written;

	use_smallfs();
	lg = open_lg();
	set_ok(lg, "a", LEDGER_QUEUED, "command", NULL, 0);
	smallfs_readonly(spdir, true);
	assert_int_equal(ledger_set(lg, "a", LEDGER_RUNNING, "command", NULL, 7), -EROFS);
	assert_int_equal(ledger_set(lg, "n", LEDGER_QUEUED, "trace", NULL, 0), -EROFS);
	assert_int_equal(ledger_state(lg, "a"), LEDGER_RUNNING);
	assert_int_equal(ledger_state(lg, "n"), LEDGER_QUEUED);
	assert_string_equal(file_state("a"), "queued"); /* could not go */
	assert_int_equal(ledger_flush(lg, &written), -EROFS);
	smallfs_readonly(spdir, false);
	assert_int_equal(ledger_flush(lg, &written), 0);
	assert_int_equal(written, 2);
	assert_string_equal(file_state("a"), "running");
	assert_string_equal(file_state("n"), "queued");
	ledger_free(lg);

	smallfs_readonly(spdir, true);
	lg = open_lg();
	assert_int_equal(ledger_disk_error(lg), -EROFS);
	assert_int_equal(ledger_state(lg, "a"), LEDGER_RUNNING);
	assert_int_equal(ledger_set(lg, "a", LEDGER_DONE, "command", NULL, 0), -EROFS);
	assert_int_equal(ledger_state(lg, "a"), LEDGER_DONE);
	/* a pruned entry is no longer waiting; with none, the flush probes the directory */
	ledger_prune(lg, time(NULL) + 2 * LEDGER_KEEP_S);
	assert_int_equal(ledger_state(lg, "a"), LEDGER_NONE);
	assert_int_equal(ledger_pending(lg), 0);
	assert_int_equal(ledger_flush(lg, &written), -EROFS);
	smallfs_readonly(spdir, false);
	assert_int_equal(ledger_flush(lg, &written), 0);
	assert_int_equal(written, 0);
	assert_int_equal(ledger_disk_error(lg), 0);
	ledger_free(lg);
}

/* Many entries kept in memory; a flush writes what fits and keeps the rest. */
static void test_disk_many(void **state)
{
	enum { N = 300 };
	struct ledger *lg;
	char id[32];
	size_t written;

	use_smallfs();
	lg = open_lg();
	smallfs_fill(spdir);
	for (int i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "m-%d", i);
		assert_int_equal(ledger_set(lg, id, LEDGER_DONE, "command", NULL, 0), -ENOSPC);
	}
	assert_int_equal(ledger_pending(lg), N);
	smallfs_unfill(spdir);
	/* 300 files of a 4 KiB page each do not fit in 128 KiB */
	assert_int_equal(ledger_flush(lg, &written), -ENOSPC);
	assert_true(written > 0 && written < N);
	assert_int_equal(ledger_pending(lg), N - written);
	assert_int_equal(count_files(), (int)written);
	for (int i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "m-%d", i);
		assert_int_equal(ledger_state(lg, id), LEDGER_DONE);
	}
	ledger_free(lg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreach_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_boundary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_odd_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_readonly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disk_many, setup, teardown),
	};

	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

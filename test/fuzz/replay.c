/* replay.c - a main for the fuzz targets without libFuzzer: feeds each file
 * named (a directory: every file in it, sorted) to LLVMFuzzerTestOneInput
 * once, as libFuzzer replays a corpus. The Makefile links every
 * test/fuzz/fuzz_*.c with it into BUILD/fuzz/, so the suites (and make asan,
 * make valgrind) replay the seeds and findings with gcc.
 *
 *   BUILD/fuzz/fuzz_NAME [-q] FILE|DIR...
 *
 * Prints "replay: N inputs" (each file's name first, unless -q); a target
 * that finds a violation aborts, so the exit status says it. Exit 2 when a
 * file cannot be read.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT (16 << 20) /* larger than any target's -max_len */

static int quiet;
static long ninputs;

/* Read path whole into a malloc'd buffer of exactly its size (1 byte for an
 * empty file), so ASan and valgrind see a read past the end. */
static int read_all(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (!f)
		return -errno;
	for (;;) {
		size_t got;

		if (n == cap) {
			uint8_t *nb;

			if (cap >= REPLAY_MAX_INPUT) {
				rc = -E2BIG;
				goto out;
			}
			cap = cap ? cap * 2 : 4096;
			nb = realloc(buf, cap);
			if (!nb) {
				rc = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		rc = -EIO;
		goto out;
	}
	if (n < cap) {
		uint8_t *nb = realloc(buf, n ? n : 1);

		if (nb)
			buf = nb;
	}
out:
	fclose(f);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	*len = n;
	return 0;
}

static int replay_file(const char *path)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int rc = read_all(path, &data, &len);

	if (rc < 0) {
		fprintf(stderr, "replay: cannot read '%s': %s\n", path, strerror(-rc));
		return rc;
	}
	if (!quiet) {
		printf("replay: %s\n", path);
		fflush(stdout);
	}
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	ninputs++;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_path(const char *path)
{
	struct stat st;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	DIR *d;
	int rc = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "replay: cannot read '%s': %s\n", path, strerror(errno));
		return -errno;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	d = opendir(path);
	if (!d) {
		fprintf(stderr, "replay: cannot open directory '%s': %s\n", path, strerror(errno));
		return -errno;
	}
	while ((de = readdir(d))) {
		char *full;

		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));

			if (!nn) {
				rc = -ENOMEM;
				goto out;
			}
			names = nn;
		}
		if (asprintf(&full, "%s/%s", path, de->d_name) < 0) {
			rc = -ENOMEM;
			goto out;
		}
		names[n++] = full;
	}
	qsort(names, n, sizeof(*names), cmp_name);
	for (size_t i = 0; i < n && rc == 0; i++)
		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
			rc = replay_file(names[i]);
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

int main(int argc, char **argv)
{
	int i = 1;

	if (i < argc && strcmp(argv[i], "-q") == 0) {
		quiet = 1;
		i++;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: %s [-q] FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (; i < argc; i++)
		if (replay_path(argv[i]) < 0)
			return 2;
	printf("replay: %ld inputs\n", ninputs);
	return 0;
}

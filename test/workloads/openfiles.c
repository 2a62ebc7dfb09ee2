/* openfiles.c - ground-truth workload: `openfiles DIR`.
 *
 * Creates files with hostile names in DIR (an existing, empty directory),
 * then opens each exactly once with openat(AT_FDCWD, "DIR/NAME", O_RDONLY)
 * and closes it. The files are created with mknod(S_IFREG), which makes no
 * openat call, so the only openat calls on paths under DIR are those opens.
 *
 * For each path opened it prints one line on stdout: the path's bytes in
 * lower-case hex, in the order opened, so a test knows the exact bytes.
 * Exits 0, or 1 on any error.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const names[] = {
	"nl\nname", /* a newline: one event must stay one line */
	"dq\"name", /* a double quote: JSON escaping */
	"pipe|name",
	"fmt%s%d%n%%name", /* never a format string */
	"tab\tname",
	"bs\\name",				/* a backslash */
	"bs\\u0041esc",				/* a backslash and text that looks like a JSON escape */
	"bs\\uffffffc3rep",			/* text that looks like bpftrace's escape of byte 0xc3 */
	"caf\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac", /* "café-日本", valid UTF-8 */
	"bad\xff"
	"byte", /* not UTF-8: 0xff */
	"bad\xc3"
	"alone", /* not UTF-8: a lead byte alone */
	"bad\x80"
	"cont", /* not UTF-8: a continuation byte alone */
	"ctl\x01\x1b\x7f"
	"chars", /* control characters */
	"sp ace name",
	"json{\"type\": \"value\", \"data\": [1]},",
	NULL, /* the long name: filled in main */
};

#define NNAMES	  (sizeof(names) / sizeof(names[0]))
#define LONG_NAME 200

int main(int argc, char **argv)
{
	char longname[LONG_NAME + 1];
	char path[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: openfiles DIR\n");
		return 2;
	}
	memset(longname, 'L', LONG_NAME);
	longname[LONG_NAME] = '\0';

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < NNAMES; i++) {
			const char *name = names[i] ? names[i] : longname;

			if ((size_t)snprintf(path, sizeof(path), "%s/%s", argv[1], name) >= sizeof(path)) {
				fprintf(stderr, "openfiles: path too long\n");
				return 1;
			}
			if (pass == 0) {
				if (mknod(path, S_IFREG | 0644, 0) != 0) {
					perror("openfiles: mknod");
					return 1;
				}
				continue;
			}
			int fd = openat(AT_FDCWD, path, O_RDONLY);

			if (fd < 0) {
				perror("openfiles: openat");
				return 1;
			}
			close(fd);
			for (const unsigned char *p = (const unsigned char *)path; *p; p++)
				printf("%02x", *p);
			putchar('\n');
		}
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

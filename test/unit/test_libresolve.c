/* test_libresolve.c - unit tests for library resolution, ELF symbols and USDT notes. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "test/unit/procmaps.h"

#include "tracespec/libresolve.h"

/* Two USDT notes of our own, written the way <sys/sdt.h> writes them, so the
 * test does not depend on which libraries of this host carry probes. */
#if UINTPTR_MAX > 0xffffffffu
#define SDT_ADDR ".8byte"
#else
#define SDT_ADDR ".4byte"
#endif
#define SDT_NOTE(prov, name, args) \
	".pushsection .note.stapsdt,\"\",\"note\"\n" \
	".balign 4\n" \
	".4byte 992f-991f, 994f-993f, 3\n" \
	"991: .asciz \"stapsdt\"\n" \
	"992: .balign 4\n" \
	"993: " SDT_ADDR " 0, 0, 0\n" \
	".asciz \"" prov "\"\n" \
	".asciz \"" name "\"\n" \
	".asciz \"" args "\"\n" \
	"994: .balign 4\n" \
	".popsection\n"
__asm__(SDT_NOTE("diagtest", "probe_one", "-4@%edi") SDT_NOTE("diagtest", "probe_two", "")
		SDT_NOTE("other", "probe_one", "8@%rsi"));

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

static void libc_path(char *out)
{
	static const char *const pfx[] = { "libc.so", "libc-2", NULL };

	assert_true(procmaps_lib(pfx, out));
}

/* First line of a shell command's output, newline stripped. */
static bool shell_line(const char *cmd, char *out, size_t size)
{
	FILE *fp = popen(cmd, "r");
	bool ok;

	if (!fp)
		return false;
	ok = fgets(out, (int)size, fp) != NULL;
	pclose(fp);
	if (ok)
		out[strcspn(out, "\n")] = '\0';
	return ok && out[0];
}

static char *write_tmp(const void *data, size_t len)
{
	char *path = strdup("/tmp/diag-libresolve-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

static void drop_tmp(char *path)
{
	unlink(path);
	free(path);
}

/* A copy of this test binary. */
static char *copy_self(size_t *len_out)
{
	FILE *fp = fopen("/proc/self/exe", "rbe");
	unsigned char *buf;
	struct stat st;
	size_t len;
	char *path;

	assert_non_null(fp);
	assert_int_equal(fstat(fileno(fp), &st), 0);
	buf = malloc((size_t)st.st_size);
	assert_non_null(buf);
	len = fread(buf, 1, (size_t)st.st_size, fp);
	fclose(fp);
	assert_true(len > 0);
	path = write_tmp(buf, len);
	free(buf);
	if (len_out)
		*len_out = len;
	return path;
}

/* Note bytes: namesz, descsz, type, name (padded to 4), desc (padded to 4). */
struct notes {
	unsigned char buf[1024];
	size_t len;
};

static void notes_raw(struct notes *n, uint32_t namesz, uint32_t descsz, uint32_t type, const void *name,
		      size_t name_len, const void *desc, size_t desc_len)
{
	uint32_t hdr[3] = { namesz, descsz, type };

	memcpy(n->buf + n->len, hdr, sizeof(hdr));
	n->len += sizeof(hdr);
	memcpy(n->buf + n->len, name, name_len);
	n->len += (name_len + 3) & ~(size_t)3;
	memcpy(n->buf + n->len, desc, desc_len);
	n->len += (desc_len + 3) & ~(size_t)3;
	assert_true(n->len < sizeof(n->buf) - 128);
}

/* A stapsdt-shaped note (owner, type as given) for an ELF of class cls. */
static void notes_add_as(struct notes *n, int cls, const char *owner, uint32_t type, const char *prov, const char *name)
{
	unsigned char desc[256];
	size_t addr = cls == ELFCLASS64 ? 8 : 4;
	size_t len = 3 * addr;

	memset(desc, 0, sizeof(desc));
	memcpy(desc + len, prov, strlen(prov) + 1);
	len += strlen(prov) + 1;
	memcpy(desc + len, name, strlen(name) + 1);
	len += strlen(name) + 1;
	memcpy(desc + len, "", 1);
	len += 1;
	notes_raw(n, (uint32_t)strlen(owner) + 1, (uint32_t)len, type, owner, strlen(owner) + 1, desc, len);
}

/* A well-formed stapsdt note for an ELF of class cls. */
static void notes_add(struct notes *n, int cls, const char *prov, const char *name)
{
	notes_add_as(n, cls, "stapsdt", 3, prov, name);
}

/* Write an ELF file of class cls holding one .note.stapsdt section. */
static char *build_elf(int cls, const struct notes *n)
{
	static const char shstr[] = "\0.note.stapsdt\0.shstrtab";
	char *path = strdup("/tmp/diag-libresolve-elf-XXXXXX");
	GElf_Ehdr eh;
	GElf_Shdr sh;
	Elf_Scn *note, *str;
	Elf_Data *d;
	Elf *e;
	int fd;

	assert_non_null(path);
	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	e = elf_begin(fd, ELF_C_WRITE, NULL);
	assert_non_null(e);
	assert_non_null(gelf_newehdr(e, cls));
	assert_non_null(gelf_getehdr(e, &eh));
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_type = ET_DYN;
	eh.e_machine = cls == ELFCLASS64 ? EM_X86_64 : EM_386;
	eh.e_version = EV_CURRENT;

	note = elf_newscn(e);
	d = elf_newdata(note);
	d->d_buf = (void *)n->buf;
	d->d_size = n->len;
	d->d_type = ELF_T_BYTE;
	d->d_align = 4;
	assert_non_null(gelf_getshdr(note, &sh));
	sh.sh_type = SHT_NOTE;
	sh.sh_name = 1;
	sh.sh_addralign = 4;
	assert_true(gelf_update_shdr(note, &sh));

	str = elf_newscn(e);
	d = elf_newdata(str);
	d->d_buf = (void *)shstr;
	d->d_size = sizeof(shstr);
	d->d_type = ELF_T_BYTE;
	d->d_align = 1;
	assert_non_null(gelf_getshdr(str, &sh));
	sh.sh_type = SHT_STRTAB;
	sh.sh_name = 15;
	assert_true(gelf_update_shdr(str, &sh));

	eh.e_shstrndx = (uint16_t)elf_ndxscn(str);
	assert_true(gelf_update_ehdr(e, &eh));
	assert_true(elf_update(e, ELF_C_WRITE) > 0);
	elf_end(e);
	close(fd);
	return path;
}

/* ------------------------------------------------------------------------ */
/* libresolve_find                                                          */
/* ------------------------------------------------------------------------ */

static void test_find_c(void **state)
{
	char want[PATH_MAX], got[PATH_MAX];

	(void)state;
	libc_path(want);
	assert_int_equal(libresolve_find("c", got, sizeof(got)), 0);
	assert_string_equal(got, want);
}

static void test_find_elf(void **state)
{
	static const char *const pfx[] = { "libelf.so", "libelf-", NULL };
	char want[PATH_MAX], got[PATH_MAX];

	(void)state;
	assert_true(procmaps_lib(pfx, want));
	assert_int_equal(libresolve_find("elf", got, sizeof(got)), 0);
	assert_string_equal(got, want);
}

/* The ld.so cache through ldconfig -p: the first native entry for libNAME.so*. */
static void check_against_ldconfig(const char *name)
{
	char cmd[256], line[PATH_MAX + 256], want[4][PATH_MAX], got[PATH_MAX];
	char prefix[128];
	int nwant = 0, i;
	FILE *fp;

	snprintf(cmd, sizeof(cmd), "/sbin/ldconfig -p 2>/dev/null");
	fp = popen(cmd, "r");
	assert_non_null(fp);
	snprintf(prefix, sizeof(prefix), "lib%s.so", name);
	while (fgets(line, sizeof(line), fp)) {
		char *key = line + strspn(line, " \t");
		char *arrow = strstr(line, " => ");
		char real[PATH_MAX];
		unsigned char hdr[5] = { 0 };
		FILE *lib;

		if (!arrow || strncmp(key, prefix, strlen(prefix)) != 0)
			continue;
		if (key[strlen(prefix)] != ' ' && key[strlen(prefix)] != '.')
			continue;
		arrow[4 + strcspn(arrow + 4, "\n")] = '\0';
		if (!realpath(arrow + 4, real))
			continue;
		lib = fopen(real, "rbe");
		if (!lib)
			continue;
		if (fread(hdr, 1, sizeof(hdr), lib) != sizeof(hdr))
			hdr[0] = 0;
		fclose(lib);
		if (hdr[0] != 0x7f || hdr[EI_CLASS] != (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32))
			continue;
		if (nwant < 4)
			snprintf(want[nwant++], sizeof(want[0]), "%s", real);
	}
	pclose(fp);
	if (!nwant) {
		print_message("no native lib%s.so in ldconfig -p; only checking it resolves or not\n", name);
		return;
	}
	assert_int_equal(libresolve_find(name, got, sizeof(got)), 0);
	for (i = 0; i < nwant; i++) {
		if (strcmp(got, want[i]) == 0)
			return;
	}
	fail_msg("lib%s resolved to '%s', not what ldconfig -p lists ('%s', ...)", name, got, want[0]);
}

static void test_find_ldcache(void **state)
{
	(void)state;
	check_against_ldconfig("m");
	check_against_ldconfig("stdc++");
	check_against_ldconfig("z");
}

/* A library that only the standard directories know: libcmockery.so, the
 * compatibility link libcmocka-dev installs next to the libcmocka this test
 * loaded, which ldconfig leaves out of its cache (no soname of its own). */
static void test_find_libdir(void **state)
{
	static const char *const pfx[] = { "libcmocka.so", NULL };
	char cmocka[PATH_MAX], link[PATH_MAX + 32], line[256], got[PATH_MAX];
	char *slash;

	(void)state;
	assert_true(procmaps_lib(pfx, cmocka));
	snprintf(link, sizeof(link), "%s", cmocka);
	slash = strrchr(link, '/');
	snprintf(slash, sizeof(link) - (size_t)(slash - link), "/libcmockery.so");
	if (access(link, F_OK) != 0 || shell_line("/sbin/ldconfig -p | grep -F libcmockery", line, sizeof(line))) {
		print_message("libcmockery.so: not a directory-only library here; skipped\n");
		return;
	}
	assert_int_equal(libresolve_find("cmockery", got, sizeof(got)), 0);
	assert_string_equal(got, cmocka);
}

static void test_find_path(void **state)
{
	char want[PATH_MAX], got[PATH_MAX];

	(void)state;
	assert_non_null(realpath("/bin/sh", want));
	assert_int_equal(libresolve_find("/bin/sh", got, sizeof(got)), 0);
	assert_string_equal(got, want);
	assert_int_equal(libresolve_find("/nonexistent/libfoo.so", got, sizeof(got)), -ENOENT);
	assert_string_equal(got, "");
	assert_int_equal(libresolve_find("/etc", got, sizeof(got)), -EISDIR);
	assert_int_equal(libresolve_find("/dev/null", got, sizeof(got)), -ENOENT);
}

static void test_find_executable(void **state)
{
	char line[PATH_MAX], want[PATH_MAX], got[PATH_MAX];

	(void)state;
	assert_true(shell_line("command -v bash", line, sizeof(line)));
	assert_non_null(realpath(line, want));
	assert_int_equal(libresolve_find("bash", got, sizeof(got)), 0);
	assert_string_equal(got, want);
}

static void test_find_missing(void **state)
{
	char got[PATH_MAX];

	(void)state;
	assert_int_equal(libresolve_find("nonexistent_lib_xyz", got, sizeof(got)), -ENOENT);
	assert_string_equal(got, "");
	assert_int_equal(libresolve_find("", got, sizeof(got)), -EINVAL);
	assert_int_equal(libresolve_find(NULL, got, sizeof(got)), -EINVAL);
	assert_int_equal(libresolve_find("c", NULL, 10), -EINVAL);
	assert_int_equal(libresolve_find("c", got, 0), -EINVAL);
}

static void test_find_bounds(void **state)
{
	char want[PATH_MAX], got[PATH_MAX];
	size_t len;

	(void)state;
	libc_path(want);
	len = strlen(want);
	memset(got, 'x', sizeof(got));
	assert_int_equal(libresolve_find("c", got, 4), -ENAMETOOLONG);
	assert_string_equal(got, "");
	assert_int_equal(got[4], 'x');
	assert_int_equal(libresolve_find("c", got, len), -ENAMETOOLONG);
	assert_int_equal(got[len], 'x');
	assert_int_equal(libresolve_find("c", got, len + 1), 0);
	assert_string_equal(got, want);
	assert_int_equal(libresolve_find("/bin/sh", got, 3), -ENAMETOOLONG);
}

/* ------------------------------------------------------------------------ */
/* libresolve_has_symbol                                                    */
/* ------------------------------------------------------------------------ */

static void test_has_symbol_libc(void **state)
{
	char libc[PATH_MAX];

	(void)state;
	libc_path(libc);
	assert_int_equal(libresolve_has_symbol(libc, "malloc"), 1);
	assert_int_equal(libresolve_has_symbol(libc, "memcpy"), 1); /* an IFUNC */
	assert_int_equal(libresolve_has_symbol(libc, "no_such_fn_xyz"), 0);
	assert_int_equal(libresolve_has_symbol(libc, "environ"), 0); /* data, not a function */
	assert_int_equal(libresolve_has_symbol(libc, "mallo"), 0);
}

static void test_has_symbol_self(void **state)
{
	(void)state;
	/* .symtab: main and this static function; printf is only referenced */
	assert_int_equal(libresolve_has_symbol("/proc/self/exe", "main"), 1);
	assert_int_equal(libresolve_has_symbol("/proc/self/exe", "test_has_symbol_self"), 1);
	assert_int_equal(libresolve_has_symbol("/proc/self/exe", "libresolve_has_symbol"), 1);
	assert_int_equal(libresolve_has_symbol("/proc/self/exe", "elf_begin"), 0);
}

static void test_has_symbol_errors(void **state)
{
	(void)state;
	assert_true(libresolve_has_symbol("/etc/passwd", "x") < 0);
	assert_int_equal(libresolve_has_symbol("/nonexistent/file", "x"), -ENOENT);
	assert_true(libresolve_has_symbol("/etc", "x") < 0);
	assert_int_equal(libresolve_has_symbol("/bin/sh", ""), -EINVAL);
	assert_int_equal(libresolve_has_symbol("/bin/sh", NULL), -EINVAL);
	assert_int_equal(libresolve_has_symbol(NULL, "x"), -EINVAL);
}

/* ------------------------------------------------------------------------ */
/* libresolve_find_usdt                                                     */
/* ------------------------------------------------------------------------ */

static void test_usdt_self(void **state)
{
	char prov[64];

	(void)state;
	assert_int_equal(libresolve_find_usdt("/proc/self/exe", "diagtest", "probe_one", prov, sizeof(prov)), 1);
	assert_string_equal(prov, "diagtest");
	assert_int_equal(libresolve_find_usdt("/proc/self/exe", NULL, "probe_one", prov, sizeof(prov)), 1);
	assert_string_equal(prov, "diagtest");
	assert_int_equal(libresolve_find_usdt("/proc/self/exe", "other", "probe_one", prov, sizeof(prov)), 1);
	assert_string_equal(prov, "other");
	assert_int_equal(libresolve_find_usdt("/proc/self/exe", NULL, "probe_two", NULL, 0), 1);
	assert_int_equal(libresolve_find_usdt("/proc/self/exe", "other", "probe_two", prov, sizeof(prov)), 0);
	assert_int_equal(libresolve_find_usdt("/proc/self/exe", NULL, "probe_three", prov, sizeof(prov)), 0);
	assert_int_equal(libresolve_find_usdt("/proc/self/exe", NULL, "probe", prov, sizeof(prov)), 0);
	assert_int_equal(libresolve_find_usdt("/proc/self/exe", NULL, "probe_one", prov, 5), -ENAMETOOLONG);
	assert_int_equal(libresolve_find_usdt("/proc/self/exe", NULL, "", prov, sizeof(prov)), -EINVAL);
}

/* Probes readelf -n lists for path, as "provider:name" lines. */
static int readelf_probes(const char *path, char probes[][128], int max)
{
	char cmd[PATH_MAX + 64], line[512], prov[64] = "";
	FILE *fp;
	int n = 0;

	/* returns how many probes readelf lists; stores the first max */
	snprintf(cmd, sizeof(cmd), "readelf -n '%s' 2>/dev/null", path);
	fp = popen(cmd, "r");
	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp)) {
		char *p = line + strspn(line, " \t");

		p[strcspn(p, "\n")] = '\0';
		if (strncmp(p, "Provider: ", 10) == 0)
			snprintf(prov, sizeof(prov), "%s", p + 10);
		else if (strncmp(p, "Name: ", 6) == 0 && prov[0] && n++ < max)
			snprintf(probes[n - 1], 128, "%s:%s", prov, p + 6);
	}
	pclose(fp);
	return n;
}

static void check_against_readelf(const char *path)
{
	char probes[8][128], prov[64];
	int n, i, setjmp_listed = 0;

	n = readelf_probes(path, probes, 8);
	print_message("%s: readelf lists %d USDT probes\n", path, n);
	for (i = 0; i < n && i < 8; i++) {
		char *colon = strchr(probes[i], ':');

		*colon = '\0';
		if (strcmp(colon + 1, "setjmp") == 0)
			setjmp_listed = 1;
		assert_int_equal(libresolve_find_usdt(path, probes[i], colon + 1, prov, sizeof(prov)), 1);
		assert_string_equal(prov, probes[i]);
		assert_int_equal(libresolve_find_usdt(path, NULL, colon + 1, NULL, 0), 1);
	}
	if (n >= 0 && n < 8)
		assert_int_equal(libresolve_find_usdt(path, NULL, "setjmp", NULL, 0), setjmp_listed);
	assert_int_equal(libresolve_find_usdt(path, NULL, "no_such_probe_xyz", prov, sizeof(prov)), 0);
}

static void test_usdt_host_libs(void **state)
{
	char path[PATH_MAX];

	(void)state;
	libc_path(path);
	check_against_readelf(path);
	if (libresolve_find("stdc++", path, sizeof(path)) == 0)
		check_against_readelf(path);
	if (libresolve_find("python3.11", path, sizeof(path)) == 0)
		check_against_readelf(path);
}

static void test_usdt_built_elf(void **state)
{
	static const int classes[] = { ELFCLASS32, ELFCLASS64 };
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct notes n = { .len = 0 };
		char prov[64];
		char *path;

		notes_add(&n, classes[i], "prov_a", "alpha");
		notes_add(&n, classes[i], "prov_b", "beta");
		notes_add(&n, classes[i], "prov_c", "alpha");
		path = build_elf(classes[i], &n);
		assert_int_equal(libresolve_find_usdt(path, NULL, "beta", prov, sizeof(prov)), 1);
		assert_string_equal(prov, "prov_b");
		assert_int_equal(libresolve_find_usdt(path, "prov_c", "alpha", prov, sizeof(prov)), 1);
		assert_string_equal(prov, "prov_c");
		assert_int_equal(libresolve_find_usdt(path, "prov_b", "alpha", prov, sizeof(prov)), 0);
		assert_int_equal(libresolve_find_usdt(path, NULL, "gamma", prov, sizeof(prov)), 0);
		/* no symbol tables at all */
		assert_int_equal(libresolve_has_symbol(path, "alpha"), 0);
		drop_tmp(path);
	}
}

static void test_usdt_no_notes(void **state)
{
	(void)state;
	/* /bin/sh (dash) carries no stapsdt notes on Debian */
	if (readelf_probes("/bin/sh", (char(*)[128])NULL, 0) == 0)
		assert_int_equal(libresolve_find_usdt("/bin/sh", NULL, "x", NULL, 0), 0);
	assert_int_equal(libresolve_find_usdt("/nonexistent/file", NULL, "x", NULL, 0), -ENOENT);
	assert_true(libresolve_find_usdt("/etc/passwd", NULL, "x", NULL, 0) < 0);
}

/* ------------------------------------------------------------------------ */
/* Hostile files                                                            */
/* ------------------------------------------------------------------------ */

static void test_hostile_garbage(void **state)
{
	static const unsigned char garbage[] = "\x7f"
					       "ELF\x02\x01\x01garbage-garbage-garbage";
	static const unsigned char junk[] = { 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01 };
	char *p;

	(void)state;
	p = write_tmp(garbage, sizeof(garbage));
	assert_true(libresolve_has_symbol(p, "main") < 0);
	assert_true(libresolve_find_usdt(p, NULL, "x", NULL, 0) <= 0);
	drop_tmp(p);
	p = write_tmp(junk, sizeof(junk));
	assert_true(libresolve_has_symbol(p, "main") < 0);
	assert_true(libresolve_find_usdt(p, NULL, "x", NULL, 0) < 0);
	drop_tmp(p);
	p = write_tmp("", 0);
	assert_true(libresolve_has_symbol(p, "main") < 0);
	assert_true(libresolve_find_usdt(p, NULL, "x", NULL, 0) < 0);
	drop_tmp(p);
}

static void test_hostile_truncated(void **state)
{
	static const size_t cuts[] = { 16, 64, 100, 4096, 65536 };
	FILE *fp;
	unsigned char *buf;
	size_t len, i;

	(void)state;
	buf = malloc(65536);
	assert_non_null(buf);
	fp = fopen("/proc/self/exe", "rbe");
	assert_non_null(fp);
	len = fread(buf, 1, 65536, fp);
	fclose(fp);
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		char *p;
		int rc;

		if (cuts[i] > len)
			continue;
		p = write_tmp(buf, cuts[i]);
		/* the section headers are at the end: gone, or out of bounds */
		rc = libresolve_has_symbol(p, "main");
		assert_true(rc <= 0);
		rc = libresolve_find_usdt(p, NULL, "probe_one", NULL, 0);
		assert_true(rc <= 0);
		drop_tmp(p);
	}
	free(buf);
}

static void test_hostile_notes(void **state)
{
	static const int classes[] = { ELFCLASS32, ELFCLASS64 };
	unsigned char desc[64];
	size_t i;

	(void)state;
	memset(desc, 'A', sizeof(desc));
	for (i = 0; i < 2; i++) {
		size_t addr = classes[i] == ELFCLASS64 ? 8 : 4;
		struct notes n = { .len = 0 };
		char prov[16];
		char *path;

		/* too short for the three addresses */
		notes_raw(&n, 8, (uint32_t)(2 * addr), 3, "stapsdt", 8, desc, 2 * addr);
		/* strings with no NUL inside the descriptor */
		notes_raw(&n, 8, sizeof(desc), 3, "stapsdt", 8, desc, sizeof(desc));
		/* provider but no name */
		memset(desc, 0, 3 * addr);
		memcpy(desc + 3 * addr, "prov\0nam", 8);
		notes_raw(&n, 8, (uint32_t)(3 * addr + 8), 3, "stapsdt", 8, desc, 3 * addr + 8);
		/* wrong owner, wrong type, owner without its NUL */
		notes_add_as(&n, classes[i], "stapsxx", 3, "bad", "found_me");
		notes_add_as(&n, classes[i], "stapsdt", 7, "bad", "found_me");
		notes_add_as(&n, classes[i], "stapsdtx", 3, "bad", "found_me");
		notes_add(&n, classes[i], "p", "q");
		/* a good one after the bad ones */
		notes_add(&n, classes[i], "good", "found_me");
		path = build_elf(classes[i], &n);
		assert_int_equal(libresolve_find_usdt(path, NULL, "found_me", prov, sizeof(prov)), 1);
		assert_string_equal(prov, "good");
		assert_int_equal(libresolve_find_usdt(path, "bad", "found_me", NULL, 0), 0);
		assert_int_equal(libresolve_find_usdt(path, NULL, "nam", NULL, 0), 0);
		assert_int_equal(libresolve_find_usdt(path, "p", "q", NULL, 0), 1);
		drop_tmp(path);

		/* sizes that run past the section: everything after is unreadable */
		n.len = 0;
		notes_raw(&n, 8, 0xfffffff0u, 3, "stapsdt", 8, "", 0);
		notes_add(&n, classes[i], "good", "found_me");
		path = build_elf(classes[i], &n);
		assert_true(libresolve_find_usdt(path, NULL, "found_me", NULL, 0) <= 0);
		drop_tmp(path);
		n.len = 0;
		notes_raw(&n, 0xfffffff0u, 8, 3, "stapsdt", 8, "", 0);
		path = build_elf(classes[i], &n);
		assert_true(libresolve_find_usdt(path, NULL, "found_me", NULL, 0) <= 0);
		drop_tmp(path);
	}
}

/* Overwrite the stapsdt section of a copy of this binary with 0xff bytes,
 * then with a note whose descriptor size points far past the file. */
static void test_hostile_corrupt_self(void **state)
{
	static const unsigned char patterns[] = { 0xff, 0x00, 0x41 };
	size_t len, i;
	char *path;

	(void)state;
	for (i = 0; i < sizeof(patterns); i++) {
		GElf_Shdr sh;
		Elf_Scn *scn = NULL;
		Elf *e;
		size_t shstrndx, off = 0, size = 0;
		int fd;

		path = copy_self(&len);
		fd = open(path, O_RDWR | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
		e = elf_begin(fd, ELF_C_READ, NULL);
		assert_non_null(e);
		assert_int_equal(elf_getshdrstrndx(e, &shstrndx), 0);
		while ((scn = elf_nextscn(e, scn)) != NULL) {
			const char *nm;

			gelf_getshdr(scn, &sh);
			nm = elf_strptr(e, shstrndx, sh.sh_name);
			if (nm && strcmp(nm, ".note.stapsdt") == 0) {
				off = sh.sh_offset;
				size = sh.sh_size;
			}
		}
		elf_end(e);
		assert_true(size > 0 && off + size <= len);
		{
			unsigned char *junk = malloc(size);

			assert_non_null(junk);
			memset(junk, patterns[i], size);
			assert_int_equal(pwrite(fd, junk, size, (off_t)off), (ssize_t)size);
			free(junk);
		}
		close(fd);
		assert_true(libresolve_find_usdt(path, NULL, "probe_one", NULL, 0) <= 0);
		assert_int_equal(libresolve_has_symbol(path, "main"), 1);
		drop_tmp(path);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_c),
		cmocka_unit_test(test_find_elf),
		cmocka_unit_test(test_find_ldcache),
		cmocka_unit_test(test_find_libdir),
		cmocka_unit_test(test_find_path),
		cmocka_unit_test(test_find_executable),
		cmocka_unit_test(test_find_missing),
		cmocka_unit_test(test_find_bounds),
		cmocka_unit_test(test_has_symbol_libc),
		cmocka_unit_test(test_has_symbol_self),
		cmocka_unit_test(test_has_symbol_errors),
		cmocka_unit_test(test_usdt_self),
		cmocka_unit_test(test_usdt_host_libs),
		cmocka_unit_test(test_usdt_built_elf),
		cmocka_unit_test(test_usdt_no_notes),
		cmocka_unit_test(test_hostile_garbage),
		cmocka_unit_test(test_hostile_truncated),
		cmocka_unit_test(test_hostile_notes),
		cmocka_unit_test(test_hostile_corrupt_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

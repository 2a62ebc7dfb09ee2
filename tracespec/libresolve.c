/* libresolve.c - find the binary a uprobe or USDT spec names and look inside it. */
#include "tracespec/libresolve.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef LDCACHE_PATH
#define LDCACHE_PATH "/etc/ld.so.cache" /* -D for tests and fuzzing */
#endif
#define LDCACHE_SIZE_MAX       (64u << 20) /* refuse caches larger than this */
#define LDCACHE_OLD_MAGIC      "ld.so-1.7.0"
#define LDCACHE_NEW_MAGIC      "glibc-ld.so.cache1.1"
#define LDCACHE_OLD_HDR	       16 /* char magic[11], uint32 nlibs (aligned) */
#define LDCACHE_OLD_ENTRY      12 /* int32 flags, uint32 key, uint32 value */
#define LDCACHE_NEW_HDR	       48
#define LDCACHE_NEW_ENTRY      24
#define LDCACHE_FLAG_TYPE_MASK 0x00ff
#define LDCACHE_FLAG_ARCH_MASK 0xff00
#define LDCACHE_FLAG_ELF_LIBC6 0x0003

#define CAND_MAX	64 /* library candidates weighed per source */
#define LIB_NAME_MAX	255
#define DIR_ENTRIES_MAX 100000 /* most directory entries read per dir */
#define USDT_NOTE_TYPE	3

/* What this build runs as: ld.so.cache arch flag and ELF identity. */
#if defined(__x86_64__)
#define HOST_CACHE_ARCH 0x0300
#define HOST_EM		EM_X86_64
#elif defined(__aarch64__)
#define HOST_CACHE_ARCH 0x0a00
#define HOST_EM		EM_AARCH64
#elif defined(__i386__)
#define HOST_CACHE_ARCH 0x0000
#define HOST_EM		EM_386
#else
#define HOST_CACHE_ARCH -1
#define HOST_EM		EM_NONE
#endif
#if UINTPTR_MAX > 0xffffffffu
#define HOST_ELFCLASS ELFCLASS64
#else
#define HOST_ELFCLASS ELFCLASS32
#endif

/* ------------------------------------------------------------------------ */
/* Helpers                                                                  */
/* ------------------------------------------------------------------------ */

/* Copy s into out (size bytes) or -ENAMETOOLONG. */
static int libresolve_copy(char *out, size_t size, const char *s)
{
	size_t len = strlen(s);

	if (len >= size)
		return -ENAMETOOLONG;
	memcpy(out, s, len + 1);
	return 0;
}

/* realpath of path into out when it is a regular file: 0, -ENOENT,
 * -ENAMETOOLONG or -errno. */
static int libresolve_real_file(const char *path, char *out, size_t size)
{
	char real[PATH_MAX];
	struct stat st;

	if (!realpath(path, real)) {
		if (errno == ENAMETOOLONG || errno == EACCES || errno == ELOOP)
			return -errno;
		return -ENOENT;
	}
	if (stat(real, &st) != 0)
		return -ENOENT;
	if (!S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -ENOENT;
	return libresolve_copy(out, size, real);
}

/* True when path is an ELF file of this build's class and machine. */
static bool libresolve_elf_native(const char *path)
{
	unsigned char hdr[20];
	uint16_t machine;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = pread(fd, hdr, sizeof(hdr), 0);
	close(fd);
	if (n != (ssize_t)sizeof(hdr) || memcmp(hdr, ELFMAG, SELFMAG) != 0)
		return false;
	if (hdr[EI_CLASS] != HOST_ELFCLASS)
		return false;
	if (HOST_EM == EM_NONE)
		return true;
	if (hdr[EI_DATA] == ELFDATA2LSB)
		machine = (uint16_t)(hdr[18] | (hdr[19] << 8));
	else
		machine = (uint16_t)((hdr[18] << 8) | hdr[19]);
	return machine == HOST_EM;
}

/* "libNAME.so" exactly or "libNAME.so." followed by more: the part after
 * ".so" ("" or ".6"), else NULL. */
static const char *libresolve_so_suffix(const char *file, const char *name)
{
	size_t nlen = strlen(name);

	if (strncmp(file, "lib", 3) != 0 || strncmp(file + 3, name, nlen) != 0)
		return NULL;
	file += 3 + nlen;
	if (strncmp(file, ".so", 3) != 0)
		return NULL;
	file += 3;
	if (file[0] == '\0' || (file[0] == '.' && file[1] != '\0'))
		return file;
	return NULL;
}

static int libresolve_count_dots(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '.';
	return n;
}

/* ------------------------------------------------------------------------ */
/* Candidates                                                               */
/* ------------------------------------------------------------------------ */

struct lib_cand {
	const char *key; /* what is ranked: cache key or file name */
	char path[PATH_MAX];
	int rank; /* lower is better, compared before the key */
};

struct lib_cands {
	struct lib_cand *c;
	int n;
};

static int lib_cand_cmp(const void *a, const void *b)
{
	const struct lib_cand *x = a, *y = b;
	size_t lx, ly;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	lx = strlen(x->key);
	ly = strlen(y->key);
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return strcmp(x->key, y->key);
}

static void lib_cands_add(struct lib_cands *cs, const char *key, const char *path, int rank)
{
	struct lib_cand *c;
	int k;

	if (cs->n >= CAND_MAX)
		return;
	c = &cs->c[cs->n];
	k = snprintf(c->path, sizeof(c->path), "%s", path);
	if (k < 0 || (size_t)k >= sizeof(c->path))
		return;
	c->key = key;
	c->rank = rank;
	cs->n++;
}

/* Sort, then the first candidate that is a native ELF regular file wins.
 * 0 with out filled, -ENOENT when none qualifies, or -ENAMETOOLONG. */
static int lib_cands_pick(struct lib_cands *cs, char *out, size_t size)
{
	int i;

	qsort(cs->c, (size_t)cs->n, sizeof(cs->c[0]), lib_cand_cmp);
	for (i = 0; i < cs->n; i++) {
		char real[PATH_MAX];

		if (libresolve_real_file(cs->c[i].path, real, sizeof(real)) != 0)
			continue;
		if (!libresolve_elf_native(real))
			continue;
		return libresolve_copy(out, size, real);
	}
	return -ENOENT;
}

/* ------------------------------------------------------------------------ */
/* ld.so.cache                                                              */
/* ------------------------------------------------------------------------ */

static uint32_t ldcache_u32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Read the whole cache (bounded). 0 with *buf (free it) and *len, or -errno. */
static int ldcache_read(unsigned char **buf, size_t *len)
{
	struct stat st;
	unsigned char *b = NULL;
	size_t got = 0;
	int fd, err = 0;

	*buf = NULL;
	*len = 0;
	fd = open(LDCACHE_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		err = -errno;
		goto cleanup;
	}
	if (st.st_size <= 0 || (unsigned long long)st.st_size > LDCACHE_SIZE_MAX) {
		err = -EFBIG;
		goto cleanup;
	}
	b = malloc((size_t)st.st_size);
	if (!b) {
		err = -ENOMEM;
		goto cleanup;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto cleanup;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*buf = b;
	*len = got;
	b = NULL;
cleanup:
	free(b);
	close(fd);
	return err;
}

/* The NUL-terminated string at off in buf[0..len), else NULL. */
static const char *ldcache_str(const unsigned char *buf, size_t len, size_t off)
{
	if (off >= len || !memchr(buf + off, '\0', len - off))
		return NULL;
	return (const char *)buf + off;
}

/* The best cache entry whose key is libNAME.so or libNAME.so.*: native arch
 * flags first, then the shortest key; it must be an ELF file of this build's
 * class and machine. 0 with out filled, -ENOENT when no entry qualifies,
 * -ENAMETOOLONG, or another -errno when the cache is unreadable or corrupt. */
static int ldcache_find(const char *name, char *out, size_t size)
{
	struct lib_cands cs = { NULL, 0 };
	unsigned char *buf = NULL;
	size_t len = 0, hdr = 0, base, i, nlibs;
	int err;

	err = ldcache_read(&buf, &len);
	if (err)
		return err;
	if (len >= LDCACHE_OLD_HDR && memcmp(buf, LDCACHE_OLD_MAGIC, strlen(LDCACHE_OLD_MAGIC)) == 0) {
		size_t old = ldcache_u32(buf + 12);

		if (old > (len - LDCACHE_OLD_HDR) / LDCACHE_OLD_ENTRY) {
			err = -EINVAL;
			goto cleanup;
		}
		hdr = LDCACHE_OLD_HDR + old * LDCACHE_OLD_ENTRY;
		hdr = (hdr + 7) & ~(size_t)7;
	}
	if (hdr > len || len - hdr < LDCACHE_NEW_HDR ||
	    memcmp(buf + hdr, LDCACHE_NEW_MAGIC, strlen(LDCACHE_NEW_MAGIC)) != 0) {
		/* old-format-only caches have not been written since glibc 2.32 */
		err = -EINVAL;
		goto cleanup;
	}
	base = hdr; /* new-format string offsets count from the new header */
	nlibs = ldcache_u32(buf + hdr + 20);
	if (nlibs > (len - hdr - LDCACHE_NEW_HDR) / LDCACHE_NEW_ENTRY) {
		err = -EINVAL;
		goto cleanup;
	}
	cs.c = calloc(CAND_MAX, sizeof(*cs.c));
	if (!cs.c) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (i = 0; i < nlibs; i++) {
		const unsigned char *e = buf + hdr + LDCACHE_NEW_HDR + i * LDCACHE_NEW_ENTRY;
		uint32_t flags = ldcache_u32(e);
		const char *key = ldcache_str(buf, len, base + ldcache_u32(e + 4));
		const char *value = ldcache_str(buf, len, base + ldcache_u32(e + 8));
		int rank;

		if (!key || !value || !libresolve_so_suffix(key, name))
			continue;
		if ((flags & LDCACHE_FLAG_TYPE_MASK) != LDCACHE_FLAG_ELF_LIBC6)
			rank = 2;
		else if (HOST_CACHE_ARCH >= 0 && (int)(flags & LDCACHE_FLAG_ARCH_MASK) == HOST_CACHE_ARCH)
			rank = 0;
		else
			rank = 1; /* the ELF check below decides */
		lib_cands_add(&cs, key, value, rank);
	}
	err = cs.n ? lib_cands_pick(&cs, out, size) : -ENOENT;
cleanup:
	free(cs.c);
	free(buf);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Library directories and PATH                                             */
/* ------------------------------------------------------------------------ */

/* libNAME.so[.*] in dir: the fewest dots after ".so", then by name. */
static int libdir_find(const char *dir, const char *name, char *out, size_t size)
{
	struct lib_cands cs = { NULL, 0 };
	char *keys = NULL; /* CAND_MAX names of NAME_MAX + 1 bytes */
	DIR *d = NULL;
	struct dirent *de;
	long seen = 0;
	int err = -ENOENT;

	d = opendir(dir);
	if (!d)
		return errno == ENOMEM ? -ENOMEM : -ENOENT; /* out of memory is not "not here" */
	cs.c = calloc(CAND_MAX, sizeof(*cs.c));
	keys = calloc(CAND_MAX, NAME_MAX + 1);
	if (!cs.c || !keys) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (;;) {
		const char *suffix;
		char path[PATH_MAX];
		char *key;
		int k;

		de = readdir(d);
		if (!de || ++seen > DIR_ENTRIES_MAX)
			break;
		suffix = libresolve_so_suffix(de->d_name, name);
		if (!suffix || cs.n >= CAND_MAX)
			continue;
		k = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (k < 0 || (size_t)k >= sizeof(path))
			continue;
		key = keys + (size_t)cs.n * (NAME_MAX + 1);
		snprintf(key, NAME_MAX + 1, "%s", de->d_name);
		lib_cands_add(&cs, key, path, libresolve_count_dots(suffix));
	}
	if (cs.n)
		err = lib_cands_pick(&cs, out, size);
cleanup:
	free(keys);
	free(cs.c);
	closedir(d);
	return err;
}

static const char *libresolve_triple(void)
{
	struct utsname u;

	if (uname(&u) != 0)
		return NULL;
	if (strcmp(u.machine, "x86_64") == 0)
		return "x86_64-linux-gnu";
	if (strcmp(u.machine, "aarch64") == 0)
		return "aarch64-linux-gnu";
	return NULL;
}

static int libdirs_find(const char *name, char *out, size_t size)
{
	static const char *const plain[] = {
		"/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib",
	};
	const char *triple = libresolve_triple();
	char dir[PATH_MAX];
	size_t i;
	int err;

	if (triple) {
		static const char *const multi[] = { "/lib", "/usr/lib" };

		for (i = 0; i < sizeof(multi) / sizeof(multi[0]); i++) {
			snprintf(dir, sizeof(dir), "%s/%s", multi[i], triple);
			err = libdir_find(dir, name, out, size);
			if (err != -ENOENT)
				return err;
		}
	}
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		err = libdir_find(plain[i], name, out, size);
		if (err != -ENOENT)
			return err;
	}
	return -ENOENT;
}

/* An executable regular file NAME in $PATH. */
static int path_find(const char *name, char *out, size_t size)
{
	const char *env = getenv("PATH");
	const char *p, *end;

	if (!env || !env[0])
		env = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (p = env; *p; p = *end ? end + 1 : end) {
		char cand[PATH_MAX];
		size_t dlen;
		struct stat st;
		int k, err;

		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		dlen = (size_t)(end - p);
		/* an empty element means the working directory: never search it */
		if (dlen == 0)
			continue;
		k = snprintf(cand, sizeof(cand), "%.*s/%s", (int)dlen, p, name);
		if (k < 0 || (size_t)k >= sizeof(cand))
			continue;
		if (stat(cand, &st) != 0 || !S_ISREG(st.st_mode) || access(cand, X_OK) != 0)
			continue;
		err = libresolve_real_file(cand, out, size);
		if (err != -ENOENT)
			return err;
	}
	return -ENOENT;
}

int libresolve_find(const char *name, char *out, size_t size)
{
	int err;

	if (!name || !name[0] || !out || size == 0)
		return -EINVAL;
	out[0] = '\0';
	if (strchr(name, '/'))
		return libresolve_real_file(name, out, size);
	if (strlen(name) > LIB_NAME_MAX)
		return -ENAMETOOLONG;
	err = ldcache_find(name, out, size);
	if (err == 0 || err == -ENAMETOOLONG || err == -ENOMEM)
		goto cleanup;
	err = libdirs_find(name, out, size);
	if (err == 0 || err == -ENAMETOOLONG || err == -ENOMEM)
		goto cleanup;
	err = path_find(name, out, size);
cleanup:
	if (err)
		out[0] = '\0';
	return err;
}

/* ------------------------------------------------------------------------ */
/* ELF                                                                      */
/* ------------------------------------------------------------------------ */

struct elf_file {
	int fd;
	Elf *elf;
};

/* Open path as ELF. 0, or -errno (-ENOEXEC when it is not ELF). */
static int elf_file_open(struct elf_file *ef, const char *path)
{
	ef->fd = -1;
	ef->elf = NULL;
	if (!path || !path[0])
		return -EINVAL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOTSUP;
	ef->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ef->fd < 0)
		return -errno;
	ef->elf = elf_begin(ef->fd, ELF_C_READ_MMAP, NULL);
	if (!ef->elf || elf_kind(ef->elf) != ELF_K_ELF) {
		if (ef->elf)
			elf_end(ef->elf);
		ef->elf = NULL;
		close(ef->fd);
		ef->fd = -1;
		return -ENOEXEC;
	}
	return 0;
}

static void elf_file_close(struct elf_file *ef)
{
	if (ef->elf)
		elf_end(ef->elf);
	if (ef->fd >= 0)
		close(ef->fd);
	ef->elf = NULL;
	ef->fd = -1;
}

/* NAME equals sym, or is sym@VERSION / sym@@VERSION (versioned .symtab names). */
static bool elf_name_matches(const char *name, const char *sym, size_t slen)
{
	return strncmp(name, sym, slen) == 0 && (name[slen] == '\0' || name[slen] == '@');
}

int libresolve_has_symbol(const char *path, const char *sym)
{
	struct elf_file ef;
	Elf_Scn *scn = NULL;
	size_t slen;
	int err, found = 0;

	if (!sym || !sym[0])
		return -EINVAL;
	slen = strlen(sym);
	err = elf_file_open(&ef, path);
	if (err)
		return err;
	if (!gelf_getclass(ef.elf)) {
		err = -ENOEXEC;
		goto cleanup;
	}
	for (;;) {
		GElf_Shdr shdr;
		Elf_Data *data;
		size_t i, count, entsize;

		scn = elf_nextscn(ef.elf, scn);
		if (!scn)
			break;
		if (!gelf_getshdr(scn, &shdr))
			continue;
		if (shdr.sh_type != SHT_SYMTAB && shdr.sh_type != SHT_DYNSYM)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf)
			continue;
		entsize = gelf_fsize(ef.elf, ELF_T_SYM, 1, EV_CURRENT);
		if (entsize == 0)
			continue;
		count = data->d_size / entsize;
		if (count > INT_MAX)
			count = INT_MAX;
		for (i = 0; i < count; i++) {
			GElf_Sym s;
			const char *nm;
			int type;

			if (!gelf_getsym(data, (int)i, &s))
				break;
			if (s.st_shndx == SHN_UNDEF || s.st_name == 0)
				continue;
			type = GELF_ST_TYPE(s.st_info);
			if (type != STT_FUNC && type != STT_GNU_IFUNC)
				continue;
			nm = elf_strptr(ef.elf, shdr.sh_link, s.st_name);
			if (nm && elf_name_matches(nm, sym, slen)) {
				found = 1;
				goto cleanup;
			}
		}
	}
cleanup:
	elf_file_close(&ef);
	return err ? err : found;
}

/* The NUL-terminated string at *p within [*p, end), advancing *p past it. */
static const char *usdt_str(const char **p, const char *end)
{
	const char *s = *p;
	const char *nul;

	if (s >= end)
		return NULL;
	nul = memchr(s, '\0', (size_t)(end - s));
	if (!nul)
		return NULL;
	*p = nul + 1;
	return s;
}

/* Scan one .note.stapsdt section. 1 match, 0 none, -ENAMETOOLONG. */
static int usdt_scan(Elf_Data *data, size_t addrsz, const char *provider, const char *name, char *provider_out,
		     size_t size)
{
	size_t off = 0, next;
	GElf_Nhdr nh;
	size_t name_off, desc_off;

	for (;;) {
		const char *desc, *end, *p, *prov, *probe;

		next = gelf_getnote(data, off, &nh, &name_off, &desc_off);
		if (next == 0 || next <= off)
			break;
		off = next;
		if (nh.n_type != USDT_NOTE_TYPE || nh.n_namesz != sizeof("stapsdt") ||
		    memcmp((const char *)data->d_buf + name_off, "stapsdt", sizeof("stapsdt")) != 0)
			continue;
		if (desc_off > data->d_size || nh.n_descsz > data->d_size - desc_off || nh.n_descsz < 3 * addrsz)
			continue;
		desc = (const char *)data->d_buf + desc_off;
		end = desc + nh.n_descsz;
		p = desc + 3 * addrsz;
		prov = usdt_str(&p, end);
		probe = prov ? usdt_str(&p, end) : NULL;
		if (!probe)
			continue;
		if (strcmp(probe, name) != 0 || (provider && strcmp(prov, provider) != 0))
			continue;
		if (provider_out)
			return libresolve_copy(provider_out, size, prov) ? -ENAMETOOLONG : 1;
		return 1;
	}
	return 0;
}

int libresolve_find_usdt(const char *path, const char *provider, const char *name, char *provider_out, size_t size)
{
	struct elf_file ef;
	Elf_Scn *scn = NULL;
	size_t shstrndx, addrsz;
	int err, found = 0, cls;

	if (!name || !name[0] || (provider_out && size == 0))
		return -EINVAL;
	if (provider_out)
		provider_out[0] = '\0';
	err = elf_file_open(&ef, path);
	if (err)
		return err;
	cls = gelf_getclass(ef.elf);
	if (cls != ELFCLASS32 && cls != ELFCLASS64) {
		err = -ENOEXEC;
		goto cleanup;
	}
	addrsz = cls == ELFCLASS64 ? 8 : 4;
	if (elf_getshdrstrndx(ef.elf, &shstrndx) != 0) {
		err = -ENOEXEC;
		goto cleanup;
	}
	for (;;) {
		GElf_Shdr shdr;
		Elf_Data *data;
		const char *sname;

		scn = elf_nextscn(ef.elf, scn);
		if (!scn)
			break;
		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_NOTE)
			continue;
		sname = elf_strptr(ef.elf, shstrndx, shdr.sh_name);
		if (!sname || strcmp(sname, ".note.stapsdt") != 0)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data || !data->d_buf)
			continue;
		found = usdt_scan(data, addrsz, provider, name, provider_out, size);
		if (found)
			break;
	}
cleanup:
	elf_file_close(&ef);
	if (err)
		return err;
	return found;
}

/* dwtypes.c - struct types from a traced binary's DWARF (libdw), as bpftrace finds them. */
#include "tracespec/dwtypes.h"

#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DW_MAX_DEPTH 8 /* anonymous members nested in anonymous members */

/*
 * A separate debug file for a binary without DWARF, looked for on this host
 * only: by build ID under /usr/lib/debug/.build-id (Debian's -dbgsym and -dbg
 * packages), then by its .gnu_debuglink name next to it, in .debug/ beside it
 * and under /usr/lib/debug (gdb's places). dwfl_standard_find_debuginfo does
 * the same, then asks debuginfod: that dlopens libdebuginfod and libcurl and,
 * with DEBUGINFOD_URLS set, downloads from the network while a spec is checked.
 * A root agent makes no such request; dwfl checks the build ID of what we find.
 */
static int find_local_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
				const char *file_name, const char *debuglink, GElf_Word crc, char **found)
{
	static const char *const places[] = { "%.*s/%s", "%.*s/.debug/%s", "/usr/lib/debug%.*s/%s" };
	char path[PATH_MAX];
	const char *slash;
	size_t i;
	int fd;

	fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name, debuglink, crc, found);
	if (fd >= 0 || !debuglink || !file_name || !(slash = strrchr(file_name, '/')))
		return fd;
	for (i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
		int n = snprintf(path, sizeof(path), places[i], (int)(slash - file_name), file_name, debuglink);

		if (n < 0 || (size_t)n >= sizeof(path) || strcmp(path, file_name) == 0)
			continue;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			*found = strdup(path); /* dwfl frees it; NULL only names the file less */
			return fd;
		}
	}
	return -1;
}

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = find_local_debuginfo,
	.debuginfo_path = NULL,
};

/* The binary asked about last: its Dwfl, or the error it gave. */
static struct {
	char *path;
	Dwfl *dwfl;
	int err;
} kept;

void dwtypes_release(void)
{
	if (kept.dwfl)
		dwfl_end(kept.dwfl);
	free(kept.path);
	memset(&kept, 0, sizeof(kept));
}

/* path's Dwfl with its DWARF loaded, or NULL with *err set. */
static Dwfl *open_binary(const char *path, int *err)
{
	Dwfl_Module *mod;
	Dwarf_Addr bias;

	if (kept.path && strcmp(kept.path, path) == 0) {
		*err = kept.err;
		return kept.dwfl;
	}
	dwtypes_release();
	kept.path = strdup(path);
	if (!kept.path) {
		*err = -ENOMEM;
		return NULL;
	}
	kept.dwfl = dwfl_begin(&callbacks);
	mod = kept.dwfl ? dwfl_report_offline(kept.dwfl, "", path, -1) : NULL;
	if (!mod) {
		kept.err = -ENOEXEC; /* not an ELF file we can read */
	} else if (dwfl_report_end(kept.dwfl, NULL, NULL) != 0 || !dwfl_module_getdwarf(mod, &bias)) {
		kept.err = -ENODATA; /* no DWARF, here or in a separate debug file */
	}
	if (kept.err && kept.dwfl) {
		dwfl_end(kept.dwfl);
		kept.dwfl = NULL;
	}
	*err = kept.err;
	return kept.dwfl;
}

/* The first top-level struct NAME, CU by CU (bpftrace's Dwarf::find_type). */
static int find_struct(const char *path, const char *name, Dwarf_Die *out)
{
	Dwarf_Die *cu = NULL;
	Dwarf_Addr bias;
	int err;
	Dwfl *dwfl = open_binary(path, &err);

	if (!dwfl)
		return err;
	while ((cu = dwfl_nextcu(dwfl, cu, &bias))) {
		Dwarf_Die die;
		const char *n;

		if (dwarf_child(cu, &die) != 0)
			continue;
		do {
			if (dwarf_tag(&die) == DW_TAG_structure_type && (n = dwarf_diename(&die)) &&
			    strcmp(n, name) == 0) {
				*out = die;
				return 1;
			}
		} while (dwarf_siblingof(&die, &die) == 0);
	}
	return 0;
}

int dwtypes_struct_check(const char *path, const char *name)
{
	Dwarf_Die die;

	return find_struct(path, name, &die);
}

/* The type die die refers to (DW_AT_type), or false for void. */
static bool type_of(Dwarf_Die *die, Dwarf_Die *out)
{
	Dwarf_Attribute attr;

	return dwarf_attr_integrate(die, DW_AT_type, &attr) && dwarf_formref_die(&attr, out);
}

/* Through typedefs and qualifiers; false for void. */
static bool peel(const Dwarf_Die *die, Dwarf_Die *out)
{
	Dwarf_Die t = *die;

	for (int i = 0; i < 32; i++) {
		int tag = dwarf_tag(&t);

		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type && tag != DW_TAG_volatile_type &&
		    tag != DW_TAG_restrict_type && tag != DW_TAG_atomic_type) {
			*out = t;
			return true;
		}
		if (!type_of(&t, &t))
			return false;
	}
	return false;
}

/* A member's type as a ktype (ktypes.c's describe(), from DWARF). */
static void describe(Dwarf_Die *type, struct ktype *out)
{
	Dwarf_Die t, e;
	const char *n;
	int tag;

	memset(out, 0, sizeof(*out));
	out->user = true;
	if (!peel(type, &t))
		return;
	tag = dwarf_tag(&t);
	if (tag == DW_TAG_base_type || tag == DW_TAG_enumeration_type) {
		out->kind = KT_INT;
	} else if (tag == DW_TAG_structure_type || tag == DW_TAG_union_type) {
		out->kind = KT_STRUCT;
		n = dwarf_diename(&t);
		snprintf(out->name, sizeof(out->name), "%s", n ? n : "");
	} else if (tag == DW_TAG_array_type) {
		Dwarf_Word enc = 0;
		Dwarf_Attribute attr;

		out->kind = KT_ARRAY;
		/* bpftrace reads a char array as a string */
		if (type_of(&t, &e) && peel(&e, &e) && dwarf_tag(&e) == DW_TAG_base_type &&
		    dwarf_formudata(dwarf_attr_integrate(&e, DW_AT_encoding, &attr), &enc) == 0 &&
		    (enc == DW_ATE_signed_char || enc == DW_ATE_unsigned_char))
			out->kind = KT_STRING;
	} else if (tag == DW_TAG_pointer_type) {
		out->kind = KT_PTR;
		for (;;) {
			out->stars++;
			if (!type_of(&t, &e) || !peel(&e, &t)) {
				out->plain = out->stars == 1; /* void * */
				return;
			}
			if (dwarf_tag(&t) != DW_TAG_pointer_type)
				break;
		}
		tag = dwarf_tag(&t);
		if (tag == DW_TAG_structure_type || tag == DW_TAG_union_type) {
			n = dwarf_diename(&t);
			snprintf(out->name, sizeof(out->name), "%s", n ? n : "");
		} else if (tag == DW_TAG_base_type || tag == DW_TAG_enumeration_type) {
			out->plain = out->stars == 1;
		}
	}
}

/* MEMBER among s's members, or inside its anonymous ones. */
/* NOLINTNEXTLINE(misc-no-recursion): at most DW_MAX_DEPTH (8) anonymous members deep */
static bool find_member(Dwarf_Die *s, const char *member, int depth, Dwarf_Die *out)
{
	Dwarf_Die m, t;

	if (depth > DW_MAX_DEPTH || dwarf_child(s, &m) != 0)
		return false;
	do {
		const char *n;

		if (dwarf_tag(&m) != DW_TAG_member)
			continue;
		n = dwarf_diename(&m);
		if (n && strcmp(n, member) == 0) {
			*out = m;
			return true;
		}
		if (!n && type_of(&m, &t) && peel(&t, &t) &&
		    (dwarf_tag(&t) == DW_TAG_structure_type || dwarf_tag(&t) == DW_TAG_union_type) &&
		    find_member(&t, member, depth + 1, out))
			return true;
	} while (dwarf_siblingof(&m, &m) == 0);
	return false;
}

int dwtypes_member_type(const char *path, const char *name, const char *member, struct ktype *out)
{
	Dwarf_Die s, m, t;
	int rc = find_struct(path, name, &s);

	memset(out, 0, sizeof(*out));
	if (rc <= 0)
		return rc == 0 ? -ENOENT : rc;
	if (dwarf_hasattr(&s, DW_AT_declaration))
		return -ENOENT; /* declared only: its members are not here */
	if (!find_member(&s, member, 0, &m))
		return 0;
	if (type_of(&m, &t))
		describe(&t, out);
	else
		out->user = true;
	return 1;
}

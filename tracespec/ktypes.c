/* ktypes.c - facts about kernel types from BTF. */
#include "tracespec/ktypes.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>

static struct btf *vmlinux;

static struct btf *btf_get(void)
{
	if (!vmlinux)
		vmlinux = btf__load_vmlinux_btf();
	return vmlinux;
}

void ktypes_release(void)
{
	btf__free(vmlinux);
	vmlinux = NULL;
}

static const struct btf_type *find_struct(struct btf *btf, const char *name)
{
	int id = btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT);

	if (id < 0)
		id = btf__find_by_name_kind(btf, name, BTF_KIND_UNION);
	return id < 0 ? NULL : btf__type_by_id(btf, (unsigned)id);
}

/* The struct or union a member's type is, through typedefs and qualifiers. */
static const struct btf_type *member_struct(struct btf *btf, unsigned type_id)
{
	const struct btf_type *t = btf__type_by_id(btf, type_id);

	while (t && (btf_is_typedef(t) || btf_is_mod(t)))
		t = btf__type_by_id(btf, t->type);
	return t && (btf_is_struct(t) || btf_is_union(t)) ? t : NULL;
}

/* Bit offset of MEMBER in t, searching anonymous members too; -1 when absent. */
static long member_bits(struct btf *btf, const struct btf_type *t, const char *member, int depth)
{
	const struct btf_member *m = btf_members(t);

	for (int i = 0; i < btf_vlen(t); i++) {
		const char *n = btf__name_by_offset(btf, m[i].name_off);
		const struct btf_type *sub;
		long off;

		if (n && strcmp(n, member) == 0)
			return (long)btf_member_bit_offset(t, (unsigned)i);
		if ((n && *n) || depth > 8)
			continue;
		sub = member_struct(btf, m[i].type);
		off = sub ? member_bits(btf, sub, member, depth + 1) : -1;
		if (off >= 0)
			return (long)btf_member_bit_offset(t, (unsigned)i) + off;
	}
	return -1;
}

int ktypes_member_offset(const char *name, const char *member)
{
	struct btf *btf = btf_get();
	const struct btf_type *t;
	long bits;

	if (!btf)
		return -ENOENT;
	t = find_struct(btf, name);
	if (!t)
		return -ENOENT;
	bits = member_bits(btf, t, member, 0);
	return bits < 0 ? -ENOENT : (int)(bits / 8);
}

int ktypes_func_params(const char *func, char names[][64], int max)
{
	struct btf *btf = btf_get();
	const struct btf_param *p;
	const struct btf_type *t;
	int id, n = 0;

	if (!btf)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, func, BTF_KIND_FUNC);
	if (id < 0)
		return -ENOENT;
	t = btf__type_by_id(btf, btf__type_by_id(btf, (unsigned)id)->type);
	p = btf_params(t);
	for (int i = 0; i < btf_vlen(t) && n < max; i++)
		snprintf(names[n++], 64, "%s", btf__name_by_offset(btf, p[i].name_off));
	return n;
}

int ktypes_struct_check(const char *name, char *suggest, size_t size)
{
	struct btf *btf = btf_get();
	char cand[160];

	suggest[0] = '\0';
	if (!btf)
		return -ENOENT;
	if (find_struct(btf, name))
		return 1;
	snprintf(cand, sizeof(cand), "__kernel_%s", name);
	if (!find_struct(btf, cand))
		snprintf(cand, sizeof(cand), "%s64", name);
	if (find_struct(btf, cand))
		snprintf(suggest, size, "%s", cand);
	return 0;
}

/* A member of t (or of its anonymous members) whose name ends with tail. */
static const struct btf_member *suffix_member(struct btf *btf, const struct btf_type *t, const char *tail,
					      int depth)
{
	const struct btf_member *m = btf_members(t);
	size_t tl = strlen(tail);

	for (int i = 0; i < btf_vlen(t); i++) {
		const char *n = btf__name_by_offset(btf, m[i].name_off);
		size_t nl = n ? strlen(n) : 0;
		const struct btf_type *sub;
		const struct btf_member *found;

		if (nl >= tl && nl > 0 && strcmp(n + nl - tl, tail) == 0)
			return &m[i];
		if (nl || depth > 8)
			continue;
		sub = member_struct(btf, m[i].type);
		found = sub ? suffix_member(btf, sub, tail, depth + 1) : NULL;
		if (found)
			return found;
	}
	return NULL;
}

int ktypes_member_check(const char *name, const char *member, char *suggest, size_t size)
{
	struct btf *btf = btf_get();
	const struct btf_member *m;
	const struct btf_type *t;
	const char *tail = strchr(member, '_');

	suggest[0] = '\0';
	if (!btf)
		return -ENOENT;
	t = find_struct(btf, name);
	if (!t)
		return -ENOENT;
	if (member_bits(btf, t, member, 0) >= 0)
		return 1;
	/* sk_dport: look for *_dport one level down, in a named embedded struct. */
	tail = tail ? tail : member;
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++) {
		const struct btf_type *sub = member_struct(btf, m[i].type);
		const struct btf_member *sm;

		if (!sub || !btf__name_by_offset(btf, m[i].name_off)[0])
			continue;
		sm = suffix_member(btf, sub, tail, 0);
		if (sm) {
			snprintf(suggest, size, "%s.%s", btf__name_by_offset(btf, m[i].name_off),
				 btf__name_by_offset(btf, sm->name_off));
			return 0;
		}
	}
	return 0;
}

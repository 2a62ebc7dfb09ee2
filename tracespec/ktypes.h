/* ktypes.h - facts about kernel types from BTF (/sys/kernel/btf/vmlinux).
 *
 * The kernel's BTF is loaded once per process, on first use, and kept until
 * ktypes_release().
 */
#ifndef DIAG_KTYPES_H
#define DIAG_KTYPES_H

#include <stdbool.h>
#include <stddef.h>

/* Byte offset of member MEMBER in struct NAME, or -errno (-ENOENT when the
 * struct or member does not exist, or the kernel has no BTF). */
int ktypes_member_offset(const char *name, const char *member);

/* Parameter names of kernel function FUNC (at most max, each < 64 bytes).
 * Returns their count, or -errno. */
int ktypes_func_params(const char *func, char names[][64], int max);

/* 1 when the kernel has struct NAME, 0 when not, -errno when there is no BTF.
 * When not, suggest gets a struct that likely stands for it (__kernel_NAME,
 * NAME64) or "". */
int ktypes_struct_check(const char *name, char *suggest, size_t size);

/* 1 when struct NAME has MEMBER (directly or through an anonymous struct or
 * union), 0 when not, -errno when NAME is unknown or there is no BTF. When
 * not, suggest gets a path that likely stands for it: C macros such as
 * sock's sk_dport are members of an embedded struct in BTF
 * (__sk_common.skc_dport); "" when nothing fits. */
int ktypes_member_check(const char *name, const char *member, char *suggest, size_t size);

/* The type of a value as bpftrace sees it, from BTF. */
enum ktype_kind {
	KT_UNKNOWN, /* nothing known: never reason from it */
	KT_INT,	    /* an integer, enum or bool */
	KT_PTR,	    /* a pointer: to struct `name` (stars levels), or to anything else (name "") */
	KT_STRUCT,  /* a struct or union by value: `name` ("" when anonymous) */
	KT_ARRAY,   /* an array */
	KT_STRING,  /* a string: comm, a char array (bpftrace reads char[N] as one) */
};

struct ktype {
	enum ktype_kind kind;
	int stars;     /* KT_PTR: levels of indirection */
	char name[64]; /* KT_PTR to a struct, KT_STRUCT */
	bool plain;    /* KT_PTR: known to point to no struct or union (char, an integer, void) */
	bool user;     /* the struct is the traced binary's, from its DWARF (dwtypes.h), not the kernel's */
};

/* The type of member MEMBER of struct or union NAME (found through
 * anonymous members too). Returns 1 with *out filled, 0 when NAME has no
 * such member, -errno when NAME is unknown or there is no BTF. */
int ktypes_member_type(const char *name, const char *member, struct ktype *out);

/* Drop the cached BTF. */
void ktypes_release(void);

#endif /* DIAG_KTYPES_H */

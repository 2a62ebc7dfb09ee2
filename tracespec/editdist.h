/* editdist.h - how far apart two short words are: the one edit distance
 * every "did you mean" and the typo corrector share.
 */
#ifndef DIAG_EDITDIST_H
#define DIAG_EDITDIST_H

#include <stddef.h>

#define EDITDIST_MAX 128 /* longest word compared; longer ones are "too far" */

/* Optimal string alignment distance of a[0..la) and b[0..lb): insertions,
 * deletions, substitutions and swaps of two neighbours each cost 1. Returns
 * bound + 1 as soon as the distance must exceed bound, and for words longer
 * than EDITDIST_MAX. Bytes are compared as they are (no case folding). */
int editdist(const char *a, size_t la, const char *b, size_t lb, int bound);

#endif /* DIAG_EDITDIST_H */

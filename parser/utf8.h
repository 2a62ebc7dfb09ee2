/* utf8.h - UTF-8 validity, byte by byte: what the scanner and the renderer share. */
#ifndef DIAG_UTF8_H
#define DIAG_UTF8_H

#include <stddef.h>

/* The length of the valid UTF-8 sequence at p (1..4; n bytes are there), or
 * 0 when the byte at p does not start one: overlongs, surrogates and code
 * points above U+10FFFF are invalid. */
size_t utf8_seq_len(const unsigned char *p, size_t n);

#endif /* DIAG_UTF8_H */

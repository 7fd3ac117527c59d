/* lib/lz4_internal.h - constants of the LZ4 block format and unaligned word access for lib/lz4*.c. */
#ifndef RVM_LZ4_INTERNAL_H
#define RVM_LZ4_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Format constants (the LZ4 block format description). */
#define LZ4_MINMATCH 4u     /* shortest match; the token stores length - 4 */
#define LZ4_LASTLITERALS 5u /* the last 5 bytes of a block are always literals */
#define LZ4_MFLIMIT 12u     /* the last match starts at least 12 bytes before the end */
#define LZ4_MAX_OFFSET 65535u
#define LZ4_RUN_MASK 15u /* nibble value meaning "more length bytes follow" */

/*
 * Unaligned loads and stores through __builtin_memcpy with a constant size:
 * the compiler emits single moves where the target allows unaligned access and
 * byte moves where it does not (AArch64 -mstrict-align), never a libc call at -O1+.
 */
static inline uint32_t lz4_read32(const uint8_t *p)
{
	uint32_t v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

static inline size_t lz4_read_word(const uint8_t *p)
{
	size_t v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

/* Copies 8 bytes; source and destination must not overlap within them. */
static inline void lz4_copy8(uint8_t *d, const uint8_t *s)
{
	uint64_t v;

	__builtin_memcpy(&v, s, 8);
	__builtin_memcpy(d, &v, 8);
}

/* Copies exactly n bytes (no overlap): 64 at a time, then 16, 8 and single bytes. */
static inline void lz4_copy_exact(uint8_t *d, const uint8_t *s, size_t n)
{
	while (n >= 64u) {
		__builtin_memcpy(d, s, 64);
		d += 64;
		s += 64;
		n -= 64u;
	}
	while (n >= 16u) {
		__builtin_memcpy(d, s, 16);
		d += 16;
		s += 16;
		n -= 16u;
	}
	if (n >= 8u) {
		lz4_copy8(d, s);
		d += 8;
		s += 8;
		n -= 8u;
	}
	while (n--)
		*d++ = *s++;
}

/* Index of the first differing byte of two words that differ (x = a ^ b != 0). */
static inline unsigned lz4_first_diff(size_t x)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (sizeof(size_t) == 8)
		return (unsigned)__builtin_ctzll((unsigned long long)x) >> 3;
	return (unsigned)__builtin_ctz((unsigned)x) >> 3;
#else
	if (sizeof(size_t) == 8)
		return (unsigned)__builtin_clzll((unsigned long long)x) >> 3;
	return (unsigned)__builtin_clz((unsigned)x) >> 3;
#endif
}

#endif

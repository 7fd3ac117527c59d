/* lib/bytes.c - freestanding memcpy & co; the core never links libc. */
#include <rvm/bytes.h>

/* A word that may alias any object: word-wise copies stay defined behaviour. */
typedef uintptr_t __attribute__((may_alias)) rvm_word;
/*
 * The same at any address (a typedef may lower alignment in GCC and Clang): where unaligned
 * loads are cheap (x86, ARMv7-M) this is one load; with -mstrict-align the compiler assembles it
 * from byte loads, never faults and is no slower than copying bytes.
 */
typedef uintptr_t __attribute__((may_alias, aligned(1))) rvm_uword;

#define RVM_WORD sizeof(uintptr_t)

/*
 * Copies the 8 words at s to d, all loads before any store, so any overlap is fine. Eight words
 * in flight let GCC pair them into 16-byte moves on x86-64 (and ldp/stp on AArch64); a macro so
 * that -Os keeps it inline. T is the source word type: rvm_word if s is aligned, else rvm_uword.
 */
#define COPY8(T, d, s)                                                                       \
	do {                                                                                 \
		const T *q_ = (const T *)(const void *)(s);                                  \
		rvm_word *o_ = (rvm_word *)(void *)(d);                                      \
		uintptr_t w0_ = q_[0], w1_ = q_[1], w2_ = q_[2], w3_ = q_[3];                \
		uintptr_t w4_ = q_[4], w5_ = q_[5], w6_ = q_[6], w7_ = q_[7];                \
		o_[0] = w0_;                                                                 \
		o_[1] = w1_;                                                                 \
		o_[2] = w2_;                                                                 \
		o_[3] = w3_;                                                                 \
		o_[4] = w4_;                                                                 \
		o_[5] = w5_;                                                                 \
		o_[6] = w6_;                                                                 \
		o_[7] = w7_;                                                                 \
	} while (0)

/*
 * Copies n bytes upwards. Correct when the ranges are disjoint or d < s: each block is loaded
 * before it is stored and only ever overwrites source bytes already read. d is word-aligned
 * first, so every store is aligned; loads are aligned too when s and d share alignment.
 */
static void copy_up(unsigned char *d, const unsigned char *s, size_t n)
{
	if (n >= 2 * RVM_WORD) {
		while ((uintptr_t)d & (RVM_WORD - 1)) {
			*d++ = *s++;
			n--;
		}
		if (((uintptr_t)s & (RVM_WORD - 1)) == 0) {
			for (; n >= 8 * RVM_WORD; n -= 8 * RVM_WORD) {
				COPY8(rvm_word, d, s);
				d += 8 * RVM_WORD;
				s += 8 * RVM_WORD;
			}
			for (; n >= RVM_WORD; n -= RVM_WORD, d += RVM_WORD, s += RVM_WORD)
				*(rvm_word *)(void *)d = *(const rvm_word *)(const void *)s;
		} else {
			for (; n >= 8 * RVM_WORD; n -= 8 * RVM_WORD) {
				COPY8(rvm_uword, d, s);
				d += 8 * RVM_WORD;
				s += 8 * RVM_WORD;
			}
			for (; n >= RVM_WORD; n -= RVM_WORD, d += RVM_WORD, s += RVM_WORD)
				*(rvm_word *)(void *)d = *(const rvm_uword *)(const void *)s;
		}
	}
	while (n--)
		*d++ = *s++;
}

/*
 * Copies n bytes downwards, from the end. Correct when d > s (the mirror of copy_up): a block
 * only overwrites source bytes at or above the ones it has just loaded.
 */
static void copy_down(unsigned char *d, const unsigned char *s, size_t n)
{
	d += n;
	s += n;
	if (n >= 2 * RVM_WORD) {
		while ((uintptr_t)d & (RVM_WORD - 1)) {
			*--d = *--s;
			n--;
		}
		if (((uintptr_t)s & (RVM_WORD - 1)) == 0) {
			for (; n >= 8 * RVM_WORD; n -= 8 * RVM_WORD) {
				d -= 8 * RVM_WORD;
				s -= 8 * RVM_WORD;
				COPY8(rvm_word, d, s);
			}
			for (; n >= RVM_WORD; n -= RVM_WORD) {
				d -= RVM_WORD;
				s -= RVM_WORD;
				*(rvm_word *)(void *)d = *(const rvm_word *)(const void *)s;
			}
		} else {
			for (; n >= 8 * RVM_WORD; n -= 8 * RVM_WORD) {
				d -= 8 * RVM_WORD;
				s -= 8 * RVM_WORD;
				COPY8(rvm_uword, d, s);
			}
			for (; n >= RVM_WORD; n -= RVM_WORD) {
				d -= RVM_WORD;
				s -= RVM_WORD;
				*(rvm_word *)(void *)d = *(const rvm_uword *)(const void *)s;
			}
		}
	}
	while (n--)
		*--d = *--s;
}

void *rvm_memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	copy_up(dst, src, n);
	return dst;
}

void *rvm_memmove(void *dst, const void *src, size_t n)
{
	/* Upwards is safe unless dst starts inside src (the unsigned difference wraps if d < s). */
	if ((uintptr_t)dst - (uintptr_t)src >= n)
		copy_up(dst, src, n);
	else
		copy_down(dst, src, n);
	return dst;
}

/* c repeated in every byte of a word. */
static uintptr_t splat(int c)
{
	return (uintptr_t)(unsigned char)c * (UINTPTR_MAX / 0xff);
}

void *rvm_memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	uintptr_t w = splat(c);

	/* Bytes up to a word boundary, then words (the 256 KiB witness ring is zeroed at every
	 * boot: a word at a time is what keeps a bare-metal boot fast), then the tail. */
	while (n && ((uintptr_t)d & (sizeof(uintptr_t) - 1))) {
		*d++ = (unsigned char)c;
		n--;
	}
	for (; n >= 4 * sizeof(uintptr_t); n -= 4 * sizeof(uintptr_t)) {
		rvm_word *q = (rvm_word *)(void *)d;

		q[0] = w;
		q[1] = w;
		q[2] = w;
		q[3] = w;
		d += 4 * sizeof(uintptr_t);
	}
	for (; n >= sizeof(uintptr_t); n -= sizeof(uintptr_t)) {
		*(rvm_word *)(void *)d = w;
		d += sizeof(uintptr_t);
	}
	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

int rvm_memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

size_t rvm_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

bool rvm_ct_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned diff = 0;

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned)(x[i] ^ y[i]);
	/* (diff - 1) >> 8 is all ones exactly when diff == 0: no branch on data. */
	return ((diff - 1u) >> 8) & 1u;
}

void rvm_wipe(void *p, size_t n)
{
	/* Volatile stores the compiler must keep, a word at a time where aligned. */
	volatile unsigned char *d = p;

	while (n && ((uintptr_t)d & (sizeof(uintptr_t) - 1))) {
		*d++ = 0;
		n--;
	}
	for (; n >= sizeof(uintptr_t); n -= sizeof(uintptr_t)) {
		*(volatile rvm_word *)(volatile void *)d = 0;
		d += sizeof(uintptr_t);
	}
	while (n--)
		*d++ = 0;
	/* The wiped memory counts as read by someone: no store above is dead. */
	__asm__ volatile("" : : "r"(p) : "memory");
}

/* lib/bytes.c - freestanding memcpy & co; the core never links libc. */
#include <rvm/bytes.h>

/* A word that may alias any object: word-wise copies stay defined behaviour. */
typedef uintptr_t __attribute__((may_alias)) rvm_word;
/*
 * The same at any address (a typedef may lower alignment in GCC and Clang): where unaligned
 * loads are cheap (x86, ARMv7-M) this is one load; with -mstrict-align the compiler assembles it
 * from byte loads, so it never faults on targets that trap unaligned access.
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
 * The block loops: blocks_up copies the n / (8 words) whole blocks starting at s to d, lowest
 * first; blocks_down the ones ending at s (one past the end) to the ones ending at d, highest
 * first. Both return the bytes copied; d is word-aligned. Out of line so that short copies
 * (8-byte digest halves in every witness record) do not pay for saving the registers eight words
 * in flight need on a Cortex-M3.
 */
__attribute__((noinline)) static size_t blocks_up(unsigned char *d, const unsigned char *s,
						  size_t n)
{
	size_t done = n - n % (8 * RVM_WORD);

	if (((uintptr_t)s & (RVM_WORD - 1)) == 0)
		for (size_t i = 0; i < done; i += 8 * RVM_WORD)
			COPY8(rvm_word, d + i, s + i);
	else
		for (size_t i = 0; i < done; i += 8 * RVM_WORD)
			COPY8(rvm_uword, d + i, s + i);
	return done;
}

__attribute__((noinline)) static size_t blocks_down(unsigned char *d, const unsigned char *s,
						    size_t n)
{
	size_t done = n - n % (8 * RVM_WORD);

	if (((uintptr_t)s & (RVM_WORD - 1)) == 0)
		for (size_t i = 8 * RVM_WORD; i <= done; i += 8 * RVM_WORD)
			COPY8(rvm_word, d - i, s - i);
	else
		for (size_t i = 8 * RVM_WORD; i <= done; i += 8 * RVM_WORD)
			COPY8(rvm_uword, d - i, s - i);
	return done;
}

/*
 * Copies n bytes upwards. Correct when the ranges are disjoint or d < s: each block is loaded
 * before it is stored and only ever overwrites source bytes already read. d is word-aligned
 * first, so every store is aligned; loads are aligned too when s and d share alignment.
 */
__attribute__((always_inline)) static inline void copy_up(unsigned char *d, const unsigned char *s,
							    size_t n)
{
	while (n && ((uintptr_t)d & (RVM_WORD - 1))) {
		*d++ = *s++;
		n--;
	}
	if (n >= 8 * RVM_WORD) {
		size_t done = blocks_up(d, s, n);

		d += done;
		s += done;
		n -= done;
	}
	if (((uintptr_t)s & (RVM_WORD - 1)) == 0)
		for (; n >= RVM_WORD; n -= RVM_WORD, d += RVM_WORD, s += RVM_WORD)
			*(rvm_word *)(void *)d = *(const rvm_word *)(const void *)s;
	else
		for (; n >= RVM_WORD; n -= RVM_WORD, d += RVM_WORD, s += RVM_WORD)
			*(rvm_word *)(void *)d = *(const rvm_uword *)(const void *)s;
	while (n--)
		*d++ = *s++;
}

/*
 * Copies n bytes downwards, from the end. Correct when d > s (the mirror of copy_up): a block
 * only overwrites source bytes at or above the ones it has just loaded.
 */
__attribute__((always_inline)) static inline void copy_down(unsigned char *d,
							      const unsigned char *s, size_t n)
{
	d += n;
	s += n;
	while (n && ((uintptr_t)d & (RVM_WORD - 1))) {
		*--d = *--s;
		n--;
	}
	if (n >= 8 * RVM_WORD) {
		size_t done = blocks_down(d, s, n);

		d -= done;
		s -= done;
		n -= done;
	}
	if (((uintptr_t)s & (RVM_WORD - 1)) == 0)
		for (; n >= RVM_WORD; n -= RVM_WORD) {
			d -= RVM_WORD;
			s -= RVM_WORD;
			*(rvm_word *)(void *)d = *(const rvm_word *)(const void *)s;
		}
	else
		for (; n >= RVM_WORD; n -= RVM_WORD) {
			d -= RVM_WORD;
			s -= RVM_WORD;
			*(rvm_word *)(void *)d = *(const rvm_uword *)(const void *)s;
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

/* lib/bytes.c - freestanding memcpy & co; the core never links libc. */
#include <rvm/bytes.h>

/* A word that may alias any object: word-wise copies stay defined behaviour. */
typedef uintptr_t __attribute__((may_alias)) rvm_word;

void *rvm_memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	/* Word copies when both pointers share alignment; bytes otherwise. */
	if ((((uintptr_t)d ^ (uintptr_t)s) & (sizeof(uintptr_t) - 1)) == 0) {
		while (n && ((uintptr_t)d & (sizeof(uintptr_t) - 1))) {
			*d++ = *s++;
			n--;
		}
		for (; n >= sizeof(uintptr_t); n -= sizeof(uintptr_t)) {
			*(rvm_word *)(void *)d = *(const rvm_word *)(const void *)s;
			d += sizeof(uintptr_t);
			s += sizeof(uintptr_t);
		}
	}
	while (n--)
		*d++ = *s++;
	return dst;
}

void *rvm_memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d == s || n == 0)
		return dst;
	/* Forward copy is safe unless dst starts inside src. */
	if ((uintptr_t)d - (uintptr_t)s >= n) {
		while (n--)
			*d++ = *s++;
	} else {
		while (n--)
			d[n] = s[n];
	}
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

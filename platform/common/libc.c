/* platform/common/libc.c - memcpy & co for the bare-metal boards: the compiler may call them. */
#include <stddef.h>

#include <rvm/bytes.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	return rvm_memcpy(dst, src, n);
}

void *memmove(void *dst, const void *src, size_t n)
{
	return rvm_memmove(dst, src, n);
}

void *memset(void *dst, int c, size_t n)
{
	return rvm_memset(dst, c, n);
}

int memcmp(const void *a, const void *b, size_t n)
{
	return rvm_memcmp(a, b, n);
}

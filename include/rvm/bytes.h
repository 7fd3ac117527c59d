/* rvm/bytes.h - freestanding byte helpers: copy, fill, compare, little-endian load/store. */
#ifndef RVM_BYTES_H
#define RVM_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *rvm_memcpy(void *restrict dst, const void *restrict src, size_t n);
void *rvm_memmove(void *dst, const void *src, size_t n);
void *rvm_memset(void *dst, int c, size_t n);
int rvm_memcmp(const void *a, const void *b, size_t n);
size_t rvm_strlen(const char *s);
/* Bytes equal?  Time depends only on n, never on the contents (for MACs, digests). */
bool rvm_ct_equal(const void *a, const void *b, size_t n);
/* Zeroes secrets in a way the compiler may not elide. */
void rvm_wipe(void *p, size_t n);

static inline uint16_t rvm_load_le16(const uint8_t p[2])
{
	return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t rvm_load_le32(const uint8_t p[4])
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t rvm_load_le64(const uint8_t p[8])
{
	return (uint64_t)rvm_load_le32(p) | (uint64_t)rvm_load_le32(p + 4) << 32;
}

static inline void rvm_store_le16(uint8_t p[2], uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void rvm_store_le32(uint8_t p[4], uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void rvm_store_le64(uint8_t p[8], uint64_t v)
{
	rvm_store_le32(p, (uint32_t)v);
	rvm_store_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t rvm_load_be32(const uint8_t p[4])
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void rvm_store_be32(uint8_t p[4], uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static inline uint64_t rvm_load_be64(const uint8_t p[8])
{
	return (uint64_t)rvm_load_be32(p) << 32 | rvm_load_be32(p + 4);
}

static inline void rvm_store_be64(uint8_t p[8], uint64_t v)
{
	rvm_store_be32(p, (uint32_t)(v >> 32));
	rvm_store_be32(p + 4, (uint32_t)v);
}

#endif

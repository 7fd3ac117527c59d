/* lib/fnv.c - FNV-1a 64-bit (Fowler-Noll-Vo): xor each byte in, then multiply by the prime. */
#include <rvm/fnv.h>

uint64_t rvm_fnv1a64_update(uint64_t h, const void *data, size_t n)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= RVM_FNV1A64_PRIME;
	}
	return h;
}

uint64_t rvm_fnv1a64(const void *data, size_t n)
{
	return rvm_fnv1a64_update(RVM_FNV1A64_OFFSET, data, n);
}

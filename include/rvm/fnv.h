/* rvm/fnv.h - FNV-1a 64-bit hashing: the seed profile's cheapest witness chain and fold hash. */
#ifndef RVM_FNV_H
#define RVM_FNV_H

#include <stddef.h>
#include <stdint.h>

#define RVM_FNV1A64_OFFSET 0xcbf29ce484222325ull
#define RVM_FNV1A64_PRIME 0x00000100000001b3ull

/* Continues an FNV-1a 64 hash h over n bytes; start with RVM_FNV1A64_OFFSET. */
uint64_t rvm_fnv1a64_update(uint64_t h, const void *data, size_t n);
/* One-shot FNV-1a 64 of n bytes. Not a cryptographic hash: detects accidents, not forgers. */
uint64_t rvm_fnv1a64(const void *data, size_t n);

#endif

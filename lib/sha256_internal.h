/* lib/sha256_internal.h - what the SHA-256 block functions share: round constants, impls. */
#ifndef RVM_LIB_SHA256_INTERNAL_H
#define RVM_LIB_SHA256_INTERNAL_H

#include <stdbool.h>

#include <rvm/sha256.h>

/* FIPS 180-4 section 4.2.2: the first 32 bits of the cube roots of the first 64 primes. */
extern const uint32_t rvm_sha256_k[64];

#if defined(__x86_64__)
/* SHA-NI block function (lib/sha256_x86.c); only valid when rvm_sha256_x86_has_shani(). */
extern const struct rvm_sha256_impl rvm_sha256_shani_impl;
/* True when cpuid reports SHA, SSE4.1 and SSSE3. */
bool rvm_sha256_x86_has_shani(void);
#endif

#if defined(__aarch64__)
/* ARMv8 crypto-extension block function (lib/sha256_armv8.c, library rvm_lib_simd). */
extern const struct rvm_sha256_impl rvm_sha256_armv8_impl;
#endif

#endif

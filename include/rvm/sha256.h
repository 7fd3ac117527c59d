/* rvm/sha256.h - SHA-256 (FIPS 180-4): portable C plus CPU-accelerated block functions. */
#ifndef RVM_SHA256_H
#define RVM_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define RVM_SHA256_DIGEST 32u
#define RVM_SHA256_BLOCK 64u

/* Compresses nblocks consecutive 64-byte blocks into state. */
typedef void rvm_sha256_blocks_fn(uint32_t state[8], const uint8_t *blocks, size_t nblocks);
/*
 * Compresses nblocks blocks of each of two independent messages, a into sa
 * and b into sb: the same result as two rvm_sha256_blocks_fn calls. One
 * message's rounds each wait for the last; two in step keep a SHA unit with
 * spare throughput busy (SHA-NI on Zen 3: about 1.9x one message's rate).
 */
typedef void rvm_sha256_blocks2_fn(uint32_t sa[8], const uint8_t *a, uint32_t sb[8],
				   const uint8_t *b, size_t nblocks);

/* One implementation of the compression function (portable, SHA-NI, ARMv8 CE). */
struct rvm_sha256_impl {
	const char *name;
	rvm_sha256_blocks_fn *blocks;
	rvm_sha256_blocks2_fn *blocks2; /* NULL: two messages are hashed one after the other */
};

/* Streaming state. The caller owns it; no allocation, no global state. */
struct rvm_sha256 {
	uint32_t state[8];
	uint64_t total;        /* bytes absorbed so far */
	uint8_t buf[RVM_SHA256_BLOCK];
	uint32_t buflen;
	rvm_sha256_blocks_fn *blocks;
	rvm_sha256_blocks2_fn *blocks2; /* the impl's two-message function, or NULL */
};

/* The portable implementation; always available. */
const struct rvm_sha256_impl *rvm_sha256_portable(void);
/*
 * The fastest implementation this CPU supports, found by asking the CPU
 * (cpuid on x86, ID registers or hwcaps on AArch64). Costly on some
 * hypervisors: call it once (platforms store the answer in
 * rvm_platform.sha256) and pass the result around.
 */
const struct rvm_sha256_impl *rvm_sha256_detect(void);
/*
 * Every implementation compiled in that this CPU can run, portable first:
 * writes up to max of them to out and returns how many it wrote (for tests
 * and benchmarks that compare them).
 */
size_t rvm_sha256_available(const struct rvm_sha256_impl *out[], size_t max);

#if defined(__aarch64__)
/*
 * The ARMv8 crypto-extension implementation when ID_AA64ISAR0_EL1 reports
 * SHA2, else NULL. It uses the SIMD registers, so it lives in rvm_lib_simd:
 * hosted builds (RVM_SHA256_ARMV8_DETECT) let rvm_sha256_detect() return it;
 * at EL2 a platform may call this itself only where the FP/SIMD registers it
 * clobbers are saved and restored around the core's use of them.
 */
const struct rvm_sha256_impl *rvm_sha256_armv8(void);
#endif

/* impl NULL selects the portable implementation. */
void rvm_sha256_init(struct rvm_sha256 *ctx, const struct rvm_sha256_impl *impl);
void rvm_sha256_update(struct rvm_sha256 *ctx, const void *data, size_t n);
/*
 * Absorbs n bytes of da into a and n bytes of db into b: the same as
 * rvm_sha256_update(a, da, n) then rvm_sha256_update(b, db, n), with the
 * whole blocks of both compressed in step when a and b use the same
 * implementation and it has a two-message function (for hashing two
 * regions, pages or buffers at once).
 */
void rvm_sha256_update2(struct rvm_sha256 *a, const void *da, struct rvm_sha256 *b, const void *db,
			size_t n);
/* Writes the digest and wipes the context. */
void rvm_sha256_final(struct rvm_sha256 *ctx, uint8_t out[RVM_SHA256_DIGEST]);
/* One-shot convenience. */
void rvm_sha256(const struct rvm_sha256_impl *impl, const void *data, size_t n,
		uint8_t out[RVM_SHA256_DIGEST]);

#endif

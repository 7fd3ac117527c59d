/* rvm/sha512.h - SHA-512 (FIPS 180-4), needed by Ed25519. Portable C. */
#ifndef RVM_SHA512_H
#define RVM_SHA512_H

#include <stddef.h>
#include <stdint.h>

#define RVM_SHA512_DIGEST 64u
#define RVM_SHA512_BLOCK 128u

struct rvm_sha512 {
	uint64_t state[8];
	uint64_t total; /* bytes absorbed so far (messages < 2^64 bytes) */
	uint8_t buf[RVM_SHA512_BLOCK];
	uint32_t buflen;
};

void rvm_sha512_init(struct rvm_sha512 *ctx);
void rvm_sha512_update(struct rvm_sha512 *ctx, const void *data, size_t n);
void rvm_sha512_final(struct rvm_sha512 *ctx, uint8_t out[RVM_SHA512_DIGEST]);
void rvm_sha512(const void *data, size_t n, uint8_t out[RVM_SHA512_DIGEST]);

#endif

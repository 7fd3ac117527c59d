/* rvm/hmac.h - HMAC-SHA-256 (RFC 2104, FIPS 198-1). */
#ifndef RVM_HMAC_H
#define RVM_HMAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/sha256.h>

struct rvm_hmac_sha256 {
	struct rvm_sha256 inner;
	struct rvm_sha256 outer;
};

/* Any key length; keys longer than 64 bytes are hashed first, as the RFC says. */
void rvm_hmac_sha256_init(struct rvm_hmac_sha256 *ctx, const struct rvm_sha256_impl *impl,
			  const void *key, size_t keylen);
void rvm_hmac_sha256_update(struct rvm_hmac_sha256 *ctx, const void *data, size_t n);
/* Writes the tag and wipes the context. */
void rvm_hmac_sha256_final(struct rvm_hmac_sha256 *ctx, uint8_t out[RVM_SHA256_DIGEST]);
void rvm_hmac_sha256(const struct rvm_sha256_impl *impl, const void *key, size_t keylen,
		     const void *msg, size_t n, uint8_t out[RVM_SHA256_DIGEST]);
/* Constant-time check of the first taglen (1..32) bytes of the tag. */
bool rvm_hmac_sha256_verify(const struct rvm_sha256_impl *impl, const void *key, size_t keylen,
			    const void *msg, size_t n, const uint8_t *tag, size_t taglen);

#endif

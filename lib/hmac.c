/* lib/hmac.c - HMAC-SHA-256 (RFC 2104, FIPS 198-1) over the caller's SHA-256 implementation. */
#include <rvm/bytes.h>
#include <rvm/hmac.h>

void rvm_hmac_sha256_init(struct rvm_hmac_sha256 *ctx, const struct rvm_sha256_impl *impl,
			  const void *key, size_t keylen)
{
	uint8_t k[RVM_SHA256_BLOCK];

	/* K0: the key zero-padded to a block, or its digest when longer than a block. */
	rvm_memset(k, 0, sizeof(k));
	if (keylen > RVM_SHA256_BLOCK)
		rvm_sha256(impl, key, keylen, k);
	else if (keylen)
		rvm_memcpy(k, key, keylen);

	for (size_t i = 0; i < sizeof(k); i++)
		k[i] ^= 0x36;
	rvm_sha256_init(&ctx->inner, impl);
	rvm_sha256_update(&ctx->inner, k, sizeof(k));
	/* 0x36 ^ 0x5c turns ipad into opad without a second copy of the key. */
	for (size_t i = 0; i < sizeof(k); i++)
		k[i] ^= 0x36 ^ 0x5c;
	rvm_sha256_init(&ctx->outer, impl);
	rvm_sha256_update(&ctx->outer, k, sizeof(k));
	rvm_wipe(k, sizeof(k));
}

void rvm_hmac_sha256_update(struct rvm_hmac_sha256 *ctx, const void *data, size_t n)
{
	rvm_sha256_update(&ctx->inner, data, n);
}

void rvm_hmac_sha256_final(struct rvm_hmac_sha256 *ctx, uint8_t out[RVM_SHA256_DIGEST])
{
	uint8_t ih[RVM_SHA256_DIGEST];

	rvm_sha256_final(&ctx->inner, ih);
	rvm_sha256_update(&ctx->outer, ih, sizeof(ih));
	rvm_sha256_final(&ctx->outer, out);
	rvm_wipe(ih, sizeof(ih));
	rvm_wipe(ctx, sizeof(*ctx));
}

void rvm_hmac_sha256(const struct rvm_sha256_impl *impl, const void *key, size_t keylen,
		     const void *msg, size_t n, uint8_t out[RVM_SHA256_DIGEST])
{
	struct rvm_hmac_sha256 ctx;

	rvm_hmac_sha256_init(&ctx, impl, key, keylen);
	rvm_hmac_sha256_update(&ctx, msg, n);
	rvm_hmac_sha256_final(&ctx, out);
}

bool rvm_hmac_sha256_verify(const struct rvm_sha256_impl *impl, const void *key, size_t keylen,
			    const void *msg, size_t n, const uint8_t *tag, size_t taglen)
{
	uint8_t mac[RVM_SHA256_DIGEST];
	bool ok;

	if (taglen == 0 || taglen > RVM_SHA256_DIGEST)
		return false;
	rvm_hmac_sha256(impl, key, keylen, msg, n, mac);
	ok = rvm_ct_equal(mac, tag, taglen);
	rvm_wipe(mac, sizeof(mac));
	return ok;
}

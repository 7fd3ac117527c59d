/* kernel/witness_chain.c - record encoding and the hash chain D(i) shared by writer and verifier. */
#include <rvm/bytes.h>
#include <rvm/fnv.h>
#include <rvm/witness.h>

static const char rvm_witness_domain[] = "RVM-WITNESS-v1"; /* 14 bytes, no NUL */

void rvm_witness_encode(const struct rvm_witness_record *r, uint8_t out[RVM_WITNESS_RECORD_SIZE])
{
	rvm_store_le64(out + 0, r->seq);
	rvm_store_le64(out + 8, r->time_ns);
	rvm_store_le16(out + 16, r->action);
	rvm_store_le16(out + 18, r->flags);
	rvm_store_le32(out + 20, r->actor);
	rvm_store_le64(out + 24, r->target);
	rvm_store_le64(out + 32, r->arg0);
	rvm_store_le64(out + 40, r->arg1);
	rvm_memcpy(out + 48, r->prev8, 8);
	rvm_memcpy(out + 56, r->self8, 8);
}

void rvm_witness_decode(const uint8_t in[RVM_WITNESS_RECORD_SIZE], struct rvm_witness_record *r)
{
	r->seq = rvm_load_le64(in + 0);
	r->time_ns = rvm_load_le64(in + 8);
	r->action = rvm_load_le16(in + 16);
	r->flags = rvm_load_le16(in + 18);
	r->actor = rvm_load_le32(in + 20);
	r->target = rvm_load_le64(in + 24);
	r->arg0 = rvm_load_le64(in + 32);
	r->arg1 = rvm_load_le64(in + 40);
	rvm_memcpy(r->prev8, in + 48, 8);
	rvm_memcpy(r->self8, in + 56, 8);
}

void rvm_witness_genesis(enum rvm_witness_chain chain, const struct rvm_sha256_impl *sha,
			 const uint8_t nonce[16], uint8_t d0[RVM_SHA256_DIGEST])
{
	if (chain == RVM_CHAIN_FNV1A) {
		uint64_t h = rvm_fnv1a64(rvm_witness_domain, sizeof(rvm_witness_domain) - 1);

		h = rvm_fnv1a64_update(h, nonce, 16);
		rvm_memset(d0, 0, RVM_SHA256_DIGEST);
		rvm_store_le64(d0, h);
		return;
	}
	struct rvm_sha256 ctx;

	rvm_sha256_init(&ctx, sha);
	rvm_sha256_update(&ctx, rvm_witness_domain, sizeof(rvm_witness_domain) - 1);
	rvm_sha256_update(&ctx, nonce, 16);
	rvm_sha256_final(&ctx, d0);
}

/*
 * SHA-256 of exactly 96 bytes is two blocks whose padding is fixed: the
 * message, 0x80, zeros, and the bit length 768 big-endian. Building them in
 * place and calling the block function skips the streaming bookkeeping.
 */
static void chain_sha256(const struct rvm_sha256_impl *sha, const uint8_t prev[32],
			 const uint8_t rec[64], uint8_t out[32])
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};
	uint8_t blk[2 * RVM_SHA256_BLOCK];
	uint32_t st[8];

	if (!sha)
		sha = rvm_sha256_portable();
	rvm_memcpy(blk, prev, 32);
	rvm_memcpy(blk + 32, rec, 64);
	blk[96] = 0x80;
	rvm_memset(blk + 97, 0, 128 - 97 - 8);
	rvm_store_be64(blk + 120, 96 * 8);
	rvm_memcpy(st, iv, sizeof(st));
	sha->blocks(st, blk, 2);
	for (int i = 0; i < 8; i++)
		rvm_store_be32(out + 4 * i, st[i]);
}

void rvm_witness_chain_next(enum rvm_witness_chain chain, const struct rvm_sha256_impl *sha,
			    const uint8_t prev[RVM_SHA256_DIGEST],
			    const uint8_t rec[RVM_WITNESS_RECORD_SIZE], uint8_t out[RVM_SHA256_DIGEST])
{
	if (chain == RVM_CHAIN_FNV1A) {
		uint64_t h = rvm_fnv1a64_update(rvm_fnv1a64(prev, 8), rec, RVM_WITNESS_RECORD_SIZE);

		rvm_memset(out, 0, RVM_SHA256_DIGEST);
		rvm_store_le64(out, h);
		return;
	}
	chain_sha256(sha, prev, rec, out);
}

/* kernel/witness_sign.c - signs and verifies witness chain checkpoints. */
#include <rvm/bytes.h>
#include <rvm/ed25519.h>
#include <rvm/hmac.h>
#include <rvm/witness_file.h>
#include <rvm/witness_sign.h>

void rvm_witness_ckpt_message(uint64_t seq, const uint8_t digest[RVM_SHA256_DIGEST],
			      uint8_t msg[RVM_WITNESS_CKPT_MSG])
{
	rvm_memcpy(msg, "RVM-WITNESS-CKPT", 16);
	rvm_store_le64(msg + 16, seq);
	rvm_memcpy(msg + 24, digest, RVM_SHA256_DIGEST);
}

enum rvm_err rvm_witness_sign_setup(const struct rvm_witness_config *cfg,
				    uint8_t key_out[RVM_ED25519_PUBLIC])
{
	rvm_memset(key_out, 0, RVM_ED25519_PUBLIC);
	switch (cfg->sig) {
	case RVM_SIG_NONE:
		return RVM_OK;
	case RVM_SIG_HMAC_SHA256:
		rvm_witness_hmac_key_id(cfg->key, key_out);
		return RVM_OK;
	case RVM_SIG_ED25519: {
		uint8_t pk[RVM_ED25519_PUBLIC], sk[RVM_ED25519_SECRET];
		bool ok;

		/* A key pair its caller has just derived needs no second derivation. */
		if (cfg->key_pair_fresh) {
			rvm_memcpy(key_out, cfg->key + RVM_ED25519_SEED, RVM_ED25519_PUBLIC);
			return RVM_OK;
		}
		/* The secret key's second half must be the public key of its seed. */
		rvm_ed25519_keypair(pk, sk, cfg->key);
		ok = rvm_ct_equal(pk, cfg->key + RVM_ED25519_SEED, RVM_ED25519_PUBLIC);
		rvm_wipe(sk, sizeof(sk));
		if (!ok)
			return RVM_E_INVAL;
		rvm_memcpy(key_out, pk, RVM_ED25519_PUBLIC);
		return RVM_OK;
	}
	default:
		return RVM_E_INVAL;
	}
}

void rvm_witness_sign_checkpoint(const struct rvm_witness_config *cfg,
				 const struct rvm_sha256_impl *sha, uint64_t seq,
				 const uint8_t digest[RVM_SHA256_DIGEST],
				 uint8_t block[RVM_WITNESS_SIG_BLOCK])
{
	uint8_t msg[RVM_WITNESS_CKPT_MSG];

	rvm_witness_ckpt_message(seq, digest, msg);
	rvm_memset(block, 0, RVM_WITNESS_SIG_BLOCK);
	if (cfg->sig == RVM_SIG_HMAC_SHA256)
		rvm_hmac_sha256(sha, cfg->key, 32, msg, sizeof(msg), block);
	else if (cfg->sig == RVM_SIG_ED25519)
		rvm_ed25519_sign(block, cfg->key, msg, sizeof(msg));
}

static bool zero32(const uint8_t *p)
{
	uint8_t acc = 0;

	for (int i = 0; i < 32; i++)
		acc |= p[i];
	return acc == 0;
}

bool rvm_witness_sig_verify(enum rvm_witness_sig sig, const struct rvm_sha256_impl *sha,
			    const uint8_t key[32], uint64_t seq,
			    const uint8_t digest[RVM_SHA256_DIGEST],
			    const uint8_t block[RVM_WITNESS_SIG_BLOCK])
{
	uint8_t msg[RVM_WITNESS_CKPT_MSG];

	rvm_witness_ckpt_message(seq, digest, msg);
	if (sig == RVM_SIG_HMAC_SHA256)
		return zero32(block + 32) &&
		       rvm_hmac_sha256_verify(sha, key, 32, msg, sizeof(msg), block, 32);
	if (sig == RVM_SIG_ED25519)
		return rvm_ed25519_verify(block, key, msg, sizeof(msg));
	return false;
}

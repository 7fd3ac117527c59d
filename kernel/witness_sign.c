/* kernel/witness_sign.c - signs and verifies witness chain checkpoints. */
#include <rvm/bytes.h>
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
	/* Signed checkpoints arrive with the HMAC and Ed25519 code in lib/. */
	return cfg->sig == RVM_SIG_NONE ? RVM_OK : RVM_E_UNSUPPORTED;
}

void rvm_witness_sign_checkpoint(const struct rvm_witness_config *cfg,
				 const struct rvm_sha256_impl *sha, uint64_t seq,
				 const uint8_t digest[RVM_SHA256_DIGEST],
				 uint8_t block[RVM_WITNESS_SIG_BLOCK])
{
	(void)cfg;
	(void)sha;
	(void)seq;
	(void)digest;
	rvm_memset(block, 0, RVM_WITNESS_SIG_BLOCK);
}

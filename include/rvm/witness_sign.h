/* rvm/witness_sign.h - signatures of witness chain checkpoints (Ed25519, HMAC-SHA-256 fallback). */
#ifndef RVM_WITNESS_SIGN_H
#define RVM_WITNESS_SIGN_H

#include <stdbool.h>
#include <stdint.h>

#include <rvm/err.h>
#include <rvm/witness.h>

/* The signed message: "RVM-WITNESS-CKPT" (16 bytes) || seq (u64 LE) || D(seq) (32 bytes). */
#define RVM_WITNESS_CKPT_MSG 56u

void rvm_witness_ckpt_message(uint64_t seq, const uint8_t digest[RVM_SHA256_DIGEST],
			      uint8_t msg[RVM_WITNESS_CKPT_MSG]);
/*
 * Checks cfg's key for cfg->sig and writes what the file header names:
 * the Ed25519 public key, the HMAC key id, or zeros (unsigned). An Ed25519
 * secret key whose second half is not the public key of its seed is RVM_E_INVAL,
 * unless cfg->key_pair_fresh vouches for it (then the half is taken as it is).
 */
enum rvm_err rvm_witness_sign_setup(const struct rvm_witness_config *cfg,
				    uint8_t key_out[RVM_ED25519_PUBLIC]);
/* The 64-byte signature block for checkpoint seq with digest D(seq). */
void rvm_witness_sign_checkpoint(const struct rvm_witness_config *cfg,
				 const struct rvm_sha256_impl *sha, uint64_t seq,
				 const uint8_t digest[RVM_SHA256_DIGEST],
				 uint8_t block[RVM_WITNESS_SIG_BLOCK]);
/*
 * True if block signs (seq, digest) under key: the Ed25519 public key, or the
 * 32-byte HMAC key. HMAC blocks must carry 32 zero bytes after the tag.
 */
bool rvm_witness_sig_verify(enum rvm_witness_sig sig, const struct rvm_sha256_impl *sha,
			    const uint8_t key[32], uint64_t seq,
			    const uint8_t digest[RVM_SHA256_DIGEST],
			    const uint8_t block[RVM_WITNESS_SIG_BLOCK]);

#endif

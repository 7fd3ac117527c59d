/* rvm/ed25519.h - Ed25519 signatures (RFC 8032, pure Ed25519), constant time. */
#ifndef RVM_ED25519_H
#define RVM_ED25519_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RVM_ED25519_SEED 32u
#define RVM_ED25519_PUBLIC 32u
/* Secret key = seed || public key, as libsodium lays it out. */
#define RVM_ED25519_SECRET 64u
#define RVM_ED25519_SIG 64u

/*
 * Derives the key pair from a 32-byte seed (the RFC's "secret key").
 * Constant time in the seed; seed may be the first half of sk.
 */
void rvm_ed25519_keypair(uint8_t pk[RVM_ED25519_PUBLIC], uint8_t sk[RVM_ED25519_SECRET],
			 const uint8_t seed[RVM_ED25519_SEED]);
void rvm_ed25519_sign(uint8_t sig[RVM_ED25519_SIG], const uint8_t sk[RVM_ED25519_SECRET],
		      const void *msg, size_t n);
/*
 * True only for a valid signature. Rejects non-canonical S (S >= L), public
 * keys and R that do not decode, small-order public keys and R, and uses the
 * cofactorless equation [S]B = R + [k]A as libsodium does.
 */
bool rvm_ed25519_verify(const uint8_t sig[RVM_ED25519_SIG], const uint8_t pk[RVM_ED25519_PUBLIC],
			const void *msg, size_t n);
/* rvm_ed25519_verify for a signature of untrusted length: false unless siglen is 64. */
bool rvm_ed25519_verify_sig(const uint8_t *sig, size_t siglen,
			    const uint8_t pk[RVM_ED25519_PUBLIC], const void *msg, size_t n);

#endif

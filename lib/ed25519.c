/* lib/ed25519.c - Ed25519 key pairs, signing and strict verification (RFC 8032, as libsodium 1.0.18). */
#include <rvm/bytes.h>
#include <rvm/ed25519.h>
#include <rvm/sha512.h>

#include "ge25519.h"
#include "sc25519.h"

/* The secret scalar a (clamped first half of SHA-512(seed)) and the nonce prefix. */
static void expand_seed(uint8_t h[64], const uint8_t seed[RVM_ED25519_SEED])
{
	rvm_sha512(seed, RVM_ED25519_SEED, h);
	h[0] &= 248;
	h[31] &= 127;
	h[31] |= 64;
}

void rvm_ed25519_keypair(uint8_t pk[RVM_ED25519_PUBLIC], uint8_t sk[RVM_ED25519_SECRET],
			 const uint8_t seed[RVM_ED25519_SEED])
{
	uint8_t h[64], s[RVM_ED25519_SEED];
	struct rvm_ge_p3 A;

	rvm_memcpy(s, seed, sizeof(s));
	expand_seed(h, s);
	rvm_ge25519_scalarmult_base(&A, h);
	rvm_ge25519_tobytes(pk, &A);
	rvm_memcpy(sk, s, RVM_ED25519_SEED);
	rvm_memcpy(sk + RVM_ED25519_SEED, pk, RVM_ED25519_PUBLIC);
	rvm_wipe(h, sizeof(h));
	rvm_wipe(s, sizeof(s));
	rvm_wipe(&A, sizeof(A));
}

void rvm_ed25519_sign(uint8_t sig[RVM_ED25519_SIG], const uint8_t sk[RVM_ED25519_SECRET],
		      const void *msg, size_t n)
{
	struct rvm_sha512 hs;
	uint8_t h[64], r[32], k[64], nonce[64];
	struct rvm_ge_p3 R;

	expand_seed(h, sk);
	/* r = SHA-512(prefix || M) mod L; R = [r]B. */
	rvm_sha512_init(&hs);
	rvm_sha512_update(&hs, h + 32, 32);
	rvm_sha512_update(&hs, msg, n);
	rvm_sha512_final(&hs, nonce);
	rvm_sc25519_reduce64(r, nonce);
	rvm_ge25519_scalarmult_base(&R, r);
	rvm_ge25519_tobytes(sig, &R);
	/* k = SHA-512(R || A || M) mod L; S = r + k a mod L. */
	rvm_sha512_init(&hs);
	rvm_sha512_update(&hs, sig, 32);
	rvm_sha512_update(&hs, sk + 32, 32);
	rvm_sha512_update(&hs, msg, n);
	rvm_sha512_final(&hs, k);
	rvm_sc25519_reduce64(k, k);
	rvm_sc25519_muladd(sig + 32, k, h, r);
	rvm_wipe(h, sizeof(h));
	rvm_wipe(r, sizeof(r));
	rvm_wipe(nonce, sizeof(nonce));
	rvm_wipe(&R, sizeof(R));
}

bool rvm_ed25519_verify(const uint8_t sig[RVM_ED25519_SIG], const uint8_t pk[RVM_ED25519_PUBLIC],
			const void *msg, size_t n)
{
	struct rvm_sha512 hs;
	struct rvm_ge_p3 A;
	uint8_t k[64], check[32];

	/* S < L; R and A not of small order; A a canonical, decodable point. */
	if (!rvm_sc25519_is_canonical(sig + 32))
		return false;
	if (rvm_ge25519_has_small_order(sig) || rvm_ge25519_has_small_order(pk))
		return false;
	if (!rvm_ge25519_frombytes_negate_vartime(&A, pk))
		return false;
	rvm_sha512_init(&hs);
	rvm_sha512_update(&hs, sig, 32);
	rvm_sha512_update(&hs, pk, 32);
	rvm_sha512_update(&hs, msg, n);
	rvm_sha512_final(&hs, k);
	rvm_sc25519_reduce64(k, k);
	/* R' = [S]B - [k]A must encode exactly as R (so R must be canonical too). */
	rvm_ge25519_double_scalarmult_vartime(check, k, &A, sig + 32);
	return rvm_ct_equal(check, sig, 32);
}

bool rvm_ed25519_verify_sig(const uint8_t *sig, size_t siglen,
			    const uint8_t pk[RVM_ED25519_PUBLIC], const void *msg, size_t n)
{
	return siglen == RVM_ED25519_SIG && rvm_ed25519_verify(sig, pk, msg, n);
}

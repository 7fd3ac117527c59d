/*
 * tests/ct/ct_crypto.c - constant-time probe, run under valgrind memcheck (ctest ct/crypto).
 * Secrets (seeds, keys) are marked undefined; memcheck then reports any branch or memory
 * index that depends on them ("Conditional jump or move depends on uninitialised value",
 * "Use of uninitialised value"), the way Monocypher's ctgrind does. Outputs are marked
 * defined again before they are used for the probe's own checks.
 */
#include <stdio.h>
#include <string.h>

#include <valgrind/memcheck.h>

#include <rvm/ed25519.h>
#include <rvm/hmac.h>
#include <rvm/sha256.h>
#include <rvm/sha512.h>

#include "../../lib/sc25519.h"

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED(p, n)
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED(p, n)

int main(void)
{
	uint8_t seed[32], pk[32], sk[64], sig[64], key[80], tag[32], d[64], s[32];
	const char msg[] = "constant time probe";
	const struct rvm_sha256_impl *impls[4];
	size_t nimpls = rvm_sha256_available(impls, 4);
	unsigned errors_before = (unsigned)VALGRIND_COUNT_ERRORS;

	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < 32; i++)
			seed[i] = (uint8_t)(i * 7 + round);
		for (int i = 0; i < 80; i++)
			key[i] = (uint8_t)(i * 13 + round);

		/* Ed25519: key generation and signing with a secret seed. */
		SECRET(seed, sizeof(seed));
		rvm_ed25519_keypair(pk, sk, seed);
		rvm_ed25519_sign(sig, sk, msg, sizeof(msg));
		/* scalar arithmetic on secret scalars */
		SECRET(d, sizeof(d));
		rvm_sc25519_reduce64(s, d);
		rvm_sc25519_muladd(s, s, seed, s);
		/* HMAC and the hashes with a secret key, every implementation */
		for (size_t i = 0; i < nimpls; i++) {
			SECRET(key, sizeof(key));
			rvm_hmac_sha256(impls[i], key, 32 + (size_t)round * 16, msg, sizeof(msg), tag);
			rvm_sha256(impls[i], key, sizeof(key), tag);
		}
		rvm_sha512(key, sizeof(key), d);

		/* The signature and the public key are public: check them. */
		PUBLIC(pk, sizeof(pk));
		PUBLIC(sk, sizeof(sk));
		PUBLIC(sig, sizeof(sig));
		PUBLIC(seed, sizeof(seed));
		if (!rvm_ed25519_verify(sig, pk, msg, sizeof(msg))) {
			printf("FAIL: signature made under memcheck does not verify\n");
			return 1;
		}
	}
	if ((unsigned)VALGRIND_COUNT_ERRORS != errors_before) {
		printf("FAIL: memcheck saw secret-dependent branches or indices (see above)\n");
		return 1;
	}
	printf("constant-time probe: Ed25519 keypair/sign, scalar ops, HMAC-SHA-256 (%zu impls), "
	       "SHA-256, SHA-512: %s\n",
	       nimpls, RUNNING_ON_VALGRIND ? "no secret-dependent branch or index" : "(not under valgrind)");
	return 0;
}

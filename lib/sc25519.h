/* lib/sc25519.h - scalars mod the Ed25519 group order L = 2^252 + 27742317777372353535851937790883648493. */
#ifndef RVM_LIB_SC25519_H
#define RVM_LIB_SC25519_H

#include <stdbool.h>
#include <stdint.h>

/* out = in mod L, for a 64-byte little-endian in (a SHA-512 digest). Constant time. */
void rvm_sc25519_reduce64(uint8_t out[32], const uint8_t in[64]);
/* out = (a * b + c) mod L for 32-byte little-endian a, b, c (each < 2^256). Constant time. */
void rvm_sc25519_muladd(uint8_t out[32], const uint8_t a[32], const uint8_t b[32],
			const uint8_t c[32]);
/* True when s < L, the only encoding of S a verifier accepts. Not constant time (S is public). */
bool rvm_sc25519_is_canonical(const uint8_t s[32]);

#endif

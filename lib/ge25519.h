/* lib/ge25519.h - points of edwards25519 (-x^2 + y^2 = 1 + d x^2 y^2) for Ed25519. */
#ifndef RVM_LIB_GE25519_H
#define RVM_LIB_GE25519_H

#include <stdbool.h>
#include <stdint.h>

#include "fe25519.h"

/* Extended coordinates: x = X/Z, y = Y/Z, x*y = T/Z. */
struct rvm_ge_p3 {
	rvm_fe X, Y, Z, T;
};

/* h = [a]B for the base point B, a < 2^255. Constant time in a. */
void rvm_ge25519_scalarmult_base(struct rvm_ge_p3 *h, const uint8_t a[32]);
/* The RFC 8032 encoding of h: y with the parity of x in bit 255. Constant time. */
void rvm_ge25519_tobytes(uint8_t s[32], const struct rvm_ge_p3 *h);
/*
 * Decodes s into -P (negated, ready for the verifier). False, and h
 * unspecified, when y >= p or no x exists (or x = 0 with the sign bit set).
 * Variable time: for public points only.
 */
bool rvm_ge25519_frombytes_negate_vartime(struct rvm_ge_p3 *h, const uint8_t s[32]);
/*
 * True when the y encoded in s (bit 255 ignored, reduced mod p) is that of a
 * point of order 1, 2, 4 or 8. Variable time.
 */
bool rvm_ge25519_has_small_order(const uint8_t s[32]);
/* Writes the encoding of [a]A + [b]B (a, b < 2^253). Variable time: public inputs only. */
void rvm_ge25519_double_scalarmult_vartime(uint8_t out[32], const uint8_t a[32],
					   const struct rvm_ge_p3 *A, const uint8_t b[32]);

#endif

/* rvm/fixed.h - fixed-point arithmetic for the kernel, which has no floating point. */
#ifndef RVM_FIXED_H
#define RVM_FIXED_H

#include <stdint.h>

/*
 * Scores, pressures and ratios are basis points: uint16_t in 0..10000, where
 * 10000 means 1.0. Weights and filters that need more range use Q16.16
 * (rvm_q16: 16 integer bits, 16 fraction bits, unsigned).
 */
typedef uint16_t rvm_bp;
typedef uint32_t rvm_q16;

#define RVM_BP_ONE ((rvm_bp)10000u)
#define RVM_Q16_ONE ((rvm_q16)65536u)

/* num/den in basis points, rounded to nearest, clamped to 0..10000; den 0 gives 0. */
rvm_bp rvm_bp_ratio(uint64_t num, uint64_t den);
/* a*b for two basis-point values, rounded to nearest. */
rvm_bp rvm_bp_mul(rvm_bp a, rvm_bp b);
/* v scaled by a basis-point factor (clamped to 1.0), rounded to nearest; cannot overflow. */
uint64_t rvm_bp_scale(uint64_t v, rvm_bp f);
/* Saturating add, capped at 10000. */
rvm_bp rvm_bp_add_sat(rvm_bp a, rvm_bp b);
/* Exponential moving average: prev + alpha*(sample - prev), alpha in basis points;
 * moves at least one unit toward sample while alpha > 0, so it converges exactly. */
rvm_bp rvm_bp_ema(rvm_bp prev, rvm_bp sample, rvm_bp alpha);
/* Q16.16 multiply with rounding, saturating at UINT32_MAX. */
rvm_q16 rvm_q16_mul(rvm_q16 a, rvm_q16 b);
/* Q16.16 from a basis-point value. */
rvm_q16 rvm_q16_from_bp(rvm_bp v);

#endif

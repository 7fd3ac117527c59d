/* lib/fixed.c - basis-point and Q16.16 arithmetic (no floating point in the core). */
#include <rvm/fixed.h>

rvm_bp rvm_bp_ratio(uint64_t num, uint64_t den)
{
	if (den == 0)
		return 0;
	if (num >= den)
		return RVM_BP_ONE;
	/* num < den, so shifting both right until num*10000 cannot overflow keeps the ratio. */
	while (num > UINT64_MAX / 10000u) {
		num >>= 1;
		den >>= 1;
	}
	return (rvm_bp)((num * 10000u + den / 2) / den);
}

rvm_bp rvm_bp_mul(rvm_bp a, rvm_bp b)
{
	uint32_t p = (uint32_t)a * b; /* <= 10^8, fits */

	p = (p + 5000u) / 10000u;
	return (rvm_bp)(p > RVM_BP_ONE ? RVM_BP_ONE : p);
}

uint64_t rvm_bp_scale(uint64_t v, rvm_bp f)
{
	uint64_t q = v / 10000u, r = v % 10000u;
	uint64_t hi;

	/* v*f/10000 = q*f + r*f/10000, each term without overflow of the product. */
	if (f > RVM_BP_ONE)
		f = RVM_BP_ONE;
	hi = q * f;
	return hi + (r * f + 5000u) / 10000u;
}

rvm_bp rvm_bp_add_sat(rvm_bp a, rvm_bp b)
{
	uint32_t s = (uint32_t)a + b;

	return (rvm_bp)(s > RVM_BP_ONE ? RVM_BP_ONE : s);
}

rvm_bp rvm_bp_ema(rvm_bp prev, rvm_bp sample, rvm_bp alpha)
{
	int32_t delta = (int32_t)sample - (int32_t)prev;
	int32_t step;

	if (alpha > RVM_BP_ONE)
		alpha = RVM_BP_ONE;
	/* Round half away from zero, and always move at least one unit while
	 * alpha > 0, so the integer filter reaches the sample instead of stalling. */
	step = delta * (int32_t)alpha;
	step = step >= 0 ? (step + 5000) / 10000 : -((-step + 5000) / 10000);
	if (step == 0 && delta != 0 && alpha != 0)
		step = delta > 0 ? 1 : -1;
	return (rvm_bp)((int32_t)prev + step);
}

rvm_q16 rvm_q16_mul(rvm_q16 a, rvm_q16 b)
{
	uint64_t p = ((uint64_t)a * b + 0x8000u) >> 16;

	return p > UINT32_MAX ? UINT32_MAX : (rvm_q16)p;
}

rvm_q16 rvm_q16_from_bp(rvm_bp v)
{
	return (rvm_q16)(((uint32_t)v * 65536u + 5000u) / 10000u);
}

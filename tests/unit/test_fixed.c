/* tests/unit/test_fixed.c - basis points and Q16.16 against exact rational arithmetic. */
#include "support.h"

#include <rvm/fixed.h>

static void test_ratio(void **state)
{
	uint64_t seed = 7;

	(void)state;
	assert_int_equal(rvm_bp_ratio(0, 0), 0);
	assert_int_equal(rvm_bp_ratio(1, 2), 5000);
	assert_int_equal(rvm_bp_ratio(1, 3), 3333);
	assert_int_equal(rvm_bp_ratio(2, 3), 6667);
	assert_int_equal(rvm_bp_ratio(5, 4), 10000);
	assert_int_equal(rvm_bp_ratio(UINT64_MAX - 1, UINT64_MAX), 10000);
	assert_int_equal(rvm_bp_ratio(UINT64_MAX / 2, UINT64_MAX), 5000);
	/* Small operands: exact rounding to nearest. */
	for (int i = 0; i < 100000; i++) {
		uint64_t den = rvm_test_rand(&seed) % 1000000 + 1;
		uint64_t num = rvm_test_rand(&seed) % den;
		uint64_t want = (num * 10000 * 2 + den) / (2 * den);

		assert_int_equal(rvm_bp_ratio(num, den), want);
	}
}

static void test_mul_scale_add(void **state)
{
	(void)state;
	assert_int_equal(rvm_bp_mul(10000, 10000), 10000);
	assert_int_equal(rvm_bp_mul(5000, 5000), 2500);
	assert_int_equal(rvm_bp_mul(1, 1), 0);
	assert_int_equal(rvm_bp_mul(0, 10000), 0);
	assert_true(rvm_bp_scale(1000, 2500) == 250);
	assert_true(rvm_bp_scale(UINT64_MAX, 10000) == UINT64_MAX);
	assert_true(rvm_bp_scale(UINT64_MAX, 60000) == UINT64_MAX);
	assert_true(rvm_bp_scale(3, 5000) == 2); /* 1.5 rounds up */
	assert_int_equal(rvm_bp_add_sat(9000, 2000), 10000);
	assert_int_equal(rvm_bp_add_sat(1000, 2000), 3000);
}

static void test_ema_converges(void **state)
{
	rvm_bp v = 0;

	(void)state;
	for (int i = 0; i < 200; i++)
		v = rvm_bp_ema(v, 8000, 1000);
	assert_int_equal(v, 8000);
	for (int i = 0; i < 200; i++)
		v = rvm_bp_ema(v, 0, 1000);
	assert_int_equal(v, 0);
	assert_int_equal(rvm_bp_ema(1234, 9999, 10000), 9999);
	assert_int_equal(rvm_bp_ema(1234, 9999, 0), 1234);
}

static void test_q16(void **state)
{
	(void)state;
	assert_int_equal(rvm_q16_mul(RVM_Q16_ONE, RVM_Q16_ONE), RVM_Q16_ONE);
	assert_int_equal(rvm_q16_mul(RVM_Q16_ONE / 2, RVM_Q16_ONE / 2), RVM_Q16_ONE / 4);
	assert_int_equal(rvm_q16_mul(UINT32_MAX, UINT32_MAX), UINT32_MAX);
	assert_int_equal(rvm_q16_from_bp(10000), RVM_Q16_ONE);
	assert_int_equal(rvm_q16_from_bp(5000), RVM_Q16_ONE / 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ratio),
		cmocka_unit_test(test_mul_scale_add),
		cmocka_unit_test(test_ema_converges),
		cmocka_unit_test(test_q16),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

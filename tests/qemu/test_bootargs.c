/* tests/qemu/test_bootargs.c - the board's boot-argument reader: words, numbers, malformed ones. */
#include <stdlib.h>
#include <string.h>

#include "support.h"

#include "bootargs.h"

/* Whole words only, anywhere in the line; "word=" takes any value. */
static void find_words(void **state)
{
	const char *args = "rvm.twin rvm.run-ms=300 rvm.spinner";

	(void)state;
	assert_ptr_equal(rvm_bootargs_find(args, "rvm.twin"), args);
	assert_ptr_equal(rvm_bootargs_find(args, "rvm.run-ms="), args + 9);
	assert_null(rvm_bootargs_find(args, "rvm.spin"));  /* a prefix of a word is not it */
	assert_null(rvm_bootargs_find(args, "run-ms="));   /* nor a word's tail */
	assert_null(rvm_bootargs_find(args, "rvm.twin=")); /* a flag has no value */
	assert_null(rvm_bootargs_find(args, "rvm.spinner.x"));
	assert_null(rvm_bootargs_find("", "rvm.twin"));
	assert_non_null(rvm_bootargs_find("a  rvm.twin", "rvm.twin"));
}

/* Each value: the error, and the number when it is one. */
static void numbers(void **state)
{
	static const struct {
		const char *args;
		enum rvm_err err;
		uint32_t v;
	} cases[] = {
		{"rvm.run-ms=300", RVM_OK, 300},
		{"rvm.twin rvm.run-ms=1 rvm.spin", RVM_OK, 1},
		{"rvm.run-ms=4294967295", RVM_OK, 4294967295u},
		{"rvm.run-ms=007", RVM_OK, 7},
		{"rvm.twin", RVM_E_NOTFOUND, 0},
		{"", RVM_E_NOTFOUND, 0},
		{"rvm.run-ms=", RVM_E_MALFORMED, 0},
		{"rvm.run-ms= rvm.twin", RVM_E_MALFORMED, 0},
		{"rvm.run-ms=abc", RVM_E_MALFORMED, 0},
		{"rvm.run-ms=12abc", RVM_E_MALFORMED, 0},
		{"rvm.run-ms=-5", RVM_E_MALFORMED, 0},
		{"rvm.run-ms=+5", RVM_E_MALFORMED, 0},
		{"rvm.run-ms=0x10", RVM_E_MALFORMED, 0},
		{"rvm.run-ms=1.5", RVM_E_MALFORMED, 0},
		{"rvm.run-ms=0", RVM_E_RANGE, 0},
		{"rvm.run-ms=4294967296", RVM_E_RANGE, 0},
		{"rvm.run-ms=99999999999999999999999999", RVM_E_RANGE, 0},
		{"rvm.run-ms=18446744073709551616", RVM_E_RANGE, 0}, /* 2^64 would wrap to 0 */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t v = 12345;
		enum rvm_err err =
			rvm_bootargs_u32(cases[i].args, "rvm.run-ms=", 1, UINT32_MAX, &v);

		if (err != cases[i].err)
			fail_msg("%s: %s, want %s", cases[i].args, rvm_err_name(err),
				 rvm_err_name(cases[i].err));
		/* Only a good value is written; the caller keeps its default otherwise. */
		assert_int_equal(v, err == RVM_OK ? cases[i].v : 12345);
	}
	/* The range is the caller's. */
	assert_int_equal(rvm_bootargs_u32("n=9", "n=", 10, 20, &(uint32_t){0}), RVM_E_RANGE);
	assert_int_equal(rvm_bootargs_u32("n=21", "n=", 10, 20, &(uint32_t){0}), RVM_E_RANGE);
	assert_int_equal(rvm_bootargs_u32("n=20", "n=", 10, 20, &(uint32_t){0}), RVM_OK);
}

/* The value as the console shows it in a complaint: up to the next space, cut when long. */
static void values_for_messages(void **state)
{
	char out[12];

	(void)state;
	rvm_bootargs_value("rvm.run-ms=abc rvm.twin", "rvm.run-ms=", out, sizeof(out));
	assert_string_equal(out, "abc");
	rvm_bootargs_value("rvm.run-ms=", "rvm.run-ms=", out, sizeof(out));
	assert_string_equal(out, "");
	rvm_bootargs_value("rvm.twin", "rvm.run-ms=", out, sizeof(out));
	assert_string_equal(out, "");
	rvm_bootargs_value("rvm.run-ms=12345678901", "rvm.run-ms=", out, sizeof(out));
	assert_string_equal(out, "12345678901");
	rvm_bootargs_value("rvm.run-ms=123456789012", "rvm.run-ms=", out, sizeof(out));
	assert_string_equal(out, "12345678...");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(find_words),
		cmocka_unit_test(numbers),
		cmocka_unit_test(values_for_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* tests/unit/test_err.c - every rvm_err code has a distinct name and a message. */
#include "support.h"

#include <string.h>

#include <rvm/err.h>

static void test_every_code_named(void **state)
{
	(void)state;
	for (int i = 0; i < RVM_ERR_COUNT; i++) {
		const char *m = rvm_err_str((enum rvm_err)i), *n = rvm_err_name((enum rvm_err)i);

		assert_non_null(m);
		assert_true(strlen(m) > 3);
		assert_true(strncmp(n, "RVM_", 4) == 0);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(n, rvm_err_name((enum rvm_err)j));
	}
	assert_string_equal(rvm_err_name(RVM_E_PERM), "RVM_E_PERM");
	assert_string_equal(rvm_err_str((enum rvm_err)9999), "unknown error code");
	assert_string_equal(rvm_err_name((enum rvm_err)-1), "RVM_E_UNKNOWN");
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_every_code_named) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}

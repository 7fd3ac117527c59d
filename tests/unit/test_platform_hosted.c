/* tests/unit/test_platform_hosted.c - the hosted platform: clock, sinks, checkpoint store, entropy. */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hosted.h"

static char *make_tmpdir(void)
{
	static char tmpl[64];

	strcpy(tmpl, "/tmp/rvm-test-XXXXXX");
	return mkdtemp(tmpl);
}

static void test_clock_monotonic(void **state)
{
	struct rvm_hosted h;
	struct rvm_platform p;
	uint64_t prev;

	(void)state;
	assert_int_equal(rvm_hosted_open(&h, NULL, RVM_HOSTED_QUIET, &p), RVM_OK);
	prev = rvm_platform_now_ns(&p);
	for (int i = 0; i < 10000; i++) {
		uint64_t t = rvm_platform_now_ns(&p);

		assert_true(t >= prev);
		prev = t;
	}
	assert_true(p.cpu_count(p.ctx) >= 1);
	/* No run directory: the sinks refuse clearly rather than pretend. */
	assert_int_equal(rvm_platform_sink_append(&p, RVM_SINK_WITNESS, "x", 1), RVM_E_UNSUPPORTED);
	assert_int_equal(rvm_platform_sink_append(&p, (enum rvm_sink_stream)7, "x", 1), RVM_E_INVAL);
	rvm_hosted_close(&h);
}

static void test_sink_appends_durably(void **state)
{
	struct rvm_hosted h;
	struct rvm_platform p;
	char *dir = make_tmpdir(), path[256];
	size_t len;
	char *data;

	(void)state;
	assert_non_null(dir);
	assert_int_equal(rvm_hosted_open(&h, dir, RVM_HOSTED_TRUNCATE | RVM_HOSTED_QUIET, &p), RVM_OK);
	assert_int_equal(rvm_platform_sink_append(&p, RVM_SINK_WITNESS, "hello ", 6), RVM_OK);
	assert_int_equal(rvm_platform_sink_append(&p, RVM_SINK_WITNESS, "world", 5), RVM_OK);
	assert_int_equal(rvm_platform_sink_sync(&p, RVM_SINK_WITNESS), RVM_OK);
	assert_int_equal(rvm_platform_sink_append(&p, RVM_SINK_JOURNAL, "j", 1), RVM_OK);
	rvm_hosted_close(&h);
	snprintf(path, sizeof(path), "%s/witness.log", dir);
	data = rvm_test_read_file(path, &len);
	assert_non_null(data);
	assert_int_equal(len, 11);
	assert_memory_equal(data, "hello world", 11);
	free(data);
	/* Reopening without TRUNCATE appends. */
	assert_int_equal(rvm_hosted_open(&h, dir, RVM_HOSTED_QUIET, &p), RVM_OK);
	assert_int_equal(rvm_platform_sink_append(&p, RVM_SINK_WITNESS, "!", 1), RVM_OK);
	rvm_hosted_close(&h);
	data = rvm_test_read_file(path, &len);
	assert_int_equal(len, 12);
	free(data);
}

static void test_checkpoint_store(void **state)
{
	struct rvm_hosted h;
	struct rvm_platform p;
	char *dir = make_tmpdir();
	uint8_t big[10000], got[10000];
	size_t len = 0;
	uint64_t seed = 3;

	(void)state;
	assert_int_equal(rvm_hosted_open(&h, dir, RVM_HOSTED_QUIET, &p), RVM_OK);
	rvm_test_fill(&seed, big, sizeof(big));
	assert_int_equal(p.checkpoint_get(p.ctx, 42, got, sizeof(got), &len), RVM_E_NOTFOUND);
	assert_int_equal(p.checkpoint_put(p.ctx, 42, big, sizeof(big)), RVM_OK);
	assert_int_equal(p.checkpoint_get(p.ctx, 42, got, sizeof(got), &len), RVM_OK);
	assert_int_equal(len, sizeof(big));
	assert_memory_equal(big, got, sizeof(big));
	/* Replacing is whole: the shorter object fully replaces the longer. */
	assert_int_equal(p.checkpoint_put(p.ctx, 42, "abc", 3), RVM_OK);
	assert_int_equal(p.checkpoint_get(p.ctx, 42, got, sizeof(got), &len), RVM_OK);
	assert_int_equal(len, 3);
	assert_memory_equal(got, "abc", 3);
	/* A small buffer gets a prefix and the full size. */
	assert_int_equal(p.checkpoint_put(p.ctx, 43, big, sizeof(big)), RVM_OK);
	assert_int_equal(p.checkpoint_get(p.ctx, 43, got, 10, &len), RVM_OK);
	assert_int_equal(len, sizeof(big));
	assert_memory_equal(got, big, 10);
	rvm_hosted_close(&h);
}

static void test_entropy_and_bad_dir(void **state)
{
	struct rvm_hosted h;
	struct rvm_platform p;
	uint8_t a[64], b[64];

	(void)state;
	assert_int_equal(rvm_hosted_open(&h, NULL, RVM_HOSTED_QUIET, &p), RVM_OK);
	assert_int_equal(rvm_platform_entropy(&p, a, sizeof(a)), RVM_OK);
	assert_int_equal(rvm_platform_entropy(&p, b, sizeof(b)), RVM_OK);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_non_null(p.sha256);
	rvm_hosted_close(&h);
	/* A run directory that cannot be created is an I/O error, not a crash. */
	assert_int_equal(rvm_hosted_open(&h, "/proc/rvm-cannot-exist/x", RVM_HOSTED_QUIET, &p),
			 RVM_E_IO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clock_monotonic),
		cmocka_unit_test(test_sink_appends_durably),
		cmocka_unit_test(test_checkpoint_store),
		cmocka_unit_test(test_entropy_and_bad_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

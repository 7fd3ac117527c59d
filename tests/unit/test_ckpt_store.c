/* tests/unit/test_ckpt_store.c - the hosted checkpoint store's writer thread: queued puts land in
 * order and are reported once, a stalled disk does not stall the caller, failures are reported,
 * closing drains the queue. */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hosted.h"

static char *make_tmpdir(void)
{
	static char tmpl[64];

	strcpy(tmpl, "/tmp/rvm-test-store-XXXXXX");
	return mkdtemp(tmpl);
}

static void rm_rf(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* Reads object id back through the synchronous get and compares it with want[0..n). */
static void expect_object(const struct rvm_platform *p, uint64_t id, const uint8_t *want, size_t n)
{
	uint8_t *got = malloc(n + 1);
	size_t len = 0;

	assert_non_null(got);
	assert_int_equal(p->checkpoint_get(p->ctx, id, got, n + 1, &len), RVM_OK);
	assert_int_equal(len, n);
	assert_memory_equal(got, want, n);
	free(got);
}

/* Puts queue at once while the writer is held; each is reported exactly once, in order, and
 * its bytes are the ones handed in (the caller's buffer may change right after the put). */
static void test_async_puts_in_order(void **state)
{
	struct rvm_hosted h;
	struct rvm_platform p;
	char *dir = make_tmpdir();
	uint8_t buf[3][5000], scratch[5000];
	uint64_t seed = 11, id;
	enum rvm_err res;
	size_t len;

	(void)state;
	assert_non_null(dir);
	assert_int_equal(rvm_hosted_open(&h, dir, RVM_HOSTED_QUIET | RVM_HOSTED_TRUNCATE, &p),
			 RVM_OK);
	assert_non_null(p.checkpoint_put_async);
	assert_non_null(p.checkpoint_done);
	/* Nothing queued: nothing to report, and waiting returns at once. */
	assert_int_equal(p.checkpoint_done(p.ctx, false, &id, &res), RVM_E_NOTFOUND);
	assert_int_equal(p.checkpoint_done(p.ctx, true, &id, &res), RVM_E_NOTFOUND);
	rvm_hosted_store_hold(&h.store, true);
	for (int i = 0; i < 3; i++) {
		rvm_test_fill(&seed, buf[i], sizeof(buf[i]));
		memcpy(scratch, buf[i], sizeof(scratch));
		assert_int_equal(
			p.checkpoint_put_async(p.ctx, 100 + (uint64_t)i, scratch, sizeof(scratch)),
			RVM_OK);
		memset(scratch, 0xee, sizeof(scratch)); /* the store took a copy */
	}
	/* Held: nothing written, nothing reported, the files are not there yet. */
	assert_int_equal(p.checkpoint_done(p.ctx, false, &id, &res), RVM_E_NOTFOUND);
	assert_int_equal(p.checkpoint_get(p.ctx, 100, scratch, sizeof(scratch), &len),
			 RVM_E_NOTFOUND);
	rvm_hosted_store_hold(&h.store, false);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(p.checkpoint_done(p.ctx, true, &id, &res), RVM_OK);
		assert_int_equal(id, 100 + (uint64_t)i);
		assert_int_equal(res, RVM_OK);
		expect_object(&p, id, buf[i], sizeof(buf[i]));
	}
	assert_int_equal(p.checkpoint_done(p.ctx, true, &id, &res), RVM_E_NOTFOUND);
	assert_int_equal(h.store.stats.puts, 3);
	assert_true(h.store.stats.fsync_ns > 0 && h.store.stats.dirsync_ns > 0);
	rvm_hosted_close(&h);
	rm_rf(dir);
}

/* A put the disk refuses is reported with its error and leaves the old object in place. */
static void test_async_failure_reported(void **state)
{
	struct rvm_hosted h;
	struct rvm_platform p;
	char *dir = make_tmpdir(), sub[128];
	uint64_t id;
	enum rvm_err res;

	(void)state;
	assert_non_null(dir);
	assert_int_equal(rvm_hosted_open(&h, dir, RVM_HOSTED_QUIET | RVM_HOSTED_TRUNCATE, &p),
			 RVM_OK);
	assert_int_equal(p.checkpoint_put(p.ctx, 7, "old", 3), RVM_OK);
	/* The store's directory goes away under it: the write cannot be made. */
	snprintf(sub, sizeof(sub), "%s/checkpoints", dir);
	rm_rf(sub);
	assert_int_equal(p.checkpoint_put_async(p.ctx, 8, "new", 3), RVM_OK);
	assert_int_equal(p.checkpoint_done(p.ctx, true, &id, &res), RVM_OK);
	assert_int_equal(id, 8);
	assert_int_equal(res, RVM_E_IO);
	assert_int_equal(h.store.stats.failed, 1);
	rvm_hosted_close(&h);
	rm_rf(dir);
}

/* More puts than the queue holds: the caller waits for a slot, never loses one; the
 * unreported bound is kept (RVM_E_BUSY, nothing queued) until the caller reports. */
static void test_async_bounded(void **state)
{
	struct rvm_hosted h;
	struct rvm_platform p;
	char *dir = make_tmpdir();
	uint64_t id;
	enum rvm_err res;
	uint32_t n = 0;

	(void)state;
	assert_non_null(dir);
	assert_int_equal(rvm_hosted_open(&h, dir, RVM_HOSTED_QUIET | RVM_HOSTED_TRUNCATE, &p),
			 RVM_OK);
	for (uint64_t i = 0; i < RVM_PLATFORM_STORE_UNREPORTED; i++)
		assert_int_equal(p.checkpoint_put_async(p.ctx, i, &i, sizeof(i)), RVM_OK);
	assert_int_equal(p.checkpoint_put_async(p.ctx, 99, "x", 1), RVM_E_BUSY);
	while (p.checkpoint_done(p.ctx, true, &id, &res) == RVM_OK) {
		assert_int_equal(id, n);
		assert_int_equal(res, RVM_OK);
		n++;
	}
	assert_int_equal(n, RVM_PLATFORM_STORE_UNREPORTED);
	assert_int_equal(p.checkpoint_put_async(p.ctx, 99, "x", 1), RVM_OK);
	rvm_hosted_close(&h);
	rm_rf(dir);
}

/* Closing writes what is still queued (a held writer is let go), and after it the store
 * refuses instead of touching freed state. */
static void test_close_drains(void **state)
{
	struct rvm_hosted h;
	struct rvm_platform p;
	char *dir = make_tmpdir(), path[128];
	size_t len = 0;
	char *data;

	(void)state;
	assert_non_null(dir);
	assert_int_equal(rvm_hosted_open(&h, dir, RVM_HOSTED_QUIET | RVM_HOSTED_TRUNCATE, &p),
			 RVM_OK);
	rvm_hosted_store_hold(&h.store, true);
	assert_int_equal(p.checkpoint_put_async(p.ctx, 0x42, "queued", 6), RVM_OK);
	rvm_hosted_close(&h);
	snprintf(path, sizeof(path), "%s/checkpoints/%016llx.ckpt", dir, 0x42ull);
	data = rvm_test_read_file(path, &len);
	assert_non_null(data);
	assert_int_equal(len, 6);
	assert_memory_equal(data, "queued", 6);
	free(data);
	snprintf(path, sizeof(path), "%s/checkpoints/%016llx.ckpt.tmp", dir, 0x42ull);
	assert_int_not_equal(access(path, F_OK), 0);
	assert_int_equal(rvm_hosted_store_put_async(&h.store, 1, "x", 1), RVM_E_UNSUPPORTED);
	rm_rf(dir);
}

/* RVM_HOSTED_SYNC_STORE and no run directory: no async entries, or a clear refusal. */
static void test_sync_only(void **state)
{
	struct rvm_hosted h;
	struct rvm_platform p;
	uint64_t id;
	enum rvm_err res;

	(void)state;
	assert_int_equal(rvm_hosted_open(&h, NULL, RVM_HOSTED_QUIET | RVM_HOSTED_SYNC_STORE, &p),
			 RVM_OK);
	assert_null(p.checkpoint_put_async);
	assert_null(p.checkpoint_done);
	rvm_hosted_close(&h);
	assert_int_equal(rvm_hosted_open(&h, NULL, RVM_HOSTED_QUIET, &p), RVM_OK);
	assert_int_equal(p.checkpoint_put_async(p.ctx, 1, "x", 1), RVM_E_UNSUPPORTED);
	assert_int_equal(p.checkpoint_done(p.ctx, true, &id, &res), RVM_E_NOTFOUND);
	rvm_hosted_close(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_async_puts_in_order),
		cmocka_unit_test(test_async_failure_reported),
		cmocka_unit_test(test_async_bounded),
		cmocka_unit_test(test_close_drains),
		cmocka_unit_test(test_sync_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

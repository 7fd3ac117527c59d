/* tests/unit/test_witness_boot.c - the kernel's boot and shutdown leave the witness records they promise. */
#include "memplat.h"
#include "support.h"

#include <stdlib.h>
#include <string.h>

#include <rvm/kernel.h>
#include <rvm/witness_file.h>

/* The platform: memory sinks (tests/support/memplat.h), 3 CPUs, 500 ns per clock reading. */
static struct rvm_memplat ms;
static struct rvm_platform plat;
static struct rvm_kernel kern;

static void plat_reset(void)
{
	rvm_memplat_reset(&ms, &plat, 500, 0);
	ms.cpus = 3;
}

static struct rvm_witness_record recs[16];
static int nrecs;

static void collect(void *ctx, const struct rvm_witness_record *r)
{
	(void)ctx;
	if (nrecs < 16)
		recs[nrecs++] = *r;
}

static void test_boot_and_shutdown_are_witnessed(void **state)
{
	struct rvm_witness_config cfg = { .chain = RVM_CHAIN_SHA256, .sig = RVM_SIG_HMAC_SHA256,
					  .checkpoint_every = 1024 };
	static struct rvm_witness_reader rd;
	const struct rvm_witness_verdict *v;

	(void)state;
	plat_reset();
	memset(cfg.key, 9, 32);
	assert_int_equal(rvm_kernel_boot(&kern, &plat, &cfg), RVM_OK);
	assert_int_equal(kern.state, RVM_KERNEL_RUNNING);
	assert_int_equal(kern.phases_done, RVM_BOOT_PHASE_COUNT);
	/* Boot is durable before the kernel says it is running. */
	assert_true(kern.witness.durable_seq == 3);
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
	assert_int_equal(kern.state, RVM_KERNEL_HALTED);
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_E_STATE);

	nrecs = 0;
	rvm_witness_reader_init(&rd, NULL, cfg.key, collect, NULL);
	rvm_witness_reader_feed(&rd, ms.buf[RVM_SINK_WITNESS], ms.len[RVM_SINK_WITNESS]);
	v = rvm_witness_reader_finish(&rd);
	assert_int_equal(v->err, RVM_OK);
	assert_true(v->clean && v->pinned);
	assert_int_equal(nrecs, 5);
	assert_int_equal(recs[0].action, RVM_ACT_BOOT_PHASE);
	assert_true(recs[0].target == RVM_BOOT_PLATFORM && recs[0].arg0 == 3);
	assert_int_equal(recs[1].action, RVM_ACT_BOOT_PHASE);
	assert_true(recs[1].target == RVM_BOOT_WITNESS && recs[1].arg0 == RVM_CHAIN_SHA256 &&
		    recs[1].arg1 == RVM_SIG_HMAC_SHA256);
	assert_int_equal(recs[2].action, RVM_ACT_BOOT_COMPLETE);
	assert_true(recs[2].target == 2 && recs[2].arg0 > 0);
	assert_int_equal(recs[3].action, RVM_ACT_SHUTDOWN);
	assert_int_equal(recs[4].action, RVM_ACT_CHAIN_CHECKPOINT);
	assert_true(recs[4].arg0 == RVM_CKPT_SHUTDOWN);
	for (int i = 1; i < nrecs; i++)
		assert_true(recs[i].time_ns >= recs[i - 1].time_ns);
}

static void test_boot_fails_cleanly(void **state)
{
	struct rvm_witness_config cfg = { .chain = RVM_CHAIN_SHA256, .sig = RVM_SIG_NONE };

	(void)state;
	plat_reset();
	ms.fail = true;
	assert_int_equal(rvm_kernel_boot(&kern, &plat, &cfg), RVM_E_IO);
	assert_int_equal(kern.state, RVM_KERNEL_OFF);
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_E_STATE);
	assert_int_equal(rvm_kernel_boot(NULL, &plat, &cfg), RVM_E_INVAL);
	cfg.chain = 0;
	ms.fail = false;
	assert_int_equal(rvm_kernel_boot(&kern, &plat, &cfg), RVM_E_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_boot_and_shutdown_are_witnessed),
		cmocka_unit_test(test_boot_fails_cleanly),
	};

	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	rvm_memplat_free(&ms);
	return rc;
}

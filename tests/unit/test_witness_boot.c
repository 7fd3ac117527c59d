/* tests/unit/test_witness_boot.c - the kernel's boot and shutdown leave the witness records they promise. */
#include "support.h"

#include <stdlib.h>
#include <string.h>

#include <rvm/kernel.h>
#include <rvm/witness_file.h>

struct memsink {
	uint8_t buf[1 << 16];
	size_t len;
	uint64_t clock;
	bool fail;
};

static uint64_t ms_now(void *ctx)
{
	return ((struct memsink *)ctx)->clock += 500;
}

static uint32_t ms_cpus(void *ctx)
{
	(void)ctx;
	return 3;
}

static enum rvm_err ms_append(void *ctx, enum rvm_sink_stream s, const void *b, size_t n)
{
	struct memsink *m = ctx;

	if (s != RVM_SINK_WITNESS || m->fail || m->len + n > sizeof(m->buf))
		return RVM_E_IO;
	memcpy(m->buf + m->len, b, n);
	m->len += n;
	return RVM_OK;
}

static enum rvm_err ms_sync(void *ctx, enum rvm_sink_stream s)
{
	(void)s;
	return ((struct memsink *)ctx)->fail ? RVM_E_IO : RVM_OK;
}

static enum rvm_err ms_entropy(void *ctx, void *buf, size_t n)
{
	(void)ctx;
	memset(buf, 0x33, n);
	return RVM_OK;
}

static struct memsink ms;
static struct rvm_kernel kern;
static const struct rvm_platform plat = { .ctx = &ms, .now_ns = ms_now, .cpu_count = ms_cpus,
					  .sink_append = ms_append, .sink_sync = ms_sync,
					  .entropy = ms_entropy };

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
	memset(&ms, 0, sizeof(ms));
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
	rvm_witness_reader_feed(&rd, ms.buf, ms.len);
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
	memset(&ms, 0, sizeof(ms));
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

	return cmocka_run_group_tests(tests, NULL, NULL);
}

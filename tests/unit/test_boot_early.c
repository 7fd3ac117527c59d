/* tests/unit/test_boot_early.c - the full boot's early-genesis hook (bare-metal boards): genesis
 * right after the platform phase, first records out before the world's storage is touched. */
#include "memplat.h"
#include "support.h"

#include <stdlib.h>
#include <string.h>

#include <rvm/bytes.h>
#include <rvm/witness_file.h>
#include <rvm/world.h>

#define NMEM  4u
#define JUNK  0xa5
#define FIRST (RVM_WFILE_HEADER_SIZE + RVM_WITNESS_RECORD_SIZE)

static struct rvm_world *world;

/* The platform: memory sinks (tests/support/memplat.h), 2 CPUs, 1 us per clock reading, and a
 * hook that notes, when the first whole record arrives, whether the world's storage still held
 * what the caller left in it (nothing of the world touched yet). */
static struct rvm_memplat es;
static struct rvm_platform plat;
static int first_seen, world_untouched;

/* Whether a stretch of the world far from anything the platform phase sets is still junk. */
static int world_is_junk(void)
{
	const uint8_t *p = (const uint8_t *)&world->chans[RVM_CHAN_MAX / 2];

	for (size_t i = 0; i < sizeof(world->chans[0]); i++)
		if (p[i] != JUNK)
			return 0;
	return 1;
}

static void on_append(struct rvm_memplat *m, enum rvm_sink_stream s)
{
	if (s == RVM_SINK_WITNESS && !first_seen && m->len[s] >= FIRST) {
		first_seen = 1;
		world_untouched = world_is_junk();
	}
}

static struct rvm_kernel kern;
static struct rvm_agent_mem mem[NMEM];
static uint8_t hkey[32] = {9};
static struct rvm_witness_record recs[64];
static size_t nrecs;

static void cfg_make(struct rvm_kernel_config *c, bool early)
{
	memset(c, 0, sizeof(*c));
	c->witness.chain = RVM_CHAIN_SHA256;
	c->witness.sig = RVM_SIG_HMAC_SHA256;
	c->witness.checkpoint_every = 256;
	memcpy(c->witness.key, hkey, 32);
	memset(c->witness.boot_nonce, 4, 16);
	c->agent_mem = mem;
	c->agent_mem_count = NMEM;
	c->ncpus = 2;
	c->early_genesis = early;
}

/* A fresh sink; the world zeroed (the ordinary contract) or full of junk (early genesis). */
static void fresh(int junk)
{
	rvm_memplat_reset(&es, &plat, 1000, 0);
	es.cpus = 2;
	es.on_append = on_append;
	first_seen = world_untouched = 0;
	free(world);
	world = malloc(sizeof(*world));
	assert_non_null(world);
	memset(world, junk ? JUNK : 0, sizeof(*world));
	for (uint32_t i = 0; i < NMEM; i++) {
		if (!mem[i].arena) {
			mem[i].arena = malloc(64u << 10);
			mem[i].arena_size = 64u << 10;
			mem[i].memory_cap = RVM_WASM_PAGE;
			mem[i].memory = calloc(1, RVM_WASM_PAGE);
		}
	}
}

static void collect(void *ctx, const struct rvm_witness_record *r)
{
	(void)ctx;
	if (nrecs < sizeof(recs) / sizeof(recs[0]))
		recs[nrecs++] = *r;
}

/* Verifies the log (chain and HMAC checkpoints) and collects its first records. */
static void read_log(bool clean)
{
	static struct rvm_witness_reader rd;
	const struct rvm_witness_verdict *v;

	nrecs = 0;
	rvm_witness_reader_init(&rd, NULL, hkey, collect, NULL);
	rvm_witness_reader_feed(&rd, es.buf[RVM_SINK_WITNESS], es.len[RVM_SINK_WITNESS]);
	v = rvm_witness_reader_finish(&rd);
	assert_int_equal(v->err, RVM_OK);
	assert_int_equal(v->clean, clean);
}

static void test_early_genesis_order_and_measures(void **state)
{
	struct rvm_kernel_config c;
	uint64_t measure[RVM_BOOT_FULL_PHASES + 1];
	uint8_t attest[32];
	uint32_t slot;

	(void)state;
	/* The ordinary boot, for its measurements. */
	fresh(0);
	cfg_make(&c, false);
	assert_int_equal(rvm_kernel_boot_full(&kern, &plat, world, &c), RVM_OK);
	memcpy(measure, kern.measure, sizeof(measure));
	memcpy(attest, kern.attest, 32);
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);

	/* Early genesis on storage full of junk. */
	fresh(1);
	cfg_make(&c, true);
	assert_int_equal(rvm_kernel_boot_full(&kern, &plat, world, &c), RVM_OK);
	assert_int_equal(kern.state, RVM_KERNEL_RUNNING);
	assert_int_equal(kern.phases_done, RVM_BOOT_FULL_PHASES);
	/* The first record was out while the world's storage was still as the caller left it. */
	assert_true(first_seen && world_untouched);
	/* Then the boot zeroed it, keeping what the platform phase set. */
	assert_int_equal(world->ncpus, 2);
	assert_ptr_equal(world->k, &kern);
	assert_int_equal(world->chans[RVM_CHAN_MAX / 2].live, 0);
	assert_int_equal(world->chans[RVM_CHAN_MAX - 1].data[RVM_CHAN_RING - 1][RVM_MSG_MAX - 1],
			 0);
	assert_int_equal(world->splits, 0);
	/* Same phases, same measurements, witnessed in the order they ran: 1, 2, 3, ..., 7; the
	 * attestation folds them in that order, so it differs from the ordinary boot's. */
	for (uint32_t p = 1; p <= RVM_BOOT_FULL_PHASES; p++)
		assert_true(kern.measure[p] == measure[p]);
	assert_memory_not_equal(kern.attest, attest, 32);
	/* The world works: a partition, an epoch, a clean shutdown. */
	assert_int_equal(rvm_kernel_partition_new(&kern, 0, &slot), RVM_OK);
	{
		struct rvm_epoch_report rep;

		assert_int_equal(rvm_kernel_epoch(&kern, &rep), RVM_OK);
	}
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
	read_log(true);
	assert_true(nrecs >= 8);
	for (uint32_t i = 0; i < RVM_BOOT_FULL_PHASES; i++) {
		assert_int_equal(recs[i].action, RVM_ACT_BOOT_PHASE);
		assert_int_equal(recs[i].target, i + 1);
		assert_true(recs[i].arg1 == kern.measure[i + 1]);
	}
	assert_int_equal(recs[7].action, RVM_ACT_BOOT_COMPLETE);
	assert_true(recs[7].arg1 == rvm_load_le64(kern.attest));
}

/* A phase failing after early genesis is on record after the phases that ran. */
static void test_early_genesis_failure(void **state)
{
	struct rvm_kernel_config c;

	(void)state;
	fresh(1);
	cfg_make(&c, true);
	c.fail_phase = RVM_BOOT_CAPS;
	assert_int_equal(rvm_kernel_boot_full(&kern, &plat, world, &c), RVM_E_BOOT);
	assert_int_equal(kern.state, RVM_KERNEL_OFF);
	read_log(false);
	assert_int_equal(nrecs, 4);
	assert_true(recs[0].target == RVM_BOOT_PLATFORM && recs[1].target == RVM_BOOT_WITNESS &&
		    recs[2].target == RVM_BOOT_MEMORY);
	assert_int_equal(recs[3].target, RVM_BOOT_CAPS);
	assert_int_equal(recs[3].flags, RVM_WF_DENIED);
	assert_int_equal(recs[3].arg1, RVM_E_BOOT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_early_genesis_order_and_measures),
		cmocka_unit_test(test_early_genesis_failure),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	rvm_memplat_free(&es);
	free(world);
	for (uint32_t i = 0; i < NMEM; i++) {
		free(mem[i].arena);
		free(mem[i].memory);
	}
	return rc;
}

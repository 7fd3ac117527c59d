/* tests/unit/test_kernel_trust.c - a quarantine (trust below the floor) keeps its agent out of
 * every merge and no other merge out of the epochs. */
#include "support.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvm/world.h>

#define CAP  (64u << 20)
#define NMEM 8u

struct msink {
	uint8_t *buf[RVM_SINK_COUNT];
	size_t len[RVM_SINK_COUNT];
	uint64_t clock;
};

static uint64_t ms_now(void *ctx)
{
	return ((struct msink *)ctx)->clock += 1000;
}

static uint32_t ms_cpus(void *ctx)
{
	(void)ctx;
	return 2;
}

static enum rvm_err ms_append(void *ctx, enum rvm_sink_stream s, const void *b, size_t n)
{
	struct msink *m = ctx;

	if ((unsigned)s >= RVM_SINK_COUNT || m->len[s] + n > CAP)
		return RVM_E_IO;
	memcpy(m->buf[s] + m->len[s], b, n);
	m->len[s] += n;
	return RVM_OK;
}

static enum rvm_err ms_sync(void *ctx, enum rvm_sink_stream s)
{
	(void)ctx;
	(void)s;
	return RVM_OK;
}

static enum rvm_err ms_entropy(void *ctx, void *buf, size_t n)
{
	(void)ctx;
	memset(buf, 0x5a, n);
	return RVM_OK;
}

static struct msink ms;
static const struct rvm_platform plat = {.ctx = &ms,
					 .name = "test",
					 .now_ns = ms_now,
					 .cpu_count = ms_cpus,
					 .sink_append = ms_append,
					 .sink_sync = ms_sync,
					 .entropy = ms_entropy};
static struct rvm_kernel kern;
static struct rvm_world *world;
static struct rvm_agent_mem mem[NMEM];
static char agents_dir[1024];
static void *arena;

/* The example agents are built next to the rvm binary (RVM_BIN is BUILD/tools/rvm/rvm). */
static bool have_agents(void)
{
	const char *bin = getenv("RVM_BIN");
	char tmp[1024], probe[1100];
	FILE *f;

	if (!bin)
		return false;
	snprintf(tmp, sizeof(tmp), "%s", bin);
	snprintf(agents_dir, sizeof(agents_dir), "%s/../../examples/agents", dirname(tmp));
	snprintf(probe, sizeof(probe), "%s/chatty.wasm", agents_dir);
	if (!(f = fopen(probe, "rb")))
		return false;
	fclose(f);
	return true;
}

/* A kernel on two CPUs (partitions of at most 4 agents, trust floor 50) with chatty loaded. */
static uint32_t boot_chatty(void)
{
	struct rvm_kernel_config c;
	struct rvm_wasm_error werr;
	char path[1200];
	uint8_t *bytes;
	size_t len;
	uint32_t idx;

	for (int s = 0; s < RVM_SINK_COUNT; s++) {
		if (!ms.buf[s])
			ms.buf[s] = malloc(CAP);
		ms.len[s] = 0;
	}
	ms.clock = 0;
	free(world);
	world = calloc(1, sizeof(*world));
	assert_non_null(world);
	for (uint32_t i = 0; i < NMEM; i++) {
		if (!mem[i].arena) {
			mem[i].arena = malloc(256u << 10);
			mem[i].arena_size = 256u << 10;
			mem[i].memory_cap = 2u * RVM_WASM_PAGE;
			mem[i].memory = malloc(mem[i].memory_cap);
		}
		memset(mem[i].memory, 0, mem[i].memory_cap);
	}
	memset(&c, 0, sizeof(c));
	c.witness.chain = RVM_CHAIN_SHA256;
	c.witness.sig = RVM_SIG_HMAC_SHA256;
	c.witness.checkpoint_every = 256;
	memset(c.witness.key, 7, 32);
	memset(c.witness.boot_nonce, 3, 16);
	c.agent_mem = mem;
	c.agent_mem_count = NMEM;
	c.ncpus = 2;
	c.max_partition_agents = 4;
	c.trust_floor = 50;
	assert_int_equal(rvm_kernel_boot_full(&kern, &plat, world, &c), RVM_OK);
	snprintf(path, sizeof(path), "%s/chatty.wasm", agents_dir);
	bytes = (uint8_t *)rvm_test_read_file(path, &len);
	assert_non_null(bytes);
	if (!arena)
		arena = malloc(2u << 20);
	assert_int_equal(rvm_kernel_module_load(&kern, "chatty", bytes, len, arena, 2u << 20, 0,
						100, &idx, &werr),
			 RVM_OK);
	free(bytes);
	return idx;
}

#define ALL_RIGHTS                                                                                 \
	(RVM_AGENT_RIGHT_SEND | RVM_AGENT_RIGHT_RECV | RVM_AGENT_RIGHT_LOG | RVM_AGENT_RIGHT_TIME)

/*
 * Four chatty agents of one team in a full mesh: a[0..2] in one partition, a[3] in another.
 * With quarantine set, a[2]'s trust drops below the floor before any epoch (so before any
 * merge). Runs up to 60 epochs of 16 slices each, stopping at the first merge.
 */
static void team_of_four(bool quarantine, uint32_t a[4], uint32_t p[2])
{
	uint32_t mc = boot_chatty();

	for (uint32_t i = 0; i < 2; i++)
		assert_int_equal(rvm_kernel_partition_new(&kern, RVM_MAX_CPUS, &p[i]), RVM_OK);
	for (uint32_t i = 0; i < 4; i++) {
		int64_t args[4] = {i, 4, 4, 1000000};

		assert_int_equal(rvm_kernel_agent_spawn(&kern, mc, "c", p[i / 3], ALL_RIGHTS, 100,
							args, &a[i]),
				 RVM_OK);
	}
	for (uint32_t i = 0; i < 4; i++)
		for (uint32_t j = 0; j < 4; j++)
			if (i != j)
				assert_int_equal(rvm_kernel_connect(&kern, a[i], a[j], NULL),
						 RVM_OK);
	if (quarantine) {
		assert_int_equal(rvm_kernel_set_trust(&kern, a[2], 20), RVM_OK);
		assert_true(world->agents[a[2]].quarantined);
	}
	for (int e = 0; e < 60 && world->merges == 0; e++) {
		struct rvm_epoch_report rep;

		for (uint32_t i = 0; i < 16; i++) {
			struct rvm_slice s;

			assert_int_equal(rvm_kernel_run_slice(&kern, i % 2u, 20000, &s), RVM_OK);
		}
		assert_int_equal(rvm_kernel_epoch(&kern, &rep), RVM_OK);
	}
}

/* Without a trust event the team's two partitions merge (the baseline of the test below). */
static void test_team_merges(void **state)
{
	uint32_t a[4], p[2];

	(void)state;
	if (!have_agents())
		skip();
	team_of_four(false, a, p);
	assert_int_equal(world->merges, 1);
	for (uint32_t i = 1; i < 4; i++)
		assert_int_equal(world->agents[a[i]].part, world->agents[a[0]].part);
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
}

/*
 * a[2] is quarantined before any merge: a[0], a[1] and a[3] still merge into one partition,
 * a[2] stays alone in its own.
 */
static void test_quarantine_before_merge(void **state)
{
	uint32_t a[4], p[2], q;

	(void)state;
	if (!have_agents())
		skip();
	team_of_four(true, a, p);
	q = world->agents[a[2]].part;
	assert_int_equal(world->merges, 1);
	assert_int_equal(world->agents[a[1]].part, world->agents[a[0]].part);
	assert_int_equal(world->agents[a[3]].part, world->agents[a[0]].part);
	assert_true(q != world->agents[a[0]].part);
	assert_int_equal(world->parts.p[q].agents, 1);
	assert_true(world->agents[a[2]].quarantined);
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
}

/*
 * The bare-metal demo's swarm: eight chatty agents, two teams of four that regroup every 1000
 * messages, started in two partitions that each hold half of both teams. With trust_at set,
 * c5's trust drops below the floor at that epoch. Runs `epochs` epochs of 16 slices each.
 */
static void regrouping_eight(int trust_at, int epochs, uint32_t c[8])
{
	uint32_t mc = boot_chatty(), p[2];

	for (uint32_t i = 0; i < 2; i++)
		assert_int_equal(rvm_kernel_partition_new(&kern, RVM_MAX_CPUS, &p[i]), RVM_OK);
	for (uint32_t i = 0; i < 8; i++) {
		int64_t args[4] = {i, 4, 8, 1000};

		assert_int_equal(rvm_kernel_agent_spawn(&kern, mc, "c", p[i / 2 % 2], ALL_RIGHTS,
							100, args, &c[i]),
				 RVM_OK);
	}
	for (uint32_t i = 0; i < 8; i++)
		for (uint32_t j = 0; j < 8; j++)
			if (i != j)
				assert_int_equal(rvm_kernel_connect(&kern, c[i], c[j], NULL),
						 RVM_OK);
	for (int e = 0; e < epochs; e++) {
		struct rvm_epoch_report rep;

		if (e == trust_at)
			assert_int_equal(rvm_kernel_set_trust(&kern, c[5], 20), RVM_OK);
		for (uint32_t i = 0; i < 16; i++) {
			struct rvm_slice s;

			assert_int_equal(rvm_kernel_run_slice(&kern, i % 2u, 20000, &s), RVM_OK);
		}
		assert_int_equal(rvm_kernel_epoch(&kern, &rep), RVM_OK);
	}
}

/* Without a trust event the halves of each team come together: two merges. */
static void test_regroup_merges(void **state)
{
	uint32_t c[8];

	(void)state;
	if (!have_agents())
		skip();
	regrouping_eight(-1, 40, c);
	assert_int_equal(world->merges, 2);
	assert_int_equal(world->agents[c[1]].part, world->agents[c[0]].part);
	assert_int_equal(world->agents[c[5]].part, world->agents[c[4]].part);
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
}

/*
 * c5 is quarantined at epoch 5, before any merge. It used to stop every merge: c4, its
 * partner, was left in a group of three with c0 and c1 (another team), and a single node's
 * cut pressure was always zero, so it could never be split off, and no merge fitted the
 * partition limit. Now c4 leaves, c0..c3 come together, c4 joins c6 and c7, and c5 stays
 * alone: only merges that would take it back are refused.
 */
static void test_regroup_quarantine_early(void **state)
{
	uint32_t c[8], q;

	(void)state;
	if (!have_agents())
		skip();
	regrouping_eight(5, 40, c);
	q = world->agents[c[5]].part;
	assert_true(world->agents[c[5]].quarantined);
	assert_true(world->merges >= 2);
	for (uint32_t i = 1; i < 4; i++)
		assert_int_equal(world->agents[c[i]].part, world->agents[c[0]].part);
	assert_int_equal(world->agents[c[6]].part, world->agents[c[4]].part);
	assert_int_equal(world->agents[c[7]].part, world->agents[c[4]].part);
	assert_int_equal(world->parts.p[q].agents, 1);
	for (uint32_t i = 0; i < 8; i++)
		assert_true(i == 5 || world->agents[c[i]].part != q);
	assert_int_equal(world->coh.group[c[5]], RVM_COH_NO_GROUP);
	assert_int_equal(rvm_kernel_shutdown(&kern), RVM_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_team_merges),
		cmocka_unit_test(test_quarantine_before_merge),
		cmocka_unit_test(test_regroup_merges),
		cmocka_unit_test(test_regroup_quarantine_early),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* tests/unit/test_region.c - regions: ownership, the no-aliasing rule, tier moves with integrity, witnessing. */
#include "memplat.h"
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hosted.h>
#include <rvm/region.h>
#include <rvm/tier.h>

#define MIB (1024ull * 1024ull)
#define ARENA (8 * MIB)
#define NFRAMES (ARENA / 4096)

/* ---- Fixture: a buddy over a real arena, a store, a ring-only witness log ---- */

/* The platform: memory (tests/support/memplat.h), its checkpoint store the one cold images go
 * to; no sinks, so the witness log stays in its ring. */
static struct rvm_memplat mp;
static struct rvm_platform plat;
static struct rvm_witness_log wlog;
static struct rvm_buddy buddy;
static struct rvm_buddy_frame bframes[NFRAMES];
static struct rvm_region_frame rframes[NFRAMES];
static struct rvm_region_store store;
static struct rvm_region_space space;
static uint8_t *arena;
static uint8_t store_buf[1 << 20];

static void setup(uint32_t store_cap)
{
	struct rvm_witness_config cfg;
	struct rvm_phys_range r;

	if (!arena) {
		arena = aligned_alloc(4 * MIB, ARENA);
		assert_non_null(arena);
	}
	rvm_memplat_reset(&mp, &plat, 1000, 0);
	mp.absent = (1u << RVM_SINK_COUNT) - 1;
	memset(&cfg, 0, sizeof(cfg));
	cfg.chain = RVM_CHAIN_SHA256;
	cfg.sig = RVM_SIG_NONE;
	cfg.boot_nonce[0] = 1;
	assert_int_equal(rvm_witness_init(&wlog, &plat, &cfg), RVM_OK);
	r.base = (uint64_t)(uintptr_t)arena;
	r.size = ARENA;
	assert_int_equal(rvm_buddy_init(&buddy, bframes, NFRAMES, &r, 1), RVM_OK);
	rvm_region_store_init(&store, store_buf, store_cap);
	assert_int_equal(rvm_region_space_init(&space, &buddy, rframes, NFRAMES, &store, &wlog, &plat),
			 RVM_OK);
}

/* The last witness record. */
static const struct rvm_witness_record *last_record(void)
{
	assert_true(wlog.next_seq > 0);
	return rvm_witness_get(&wlog, wlog.next_seq - 1);
}

/* Asserts the last record is a refusal of `action` with `err` by caller on target. */
static void assert_denied(uint16_t action, enum rvm_err err, uint32_t caller, uint64_t target)
{
	const struct rvm_witness_record *w = last_record();

	assert_int_equal(w->action, RVM_ACT_GATE_DENIED);
	assert_true(w->flags & RVM_WF_DENIED);
	assert_int_equal(w->actor, caller);
	assert_true(w->target == target);
	assert_true(w->arg0 == action);
	assert_true(w->arg1 == (uint64_t)err);
}

static void assert_witnessed(uint16_t action, uint32_t caller, uint64_t target)
{
	const struct rvm_witness_record *w = last_record();

	assert_int_equal(w->action, action);
	assert_int_equal(w->flags, 0);
	assert_int_equal(w->actor, caller);
	assert_true(w->target == target);
}

static uint8_t *mem(const struct rvm_region *r)
{
	return (uint8_t *)(uintptr_t)r->base;
}

/* Text-like contents that compress, with some noise. */
static void fill(uint8_t *p, size_t n, uint64_t seed)
{
	static const char text[] = "{\"agent\":7,\"epoch\":123,\"state\":\"thinking\",\"tokens\":[1,2,3]}\n";

	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)text[(i + seed) % (sizeof(text) - 1)];
	for (size_t i = 0; i < n; i += 997)
		p[i] = (uint8_t)rvm_test_rand(&seed);
}

static void test_create_map_transfer(void **state)
{
	rvm_region_id id, other;
	const struct rvm_region *r;
	uint64_t base;
	static uint8_t copy[16384];

	(void)state;
	setup(sizeof(store_buf));
	assert_int_equal(rvm_region_create(&space, 0, 3, 10000, RVM_REGION_DATA, true, 1, &id), RVM_OK);
	assert_witnessed(RVM_ACT_REGION_CREATE, 0, id);
	r = rvm_region_get(&space, id);
	assert_non_null(r);
	assert_true(rvm_region_size(r) == 16384); /* rounded up to 4 frames */
	assert_int_equal(r->owner, 3);
	assert_int_equal(r->tier, RVM_TIER_HOT);
	for (size_t i = 0; i < 16384; i++)
		assert_int_equal(mem(r)[i], 0); /* created zeroed */
	/* Only the owner (or the kernel) creates for an owner. */
	assert_int_equal(rvm_region_create(&space, 4, 3, 4096, RVM_REGION_DATA, true, 1, &other),
			 RVM_E_PERM);
	assert_int_equal(rvm_region_create(&space, 0, 3, 0, RVM_REGION_DATA, true, 1, &other),
			 RVM_E_RANGE);
	assert_int_equal(rvm_region_create(&space, 0, 3, 8 * MIB, RVM_REGION_DATA, true, 1, &other),
			 RVM_E_RANGE);

	/* The owner maps it writable; nobody else may map it at all then. */
	assert_int_equal(rvm_region_map(&space, 3, id, 3, true), RVM_OK);
	assert_witnessed(RVM_ACT_REGION_MAP, 3, id);
	assert_int_equal(rvm_region_map(&space, 3, id, 4, false), RVM_E_ALIAS);
	assert_denied(RVM_ACT_REGION_MAP, RVM_E_ALIAS, 3, id);
	assert_int_equal(rvm_region_map(&space, 3, id, 3, true), RVM_E_EXISTS);
	assert_int_equal(rvm_region_map(&space, 4, id, 4, true), RVM_E_PERM);
	assert_denied(RVM_ACT_REGION_MAP, RVM_E_PERM, 4, id);
	assert_int_equal(rvm_region_map(&space, 3, id, 4, true), RVM_E_POLICY);
	assert_int_equal(rvm_region_check_invariants(&space), RVM_OK);

	/* Read-only sharing: several readers, then no writer. */
	assert_int_equal(rvm_region_unmap(&space, 3, id, 3), RVM_OK);
	assert_witnessed(RVM_ACT_REGION_UNMAP, 3, id);
	assert_int_equal(rvm_region_map(&space, 3, id, 3, false), RVM_OK);
	assert_int_equal(rvm_region_map(&space, 3, id, 4, false), RVM_OK);
	assert_int_equal(rvm_region_map(&space, 3, id, 5, false), RVM_OK);
	{
		uint32_t g;

		assert_int_equal(rvm_buddy_frame_index(&buddy, r->base + 8192, &g), RVM_OK);
		assert_int_equal(rframes[g].readers, 3);
		assert_int_equal(rframes[g].writer, 0);
	}
	assert_int_equal(rvm_region_check_invariants(&space), RVM_OK);

	/* Transfer: refused while mapped, by a non-owner; ownership moves, bytes stay. */
	assert_int_equal(rvm_region_transfer(&space, 3, id, 4), RVM_E_BUSY);
	assert_denied(RVM_ACT_REGION_TRANSFER, RVM_E_BUSY, 3, id);
	assert_int_equal(rvm_region_unmap(&space, 4, id, 4), RVM_OK); /* a reader drops its own */
	assert_int_equal(rvm_region_unmap(&space, 5, id, 3), RVM_E_PERM);
	assert_int_equal(rvm_region_unmap(&space, 3, id, 5), RVM_OK);
	assert_int_equal(rvm_region_unmap(&space, 3, id, 3), RVM_OK);
	assert_int_equal(rvm_region_unmap(&space, 3, id, 3), RVM_E_NOTFOUND);
	fill(mem(r), 16384, 5);
	memcpy(copy, mem(r), sizeof(copy));
	base = r->base;
	assert_int_equal(rvm_region_transfer(&space, 4, id, 4), RVM_E_PERM);
	assert_denied(RVM_ACT_REGION_TRANSFER, RVM_E_PERM, 4, id);
	assert_int_equal(rvm_region_transfer(&space, 3, id, 3), RVM_E_INVAL);
	assert_int_equal(rvm_region_transfer(&space, 3, id, 4), RVM_OK);
	assert_witnessed(RVM_ACT_REGION_TRANSFER, 3, id);
	assert_true(last_record()->arg0 == 3 && last_record()->arg1 == 4);
	assert_int_equal(r->owner, 4);
	assert_true(r->base == base);
	assert_memory_equal(mem(r), copy, sizeof(copy));
	assert_int_equal(rvm_region_map(&space, 3, id, 3, true), RVM_E_PERM); /* old owner */
	assert_int_equal(rvm_region_map(&space, 4, id, 4, true), RVM_OK);
	assert_int_equal(rvm_region_check_invariants(&space), RVM_OK);

	/* Destroy: refused while mapped; then the id goes stale. */
	assert_int_equal(rvm_region_destroy(&space, 4, id), RVM_E_BUSY);
	assert_int_equal(rvm_region_unmap(&space, 4, id, 4), RVM_OK);
	assert_int_equal(rvm_region_destroy(&space, 3, id), RVM_E_PERM);
	assert_int_equal(rvm_region_destroy(&space, 4, id), RVM_OK);
	assert_witnessed(RVM_ACT_REGION_DESTROY, 4, id);
	assert_int_equal(rvm_region_map(&space, 4, id, 4, false), RVM_E_NOTFOUND);
	assert_int_equal(rvm_region_create(&space, 0, 1, 4096, RVM_REGION_IPC, false, 1, &other),
			 RVM_OK);
	assert_true((other & 0xFFFFFFFFu) == (id & 0xFFFFFFFFu) && other != id);
	assert_int_equal(rvm_region_map(&space, 4, id, 4, false), RVM_E_STALE);
	assert_denied(RVM_ACT_REGION_MAP, RVM_E_STALE, 4, id);
	assert_int_equal(rvm_region_map(&space, 1, other, 1, true), RVM_E_POLICY); /* read-only */
	assert_int_equal(rvm_region_check_invariants(&space), RVM_OK);
}

static uint64_t count_records(uint16_t action, uint64_t from_seq)
{
	uint64_t n = 0;

	for (uint64_t s = from_seq; s < wlog.next_seq; s++) {
		const struct rvm_witness_record *w = rvm_witness_get(&wlog, s);

		n += w && w->action == action && !(w->flags & RVM_WF_DENIED);
	}
	return n;
}

/* HOT -> WARM -> DORMANT -> COLD -> HOT keeps the bytes and frees what each tier does not need. */
static void test_tier_round_trip(void **state)
{
	static uint8_t copy[64 * 1024];
	struct rvm_buddy_stats before, st;
	const struct rvm_region *r;
	rvm_region_id id;
	uint64_t seq0;

	(void)state;
	setup(sizeof(store_buf));
	memset(&before, 0, sizeof(before));
	memset(&st, 0, sizeof(st));
	rvm_buddy_stats(&buddy, &before);
	assert_int_equal(rvm_region_create(&space, 0, 2, sizeof(copy), RVM_REGION_DATA, true, 1, &id),
			 RVM_OK);
	r = rvm_region_get(&space, id);
	fill(mem(r), sizeof(copy), 9);
	/* One page of noise, stored raw. */
	rvm_test_fill(&(uint64_t){ 3 }, mem(r) + 4096 * 7, 4096);
	memcpy(copy, mem(r), sizeof(copy));
	seq0 = wlog.next_seq;

	assert_int_equal(rvm_region_set_tier(&space, 2, id, RVM_TIER_WARM), RVM_OK);
	assert_int_equal(r->tier, RVM_TIER_WARM);
	assert_int_equal(rvm_region_map(&space, 2, id, 2, true), RVM_OK);
	assert_int_equal(rvm_region_set_tier(&space, 2, id, RVM_TIER_DORMANT), RVM_E_BUSY);
	assert_denied(RVM_ACT_REGION_TIER, RVM_E_BUSY, 2, id);
	assert_int_equal(rvm_region_unmap(&space, 2, id, 2), RVM_OK);
	assert_int_equal(rvm_region_set_tier(&space, 5, id, RVM_TIER_DORMANT), RVM_E_PERM);

	assert_int_equal(rvm_region_set_tier(&space, 2, id, RVM_TIER_DORMANT), RVM_OK);
	assert_int_equal(r->tier, RVM_TIER_DORMANT);
	assert_true(r->base == 0);
	assert_int_equal(store.n, 1);
	assert_true(r->store_len < sizeof(copy) / 4); /* text compresses */
	assert_true(last_record()->arg1 == r->store_len);
	rvm_buddy_stats(&buddy, &st);
	assert_memory_equal(&st, &before, sizeof(st)); /* frames all back */
	assert_int_equal(rvm_region_map(&space, 2, id, 2, false), RVM_E_STATE);
	assert_int_equal(rvm_region_check_invariants(&space), RVM_OK);

	assert_int_equal(rvm_region_set_tier(&space, 2, id, RVM_TIER_COLD), RVM_OK);
	assert_int_equal(store.n, 0);
	assert_int_equal(mp.nobj, 1);
	assert_true(mp.id[0] == RVM_REGION_COLD_ID(id));
	assert_int_equal(rvm_region_check_invariants(&space), RVM_OK);

	/* Back in two witnessed steps: COLD -> DORMANT -> HOT. */
	assert_int_equal(rvm_region_set_tier(&space, 2, id, RVM_TIER_HOT), RVM_OK);
	assert_int_equal(r->tier, RVM_TIER_HOT);
	assert_int_equal(store.n, 0);
	assert_memory_equal(mem(r), copy, sizeof(copy));
	assert_int_equal(count_records(RVM_ACT_REGION_TIER, seq0), 5);
	assert_true(last_record()->arg0 == (RVM_TIER_DORMANT | RVM_TIER_HOT << 8));
	assert_int_equal(rvm_region_check_invariants(&space), RVM_OK);

	/* A dormant region can be destroyed; its store space comes back. */
	assert_int_equal(rvm_region_set_tier(&space, 0, id, RVM_TIER_DORMANT), RVM_OK);
	assert_int_equal(rvm_region_destroy(&space, 2, id), RVM_OK);
	assert_int_equal(store.n, 0);
	assert_int_equal(rvm_region_check_invariants(&space), RVM_OK);
	assert_int_equal(rvm_region_set_tier(&space, 2, id, (enum rvm_tier)7), RVM_E_NOTFOUND);
}

/* A corrupt image is refused with RVM_E_CORRUPT before anything changes. */
static void test_tier_corruption(void **state)
{
	static uint8_t copy[32 * 1024];
	struct rvm_buddy_stats before, st;
	const struct rvm_region *r;
	const struct rvm_region_extent *e;
	rvm_region_id id;
	uint64_t rs = 11;

	(void)state;
	setup(sizeof(store_buf));
	memset(&before, 0, sizeof(before));
	memset(&st, 0, sizeof(st));
	assert_int_equal(rvm_region_create(&space, 0, 2, sizeof(copy), RVM_REGION_DATA, true, 1, &id),
			 RVM_OK);
	r = rvm_region_get(&space, id);
	fill(mem(r), sizeof(copy), 1);
	memcpy(copy, mem(r), sizeof(copy));
	assert_int_equal(rvm_region_set_tier(&space, 2, id, RVM_TIER_DORMANT), RVM_OK);
	e = &store.ext[0];
	rvm_buddy_stats(&buddy, &before);

	/* Flip bytes all over the image: every flip is caught, nothing moves. */
	for (int i = 0; i < 300; i++) {
		uint32_t at = e->off + (uint32_t)(rvm_test_rand(&rs) % e->len);
		uint8_t flip = (uint8_t)(1 + rvm_test_rand(&rs) % 255);

		store_buf[at] ^= flip;
		assert_int_equal(rvm_region_set_tier(&space, 2, id, RVM_TIER_HOT), RVM_E_CORRUPT);
		assert_denied(RVM_ACT_REGION_TIER, RVM_E_CORRUPT, 2, id);
		store_buf[at] ^= flip;
		assert_int_equal(r->tier, RVM_TIER_DORMANT);
	}
	rvm_buddy_stats(&buddy, &st);
	assert_memory_equal(&st, &before, sizeof(st));
	assert_int_equal(rvm_region_check_invariants(&space), RVM_OK);

	/* The same for a cold image, damaged or cut short in the checkpoint store. */
	assert_int_equal(rvm_region_set_tier(&space, 2, id, RVM_TIER_COLD), RVM_OK);
	mp.obj[0][mp.objlen[0] / 2] ^= 0x40;
	assert_int_equal(rvm_region_set_tier(&space, 2, id, RVM_TIER_DORMANT), RVM_E_CORRUPT);
	assert_int_equal(r->tier, RVM_TIER_COLD);
	assert_int_equal(store.n, 0);
	mp.obj[0][mp.objlen[0] / 2] ^= 0x40;
	mp.objlen[0]--;
	assert_int_equal(rvm_region_set_tier(&space, 2, id, RVM_TIER_DORMANT), RVM_E_CORRUPT);
	mp.objlen[0]++;
	/* A checkpoint store that fails passes its error on. */
	assert_int_equal(rvm_region_set_tier(&space, 2, id, RVM_TIER_HOT), RVM_OK);
	assert_memory_equal(mem(r), copy, sizeof(copy));
	mp.store_fail = true;
	assert_int_equal(rvm_region_set_tier(&space, 2, id, RVM_TIER_COLD), RVM_E_IO);
	assert_int_equal(r->tier, RVM_TIER_DORMANT);
	assert_int_equal(rvm_region_check_invariants(&space), RVM_OK);
}

/* The store and the buddy run out cleanly: RVM_E_NOMEM, witnessed, nothing changed. */
static void test_exhaustion(void **state)
{
	static rvm_region_id ids[RVM_REGION_SLOTS];
	rvm_region_id id;
	const struct rvm_region *r;
	size_t n = 0;
	enum rvm_err err;

	(void)state;
	setup(8192); /* a tiny store */
	assert_int_equal(rvm_region_create(&space, 0, 2, 16384, RVM_REGION_DATA, true, 1, &id),
			 RVM_OK);
	r = rvm_region_get(&space, id);
	rvm_test_fill(&(uint64_t){ 77 }, mem(r), 16384); /* noise: 16 KiB raw does not fit */
	assert_int_equal(rvm_region_set_tier(&space, 2, id, RVM_TIER_DORMANT), RVM_E_NOMEM);
	assert_denied(RVM_ACT_REGION_TIER, RVM_E_NOMEM, 2, id);
	assert_int_equal(r->tier, RVM_TIER_HOT);
	assert_int_equal(rvm_region_destroy(&space, 0, id), RVM_OK);
	/* Fill the arena with 1 MiB regions until the buddy says no. */
	while ((err = rvm_region_create(&space, 0, 1, MIB, RVM_REGION_DATA, true, 1, &ids[n])) ==
	       RVM_OK)
		n++;
	assert_int_equal(err, RVM_E_NOMEM);
	assert_int_equal(n, ARENA / MIB);
	assert_denied(RVM_ACT_REGION_CREATE, RVM_E_NOMEM, 0, last_record()->target);
	assert_int_equal(rvm_region_check_invariants(&space), RVM_OK);
	/* And the slots: 4 KiB regions until every slot is used. */
	while (n)
		assert_int_equal(rvm_region_destroy(&space, 0, ids[--n]), RVM_OK);
	while ((err = rvm_region_create(&space, 0, 1, 4096, RVM_REGION_DATA, true, 1, &ids[n])) ==
	       RVM_OK)
		n++;
	assert_int_equal(err, RVM_E_NOMEM);
	assert_int_equal(n, RVM_REGION_SLOTS < NFRAMES ? RVM_REGION_SLOTS : NFRAMES);
	assert_int_equal(rvm_region_check_invariants(&space), RVM_OK);
}

static rvm_bp coherence_of(void *ctx, uint32_t partition)
{
	(void)ctx;
	return partition == 9 ? 0 : RVM_BP_ONE; /* partition 9 left this node */
}

static void test_policy(void **state)
{
	const struct rvm_tier_policy p = { .warm_after = 10, .dormant_after = 100, .cold_after = 1000,
					   .min_scale = 1000 };
	struct rvm_tier_sweep_stats st;
	rvm_region_id here, gone, mapped;

	(void)state;
	assert_int_equal(rvm_tier_advise(&p, 0, RVM_BP_ONE), RVM_TIER_HOT);
	assert_int_equal(rvm_tier_advise(&p, 9, RVM_BP_ONE), RVM_TIER_HOT);
	assert_int_equal(rvm_tier_advise(&p, 10, RVM_BP_ONE), RVM_TIER_WARM);
	assert_int_equal(rvm_tier_advise(&p, 100, RVM_BP_ONE), RVM_TIER_DORMANT);
	assert_int_equal(rvm_tier_advise(&p, 999, RVM_BP_ONE), RVM_TIER_DORMANT);
	assert_int_equal(rvm_tier_advise(&p, 1000, RVM_BP_ONE), RVM_TIER_COLD);
	/* No coherence: thresholds at 10%: 1, 10, 100. */
	assert_int_equal(rvm_tier_advise(&p, 1, 0), RVM_TIER_WARM);
	assert_int_equal(rvm_tier_advise(&p, 10, 0), RVM_TIER_DORMANT);
	assert_int_equal(rvm_tier_advise(&p, 100, 0), RVM_TIER_COLD);
	/* Half coherence: 55%. */
	assert_int_equal(rvm_tier_advise(&p, 54, 5000), RVM_TIER_WARM);
	assert_int_equal(rvm_tier_advise(&p, 55, 5000), RVM_TIER_DORMANT);
	assert_int_equal(rvm_tier_advise(&p, 20, 20000), RVM_TIER_WARM); /* clamped to 1.0 */

	setup(sizeof(store_buf));
	assert_int_equal(rvm_region_create(&space, 0, 1, 8192, RVM_REGION_DATA, true, 0, &here),
			 RVM_OK);
	assert_int_equal(rvm_region_create(&space, 0, 9, 8192, RVM_REGION_DATA, true, 0, &gone),
			 RVM_OK);
	assert_int_equal(rvm_region_create(&space, 0, 1, 8192, RVM_REGION_DATA, true, 0, &mapped),
			 RVM_OK);
	assert_int_equal(rvm_region_map(&space, 1, mapped, 1, true), RVM_OK);
	fill((uint8_t *)(uintptr_t)rvm_region_get(&space, gone)->base, 8192, 4);
	/* Epoch 50: the departed partition's memory cools in steps, one per sweep. */
	rvm_tier_sweep(&space, &p, 50, coherence_of, NULL, &st);
	assert_int_equal(rvm_region_get(&space, here)->tier, RVM_TIER_WARM);
	assert_int_equal(rvm_region_get(&space, gone)->tier, RVM_TIER_WARM);
	assert_int_equal(st.moved, 3);
	rvm_tier_sweep(&space, &p, 50, coherence_of, NULL, &st);
	assert_int_equal(rvm_region_get(&space, gone)->tier, RVM_TIER_DORMANT);
	assert_int_equal(rvm_region_get(&space, here)->tier, RVM_TIER_WARM);
	assert_int_equal(st.moved, 1);
	/* Epoch 200: the rest would go dormant; the mapped one cannot. */
	assert_int_equal(rvm_region_touch(&space, here, 195), RVM_OK);
	rvm_tier_sweep(&space, &p, 200, coherence_of, NULL, &st);
	assert_int_equal(rvm_region_get(&space, here)->tier, RVM_TIER_WARM);
	assert_int_equal(rvm_region_get(&space, gone)->tier, RVM_TIER_COLD);
	assert_int_equal(rvm_region_get(&space, mapped)->tier, RVM_TIER_WARM);
	assert_int_equal(st.busy, 1);
	assert_int_equal(st.failed, 0);
	/* Touching does not warm by itself; waking is on demand. */
	assert_int_equal(rvm_region_touch(&space, gone, 201), RVM_OK);
	assert_int_equal(rvm_region_set_tier(&space, 9, gone, RVM_TIER_HOT), RVM_OK);
	assert_int_equal(rvm_region_check_invariants(&space), RVM_OK);
	assert_int_equal(rvm_region_touch(&space, 12345, 1), RVM_E_NOTFOUND);
}

/*
 * Random operations by five partitions: every refusal must leave the
 * invariants intact (checked every 200 operations), and the per-frame record
 * must never show a writable frame shared with anyone.
 */
static void test_random_operations(void **state)
{
	static rvm_region_id ids[64];
	uint64_t rs = 99, ok = 0, refused = 0;
	int nids = 0;
	static unsigned hist[RVM_ERR_COUNT];

	(void)state;
	setup(256 * 1024);
	for (int op = 0; op < 20000; op++) {
		uint32_t caller = (uint32_t)(rvm_test_rand(&rs) % 6);
		uint32_t p = (uint32_t)(1 + rvm_test_rand(&rs) % 5);
		rvm_region_id id = nids ? ids[rvm_test_rand(&rs) % (uint64_t)nids] : 0;
		const struct rvm_region *r = rvm_region_get(&space, id);
		enum rvm_err err;

		/* Half the time the owner acts, so most kinds of operation also succeed. */
		if (r && (rvm_test_rand(&rs) & 1))
			caller = r->owner;

		switch (rvm_test_rand(&rs) % 8) {
		case 0:
			if (rvm_test_rand(&rs) & 1)
				caller = p;
			err = rvm_region_create(&space, caller, p, 4096ull << (rvm_test_rand(&rs) % 5),
						RVM_REGION_DATA, rvm_test_rand(&rs) & 1, (uint64_t)op,
						&id);
			if (err == RVM_OK) {
				if (nids < 64)
					ids[nids++] = id;
				else
					ids[rvm_test_rand(&rs) % 64] = id;
				fill(rvm_phys_ptr(rvm_region_get(&space, id)->base), 4096,
				     (uint64_t)op);
			}
			break;
		case 1:
			err = rvm_region_destroy(&space, caller, id);
			/* Keep a few stale ids around, drop most. */
			if (err == RVM_OK && (rvm_test_rand(&rs) & 3))
				for (int k = 0; k < nids; k++)
					if (ids[k] == id) {
						ids[k] = ids[--nids];
						break;
					}
			break;
		case 2:
		case 3:
			err = rvm_region_map(&space, caller, id, p, rvm_test_rand(&rs) & 1);
			break;
		case 4:
			err = rvm_region_unmap(&space, caller, id, p);
			break;
		case 5:
			err = rvm_region_transfer(&space, caller, id, p);
			break;
		default:
			err = rvm_region_set_tier(&space, caller, id,
						  (enum rvm_tier)(rvm_test_rand(&rs) % 4));
			break;
		}
		if (err == RVM_OK)
			ok++;
		else
			refused++;
		hist[err < RVM_ERR_COUNT ? err : 0]++;
		if (op % 200 == 0)
			assert_int_equal(rvm_region_check_invariants(&space), RVM_OK);
	}
	assert_int_equal(rvm_region_check_invariants(&space), RVM_OK);
	for (uint32_t g = 0; g < NFRAMES; g++)
		assert_false(rframes[g].writer && rframes[g].readers);
	print_message("region: 20000 random operations, %llu applied, %llu refused:",
		      (unsigned long long)ok, (unsigned long long)refused);
	for (int e = 1; e < RVM_ERR_COUNT; e++)
		if (hist[e])
			print_message(" %s %u", rvm_err_name((enum rvm_err)e), hist[e]);
	print_message("\n");
	assert_true(ok > 4000 && refused > 4000);
}

static void test_bad_arguments(void **state)
{
	rvm_region_id id;

	(void)state;
	setup(sizeof(store_buf));
	assert_int_equal(rvm_region_space_init(&space, &buddy, rframes, NFRAMES - 1, &store, &wlog,
					       &plat),
			 RVM_E_INVAL);
	assert_int_equal(rvm_region_space_init(&space, &buddy, rframes, NFRAMES, &store, NULL, &plat),
			 RVM_E_INVAL);
	assert_int_equal(rvm_region_space_init(&space, &buddy, rframes, NFRAMES, &store, &wlog, &plat),
			 RVM_OK);
	assert_int_equal(rvm_region_create(NULL, 0, 1, 4096, RVM_REGION_DATA, true, 0, &id),
			 RVM_E_INVAL);
	assert_int_equal(rvm_region_create(&space, 0, 1, 4096, RVM_REGION_DATA, true, 0, NULL),
			 RVM_E_INVAL);
	assert_int_equal(rvm_region_create(&space, 0, RVM_MAX_PARTITIONS, 4096, RVM_REGION_DATA, true,
					   0, &id),
			 RVM_E_RANGE);
	assert_int_equal(rvm_region_create(&space, 0, 1, 4096, (enum rvm_region_type)9, true, 0, &id),
			 RVM_E_RANGE);
	assert_int_equal(rvm_region_create(&space, 0, 1, 4096, RVM_REGION_DATA, true, 0, &id), RVM_OK);
	assert_int_equal(rvm_region_map(&space, 1, id, RVM_MAX_PARTITIONS, false), RVM_E_RANGE);
	assert_int_equal(rvm_region_transfer(&space, 1, id, RVM_MAX_PARTITIONS), RVM_E_RANGE);
	assert_int_equal(rvm_region_set_tier(&space, 1, id, (enum rvm_tier)4), RVM_E_INVAL);
	assert_denied(RVM_ACT_REGION_TIER, RVM_E_INVAL, 1, id);
	assert_int_equal(rvm_region_map(&space, 1, (uint64_t)1 << 32 | RVM_REGION_SLOTS, 1, false),
			 RVM_E_NOTFOUND);
	assert_null(rvm_region_get(&space, id + 1));
	/* Without a checkpoint store, COLD is unsupported. */
	plat.checkpoint_put = NULL;
	assert_int_equal(rvm_region_set_tier(&space, 1, id, RVM_TIER_COLD), RVM_E_UNSUPPORTED);
	assert_int_equal(rvm_region_get(&space, id)->tier, RVM_TIER_DORMANT);
	assert_int_equal(rvm_region_check_invariants(&space), RVM_OK);
	/* The checker notices a frame claimed by nobody but mapped. */
	rframes[NFRAMES - 1].readers = 1;
	assert_int_equal(rvm_region_check_invariants(&space), RVM_E_CORRUPT);
	rframes[NFRAMES - 1].readers = 0;
}

/* Cold through the real hosted checkpoint store (files in a run directory), not the test's. */
static void test_cold_on_hosted_platform(void **state)
{
	static uint8_t copy[16384];
	char tmpl[] = "/tmp/rvm-region-XXXXXX", path[128];
	char *dir = mkdtemp(tmpl);
	struct rvm_hosted h;
	struct rvm_platform p;
	const struct rvm_region *r;
	rvm_region_id id;
	FILE *f;

	(void)state;
	assert_non_null(dir);
	setup(sizeof(store_buf));
	assert_int_equal(rvm_hosted_open(&h, dir, RVM_HOSTED_TRUNCATE | RVM_HOSTED_QUIET, &p), RVM_OK);
	space.plat = &p;
	assert_int_equal(rvm_region_create(&space, 0, 2, sizeof(copy), RVM_REGION_DATA, true, 1, &id),
			 RVM_OK);
	r = rvm_region_get(&space, id);
	fill(mem(r), sizeof(copy), 21);
	memcpy(copy, mem(r), sizeof(copy));
	assert_int_equal(rvm_region_set_tier(&space, 2, id, RVM_TIER_COLD), RVM_OK);
	snprintf(path, sizeof(path), "%s/checkpoints/%016llx.ckpt", dir,
		 (unsigned long long)RVM_REGION_COLD_ID(id));
	f = fopen(path, "r+b");
	assert_non_null(f);
	/* Damage the file: the way back is refused. */
	{
		int c;

		assert_int_equal(fseek(f, 40, SEEK_SET), 0);
		c = fgetc(f);
		assert_true(c != EOF);
		assert_int_equal(fseek(f, 40, SEEK_SET), 0);
		assert_int_equal(fputc(c ^ 0xFF, f), c ^ 0xFF);
		fflush(f);
	}
	assert_int_equal(rvm_region_set_tier(&space, 2, id, RVM_TIER_HOT), RVM_E_CORRUPT);
	assert_int_equal(r->tier, RVM_TIER_COLD);
	/* A missing object is the store's error, passed on. */
	fclose(f);
	assert_int_equal(remove(path), 0);
	assert_int_equal(rvm_region_set_tier(&space, 2, id, RVM_TIER_HOT), RVM_E_NOTFOUND);
	assert_int_equal(r->tier, RVM_TIER_COLD);
	assert_int_equal(rvm_region_check_invariants(&space), RVM_OK);
	/* A fresh region makes the full trip through the files. */
	assert_int_equal(rvm_region_create(&space, 0, 3, sizeof(copy), RVM_REGION_DATA, true, 1, &id),
			 RVM_OK);
	r = rvm_region_get(&space, id);
	fill(mem(r), sizeof(copy), 22);
	memcpy(copy, mem(r), sizeof(copy));
	assert_int_equal(rvm_region_set_tier(&space, 3, id, RVM_TIER_COLD), RVM_OK);
	assert_int_equal(rvm_region_set_tier(&space, 3, id, RVM_TIER_WARM), RVM_OK);
	assert_memory_equal(mem(r), copy, sizeof(copy));
	assert_int_equal(rvm_region_check_invariants(&space), RVM_OK);
	rvm_hosted_close(&h);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_map_transfer), cmocka_unit_test(test_tier_round_trip),
		cmocka_unit_test(test_tier_corruption),     cmocka_unit_test(test_exhaustion),
		cmocka_unit_test(test_policy),              cmocka_unit_test(test_random_operations),
		cmocka_unit_test(test_bad_arguments),       cmocka_unit_test(test_cold_on_hosted_platform),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	rvm_memplat_free(&mp);
	return rc;
}

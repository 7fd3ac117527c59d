/* bench/rows_tier.c - a 64 KiB region's tier moves: to Dormant (SHA-256 + LZ4) and back (decode +
 * verify), no peer; and how long a move to Cold holds its caller, the image written through the
 * hosted store (write, fsync, rename, fsync the directory) inside the move. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hosted.h>
#include <hosted_world.h>
#include <rvm/region.h>

#include "bench.h"

#define ARENA	(4u << 20)
#define NFRAMES (ARENA / 4096)
#define REGION	(64u * 1024u)
#define ROUNDS	31

/* A region space on the hosted platform with one 64 KiB text region (large: heap only). */
struct tier_ctx {
	struct rvm_hosted hosted;
	struct rvm_platform plat;
	struct rvm_witness_log wlog;
	struct rvm_buddy buddy;
	struct rvm_buddy_frame bframes[NFRAMES];
	struct rvm_region_frame rframes[NFRAMES];
	struct rvm_region_store store;
	struct rvm_region_space space;
	uint8_t store_buf[1u << 20];
	uint8_t image[REGION + REGION / 8];
	uint8_t *arena;
	rvm_region_id id;
	char dir[64]; /* the run directory ("": none) */
};

/* The space and its region, Hot; with a run directory (a checkpoint store) when store is set. */
static struct tier_ctx *tier_new(bool store)
{
	struct rvm_witness_config cfg = {.chain = RVM_CHAIN_SHA256, .boot_nonce = {1}};
	static const char text[] =
		"{\"agent\":3,\"seq\":1200,\"state\":\"plan\",\"tokens\":[5,8,13]}\n";
	struct tier_ctx *c = calloc(1, sizeof(*c));
	struct rvm_phys_range r;
	uint8_t *p;

	if (!c || !(c->arena = aligned_alloc(ARENA, ARENA)))
		abort();
	if (store) {
		snprintf(c->dir, sizeof(c->dir), "/tmp/rvm-bench-cold.XXXXXX");
		if (!mkdtemp(c->dir))
			abort();
	}
	if (rvm_hosted_open(&c->hosted, store ? c->dir : NULL,
			    RVM_HOSTED_QUIET | (store ? RVM_HOSTED_TRUNCATE : 0), &c->plat) ||
	    rvm_witness_init(&c->wlog, &c->plat, &cfg) != RVM_OK)
		abort();
	r.base = (uint64_t)(uintptr_t)c->arena;
	r.size = ARENA;
	if (rvm_buddy_init(&c->buddy, c->bframes, NFRAMES, &r, 1) != RVM_OK)
		abort();
	rvm_region_store_init(&c->store, c->store_buf, sizeof(c->store_buf));
	if (rvm_region_space_init(&c->space, &c->buddy, c->rframes, NFRAMES, &c->store, &c->wlog,
				  &c->plat) != RVM_OK ||
	    rvm_region_create(&c->space, 0, 1, REGION, RVM_REGION_DATA, true, 0, &c->id) != RVM_OK)
		abort();
	p = rvm_phys_ptr(rvm_region_get(&c->space, c->id)->base);
	for (unsigned i = 0; i < REGION; i++)
		p[i] = (uint8_t)text[(i * 7 + i / 61) % (sizeof(text) - 1)];
	return c;
}

static void tier_free(struct tier_ctx *c)
{
	rvm_hosted_close(&c->hosted);
	rvm_hosted_world_remove_dir(c->dir);
	free(c->arena);
	free(c);
}

static void cycle(void *ctx, uint64_t iters)
{
	struct tier_ctx *c = ctx;

	for (uint64_t i = 0; i < iters; i++) {
		if (rvm_region_set_tier(&c->space, 0, c->id, RVM_TIER_DORMANT) != RVM_OK ||
		    rvm_region_set_tier(&c->space, 0, c->id, RVM_TIER_HOT) != RVM_OK)
			abort();
	}
}

static void run_tier(struct rvm_bench_result *out)
{
	struct tier_ctx *c = tier_new(false);

	out->ours_ns = rvm_bench_time(cycle, c, 50, 11);
	out->peer_ns = 0;
	snprintf(out->note, sizeof(out->note), "64 KiB text, dormant+wake, image %llu bytes",
		 (unsigned long long)rvm_region_get(&c->space, c->id)->store_len);
	tier_free(c);
}

RVM_BENCH_ROW(tier_dormant_wake_64k, NULL, "none (no peer)", run_tier)

/*
 * Interleaved rounds of: Dormant -> Cold (timed: what a caller holding its lock waits for, the
 * synchronous put included), back to Dormant (read back and verified, untimed), then the same
 * image bytes handed to the store's asynchronous put (timed: what the move would hold if the
 * write went off the lock), waited for untimed. Medians of each.
 */
static void run_cold(struct rvm_bench_result *out)
{
	struct tier_ctx *c = tier_new(true);
	double ours[ROUNDS], peer[ROUNDS];
	uint64_t fsync0, dir0, puts0, id;
	const struct rvm_hosted_store_stats *st = &c->hosted.store.stats;
	enum rvm_err res;
	size_t len = 0;

	if (rvm_region_set_tier(&c->space, 0, c->id, RVM_TIER_DORMANT) != RVM_OK)
		abort();
	fsync0 = st->fsync_ns, dir0 = st->dirsync_ns, puts0 = st->puts;
	for (int i = 0; i < ROUNDS; i++) {
		uint64_t t0 = rvm_bench_now_ns();

		if (rvm_region_set_tier(&c->space, 0, c->id, RVM_TIER_COLD) != RVM_OK)
			abort();
		ours[i] = (double)(rvm_bench_now_ns() - t0);
		if (c->plat.checkpoint_get(c->plat.ctx, RVM_REGION_COLD_ID(c->id), c->image,
					   sizeof(c->image), &len) != RVM_OK ||
		    len > sizeof(c->image) ||
		    rvm_region_set_tier(&c->space, 0, c->id, RVM_TIER_DORMANT) != RVM_OK)
			abort();
		t0 = rvm_bench_now_ns();
		if (c->plat.checkpoint_put_async(c->plat.ctx, 0x5aull << 56 | (uint64_t)i, c->image,
						 len) != RVM_OK)
			abort();
		peer[i] = (double)(rvm_bench_now_ns() - t0);
		if (c->plat.checkpoint_done(c->plat.ctx, true, &id, &res) != RVM_OK ||
		    res != RVM_OK)
			abort();
	}
	out->ours_ns = rvm_bench_median(ours, ROUNDS);
	out->peer_ns = rvm_bench_median(peer, ROUNDS);
	snprintf(out->note, sizeof(out->note),
		 "64 KiB, image %zu B; per put fsync %llu us + dir %llu us (means)", len,
		 (unsigned long long)((st->fsync_ns - fsync0) / 1000u / (st->puts - puts0)),
		 (unsigned long long)((st->dirsync_ns - dir0) / 1000u / (st->puts - puts0)));
	tier_free(c);
}

RVM_BENCH_ROW(tier_cold_put_64k, "hosted-put-async", "information: lock hold of a Cold move",
	      run_cold)

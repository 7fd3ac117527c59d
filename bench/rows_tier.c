/* bench/rows_tier.c - a 64 KiB region to Dormant (SHA-256 + LZ4) and back (decode + verify); no peer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hosted.h>
#include <rvm/region.h>

#include "bench.h"

#define ARENA (4u << 20)
#define NFRAMES (ARENA / 4096)
#define REGION (64u * 1024u)

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
	rvm_region_id id;
};

static struct tier_ctx *ctx;

static void setup(void)
{
	struct rvm_witness_config cfg = { .chain = RVM_CHAIN_SHA256, .boot_nonce = { 1 } };
	struct rvm_phys_range r;
	uint8_t *arena = aligned_alloc(ARENA, ARENA), *p;
	static const char text[] = "{\"agent\":3,\"seq\":1200,\"state\":\"plan\",\"tokens\":[5,8,13]}\n";

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx || !arena || rvm_hosted_open(&ctx->hosted, NULL, RVM_HOSTED_QUIET, &ctx->plat))
		abort();
	if (rvm_witness_init(&ctx->wlog, &ctx->plat, &cfg) != RVM_OK)
		abort();
	r.base = (uint64_t)(uintptr_t)arena;
	r.size = ARENA;
	if (rvm_buddy_init(&ctx->buddy, ctx->bframes, NFRAMES, &r, 1) != RVM_OK)
		abort();
	rvm_region_store_init(&ctx->store, ctx->store_buf, sizeof(ctx->store_buf));
	if (rvm_region_space_init(&ctx->space, &ctx->buddy, ctx->rframes, NFRAMES, &ctx->store,
				  &ctx->wlog, &ctx->plat) != RVM_OK ||
	    rvm_region_create(&ctx->space, 0, 1, REGION, RVM_REGION_DATA, true, 0, &ctx->id) != RVM_OK)
		abort();
	p = rvm_phys_ptr(rvm_region_get(&ctx->space, ctx->id)->base);
	for (unsigned i = 0; i < REGION; i++)
		p[i] = (uint8_t)text[(i * 7 + i / 61) % (sizeof(text) - 1)];
}

static void cycle(void *c, uint64_t iters)
{
	(void)c;
	for (uint64_t i = 0; i < iters; i++) {
		if (rvm_region_set_tier(&ctx->space, 0, ctx->id, RVM_TIER_DORMANT) != RVM_OK ||
		    rvm_region_set_tier(&ctx->space, 0, ctx->id, RVM_TIER_HOT) != RVM_OK)
			abort();
	}
}

static void run_tier(struct rvm_bench_result *out)
{
	setup();
	out->ours_ns = rvm_bench_time(cycle, NULL, 50, 11);
	out->peer_ns = 0;
	snprintf(out->note, sizeof(out->note), "64 KiB text, dormant+wake, image %llu bytes",
		 (unsigned long long)rvm_region_get(&ctx->space, ctx->id)->store_len);
}

RVM_BENCH_ROW(tier_dormant_wake_64k, NULL, "none (no peer)", run_tier)

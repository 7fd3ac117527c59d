/* fuzz/fuzz_region_image.c - libFuzzer: hostile dormant and cold region images must be refused, never overrun. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hosted.h>
#include <rvm/region.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ARENA (1u << 20)
#define NFRAMES (ARENA / 4096)

static struct rvm_hosted hosted;
static struct rvm_platform plat;
static struct rvm_witness_log wlog;
static struct rvm_buddy buddy;
static struct rvm_buddy_frame bframes[NFRAMES];
static struct rvm_region_frame rframes[NFRAMES];
static struct rvm_region_store store;
static struct rvm_region_space space;
static uint8_t store_buf[1u << 18];
static uint8_t *arena;
/* The one cold object: the fuzz input. */
static const uint8_t *cold_data;
static size_t cold_len;

static enum rvm_err put(void *ctx, uint64_t id, const void *buf, size_t n)
{
	(void)ctx;
	(void)id;
	(void)buf;
	(void)n;
	return RVM_OK;
}

static enum rvm_err get(void *ctx, uint64_t id, void *buf, size_t cap, size_t *len)
{
	(void)ctx;
	(void)id;
	memcpy(buf, cold_data, cold_len < cap ? cold_len : cap);
	*len = cold_len;
	return RVM_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rvm_witness_config cfg = { .chain = RVM_CHAIN_FNV1A, .boot_nonce = { 1 } };
	struct rvm_phys_range r;
	const struct rvm_region *reg;
	rvm_region_id id;
	unsigned order;
	enum rvm_err err;

	if (size < 1)
		return 0;
	if (!arena) {
		arena = aligned_alloc(ARENA, ARENA);
		if (!arena || rvm_hosted_open(&hosted, NULL, RVM_HOSTED_QUIET, &plat) != RVM_OK)
			abort();
		plat.checkpoint_put = put;
		plat.checkpoint_get = get;
		if (rvm_witness_init(&wlog, &plat, &cfg) != RVM_OK)
			abort();
	}
	r.base = (uint64_t)(uintptr_t)arena;
	r.size = ARENA;
	if (rvm_buddy_init(&buddy, bframes, NFRAMES, &r, 1) != RVM_OK)
		abort();
	rvm_region_store_init(&store, store_buf, sizeof(store_buf));
	if (rvm_region_space_init(&space, &buddy, rframes, NFRAMES, &store, &wlog, &plat) != RVM_OK)
		abort();
	/* First byte: region size (1..8 pages) and whether to go through Cold. */
	order = data[0] & 3;
	if (rvm_region_create(&space, 0, 1, 4096ull << order, RVM_REGION_DATA, true, 0, &id) != RVM_OK)
		abort();
	reg = rvm_region_get(&space, id);
	memset((void *)(uintptr_t)reg->base, 'a', 4096u << order);
	if (rvm_region_set_tier(&space, 0, id, RVM_TIER_DORMANT) != RVM_OK)
		abort();
	data++;
	size--;
	if (data[-1] & 4) {
		/* The checkpoint store hands back the fuzz input as the image. */
		if (rvm_region_set_tier(&space, 0, id, RVM_TIER_COLD) != RVM_OK)
			abort();
		cold_data = data;
		cold_len = size;
		err = rvm_region_set_tier(&space, 0, id, RVM_TIER_HOT);
	} else {
		/* The fuzz input overwrites the start of the image in the store. */
		const struct rvm_region_extent *e = &store.ext[0];

		memcpy(store_buf + e->off, data, size < e->len ? size : e->len);
		err = rvm_region_set_tier(&space, 0, id, RVM_TIER_HOT);
	}
	/* Accepted only if the bytes are the original ones (the digest matches). */
	if (err == RVM_OK) {
		const uint8_t *p = (const uint8_t *)(uintptr_t)reg->base;

		for (size_t i = 0; i < (4096u << order); i++)
			if (p[i] != 'a')
				abort();
	} else if (err != RVM_E_CORRUPT) {
		abort();
	}
	if (rvm_region_check_invariants(&space) != RVM_OK)
		abort();
	return 0;
}

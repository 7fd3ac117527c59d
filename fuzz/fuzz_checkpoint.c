/* fuzz/fuzz_checkpoint.c - hostile checkpoint bytes through parse and restore: an rvm_err, never a
 * crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hosted.h>
#include <rvm/checkpoint.h>

#define ARENA	(4u << 20)
#define NFRAMES (ARENA / 4096u)

/*
 * One small kernel, built once: a buddy over an arena, a region space with a
 * ring-only witness log, and a real checkpoint of partition 1 (three regions
 * in three tiers, two agents) to mutate. Caps and edges need the large gate
 * state; the parser's rules for them are reached by raw inputs.
 */
struct fz {
	struct rvm_hosted hosted;
	struct rvm_platform plat;
	struct rvm_witness_log wlog;
	struct rvm_buddy buddy;
	struct rvm_buddy_frame bframes[NFRAMES];
	struct rvm_region_frame rframes[NFRAMES];
	struct rvm_region_store store;
	struct rvm_region_space space;
	struct rvm_ckpt_ctx ck;
	uint8_t store_buf[256u << 10];
	uint8_t *tmpl;
	size_t tmpl_len;
	uint8_t *work;
	uint8_t cold[64u << 10];
	size_t cold_len;
};

static struct fz *fz;

static enum rvm_err put(void *ctx, uint64_t id, const void *buf, size_t n)
{
	(void)ctx;
	/* Keeps only cold region images (the template checkpoint lives in fz->tmpl). */
	if ((id >> 56) == 0x52 && n <= sizeof(fz->cold)) {
		memcpy(fz->cold, buf, n);
		fz->cold_len = n;
	}
	return RVM_OK;
}

static enum rvm_err get(void *ctx, uint64_t id, void *buf, size_t cap, size_t *len)
{
	(void)ctx;
	(void)id;
	memcpy(buf, fz->cold, fz->cold_len < cap ? fz->cold_len : cap);
	*len = fz->cold_len;
	return RVM_OK;
}

static void make(uint32_t owner, uint64_t size, enum rvm_tier tier, uint8_t fill)
{
	rvm_region_id id;
	uint8_t page[4096];

	memset(page, fill, sizeof(page));
	for (size_t i = 0; i < sizeof(page); i += 7)
		page[i] = (uint8_t)(i * fill);
	if (rvm_region_create(&fz->space, 0, owner, size, RVM_REGION_DATA, true, 0, &id) !=
		    RVM_OK ||
	    rvm_region_write(&fz->space, owner, 1, id, 0, page, sizeof(page), NULL) != RVM_OK ||
	    rvm_region_set_tier(&fz->space, 0, id, tier) != RVM_OK)
		abort();
}

static void setup(void)
{
	struct rvm_witness_config cfg = {.chain = RVM_CHAIN_SHA256, .boot_nonce = {7}};
	struct rvm_phys_range r;
	static const uint8_t snap[] = "agent snapshot bytes";
	struct rvm_ckpt_agent agents[2] = {{1, snap, sizeof(snap)}, {2, NULL, 0}};
	struct rvm_ckpt_info info;
	uint8_t *arena = aligned_alloc(ARENA, ARENA);
	size_t bound = 0;

	fz = calloc(1, sizeof(*fz));
	if (!fz || !arena || rvm_hosted_open(&fz->hosted, NULL, RVM_HOSTED_QUIET, &fz->plat))
		abort();
	fz->plat.checkpoint_put = put;
	fz->plat.checkpoint_get = get;
	if (rvm_witness_init(&fz->wlog, &fz->plat, &cfg) != RVM_OK)
		abort();
	r.base = (uint64_t)(uintptr_t)arena;
	r.size = ARENA;
	if (rvm_buddy_init(&fz->buddy, fz->bframes, NFRAMES, &r, 1) != RVM_OK)
		abort();
	rvm_region_store_init(&fz->store, fz->store_buf, sizeof(fz->store_buf));
	if (rvm_region_space_init(&fz->space, &fz->buddy, fz->rframes, NFRAMES, &fz->store,
				  &fz->wlog, &fz->plat) != RVM_OK)
		abort();
	fz->ck.regions = &fz->space;
	make(1, 8192, RVM_TIER_HOT, 3);
	make(1, 4096, RVM_TIER_DORMANT, 5);
	make(1, 16384, RVM_TIER_COLD, 9);
	make(2, 4096, RVM_TIER_HOT, 11);
	if (rvm_checkpoint_bound(&fz->ck, 1, agents, 2, &bound) != RVM_OK)
		abort();
	fz->tmpl = malloc(bound);
	fz->work = malloc(bound + (1u << 16));
	if (!fz->tmpl || !fz->work ||
	    rvm_checkpoint_take(&fz->ck, 1, agents, 2, fz->tmpl, bound, &info) != RVM_OK)
		abort();
	fz->tmpl_len = info.len;
}

/* Restores what parsed, then checks that every invariant of the region space still holds. */
static void try_restore(const uint8_t *buf, size_t len)
{
	struct rvm_ckpt_view v;

	if (rvm_checkpoint_parse(buf, len, NULL, &v) != RVM_OK)
		return;
	(void)rvm_checkpoint_restore(&fz->ck, &v, v.partition, NULL);
	if (rvm_region_check_invariants(&fz->space) != RVM_OK)
		abort();
}

/* Rewrites the trailer over everything before it. */
static void reseal_trailer(uint8_t *buf, size_t len)
{
	rvm_sha256(NULL, buf, len - RVM_CKPT_TRAILER_SIZE, buf + len - RVM_CKPT_TRAILER_SIZE);
}

/*
 * Recomputes every region entry's seal (version 2: SHA-256 of its first 64
 * bytes, then its image) and the trailer, so that edited images reach the
 * LZ4 decoder in restore instead of stopping at the seal check.
 */
static void reseal_regions(uint8_t *buf, size_t len)
{
	struct rvm_ckpt_view v;
	struct rvm_ckpt_region re;
	uint32_t pos = 0;
	size_t off = 0;

	if (rvm_checkpoint_parse(buf, len, NULL, &v) != RVM_OK || v.version < 2)
		return;
	while (rvm_ckpt_next_region(&v, &pos, &off, &re) == RVM_OK) {
		uint8_t *e = buf + (re.image - buf) - RVM_CKPT_REGION_ENTRY;
		struct rvm_sha256 h;

		rvm_sha256_init(&h, NULL);
		rvm_sha256_update(&h, e, RVM_CKPT_REGION_ENTRY_V1);
		rvm_sha256_update(&h, re.image, re.image_len);
		rvm_sha256_final(&h, e + RVM_CKPT_REGION_ENTRY_V1);
	}
	reseal_trailer(buf, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len;

	if (!fz)
		setup();
	if (size == 0)
		return 0;
	if (data[0] & 1) {
		/* Raw bytes, sealed with a valid trailer so the structure checks are reached. */
		len = size - 1;
		if (len > fz->tmpl_len + (1u << 16))
			len = fz->tmpl_len + (1u << 16);
		memcpy(fz->work, data + 1, len);
		if (len >= RVM_CKPT_HEADER_SIZE + RVM_CKPT_TRAILER_SIZE && (data[0] & 2))
			rvm_sha256(NULL, fz->work, len - RVM_CKPT_TRAILER_SIZE,
				   fz->work + len - RVM_CKPT_TRAILER_SIZE);
	} else {
		/* The real checkpoint with (offset, byte) edits, resealed (its regions too, half
		 * the time). */
		len = fz->tmpl_len;
		memcpy(fz->work, fz->tmpl, len);
		for (size_t i = 1; i + 3 <= size; i += 3) {
			size_t off = ((size_t)data[i] << 8 | data[i + 1]) % len;

			fz->work[off] = data[i + 2];
		}
		reseal_trailer(fz->work, len);
		if (data[0] & 2)
			reseal_regions(fz->work, len);
	}
	try_restore(fz->work, len);
	return 0;
}

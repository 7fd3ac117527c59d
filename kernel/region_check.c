/* kernel/region_check.c - rvm_region_check_invariants: every rule of rvm/region.h, checked the slow way. */
#include <rvm/region.h>

#include "region_priv.h"

static bool store_ok(const struct rvm_region_space *s)
{
	const struct rvm_region_store *st = s->store;

	if (st->n > RVM_REGION_SLOTS)
		return false;
	for (uint32_t i = 0; i < st->n; i++) {
		const struct rvm_region_extent *e = &st->ext[i];
		const struct rvm_region *r;

		if (e->off > st->cap || e->len > st->cap - e->off || e->slot >= RVM_REGION_SLOTS)
			return false;
		if (i > 0 && st->ext[i - 1].off + st->ext[i - 1].len > e->off)
			return false;
		r = &s->slots[e->slot];
		if (!r->used || r->tier != RVM_TIER_DORMANT || r->store_len != e->len)
			return false;
	}
	return true;
}

/* A resident region: its block, its frames, its mappings. */
static bool resident_ok(const struct rvm_region_space *s, uint32_t slot)
{
	const struct rvm_region *r = &s->slots[slot];
	uint32_t writer = 0, g;
	uint16_t readers = 0;
	unsigned order;

	if (r->base == 0 || rvm_buddy_block_order(s->buddy, r->base, &order) != RVM_OK ||
	    order != r->order || rvm_buddy_frame_index(s->buddy, r->base, &g) != RVM_OK)
		return false;
	for (unsigned i = 0; i < RVM_REGION_MAX_MAPS; i++) {
		if (!r->maps[i].used)
			continue;
		if (r->maps[i].writable) {
			if (writer || r->maps[i].partition != r->owner || !r->writable)
				return false;
			writer = r->maps[i].partition + 1;
		} else {
			readers++;
		}
	}
	/* Writable excludes every other mapping. */
	if (writer && readers)
		return false;
	for (uint32_t f = 0; f < (1u << r->order); f++) {
		const struct rvm_region_frame *fr = &s->frames[g + f];

		if (fr->region != slot + 1 || fr->writer != writer || fr->readers != readers)
			return false;
	}
	return true;
}

enum rvm_err rvm_region_check_invariants(const struct rvm_region_space *s)
{
	uint64_t claimed = 0, resident_frames = 0;
	uint32_t dormant = 0;

	if (rvm_buddy_check_invariants(s->buddy) != RVM_OK || !store_ok(s))
		return RVM_E_CORRUPT;
	for (uint32_t i = 0; i < RVM_REGION_SLOTS; i++) {
		const struct rvm_region *r = &s->slots[i];
		unsigned nmaps = 0;

		if (!r->used)
			continue;
		if (r->generation == 0 || r->order > RVM_BUDDY_MAX_ORDER || r->tier >= RVM_TIER_COUNT)
			return RVM_E_CORRUPT;
		for (unsigned m = 0; m < RVM_REGION_MAX_MAPS; m++) {
			nmaps += r->maps[m].used;
			for (unsigned n = 0; n < m; n++)
				if (r->maps[m].used && r->maps[n].used &&
				    r->maps[m].partition == r->maps[n].partition)
					return RVM_E_CORRUPT;
		}
		if (nmaps != r->nmaps)
			return RVM_E_CORRUPT;
		if (r->tier <= RVM_TIER_WARM) {
			if (!resident_ok(s, i))
				return RVM_E_CORRUPT;
			resident_frames += 1ull << r->order;
		} else {
			if (r->base != 0 || r->nmaps != 0)
				return RVM_E_CORRUPT;
			if ((r->tier == RVM_TIER_DORMANT) != (region_store_find(s->store, i) != NULL))
				return RVM_E_CORRUPT;
			dormant += r->tier == RVM_TIER_DORMANT;
		}
	}
	if (dormant != s->store->n)
		return RVM_E_CORRUPT;
	/* Frames outside every region are unmapped; no frame is claimed twice. */
	for (uint32_t g = 0; g < s->buddy->nframes; g++) {
		const struct rvm_region_frame *fr = &s->frames[g];

		if (fr->region == 0 && (fr->writer || fr->readers))
			return RVM_E_CORRUPT;
		claimed += fr->region != 0;
	}
	return claimed == resident_frames ? RVM_OK : RVM_E_CORRUPT;
}

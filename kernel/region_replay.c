/* kernel/region_replay.c - what replay needs from regions: recreate under a logged id, drop
 * mappings. */
#include <rvm/bytes.h>
#include <rvm/region.h>

#include "region_priv.h"

static enum rvm_err create_at_check(struct rvm_region_space *s, struct region_op *op)
{
	uint64_t pages;
	unsigned order = 0;

	op->slot = (uint32_t)op->id;
	op->gen = (uint32_t)(op->id >> 32);
	if (op->slot >= RVM_REGION_SLOTS || op->gen == 0 || op->to >= RVM_MAX_PARTITIONS ||
	    op->type >= RVM_REGION_TYPE_COUNT)
		return RVM_E_RANGE;
	if (s->slots[op->slot].used)
		return RVM_E_EXISTS;
	if (!region_gate_room(s, op->to, 1))
		return RVM_E_NOMEM;
	if (op->size == 0 || op->size > (uint64_t)RVM_REGION_MAX_PAGES * RVM_FRAME_SIZE)
		return RVM_E_RANGE;
	pages = (op->size + RVM_FRAME_SIZE - 1) >> RVM_FRAME_SHIFT;
	while ((1ull << order) < pages)
		order++;
	op->order = order;
	return rvm_buddy_peek(s->buddy, order, &op->addr);
}

enum rvm_err region_create_at(struct rvm_region_space *s, uint32_t caller, rvm_region_id id,
			      uint32_t owner, uint64_t size, uint32_t type, bool writable)
{
	struct region_op op = {.action = RVM_ACT_REGION_CREATE,
			       .caller = caller,
			       .id = id,
			       .to = owner,
			       .size = size,
			       .type = type,
			       .writable = writable};

	return region_run(s, &op, create_at_check, region_create_apply);
}

void region_unmap_all(struct rvm_region_space *s, uint32_t slot)
{
	struct rvm_region *r = &s->slots[slot];
	uint32_t g;

	if (!r->nmaps || !r->base)
		return;
	g = region_first_frame(s, r);
	for (uint32_t f = 0; f < (1u << r->order); f++) {
		s->frames[g + f].writer = 0;
		s->frames[g + f].readers = 0;
	}
	rvm_memset(r->maps, 0, sizeof(r->maps));
	r->nmaps = 0;
}

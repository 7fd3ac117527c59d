/* kernel/buddy_check.c - buddy allocator statistics and its invariant checker. */
#include <rvm/buddy.h>

#include "buddy_priv.h"

void rvm_buddy_stats(const struct rvm_buddy *b, struct rvm_buddy_stats *out)
{
	out->total_frames = b->total_frames;
	out->free_frames = b->free_frames;
	out->used_blocks = b->used_blocks;
	for (unsigned k = 0; k < RVM_BUDDY_ORDERS; k++)
		out->free_blocks[k] = buddy_list_count(b, k);
}

/* A frame as an allocator writing every block would have it: deferred blocks are free heads. */
struct frame_view {
	unsigned state;
	unsigned order;
};

static struct frame_view frame_view(const struct rvm_buddy *b, uint32_t g)
{
	int k = buddy_deferred_order(b, g);

	if (k >= 0)
		return (struct frame_view){ RVM_FRAME_FREE_HEAD, (unsigned)k };
	return (struct frame_view){ b->frames[g].state, b->frames[g].order };
}

/*
 * Checks free list k: the linked part's links, states, orders and length; the
 * deferred block's frame (in range, reading TAIL); the linked and deferred bits.
 */
static bool list_ok(const struct rvm_buddy *b, unsigned k)
{
	uint32_t g = b->free_head[k], prev = RVM_BUDDY_NIL, n = 0, d = buddy_deferred(b, k);

	if (d != RVM_BUDDY_NIL && (d >= b->nframes || b->frames[d].state != RVM_FRAME_TAIL))
		return false;
	if (((b->chain_mask >> k) & 1u) && b->deferred[k] != RVM_BUDDY_NIL)
		return false;
	if (((b->linked >> k) & 1u) != (g != RVM_BUDDY_NIL) ||
	    ((b->deferred_mask >> k) & 1u) != (d != RVM_BUDDY_NIL))
		return false;
	while (g != RVM_BUDDY_NIL) {
		const struct rvm_buddy_frame *f;

		if (g >= b->nframes || n > b->free_count[k])
			return false;
		f = &b->frames[g];
		if (f->state != RVM_FRAME_FREE_HEAD || f->order != k || f->prev != prev)
			return false;
		prev = g;
		g = f->next;
		n++;
	}
	return n == b->free_count[k];
}

/*
 * The recorded split is well formed: chain_base heads a block no larger than
 * its lowest half, and the split block lay inside one range. (The tiling walk
 * then checks the halves against their neighbours.)
 */
static bool chain_ok(const struct rvm_buddy *b)
{
	const struct rvm_buddy_frame *f;
	const struct rvm_buddy_range *r;
	unsigned hi;

	if (!buddy_chain_active(b))
		return b->chain_base == 0;
	if ((b->chain_mask >> RVM_BUDDY_MAX_ORDER) != 0 || b->chain_base >= b->nframes)
		return false;
	hi = 32u - (unsigned)__builtin_clz(b->chain_mask); /* the split block's order */
	f = &b->frames[b->chain_base];
	if (f->state == RVM_FRAME_TAIL || f->order > (unsigned)__builtin_ctz(b->chain_mask) ||
	    f->range >= b->nranges)
		return false;
	r = &b->ranges[f->range];
	return b->chain_base - r->first + (1ull << hi) <= r->npages &&
	       ((r->base_pfn + (b->chain_base - r->first)) & ((1ull << hi) - 1)) == 0;
}

/* Walks range i's tiling block by block; adds up free frames, free blocks and used blocks. */
static bool range_ok(const struct rvm_buddy *b, uint32_t i, uint64_t *free_frames, uint64_t *used,
		     uint32_t free_blocks[RVM_BUDDY_ORDERS])
{
	const struct rvm_buddy_range *r = &b->ranges[i];
	uint64_t end = r->base_pfn + r->npages;

	for (uint64_t pfn = r->base_pfn; pfn < end;) {
		uint32_t g = r->first + (uint32_t)(pfn - r->base_pfn);
		struct frame_view f = frame_view(b, g);
		uint64_t size = 1ull << f.order;

		if (f.state == RVM_FRAME_TAIL || f.order > RVM_BUDDY_MAX_ORDER ||
		    (pfn & (size - 1)) != 0 || pfn + size > end || b->frames[g].range != i)
			return false;
		for (uint64_t t = 1; t < size; t++)
			if (frame_view(b, g + (uint32_t)t).state != RVM_FRAME_TAIL ||
			    b->frames[g + t].range != i)
				return false;
		if (f.state == RVM_FRAME_FREE_HEAD) {
			uint64_t bpfn = pfn ^ size;

			*free_frames += size;
			free_blocks[f.order]++;
			/* Eager coalescing: a free buddy of the same order must not exist. */
			if (f.order < RVM_BUDDY_MAX_ORDER && bpfn >= r->base_pfn &&
			    bpfn + size <= end) {
				struct frame_view bf =
					frame_view(b, r->first + (uint32_t)(bpfn - r->base_pfn));

				if (bf.state == RVM_FRAME_FREE_HEAD && bf.order == f.order)
					return false;
			}
		} else if (f.state == RVM_FRAME_USED_HEAD) {
			(*used)++;
		} else {
			return false;
		}
		pfn += size;
	}
	return true;
}

enum rvm_err rvm_buddy_check_invariants(const struct rvm_buddy *b)
{
	uint64_t free_frames = 0, used = 0;
	uint32_t free_blocks[RVM_BUDDY_ORDERS] = { 0 };

	if (!chain_ok(b) || ((b->linked | b->deferred_mask) >> RVM_BUDDY_ORDERS) != 0)
		return RVM_E_CORRUPT;
	for (unsigned k = 0; k < RVM_BUDDY_ORDERS; k++)
		if (!list_ok(b, k))
			return RVM_E_CORRUPT;
	for (uint32_t i = 0; i < b->nranges; i++)
		if (!range_ok(b, i, &free_frames, &used, free_blocks))
			return RVM_E_CORRUPT;
	for (unsigned k = 0; k < RVM_BUDDY_ORDERS; k++)
		if (free_blocks[k] != buddy_list_count(b, k))
			return RVM_E_CORRUPT;
	if (free_frames != b->free_frames || used != b->used_blocks)
		return RVM_E_CORRUPT;
	return RVM_OK;
}

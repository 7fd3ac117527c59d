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

/* A frame as an eager allocator would have written it: deferred halves are free heads. */
struct frame_view {
	unsigned state;
	unsigned order;
};

static struct frame_view frame_view(const struct rvm_buddy *b, uint32_t g)
{
	int piece = buddy_chain_piece(b, g);

	if (piece >= 0)
		return (struct frame_view){ RVM_FRAME_FREE_HEAD, (unsigned)piece };
	return (struct frame_view){ b->frames[g].state, b->frames[g].order };
}

/*
 * Checks one free list as kept in the arrays: links, states, orders, length,
 * and the nonempty bit. A list the deferred split covers is empty there.
 */
static bool list_ok(const struct rvm_buddy *b, unsigned k)
{
	uint32_t g = b->free_head[k], prev = RVM_BUDDY_NIL, n = 0;
	bool chained = (buddy_chain_orders(b) >> k) & 1u;

	if (chained && g != RVM_BUDDY_NIL)
		return false;
	if (((b->nonempty >> k) & 1u) != (chained || g != RVM_BUDDY_NIL))
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

/* The deferred split is well formed: its block is allocated, its halves lie inside the range. */
static bool chain_ok(const struct rvm_buddy *b)
{
	const struct rvm_buddy_frame *f;
	const struct rvm_buddy_range *r;

	if (!buddy_chain_active(b))
		return b->chain_base == 0 && b->chain_lo == 0 && b->chain_hi == 0;
	if (b->chain_hi > RVM_BUDDY_MAX_ORDER || b->chain_base >= b->nframes)
		return false;
	f = &b->frames[b->chain_base];
	if (f->state != RVM_FRAME_USED_HEAD || f->order != b->chain_lo || f->range >= b->nranges)
		return false;
	r = &b->ranges[f->range];
	/* The split block (chain_base of order chain_hi) must have been one block of the range. */
	return b->chain_base - r->first + (1ull << b->chain_hi) <= r->npages &&
	       ((r->base_pfn + (b->chain_base - r->first)) & ((1ull << b->chain_hi) - 1)) == 0;
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

	if (!chain_ok(b) || (b->nonempty >> RVM_BUDDY_ORDERS) != 0)
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

/* kernel/buddy_priv.h - helpers the buddy allocator and its checker share: the deferred split. */
#ifndef RVM_BUDDY_PRIV_H
#define RVM_BUDDY_PRIV_H

#include <rvm/buddy.h>

/*
 * The deferred split (struct rvm_buddy, chain_*). An allocation that splits a
 * free block g of order hi down to order lo makes the upper halves
 * g + 2^j (lo <= j < hi) free blocks of order j. Those lists were empty (hi
 * is the smallest non-empty order >= lo), so each half is alone in its list.
 * Instead of writing the halves' frames and links, the allocator records the
 * chain; the next operation either frees g (then the halves merge straight
 * back into g of order hi: no frame was ever written) or writes the halves
 * out first (buddy_chain_flush) and proceeds as usual. Every query answers
 * as if the halves had been written, so the allocator behaves exactly like
 * an eager buddy allocator.
 */
static inline bool buddy_chain_active(const struct rvm_buddy *b)
{
	return b->chain_hi > b->chain_lo;
}

/*
 * Order of the chain half whose head is frame g, or -1 if g heads none.
 * The halves sit at g - base = 2^j, a power of two in [2^lo, 2^hi).
 */
static inline int buddy_chain_piece(const struct rvm_buddy *b, uint32_t g)
{
	uint32_t d = g - b->chain_base;

	if (!buddy_chain_active(b) || g <= b->chain_base || (d & (d - 1)) != 0 ||
	    d < (1u << b->chain_lo) || d >= (1u << b->chain_hi))
		return -1;
	return __builtin_ctz(d);
}

/* Mask of the orders the chain's halves occupy: bits lo .. hi-1. */
static inline uint32_t buddy_chain_orders(const struct rvm_buddy *b)
{
	return (1u << b->chain_hi) - (1u << b->chain_lo);
}

/* Head of free list k as an eager allocator would have it (RVM_BUDDY_NIL if empty). */
static inline uint32_t buddy_list_head(const struct rvm_buddy *b, unsigned k)
{
	if ((buddy_chain_orders(b) >> k) & 1u)
		return b->chain_base + (1u << k);
	return b->free_head[k];
}

/* Length of free list k, chain halves included. */
static inline uint32_t buddy_list_count(const struct rvm_buddy *b, unsigned k)
{
	return b->free_count[k] + ((buddy_chain_orders(b) >> k) & 1u);
}

#endif

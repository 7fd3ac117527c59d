/* kernel/buddy_priv.h - what the buddy allocator and its checker share: list heads and counts. */
#ifndef RVM_BUDDY_PRIV_H
#define RVM_BUDDY_PRIV_H

#include <rvm/buddy.h>

/* Whether the latest split's halves are still only a record (kernel/buddy.c). */
static inline bool buddy_chain_active(const struct rvm_buddy *b)
{
	return b->chain_mask != 0;
}

/* The deferred block of list k (recorded split included), or RVM_BUDDY_NIL. */
static inline uint32_t buddy_deferred(const struct rvm_buddy *b, unsigned k)
{
	if ((b->chain_mask >> k) & 1u)
		return b->chain_base + (1u << k);
	return b->deferred[k];
}

/* Head of free list k (what the next alloc of order k takes), RVM_BUDDY_NIL if empty. */
static inline uint32_t buddy_list_head(const struct rvm_buddy *b, unsigned k)
{
	return b->free_head[k] != RVM_BUDDY_NIL ? b->free_head[k] : buddy_deferred(b, k);
}

/* Length of free list k, its deferred block included. */
static inline uint32_t buddy_list_count(const struct rvm_buddy *b, unsigned k)
{
	return b->free_count[k] + (buddy_deferred(b, k) != RVM_BUDDY_NIL);
}

/* Order of the deferred free block whose head is frame g, or -1 if none is. */
static inline int buddy_deferred_order(const struct rvm_buddy *b, uint32_t g)
{
	for (unsigned k = 0; k < RVM_BUDDY_ORDERS; k++)
		if (buddy_deferred(b, k) == g)
			return (int)k;
	return -1;
}

#endif

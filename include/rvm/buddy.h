/* rvm/buddy.h - buddy allocator of physical frames: 4 KiB .. 4 MiB blocks over the RAM ranges. */
#ifndef RVM_BUDDY_H
#define RVM_BUDDY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/err.h>
#include <rvm/profile.h>

#define RVM_FRAME_SHIFT 12u
#define RVM_FRAME_SIZE (1u << RVM_FRAME_SHIFT)
/* Orders 0..RVM_BUDDY_MAX_ORDER: 4 KiB << order, so 4 KiB .. 4 MiB (2 MiB is order 9). */
#define RVM_BUDDY_MAX_ORDER 10u
#define RVM_BUDDY_ORDERS (RVM_BUDDY_MAX_ORDER + 1u)
/* Physical ranges one allocator spans (RAM banks). */
#ifndef RVM_BUDDY_MAX_RANGES
#define RVM_BUDDY_MAX_RANGES 8u
#endif
/* "No frame": the end of a free list. */
#define RVM_BUDDY_NIL UINT32_MAX

/*
 * The memory at a physical address. The core runs identity-mapped (on the
 * hosted platform the ranges are the arena's own addresses), so this is the
 * one place an address becomes a pointer.
 */
static inline void *rvm_phys_ptr(uint64_t addr)
{
	return (void *)(uintptr_t)addr; /* NOLINT(performance-no-int-to-ptr): identity map */
}

/* rvm_buddy_alloc flags. */
enum rvm_buddy_flags {
	RVM_BUDDY_ZERO = 1u << 0, /* zero the block (the range must be addressable memory) */
};

/* One physical range handed to the allocator: 4 KiB aligned base and size. */
struct rvm_phys_range {
	uint64_t base;
	uint64_t size;
};

/* What a frame is; every frame is exactly one of these. */
enum rvm_buddy_state {
	RVM_FRAME_TAIL = 0,      /* inside a block, not its first frame */
	RVM_FRAME_FREE_HEAD = 1, /* first frame of a free block (on free list `order`) */
	RVM_FRAME_USED_HEAD = 2, /* first frame of an allocated block */
};

/*
 * Metadata of one 4 KiB frame, in a caller-owned array (the allocator keeps
 * nothing of its own elsewhere). Only block heads use next/prev/order.
 */
struct rvm_buddy_frame {
	uint32_t next;  /* free list links: global frame indices, RVM_BUDDY_NIL at the ends */
	uint32_t prev;
	uint8_t order;  /* block order, heads only */
	uint8_t state;  /* enum rvm_buddy_state */
	uint16_t range; /* index of the range the frame is in */
};
_Static_assert(sizeof(struct rvm_buddy_frame) == 12, "frame metadata is 12 bytes");

/* A range as the allocator keeps it: its frames are frames[first .. first + npages). */
struct rvm_buddy_range {
	uint64_t base_pfn; /* base >> 12 */
	uint64_t npages;
	uint32_t first;
};

/*
 * Invariants (checked by rvm_buddy_check_invariants):
 *  - each range is tiled by blocks: a head at pfn of order k is followed by
 *    2^k - 1 TAIL frames; blocks are naturally aligned (pfn % 2^k == 0) and
 *    lie inside one range;
 *  - free list k is the doubly linked list of FREE_HEAD frames of order k from
 *    free_head[k], then, at its bottom, deferred[k] if that is not NIL: a free
 *    block of order k whose frame still reads TAIL (see kernel/buddy.c);
 *  - no free block has a free buddy of the same order in the same range
 *    (coalescing is eager), so freeing everything restores the initial tiling;
 *  - free_frames = sum over free blocks of 2^order; free_count[k] = length of
 *    the linked part of list k; linked and deferred_mask say which parts are not
 *    empty, so alloc finds its order with one ctz of their union.
 */
struct rvm_buddy {
	struct rvm_buddy_frame *frames;
	uint32_t nframes; /* frames in use by the ranges */
	uint32_t nranges;
	struct rvm_buddy_range ranges[RVM_BUDDY_MAX_RANGES];
	uint32_t free_head[RVM_BUDDY_ORDERS];
	uint32_t free_count[RVM_BUDDY_ORDERS];
	uint32_t deferred[RVM_BUDDY_ORDERS]; /* unwritten upper half of a split, or NIL */
	uint32_t linked;   /* bit k set iff free_head[k] != NIL */
	uint32_t deferred_mask; /* bit k set iff list k has a deferred block */
	uint32_t chain_base; /* the latest split, not even in deferred[] yet (kernel/buddy.c) */
	uint32_t chain_mask; /* orders of its halves still free; none: both 0 */
	uint64_t free_frames;
	uint64_t total_frames;
	uint64_t used_blocks;
};

struct rvm_buddy_stats {
	uint64_t total_frames;
	uint64_t free_frames;
	uint64_t used_blocks;
	uint32_t free_blocks[RVM_BUDDY_ORDERS]; /* free blocks of each order */
};

/* Frames of metadata the ranges need (sum of their sizes / 4 KiB). */
uint64_t rvm_buddy_frames_needed(const struct rvm_phys_range *ranges, size_t nranges);

/*
 * Sets up an allocator over the ranges, all free, using frames[0..nframes) as
 * its metadata. Errors: RVM_E_INVAL (NULL, unaligned or empty range, ranges
 * overlapping, more than RVM_BUDDY_MAX_RANGES), RVM_E_NOMEM (nframes too small).
 */
enum rvm_err rvm_buddy_init(struct rvm_buddy *b, struct rvm_buddy_frame *frames, size_t nframes,
			    const struct rvm_phys_range *ranges, size_t nranges);

/*
 * Allocates a block of 4 KiB << order; *addr receives its physical address,
 * aligned to its size. Errors: RVM_E_RANGE (order > RVM_BUDDY_MAX_ORDER),
 * RVM_E_NOMEM (no free block that large: the state is unchanged).
 */
enum rvm_err rvm_buddy_alloc(struct rvm_buddy *b, unsigned order, unsigned flags, uint64_t *addr);

/*
 * The address rvm_buddy_alloc(b, order, ...) would return now, without
 * allocating (for a check that must not change state; the next alloc of that
 * order returns it if nothing else happens in between). Same errors as alloc.
 */
enum rvm_err rvm_buddy_peek(const struct rvm_buddy *b, unsigned order, uint64_t *addr);

/*
 * Frees the block that starts at addr, merging it with free buddies.
 * Errors leave the state unchanged: RVM_E_RANGE (addr in no range),
 * RVM_E_INVAL (not the start of a block), RVM_E_STATE (already free).
 */
enum rvm_err rvm_buddy_free(struct rvm_buddy *b, uint64_t addr);

/* Order of the allocated block starting at addr; same errors as rvm_buddy_free. */
enum rvm_err rvm_buddy_block_order(const struct rvm_buddy *b, uint64_t addr, unsigned *order);

/*
 * Index (0 .. nframes-1) of the frame holding addr, for per-frame side tables
 * kept by other subsystems. RVM_E_RANGE if addr is in no range.
 */
enum rvm_err rvm_buddy_frame_index(const struct rvm_buddy *b, uint64_t addr, uint32_t *idx);

void rvm_buddy_stats(const struct rvm_buddy *b, struct rvm_buddy_stats *out);

/* Walks every frame and list; RVM_OK or RVM_E_CORRUPT at the first broken invariant. */
enum rvm_err rvm_buddy_check_invariants(const struct rvm_buddy *b);

#endif

/* kernel/buddy.c - buddy allocator of physical frames: eager coalescing, caller-owned metadata. */
#include <rvm/buddy.h>
#include <rvm/bytes.h>

#include "buddy_priv.h"

/*
 * Deferred halves. A split keeps the lower half of a free block of order K
 * and frees the upper halves of orders order..K-1, whose lists were empty (K
 * is the smallest non-empty order >= order). Writing each half's frame would
 * cost a store to a different cache line per order, and the common next step,
 * freeing the block again, would read them all back to merge. So a split only
 * records each half as deferred[j], the bottom of list j, and leaves its frame
 * reading TAIL (as it did, being inside a free block). Whoever meets a
 * deferred block asks deferred[] first: a merge takes its buddy out of
 * deferred[k] without touching the frame, alloc takes it when the linked part
 * of the list is empty, and queries report it as a free head. At most one per
 * order: a split only defers into an empty list, and later pushes go on top.
 * The allocator stays an eager buddy allocator with LIFO lists, observably the
 * same as one that writes every half (tests/unit/test_buddy_model.c).
 *
 * The latest split is not even written to deferred[]: chain_base and
 * chain_mask record it (deferred[j] = chain_base + 2^j for each bit j of
 * chain_mask). A merge that reaches the block at chain_base of an order j in
 * the mask takes that half and every next one in the mask in one step; an
 * allocation of exactly order j that would take the half takes it off the
 * record; an allocation that splits writes the record out first (chain_flush)
 * to make its own. Only the block at chain_base has the halves as buddies, so
 * nothing else needs to look at the record.
 */

static inline uint64_t frame_pfn(const struct rvm_buddy *b, uint32_t g)
{
	const struct rvm_buddy_range *r = &b->ranges[b->frames[g].range];

	return r->base_pfn + (g - r->first);
}

/* Whether f heads a linked free block of order k (state and order compared as one word). */
static inline bool is_free_head(const struct rvm_buddy_frame *f, unsigned k)
{
	return (f->order | (unsigned)f->state << 8) == (k | (unsigned)RVM_FRAME_FREE_HEAD << 8);
}

/* Pushes block g on top of free list k. */
static void list_push(struct rvm_buddy *b, unsigned k, uint32_t g)
{
	struct rvm_buddy_frame *fr = b->frames;
	uint32_t head = b->free_head[k];

	fr[g].order = (uint8_t)k;
	fr[g].state = RVM_FRAME_FREE_HEAD;
	fr[g].prev = RVM_BUDDY_NIL;
	fr[g].next = head;
	if (head != RVM_BUDDY_NIL)
		fr[head].prev = g;
	b->free_head[k] = g;
	b->free_count[k]++;
	b->linked |= 1u << k;
}

/* Unlinks linked free block g from list k. */
static inline void list_remove(struct rvm_buddy *b, unsigned k, uint32_t g)
{
	struct rvm_buddy_frame *fr = b->frames;
	uint32_t prev = fr[g].prev, next = fr[g].next;

	if (prev != RVM_BUDDY_NIL)
		fr[prev].next = next;
	else
		b->free_head[k] = next;
	if (next != RVM_BUDDY_NIL)
		fr[next].prev = prev;
	else if (prev == RVM_BUDDY_NIL)
		b->linked &= ~(1u << k);
	b->free_count[k]--;
}

/*
 * Frame index of the frame holding pfn into *g, or false if pfn is in no
 * range. A handful of ranges: a linear scan is the fast way.
 */
static inline bool find_frame(const struct rvm_buddy *b, uint64_t pfn, uint32_t *g)
{
	for (uint32_t i = 0; i < b->nranges; i++) {
		const struct rvm_buddy_range *r = &b->ranges[i];

		if (pfn - r->base_pfn < r->npages) {
			*g = r->first + (uint32_t)(pfn - r->base_pfn);
			return true;
		}
	}
	return false;
}

uint64_t rvm_buddy_frames_needed(const struct rvm_phys_range *ranges, size_t nranges)
{
	uint64_t n = 0;

	for (size_t i = 0; ranges && i < nranges; i++)
		n += ranges[i].size >> RVM_FRAME_SHIFT;
	return n;
}

/* Largest order a block at pfn may have inside [pfn, end): aligned and fitting. */
static unsigned tile_order(uint64_t pfn, uint64_t end)
{
	unsigned k = RVM_BUDDY_MAX_ORDER;

	while (k > 0 && ((pfn & ((1ull << k) - 1)) != 0 || pfn + (1ull << k) > end))
		k--;
	return k;
}

enum rvm_err rvm_buddy_init(struct rvm_buddy *b, struct rvm_buddy_frame *frames, size_t nframes,
			    const struct rvm_phys_range *ranges, size_t nranges)
{
	uint64_t need;

	if (!b || !frames || !ranges || nranges == 0 || nranges > RVM_BUDDY_MAX_RANGES)
		return RVM_E_INVAL;
	for (size_t i = 0; i < nranges; i++) {
		const struct rvm_phys_range *r = &ranges[i];

		if (r->size == 0 || ((r->base | r->size) & (RVM_FRAME_SIZE - 1)) != 0 ||
		    r->base + r->size < r->base)
			return RVM_E_INVAL;
		for (size_t j = 0; j < i; j++)
			if (r->base < ranges[j].base + ranges[j].size &&
			    ranges[j].base < r->base + r->size)
				return RVM_E_INVAL;
	}
	need = rvm_buddy_frames_needed(ranges, nranges);
	if (need > nframes || need >= RVM_BUDDY_NIL)
		return RVM_E_NOMEM;
	rvm_memset(b, 0, sizeof(*b));
	b->frames = frames;
	b->nframes = (uint32_t)need;
	b->nranges = (uint32_t)nranges;
	for (unsigned k = 0; k < RVM_BUDDY_ORDERS; k++)
		b->free_head[k] = b->deferred[k] = RVM_BUDDY_NIL;
	for (uint32_t i = 0, first = 0; i < nranges; i++) {
		struct rvm_buddy_range *r = &b->ranges[i];
		uint64_t pfn, end;

		r->base_pfn = ranges[i].base >> RVM_FRAME_SHIFT;
		r->npages = ranges[i].size >> RVM_FRAME_SHIFT;
		r->first = first;
		for (uint64_t p = 0; p < r->npages; p++) {
			frames[first + p].state = RVM_FRAME_TAIL;
			frames[first + p].range = (uint16_t)i;
			frames[first + p].order = 0;
			frames[first + p].next = frames[first + p].prev = RVM_BUDDY_NIL;
		}
		/* Tile the range with the largest naturally aligned blocks. */
		end = r->base_pfn + r->npages;
		for (pfn = r->base_pfn; pfn < end;) {
			unsigned k = tile_order(pfn, end);

			list_push(b, k, first + (uint32_t)(pfn - r->base_pfn));
			pfn += 1ull << k;
		}
		first += (uint32_t)r->npages;
	}
	b->free_frames = b->total_frames = need;
	return RVM_OK;
}

/* Writes the recorded split out to deferred[]. */
static void chain_flush(struct rvm_buddy *b)
{
	for (uint32_t m = b->chain_mask; m != 0; m &= m - 1)
		b->deferred[__builtin_ctz(m)] = b->chain_base + (m & -m);
	b->chain_base = b->chain_mask = 0;
}

/* Smallest order >= order with a free block, or RVM_BUDDY_ORDERS: one ctz. */
static inline unsigned first_order(const struct rvm_buddy *b, unsigned order)
{
	uint32_t m = (b->linked | b->deferred_mask) >> order;

	return m ? order + (unsigned)__builtin_ctz(m) : RVM_BUDDY_ORDERS;
}

/*
 * Takes the head of list k (linked part first, then the deferred block) and
 * records the split down to order, whose lists order..k-1 are empty.
 */
static uint32_t take_and_split(struct rvm_buddy *b, unsigned k, unsigned order)
{
	uint32_t g = b->free_head[k];

	if (g != RVM_BUDDY_NIL) {
		list_remove(b, k, g);
	} else {
		g = b->deferred[k];
		b->deferred[k] = RVM_BUDDY_NIL;
		b->deferred_mask &= ~(1u << k);
	}
	if (k > order) {
		b->chain_base = g;
		b->chain_mask = (1u << k) - (1u << order);
		b->deferred_mask |= b->chain_mask;
	}
	return g;
}

/* Takes the recorded split's half of order k (the head of list k) off the record. */
static uint32_t chain_take(struct rvm_buddy *b, unsigned k)
{
	uint32_t g = b->chain_base + (1u << k);

	b->deferred_mask &= ~(1u << k);
	b->chain_mask &= ~(1u << k);
	if (b->chain_mask == 0)
		b->chain_base = 0;
	return g;
}

enum rvm_err rvm_buddy_alloc(struct rvm_buddy *b, unsigned order, unsigned flags, uint64_t *addr)
{
	unsigned k;
	uint32_t g;

	if (!b || !addr)
		return RVM_E_INVAL;
	if (order > RVM_BUDDY_MAX_ORDER)
		return RVM_E_RANGE;
	k = first_order(b, order);
	if (k > RVM_BUDDY_MAX_ORDER)
		return RVM_E_NOMEM;
	if (k == order && ((b->chain_mask >> k) & 1u) && b->free_head[k] == RVM_BUDDY_NIL) {
		g = chain_take(b, k);
	} else {
		if (k > order && buddy_chain_active(b)) /* a new record replaces this one */
			chain_flush(b);
		g = take_and_split(b, k, order);
	}
	b->frames[g].state = RVM_FRAME_USED_HEAD;
	b->frames[g].order = (uint8_t)order;
	b->free_frames -= 1ull << order;
	b->used_blocks++;
	*addr = frame_pfn(b, g) << RVM_FRAME_SHIFT;
	if (flags & RVM_BUDDY_ZERO)
		rvm_memset(rvm_phys_ptr(*addr), 0, (size_t)RVM_FRAME_SIZE << order);
	return RVM_OK;
}

enum rvm_err rvm_buddy_peek(const struct rvm_buddy *b, unsigned order, uint64_t *addr)
{
	unsigned k;

	if (!b || !addr)
		return RVM_E_INVAL;
	if (order > RVM_BUDDY_MAX_ORDER)
		return RVM_E_RANGE;
	k = first_order(b, order);
	if (k > RVM_BUDDY_MAX_ORDER)
		return RVM_E_NOMEM;
	/* alloc keeps the lower half of every split: the head's own address. */
	*addr = frame_pfn(b, buddy_list_head(b, k)) << RVM_FRAME_SHIFT;
	return RVM_OK;
}

/* Finds the allocated block head at addr, with the errors of rvm_buddy_free. */
static enum rvm_err used_head(const struct rvm_buddy *b, uint64_t addr, uint32_t *gp)
{
	uint32_t g;
	unsigned state;

	if (!find_frame(b, addr >> RVM_FRAME_SHIFT, &g))
		return RVM_E_RANGE;
	state = b->frames[g].state;
	if (state == RVM_FRAME_USED_HEAD && (addr & (RVM_FRAME_SIZE - 1)) == 0) {
		*gp = g;
		return RVM_OK;
	}
	if ((addr & (RVM_FRAME_SIZE - 1)) != 0)
		return RVM_E_INVAL;
	if (state == RVM_FRAME_TAIL) /* a deferred block's frame reads TAIL too */
		return buddy_deferred_order(b, g) >= 0 ? RVM_E_STATE : RVM_E_INVAL;
	return RVM_E_STATE;
}

enum rvm_err rvm_buddy_free(struct rvm_buddy *b, uint64_t addr)
{
	struct rvm_buddy_frame *fr;
	const struct rvm_buddy_range *r;
	uint32_t g, merged_deferred = 0;
	unsigned k;
	enum rvm_err err;

	if (!b)
		return RVM_E_INVAL;
	err = used_head(b, addr, &g);
	if (err != RVM_OK)
		return err;
	fr = b->frames;
	k = fr[g].order;
	b->free_frames += 1ull << k;
	b->used_blocks--;
	r = &b->ranges[fr[g].range];
	/*
	 * Merge while the buddy (at pfn ^ 2^k) is a free block of order k inside
	 * the same range. A deferred block is always the upper half of its split
	 * and inside the range, so deferred[k] == g + 2^k alone says it is g's
	 * free buddy; merging it needs neither its frame nor a range check. The
	 * recorded split's halves are the buddies of chain_base: a run of them
	 * merges at once.
	 */
	for (uint64_t pfn = addr >> RVM_FRAME_SHIFT; k < RVM_BUDDY_MAX_ORDER;) {
		uint64_t size = 1ull << k, bpfn = pfn ^ size;
		uint32_t bg = g + (uint32_t)(bpfn - pfn);

		if (g == b->chain_base && ((b->chain_mask >> k) & 1u)) {
			uint32_t run = ~(b->chain_mask >> k);
			uint32_t orders = ((1u << __builtin_ctz(run)) - 1u) << k;

			merged_deferred |= orders;
			k += (unsigned)__builtin_ctz(run);
			b->chain_mask &= ~orders;
			if (b->chain_mask == 0)
				b->chain_base = 0;
			continue;
		}
		if (b->deferred[k] == g + (uint32_t)size) {
			b->deferred[k] = RVM_BUDDY_NIL;
			merged_deferred |= (uint32_t)size;
			k++;
			continue;
		}
		if (bpfn - r->base_pfn > r->npages - size || !is_free_head(&fr[bg], k))
			break;
		list_remove(b, k, bg);
		/* The merged block starts at the lower of the two; the upper head is a tail now. */
		if (bg < g) {
			fr[g].state = RVM_FRAME_TAIL;
			g = bg;
		} else {
			fr[bg].state = RVM_FRAME_TAIL;
		}
		pfn &= ~size;
		k++;
	}
	b->deferred_mask &= ~merged_deferred;
	list_push(b, k, g);
	return RVM_OK;
}

enum rvm_err rvm_buddy_block_order(const struct rvm_buddy *b, uint64_t addr, unsigned *order)
{
	uint32_t g;
	enum rvm_err err;

	if (!b || !order)
		return RVM_E_INVAL;
	err = used_head(b, addr, &g);
	if (err == RVM_OK)
		*order = b->frames[g].order;
	return err;
}

enum rvm_err rvm_buddy_frame_index(const struct rvm_buddy *b, uint64_t addr, uint32_t *idx)
{
	if (!b || !idx)
		return RVM_E_INVAL;
	return find_frame(b, addr >> RVM_FRAME_SHIFT, idx) ? RVM_OK : RVM_E_RANGE;
}

/* kernel/buddy.c - buddy allocator of physical frames with eager coalescing and caller-owned metadata. */
#include <rvm/buddy.h>
#include <rvm/bytes.h>

#include "buddy_priv.h"

static inline uint64_t frame_pfn(const struct rvm_buddy *b, uint32_t g)
{
	const struct rvm_buddy_range *r = &b->ranges[b->frames[g].range];

	return r->base_pfn + (g - r->first);
}

/* Marks frame g the head of a free block of order k (state and order in one go). */
static inline void set_free_head(struct rvm_buddy_frame *f, unsigned k)
{
	f->order = (uint8_t)k;
	f->state = RVM_FRAME_FREE_HEAD;
}

/* Whether f heads a free block of order k: state and order read as one 16-bit word. */
static inline bool is_free_head(const struct rvm_buddy_frame *f, unsigned k)
{
	return (f->order | (unsigned)f->state << 8) == (k | (unsigned)RVM_FRAME_FREE_HEAD << 8);
}

static void list_push(struct rvm_buddy *b, unsigned k, uint32_t g)
{
	struct rvm_buddy_frame *fr = b->frames;
	uint32_t head = b->free_head[k];

	set_free_head(&fr[g], k);
	fr[g].prev = RVM_BUDDY_NIL;
	fr[g].next = head;
	if (head != RVM_BUDDY_NIL)
		fr[head].prev = g;
	b->free_head[k] = g;
	b->free_count[k]++;
	b->nonempty |= 1u << k;
}

/* Unlinks free block g from list k; clears the list's nonempty bit when it empties. */
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
		b->nonempty &= ~(1u << k);
	b->free_count[k]--;
}

/* Range holding pfn, or -1. A handful of ranges: a linear scan is the fast way. */
static int find_range(const struct rvm_buddy *b, uint64_t pfn)
{
	for (uint32_t i = 0; i < b->nranges; i++) {
		const struct rvm_buddy_range *r = &b->ranges[i];

		if (pfn >= r->base_pfn && pfn - r->base_pfn < r->npages)
			return (int)i;
	}
	return -1;
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
		b->free_head[k] = RVM_BUDDY_NIL;
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

/* Smallest order >= order with a free block, or RVM_BUDDY_ORDERS: one ctz on the nonempty mask. */
static inline unsigned first_order(const struct rvm_buddy *b, unsigned order)
{
	uint32_t m = b->nonempty >> order;

	return m ? order + (unsigned)__builtin_ctz(m) : RVM_BUDDY_ORDERS;
}

/*
 * Writes the deferred split's halves out as ordinary free blocks, as the
 * eager split would have: each alone in its list (buddy_priv.h).
 */
static void chain_flush(struct rvm_buddy *b)
{
	struct rvm_buddy_frame *fr = b->frames;

	for (unsigned k = b->chain_lo; k < b->chain_hi; k++) {
		uint32_t h = b->chain_base + (1u << k);

		set_free_head(&fr[h], k);
		fr[h].next = fr[h].prev = RVM_BUDDY_NIL;
		b->free_head[k] = h;
		b->free_count[k] = 1;
	}
	b->chain_base = 0;
	b->chain_lo = b->chain_hi = 0;
}

enum rvm_err rvm_buddy_alloc(struct rvm_buddy *b, unsigned order, unsigned flags, uint64_t *addr)
{
	struct rvm_buddy_frame *fr;
	unsigned k;
	uint32_t g;

	if (!b || !addr)
		return RVM_E_INVAL;
	if (order > RVM_BUDDY_MAX_ORDER)
		return RVM_E_RANGE;
	k = first_order(b, order);
	if (k > RVM_BUDDY_MAX_ORDER)
		return RVM_E_NOMEM;
	if (buddy_chain_active(b))
		chain_flush(b);
	fr = b->frames;
	g = b->free_head[k];
	list_remove(b, k, g);
	/*
	 * Split: keep the lower half, free the upper ones (orders order..k-1,
	 * whose lists are empty). The halves are recorded, not written: the
	 * next operation writes them or, if it frees g, merges them unseen.
	 */
	if (k > order) {
		b->chain_base = g;
		b->chain_lo = (uint8_t)order;
		b->chain_hi = (uint8_t)k;
		b->nonempty |= buddy_chain_orders(b);
	}
	fr[g].state = RVM_FRAME_USED_HEAD;
	fr[g].order = (uint8_t)order;
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
	enum rvm_err err = rvm_buddy_frame_index(b, addr, &g);

	if (err != RVM_OK)
		return err;
	if ((addr & (RVM_FRAME_SIZE - 1)) != 0)
		return RVM_E_INVAL;
	if (buddy_chain_piece(b, g) >= 0) /* a deferred half: a free block */
		return RVM_E_STATE;
	if (b->frames[g].state == RVM_FRAME_TAIL)
		return RVM_E_INVAL;
	if (b->frames[g].state != RVM_FRAME_USED_HEAD)
		return RVM_E_STATE;
	*gp = g;
	return RVM_OK;
}

enum rvm_err rvm_buddy_free(struct rvm_buddy *b, uint64_t addr)
{
	struct rvm_buddy_frame *fr;
	const struct rvm_buddy_range *r;
	uint32_t g;
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
	if (buddy_chain_active(b)) {
		if (g == b->chain_base) {
			/* Its buddies up to chain_hi are the deferred halves: merge at once. */
			b->nonempty &= ~buddy_chain_orders(b);
			k = b->chain_hi;
			b->chain_base = 0;
			b->chain_lo = b->chain_hi = 0;
		} else {
			chain_flush(b);
		}
	}
	/*
	 * Merge while the buddy (at pfn ^ 2^k) is a free block of order k inside
	 * the same range: one unsigned compare tests both ends of the range.
	 */
	for (uint64_t pfn = addr >> RVM_FRAME_SHIFT; k < RVM_BUDDY_MAX_ORDER; k++) {
		uint64_t size = 1ull << k, bpfn = pfn ^ size;
		uint32_t bg = g + (uint32_t)(bpfn - pfn), upper;

		if (bpfn - r->base_pfn > r->npages - size || !is_free_head(&fr[bg], k))
			break;
		list_remove(b, k, bg);
		/* The merged block starts at the lower of the two; the upper head is a tail now. */
		upper = bg > g ? bg : g;
		g = bg > g ? g : bg;
		fr[upper].state = RVM_FRAME_TAIL;
		pfn &= ~size;
	}
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
	uint64_t pfn = addr >> RVM_FRAME_SHIFT;
	int r;

	if (!b || !idx)
		return RVM_E_INVAL;
	r = find_range(b, pfn);
	if (r < 0)
		return RVM_E_RANGE;
	*idx = b->ranges[r].first + (uint32_t)(pfn - b->ranges[r].base_pfn);
	return RVM_OK;
}

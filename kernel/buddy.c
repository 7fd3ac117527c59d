/* kernel/buddy.c - buddy allocator of physical frames with eager coalescing and caller-owned metadata. */
#include <rvm/buddy.h>
#include <rvm/bytes.h>

static inline uint64_t frame_pfn(const struct rvm_buddy *b, uint32_t g)
{
	const struct rvm_buddy_range *r = &b->ranges[b->frames[g].range];

	return r->base_pfn + (g - r->first);
}

static void list_push(struct rvm_buddy *b, unsigned k, uint32_t g)
{
	struct rvm_buddy_frame *f = &b->frames[g];

	f->state = RVM_FRAME_FREE_HEAD;
	f->order = (uint8_t)k;
	f->prev = RVM_BUDDY_NIL;
	f->next = b->free_head[k];
	if (f->next != RVM_BUDDY_NIL)
		b->frames[f->next].prev = g;
	b->free_head[k] = g;
	b->free_count[k]++;
}

static void list_remove(struct rvm_buddy *b, unsigned k, uint32_t g)
{
	struct rvm_buddy_frame *f = &b->frames[g];

	if (f->prev != RVM_BUDDY_NIL)
		b->frames[f->prev].next = f->next;
	else
		b->free_head[k] = f->next;
	if (f->next != RVM_BUDDY_NIL)
		b->frames[f->next].prev = f->prev;
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

enum rvm_err rvm_buddy_alloc(struct rvm_buddy *b, unsigned order, unsigned flags, uint64_t *addr)
{
	unsigned k = order;
	uint32_t g;

	if (!b || !addr)
		return RVM_E_INVAL;
	if (order > RVM_BUDDY_MAX_ORDER)
		return RVM_E_RANGE;
	while (k <= RVM_BUDDY_MAX_ORDER && b->free_head[k] == RVM_BUDDY_NIL)
		k++;
	if (k > RVM_BUDDY_MAX_ORDER)
		return RVM_E_NOMEM;
	g = b->free_head[k];
	list_remove(b, k, g);
	/* Split: keep the lower half, free the upper one, until the size fits. */
	while (k > order) {
		k--;
		list_push(b, k, g + (1u << k));
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
	unsigned k = order;

	if (!b || !addr)
		return RVM_E_INVAL;
	if (order > RVM_BUDDY_MAX_ORDER)
		return RVM_E_RANGE;
	while (k <= RVM_BUDDY_MAX_ORDER && b->free_head[k] == RVM_BUDDY_NIL)
		k++;
	if (k > RVM_BUDDY_MAX_ORDER)
		return RVM_E_NOMEM;
	/* alloc keeps the lower half of every split: the head's own address. */
	*addr = frame_pfn(b, b->free_head[k]) << RVM_FRAME_SHIFT;
	return RVM_OK;
}

/* Finds the allocated block head at addr, with the errors of rvm_buddy_free. */
static enum rvm_err used_head(const struct rvm_buddy *b, uint64_t addr, uint32_t *gp)
{
	uint32_t g;
	enum rvm_err err = rvm_buddy_frame_index(b, addr, &g);

	if (err != RVM_OK)
		return err;
	if ((addr & (RVM_FRAME_SIZE - 1)) != 0 || b->frames[g].state == RVM_FRAME_TAIL)
		return RVM_E_INVAL;
	if (b->frames[g].state != RVM_FRAME_USED_HEAD)
		return RVM_E_STATE;
	*gp = g;
	return RVM_OK;
}

enum rvm_err rvm_buddy_free(struct rvm_buddy *b, uint64_t addr)
{
	uint32_t g;
	unsigned k;
	uint64_t pfn;
	const struct rvm_buddy_range *r;
	enum rvm_err err;

	if (!b)
		return RVM_E_INVAL;
	err = used_head(b, addr, &g);
	if (err != RVM_OK)
		return err;
	k = b->frames[g].order;
	b->free_frames += 1ull << k;
	b->used_blocks--;
	r = &b->ranges[b->frames[g].range];
	pfn = addr >> RVM_FRAME_SHIFT;
	/* Merge while the buddy is a free block of the same order in the same range. */
	while (k < RVM_BUDDY_MAX_ORDER) {
		uint64_t bpfn = pfn ^ (1ull << k);
		uint32_t bg;

		if (bpfn < r->base_pfn || bpfn + (1ull << k) > r->base_pfn + r->npages)
			break;
		bg = r->first + (uint32_t)(bpfn - r->base_pfn);
		if (b->frames[bg].state != RVM_FRAME_FREE_HEAD || b->frames[bg].order != k)
			break;
		list_remove(b, k, bg);
		if (bpfn < pfn) {
			b->frames[g].state = RVM_FRAME_TAIL;
			g = bg;
			pfn = bpfn;
		} else {
			b->frames[bg].state = RVM_FRAME_TAIL;
		}
		k++;
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

void rvm_buddy_stats(const struct rvm_buddy *b, struct rvm_buddy_stats *out)
{
	out->total_frames = b->total_frames;
	out->free_frames = b->free_frames;
	out->used_blocks = b->used_blocks;
	for (unsigned k = 0; k < RVM_BUDDY_ORDERS; k++)
		out->free_blocks[k] = b->free_count[k];
}

/* Checks one free list: links, states, orders and length. */
static bool list_ok(const struct rvm_buddy *b, unsigned k)
{
	uint32_t g = b->free_head[k], prev = RVM_BUDDY_NIL, n = 0;

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

enum rvm_err rvm_buddy_check_invariants(const struct rvm_buddy *b)
{
	uint64_t free_frames = 0, used = 0;
	uint32_t free_blocks[RVM_BUDDY_ORDERS] = { 0 };

	for (unsigned k = 0; k < RVM_BUDDY_ORDERS; k++)
		if (!list_ok(b, k))
			return RVM_E_CORRUPT;
	for (uint32_t i = 0; i < b->nranges; i++) {
		const struct rvm_buddy_range *r = &b->ranges[i];
		uint64_t end = r->base_pfn + r->npages;

		for (uint64_t pfn = r->base_pfn; pfn < end;) {
			uint32_t g = r->first + (uint32_t)(pfn - r->base_pfn);
			const struct rvm_buddy_frame *f = &b->frames[g];
			unsigned k = f->order;
			uint64_t size = 1ull << k;

			if (f->state == RVM_FRAME_TAIL || k > RVM_BUDDY_MAX_ORDER ||
			    (pfn & (size - 1)) != 0 || pfn + size > end || f->range != i)
				return RVM_E_CORRUPT;
			for (uint64_t t = 1; t < size; t++)
				if (b->frames[g + t].state != RVM_FRAME_TAIL || b->frames[g + t].range != i)
					return RVM_E_CORRUPT;
			if (f->state == RVM_FRAME_FREE_HEAD) {
				uint64_t bpfn = pfn ^ size;

				free_frames += size;
				free_blocks[k]++;
				/* Eager coalescing: a free buddy of the same order must not exist. */
				if (k < RVM_BUDDY_MAX_ORDER && bpfn >= r->base_pfn && bpfn + size <= end) {
					const struct rvm_buddy_frame *bf =
						&b->frames[r->first + (uint32_t)(bpfn - r->base_pfn)];

					if (bf->state == RVM_FRAME_FREE_HEAD && bf->order == k)
						return RVM_E_CORRUPT;
				}
			} else if (f->state == RVM_FRAME_USED_HEAD) {
				used++;
			} else {
				return RVM_E_CORRUPT;
			}
			pfn += size;
		}
	}
	for (unsigned k = 0; k < RVM_BUDDY_ORDERS; k++)
		if (free_blocks[k] != b->free_count[k])
			return RVM_E_CORRUPT;
	if (free_frames != b->free_frames || used != b->used_blocks)
		return RVM_E_CORRUPT;
	return RVM_OK;
}

/* kernel/region.c - region objects: create, map, unmap, transfer and destroy, each check + apply + witness. */
#include <rvm/bytes.h>
#include <rvm/region.h>

#include "region_priv.h"

/* ---- Lookup and the check/apply/witness runner ---- */

enum rvm_err region_lookup(const struct rvm_region_space *s, rvm_region_id id, uint32_t *slot)
{
	uint64_t i = id & 0xFFFFFFFFu;
	const struct rvm_region *r;

	if (i >= RVM_REGION_SLOTS)
		return RVM_E_NOTFOUND;
	r = &s->slots[i];
	if (!r->used)
		return RVM_E_NOTFOUND;
	if (r->generation != (uint32_t)(id >> 32))
		return RVM_E_STALE;
	*slot = (uint32_t)i;
	return RVM_OK;
}

rvm_region_id region_id(const struct rvm_region_space *s, uint32_t slot)
{
	return (uint64_t)s->slots[slot].generation << 32 | slot;
}

/* The caller acts for the owner: it is the owner, or the kernel. */
static enum rvm_err owner_check(const struct rvm_region *r, uint32_t caller)
{
	return caller == RVM_PARTITION_KERNEL || caller == r->owner ? RVM_OK : RVM_E_PERM;
}

enum rvm_err region_owned(const struct rvm_region_space *s, struct region_op *op,
			  struct rvm_region **rp)
{
	enum rvm_err err = region_lookup(s, op->id, &op->slot);

	if (err != RVM_OK)
		return err;
	*rp = (struct rvm_region *)&s->slots[op->slot];
	return owner_check(*rp, op->caller);
}

/*
 * The security gate's order for one operation: check (changes nothing) ->
 * room for the witness record -> apply (cannot fail) -> witness. A refusal
 * is itself witnessed as GATE_DENIED when the log has room.
 */
enum rvm_err region_run(struct rvm_region_space *s, struct region_op *op, region_check_fn *check,
			region_apply_fn *apply)
{
	enum rvm_err err = check(s, op);

	if (err == RVM_OK && !rvm_witness_can_emit(s->wlog, s->gate ? 2 : 1))
		err = RVM_E_FULL;
	if (err != RVM_OK) {
		if (rvm_witness_can_emit(s->wlog, 1))
			(void)rvm_witness_emit(s->wlog, RVM_ACT_GATE_DENIED, RVM_WF_DENIED, op->caller,
					       op->id, op->action, (uint64_t)err, NULL);
		return err;
	}
	apply(s, op);
	/* Room was checked; a failing periodic checkpoint still leaves the record emitted. */
	(void)rvm_witness_emit(s->wlog, op->action, 0, op->caller, op->id, op->arg0, op->arg1,
			       &op->seq);
	return RVM_OK;
}

/* ---- Frames and the per-frame ownership record ---- */

/* Index of the first frame of a resident region (its base is a buddy block: cannot fail). */
uint32_t region_first_frame(const struct rvm_region_space *s, const struct rvm_region *r)
{
	uint32_t g = 0;

	(void)rvm_buddy_frame_index(s->buddy, r->base, &g);
	return g;
}

void region_claim_frames(struct rvm_region_space *s, uint32_t slot)
{
	const struct rvm_region *r = &s->slots[slot];
	uint32_t g = region_first_frame(s, r);

	for (uint32_t f = 0; f < (1u << r->order); f++) {
		s->frames[g + f].region = slot + 1;
		s->frames[g + f].writer = 0;
		s->frames[g + f].readers = 0;
	}
}

void region_release_frames(struct rvm_region_space *s, uint32_t slot)
{
	struct rvm_region *r = &s->slots[slot];
	uint32_t g = region_first_frame(s, r);

	for (uint32_t f = 0; f < (1u << r->order); f++)
		s->frames[g + f].region = 0;
	(void)rvm_buddy_free(s->buddy, r->base);
	r->base = 0;
}

/* ---- Space setup ---- */

void rvm_region_store_init(struct rvm_region_store *st, uint8_t *buf, uint32_t cap)
{
	st->buf = buf;
	st->cap = buf ? cap : 0;
	st->n = 0;
}

enum rvm_err rvm_region_space_init(struct rvm_region_space *s, struct rvm_buddy *buddy,
				   struct rvm_region_frame *frames, size_t nframes,
				   struct rvm_region_store *store, struct rvm_witness_log *wlog,
				   const struct rvm_platform *plat)
{
	if (!s || !buddy || !frames || !store || !wlog || nframes < buddy->nframes)
		return RVM_E_INVAL;
	rvm_memset(s, 0, sizeof(*s));
	s->buddy = buddy;
	s->frames = frames;
	s->store = store;
	s->wlog = wlog;
	s->plat = plat;
	rvm_memset(frames, 0, sizeof(*frames) * buddy->nframes);
	return RVM_OK;
}

/* ---- create ---- */

static enum rvm_err create_check(struct rvm_region_space *s, struct region_op *op)
{
	uint64_t pages;
	unsigned order = 0;

	if (op->caller != RVM_PARTITION_KERNEL && op->caller != op->to)
		return RVM_E_PERM;
	if (op->to >= RVM_MAX_PARTITIONS || op->type >= RVM_REGION_TYPE_COUNT)
		return RVM_E_RANGE;
	if (op->size == 0 || op->size > (uint64_t)RVM_REGION_MAX_PAGES * RVM_FRAME_SIZE)
		return RVM_E_RANGE;
	pages = (op->size + RVM_FRAME_SIZE - 1) >> RVM_FRAME_SHIFT;
	while ((1ull << order) < pages)
		order++;
	op->order = order;
	for (op->slot = 0; op->slot < RVM_REGION_SLOTS; op->slot++)
		if (!s->slots[op->slot].used)
			break;
	if (op->slot == RVM_REGION_SLOTS)
		return RVM_E_NOMEM;
	/* The id the region will get, for the witness record. */
	op->gen = s->slots[op->slot].generation + 1;
	if (op->gen == 0)
		op->gen = 1;
	op->id = (uint64_t)op->gen << 32 | op->slot;
	if (!region_gate_room(s, op->to, 1))
		return RVM_E_NOMEM;
	return rvm_buddy_peek(s->buddy, order, &op->addr);
}

void region_create_apply(struct rvm_region_space *s, struct region_op *op)
{
	struct rvm_region *r = &s->slots[op->slot];
	uint64_t addr = 0;

	(void)rvm_buddy_alloc(s->buddy, op->order, RVM_BUDDY_ZERO, &addr);
	rvm_memset(r, 0, sizeof(*r));
	r->used = 1;
	r->generation = op->gen;
	r->base = addr;
	r->order = (uint8_t)op->order;
	r->owner = op->to;
	r->tier = RVM_TIER_HOT;
	r->type = (uint8_t)op->type;
	r->writable = op->writable;
	r->last_access = op->epoch;
	region_claim_frames(s, op->slot);
	op->cap = region_gate_attach(s, op->slot);
	op->arg0 = region_create_arg0(op->to, op->type, op->writable);
	op->arg1 = rvm_region_size(r);
}

enum rvm_err rvm_region_create_cap(struct rvm_region_space *s, uint32_t caller, uint32_t owner,
				   uint64_t size, enum rvm_region_type type, bool writable,
				   uint64_t epoch, rvm_region_id *id, rvm_cap_t *cap)
{
	struct region_op op = { .action = RVM_ACT_REGION_CREATE, .caller = caller, .to = owner,
				.size = size, .type = (uint32_t)type, .writable = writable,
				.epoch = epoch };
	enum rvm_err err;

	if (!s || !id)
		return RVM_E_INVAL;
	err = region_run(s, &op, create_check, region_create_apply);
	if (err == RVM_OK) {
		*id = op.id;
		if (cap)
			*cap = op.cap;
	}
	return err;
}

enum rvm_err rvm_region_create(struct rvm_region_space *s, uint32_t caller, uint32_t owner,
			       uint64_t size, enum rvm_region_type type, bool writable,
			       uint64_t epoch, rvm_region_id *out)
{
	return rvm_region_create_cap(s, caller, owner, size, type, writable, epoch, out, NULL);
}

/* ---- destroy ---- */

enum rvm_err region_destroy_check(struct rvm_region_space *s, struct region_op *op)
{
	struct rvm_region *r;
	enum rvm_err err = region_owned(s, op, &r);

	if (err != RVM_OK)
		return err;
	return r->nmaps ? RVM_E_BUSY : RVM_OK;
}

void region_destroy_apply(struct rvm_region_space *s, struct region_op *op)
{
	struct rvm_region *r = &s->slots[op->slot];

	op->arg0 = r->owner;
	op->arg1 = r->tier;
	if (r->base)
		region_release_frames(s, op->slot);
	if (r->tier == RVM_TIER_DORMANT)
		region_store_remove(s->store, op->slot);
	/* A cold image stays in the checkpoint store: the platform API has no delete. */
	region_gate_detach(s, op->slot);
	r->used = 0;
}

enum rvm_err rvm_region_destroy(struct rvm_region_space *s, uint32_t caller, rvm_region_id id)
{
	struct region_op op = { .action = RVM_ACT_REGION_DESTROY, .caller = caller, .id = id };

	if (!s)
		return RVM_E_INVAL;
	return region_run(s, &op, region_destroy_check, region_destroy_apply);
}

/* ---- map / unmap ---- */

static int map_slot(const struct rvm_region *r, uint32_t partition)
{
	for (int i = 0; i < (int)RVM_REGION_MAX_MAPS; i++)
		if (r->maps[i].used && r->maps[i].partition == partition)
			return i;
	return -1;
}

enum rvm_err region_map_check(struct rvm_region_space *s, struct region_op *op)
{
	struct rvm_region *r;
	enum rvm_err err = region_owned(s, op, &r);
	uint32_t g;

	if (err != RVM_OK)
		return err;
	if (op->to >= RVM_MAX_PARTITIONS)
		return RVM_E_RANGE;
	if (r->tier > RVM_TIER_WARM)
		return RVM_E_STATE;
	if (map_slot(r, op->to) >= 0)
		return RVM_E_EXISTS;
	if (op->writable && (!r->writable || op->to != r->owner))
		return RVM_E_POLICY;
	if (r->nmaps >= RVM_REGION_MAX_MAPS)
		return RVM_E_NOMEM;
	/* The global rule, frame by frame: no writable frame is shared by two partitions. */
	g = region_first_frame(s, r);
	for (uint32_t f = 0; f < (1u << r->order); f++) {
		const struct rvm_region_frame *fr = &s->frames[g + f];

		if (fr->writer || (op->writable && fr->readers))
			return RVM_E_ALIAS;
	}
	return RVM_OK;
}

void region_map_apply(struct rvm_region_space *s, struct region_op *op)
{
	struct rvm_region *r = &s->slots[op->slot];
	uint32_t g = region_first_frame(s, r);
	unsigned i = 0;

	/* The check saw nmaps < RVM_REGION_MAX_MAPS: a free map slot exists. */
	while (r->maps[i].used)
		i++;
	r->maps[i].used = 1;
	r->maps[i].partition = op->to;
	r->maps[i].writable = op->writable;
	r->nmaps++;
	for (uint32_t f = 0; f < (1u << r->order); f++) {
		if (op->writable)
			s->frames[g + f].writer = op->to + 1;
		else
			s->frames[g + f].readers++;
	}
	op->arg0 = op->to;
	op->arg1 = op->writable;
}

enum rvm_err rvm_region_map(struct rvm_region_space *s, uint32_t caller, rvm_region_id id,
			    uint32_t partition, bool writable)
{
	struct region_op op = { .action = RVM_ACT_REGION_MAP, .caller = caller, .id = id,
				.to = partition, .writable = writable };

	if (!s)
		return RVM_E_INVAL;
	return region_run(s, &op, region_map_check, region_map_apply);
}

enum rvm_err region_unmap_check(struct rvm_region_space *s, struct region_op *op)
{
	struct rvm_region *r;
	enum rvm_err err = region_owned(s, op, &r);

	/* A partition may always drop its own mapping. */
	if (err == RVM_E_PERM && op->caller == op->to)
		err = RVM_OK;
	if (err != RVM_OK)
		return err;
	return map_slot(r, op->to) >= 0 ? RVM_OK : RVM_E_NOTFOUND;
}

void region_unmap_apply(struct rvm_region_space *s, struct region_op *op)
{
	struct rvm_region *r = &s->slots[op->slot];
	int i = map_slot(r, op->to);
	uint32_t g = region_first_frame(s, r);
	bool writable = r->maps[i].writable;

	for (uint32_t f = 0; f < (1u << r->order); f++) {
		if (writable)
			s->frames[g + f].writer = 0;
		else
			s->frames[g + f].readers--;
	}
	rvm_memset(&r->maps[i], 0, sizeof(r->maps[i]));
	r->nmaps--;
	op->arg0 = op->to;
	op->arg1 = writable;
}

enum rvm_err rvm_region_unmap(struct rvm_region_space *s, uint32_t caller, rvm_region_id id,
			      uint32_t partition)
{
	struct region_op op = { .action = RVM_ACT_REGION_UNMAP, .caller = caller, .id = id,
				.to = partition };

	if (!s)
		return RVM_E_INVAL;
	return region_run(s, &op, region_unmap_check, region_unmap_apply);
}

/* ---- transfer ---- */

enum rvm_err region_transfer_check(struct rvm_region_space *s, struct region_op *op)
{
	struct rvm_region *r;
	enum rvm_err err = region_owned(s, op, &r);

	if (err != RVM_OK)
		return err;
	if (op->to >= RVM_MAX_PARTITIONS)
		return RVM_E_RANGE;
	if (op->to == r->owner)
		return RVM_E_INVAL;
	if (r->nmaps)
		return RVM_E_BUSY;
	/* The object is made anew for the new owner (old caps go stale): room for it. */
	return region_gate_room(s, op->to, 1) ? RVM_OK : RVM_E_NOMEM;
}

void region_transfer_apply(struct rvm_region_space *s, struct region_op *op)
{
	struct rvm_region *r = &s->slots[op->slot];

	op->arg0 = r->owner;
	op->arg1 = op->to;
	region_gate_detach(s, op->slot);
	r->owner = op->to;
	op->cap = region_gate_attach(s, op->slot);
}

enum rvm_err rvm_region_transfer(struct rvm_region_space *s, uint32_t caller, rvm_region_id id,
				 uint32_t to)
{
	struct region_op op = { .action = RVM_ACT_REGION_TRANSFER, .caller = caller, .id = id,
				.to = to };

	if (!s)
		return RVM_E_INVAL;
	return region_run(s, &op, region_transfer_check, region_transfer_apply);
}

/* ---- access and queries ---- */

enum rvm_err rvm_region_touch(struct rvm_region_space *s, rvm_region_id id, uint64_t epoch)
{
	uint32_t slot;
	enum rvm_err err;

	if (!s)
		return RVM_E_INVAL;
	err = region_lookup(s, id, &slot);
	if (err == RVM_OK && epoch > s->slots[slot].last_access)
		s->slots[slot].last_access = epoch;
	return err;
}

const struct rvm_region *rvm_region_get(const struct rvm_region_space *s, rvm_region_id id)
{
	uint32_t slot;

	if (!s || region_lookup(s, id, &slot) != RVM_OK)
		return NULL;
	return &s->slots[slot];
}

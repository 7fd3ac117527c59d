/* kernel/checkpoint_restore.c - rolling a partition back to a checkpoint: check everything, then
 * apply. */
#include <rvm/bytes.h>
#include <rvm/checkpoint.h>

#include "checkpoint_priv.h"
#include "region_priv.h"

/* Does the checkpoint hold the live cap in slot (same slot, generation and object)? */
static bool ckpt_has_cap(const struct rvm_ckpt_view *v, uint32_t slot, const struct rvm_cap *c)
{
	struct rvm_ckpt_cap e;
	uint32_t pos = 0;

	while (rvm_ckpt_next_cap(v, &pos, &e) == RVM_OK)
		if (e.slot == slot && e.gen == c->gen && e.object == c->object && e.type == c->type)
			return true;
	return false;
}

static bool ckpt_has_region(const struct rvm_ckpt_view *v, rvm_region_id id)
{
	struct rvm_ckpt_region e;
	uint32_t pos = 0;
	size_t off = 0;

	while (rvm_ckpt_next_region(v, &pos, &off, &e) == RVM_OK)
		if (e.id == id)
			return true;
	return false;
}

static void free_blocks(struct rvm_region_space *s, const uint64_t *addr, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (addr[i])
			(void)rvm_buddy_free(s->buddy, addr[i]);
}

/*
 * The slot is another partition's now: the region was handed over (or
 * destroyed and the slot reused) after the checkpoint. Rolling one partition
 * back never takes memory from another, so it stays where it is.
 */
static bool elsewhere(const struct rvm_region_space *s, uint32_t partition,
		      const struct rvm_ckpt_region *e)
{
	const struct rvm_region *live = &s->slots[(uint32_t)e->id];

	return live->used && live->owner != partition;
}

/* A region entry waiting for its check, and the block it is decoded into. */
struct pending {
	struct rvm_ckpt_region e;
	uint8_t *dst;
};

/*
 * Checks and decodes one or two entries (n = 1 or 2). Version 2: the seals
 * are checked (the two in step), then the images decoded as they are. Version
 * 1 has no seals: the decoded pages are hashed against the content digests,
 * two regions' pages in step.
 */
static enum rvm_err check_decode(struct rvm_region_space *s, const struct pending *p, uint32_t n)
{
	const struct rvm_sha256_impl *sha = s->plat ? s->plat->sha256 : NULL;
	struct region_image_job job[2];
	enum rvm_err err;

	if (p[0].e.sealed) {
		err = ckpt_seal_check2(sha, &p[0].e, n == 2 ? &p[1].e : NULL);
		for (uint32_t i = 0; i < n && err == RVM_OK; i++)
			err = region_image_unpack(p[i].e.image, p[i].e.image_len,
						  1u << p[i].e.order, p[i].dst);
		return err;
	}
	for (uint32_t i = 0; i < n; i++) {
		job[i].img = p[i].e.image;
		job[i].len = p[i].e.image_len;
		job[i].npages = 1u << p[i].e.order;
		job[i].dst = p[i].dst;
		rvm_memcpy(job[i].digest, p[i].e.digest, RVM_SHA256_DIGEST);
	}
	if (n == 2)
		return region_image_decode_pair(s, job);
	return region_image_decode(s, job[0].img, job[0].len, job[0].npages, job[0].dst,
				   job[0].digest);
}

/*
 * The check: every slot usable, every image checked and decoded into a block
 * of its own. On success c->addr[i] holds region i's block with its contents
 * in place. Entries go two at a time: hashing two in step is about twice as
 * fast as one after the other where the CPU allows it.
 */
static enum rvm_err restore_check(struct rvm_ckpt_ctx *c, const struct rvm_ckpt_view *v,
				  uint32_t partition)
{
	struct rvm_region_space *s = c->regions;
	struct pending p[2];
	uint32_t pos = 0, n = 0, waiting = 0;
	size_t off = 0;
	enum rvm_err err = RVM_OK;

	if (v->partition != partition)
		return RVM_E_INVAL;
	/* The restore's record, and in a gated space a CAP_MINT per region (new objects). */
	if (!rvm_witness_can_emit(s->wlog, 1 + (s->gate ? v->nregions : 0)))
		return RVM_E_FULL;
	if (!region_gate_room(s, partition, v->nregions))
		return RVM_E_NOMEM;
	while (err == RVM_OK && rvm_ckpt_next_region(v, &pos, &off, &p[waiting].e) == RVM_OK) {
		if (elsewhere(s, partition, &p[waiting].e)) {
			c->addr[n++] = 0;
			continue;
		}
		err = rvm_buddy_alloc(s->buddy, p[waiting].e.order, 0, &c->addr[n]);
		if (err != RVM_OK)
			break;
		p[waiting].dst = rvm_phys_ptr(c->addr[n++]);
		if (++waiting == 2) {
			err = check_decode(s, p, 2);
			waiting = 0;
		}
	}
	if (err == RVM_OK && waiting)
		err = check_decode(s, p, 1);
	if (err != RVM_OK)
		free_blocks(s, c->addr, n);
	return err;
}

/* Frees a region of the partition in any tier, dropping every mapping of it first. */
static void drop_region(struct rvm_region_space *s, uint32_t slot)
{
	struct rvm_region *r = &s->slots[slot];

	if (r->base) {
		uint32_t g = region_first_frame(s, r);

		for (uint32_t f = 0; f < (1u << r->order); f++) {
			s->frames[g + f].writer = 0;
			s->frames[g + f].readers = 0;
		}
		region_release_frames(s, slot);
	}
	if (r->tier == RVM_TIER_DORMANT)
		region_store_remove(s->store, slot);
	rvm_memset(r->maps, 0, sizeof(r->maps));
	r->nmaps = 0;
	region_gate_detach(s, slot);
	r->used = 0;
}

static void install_region(struct rvm_region_space *s, const struct rvm_ckpt_region *e,
			   uint64_t addr)
{
	uint32_t slot = (uint32_t)e->id;
	struct rvm_region *r = &s->slots[slot];

	rvm_memset(r, 0, sizeof(*r));
	r->used = 1;
	r->generation = (uint32_t)(e->id >> 32);
	r->base = addr;
	r->order = e->order;
	r->owner = e->owner;
	r->tier = e->tier <= RVM_TIER_WARM ? e->tier : RVM_TIER_WARM;
	r->type = e->type;
	r->writable = e->writable;
	r->last_access = e->last_access;
	region_claim_frames(s, slot);
	/* Caps to the dropped object went stale with it; the owner gets a root cap anew. */
	(void)region_gate_attach(s, slot);
}

/* Removes caps of the table the checkpoint does not hold; counts those it holds that are gone. */
static void restore_caps(struct rvm_ckpt_ctx *c, const struct rvm_ckpt_view *v, uint32_t partition,
			 struct rvm_ckpt_restore_stats *st)
{
	struct rvm_cap_space *caps = c->gate->caps;
	struct rvm_cap_table *t = &caps->tables[partition];
	struct rvm_ckpt_cap e;
	uint32_t pos = 0;

	while (rvm_ckpt_next_cap(v, &pos, &e) == RVM_OK) {
		const struct rvm_cap *live = &t->slots[e.slot];

		if (e.slot >= t->hw || live->state != RVM_CAPS_LIVE || live->gen != e.gen ||
		    live->object != e.object)
			st->caps_lost++;
	}
	for (uint32_t i = 0; i < t->hw; i++) {
		const struct rvm_cap *live = &t->slots[i];

		/* A removal may free later slots of this table too (they were its subtree). */
		if (live->state == RVM_CAPS_LIVE && !ckpt_has_cap(v, i, live))
			st->caps_removed +=
				rvm_cap_remove_subtree(caps, rvm_cap_ref(partition, i), true);
	}
}

/* The live edge a checkpoint entry names (same id, same ends) if its counters only moved on. */
static struct rvm_edge *live_edge(const struct rvm_ckpt_ctx *c, const struct rvm_ckpt_edge *e)
{
	struct rvm_edge *l = rvm_edge_find(c->ipc, e->id);

	if (!l || l->src != e->src || l->dst != e->dst)
		return NULL;
	/* Ring counters only grow: tail <= head then and now, and neither went back. */
	if (l->tail - e->tail > l->head - e->tail || l->head - e->head > l->head - e->tail)
		return NULL;
	return l;
}

static bool rolls_edges(const struct rvm_ckpt_ctx *c)
{
	return c->ipc && !(c->keep & RVM_CKPT_KEEP_EDGES);
}

/* The check for edges: what the partition received since must fit back into each ring. */
static enum rvm_err edges_check(const struct rvm_ckpt_ctx *c, const struct rvm_ckpt_view *v,
				uint32_t partition)
{
	struct rvm_ckpt_edge e;
	uint32_t pos = 0;
	size_t off = 0;

	while (rolls_edges(c) && rvm_ckpt_next_edge(v, &pos, &off, &e) == RVM_OK) {
		const struct rvm_edge *l = live_edge(c, &e);

		if (l && e.dst == partition && l->head - e.tail > RVM_IPC_RING)
			return RVM_E_FULL;
	}
	return RVM_OK;
}

/* Rolls back the partition's side of every edge the checkpoint holds (cannot fail). */
static void restore_edges(struct rvm_ckpt_ctx *c, const struct rvm_ckpt_view *v, uint32_t partition,
			  struct rvm_ckpt_restore_stats *st)
{
	struct rvm_ckpt_edge e;
	uint32_t pos = 0;
	size_t off = 0;

	while (rvm_ckpt_next_edge(v, &pos, &off, &e) == RVM_OK) {
		struct rvm_edge *l = live_edge(c, &e);

		if (!l) {
			st->edges_gone += rvm_edge_find(c->ipc, e.id) == NULL;
			continue;
		}
		if (e.dst == partition) {
			/* Slots [e.tail, e.head) get the checkpoint's descriptors back; those
			 * sent since, [e.head, head), are still in their slots (fewer than a
			 * ring's worth since e.tail: checked). */
			for (uint32_t k = e.tail; k != e.head; k++) {
				const uint8_t *d =
					e.desc + (size_t)(k - e.tail) * RVM_CKPT_DESC_ENTRY;
				struct rvm_ipc_desc *q = &l->ring[k & (RVM_IPC_RING - 1u)];

				q->region = rvm_load_le64(d);
				q->tag = rvm_load_le64(d + 8);
				q->offset = rvm_load_le32(d + 16);
				q->length = rvm_load_le32(d + 20);
			}
			st->msgs_requeued += l->tail - e.tail;
			l->tail = e.tail;
			l->received = e.received;
		} else if (e.src == partition) {
			/* Sends after the checkpoint still queued (nobody saw them) go; those
			 * the peer received already stay. */
			uint32_t keep = l->tail - e.head <= l->head - e.head ? l->tail : e.head;

			st->msgs_withdrawn += l->head - keep;
			l->sent -= l->head - keep;
			l->head = keep;
		}
		st->edges_rolled++;
	}
}

enum rvm_err rvm_checkpoint_restore(struct rvm_ckpt_ctx *c, const struct rvm_ckpt_view *v,
				    uint32_t partition, struct rvm_ckpt_restore_stats *st)
{
	struct rvm_ckpt_restore_stats local = {0};
	struct rvm_region_space *s;
	struct rvm_ckpt_region e;
	uint32_t pos = 0, n = 0;
	size_t off = 0;
	enum rvm_err err;

	if (!c || !c->regions || !v || partition >= RVM_MAX_PARTITIONS)
		return RVM_E_INVAL;
	s = c->regions;
	err = v && v->partition == partition ? edges_check(c, v, partition) : RVM_OK;
	if (err == RVM_OK)
		err = restore_check(c, v, partition);
	if (err != RVM_OK) {
		if (rvm_witness_can_emit(s->wlog, 1))
			(void)rvm_witness_emit(s->wlog, RVM_ACT_GATE_DENIED, RVM_WF_DENIED, 0,
					       partition, RVM_ACT_STATE_RESTORE, (uint64_t)err,
					       NULL);
		return err;
	}
	/* Apply: nothing below can fail. */
	for (uint32_t i = 0; i < RVM_REGION_SLOTS; i++) {
		const struct rvm_region *r = &s->slots[i];

		if (!r->used || r->owner != partition)
			continue;
		local.regions_dropped += !ckpt_has_region(v, region_id(s, i));
		drop_region(s, i);
	}
	/* Caps first: the reinstated regions' new root caps are not the checkpoint's to judge. */
	if (c->gate && c->gate->caps && !(c->keep & RVM_CKPT_KEEP_CAPS))
		restore_caps(c, v, partition, &local);
	while (rvm_ckpt_next_region(v, &pos, &off, &e) == RVM_OK) {
		if (c->addr[n])
			install_region(s, &e, c->addr[n]);
		else
			local.regions_elsewhere++;
		n++;
	}
	local.regions = n - local.regions_elsewhere;
	local.edges = v->nedges;
	if (rolls_edges(c))
		restore_edges(c, v, partition, &local);
	(void)rvm_witness_emit(s->wlog, RVM_ACT_STATE_RESTORE, 0, 0, partition,
			       RVM_CKPT_ID(partition, v->seq),
			       (uint64_t)local.regions | (uint64_t)local.caps_removed << 32, NULL);
	if (st)
		*st = local;
	return RVM_OK;
}

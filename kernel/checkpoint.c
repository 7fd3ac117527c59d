/* kernel/checkpoint.c - taking a checkpoint of a partition: serialise, store, witness. */
#include <rvm/bytes.h>
#include <rvm/checkpoint.h>

#include "checkpoint_priv.h"
#include "region_priv.h"

static const struct rvm_sha256_impl *sha_of(const struct rvm_region_space *s)
{
	return s->plat ? s->plat->sha256 : NULL;
}

static bool owned(const struct rvm_region *r, uint32_t partition)
{
	return r->used && r->owner == partition;
}

static const struct rvm_cap_table *table_of(const struct rvm_ckpt_ctx *c, uint32_t partition)
{
	return c->gate && c->gate->caps ? &c->gate->caps->tables[partition] : NULL;
}

static bool edge_of(const struct rvm_edge *e, uint32_t partition)
{
	return e->id != RVM_OBJ_NULL && (e->src == partition || e->dst == partition);
}

enum rvm_err rvm_checkpoint_bound(struct rvm_ckpt_ctx *c, uint32_t partition,
				  const struct rvm_ckpt_agent *agents, uint32_t nagents,
				  size_t *bound)
{
	uint64_t n = RVM_CKPT_HEADER_SIZE + RVM_CKPT_TRAILER_SIZE;
	const struct rvm_cap_table *t;

	if (!c || !c->regions || !bound || (nagents && !agents))
		return RVM_E_INVAL;
	if (partition >= RVM_MAX_PARTITIONS || nagents > RVM_CKPT_MAX_AGENTS)
		return RVM_E_RANGE;
	for (uint32_t i = 0; i < RVM_REGION_SLOTS; i++)
		if (owned(&c->regions->slots[i], partition))
			n += RVM_CKPT_REGION_ENTRY + ckpt_image_max(c->regions->slots[i].order);
	for (uint32_t i = 0; i < nagents; i++) {
		if (agents[i].len > UINT64_MAX / 2 - n)
			return RVM_E_OVERFLOW;
		n += RVM_CKPT_AGENT_ENTRY + (uint64_t)agents[i].len;
	}
	t = table_of(c, partition);
	if (t)
		n += (uint64_t)t->live * RVM_CKPT_CAP_ENTRY;
	if (c->ipc)
		for (uint32_t i = 0; i < RVM_IPC_MAX_EDGES; i++)
			if (edge_of(&c->ipc->e[i], partition))
				n += RVM_CKPT_EDGE_ENTRY + RVM_IPC_RING * RVM_CKPT_DESC_ENTRY;
	if (n > SIZE_MAX)
		return RVM_E_OVERFLOW;
	*bound = (size_t)n;
	return RVM_OK;
}

/* A bounded output cursor: every put checks room first. */
struct out {
	uint8_t *buf;
	size_t cap, pos;
};

static uint8_t *take(struct out *o, size_t n)
{
	uint8_t *p;

	if (n > o->cap - o->pos)
		return NULL;
	p = o->buf + o->pos;
	o->pos += n;
	return p;
}

/*
 * The region's contents as an image at the cursor; fills the entry's length and
 * digest. known (may be NULL) is a resident region's content digest, hashed already.
 */
static enum rvm_err put_image(struct rvm_region_space *s, uint32_t slot, struct out *o,
			      uint8_t *entry, const uint8_t *known)
{
	const struct rvm_region *r = &s->slots[slot];
	uint32_t npages = 1u << r->order, len = 0;
	size_t room = o->cap - o->pos, got = 0;
	uint8_t *dst = o->buf + o->pos;
	const struct rvm_region_extent *e;
	enum rvm_err err;

	if (room > UINT32_MAX)
		room = UINT32_MAX;
	if (r->tier <= RVM_TIER_WARM) {
		err = region_image_encode(s, rvm_phys_ptr(r->base), npages, dst, (uint32_t)room,
					  &len, known ? NULL : entry + RE_DIGEST);
		if (err != RVM_OK)
			return err;
		if (known)
			rvm_memcpy(entry + RE_DIGEST, known, RVM_SHA256_DIGEST);
	} else {
		if (r->store_len > room)
			return RVM_E_NOMEM;
		len = (uint32_t)r->store_len;
		if (r->tier == RVM_TIER_DORMANT) {
			e = region_store_find(s->store, slot);
			if (!e || e->len != len)
				return RVM_E_CORRUPT;
			rvm_memcpy(dst, s->store->buf + e->off, len);
		} else {
			if (!s->plat || !s->plat->checkpoint_get)
				return RVM_E_UNSUPPORTED;
			err = s->plat->checkpoint_get(s->plat->ctx,
						      RVM_REGION_COLD_ID(region_id(s, slot)), dst,
						      len, &got);
			if (err != RVM_OK)
				return err;
			if (got != len)
				return RVM_E_CORRUPT;
		}
		/* A copy of a damaged image would poison every rollback to this checkpoint. */
		err = region_image_decode(s, dst, len, npages, NULL, r->digest);
		if (err != RVM_OK)
			return err;
		rvm_memcpy(entry + RE_DIGEST, r->digest, RVM_SHA256_DIGEST);
	}
	rvm_store_le32(entry + RE_ILEN, len);
	o->pos += len;
	return RVM_OK;
}

/* Resident regions are hashed from memory; the others carry their digest. */
static bool resident_of(const struct rvm_region *r, uint32_t partition)
{
	return owned(r, partition) && r->tier <= RVM_TIER_WARM;
}

/*
 * The content digests of two resident regions a and b, hashed in step over
 * their common length (rvm_sha256_update2), then each one's rest.
 */
static void digest_pair(struct rvm_region_space *s, uint32_t a, uint32_t b,
			uint8_t da[RVM_SHA256_DIGEST], uint8_t db[RVM_SHA256_DIGEST])
{
	const struct rvm_region *ra = &s->slots[a], *rb = &s->slots[b];
	size_t la = (size_t)rvm_region_size(ra), lb = (size_t)rvm_region_size(rb);
	size_t both = la < lb ? la : lb;
	const uint8_t *pa = rvm_phys_ptr(ra->base), *pb = rvm_phys_ptr(rb->base);
	struct rvm_sha256 ha, hb;

	rvm_sha256_init(&ha, sha_of(s));
	rvm_sha256_init(&hb, sha_of(s));
	rvm_sha256_update2(&ha, pa, &hb, pb, both);
	rvm_sha256_update(&ha, pa + both, la - both);
	rvm_sha256_update(&hb, pb + both, lb - both);
	rvm_sha256_final(&ha, da);
	rvm_sha256_final(&hb, db);
}

/*
 * Region entries and images in slot order. Resident regions are hashed two at
 * a time ahead of their compression (the hash is most of a checkpoint's time and
 * two in step take little more than one): when one comes up whose digest is not
 * known yet, the next resident one is hashed with it and its digest kept.
 */
static enum rvm_err put_regions(struct rvm_region_space *s, uint32_t partition, struct out *o,
				uint32_t *count)
{
	uint8_t now[RVM_SHA256_DIGEST], ahead[RVM_SHA256_DIGEST];
	uint32_t ahead_slot = RVM_REGION_SLOTS;

	for (uint32_t i = 0; i < RVM_REGION_SLOTS; i++) {
		const struct rvm_region *r = &s->slots[i];
		const uint8_t *known = NULL;
		uint8_t *e;
		enum rvm_err err;

		if (!owned(r, partition))
			continue;
		e = take(o, RVM_CKPT_REGION_ENTRY);
		if (!e)
			return RVM_E_NOMEM;
		if (i == ahead_slot) {
			known = ahead;
		} else if (resident_of(r, partition)) {
			uint32_t j = i + 1;

			while (j < RVM_REGION_SLOTS && !resident_of(&s->slots[j], partition))
				j++;
			if (j < RVM_REGION_SLOTS) {
				digest_pair(s, i, j, now, ahead);
				ahead_slot = j;
				known = now;
			}
		}
		rvm_memset(e, 0, RVM_CKPT_REGION_ENTRY);
		rvm_store_le64(e + RE_ID, region_id(s, i));
		rvm_store_le64(e + RE_LAST, r->last_access);
		rvm_store_le32(e + RE_OWNER, r->owner);
		e[RE_ORDER] = r->order;
		e[RE_TIER] = r->tier;
		e[RE_TYPE] = r->type;
		e[RE_WR] = r->writable;
		err = put_image(s, i, o, e, known);
		if (err != RVM_OK)
			return err;
		(*count)++;
	}
	return RVM_OK;
}

/*
 * Seals the count region entries that start at buf + RVM_CKPT_HEADER_SIZE, two
 * at a time (their fields and images are final by now).
 */
static void seal_regions(struct rvm_region_space *s, uint8_t *buf, uint32_t count)
{
	uint8_t *e = buf + RVM_CKPT_HEADER_SIZE, *pending = NULL;

	for (uint32_t i = 0; i < count; i++) {
		uint8_t *next = e + RVM_CKPT_REGION_ENTRY + rvm_load_le32(e + RE_ILEN);

		if (pending) {
			ckpt_seal_put2(sha_of(s), pending, e);
			pending = NULL;
		} else {
			pending = e;
		}
		e = next;
	}
	if (pending)
		ckpt_seal_put2(sha_of(s), pending, NULL);
}

static enum rvm_err put_agents(const struct rvm_ckpt_agent *agents, uint32_t n, struct out *o)
{
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *e = take(o, RVM_CKPT_AGENT_ENTRY);
		uint8_t *p;

		if (!e || (agents[i].len && !agents[i].snap))
			return e ? RVM_E_INVAL : RVM_E_NOMEM;
		rvm_store_le32(e + AE_ID, agents[i].id);
		rvm_store_le32(e + AE_RSVD, 0);
		rvm_store_le64(e + AE_LEN, agents[i].len);
		p = take(o, agents[i].len);
		if (!p)
			return RVM_E_NOMEM;
		if (agents[i].len)
			rvm_memcpy(p, agents[i].snap, agents[i].len);
	}
	return RVM_OK;
}

static enum rvm_err put_caps(const struct rvm_cap_table *t, struct out *o, uint32_t *count)
{
	for (uint32_t i = 0; t && i < t->hw; i++) {
		const struct rvm_cap *cp = &t->slots[i];
		uint8_t *e;

		if (cp->state != RVM_CAPS_LIVE)
			continue;
		e = take(o, RVM_CKPT_CAP_ENTRY);
		if (!e)
			return RVM_E_NOMEM;
		rvm_store_le32(e + CE_SLOT, i);
		rvm_store_le32(e + CE_GEN, cp->gen);
		rvm_store_le64(e + CE_OBJ, cp->object);
		rvm_store_le64(e + CE_EPOCH, cp->epoch);
		rvm_store_le32(e + CE_PARENT, cp->parent);
		e[CE_TYPE] = cp->type;
		e[CE_RIGHTS] = cp->rights;
		e[CE_DEPTH] = cp->depth;
		e[CE_RSVD] = 0;
		rvm_memcpy(e + CE_SEAL, cp->digest, RVM_CAP_DIGEST);
		(*count)++;
	}
	return RVM_OK;
}

static enum rvm_err put_edges(const struct rvm_ipc *ipc, uint32_t partition, struct out *o,
			      uint32_t *count)
{
	for (uint32_t i = 0; ipc && i < RVM_IPC_MAX_EDGES; i++) {
		const struct rvm_edge *ed = &ipc->e[i];
		uint8_t *e;

		if (!edge_of(ed, partition))
			continue;
		e = take(o, RVM_CKPT_EDGE_ENTRY);
		if (!e)
			return RVM_E_NOMEM;
		rvm_store_le64(e + EE_ID, ed->id);
		rvm_store_le32(e + EE_SRC, ed->src);
		rvm_store_le32(e + EE_DST, ed->dst);
		rvm_store_le32(e + EE_HEAD, ed->head);
		rvm_store_le32(e + EE_TAIL, ed->tail);
		rvm_store_le64(e + EE_WEIGHT, ed->weight);
		rvm_store_le64(e + EE_SENT, ed->sent);
		rvm_store_le64(e + EE_RECV, ed->received);
		rvm_store_le64(e + EE_REFUSED, ed->refused);
		for (uint32_t k = ed->tail; k != ed->head; k++) {
			const struct rvm_ipc_desc *d = &ed->ring[k & (RVM_IPC_RING - 1)];
			uint8_t *p = take(o, RVM_CKPT_DESC_ENTRY);

			if (!p)
				return RVM_E_NOMEM;
			rvm_store_le64(p, d->region);
			rvm_store_le64(p + 8, d->tag);
			rvm_store_le32(p + 16, d->offset);
			rvm_store_le32(p + 20, d->length);
		}
		(*count)++;
	}
	return RVM_OK;
}

/* Everything but the store and the record: the bytes of the checkpoint in o. */
static enum rvm_err serialise(struct rvm_ckpt_ctx *c, uint32_t partition,
			      const struct rvm_ckpt_agent *agents, uint32_t nagents, struct out *o,
			      struct rvm_ckpt_info *info)
{
	struct rvm_region_space *s = c->regions;
	const struct rvm_witness_log *w = s->wlog;
	uint8_t *h = take(o, RVM_CKPT_HEADER_SIZE);
	uint8_t *t;
	enum rvm_err err;

	if (!h)
		return RVM_E_NOMEM;
	rvm_memset(h, 0, RVM_CKPT_HEADER_SIZE);
	err = put_regions(s, partition, o, &info->regions);
	if (err == RVM_OK) {
		seal_regions(s, o->buf, info->regions);
		err = put_agents(agents, nagents, o);
	}
	if (err == RVM_OK)
		err = put_caps(table_of(c, partition), o, &info->caps);
	if (err == RVM_OK)
		err = put_edges(c->ipc, partition, o, &info->edges);
	if (err != RVM_OK)
		return err;
	info->agents = nagents;
	info->seq = w->next_seq;
	info->id = RVM_CKPT_ID(partition, info->seq);
	rvm_memcpy(h, RVM_CKPT_MAGIC, 8);
	rvm_store_le16(h + CK_VERSION, RVM_CKPT_VERSION);
	rvm_store_le16(h + CK_HSIZE, RVM_CKPT_HEADER_SIZE);
	rvm_store_le32(h + CK_PART, partition);
	rvm_store_le64(h + CK_SEQ, info->seq);
	rvm_store_le64(h + CK_TIME, s->plat ? rvm_platform_now_ns(s->plat) - w->boot_clock_ns : 0);
	rvm_memcpy(h + CK_CHAIN, w->digest, RVM_SHA256_DIGEST);
	rvm_store_le32(h + CK_NREG, info->regions);
	rvm_store_le32(h + CK_NAGENT, nagents);
	rvm_store_le32(h + CK_NCAP, info->caps);
	rvm_store_le32(h + CK_NEDGE, info->edges);
	rvm_store_le64(h + CK_BODY, o->pos - RVM_CKPT_HEADER_SIZE);
	t = take(o, RVM_CKPT_TRAILER_SIZE);
	if (!t)
		return RVM_E_NOMEM;
	rvm_sha256(sha_of(s), o->buf, o->pos - RVM_CKPT_TRAILER_SIZE, t);
	rvm_memcpy(info->sha256, t, RVM_SHA256_DIGEST);
	info->len = o->pos;
	return RVM_OK;
}

enum rvm_err rvm_checkpoint_take(struct rvm_ckpt_ctx *c, uint32_t partition,
				 const struct rvm_ckpt_agent *agents, uint32_t nagents,
				 uint8_t *buf, size_t cap, struct rvm_ckpt_info *info)
{
	struct rvm_ckpt_info local;
	struct out o = {.buf = buf, .cap = buf ? cap : 0, .pos = 0};
	struct rvm_region_space *s;
	enum rvm_err err;

	if (!c || !c->regions || (nagents && !agents))
		return RVM_E_INVAL;
	s = c->regions;
	rvm_memset(&local, 0, sizeof(local));
	if (partition >= RVM_MAX_PARTITIONS || nagents > RVM_CKPT_MAX_AGENTS)
		err = RVM_E_RANGE;
	else if (!rvm_witness_can_emit(s->wlog, 1))
		err = RVM_E_FULL;
	else if (!s->plat || !s->plat->checkpoint_put)
		err = RVM_E_UNSUPPORTED;
	else
		err = serialise(c, partition, agents, nagents, &o, &local);
	if (err == RVM_OK)
		err = s->plat->checkpoint_put(s->plat->ctx, local.id, buf, local.len);
	if (err != RVM_OK) {
		if (rvm_witness_can_emit(s->wlog, 1))
			(void)rvm_witness_emit(s->wlog, RVM_ACT_GATE_DENIED, RVM_WF_DENIED, 0,
					       partition, RVM_ACT_STATE_CHECKPOINT, (uint64_t)err,
					       NULL);
		return err;
	}
	(void)rvm_witness_emit(s->wlog, RVM_ACT_STATE_CHECKPOINT, 0, 0, partition, local.id,
			       rvm_load_le64(local.sha256), NULL);
	if (info)
		*info = local;
	return RVM_OK;
}

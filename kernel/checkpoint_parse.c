/* kernel/checkpoint_parse.c - validating checkpoint bytes of unknown origin, and walking their
 * entries. */
#include <rvm/bytes.h>
#include <rvm/checkpoint.h>

#include "checkpoint_priv.h"

/* A bounded input cursor over the body. */
struct in {
	const uint8_t *buf;
	size_t end, pos;
};

static const uint8_t *get(struct in *in, uint64_t n)
{
	const uint8_t *p;

	if (n > in->end - in->pos)
		return NULL;
	p = in->buf + in->pos;
	in->pos += (size_t)n;
	return p;
}

static bool bit_test_set(uint8_t *bits, uint32_t i)
{
	bool was = bits[i / 8] & (1u << (i % 8));

	bits[i / 8] |= (uint8_t)(1u << (i % 8));
	return was;
}

static enum rvm_err check_regions(struct in *in, const struct rvm_ckpt_view *v)
{
	uint8_t seen[(RVM_REGION_SLOTS + 7) / 8] = {0};

	for (uint32_t i = 0; i < v->nregions; i++) {
		const uint8_t *e = get(in, ckpt_region_entry(v->version));
		uint64_t id;
		uint32_t ilen, slot;
		unsigned order;

		if (!e)
			return RVM_E_CORRUPT;
		id = rvm_load_le64(e + RE_ID);
		slot = (uint32_t)id;
		order = e[RE_ORDER];
		ilen = rvm_load_le32(e + RE_ILEN);
		if (slot >= RVM_REGION_SLOTS || (id >> 32) == 0 || bit_test_set(seen, slot))
			return RVM_E_CORRUPT;
		if (rvm_load_le32(e + RE_OWNER) != v->partition || order > RVM_BUDDY_MAX_ORDER ||
		    e[RE_TIER] >= RVM_TIER_COUNT || e[RE_TYPE] >= RVM_REGION_TYPE_COUNT ||
		    e[RE_WR] > 1 || rvm_load_le32(e + RE_RSVD) != 0)
			return RVM_E_CORRUPT;
		if (ilen < (2u << order) || ilen > ckpt_image_max(order) || !get(in, ilen))
			return RVM_E_CORRUPT;
	}
	return RVM_OK;
}

static enum rvm_err check_agents(struct in *in, const struct rvm_ckpt_view *v)
{
	size_t first = in->pos;

	for (uint32_t i = 0; i < v->nagents; i++) {
		const uint8_t *e = get(in, RVM_CKPT_AGENT_ENTRY);
		struct in again = {in->buf, in->end, first};
		uint32_t id;

		if (!e || rvm_load_le32(e + AE_RSVD) != 0 || !get(in, rvm_load_le64(e + AE_LEN)))
			return RVM_E_CORRUPT;
		id = rvm_load_le32(e + AE_ID);
		/* Ids are unique: compare with every earlier entry (at most 256). */
		for (uint32_t k = 0; k < i; k++) {
			const uint8_t *o = get(&again, RVM_CKPT_AGENT_ENTRY);

			if (rvm_load_le32(o + AE_ID) == id)
				return RVM_E_CORRUPT;
			(void)get(&again, rvm_load_le64(o + AE_LEN));
		}
	}
	return RVM_OK;
}

static enum rvm_err check_caps(struct in *in, const struct rvm_ckpt_view *v)
{
	uint8_t seen[(RVM_CAP_TABLE_SLOTS + 7) / 8] = {0};

	for (uint32_t i = 0; i < v->ncaps; i++) {
		const uint8_t *e = get(in, RVM_CKPT_CAP_ENTRY);
		uint32_t slot, parent;
		uint8_t depth;

		if (!e)
			return RVM_E_CORRUPT;
		slot = rvm_load_le32(e + CE_SLOT);
		parent = rvm_load_le32(e + CE_PARENT);
		depth = e[CE_DEPTH];
		if (slot >= RVM_CAP_TABLE_SLOTS || bit_test_set(seen, slot) ||
		    rvm_load_le32(e + CE_GEN) == 0 || e[CE_TYPE] == RVM_OBJ_NONE ||
		    e[CE_TYPE] >= RVM_OBJ_TYPE_COUNT || (e[CE_RIGHTS] & ~RVM_RIGHTS_ALL) ||
		    depth > RVM_CAP_MAX_DEPTH || (depth == 0) != (parent == RVM_CAP_NIL) ||
		    (parent != RVM_CAP_NIL &&
		     (uint64_t)parent >= (uint64_t)RVM_CAP_TABLES * RVM_CAP_TABLE_SLOTS) ||
		    e[CE_RSVD] != 0)
			return RVM_E_CORRUPT;
	}
	return RVM_OK;
}

static enum rvm_err check_edges(struct in *in, const struct rvm_ckpt_view *v)
{
	for (uint32_t i = 0; i < v->nedges; i++) {
		const uint8_t *e = get(in, RVM_CKPT_EDGE_ENTRY);
		uint32_t src, dst, depth;

		if (!e)
			return RVM_E_CORRUPT;
		src = rvm_load_le32(e + EE_SRC);
		dst = rvm_load_le32(e + EE_DST);
		depth = rvm_load_le32(e + EE_HEAD) - rvm_load_le32(e + EE_TAIL);
		if ((rvm_load_le64(e + EE_ID) >> 32) == 0 || src >= RVM_MAX_PARTITIONS ||
		    dst >= RVM_MAX_PARTITIONS || src == dst ||
		    (src != v->partition && dst != v->partition) || depth > RVM_IPC_RING ||
		    !get(in, (uint64_t)depth * RVM_CKPT_DESC_ENTRY))
			return RVM_E_CORRUPT;
	}
	return RVM_OK;
}

static enum rvm_err check_header(const uint8_t *buf, size_t len, struct rvm_ckpt_view *v)
{
	uint64_t body;

	if (len < 8 || rvm_memcmp(buf, RVM_CKPT_MAGIC, 8) != 0)
		return len < 8 ? RVM_E_TRUNCATED : RVM_E_FORMAT;
	if (len < RVM_CKPT_HEADER_SIZE + RVM_CKPT_TRAILER_SIZE)
		return RVM_E_TRUNCATED;
	v->version = rvm_load_le16(buf + CK_VERSION);
	if (v->version < RVM_CKPT_VERSION_MIN || v->version > RVM_CKPT_VERSION)
		return RVM_E_VERSION;
	if (rvm_load_le16(buf + CK_HSIZE) != RVM_CKPT_HEADER_SIZE ||
	    rvm_load_le64(buf + CK_RSVD) != 0)
		return RVM_E_FORMAT;
	body = rvm_load_le64(buf + CK_BODY);
	if (body > len - RVM_CKPT_HEADER_SIZE - RVM_CKPT_TRAILER_SIZE)
		return RVM_E_TRUNCATED;
	if (body != len - RVM_CKPT_HEADER_SIZE - RVM_CKPT_TRAILER_SIZE)
		return RVM_E_FORMAT; /* bytes after the trailer */
	v->buf = buf;
	v->len = len;
	v->partition = rvm_load_le32(buf + CK_PART);
	v->seq = rvm_load_le64(buf + CK_SEQ);
	v->time_ns = rvm_load_le64(buf + CK_TIME);
	rvm_memcpy(v->chain, buf + CK_CHAIN, RVM_SHA256_DIGEST);
	v->nregions = rvm_load_le32(buf + CK_NREG);
	v->nagents = rvm_load_le32(buf + CK_NAGENT);
	v->ncaps = rvm_load_le32(buf + CK_NCAP);
	v->nedges = rvm_load_le32(buf + CK_NEDGE);
	if (v->partition >= RVM_MAX_PARTITIONS || v->nregions > RVM_REGION_SLOTS ||
	    v->nagents > RVM_CKPT_MAX_AGENTS || v->ncaps > RVM_CAP_TABLE_SLOTS ||
	    v->nedges > RVM_IPC_MAX_EDGES)
		return RVM_E_CORRUPT;
	return RVM_OK;
}

enum rvm_err rvm_checkpoint_parse(const uint8_t *buf, size_t len, const struct rvm_sha256_impl *sha,
				  struct rvm_ckpt_view *v)
{
	struct rvm_ckpt_view t;
	struct in in;
	uint8_t h[RVM_SHA256_DIGEST];
	enum rvm_err err;

	if (!buf || !v)
		return RVM_E_INVAL;
	rvm_memset(&t, 0, sizeof(t));
	err = check_header(buf, len, &t);
	if (err != RVM_OK)
		return err;
	rvm_sha256(sha, buf, len - RVM_CKPT_TRAILER_SIZE, h);
	if (!rvm_ct_equal(h, buf + len - RVM_CKPT_TRAILER_SIZE, sizeof(h)))
		return RVM_E_CORRUPT;
	rvm_memcpy(t.sha256, h, sizeof(h));
	in = (struct in){buf, len - RVM_CKPT_TRAILER_SIZE, RVM_CKPT_HEADER_SIZE};
	t.regions_off = in.pos;
	err = check_regions(&in, &t);
	t.agents_off = in.pos;
	if (err == RVM_OK)
		err = check_agents(&in, &t);
	t.caps_off = in.pos;
	if (err == RVM_OK)
		err = check_caps(&in, &t);
	t.edges_off = in.pos;
	if (err == RVM_OK)
		err = check_edges(&in, &t);
	/* The sections account for the whole body. */
	if (err == RVM_OK && in.pos != in.end)
		err = RVM_E_CORRUPT;
	if (err == RVM_OK)
		*v = t;
	return err;
}

/* ---- Iterators (the view was validated: entries are where parse found them) ---- */

enum rvm_err rvm_ckpt_next_region(const struct rvm_ckpt_view *v, uint32_t *pos, size_t *off,
				  struct rvm_ckpt_region *out)
{
	const uint8_t *e;

	if (*pos >= v->nregions)
		return RVM_E_NOTFOUND;
	if (*pos == 0)
		*off = v->regions_off;
	e = v->buf + *off;
	out->id = rvm_load_le64(e + RE_ID);
	out->last_access = rvm_load_le64(e + RE_LAST);
	out->owner = rvm_load_le32(e + RE_OWNER);
	out->order = e[RE_ORDER];
	out->tier = e[RE_TIER];
	out->type = e[RE_TYPE];
	out->writable = e[RE_WR];
	rvm_memcpy(out->digest, e + RE_DIGEST, RVM_SHA256_DIGEST);
	out->image_len = rvm_load_le32(e + RE_ILEN);
	out->image = e + ckpt_region_entry(v->version);
	out->sealed = v->version >= 2;
	if (out->sealed)
		rvm_memcpy(out->seal, e + RE_SEAL, RVM_SHA256_DIGEST);
	else
		rvm_memset(out->seal, 0, RVM_SHA256_DIGEST);
	*off += ckpt_region_entry(v->version) + out->image_len;
	(*pos)++;
	return RVM_OK;
}

enum rvm_err rvm_ckpt_next_agent(const struct rvm_ckpt_view *v, uint32_t *pos, size_t *off,
				 struct rvm_ckpt_agent *out)
{
	const uint8_t *e;

	if (*pos >= v->nagents)
		return RVM_E_NOTFOUND;
	if (*pos == 0)
		*off = v->agents_off;
	e = v->buf + *off;
	out->id = rvm_load_le32(e + AE_ID);
	out->len = (size_t)rvm_load_le64(e + AE_LEN);
	out->snap = e + RVM_CKPT_AGENT_ENTRY;
	*off += RVM_CKPT_AGENT_ENTRY + out->len;
	(*pos)++;
	return RVM_OK;
}

enum rvm_err rvm_ckpt_next_cap(const struct rvm_ckpt_view *v, uint32_t *pos,
			       struct rvm_ckpt_cap *out)
{
	const uint8_t *e;

	if (*pos >= v->ncaps)
		return RVM_E_NOTFOUND;
	e = v->buf + v->caps_off + (size_t)*pos * RVM_CKPT_CAP_ENTRY;
	out->slot = rvm_load_le32(e + CE_SLOT);
	out->gen = rvm_load_le32(e + CE_GEN);
	out->object = rvm_load_le64(e + CE_OBJ);
	out->epoch = rvm_load_le64(e + CE_EPOCH);
	out->parent = rvm_load_le32(e + CE_PARENT);
	out->type = e[CE_TYPE];
	out->rights = e[CE_RIGHTS];
	out->depth = e[CE_DEPTH];
	rvm_memcpy(out->digest, e + CE_SEAL, RVM_CAP_DIGEST);
	(*pos)++;
	return RVM_OK;
}

enum rvm_err rvm_ckpt_next_edge(const struct rvm_ckpt_view *v, uint32_t *pos, size_t *off,
				struct rvm_ckpt_edge *out)
{
	const uint8_t *e;

	if (*pos >= v->nedges)
		return RVM_E_NOTFOUND;
	if (*pos == 0)
		*off = v->edges_off;
	e = v->buf + *off;
	out->id = rvm_load_le64(e + EE_ID);
	out->src = rvm_load_le32(e + EE_SRC);
	out->dst = rvm_load_le32(e + EE_DST);
	out->head = rvm_load_le32(e + EE_HEAD);
	out->tail = rvm_load_le32(e + EE_TAIL);
	out->weight = rvm_load_le64(e + EE_WEIGHT);
	out->sent = rvm_load_le64(e + EE_SENT);
	out->received = rvm_load_le64(e + EE_RECV);
	out->refused = rvm_load_le64(e + EE_REFUSED);
	out->desc = e + RVM_CKPT_EDGE_ENTRY;
	*off += RVM_CKPT_EDGE_ENTRY + (size_t)(out->head - out->tail) * RVM_CKPT_DESC_ENTRY;
	(*pos)++;
	return RVM_OK;
}

enum rvm_err rvm_ckpt_find_agent(const struct rvm_ckpt_view *v, uint32_t id,
				 struct rvm_ckpt_agent *out)
{
	uint32_t pos = 0;
	size_t off = 0;

	while (rvm_ckpt_next_agent(v, &pos, &off, out) == RVM_OK)
		if (out->id == id)
			return RVM_OK;
	return RVM_E_NOTFOUND;
}

enum rvm_err rvm_checkpoint_load(const struct rvm_platform *plat, uint64_t id, uint8_t *buf,
				 size_t cap, struct rvm_ckpt_view *v)
{
	size_t len = 0;
	enum rvm_err err;

	if (!plat || !buf || !v)
		return RVM_E_INVAL;
	if (!plat->checkpoint_get)
		return RVM_E_UNSUPPORTED;
	err = plat->checkpoint_get(plat->ctx, id, buf, cap, &len);
	if (err != RVM_OK)
		return err;
	if (len > cap)
		return RVM_E_NOMEM;
	return rvm_checkpoint_parse(buf, len, plat->sha256, v);
}

/* kernel/cap.c - capability tables and the derivation tree: lookup, insert, seal, iterative revoke. */
#include <rvm/bytes.h>
#include <rvm/cap.h>
#include <rvm/proof.h>

void rvm_cap_space_init(struct rvm_cap_space *s, struct rvm_obj_table *objs,
			const struct rvm_sha256_impl *sha)
{
	/* Only the headers: slots at or above a table's hw are never read. */
	for (uint32_t t = 0; t < RVM_CAP_TABLES; t++) {
		s->tables[t].hw = 0;
		s->tables[t].free_head = RVM_CAP_NIL;
		s->tables[t].live = 0;
		s->tables[t].retired = 0;
	}
	s->objs = objs;
	s->sha = sha;
	s->epoch = 1;
}

void rvm_cap_seal_fields(const struct rvm_sha256_impl *sha, uint32_t table, uint32_t slot,
			 uint32_t gen, uint8_t type, uint8_t rights, uint8_t depth, uint64_t object,
			 uint64_t epoch, const uint8_t parent_digest[RVM_CAP_DIGEST],
			 uint8_t out[RVM_CAP_DIGEST])
{
	/*
	 * The message is 51 bytes, so SHA-256 is exactly one padded block: build
	 * it here and compress once (nothing secret, so no wipe either).
	 */
	uint8_t m[RVM_SHA256_BLOCK] = { 0 };
	struct rvm_sha256 ctx;

	rvm_store_le32(m, RVM_CAP_TOKEN_MAGIC);
	rvm_store_le32(m + 4, table);
	rvm_store_le32(m + 8, slot);
	rvm_store_le32(m + 12, gen);
	m[16] = type;
	m[17] = rights;
	m[18] = depth;
	rvm_store_le64(m + 19, object);
	rvm_store_le64(m + 27, epoch);
	for (uint32_t i = 0; i < RVM_CAP_DIGEST; i++)
		m[35 + i] = parent_digest[i];
	m[51] = 0x80;
	rvm_store_be64(m + 56, 51u * 8u);
	rvm_sha256_init(&ctx, sha);
	ctx.blocks(ctx.state, m, 1);
	for (uint32_t i = 0; i < RVM_CAP_DIGEST / 4; i++)
		rvm_store_be32(out + 4 * i, ctx.state[i]);
}

void rvm_cap_seal(const struct rvm_cap_space *s, uint32_t ref, const struct rvm_cap *c,
		  const uint8_t parent_digest[RVM_CAP_DIGEST], uint8_t out[RVM_CAP_DIGEST])
{
	rvm_cap_seal_fields(s->sha, ref / RVM_CAP_TABLE_SLOTS, ref % RVM_CAP_TABLE_SLOTS, c->gen,
			    c->type, c->rights, c->depth, c->object, c->epoch, parent_digest, out);
}

static const uint8_t rvm_cap_zero_digest[RVM_CAP_DIGEST];

static const uint8_t *parent_digest_of(const struct rvm_cap_space *s, const struct rvm_cap *c)
{
	return c->parent == RVM_CAP_NIL ? rvm_cap_zero_digest
					: rvm_cap_at_const(s, c->parent)->digest;
}

static void reseal(struct rvm_cap_space *s, uint32_t ref)
{
	struct rvm_cap *c = rvm_cap_at(s, ref);

	rvm_cap_seal(s, ref, c, parent_digest_of(s, c), c->digest);
}

/* Handle -> live slot, without looking at the object it names. */
static enum rvm_err resolve_slot(const struct rvm_cap_space *s, uint32_t table, rvm_cap_t h,
				 const struct rvm_cap **out)
{
	uint32_t slot = rvm_handle_slot(h), gen = rvm_handle_gen(h);
	const struct rvm_cap_table *t;
	const struct rvm_cap *c;

	if (table >= RVM_CAP_TABLES || slot >= RVM_CAP_TABLE_SLOTS || gen == 0)
		return RVM_E_INVAL;
	t = &s->tables[table];
	if (slot >= t->hw)
		return RVM_E_STALE;
	c = &t->slots[slot];
	if (c->gen != gen)
		return RVM_E_STALE;
	if (c->state != RVM_CAPS_LIVE)
		return (c->flags & RVM_CAPF_REVOKED) ? RVM_E_REVOKED : RVM_E_STALE;
	*out = c;
	return RVM_OK;
}

enum rvm_err rvm_cap_resolve(const struct rvm_cap_space *s, uint32_t table, rvm_cap_t h,
			     const struct rvm_cap **out)
{
	const struct rvm_cap *c;
	enum rvm_err e = resolve_slot(s, table, h, &c);

	if (e != RVM_OK)
		return e;
	/* A cap to a destroyed object is as dead as the object. */
	if (rvm_obj_lookup(s->objs, c->object, (enum rvm_obj_type)c->type) != RVM_OK)
		return RVM_E_STALE;
	*out = c;
	return RVM_OK;
}

enum rvm_err rvm_cap_resolve_any(const struct rvm_cap_space *s, uint32_t table, rvm_cap_t h,
				 const struct rvm_cap **out)
{
	return resolve_slot(s, table, h, out);
}

rvm_cap_t rvm_cap_handle_of(const struct rvm_cap_space *s, uint32_t ref)
{
	return rvm_handle_make(ref % RVM_CAP_TABLE_SLOTS, rvm_cap_at_const(s, ref)->gen);
}

enum rvm_err rvm_cap_table_has_room(const struct rvm_cap_space *s, uint32_t table)
{
	const struct rvm_cap_table *t;

	if (table >= RVM_CAP_TABLES)
		return RVM_E_INVAL;
	t = &s->tables[table];
	return (t->free_head != RVM_CAP_NIL || t->hw < RVM_CAP_TABLE_SLOTS) ? RVM_OK
									    : RVM_E_NOMEM;
}

uint32_t rvm_cap_insert(struct rvm_cap_space *s, uint32_t table, uint32_t parent, uint8_t type,
			uint64_t object, uint8_t rights)
{
	struct rvm_cap_table *t = &s->tables[table];
	struct rvm_cap *c;
	uint32_t slot, ref;

	if (t->free_head != RVM_CAP_NIL) {
		slot = t->free_head;
		c = &t->slots[slot];
		t->free_head = c->next_sibling;
		c->gen++; /* < UINT32_MAX: slots at the maximum are retired, never listed */
	} else {
		slot = t->hw++;
		c = &t->slots[slot];
		c->gen = 1; /* generation 0 is never issued */
	}
	ref = rvm_cap_ref(table, slot);
	c->object = object;
	c->epoch = s->epoch;
	c->parent = parent;
	c->first_child = RVM_CAP_NIL;
	c->prev_sibling = RVM_CAP_NIL;
	c->next_sibling = RVM_CAP_NIL;
	c->type = type;
	c->rights = rights;
	c->depth = 0;
	c->state = RVM_CAPS_LIVE;
	c->flags = 0;
	rvm_memset(c->pad, 0, sizeof(c->pad));
	c->pad2 = 0;
	if (parent != RVM_CAP_NIL) {
		struct rvm_cap *p = rvm_cap_at(s, parent);

		c->depth = (uint8_t)(p->depth + 1);
		c->next_sibling = p->first_child;
		if (p->first_child != RVM_CAP_NIL)
			rvm_cap_at(s, p->first_child)->prev_sibling = ref;
		p->first_child = ref;
	}
	t->live++;
	reseal(s, ref);
	return ref;
}

/* Unlinks a childless cap from its parent's child list and frees its slot. */
static void free_leaf(struct rvm_cap_space *s, uint32_t ref, bool revoked)
{
	struct rvm_cap_table *t = &s->tables[ref / RVM_CAP_TABLE_SLOTS];
	struct rvm_cap *c = rvm_cap_at(s, ref);

	if (c->prev_sibling != RVM_CAP_NIL)
		rvm_cap_at(s, c->prev_sibling)->next_sibling = c->next_sibling;
	else if (c->parent != RVM_CAP_NIL)
		rvm_cap_at(s, c->parent)->first_child = c->next_sibling;
	if (c->next_sibling != RVM_CAP_NIL)
		rvm_cap_at(s, c->next_sibling)->prev_sibling = c->prev_sibling;
	c->state = RVM_CAPS_FREE;
	c->flags = revoked ? RVM_CAPF_REVOKED : 0;
	c->parent = RVM_CAP_NIL;
	c->prev_sibling = RVM_CAP_NIL;
	rvm_memset(c->digest, 0, sizeof(c->digest));
	t->live--;
	if (c->gen == UINT32_MAX) {
		/* Reuse would need generation 0 or a wrap: retire the slot. */
		c->flags |= RVM_CAPF_RETIRED;
		c->next_sibling = RVM_CAP_NIL;
		t->retired++;
		return;
	}
	c->next_sibling = t->free_head;
	t->free_head = ref % RVM_CAP_TABLE_SLOTS;
}

uint32_t rvm_cap_remove_subtree(struct rvm_cap_space *s, uint32_t ref, bool include_self)
{
	uint32_t count = 0, cur = ref;

	/*
	 * Leftmost-leaf walk: descend first children to a leaf, free it, step
	 * back to its parent, repeat. Each edge is walked down once and up
	 * once: O(n) time, no stack, whatever the tree's shape.
	 */
	for (;;) {
		struct rvm_cap *c = rvm_cap_at(s, cur);
		uint32_t parent;

		if (c->first_child != RVM_CAP_NIL) {
			cur = c->first_child;
			continue;
		}
		if (cur == ref)
			break;
		parent = c->parent;
		free_leaf(s, cur, true);
		count++;
		cur = parent;
	}
	if (include_self) {
		free_leaf(s, ref, false);
		count++;
	}
	if (count)
		s->epoch++;
	return count;
}

void rvm_cap_set_rights(struct rvm_cap_space *s, uint32_t ref, uint8_t rights)
{
	uint32_t cur = ref;

	rvm_cap_at(s, ref)->rights = rights;
	reseal(s, ref);
	/* Pre-order walk of the subtree (parents before children), no stack. */
	for (;;) {
		struct rvm_cap *c = rvm_cap_at(s, cur);

		if (c->first_child != RVM_CAP_NIL) {
			cur = c->first_child;
		} else {
			while (cur != ref && rvm_cap_at(s, cur)->next_sibling == RVM_CAP_NIL)
				cur = rvm_cap_at(s, cur)->parent;
			if (cur == ref)
				return;
			cur = rvm_cap_at(s, cur)->next_sibling;
		}
		reseal(s, cur);
	}
}

enum rvm_err rvm_cap_cached_valid(const struct rvm_cap_space *s, const struct rvm_cap_cached *c)
{
	return c->epoch == s->epoch ? RVM_OK : RVM_E_EPOCH;
}

/* The per-cap half of the invariants; children counted into *links. */
static bool cap_ok(const struct rvm_cap_space *s, uint32_t ref, uint64_t *links)
{
	const struct rvm_cap *c = rvm_cap_at_const(s, ref);
	uint8_t d[RVM_CAP_DIGEST];
	uint32_t prev = RVM_CAP_NIL, n = 0;

	if (c->gen == 0 || c->depth > RVM_CAP_MAX_DEPTH || c->epoch > s->epoch ||
	    (c->rights & ~RVM_RIGHTS_ALL))
		return false;
	if (c->parent == RVM_CAP_NIL) {
		if (c->depth != 0)
			return false;
	} else {
		const struct rvm_cap *p;

		if (c->parent / RVM_CAP_TABLE_SLOTS >= RVM_CAP_TABLES)
			return false;
		p = rvm_cap_at_const(s, c->parent);
		if (p->state != RVM_CAPS_LIVE || c->depth != p->depth + 1 ||
		    !rvm_cap_rights_derivable(p->rights, c->rights) || c->epoch < p->epoch ||
		    c->type != p->type || c->object != p->object)
			return false;
	}
	rvm_cap_seal(s, ref, c, parent_digest_of(s, c), d);
	if (!rvm_ct_equal(d, c->digest, sizeof(d)))
		return false;
	/* The child list: doubly linked, every child points back, bounded length. */
	for (uint32_t k = c->first_child; k != RVM_CAP_NIL; k = rvm_cap_at_const(s, k)->next_sibling) {
		const struct rvm_cap *k_cap;

		if (k / RVM_CAP_TABLE_SLOTS >= RVM_CAP_TABLES ||
		    (uint64_t)++n > (uint64_t)RVM_CAP_TABLES * RVM_CAP_TABLE_SLOTS)
			return false;
		k_cap = rvm_cap_at_const(s, k);
		if (k_cap->state != RVM_CAPS_LIVE || k_cap->parent != ref ||
		    k_cap->prev_sibling != prev)
			return false;
		prev = k;
	}
	*links += n;
	return true;
}

enum rvm_err rvm_cap_check_invariants(const struct rvm_cap_space *s)
{
	uint64_t non_roots = 0, links = 0;

	for (uint32_t ti = 0; ti < RVM_CAP_TABLES; ti++) {
		const struct rvm_cap_table *t = &s->tables[ti];
		uint32_t live = 0, retired = 0, free_n = 0;

		if (t->hw > RVM_CAP_TABLE_SLOTS)
			return RVM_E_CORRUPT;
		for (uint32_t i = 0; i < t->hw; i++) {
			const struct rvm_cap *c = &t->slots[i];

			if (c->state == RVM_CAPS_LIVE) {
				live++;
				non_roots += c->parent != RVM_CAP_NIL;
				if (!cap_ok(s, rvm_cap_ref(ti, i), &links))
					return RVM_E_CORRUPT;
			} else if (c->state != RVM_CAPS_FREE) {
				return RVM_E_CORRUPT;
			} else if (c->flags & RVM_CAPF_RETIRED) {
				if (c->gen != UINT32_MAX)
					return RVM_E_CORRUPT;
				retired++;
			}
		}
		for (uint32_t f = t->free_head; f != RVM_CAP_NIL; f = t->slots[f].next_sibling) {
			if (f >= t->hw || t->slots[f].state != RVM_CAPS_FREE ||
			    (t->slots[f].flags & RVM_CAPF_RETIRED) || ++free_n > t->hw)
				return RVM_E_CORRUPT;
		}
		if (live != t->live || retired != t->retired || live + retired + free_n != t->hw)
			return RVM_E_CORRUPT;
	}
	/* Every non-root is on exactly its parent's list (each list was checked to point back). */
	return non_roots == links ? RVM_OK : RVM_E_CORRUPT;
}

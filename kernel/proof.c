/* kernel/proof.c - P1 (rights, constant time) and P3 (derivation chain walk to the root). */
#include <rvm/bytes.h>
#include <rvm/proof.h>

enum rvm_err rvm_proof_p1(uint8_t held, uint8_t required)
{
	/* missing is 0..255; 0 - missing has its top bit set iff missing != 0. */
	uint32_t missing = (uint32_t)required & ~(uint32_t)held;
	uint32_t bad = (0u - missing) >> 31;

	return (enum rvm_err)(bad * (uint32_t)RVM_E_PERM);
}

uint32_t rvm_proof_p1_batch(const uint8_t *restrict held, const uint8_t *restrict required, size_t n,
			    uint8_t *restrict out)
{
	const uint64_t lo7 = 0x7F7F7F7F7F7F7F7Full, hi = 0x8080808080808080ull;
	uint64_t any = 0;
	size_t i = 0;

	/*
	 * Eight checks per step (SWAR). For each byte m of missing rights,
	 * ((m & 0x7F) + 0x7F) | m has its top bit set iff m != 0; no carry
	 * crosses a byte because (m & 0x7F) + 0x7F <= 0xFE.
	 */
	for (; i + 8 <= n; i += 8) {
		uint64_t m = rvm_load_le64(required + i) & ~rvm_load_le64(held + i);
		uint64_t e = ((((m & lo7) + lo7) | m) & hi) >> 7;

		e *= (uint64_t)RVM_E_PERM; /* 0 or RVM_E_PERM per byte: RVM_E_PERM < 256 */
		rvm_store_le64(out + i, e);
		any |= e;
	}
	for (; i < n; i++) {
		uint32_t missing = (uint32_t)required[i] & ~(uint32_t)held[i];
		uint32_t e = ((0u - missing) >> 31) * (uint32_t)RVM_E_PERM;

		out[i] = (uint8_t)e;
		any |= e;
	}
	any |= any >> 32;
	any |= any >> 16;
	any |= any >> 8;
	return (uint32_t)(any & 0xFF);
}

static const uint8_t rvm_proof_zero_digest[RVM_CAP_DIGEST];

/* One link of the chain against its parent (NULL for the root). */
static enum rvm_err p3_link(const struct rvm_cap_space *s, uint32_t ref, const struct rvm_cap *c,
			    const struct rvm_cap *p)
{
	uint8_t d[RVM_CAP_DIGEST];

	if (c->state != RVM_CAPS_LIVE)
		return RVM_E_REVOKED;
	if (c->epoch > s->epoch)
		return RVM_E_EPOCH;
	if (!p) {
		if (c->depth != 0)
			return RVM_E_DEPTH;
	} else {
		if (p->state != RVM_CAPS_LIVE)
			return RVM_E_REVOKED;
		if (c->depth != p->depth + 1)
			return RVM_E_DEPTH;
		if (!rvm_cap_rights_derivable(p->rights, c->rights))
			return RVM_E_PERM;
		if (c->epoch < p->epoch)
			return RVM_E_EPOCH;
		if (c->type != p->type || c->object != p->object)
			return RVM_E_CORRUPT;
	}
	rvm_cap_seal(s, ref, c, p ? p->digest : rvm_proof_zero_digest, d);
	return rvm_ct_equal(d, c->digest, sizeof(d)) ? RVM_OK : RVM_E_CORRUPT;
}

enum rvm_err rvm_proof_p3(const struct rvm_cap_space *s, uint32_t table, rvm_cap_t h)
{
	const struct rvm_cap *c;
	enum rvm_err e = rvm_cap_resolve(s, table, h, &c);
	uint32_t ref;

	if (e != RVM_OK)
		return e;
	ref = rvm_cap_ref(table, rvm_handle_slot(h));
	/* At most RVM_CAP_MAX_DEPTH + 1 links, whatever the links say. */
	for (uint32_t step = 0; step <= RVM_CAP_MAX_DEPTH; step++) {
		const struct rvm_cap *p = NULL;

		if (c->parent != RVM_CAP_NIL) {
			if (c->parent / RVM_CAP_TABLE_SLOTS >= RVM_CAP_TABLES)
				return RVM_E_CORRUPT;
			p = rvm_cap_at_const(s, c->parent);
		}
		e = p3_link(s, ref, c, p);
		if (e != RVM_OK || !p)
			return e;
		ref = c->parent;
		c = p;
	}
	return RVM_E_DEPTH;
}

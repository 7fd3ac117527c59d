/* kernel/proof_token.c - exported derivation chains: encode, sign per link, verify with no tables. */
#include <rvm/bytes.h>
#include <rvm/proof.h>

void rvm_cap_token_encode(const struct rvm_cap_token *t, uint8_t out[RVM_CAP_TOKEN_BODY])
{
	rvm_store_le32(out, RVM_CAP_TOKEN_MAGIC);
	rvm_store_le32(out + 4, t->table);
	rvm_store_le32(out + 8, t->slot);
	rvm_store_le32(out + 12, t->gen);
	out[16] = t->type;
	out[17] = t->rights;
	out[18] = t->depth;
	out[19] = 0;
	rvm_store_le64(out + 20, t->object);
	rvm_store_le64(out + 28, t->epoch);
	rvm_memcpy(out + 36, t->parent_digest, RVM_CAP_DIGEST);
	rvm_memcpy(out + 52, t->digest, RVM_CAP_DIGEST);
}

enum rvm_err rvm_proof_chain_export(const struct rvm_cap_space *s, uint32_t table, rvm_cap_t h,
				    struct rvm_cap_token out[RVM_CAP_MAX_DEPTH + 1], uint32_t *n)
{
	uint32_t refs[RVM_CAP_MAX_DEPTH + 1], k = 0, ref;
	enum rvm_err e = rvm_proof_p3(s, table, h);

	if (e != RVM_OK)
		return e;
	/* P3 passed: at most 9 links, each parent live and in range. */
	for (ref = rvm_cap_ref(table, rvm_handle_slot(h)); ref != RVM_CAP_NIL;
	     ref = rvm_cap_at_const(s, ref)->parent)
		refs[k++] = ref;
	for (uint32_t i = 0; i < k; i++) {
		const struct rvm_cap *c = rvm_cap_at_const(s, refs[k - 1 - i]);
		struct rvm_cap_token *t = &out[i];

		t->table = refs[k - 1 - i] / RVM_CAP_TABLE_SLOTS;
		t->slot = refs[k - 1 - i] % RVM_CAP_TABLE_SLOTS;
		t->gen = c->gen;
		t->type = c->type;
		t->rights = c->rights;
		t->depth = c->depth;
		t->object = c->object;
		t->epoch = c->epoch;
		if (i == 0)
			rvm_memset(t->parent_digest, 0, RVM_CAP_DIGEST);
		else
			rvm_memcpy(t->parent_digest, out[i - 1].digest, RVM_CAP_DIGEST);
		rvm_memcpy(t->digest, c->digest, RVM_CAP_DIGEST);
		rvm_memset(t->sig, 0, sizeof(t->sig));
	}
	*n = k;
	return RVM_OK;
}

void rvm_proof_token_sign(struct rvm_cap_token *t, const uint8_t sk[RVM_ED25519_SECRET])
{
	uint8_t body[RVM_CAP_TOKEN_BODY];

	rvm_cap_token_encode(t, body);
	rvm_ed25519_sign(t->sig, sk, body, sizeof(body));
}

/* One link against its parent (NULL for the root), without signatures. */
static enum rvm_err token_link(const struct rvm_sha256_impl *sha, const struct rvm_cap_token *t,
			       const struct rvm_cap_token *p, uint32_t depth)
{
	static const uint8_t zero[RVM_CAP_DIGEST];
	uint8_t d[RVM_CAP_DIGEST];

	if (t->depth != depth)
		return RVM_E_DEPTH;
	if (t->rights & ~RVM_RIGHTS_ALL)
		return RVM_E_CORRUPT;
	if (!rvm_ct_equal(t->parent_digest, p ? p->digest : zero, RVM_CAP_DIGEST))
		return RVM_E_CORRUPT;
	if (p) {
		if (!rvm_cap_rights_derivable(p->rights, t->rights))
			return RVM_E_PERM;
		if (t->epoch < p->epoch)
			return RVM_E_EPOCH;
		if (t->type != p->type || t->object != p->object)
			return RVM_E_CORRUPT;
	}
	rvm_cap_seal_fields(sha, t->table, t->slot, t->gen, t->type, t->rights, t->depth,
			    t->object, t->epoch, t->parent_digest, d);
	return rvm_ct_equal(d, t->digest, RVM_CAP_DIGEST) ? RVM_OK : RVM_E_CORRUPT;
}

enum rvm_err rvm_proof_chain_verify(const struct rvm_sha256_impl *sha,
				    const struct rvm_cap_token *chain, uint32_t n,
				    const uint8_t *pk)
{
	if (!chain || n == 0 || n > RVM_CAP_MAX_DEPTH + 1)
		return RVM_E_INVAL;
	for (uint32_t i = 0; i < n; i++) {
		const struct rvm_cap_token *t = &chain[i];
		enum rvm_err e;

		/* The signature first: a tampered link is a bad signature, whatever else it breaks. */
		if (pk) {
			uint8_t body[RVM_CAP_TOKEN_BODY];

			rvm_cap_token_encode(t, body);
			if (!rvm_ed25519_verify(t->sig, pk, body, sizeof(body)))
				return RVM_E_BADSIG;
		}
		e = token_link(sha, t, i ? &chain[i - 1] : NULL, i);
		if (e != RVM_OK)
			return e;
	}
	return RVM_OK;
}

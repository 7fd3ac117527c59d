/* kernel/checkpoint_seal.c - region entry seals: the SHA-256 of an entry and its stored image. */
#include <rvm/bytes.h>
#include <rvm/checkpoint.h>

#include "checkpoint_priv.h"

/*
 * Why a seal and not the content digest: the pages a restore installs are
 * decoded from the image by a deterministic, bounds-checked decoder, so
 * checking the image as stored (about a third of the pages' size for typical
 * state, never more than the pages and 2 bytes a page) pins them as surely as
 * hashing the decoded pages, and it also pins the entry's fields, which the
 * content digest did not.
 */

/* Where the image of the entry at e starts, and its length. */
static const uint8_t *image_of(const uint8_t *e, uint32_t *len)
{
	*len = rvm_load_le32(e + RE_ILEN);
	return e + RVM_CKPT_REGION_ENTRY;
}

/* Hashes the entries at ea and eb (eb may be NULL) into da and db, in step where it can. */
static void seal2(const struct rvm_sha256_impl *sha, const uint8_t *ea,
		  uint8_t da[RVM_SHA256_DIGEST], const uint8_t *eb, uint8_t db[RVM_SHA256_DIGEST])
{
	struct rvm_sha256 ha, hb;
	uint32_t la, lb;
	const uint8_t *ia = image_of(ea, &la), *ib;

	rvm_sha256_init(&ha, sha);
	if (!eb) {
		rvm_sha256_update(&ha, ea, RE_SEAL);
		rvm_sha256_update(&ha, ia, la);
		rvm_sha256_final(&ha, da);
		return;
	}
	ib = image_of(eb, &lb);
	rvm_sha256_init(&hb, sha);
	rvm_sha256_update2(&ha, ea, &hb, eb, RE_SEAL);
	rvm_sha256_update2(&ha, ia, &hb, ib, la < lb ? la : lb);
	if (la > lb)
		rvm_sha256_update(&ha, ia + lb, la - lb);
	else
		rvm_sha256_update(&hb, ib + la, lb - la);
	rvm_sha256_final(&ha, da);
	rvm_sha256_final(&hb, db);
}

void ckpt_seal_put2(const struct rvm_sha256_impl *sha, uint8_t *ea, uint8_t *eb)
{
	uint8_t da[RVM_SHA256_DIGEST], db[RVM_SHA256_DIGEST];

	seal2(sha, ea, da, eb, db);
	rvm_memcpy(ea + RE_SEAL, da, sizeof(da));
	if (eb)
		rvm_memcpy(eb + RE_SEAL, db, sizeof(db));
}

enum rvm_err ckpt_seal_check2(const struct rvm_sha256_impl *sha, const struct rvm_ckpt_region *a,
			      const struct rvm_ckpt_region *b)
{
	uint8_t da[RVM_SHA256_DIGEST], db[RVM_SHA256_DIGEST];
	const uint8_t *ea = a->image - RVM_CKPT_REGION_ENTRY;
	const uint8_t *eb = b ? b->image - RVM_CKPT_REGION_ENTRY : NULL;
	bool ok;

	if (!a->sealed || (b && !b->sealed))
		return RVM_E_CORRUPT;
	seal2(sha, ea, da, eb, db);
	ok = rvm_ct_equal(da, a->seal, sizeof(da));
	if (b)
		ok = rvm_ct_equal(db, b->seal, sizeof(db)) && ok;
	return ok ? RVM_OK : RVM_E_CORRUPT;
}

/* kernel/region_image.c - the compressed store of dormant regions and the LZ4 page images in it. */
#include <rvm/bytes.h>
#include <rvm/region.h>

#include "region_priv.h"

/* ---- Store extents: sorted by offset, never overlapping ---- */

void region_store_gap(const struct rvm_region_store *st, uint32_t *off, uint32_t *len)
{
	uint32_t at = 0;

	*off = 0;
	*len = 0;
	for (uint32_t i = 0; i <= st->n; i++) {
		uint32_t end = i < st->n ? st->ext[i].off : st->cap;

		if (end - at > *len) {
			*off = at;
			*len = end - at;
		}
		if (i < st->n)
			at = st->ext[i].off + st->ext[i].len;
	}
}

void region_store_insert(struct rvm_region_store *st, uint32_t off, uint32_t len, uint32_t slot)
{
	uint32_t i = st->n;

	while (i > 0 && st->ext[i - 1].off > off) {
		st->ext[i] = st->ext[i - 1];
		i--;
	}
	st->ext[i].off = off;
	st->ext[i].len = len;
	st->ext[i].slot = slot;
	st->n++;
}

const struct rvm_region_extent *region_store_find(const struct rvm_region_store *st, uint32_t slot)
{
	for (uint32_t i = 0; i < st->n; i++)
		if (st->ext[i].slot == slot)
			return &st->ext[i];
	return NULL;
}

void region_store_remove(struct rvm_region_store *st, uint32_t slot)
{
	for (uint32_t i = 0; i < st->n; i++) {
		if (st->ext[i].slot != slot)
			continue;
		for (st->n--; i < st->n; i++)
			st->ext[i] = st->ext[i + 1];
		return;
	}
}

/* ---- Images: a u16 length per page, then the pages' LZ4 blocks (4096 = raw) ---- */

static const struct rvm_sha256_impl *sha_impl(const struct rvm_region_space *s)
{
	return s->plat ? s->plat->sha256 : NULL;
}

enum rvm_err region_image_encode(struct rvm_region_space *s, const uint8_t *src, uint32_t npages,
				 uint8_t *out, uint32_t cap, uint32_t *len,
				 uint8_t digest[RVM_SHA256_DIGEST])
{
	struct rvm_sha256 h;
	uint32_t pos = 2 * npages;

	if (cap < pos)
		return RVM_E_NOMEM;
	rvm_sha256_init(&h, sha_impl(s));
	for (uint32_t i = 0; i < npages; i++) {
		const uint8_t *page = src + (size_t)i * RVM_FRAME_SIZE;
		uint32_t room = cap - pos;
		size_t clen = 0;

		if (digest)
			rvm_sha256_update(&h, page, RVM_FRAME_SIZE);
		/* Below 4096 bytes or not at all: 4096 marks a raw page. */
		if (rvm_lz4_compress(&s->lz4, page, RVM_FRAME_SIZE, out + pos,
				     room < RVM_FRAME_SIZE - 1 ? room : RVM_FRAME_SIZE - 1,
				     &clen) != RVM_OK) {
			if (room < RVM_FRAME_SIZE) {
				rvm_wipe(&h, sizeof(h));
				return RVM_E_NOMEM;
			}
			rvm_memcpy(out + pos, page, RVM_FRAME_SIZE);
			clen = RVM_FRAME_SIZE;
		}
		rvm_store_le16(out + 2 * i, (uint16_t)clen);
		pos += (uint32_t)clen;
	}
	if (digest)
		rvm_sha256_final(&h, digest);
	else
		rvm_wipe(&h, sizeof(h));
	*len = pos;
	return RVM_OK;
}

/* Page i of an image into page (raw or LZ4); *pos moves past its bytes. */
static enum rvm_err image_page(const uint8_t *img, uint32_t len, uint32_t i, uint32_t *pos,
			       uint8_t *page)
{
	uint32_t l = rvm_load_le16(img + 2 * i);
	size_t out = 0;

	if (l == 0 || l > RVM_FRAME_SIZE || l > len - *pos)
		return RVM_E_CORRUPT;
	if (l == RVM_FRAME_SIZE)
		rvm_memcpy(page, img + *pos, RVM_FRAME_SIZE);
	else if (rvm_lz4_decompress(img + *pos, l, page, RVM_FRAME_SIZE, &out) != RVM_OK ||
		 out != RVM_FRAME_SIZE)
		return RVM_E_CORRUPT;
	*pos += l;
	return RVM_OK;
}

/* Did the image end where its last page did, with the digest it was meant to have? */
static enum rvm_err image_end(struct rvm_sha256 *h, enum rvm_err err, uint32_t pos, uint32_t len,
			      const uint8_t digest[RVM_SHA256_DIGEST])
{
	uint8_t got[RVM_SHA256_DIGEST];

	rvm_sha256_final(h, got);
	if (err == RVM_OK && (pos != len || !rvm_ct_equal(got, digest, sizeof(got))))
		err = RVM_E_CORRUPT;
	return err;
}

enum rvm_err region_image_decode(struct rvm_region_space *s, const uint8_t *img, uint32_t len,
				 uint32_t npages, uint8_t *dst,
				 const uint8_t digest[RVM_SHA256_DIGEST])
{
	struct rvm_sha256 h;
	uint32_t pos = 2 * npages;
	enum rvm_err err = RVM_OK;

	if (len < pos)
		return RVM_E_CORRUPT;
	rvm_sha256_init(&h, sha_impl(s));
	for (uint32_t i = 0; i < npages && err == RVM_OK; i++) {
		uint8_t *page = dst ? dst + (size_t)i * RVM_FRAME_SIZE : s->scratch;

		err = image_page(img, len, i, &pos, page);
		if (err == RVM_OK)
			rvm_sha256_update(&h, page, RVM_FRAME_SIZE);
	}
	return image_end(&h, err, pos, len, digest);
}

enum rvm_err region_image_unpack(const uint8_t *img, uint32_t len, uint32_t npages, uint8_t *dst)
{
	uint32_t pos = 2 * npages;
	enum rvm_err err = RVM_OK;

	if (len < pos)
		return RVM_E_CORRUPT;
	for (uint32_t i = 0; i < npages && err == RVM_OK; i++)
		err = image_page(img, len, i, &pos, dst + (size_t)i * RVM_FRAME_SIZE);
	return err == RVM_OK && pos != len ? RVM_E_CORRUPT : err;
}

enum rvm_err region_image_decode_pair(struct rvm_region_space *s,
				      const struct region_image_job job[2])
{
	const struct region_image_job *a = &job[0], *b = &job[1];
	struct rvm_sha256 ha, hb;
	uint32_t pa = 2 * a->npages, pb = 2 * b->npages;
	uint32_t n = a->npages > b->npages ? a->npages : b->npages;
	enum rvm_err ea = RVM_OK, eb = RVM_OK;

	if (a->len < pa || b->len < pb)
		return RVM_E_CORRUPT;
	rvm_sha256_init(&ha, sha_impl(s));
	rvm_sha256_init(&hb, sha_impl(s));
	for (uint32_t i = 0; i < n && ea == RVM_OK && eb == RVM_OK; i++) {
		bool in_a = i < a->npages, in_b = i < b->npages;
		uint8_t *qa = in_a ? a->dst + (size_t)i * RVM_FRAME_SIZE : NULL;
		uint8_t *qb = in_b ? b->dst + (size_t)i * RVM_FRAME_SIZE : NULL;

		if (in_a)
			ea = image_page(a->img, a->len, i, &pa, qa);
		if (in_b && ea == RVM_OK)
			eb = image_page(b->img, b->len, i, &pb, qb);
		if (ea != RVM_OK || eb != RVM_OK)
			break;
		if (in_a && in_b)
			rvm_sha256_update2(&ha, qa, &hb, qb, RVM_FRAME_SIZE);
		else
			rvm_sha256_update(in_a ? &ha : &hb, in_a ? qa : qb, RVM_FRAME_SIZE);
	}
	ea = image_end(&ha, ea, pa, a->len, a->digest);
	eb = image_end(&hb, eb, pb, b->len, b->digest);
	return ea != RVM_OK ? ea : eb;
}

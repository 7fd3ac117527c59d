/* kernel/checkpoint_priv.h - the byte layout of a checkpoint, shared by the writer, the parser and
 * restore. */
#ifndef RVM_CHECKPOINT_PRIV_H
#define RVM_CHECKPOINT_PRIV_H

#include <rvm/checkpoint.h>

/*
 * Header (RVM_CKPT_HEADER_SIZE bytes, little-endian):
 *   0 magic "RVMCKPT1"   8 version u16   10 header size u16   12 partition u32
 *  16 seq u64            24 time_ns u64  32 chain digest D(seq-1) [32]
 *  64 nregions u32       68 nagents u32  72 ncaps u32         76 nedges u32
 *  80 body length u64    88 reserved u64 (0)
 * Body: the region entries, agent entries, cap entries, edge entries, in that
 * order; then the trailer, SHA-256 of header and body.
 */
enum {
	CK_VERSION = 8,
	CK_HSIZE = 10,
	CK_PART = 12,
	CK_SEQ = 16,
	CK_TIME = 24,
	CK_CHAIN = 32,
	CK_NREG = 64,
	CK_NAGENT = 68,
	CK_NCAP = 72,
	CK_NEDGE = 76,
	CK_BODY = 80,
	CK_RSVD = 88,
};

/* Region entry: 0 id u64, 8 last_access u64, 16 image_len u32, 20 owner u32, 24 order,
 * 25 tier, 26 type, 27 writable (u8 each), 28 reserved u32, 32 digest [32], and in version 2
 * 64 seal [32] = SHA-256(bytes 0..64 of the entry || the image); then the image. */
enum {
	RE_ID = 0,
	RE_LAST = 8,
	RE_ILEN = 16,
	RE_OWNER = 20,
	RE_ORDER = 24,
	RE_TIER = 25,
	RE_TYPE = 26,
	RE_WR = 27,
	RE_RSVD = 28,
	RE_DIGEST = 32,
	RE_SEAL = 64
};

/* Agent entry: 0 id u32, 4 reserved u32, 8 length u64; then the snapshot. */
enum { AE_ID = 0, AE_RSVD = 4, AE_LEN = 8 };

/* Cap entry: 0 slot u32, 4 gen u32, 8 object u64, 16 epoch u64, 24 parent u32, 28 type,
 * 29 rights, 30 depth, 31 reserved (u8 each), 32 seal [16]. */
enum {
	CE_SLOT = 0,
	CE_GEN = 4,
	CE_OBJ = 8,
	CE_EPOCH = 16,
	CE_PARENT = 24,
	CE_TYPE = 28,
	CE_RIGHTS = 29,
	CE_DEPTH = 30,
	CE_RSVD = 31,
	CE_SEAL = 32
};

/* Edge entry: 0 id u64, 8 src u32, 12 dst u32, 16 head u32, 20 tail u32, 24 weight u64,
 * 32 sent u64, 40 received u64, 48 refused u64; then (head - tail) descriptors of
 * 24 bytes: region u64, tag u64, offset u32, length u32. */
enum {
	EE_ID = 0,
	EE_SRC = 8,
	EE_DST = 12,
	EE_HEAD = 16,
	EE_TAIL = 20,
	EE_WEIGHT = 24,
	EE_SENT = 32,
	EE_RECV = 40,
	EE_REFUSED = 48
};

_Static_assert(RE_DIGEST + RVM_SHA256_DIGEST == RVM_CKPT_REGION_ENTRY_V1, "region entry layout");
_Static_assert(RE_SEAL == RVM_CKPT_REGION_ENTRY_V1 &&
		       RE_SEAL + RVM_SHA256_DIGEST == RVM_CKPT_REGION_ENTRY,
	       "version 2 region entry: the version 1 entry, then the seal");
_Static_assert(CE_SEAL + RVM_CAP_DIGEST == RVM_CKPT_CAP_ENTRY, "cap entry layout");
_Static_assert(EE_REFUSED + 8 == RVM_CKPT_EDGE_ENTRY, "edge entry layout");
_Static_assert(CK_RSVD + 8 == RVM_CKPT_HEADER_SIZE, "header layout");
_Static_assert(sizeof(struct rvm_ipc_desc) == RVM_CKPT_DESC_ENTRY, "descriptor entry layout");

/* Fixed bytes of a region entry in a checkpoint of this version (parse checked it). */
static inline size_t ckpt_region_entry(uint16_t version)
{
	return version >= 2 ? RVM_CKPT_REGION_ENTRY : RVM_CKPT_REGION_ENTRY_V1;
}

/*
 * The seal of a version 2 region entry at e (its image follows it, image_len
 * bytes) is the SHA-256 of the entry's first RE_SEAL bytes, then the image: it
 * binds everything restore uses of the entry to the stored bytes it decodes.
 * ckpt_seal_put2 seals the entries at ea and eb (eb may be NULL) in place, the
 * two hashed in step where the SHA-256 implementation can.
 */
void ckpt_seal_put2(const struct rvm_sha256_impl *sha, uint8_t *ea, uint8_t *eb);
/*
 * Do the seals of a and b (b may be NULL) hold for their bytes? Both hashed in
 * step where the implementation can. RVM_OK or RVM_E_CORRUPT.
 */
enum rvm_err ckpt_seal_check2(const struct rvm_sha256_impl *sha, const struct rvm_ckpt_region *a,
			      const struct rvm_ckpt_region *b);

/* Image bytes a region of 2^order pages may take: a length per page, pages at most raw. */
static inline uint64_t ckpt_image_max(unsigned order)
{
	return (uint64_t)(2u + RVM_FRAME_SIZE) << order;
}

#endif

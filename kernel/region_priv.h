/* kernel/region_priv.h - what region.c, region_image.c and tier.c share: the operation record and helpers. */
#ifndef RVM_REGION_PRIV_H
#define RVM_REGION_PRIV_H

#include <rvm/region.h>

/*
 * One operation on its way through check -> apply -> witness. The check
 * fills the plan (slot, addresses, extents) that the apply then carries out,
 * so the apply needs no decision that could fail.
 */
struct region_op {
	uint16_t action;  /* witnessed on success; arg0 of GATE_DENIED on refusal */
	uint32_t caller;  /* partition asking */
	rvm_region_id id; /* witness target */
	/* inputs */
	uint32_t to; /* owner, partition or tier, by operation */
	uint32_t type;
	bool writable;
	uint64_t size;
	uint64_t epoch;
	/* plan, from the check */
	uint32_t slot;
	uint32_t gen;
	unsigned order;
	uint64_t addr;   /* block the apply will get from the buddy */
	uint32_t off;    /* store extent */
	uint32_t len;
	uint8_t digest[RVM_SHA256_DIGEST];
	/* witness arguments, set by the apply */
	uint64_t arg0, arg1;
	uint64_t seq; /* seq of the witness record, set by region_run on success */
	uint64_t cap; /* root cap minted for the owner (gated spaces), 0 if none */
	const uint8_t *data; /* write payload */
};

/* REGION_CREATE's arg0: owner, then type and writable above it (replay recreates from it). */
static inline uint64_t region_create_arg0(uint32_t owner, uint32_t type, bool writable)
{
	return (uint64_t)owner | (uint64_t)type << 32 | (uint64_t)writable << 40;
}

typedef enum rvm_err region_check_fn(struct rvm_region_space *s, struct region_op *op);
typedef void region_apply_fn(struct rvm_region_space *s, struct region_op *op);

/* Check, room for the record, apply, witness; refusals witnessed as GATE_DENIED. */
enum rvm_err region_run(struct rvm_region_space *s, struct region_op *op, region_check_fn *check,
			region_apply_fn *apply);
/* Slot of a live id: RVM_E_NOTFOUND or RVM_E_STALE otherwise. */
enum rvm_err region_lookup(const struct rvm_region_space *s, rvm_region_id id, uint32_t *slot);
/* Looks up op->id into op->slot and checks the caller acts for the owner. */
enum rvm_err region_owned(const struct rvm_region_space *s, struct region_op *op,
			  struct rvm_region **rp);
rvm_region_id region_id(const struct rvm_region_space *s, uint32_t slot);
uint32_t region_first_frame(const struct rvm_region_space *s, const struct rvm_region *r);
/* Marks a resident region's frames as its own, unmapped. */
/* Applies a checked region creation: allocates, fills the slot (last access = op->epoch),
 * claims its frames and attaches the owner's root cap. Shared by create and replay's create_at. */
void region_create_apply(struct rvm_region_space *s, struct region_op *op);
void region_claim_frames(struct rvm_region_space *s, uint32_t slot);
/* Clears the frames' record, frees the block, base = 0. */
void region_release_frames(struct rvm_region_space *s, uint32_t slot);

/* ---- the compressed store and images (region_image.c) ---- */

/* Largest free gap of the store: *off and *len. */
void region_store_gap(const struct rvm_region_store *st, uint32_t *off, uint32_t *len);
/* Records [off, off + len) as slot's image; the range lies in a free gap. */
void region_store_insert(struct rvm_region_store *st, uint32_t off, uint32_t len, uint32_t slot);
/* The extent of slot, or NULL. */
const struct rvm_region_extent *region_store_find(const struct rvm_region_store *st, uint32_t slot);
void region_store_remove(struct rvm_region_store *st, uint32_t slot);

/*
 * Compresses npages pages at src into out[0..cap) as an image; *len gets its
 * size and digest (unless NULL: the caller hashed the pages itself) the
 * SHA-256 of the pages. RVM_E_NOMEM if it does not fit.
 */
enum rvm_err region_image_encode(struct rvm_region_space *s, const uint8_t *src, uint32_t npages,
				 uint8_t *out, uint32_t cap, uint32_t *len,
				 uint8_t digest[RVM_SHA256_DIGEST]);
/*
 * Decodes an image of npages pages into dst (or, with dst NULL, page by page
 * into the scratch page) and checks the SHA-256 against digest. RVM_E_CORRUPT
 * for any malformed page, a length that does not add up, or a digest mismatch.
 */
enum rvm_err region_image_decode(struct rvm_region_space *s, const uint8_t *img, uint32_t len,
				 uint32_t npages, uint8_t *dst,
				 const uint8_t digest[RVM_SHA256_DIGEST]);
/*
 * Decodes an image of npages pages into dst without hashing them: for images
 * whose stored bytes were checked already (a sealed checkpoint entry).
 * RVM_E_CORRUPT for any malformed page or a length that does not add up; dst
 * is then partly written.
 */
enum rvm_err region_image_unpack(const uint8_t *img, uint32_t len, uint32_t npages, uint8_t *dst);
/* One image for region_image_decode_pair: decoded into dst (required), checked against digest. */
struct region_image_job {
	const uint8_t *img;
	uint32_t len, npages;
	uint8_t *dst;
	uint8_t digest[RVM_SHA256_DIGEST];
};
/*
 * region_image_decode of two images at once: their pages are decoded in turn
 * and hashed two at a time (rvm_sha256_update2), which is what a rollback
 * spends most of its time on. RVM_E_CORRUPT if either is; dst of both is
 * then partly written.
 */
enum rvm_err region_image_decode_pair(struct rvm_region_space *s,
				      const struct region_image_job job[2]);

/* ---- checks and applies the gated entry points reuse (region.c) ---- */

enum rvm_err region_destroy_check(struct rvm_region_space *s, struct region_op *op);
void region_destroy_apply(struct rvm_region_space *s, struct region_op *op);
enum rvm_err region_map_check(struct rvm_region_space *s, struct region_op *op);
void region_map_apply(struct rvm_region_space *s, struct region_op *op);
enum rvm_err region_unmap_check(struct rvm_region_space *s, struct region_op *op);
void region_unmap_apply(struct rvm_region_space *s, struct region_op *op);
enum rvm_err region_transfer_check(struct rvm_region_space *s, struct region_op *op);
void region_transfer_apply(struct rvm_region_space *s, struct region_op *op);
enum rvm_err region_write_check(struct rvm_region_space *s, struct region_op *op);
void region_write_apply(struct rvm_region_space *s, struct region_op *op);

/* ---- the registry object and root cap of a region in a gated space (region_gate.c) ---- */

/* Room for n more regions of owner: registry slots and owner's cap table (always, ungated). */
bool region_gate_room(const struct rvm_region_space *s, uint32_t owner, uint32_t n);
/* Gives slot's region a registry object and its owner a root cap (CAP_MINT). Returns the cap. */
uint64_t region_gate_attach(struct rvm_region_space *s, uint32_t slot);
/* Destroys slot's registry object: every cap to the region goes stale. */
void region_gate_detach(struct rvm_region_space *s, uint32_t slot);

/* ---- replay (region_replay.c) ---- */

/*
 * Recreates a region under a given id (the one the log names), zeroed,
 * witnessed as REGION_CREATE with actor caller. RVM_E_EXISTS if the slot is
 * taken, else create's errors.
 */
enum rvm_err region_create_at(struct rvm_region_space *s, uint32_t caller, rvm_region_id id,
			      uint32_t owner, uint64_t size, uint32_t type, bool writable);
/* Drops every mapping of a live region (replay does not track mappings). Not witnessed. */
void region_unmap_all(struct rvm_region_space *s, uint32_t slot);

#endif

/* rvm/region.h - memory regions: owned, typed, tiered buddy blocks that move between partitions. */
#ifndef RVM_REGION_H
#define RVM_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/buddy.h>
#include <rvm/cap.h>
#include <rvm/err.h>
#include <rvm/lz4.h>
#include <rvm/platform.h>
#include <rvm/profile.h>
#include <rvm/sha256.h>
#include <rvm/witness.h>

/* Where a region's contents live. */
enum rvm_tier {
	RVM_TIER_HOT = 0,     /* resident, in use */
	RVM_TIER_WARM = 1,    /* resident, reclaimable (not touched lately) */
	RVM_TIER_DORMANT = 2, /* LZ4-compressed in the region store; frames freed */
	RVM_TIER_COLD = 3,    /* in the platform checkpoint store; nothing in memory */
};
#define RVM_TIER_COUNT 4u

/* What a region holds (informational; kept in witness records and checkpoints). */
enum rvm_region_type {
	RVM_REGION_DATA = 0,
	RVM_REGION_CODE = 1,
	RVM_REGION_STACK = 2,
	RVM_REGION_IPC = 3, /* message buffers shared between partitions */
	RVM_REGION_TYPE_COUNT
};

/* Partition number meaning "the kernel" (cap table 0, witness actor 0). */
#define RVM_PARTITION_KERNEL 0u
/* Read-only and writable mappings one region can have at once. */
#define RVM_REGION_MAX_MAPS 4u
/* Largest region: one buddy block of the largest order. */
#define RVM_REGION_MAX_PAGES (1u << RVM_BUDDY_MAX_ORDER)
/* Checkpoint-store id of a cold region: 'R' in the top byte, then the region id's low 56 bits. */
#define RVM_REGION_COLD_ID(id) (0x52ull << 56 | ((id) & 0x00FFFFFFFFFFFFFFull))

/* Region handle: generation << 32 | slot. Generation 0 is never issued. */
typedef uint64_t rvm_region_id;

struct rvm_region_map {
	uint32_t partition;
	uint8_t writable;
	uint8_t used;
	uint16_t pad;
};

/*
 * One region. Invariants (rvm_region_check_invariants):
 *  - resident (HOT, WARM) <=> base != 0 and the buddy block at base, of this
 *    order, is allocated and its frames name this slot; otherwise base == 0;
 *  - DORMANT <=> exactly one store extent belongs to this slot;
 *  - mapped only while resident; at most one writable mapping, and then no
 *    other mapping (the frames' writer/readers counts agree);
 *  - digest is the SHA-256 of the contents whenever they are not resident.
 */
struct rvm_region {
	uint64_t base;        /* physical address of the block while resident, else 0 */
	uint64_t last_access; /* epoch of the last recorded access */
	uint64_t store_len;   /* DORMANT/COLD: bytes of the compressed image */
	uint32_t owner;       /* partition */
	uint32_t generation;  /* of the current (or last) region in this slot; never 0 when used */
	uint8_t order;        /* block of 4 KiB << order */
	uint8_t tier;         /* enum rvm_tier */
	uint8_t type;         /* enum rvm_region_type */
	uint8_t writable;     /* may the owner map it writable */
	uint8_t nmaps;
	uint8_t used; /* the slot holds a region */
	uint8_t pad[2];
	struct rvm_region_map maps[RVM_REGION_MAX_MAPS];
	uint8_t digest[RVM_SHA256_DIGEST];
	uint64_t obj; /* registry object capabilities name (gated spaces), 0 otherwise */
};

/*
 * Per buddy frame (same indices as the buddy's frames): which region holds it
 * and who maps it. The global no-aliasing rule lives here, O(1) per frame: a
 * frame is unmapped, or mapped writable by exactly one partition (writer =
 * partition + 1, readers = 0), or mapped read-only by `readers` partitions.
 */
struct rvm_region_frame {
	uint32_t region; /* slot + 1, 0 = no region */
	uint32_t writer; /* partition + 1, 0 = none */
	uint16_t readers;
	uint16_t pad;
};
_Static_assert(sizeof(struct rvm_region_frame) == 12, "per-frame record is 12 bytes");

/* A compressed image in the store: bytes [off, off + len) of the store's buffer. */
struct rvm_region_extent {
	uint32_t off;
	uint32_t len;
	uint32_t slot;
};

/*
 * The compressed store, caller-provided memory. Extents are kept sorted by
 * offset and never overlap; a new image goes into the largest gap.
 * Image layout: npages little-endian u16 lengths, then each page's LZ4 block
 * (length 4096 means the page is stored raw: it did not compress).
 */
struct rvm_region_store {
	uint8_t *buf;
	uint32_t cap;
	uint32_t n;
	struct rvm_region_extent ext[RVM_REGION_SLOTS];
};

/*
 * Where region writes' bytes go so replay can apply them again: called after
 * the REGION_WRITE record with seq was emitted (the kernel appends them to
 * its journal). May be NULL.
 */
typedef void rvm_region_journal_fn(void *ctx, uint64_t seq, rvm_region_id id, uint64_t offset,
				   const uint8_t *data, uint32_t len);

/*
 * Every region and what they need, caller-owned. The buddy, frame table,
 * store, witness log and platform are borrowed references.
 */
struct rvm_region_space {
	struct rvm_buddy *buddy;
	struct rvm_region_frame *frames; /* buddy->nframes entries */
	struct rvm_region_store *store;
	struct rvm_witness_log *wlog;
	const struct rvm_platform *plat; /* checkpoint store (COLD) and SHA-256 */
	struct rvm_lz4_work lz4;
	uint8_t scratch[RVM_FRAME_SIZE]; /* one page, to verify images that stay compressed */
	struct rvm_region slots[RVM_REGION_SLOTS];
	uint64_t cold_puts; /* checkpoint objects written for cold regions */
	rvm_region_journal_fn *journal; /* payloads of writes, for replay (may be NULL) */
	void *journal_ctx;
	struct rvm_gate *gate; /* NULL: ungated (rvm_region_space_set_gate) */
};

/* An empty store over buf[0..cap). */
void rvm_region_store_init(struct rvm_region_store *st, uint8_t *buf, uint32_t cap);

/*
 * Sets up a region space. frames must have buddy->nframes entries; wlog
 * receives a record for every operation and refusal. Errors: RVM_E_INVAL.
 */
enum rvm_err rvm_region_space_init(struct rvm_region_space *s, struct rvm_buddy *buddy,
				   struct rvm_region_frame *frames, size_t nframes,
				   struct rvm_region_store *store, struct rvm_witness_log *wlog,
				   const struct rvm_platform *plat);

/*
 * Each operation below is a check (may fail, changes nothing), an apply
 * (cannot fail) and a witness record. A refusal is witnessed as GATE_DENIED
 * (flags RVM_WF_DENIED, arg0 the attempted action, arg1 the rvm_err) and
 * returned. caller is the partition asking; RVM_PARTITION_KERNEL acts on the
 * kernel's authority (passes every ownership check). Common errors:
 * RVM_E_NOTFOUND (no such region), RVM_E_STALE (generation mismatch),
 * RVM_E_PERM (caller is not the owner), RVM_E_FULL (witness log full).
 */

/*
 * A new HOT region of at least size bytes (rounded up to a power-of-two
 * number of frames), zeroed, owned by owner. Witness REGION_CREATE (target
 * id, arg0 owner | type << 32 | writable << 40, arg1 size). RVM_E_NOMEM when no block or slot is free,
 * RVM_E_RANGE for size 0 or above RVM_REGION_MAX_PAGES frames.
 */
enum rvm_err rvm_region_create(struct rvm_region_space *s, uint32_t caller, uint32_t owner,
			       uint64_t size, enum rvm_region_type type, bool writable,
			       uint64_t epoch, rvm_region_id *out);
/* Frees an unmapped region in any tier. RVM_E_BUSY while mapped. Witness REGION_DESTROY. */
enum rvm_err rvm_region_destroy(struct rvm_region_space *s, uint32_t caller, rvm_region_id id);

/*
 * Maps a resident region into partition's space (the owner maps its own
 * region, or shares it read-only). RVM_E_ALIAS if any frame is mapped
 * writable by anyone, or mapped at all when asking for a writable mapping;
 * RVM_E_POLICY for a writable mapping of a read-only region or by a
 * partition other than the owner; RVM_E_STATE if not resident; RVM_E_EXISTS
 * if partition already maps it; RVM_E_NOMEM if all map slots are used.
 * Witness REGION_MAP (arg0 partition, arg1 writable).
 */
enum rvm_err rvm_region_map(struct rvm_region_space *s, uint32_t caller, rvm_region_id id,
			    uint32_t partition, bool writable);
/* Removes partition's mapping. RVM_E_NOTFOUND if it has none. Witness REGION_UNMAP. */
enum rvm_err rvm_region_unmap(struct rvm_region_space *s, uint32_t caller, rvm_region_id id,
			      uint32_t partition);
/*
 * Moves ownership to partition to: the frames stay where they are, nothing
 * is copied. The region must be unmapped (RVM_E_BUSY). Witness
 * REGION_TRANSFER (arg0 old owner, arg1 new owner).
 */
enum rvm_err rvm_region_transfer(struct rvm_region_space *s, uint32_t caller, rvm_region_id id,
				 uint32_t to);
/*
 * Moves the region to tier `to`, one step at a time, each step witnessed as
 * REGION_TIER (arg0 = from | to << 8, arg1 = compressed bytes):
 *   HOT <-> WARM                  a flag;
 *   HOT/WARM -> DORMANT           SHA-256 of the contents, LZ4 into the store,
 *                                 frames freed (must be unmapped: RVM_E_BUSY;
 *                                 store full: RVM_E_NOMEM);
 *   DORMANT -> COLD               image handed to the platform checkpoint
 *                                 store, store space freed (its errors pass);
 *   COLD -> DORMANT               image read back into the store;
 *   DORMANT -> HOT/WARM           decompressed into fresh frames.
 * Every image coming back is decoded and checked against the SHA-256 before
 * anything changes: a corrupt or truncated image gives RVM_E_CORRUPT and the
 * region stays where it was.
 */
enum rvm_err rvm_region_set_tier(struct rvm_region_space *s, uint32_t caller, rvm_region_id id,
				 enum rvm_tier to);
/*
 * Writes data[0..len) at offset of a resident, writable region on behalf of
 * agent (an id of the caller's choosing, kept for forensics), then hands the
 * bytes to the space's journal hook. Witness REGION_WRITE: actor = caller,
 * target = id, arg0 = agent << 32 | offset, arg1 = len | (first 5 bytes of
 * the SHA-256 of the data, little-endian) << 24, which binds the journaled
 * payload to the record. RVM_E_STATE if not resident, RVM_E_POLICY for a
 * read-only region, RVM_E_RANGE for len 0, len >= 2^24 or past the end.
 * *seq_out (may be NULL) gets the record's seq.
 */
enum rvm_err rvm_region_write(struct rvm_region_space *s, uint32_t caller, uint32_t agent,
			      rvm_region_id id, uint64_t offset, const void *data, uint32_t len,
			      uint64_t *seq_out);
/* The payload binding of REGION_WRITE's arg1 for these bytes (exposed for replay and tests). */
uint64_t rvm_region_write_arg1(const struct rvm_sha256_impl *sha, const void *data, uint32_t len);

/* Records an access at epoch (recency for the tier policy). Not witnessed: no state moves. */
enum rvm_err rvm_region_touch(struct rvm_region_space *s, rvm_region_id id, uint64_t epoch);

/* The region behind id, or NULL (free slot, stale generation). */
const struct rvm_region *rvm_region_get(const struct rvm_region_space *s, rvm_region_id id);
/* Size in bytes of a region. */
static inline uint64_t rvm_region_size(const struct rvm_region *r)
{
	return (uint64_t)RVM_FRAME_SIZE << r->order;
}

/*
 * ---- Through the security gate ----
 * With a gate set, every region is an object of the gate's registry
 * (RVM_OBJ_REGION) and its owner holds a root cap to it with every right,
 * minted when the region is created (witness CAP_MINT) and made anew when it
 * is transferred (the old object is destroyed, so every cap to it held by
 * anyone goes stale: ownership moves, authority does not linger). The _cap
 * entry points below are how partitions act: the gate runs P1 (the cap holds
 * the rights), P2.1 (the caller owns the region or the cap names it), then
 * the operation's own checks (including the frame-by-frame no-aliasing rule),
 * room in the log; refusals are witnessed by the gate (CAP_DENIED,
 * GATE_DENIED). The applied operation is witnessed as on the cap-less path,
 * with the region id as target. Rights: READ to map read-only or unmap,
 * READ|WRITE to map writable, WRITE to write, GRANT to transfer, REVOKE to
 * destroy. The cap-less entry points stay the kernel's own (tier policy,
 * recovery, replay); for a partition caller they check ownership only.
 */
void rvm_region_space_set_gate(struct rvm_region_space *s, struct rvm_gate *gate);
/* rvm_region_create, and the owner's root cap (0 when ungated) in *cap. */
enum rvm_err rvm_region_create_cap(struct rvm_region_space *s, uint32_t caller, uint32_t owner,
				   uint64_t size, enum rvm_region_type type, bool writable,
				   uint64_t epoch, rvm_region_id *id, rvm_cap_t *cap);
enum rvm_err rvm_region_map_cap(struct rvm_region_space *s, uint32_t caller, rvm_cap_t cap,
				rvm_region_id id, uint32_t partition, bool writable);
enum rvm_err rvm_region_unmap_cap(struct rvm_region_space *s, uint32_t caller, rvm_cap_t cap,
				  rvm_region_id id, uint32_t partition);
/* The new owner's root cap goes to *new_cap (may be NULL). */
enum rvm_err rvm_region_transfer_cap(struct rvm_region_space *s, uint32_t caller, rvm_cap_t cap,
				     rvm_region_id id, uint32_t to, rvm_cap_t *new_cap);
enum rvm_err rvm_region_write_cap(struct rvm_region_space *s, uint32_t caller, rvm_cap_t cap,
				  uint32_t agent, rvm_region_id id, uint64_t offset, const void *data,
				  uint32_t len, uint64_t *seq_out);
enum rvm_err rvm_region_destroy_cap(struct rvm_region_space *s, uint32_t caller, rvm_cap_t cap,
				    rvm_region_id id);

/* Checks every invariant above plus the buddy's; RVM_OK or RVM_E_CORRUPT. */
enum rvm_err rvm_region_check_invariants(const struct rvm_region_space *s);

#endif

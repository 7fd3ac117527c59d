/* rvm/proof.h - the gate's three proofs: P1 rights, P2 policy rules, P3 derivation chain. */
#ifndef RVM_PROOF_H
#define RVM_PROOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/cap.h>
#include <rvm/ed25519.h>
#include <rvm/err.h>

/* ---- P1: rights check in constant time ---- */

/*
 * RVM_OK if held has every bit of required, else RVM_E_PERM. Branch-free:
 * the time does not depend on which right is missing (bench row p1_ct).
 */
enum rvm_err rvm_proof_p1(uint8_t held, uint8_t required);
/* P1 over n pairs; out[i] = rvm_proof_p1(held[i], required[i]). Returns the OR of all codes. */
uint32_t rvm_proof_p1_batch(const uint8_t *restrict held, const uint8_t *restrict required, size_t n,
			    uint8_t *restrict out);

/* ---- P2: policy rules. Each is a named function returning a precise rvm_err. ---- */

/* "No owner known" for rule 1. */
#define RVM_OWNER_NONE UINT32_MAX

/*
 * Rule 1: the caller owns the object (owner != RVM_OWNER_NONE), or holds a
 * live cap naming it. cap may be NULL (no cap presented). RVM_E_PERM when neither.
 */
enum rvm_err rvm_p2_owner(uint32_t caller, uint32_t owner, const struct rvm_cap *cap,
			  uint8_t type, uint64_t object);

/* A memory region as the gate sees it (the memory subsystem owns the real one). */
struct rvm_region_desc {
	uint32_t owner; /* partition */
	uint64_t base;  /* guest-physical or host address */
	uint64_t size;  /* bytes */
	bool writable;
};

/*
 * Rule 2: [offset, offset + length) lies inside the region, length > 0, and
 * base + offset and length are multiples of align (a power of two; 1 = any).
 * RVM_E_INVAL for a bad align or empty access, RVM_E_RANGE out of bounds
 * (including arithmetic overflow), RVM_E_POLICY for misalignment.
 */
enum rvm_err rvm_p2_region(const struct rvm_region_desc *r, uint64_t offset, uint64_t length,
			   uint64_t align);

/* Rule 3: mapped host ranges, so no writable range is shared by two partitions. */
#ifndef RVM_MAP_SLOTS
#define RVM_MAP_SLOTS (RVM_CAP_TABLE_SLOTS / 4u)
#endif

struct rvm_map_range {
	uint64_t base;
	uint64_t size;
	uint32_t partition;
	uint8_t writable;
	uint8_t used;
	uint16_t pad;
};

/*
 * Every range currently mapped, by any partition. Invariant: no two used
 * ranges of different partitions overlap where either is writable.
 */
struct rvm_map_table {
	struct rvm_map_range r[RVM_MAP_SLOTS];
	uint32_t count;
};

void rvm_map_init(struct rvm_map_table *m);
/*
 * Rule 3 proper: RVM_OK if partition may map [base, base + size) with this
 * writability; RVM_E_ALIAS if another partition maps an overlapping range
 * and either side is writable; RVM_E_INVAL for size 0, RVM_E_RANGE on overflow.
 */
enum rvm_err rvm_p2_no_alias(const struct rvm_map_table *m, uint32_t partition, uint64_t base,
			     uint64_t size, bool writable);
/* Checks rule 3, then records the range. RVM_E_FULL when the table is full. */
enum rvm_err rvm_map_add(struct rvm_map_table *m, uint32_t partition, uint64_t base,
			 uint64_t size, bool writable);
/* Removes the range exactly matching (partition, base, size). RVM_E_NOTFOUND otherwise. */
enum rvm_err rvm_map_remove(struct rvm_map_table *m, uint32_t partition, uint64_t base,
			    uint64_t size);

/* A device lease as the gate sees it. */
struct rvm_lease_desc {
	uint32_t holder;    /* partition */
	uint64_t expiry_ns; /* the lease is valid while now < expiry_ns */
	bool revoked;
};

/* Rule 4: RVM_E_PERM if the caller is not the holder, RVM_E_REVOKED, RVM_E_EXPIRED. */
enum rvm_err rvm_p2_lease(const struct rvm_lease_desc *l, uint32_t caller, uint64_t now_ns);

/* Rule 5: RVM_E_EPOCH unless the presented epoch is the current one. */
enum rvm_err rvm_p2_epoch(uint64_t current, uint64_t presented);

/*
 * Rule 6: nonce replay protection. Remembers the last RVM_NONCE_RING nonces
 * (FIFO); a nonce leaving the ring raises the low watermark to it if larger,
 * and every nonce at or below the watermark is refused. So a nonce is
 * accepted at most once, ever. 0 is never a valid nonce.
 *
 * Lookups are O(1) for rising nonces (a counter, the common case) and
 * O(log n) otherwise: a nonce above every nonce ever recorded (high) is new
 * without a lookup. A recorded nonce above high is a "rise": the FIFO slots
 * of the rises in the ring are kept in rise[], oldest first, and since each
 * rise is larger than every nonce before it their values increase along
 * rise[], so a binary search finds one. Every other ring entry is kept in an
 * open-addressed set (linear probing, at most half full).
 */
#ifndef RVM_NONCE_RING
#if defined(RVM_PROFILE_SEED)
#define RVM_NONCE_RING 256u /* 64 KB of RAM: 6.5 KiB of nonce memory */
#else
#define RVM_NONCE_RING 4096u
#endif
#endif
#define RVM_NONCE_SET (RVM_NONCE_RING * 2u)
_Static_assert((RVM_NONCE_RING & (RVM_NONCE_RING - 1)) == 0, "nonce ring: power of two");
_Static_assert(RVM_NONCE_RING <= 65536u, "nonce ring: rise[] holds 16-bit FIFO slots");

/*
 * Invariants: count <= RVM_NONCE_RING; the ring's entries are
 * fifo[(head - count + i) % RING] for i < count, oldest first; each is
 * > low_watermark and <= high; rise[(rise_head + k) % RING] for
 * k < rise_count are the FIFO slots of the ring's rises, in FIFO order, with
 * strictly increasing values; every other ring entry is in set, and set
 * holds nothing else.
 */
struct rvm_nonce_ring {
	uint64_t fifo[RVM_NONCE_RING]; /* insertion order */
	uint64_t set[RVM_NONCE_SET];   /* entries that were not rises; 0 = empty */
	uint16_t rise[RVM_NONCE_RING]; /* FIFO slots of the rises, oldest first */
	uint64_t low_watermark;
	uint64_t high;       /* largest nonce ever recorded; 0 before the first */
	uint32_t head;       /* next fifo slot to write */
	uint32_t count;      /* nonces remembered, <= RVM_NONCE_RING */
	uint32_t rise_head;  /* rise[] index of the oldest rise */
	uint32_t rise_count; /* rises in the ring */
};

void rvm_nonce_init(struct rvm_nonce_ring *n);
/* RVM_OK if nonce was never accepted, RVM_E_REPLAY if it may have been; RVM_E_INVAL for 0. */
enum rvm_err rvm_nonce_check(const struct rvm_nonce_ring *n, uint64_t nonce);
/* Check and record in one step. */
enum rvm_err rvm_nonce_accept(struct rvm_nonce_ring *n, uint64_t nonce);
/* Records a nonce that rvm_nonce_check has just accepted (the gate's split of accept). */
void rvm_nonce_record(struct rvm_nonce_ring *n, uint64_t nonce);

/*
 * Quotas: there is no separate "would it fit" query; a charge checks and
 * records in one step, so nothing can slip between check and use (TOCTOU).
 */
struct rvm_quota {
	uint64_t limit;
	uint64_t used;
};

/* Adds amount to used if used + amount <= limit; RVM_E_QUOTA otherwise (nothing recorded). */
enum rvm_err rvm_quota_charge(struct rvm_quota *q, uint64_t amount);
/* Gives back up to amount (never below zero). */
void rvm_quota_release(struct rvm_quota *q, uint64_t amount);

/* ---- Merge preconditions (the partition subsystem calls this before merging a into b). ---- */

/* A partition as the merge check sees it. */
struct rvm_merge_side {
	uint32_t partition; /* partition slot = cap table index */
	rvm_obj_id object;  /* its object id */
	rvm_cap_t cap;      /* the caller's cap to it, in the caller's table */
	bool exists;
	bool destroyed;
	bool migrating;
	uint32_t agents;     /* agents it holds */
	uint64_t mem_bytes;  /* memory it owns */
};

struct rvm_merge_req {
	uint32_t caller;
	struct rvm_merge_side a, b;
	uint32_t max_agents;    /* capacity of one partition */
	uint64_t max_mem_bytes; /* capacity of one partition */
};

/* Rights a merge needs on both partitions. */
#define RVM_MERGE_RIGHTS (RVM_RIGHT_WRITE | RVM_RIGHT_REVOKE)

/*
 * All merge preconditions, each with its own code: RVM_E_INVAL for a == b or
 * bad partition numbers, RVM_E_NOTFOUND if either does not exist,
 * RVM_E_STATE if either is destroyed, RVM_E_BUSY if either is mid-migration,
 * cap errors (E_STALE, E_REVOKED, E_POLICY) if the caller's cap does not name
 * the partition, RVM_E_PERM if it lacks RVM_MERGE_RIGHTS, RVM_E_QUOTA if the
 * merged partition would exceed capacity (agents, memory, or cap slots).
 */
enum rvm_err rvm_proof_merge_check(const struct rvm_cap_space *s, const struct rvm_merge_req *m);

/* ---- P3: the derivation chain, to the root ---- */

/*
 * Walks from the cap to its root. For every link: the cap is live, its seal
 * matches its fields and its parent's seal, its rights are derivable from
 * its parent's, its epoch is not older than its parent's nor newer than the
 * space's, depth decreases by one per step and the root has depth 0.
 * RVM_OK, or RVM_E_CORRUPT (seal, links), RVM_E_PERM (rights),
 * RVM_E_EPOCH, RVM_E_DEPTH, or a resolve error for the handle itself.
 */
enum rvm_err rvm_proof_p3(const struct rvm_cap_space *s, uint32_t table, rvm_cap_t h);

/*
 * A link of an exported chain: what another RVM instance needs to verify a
 * delegation without access to our tables. Serialised body is 68 bytes
 * little-endian (rvm_cap_token_encode); sig is Ed25519 over the body, or all
 * zero when unsigned.
 */
#define RVM_CAP_TOKEN_BODY 68u
#define RVM_CAP_TOKEN_MAGIC 0x31434D52u /* "RMC1" */

struct rvm_cap_token {
	uint32_t table;
	uint32_t slot;
	uint32_t gen;
	uint8_t type;
	uint8_t rights;
	uint8_t depth;
	uint64_t object;
	uint64_t epoch;
	uint8_t parent_digest[RVM_CAP_DIGEST];
	uint8_t digest[RVM_CAP_DIGEST];
	uint8_t sig[RVM_ED25519_SIG];
};

void rvm_cap_token_encode(const struct rvm_cap_token *t, uint8_t out[RVM_CAP_TOKEN_BODY]);

/*
 * Exports the chain from the root down to the cap h names: out[0] is the
 * root, out[*n - 1] the cap. Runs P3 first and fails with its error.
 */
enum rvm_err rvm_proof_chain_export(const struct rvm_cap_space *s, uint32_t table, rvm_cap_t h,
				    struct rvm_cap_token out[RVM_CAP_MAX_DEPTH + 1], uint32_t *n);
/* Signs one link with the issuing instance's key. */
void rvm_proof_token_sign(struct rvm_cap_token *t, const uint8_t sk[RVM_ED25519_SECRET]);
/*
 * Verifies an exported chain on its own (no tables): seals, parent seals,
 * depth 0..n-1, derivable rights, non-decreasing epochs, and, when pk is not
 * NULL, every link's signature. RVM_E_BADSIG for a bad signature, otherwise
 * the codes of rvm_proof_p3; RVM_E_INVAL for n == 0 or n > 9.
 */
enum rvm_err rvm_proof_chain_verify(const struct rvm_sha256_impl *sha,
				    const struct rvm_cap_token *chain, uint32_t n,
				    const uint8_t *pk);

#endif

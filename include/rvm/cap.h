/* rvm/cap.h - capabilities: rights, handles, per-partition tables, the derivation tree, object ids. */
#ifndef RVM_CAP_H
#define RVM_CAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/err.h>
#include <rvm/profile.h>
#include <rvm/sha256.h>

/*
 * Rights, one bit each. A capability's rights only ever shrink along a
 * derivation (monotonic attenuation). GRANT_ONCE lets its holder grant once:
 * the first grant from a cap that holds GRANT_ONCE but not GRANT removes
 * GRANT_ONCE from it. A child may hold GRANT_ONCE only if its parent holds
 * GRANT, so consuming GRANT_ONCE never leaves a descendant holding a right
 * its ancestor lacks.
 */
enum rvm_right {
	RVM_RIGHT_READ = 1u << 0,
	RVM_RIGHT_WRITE = 1u << 1,
	RVM_RIGHT_GRANT = 1u << 2,
	RVM_RIGHT_REVOKE = 1u << 3,
	RVM_RIGHT_EXECUTE = 1u << 4,
	RVM_RIGHT_PROVE = 1u << 5,
	RVM_RIGHT_GRANT_ONCE = 1u << 6,
};
#define RVM_RIGHTS_ALL 0x7Fu
/* Root caps have depth 0; a derivation chain holds at most 9 caps (depth 8). */
#define RVM_CAP_MAX_DEPTH 8u

/* Kernel object types a capability can name. Values are in witness records: append only. */
enum rvm_obj_type {
	RVM_OBJ_NONE = 0,
	RVM_OBJ_PARTITION = 1,
	RVM_OBJ_REGION = 2,
	RVM_OBJ_EDGE = 3,
	RVM_OBJ_LEASE = 4,
	RVM_OBJ_AGENT = 5,
	RVM_OBJ_CHECKPOINT = 6,
	RVM_OBJ_GPU = 7, /* a GPU device */
	RVM_OBJ_GPU_CONTEXT = 8,
	RVM_OBJ_GPU_BUFFER = 9,
	RVM_OBJ_GPU_QUEUE = 10,
	RVM_OBJ_GPU_KERNEL = 11,
	RVM_OBJ_TYPE_COUNT
};

/*
 * Handles and object ids are (generation << 32) | slot. Generation 0 is never
 * issued, so the value 0 never names anything. A slot's generation goes up by
 * one each time the slot is reused; a slot whose generation reached
 * UINT32_MAX is retired when freed instead of reused, so a generation never
 * wraps and a stale handle never aliases a newer object.
 */
typedef uint64_t rvm_cap_t;
typedef uint64_t rvm_obj_id;
#define RVM_CAP_NULL ((rvm_cap_t)0)
#define RVM_OBJ_NULL ((rvm_obj_id)0)

static inline uint32_t rvm_handle_slot(uint64_t h)
{
	return (uint32_t)h;
}

static inline uint32_t rvm_handle_gen(uint64_t h)
{
	return (uint32_t)(h >> 32);
}

static inline uint64_t rvm_handle_make(uint32_t slot, uint32_t gen)
{
	return (uint64_t)gen << 32 | slot;
}

/* One capability table per partition: table i belongs to partition slot i. */
#ifndef RVM_CAP_TABLES
#define RVM_CAP_TABLES RVM_MAX_PARTITIONS
#endif
/* Object registry: every kernel object a cap can name (partitions, regions, edges, ...). */
#ifndef RVM_OBJ_SLOTS
#define RVM_OBJ_SLOTS (RVM_CAP_TABLE_SLOTS * 4u)
#endif
#define RVM_CAP_NIL UINT32_MAX /* "no cap" in a tree link */
#define RVM_CAP_DIGEST 16u     /* truncated SHA-256 sealing each link of the tree */

_Static_assert((uint64_t)RVM_CAP_TABLES * RVM_CAP_TABLE_SLOTS < RVM_CAP_NIL,
	       "cap refs must fit in 32 bits below RVM_CAP_NIL");

/*
 * The object registry. Kept minimal: the registry knows only that slot i holds
 * a live object of some type at some generation; each subsystem (partitions,
 * regions, ...) keeps the object itself in its own pool at the same slot
 * index or maps the id to it. Invariants:
 *   slots [0, hw) have been used at least once; slots [hw, RVM_OBJ_SLOTS) are
 *   untouched (their contents are never read);
 *   a free, non-retired slot is on the free list exactly once;
 *   live + free + retired == hw.
 */
struct rvm_obj_slot {
	uint32_t gen;       /* generation of the current (or last) object */
	uint8_t type;       /* enum rvm_obj_type */
	uint8_t live;       /* 1 while the object exists */
	uint8_t retired;    /* 1: generation exhausted, never reused */
	uint8_t pad;
	uint32_t next_free; /* free-list link while free */
};

struct rvm_obj_table {
	struct rvm_obj_slot slots[RVM_OBJ_SLOTS];
	uint32_t hw;        /* high-water mark of slots ever used */
	uint32_t free_head; /* RVM_CAP_NIL when empty */
	uint32_t live;
	uint32_t retired;
};

void rvm_obj_init(struct rvm_obj_table *t);
/* New object id, reusing freed slots first. RVM_E_NOMEM when every slot is live or retired. */
enum rvm_err rvm_obj_create(struct rvm_obj_table *t, enum rvm_obj_type type, rvm_obj_id *out);
/* Frees the slot; the id (and every cap naming it) goes stale. RVM_E_STALE if not live. */
enum rvm_err rvm_obj_destroy(struct rvm_obj_table *t, rvm_obj_id id);
/*
 * RVM_OK if id names a live object of this type; RVM_E_INVAL for a malformed
 * id (slot out of range, generation 0), RVM_E_STALE for a destroyed or reused
 * one, RVM_E_POLICY for a type mismatch.
 */
enum rvm_err rvm_obj_lookup(const struct rvm_obj_table *t, rvm_obj_id id, enum rvm_obj_type type);

/* Cap slot states. */
enum rvm_cap_state {
	RVM_CAPS_FREE = 0,
	RVM_CAPS_LIVE = 1,
};
/* Cap slot flags. */
enum rvm_cap_flags {
	RVM_CAPF_REVOKED = 1u << 0, /* freed by a revocation (a handle to it reports E_REVOKED) */
	RVM_CAPF_RETIRED = 1u << 1, /* generation exhausted: the slot is never reused */
};

/*
 * One capability. Links are cap refs (table * RVM_CAP_TABLE_SLOTS + slot) so a
 * derivation tree spans tables: a grant places the child in another
 * partition's table. Invariants (rvm_cap_check_invariants verifies them):
 *   parent == NIL iff depth == 0; otherwise the parent is live,
 *   depth == parent.depth + 1 <= RVM_CAP_MAX_DEPTH,
 *   rights is a subset of parent.rights, and GRANT_ONCE only if the parent holds GRANT,
 *   epoch >= parent.epoch, type and object equal the parent's,
 *   first_child / next_sibling / prev_sibling form a doubly linked child list,
 *   digest == seal(parent digest, this cap's fields).
 */
struct rvm_cap {
	uint64_t object; /* rvm_obj_id */
	uint64_t epoch;  /* space epoch when this cap was created */
	uint32_t gen;
	uint32_t parent;
	uint32_t first_child;
	uint32_t next_sibling; /* also the free-list link while free */
	uint32_t prev_sibling;
	uint8_t type; /* enum rvm_obj_type */
	uint8_t rights;
	uint8_t depth;
	uint8_t state; /* enum rvm_cap_state */
	uint8_t flags; /* enum rvm_cap_flags */
	uint8_t pad[3];
	uint8_t digest[RVM_CAP_DIGEST];
	uint32_t pad2;
};
_Static_assert(sizeof(struct rvm_cap) == 64, "a capability is 64 bytes");

/* A partition's table. Same high-water scheme as the object registry. */
struct rvm_cap_table {
	struct rvm_cap slots[RVM_CAP_TABLE_SLOTS];
	uint32_t hw;
	uint32_t free_head;
	uint32_t live;
	uint32_t retired;
};

/*
 * Every table, the registry the caps point into, and the revocation epoch.
 * The space is large (RVM_CAP_TABLES tables) but init touches only the table
 * headers, so untouched tables cost no memory on a demand-paged host.
 */
struct rvm_cap_space {
	struct rvm_cap_table tables[RVM_CAP_TABLES];
	struct rvm_obj_table *objs;
	const struct rvm_sha256_impl *sha; /* NULL = portable */
	uint64_t epoch;                    /* starts at 1; +1 per revocation */
};

/* Prepares an empty space over an object registry. */
void rvm_cap_space_init(struct rvm_cap_space *s, struct rvm_obj_table *objs,
			const struct rvm_sha256_impl *sha);

/*
 * Finds the live cap handle h names in table. RVM_E_INVAL for a table or slot
 * out of range or generation 0; RVM_E_REVOKED for a cap freed by revocation
 * (until its slot is reused); RVM_E_STALE for any other dead or reused handle,
 * or when the object the cap names has been destroyed.
 */
enum rvm_err rvm_cap_resolve(const struct rvm_cap_space *s, uint32_t table, rvm_cap_t h,
			     const struct rvm_cap **out);

/* Like rvm_cap_resolve, but a cap to a destroyed object still resolves (its holder may delete it). */
enum rvm_err rvm_cap_resolve_any(const struct rvm_cap_space *s, uint32_t table, rvm_cap_t h,
				 const struct rvm_cap **out);

/* The cap a ref names (no checks: refs come from the tree itself). */
static inline struct rvm_cap *rvm_cap_at(struct rvm_cap_space *s, uint32_t ref)
{
	return &s->tables[ref / RVM_CAP_TABLE_SLOTS].slots[ref % RVM_CAP_TABLE_SLOTS];
}

static inline const struct rvm_cap *rvm_cap_at_const(const struct rvm_cap_space *s, uint32_t ref)
{
	return &s->tables[ref / RVM_CAP_TABLE_SLOTS].slots[ref % RVM_CAP_TABLE_SLOTS];
}

static inline uint32_t rvm_cap_ref(uint32_t table, uint32_t slot)
{
	return table * RVM_CAP_TABLE_SLOTS + slot;
}

/* The handle for a live ref. */
rvm_cap_t rvm_cap_handle_of(const struct rvm_cap_space *s, uint32_t ref);

/*
 * Derivation rule shared by P1 callers, P3 and the tests: may a child hold
 * `child` when its parent holds `parent`? Subset, and GRANT_ONCE only under GRANT.
 */
static inline bool rvm_cap_rights_derivable(uint8_t parent, uint8_t child)
{
	uint8_t allowed = (uint8_t)(parent & ~RVM_RIGHT_GRANT_ONCE);

	if (parent & RVM_RIGHT_GRANT)
		allowed |= parent & RVM_RIGHT_GRANT_ONCE;
	return (child & ~allowed) == 0 && (child & ~RVM_RIGHTS_ALL) == 0;
}

/* ---- Mechanism used by the gated operations (kernel/cap_ops.c); no checks, no witness. ---- */

/* RVM_OK if the table can take one more cap, RVM_E_NOMEM if full, RVM_E_INVAL if no such table. */
enum rvm_err rvm_cap_table_has_room(const struct rvm_cap_space *s, uint32_t table);
/*
 * Inserts a cap (root when parent == RVM_CAP_NIL, else a child of parent with
 * depth parent.depth + 1) and seals it. The caller has checked room, rights
 * and depth. Returns the new ref.
 */
uint32_t rvm_cap_insert(struct rvm_cap_space *s, uint32_t table, uint32_t parent, uint8_t type,
			uint64_t object, uint8_t rights);
/*
 * Frees every descendant of ref, and ref itself when include_self, without
 * recursion (a leftmost-leaf walk over the child lists: O(n) time, O(1)
 * space). Bumps the epoch when anything was freed. Returns how many caps went.
 */
uint32_t rvm_cap_remove_subtree(struct rvm_cap_space *s, uint32_t ref, bool include_self);
/* Sets a cap's rights (only ever to a subset) and reseals its subtree iteratively. */
void rvm_cap_set_rights(struct rvm_cap_space *s, uint32_t ref, uint8_t rights);
/*
 * The seal of one link: the first 16 bytes of SHA-256 over a domain tag, the
 * link's place (table, slot, gen), its fields and its parent's seal (zeros
 * for a root). Exported tokens are sealed the same way.
 */
void rvm_cap_seal_fields(const struct rvm_sha256_impl *sha, uint32_t table, uint32_t slot,
			 uint32_t gen, uint8_t type, uint8_t rights, uint8_t depth, uint64_t object,
			 uint64_t epoch, const uint8_t parent_digest[RVM_CAP_DIGEST],
			 uint8_t out[RVM_CAP_DIGEST]);
/* rvm_cap_seal_fields for the cap at ref. */
void rvm_cap_seal(const struct rvm_cap_space *s, uint32_t ref, const struct rvm_cap *c,
		  const uint8_t parent_digest[RVM_CAP_DIGEST], uint8_t out[RVM_CAP_DIGEST]);
/*
 * Walks every used slot of every table and checks the invariants listed
 * above struct rvm_cap and struct rvm_cap_table. RVM_OK or RVM_E_CORRUPT.
 * Costs O(caps used); for tests, fuzzing and debug builds.
 */
enum rvm_err rvm_cap_check_invariants(const struct rvm_cap_space *s);

/*
 * A cached check: what a caller may remember after one successful check, to
 * skip the lookup next time. It is valid only while the space's epoch has not
 * moved, so any revocation anywhere invalidates every cached check.
 */
struct rvm_cap_cached {
	uint32_t table;
	rvm_cap_t handle;
	uint8_t rights;
	uint64_t epoch;
};

/* RVM_OK while the cache is fresh, RVM_E_EPOCH after any revocation. */
enum rvm_err rvm_cap_cached_valid(const struct rvm_cap_space *s, const struct rvm_cap_cached *c);

#endif

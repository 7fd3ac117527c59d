/* rvm/checkpoint.h - partition checkpoints: regions, agent snapshots, caps and edges, bound to a
 * witness seq. */
#ifndef RVM_CHECKPOINT_H
#define RVM_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/cap.h>
#include <rvm/err.h>
#include <rvm/gate.h>
#include <rvm/ipc.h>
#include <rvm/region.h>
#include <rvm/sha256.h>

/*
 * A checkpoint captures one partition (pool slot = cap table = region owner):
 *  - every region it owns: id, type, tier, flags and its contents as an LZ4
 *    page image (the Dormant store's format) with the SHA-256 of the pages;
 *  - the WebAssembly snapshots of its agents, as blobs the caller supplies;
 *  - its capability table and every edge it is an end of;
 *  - the witness seq S it is bound to: it holds the state after every record
 *    with seq < S, and the STATE_CHECKPOINT record it is announced by has
 *    seq S (target = partition, arg0 = store id, arg1 = the first 8 bytes of
 *    the checkpoint's SHA-256, little-endian). It also carries D(S-1), the
 *    chain digest before that record, so a log and a checkpoint can be
 *    checked against each other.
 * The bytes go to the platform checkpoint store under RVM_CKPT_ID(partition,
 * S); the log alone tells which checkpoints exist (their STATE_CHECKPOINT
 * records). docs/recovery.md describes the byte format.
 */
#define RVM_CKPT_MAGIC	      "RVMCKPT1"
#define RVM_CKPT_VERSION      2u /* what take writes */
#define RVM_CKPT_VERSION_MIN  1u /* the oldest parse and restore still read */
#define RVM_CKPT_HEADER_SIZE  96u
#define RVM_CKPT_TRAILER_SIZE 32u /* SHA-256 of header and body */
#define RVM_CKPT_REGION_ENTRY 96u /* fixed part of a region entry; its image follows */
#define RVM_CKPT_AGENT_ENTRY  16u /* fixed part of an agent entry; its snapshot follows */
#define RVM_CKPT_CAP_ENTRY    48u
#define RVM_CKPT_EDGE_ENTRY   56u /* fixed part; (head - tail) descriptors of 24 bytes follow */
#define RVM_CKPT_DESC_ENTRY   24u
/* A version 1 region entry: the first 64 bytes of a version 2 one, without the seal. */
#define RVM_CKPT_REGION_ENTRY_V1 64u
/* Agents one checkpoint holds. */
#ifndef RVM_CKPT_MAX_AGENTS
#define RVM_CKPT_MAX_AGENTS 256u
#endif
/* Checkpoint-store id: 'C' in the top byte, 16 bits of partition, 40 bits of seq. */
#define RVM_CKPT_ID(partition, seq)                                                                \
	(0x43ull << 56 | ((uint64_t)(partition)&0xFFFFu) << 40 | ((uint64_t)(seq)&0xFFFFFFFFFFull))

/* One agent's snapshot, as the caller hands it in (rvm_wasm_snapshot output, or any blob). */
struct rvm_ckpt_agent {
	uint32_t id;
	const uint8_t *snap;
	size_t len;
};

/*
 * What checkpoints capture from and restore into; caller-owned. regions is
 * required: its witness log announces checkpoints and restores, its platform
 * stores them. gate (may be NULL) gives the cap tables; ipc (may be NULL)
 * the edges. addr is restore's scratch (the blocks it allocates before it
 * changes anything), replay_from rebuild's (where each partition starts).
 */
/* What a restore leaves as it is (rvm_ckpt_ctx.keep): the caller re-syncs it itself. */
#define RVM_CKPT_KEEP_CAPS  1u
#define RVM_CKPT_KEEP_EDGES 2u

struct rvm_ckpt_ctx {
	struct rvm_region_space *regions;
	struct rvm_gate *gate;
	struct rvm_ipc *ipc;
	uint8_t keep; /* RVM_CKPT_KEEP_*: parts of the partition restore does not roll back */
	uint64_t addr[RVM_REGION_SLOTS];
	uint64_t replay_from[RVM_MAX_PARTITIONS]; /* rvm_replay_rebuild's plan */
};

/* What rvm_checkpoint_take wrote. */
struct rvm_ckpt_info {
	uint64_t id;  /* store id, RVM_CKPT_ID(partition, seq) */
	uint64_t seq; /* seq of its STATE_CHECKPOINT record */
	size_t len;   /* bytes */
	uint8_t sha256[RVM_SHA256_DIGEST];
	uint32_t regions, agents, caps, edges;
};

/* A parsed, validated checkpoint: pointers into the caller's buffer. */
struct rvm_ckpt_view {
	const uint8_t *buf;
	size_t len;
	uint32_t partition;
	uint64_t seq;
	uint64_t time_ns;
	uint8_t chain[RVM_SHA256_DIGEST]; /* D(seq - 1) */
	uint8_t sha256[RVM_SHA256_DIGEST];
	uint16_t version; /* RVM_CKPT_VERSION_MIN .. RVM_CKPT_VERSION */
	uint32_t nregions, nagents, ncaps, nedges;
	size_t regions_off, agents_off, caps_off, edges_off; /* section offsets in buf */
};

/* One region entry of a view. */
struct rvm_ckpt_region {
	rvm_region_id id;
	uint64_t last_access;
	uint32_t owner;
	uint8_t order, tier, type, writable;
	uint8_t digest[RVM_SHA256_DIGEST]; /* SHA-256 of the 4096 << order content bytes */
	const uint8_t *image;		   /* page image (rvm/region.h store format) */
	uint32_t image_len;
	bool sealed;			 /* version 2: seal holds; version 1: it is zero */
	uint8_t seal[RVM_SHA256_DIGEST]; /* SHA-256 of the entry's first 64 bytes, then the image */
};

/* One capability entry: a live slot of the partition's table. */
struct rvm_ckpt_cap {
	uint32_t slot, gen, parent;
	uint64_t object, epoch;
	uint8_t type, rights, depth;
	uint8_t digest[RVM_CAP_DIGEST];
};

/* One edge entry (descriptors are not decoded here: desc points at them). */
struct rvm_ckpt_edge {
	rvm_obj_id id;
	uint32_t src, dst, head, tail;
	uint64_t weight, sent, received, refused;
	const uint8_t *desc; /* (head - tail) descriptors, 24 bytes each */
};

/*
 * Bytes a checkpoint of partition needs with these agents, at most (regions
 * whose pages do not compress are stored raw). RVM_E_OVERFLOW if it does not
 * fit a size_t.
 */
enum rvm_err rvm_checkpoint_bound(struct rvm_ckpt_ctx *c, uint32_t partition,
				  const struct rvm_ckpt_agent *agents, uint32_t nagents,
				  size_t *bound);

/*
 * Captures partition into buf[0..cap) (rvm_checkpoint_bound bytes always
 * suffice), stores it with plat->checkpoint_put and witnesses STATE_CHECKPOINT.
 * Resident regions are compressed page by page, Dormant images copied, Cold
 * images read back from the store and verified. Nothing changes on error:
 * RVM_E_NOMEM (buf too small), RVM_E_RANGE (partition, too many agents),
 * RVM_E_FULL (no room in the witness log), RVM_E_CORRUPT (a Dormant or Cold
 * image no longer matches its digest), the store's own errors. A store that
 * fails after the record was checked leaves no record.
 */
enum rvm_err rvm_checkpoint_take(struct rvm_ckpt_ctx *c, uint32_t partition,
				 const struct rvm_ckpt_agent *agents, uint32_t nagents,
				 uint8_t *buf, size_t cap, struct rvm_ckpt_info *info);

/*
 * Validates checkpoint bytes of unknown origin completely (header, trailer
 * SHA-256, every section and entry, bounds, duplicates; images are decoded
 * later, by restore) and fills *v. Never reads outside buf[0..len). Errors:
 * RVM_E_TRUNCATED (shorter than header + trailer or than the header says),
 * RVM_E_FORMAT (magic, sizes, reserved fields), RVM_E_VERSION, RVM_E_CORRUPT
 * (trailer mismatch, an entry that breaks a rule). sha may be NULL (portable).
 */
enum rvm_err rvm_checkpoint_parse(const uint8_t *buf, size_t len, const struct rvm_sha256_impl *sha,
				  struct rvm_ckpt_view *v);

/*
 * Entry iterators over a parsed view: *pos starts at 0 and is advanced; each
 * returns RVM_E_NOTFOUND after the last entry. parse has validated them.
 */
enum rvm_err rvm_ckpt_next_region(const struct rvm_ckpt_view *v, uint32_t *pos, size_t *off,
				  struct rvm_ckpt_region *out);
enum rvm_err rvm_ckpt_next_agent(const struct rvm_ckpt_view *v, uint32_t *pos, size_t *off,
				 struct rvm_ckpt_agent *out);
enum rvm_err rvm_ckpt_next_cap(const struct rvm_ckpt_view *v, uint32_t *pos,
			       struct rvm_ckpt_cap *out);
enum rvm_err rvm_ckpt_next_edge(const struct rvm_ckpt_view *v, uint32_t *pos, size_t *off,
				struct rvm_ckpt_edge *out);
/* The snapshot of agent id in the view; RVM_E_NOTFOUND if it has none. */
enum rvm_err rvm_ckpt_find_agent(const struct rvm_ckpt_view *v, uint32_t id,
				 struct rvm_ckpt_agent *out);

/*
 * Reads checkpoint id from the platform store into buf[0..cap) and parses
 * it into *v. RVM_E_NOMEM if it is larger than cap (*v untouched), the
 * store's errors (RVM_E_NOTFOUND), then rvm_checkpoint_parse's.
 */
enum rvm_err rvm_checkpoint_load(const struct rvm_platform *plat, uint64_t id, uint8_t *buf,
				 size_t cap, struct rvm_ckpt_view *v);

/* What a restore did. */
struct rvm_ckpt_restore_stats {
	uint32_t regions;	    /* regions reinstated from the checkpoint */
	uint32_t regions_dropped;   /* regions of the partition that the checkpoint did not have */
	uint32_t regions_elsewhere; /* checkpoint regions another partition holds now: left there */
	uint32_t caps_removed;	    /* caps granted after the checkpoint, removed (with subtrees) */
	uint32_t caps_lost;	    /* caps revoked after the checkpoint: never brought back */
	uint32_t edges;		    /* edges the checkpoint names */
	uint32_t edges_rolled;	    /* of those, still live and rolled back on this side */
	uint32_t edges_gone;	    /* of those, destroyed since: never brought back */
	uint32_t msgs_requeued;	    /* messages it received since, put back on its in-edges */
	uint32_t msgs_withdrawn;    /* its sends since that nobody received yet, taken back */
};

/*
 * Rolls partition back to a parsed checkpoint of it. Check (changes nothing):
 * every region entry's seal holds for its fields and its image as stored
 * (version 1, which has no seals: the decoded pages hash to the content
 * digest), every image decodes in a freshly allocated block, the log has
 * room. Apply (cannot fail): the partition's current regions are
 * unmapped and freed, the checkpoint's are reinstated under their own ids
 * (resident: Hot or Warm as recorded, Warm for those that were Dormant or
 * Cold) and unmapped, except those whose slot another partition holds now
 * (handed over since: a rollback never takes memory from another
 * partition; counted in regions_elsewhere); caps of
 * its table that the checkpoint does not hold are removed with their
 * subtrees, caps revoked since stay revoked (authority is never restored).
 * Edges (with c->ipc) are rolled back on the partition's side: on an edge
 * into it, the messages it received since the checkpoint are queued again,
 * in order, ahead of those sent since (the check refuses, RVM_E_FULL, if
 * they no longer fit the ring); on an edge out of it, its sends since the
 * checkpoint that are still queued are taken back (the peer's receipts are
 * the peer's history and stay). Edges destroyed since stay destroyed; edges
 * created since lose the partition's caps with the rest of its table.
 * c->keep can leave caps or edges as they are. Agents are the caller's:
 * their snapshots are in the view.
 * Witness STATE_RESTORE (target partition, arg0 checkpoint id, arg1 regions
 * reinstated | caps removed << 32). Errors: RVM_E_INVAL (partition is not the
 * view's), RVM_E_NOMEM (no blocks: nothing changed), RVM_E_CORRUPT (a seal
 * does not hold, an image does not decode, or in version 1 does not decode to
 * its digest), RVM_E_FULL. st may be NULL.
 */
enum rvm_err rvm_checkpoint_restore(struct rvm_ckpt_ctx *c, const struct rvm_ckpt_view *v,
				    uint32_t partition, struct rvm_ckpt_restore_stats *st);

/*
 * The digest of a partition's state: SHA-256 over a domain tag, the
 * partition, then for each region it owns in slot order (id, size, type,
 * writable, SHA-256 of the contents), then for each agent in the order the
 * callback gives them (id, digest of its state). Tiers and mappings are not
 * part of it: moving a region between tiers keeps its contents. The
 * callback returns RVM_E_NOTFOUND after the last agent; it may be NULL (no
 * agents). Errors: the callback's, RVM_E_RANGE for a bad partition.
 */
typedef enum rvm_err rvm_agent_digest_fn(void *ctx, uint32_t partition, uint32_t index,
					 uint32_t *agent, uint8_t digest[RVM_SHA256_DIGEST]);
enum rvm_err rvm_partition_digest(struct rvm_region_space *s, uint32_t partition,
				  rvm_agent_digest_fn *agents, void *ctx,
				  uint8_t out[RVM_SHA256_DIGEST]);
/* SHA-256 of a region's contents, wherever they are (resident: hashed now; else recorded). */
enum rvm_err rvm_region_content_digest(struct rvm_region_space *s, rvm_region_id id,
				       uint8_t out[RVM_SHA256_DIGEST]);
/*
 * Computes the partition digest and witnesses it live as STATE_DIGEST
 * (target partition, arg0/arg1 the digest's first 16 bytes as two
 * little-endian u64), so replay can be checked against it at that seq.
 * *seq_out (may be NULL) gets the record's seq. RVM_E_FULL without room.
 */
enum rvm_err rvm_partition_digest_record(struct rvm_region_space *s, uint32_t partition,
					 rvm_agent_digest_fn *agents, void *ctx,
					 uint8_t out[RVM_SHA256_DIGEST], uint64_t *seq_out);

#endif

/* rvm/kernel_recover.h - the swarm kernel's checkpoints and fault recovery: periodic partition
 * checkpoints holding agent snapshots, and agent faults handled by rvm_recovery_handle (DC-14). */
#ifndef RVM_KERNEL_RECOVER_H
#define RVM_KERNEL_RECOVER_H

#include <stddef.h>
#include <stdint.h>

#include <rvm/checkpoint.h>
#include <rvm/lz4.h>
#include <rvm/recovery.h>
#include <rvm/region.h>
#include <rvm/world.h>

/*
 * An agent's entry in a swarm checkpoint (the "snapshot blob"), little-endian:
 *    0  magic "RVMAGSN1"
 *    8  u32 flags: bit 0 = the agent was suspended in yield (its retry returns)
 *   12  u32 last_edge: what rvm.edge() answered (inbound edge of the last message)
 *   16  u64 raw length: bytes of the rvm_wasm_snapshot inside
 *   24  u32 chunks, u32 reserved (0)
 *   32  SHA-256 of the raw snapshot
 *   64  chunks: u32 block length, then one LZ4 block of up to RVM_LZ4_MAX_INPUT raw bytes
 *       (every chunk but the last holds exactly RVM_LZ4_MAX_INPUT)
 * The kernel-side fields are the agent state the instance does not hold but its next host
 * call depends on; replay (rvm journal, rvm replay) restores both.
 */
#define RVM_SNAPBLOB_MAGIC   "RVMAGSN1"
#define RVM_SNAPBLOB_HEAD    64u
#define RVM_SNAPBLOB_YIELDED 1u

struct rvm_snapblob_info {
	uint32_t flags, last_edge;
	uint64_t raw_len;
	uint8_t sha256[RVM_SHA256_DIGEST];
};

/* Bytes a blob of a raw snapshot of n bytes needs at most. */
size_t rvm_snapblob_bound(size_t n);
/*
 * Compresses raw[0..n) into out[0..cap) as a blob; *len gets its size. RVM_E_NOMEM if cap is
 * too small (rvm_snapblob_bound(n) always suffices), RVM_E_INVAL for NULL pointers.
 */
enum rvm_err rvm_snapblob_encode(struct rvm_lz4_work *work, const struct rvm_sha256_impl *sha,
				 const uint8_t *raw, size_t n, uint32_t flags, uint32_t last_edge,
				 uint8_t *out, size_t cap, size_t *len);
/*
 * Checks a blob of unknown origin and decodes its snapshot into raw[0..cap). Never reads
 * outside blob[0..len) or writes outside raw. RVM_E_FORMAT (magic, reserved field),
 * RVM_E_TRUNCATED, RVM_E_NOMEM (raw length above cap), RVM_E_CORRUPT (a block that does not
 * decode to its chunk, or the SHA-256 differs). sha may be NULL (portable).
 */
enum rvm_err rvm_snapblob_decode(const struct rvm_sha256_impl *sha, const uint8_t *blob, size_t len,
				 uint8_t *raw, size_t cap, struct rvm_snapblob_info *info);

/* Knobs; zeroed fields take the defaults named per field. */
struct rvm_kernel_recovery_config {
	uint32_t every;	    /* epochs between two checkpoints of one partition; default 20 */
	uint32_t per_epoch; /* partitions checkpointed per epoch at most; default 2 */
	uint32_t repeat;    /* faults of one class within window_ns that start the next one a class
			     * higher; default 3 */
	uint64_t window_ns; /* default 2 s */
};

/*
 * The swarm's recovery state, caller-owned (large: the recovery library's tables). Its
 * region space is empty and stays so: swarm partitions own no regions, their agents keep
 * their state in their own linear memory, which checkpoints hold as snapshot blobs.
 * Buffers (the embedder's): ckbuf one checkpoint, raw one agent's raw snapshot, blobs the
 * blobs of every agent of one partition.
 * Invariants: attached (k->w->rec == this) from rvm_kernel_recovery_attach on; last[p] is 1 +
 * the epoch of partition p's last checkpoint (0: none yet); current is the agent whose fault
 * is being handled (RVM_AGENT_NONE outside rvm_recovery_handle).
 */
struct rvm_kernel_recovery {
	struct rvm_recovery rec;
	struct rvm_ckpt_ctx ck;
	struct rvm_region_space space;
	struct rvm_buddy buddy;
	struct rvm_region_frame frame;
	struct rvm_region_store store;
	struct rvm_lz4_work lz4;
	struct rvm_kernel_recovery_config cfg;
	struct rvm_kernel *k;
	uint8_t *ckbuf, *raw, *blobs;
	size_t ckcap, rawcap, blobcap;
	uint64_t last[RVM_KPARTS];
	rvm_obj_id pid[RVM_KPARTS];  /* partition object each slot's checkpoints belong to */
	uint8_t pending[RVM_KPARTS]; /* a checkpoint waits for the running agent's slice to end:
				      * the partition's other agents are not started meanwhile */
	uint32_t cursor;	     /* round robin of rvm_kernel_checkpoint_tick */
	uint32_t current;	     /* agent whose fault is being handled */
	/* What happened, for summaries and tests. */
	uint64_t checkpoints, ckpt_bytes, ckpt_max, ckpt_busy, ckpt_failed;
	uint64_t from_snapshot, from_module; /* agent restarts (F1, and F2/F3 rebuilds) */
	uint64_t rollbacks;		     /* F2/F3 partition rollbacks */
	uint64_t stopped;		     /* agents F4 stopped */
	enum rvm_err last_err;		     /* of the last failed checkpoint or restore */
};

/*
 * Attaches recovery to a booted full kernel: from now on an agent trap is handled by
 * rvm_recovery_handle (F1 restarts the agent from its snapshot in its partition's newest
 * checkpoint, or from its module when there is none; repeated faults escalate to a rollback
 * of the partition to its checkpoint, F2/F3; F4 stops the agent: a hosted swarm does not
 * reboot under its other partitions), and rvm_kernel_checkpoint_tick takes checkpoints.
 * RVM_E_INVAL for missing buffers, RVM_E_STATE if the kernel is not a running full kernel.
 */
enum rvm_err rvm_kernel_recovery_attach(struct rvm_kernel *k, struct rvm_kernel_recovery *r,
					const struct rvm_kernel_recovery_config *cfg,
					uint8_t *ckbuf, size_t ckcap, uint8_t *raw, size_t rawcap,
					uint8_t *blobs, size_t blobcap);

/*
 * Checkpoints partition part now (lock held): a DIGEST journal entry for each of its ready
 * agents, a STATE_DIGEST record of the partition (agents: SHA-256 of their DIGEST payload),
 * then the checkpoint (caps, edges, the agents' snapshot blobs) through the platform store,
 * announced by STATE_CHECKPOINT. RVM_E_BUSY if one of its agents is running (its memory is
 * moving), RVM_E_NOTFOUND if it has no ready agent, the checkpoint's own errors.
 */
enum rvm_err rvm_kernel_checkpoint(struct rvm_kernel *k, uint32_t part, struct rvm_ckpt_info *info);

/*
 * The cadence (call once per epoch, lock held): checkpoints at most cfg.per_epoch
 * partitions, round robin, each at most every cfg.every epochs. A partition with a running
 * agent is marked pending: none of its agents is started until the checkpoint is taken, at
 * the end of the running agent's slice (rvm_kernel_run_slice) or at the next tick. Returns how
 * many it took.
 */
uint32_t rvm_kernel_checkpoint_tick(struct rvm_kernel *k);

/* The agent digest a STATE_DIGEST folds in: SHA-256 of the 40-byte DIGEST payload. */
void rvm_kernel_agent_state_digest(const struct rvm_sha256_impl *sha, uint64_t life_fuel,
				   const uint8_t memory_sha[RVM_SHA256_DIGEST],
				   uint8_t out[RVM_SHA256_DIGEST]);

#endif

/* rvm/recovery.h - fault recovery (DC-14): classify a fault, recover at F1..F4, escalate, witness
 * each step. */
#ifndef RVM_RECOVERY_H
#define RVM_RECOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/checkpoint.h>
#include <rvm/err.h>
#include <rvm/replay.h>

/*
 * The four classes, cheapest first. Each fault kind has a base class; a
 * step that fails, or a partition that faults again and again, goes one
 * class up. F4 is reached only when F3 could not help.
 *   F1 transient:   restart one agent from its last snapshot (or reclaim
 *                   memory, or drain the witness ring);
 *   F2 recoverable: reconstruct the partition from its last good checkpoint
 *                   plus a replay of the log since;
 *   F3 corruption:  the same rollback, but the replay skips the faulting
 *                   mutation (fault.seq);
 *   F4 controlled kernel restart, after the log was made durable.
 */
enum rvm_fault_class { RVM_F1 = 1, RVM_F2 = 2, RVM_F3 = 3, RVM_F4 = 4 };

/* What went wrong; values are witnessed (FAULT arg0): append only. */
enum rvm_fault_kind {
	RVM_FAULT_AGENT_TRAP = 1,   /* F1: an agent trapped (agent, detail = trap code) */
	RVM_FAULT_NOMEM = 2,	    /* F1: the buddy allocator could not serve the partition */
	RVM_FAULT_WITNESS_FULL = 3, /* F1: the witness ring is full, the sink stopped draining */
	RVM_FAULT_INCONSISTENT = 4, /* F2: the partition's state failed a consistency check */
	RVM_FAULT_MIGRATION = 5,    /* F2: a migration died half-way */
	RVM_FAULT_MEM_CORRUPT =
		6, /* F3: region bytes corrupted (seq: the bad mutation, if known) */
	RVM_FAULT_IMAGE_CORRUPT = 7, /* F3: a compressed page failed its digest (detail: region) */
	RVM_FAULT_COHERENCE = 8,     /* F3: a coherence violation (seq: the offending record) */
	RVM_FAULT_KERNEL = 9,	     /* F4: a kernel invariant is broken */
	RVM_FAULT_KIND_COUNT
};

/* No faulting record (fault.seq), or no checkpoint. */
#define RVM_SEQ_NONE UINT64_MAX
/* Checkpoints remembered per partition (the newest good one is used). */
#define RVM_RECOVERY_KEEP 4u

struct rvm_fault {
	uint16_t kind;	    /* enum rvm_fault_kind */
	uint32_t partition; /* pool slot */
	uint32_t agent;	    /* F1 agent faults */
	uint64_t seq;	    /* the faulting mutation's witness seq, or RVM_SEQ_NONE */
	uint64_t detail;
};

/*
 * What recovery needs from the layer that runs agents (the kernel); any
 * member may be NULL when that layer has nothing to do at that step.
 *  agent_restart  F1: replace agent's instance with one restored from
 *                 snap[0..len) (snap NULL: no snapshot, start it fresh).
 *  quiesce        F2/F3, before the rollback: stop the partition's agents,
 *                 abort a migration in flight.
 *  agents_rebuild F2/F3, after the regions were rebuilt: restore the agents
 *                 from the checkpoint's snapshots (in v; NULL: no checkpoint,
 *                 no_regions only) and re-run their journal up to seq upto,
 *                 leaving out skip; then resume.
 *  agents_snapshot  snapshots for the fresh checkpoint taken after F2/F3
 *                 (returns how many of at most max it filled).
 *  kernel_restart F4: the log is durable; restart the kernel.
 *  checkpoint_after F2/F3, after a successful rollback: takes the fresh checkpoint itself and
 *                 returns its id (0: none taken). Making it a restore base is then the
 *                 layer's (rvm_recovery_note_checkpoint), e.g. only once an asynchronous
 *                 store has it durable. NULL: the library takes it from agents_snapshot's
 *                 blobs, stores it synchronously and remembers it at once.
 */
struct rvm_recovery_ops {
	enum rvm_err (*agent_restart)(void *ctx, uint32_t partition, uint32_t agent,
				      const uint8_t *snap, size_t len);
	enum rvm_err (*quiesce)(void *ctx, uint32_t partition, const struct rvm_fault *f);
	enum rvm_err (*agents_rebuild)(void *ctx, uint32_t partition, const struct rvm_ckpt_view *v,
				       uint64_t upto, uint64_t skip);
	uint32_t (*agents_snapshot)(void *ctx, uint32_t partition, struct rvm_ckpt_agent *out,
				    uint32_t max);
	void (*kernel_restart)(void *ctx, const struct rvm_fault *f);
	uint64_t (*checkpoint_after)(void *ctx, uint32_t partition);
};

/* Escalation policy: `repeat` faults of one class within window_ns move the next one up. */
struct rvm_recovery_config {
	uint32_t repeat; /* 0 = never escalate on repetition */
	uint64_t window_ns;
	/* The partitions own no regions (a swarm's agents keep their state in their own
	 * memory): a rollback restores the checkpoint and rebuilds the agents, with no region
	 * log to replay (so it does not need the records since the checkpoint); with no
	 * checkpoint yet, agents_rebuild gets v = NULL (agents rebuild from their own starts). */
	bool no_regions;
};

/* Per partition: its last checkpoints (newest last) and recent faults per class. */
struct rvm_recovery_part {
	uint64_t ckpt[RVM_RECOVERY_KEEP];
	uint64_t tag[RVM_RECOVERY_KEEP]; /* each one's record arg1: its SHA-256's first 8 bytes */
	uint32_t nckpt;
	uint32_t faults[RVM_F4 + 1];
	uint64_t window_start;
};

/*
 * The recovery state, caller-owned. buf[0..cap) holds one checkpoint at a
 * time (loading the one to roll back to, writing the fresh one after).
 * src reads the log (records since a checkpoint), the journal and the
 * checkpoint store.
 */
struct rvm_recovery {
	struct rvm_ckpt_ctx *ck;
	struct rvm_replay_source src;
	const struct rvm_recovery_ops *ops;
	void *ctx;
	struct rvm_recovery_config cfg;
	uint8_t *buf;
	size_t cap;
	uint64_t handled[RVM_F4 + 1]; /* recoveries completed at each class */
	uint64_t from_ckpt; /* during ops->agent_restart: the checkpoint snap comes from (0 none) */
	struct rvm_recovery_part part[RVM_MAX_PARTITIONS];
	struct rvm_ckpt_agent agents[RVM_CKPT_MAX_AGENTS]; /* ops->agents_snapshot fills these */
};

/* Outcome of one fault. */
struct rvm_recovery_result {
	uint8_t cls;	   /* class that resolved it (RVM_F4: the kernel restarts) */
	uint8_t first;	   /* class it started at (after repetition escalation) */
	uint64_t ckpt;	   /* checkpoint rolled back to (F2/F3) or restarted from (F1) */
	uint64_t new_ckpt; /* checkpoint taken after an F2/F3 rollback, 0 if none */
	struct rvm_replay_stats replay;
	enum rvm_err last_err; /* why the last failed step failed (RVM_OK if none did) */
};

/* Base class of a kind (RVM_F4 for unknown kinds). */
enum rvm_fault_class rvm_fault_class_of(uint16_t kind);

void rvm_recovery_init(struct rvm_recovery *rec, struct rvm_ckpt_ctx *ck,
		       const struct rvm_replay_source *src, const struct rvm_recovery_ops *ops,
		       void *ctx, const struct rvm_recovery_config *cfg, uint8_t *buf, size_t cap);

/*
 * Takes a checkpoint of partition (rvm_checkpoint_take into rec->buf) and
 * remembers it as the newest one to recover from.
 */
enum rvm_err rvm_recovery_checkpoint(struct rvm_recovery *rec, uint32_t partition,
				     const struct rvm_ckpt_agent *agents, uint32_t nagents,
				     struct rvm_ckpt_info *info);
/*
 * Remembers a checkpoint taken elsewhere (e.g. found in the log after a restart). tag is its
 * record's arg1, the first 8 bytes of its SHA-256 (little-endian): recovery uses the checkpoint
 * only if the stored bytes still hash to it.
 */
void rvm_recovery_note_checkpoint(struct rvm_recovery *rec, uint32_t partition, uint64_t id,
				  uint64_t tag);

/*
 * Handles one fault: witnesses FAULT (target partition, arg0 kind | agent <<
 * 32, arg1 fault seq), picks the class (base class, escalated on repetition),
 * then at each class witnesses RECOVER_Fn (target partition, arg0 kind |
 * agent << 32, arg1 checkpoint id or 0) and tries that class's step; a
 * failed step escalates. F4 syncs the log, then calls ops->kernel_restart.
 * Other partitions are never touched. Returns RVM_OK once some class
 * resolved the fault (F4 included); RVM_E_INVAL for a bad fault; RVM_E_FULL
 * if the fault cannot even be witnessed (then only F4 was possible and was
 * called). res may be NULL.
 */
enum rvm_err rvm_recovery_handle(struct rvm_recovery *rec, const struct rvm_fault *f,
				 uint64_t now_ns, struct rvm_recovery_result *res);

/*
 * Record seq from the live witness ring, for a replay source's record
 * function: RVM_E_NOTFOUND once it has left the ring.
 */
enum rvm_err rvm_recovery_ring_record(const struct rvm_witness_log *log, uint64_t seq,
				      struct rvm_witness_record *out);

#endif

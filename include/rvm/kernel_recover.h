/* rvm/kernel_recover.h - the swarm kernel's checkpoints and fault recovery: periodic partition
 * checkpoints holding agent snapshots, and agent faults handled by rvm_recovery_handle (DC-14). */
#ifndef RVM_KERNEL_RECOVER_H
#define RVM_KERNEL_RECOVER_H

#include <stdbool.h>
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

/*
 * An agent's input tape (DC-14 replay): every input it consumed since its base - its snapshot
 * in the newest checkpoint that holds it, or its START - as the journal entries that recorded
 * them (kinds RECV, NOW, SPAWN, SEND; GPU answers make the tape unreplayable). A rollback
 * restores the agent from its base and re-runs it against the tape (kernel/kernel_replay.c):
 * its receives and host calls are answered from the tape, its sends are suppressed (they were
 * delivered) and checked against the hash of the recorded ones, and it goes live exactly
 * where it was. A checkpoint that holds the agent's snapshot starts a new tape - once it is
 * durable: until its store reports it written, the tape keeps the old base and everything
 * since, and records on past the cut, where the next generation starts (two generations).
 * Durable, the tape drops what comes before the cut; failed, it keeps it all (docs/recovery.md).
 * Entry: a 20-byte head, then the journal payload:
 *    0  u64 seq    the witness record that bound the journal entry (0 until it is bound)
 *    8  u32 aux    the journal entry's aux
 *   12  u32 sends  low 32 bits of the hash of the sends accepted since base, before this entry
 *   16  u16 len, u8 kind (enum rvm_journal_kind), u8 index in its batch (0xff: single entry)
 */
#define RVM_TAPE_HEAD 20u
#if defined(RVM_PROFILE_SEED)
#define RVM_TAPE_BYTES 4096u
#else
/* About 26,000 16-byte messages; the pages of an agent's tape are touched only as it fills. A
 * tape half full forces a checkpoint of its partition (built under the kernel lock, written
 * and fsynced by the platform store off it): at 256 KiB the demo swarm forced 20 a second, at
 * 1 MiB a few (docs/recovery.md). */
#define RVM_TAPE_BYTES (1u << 20)
#endif
/* Past this fill a checkpoint of the agent's partition is requested (it starts a new tape). The
 * other half holds the next generation while the store makes that checkpoint durable. */
#define RVM_TAPE_HIGH (RVM_TAPE_BYTES / 2u)
/* Room always kept for the count entries a digest flushes (RECV polls, SEND counts). */
#define RVM_TAPE_RESERVE 64u

enum rvm_tape_state {
	RVM_TAPE_OK = 0,   /* replayable */
	RVM_TAPE_LOST = 1, /* it filled and no checkpoint could be taken: not recording */
	RVM_TAPE_GPU = 2,  /* it holds a GPU answer, which in-kernel replay does not give */
};

/*
 * Invariants: entries fill tape_buf[agent][0..used); those before `unbound` carry their
 * binding seq; sends is the running hash (rvm_tape_hash_send: edge and len as one word,
 * then the bytes 8 at a time) of every send accepted since base, chained on from sends0 (its value at base); the agent's fuel since
 * base is its fuel minus fuel0. Not OK and no next generation recording: empty.
 * While next != 0 a checkpoint holding the agent's snapshot is on its way to the store:
 * [cut, used) is what the agent consumed since that snapshot (next_fuel0, next_sends0 and
 * cut_entries/cut_msgs describe the cut); next_state is the state the tape has from that base
 * (OK: it records, even when the current generation does not).
 */
struct rvm_agent_tape {
	uint64_t base;	/* checkpoint id of the snapshot it continues; 0: the agent's START */
	uint64_t fuel0; /* the agent's fuel at base */
	uint64_t sends;
	uint32_t used, unbound;
	uint32_t entries, msgs;
	uint8_t state; /* enum rvm_tape_state */
	uint8_t next_state;
	uint32_t cut, cut_entries, cut_msgs;
	uint64_t sends0;
	uint64_t next, next_fuel0, next_sends0;
};

/* Where a replay must bring an agent back to: the state it had when it stopped. */
struct rvm_replay_goal {
	uint64_t fuel;		      /* fuel it had used since its tape's base */
	uint8_t mem[RVM_SHA256_DIGEST]; /* SHA-256 of its linear memory then */
	bool trapped;		      /* it stopped in a trap (the faulting agent) */
	uint32_t stop;		      /* F3: tape offset of the RECV to skip; UINT32_MAX none */
};

/* The replay in progress (one at a time, under the kernel lock). */
struct rvm_tape_replay {
	uint32_t agent;
	uint32_t cur[RVM_JK_COUNT]; /* tape offset of the next entry of each input kind */
	uint32_t stop;		    /* as the goal's */
	uint32_t oks, fails, empties; /* progress inside the current SEND and RECV entries */
	uint32_t entries, msgs;	    /* entries and messages answered */
	uint64_t sends;		    /* hash of the sends the replay made (suppressed) */
	bool live;		    /* it asked for an input past the tape: live from that call */
	bool skipped;		    /* ... and that input was the one F3 skips */
	enum rvm_err err;	    /* a divergence a host call found */
};

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
	/* The platform as the checkpoint library sees it: the kernel's, whose put is the
	 * asynchronous one while rvm_kernel_checkpoint stores (docs/recovery.md). */
	struct rvm_platform store_plat;
	uint64_t inflight[RVM_KPARTS]; /* id of p's checkpoint the store is writing; 0 none */
	uint8_t ckfail[RVM_KPARTS];    /* p's checkpoints that failed in a row (saturating) */
	enum rvm_err ckfail_err[RVM_KPARTS]; /* the last one's error */
	uint32_t stores;		     /* puts queued and not yet reported */
	uint32_t polls;			     /* slice ends while stores were queued */
	uint32_t current;	     /* agent whose fault is being handled */
	/* What happened, for summaries and tests. */
	uint64_t checkpoints, ckpt_bytes, ckpt_max, ckpt_busy, ckpt_failed;
	uint64_t stored;       /* checkpoints the store reported durable after the lock was let go */
	uint64_t store_failed; /* ... and reported failed (recovery.checkpoint_lost) */
	uint64_t from_snapshot, from_module; /* agent restarts (F1, and F2/F3 rebuilds) */
	uint64_t rollbacks;		     /* F2/F3 partition rollbacks */
	uint64_t stopped;		     /* agents F4 stopped */
	enum rvm_err last_err;		     /* of the last failed checkpoint or restore */
	/* Replay (DC-14): the run in progress, what the fault being handled needs, counters. */
	struct rvm_tape_replay rp;
	struct rvm_replay_goal fault_goal; /* the faulting agent at its trap */
	uint32_t skip_off;		   /* its last consumed message: F3's skip (UINT32_MAX) */
	uint32_t skipped_agent;		   /* F3 skipped an input of it in this fault */
	uint32_t snap_n;		   /* agents in the last ops->agents_snapshot */
	bool retrap;			   /* its replay trapped again in this fault */
	uint64_t replays, replay_failed, inputs_replayed, msgs_replayed;
	uint64_t skipped;     /* messages F3 skipped (received, counted, witnessed) */
	uint64_t forced;      /* checkpoints requested because a tape filled */
	uint64_t tapes_lost;  /* tapes that became unreplayable (recovery.tape_lost) */
	uint64_t fallbacks;   /* rebuilds from a base without replay (unreplayable tape) */
	uint64_t kept;	      /* agents a rollback left running (unreplayable tape) */
	struct rvm_agent_tape tape[RVM_AGENT_MAX];
	/* Last, never cleared (only tape[i].used bytes are read): on a demand-paged host the
	 * pages of a tape cost nothing until it fills them. */
	uint8_t tape_buf[RVM_AGENT_MAX][RVM_TAPE_BYTES];
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
 * With a platform that stores asynchronously (checkpoint_put_async) the bytes are handed to
 * the store and this returns before they are durable: the checkpoint becomes a restore base,
 * and its agents' tapes are trimmed, only when rvm_kernel_checkpoint_settle hears it was
 * written; a failed write is witnessed (recovery.checkpoint_lost) and changes nothing else.
 * One checkpoint of a partition is in flight at a time: a second one waits for the first.
 */
enum rvm_err rvm_kernel_checkpoint(struct rvm_kernel *k, uint32_t part, struct rvm_ckpt_info *info);

/*
 * Takes in what the asynchronous store finished (lock held): each durable checkpoint becomes
 * its partition's newest restore base and trims its agents' tapes; each failed one is
 * witnessed (recovery.checkpoint_lost: target partition, arg0 id, arg1 the rvm_err) and its
 * tapes keep their old base. With wait, blocks until every queued put is reported (shutdown:
 * rvm_kernel_shutdown calls it before the log is closed). Returns how many it took in; 0
 * without recovery or an asynchronous store.
 */
uint32_t rvm_kernel_checkpoint_settle(struct rvm_kernel *k, bool wait);

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

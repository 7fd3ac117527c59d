/* rvm/witness.h - the witness log: 64-byte hash-chained records of every privileged action. */
#ifndef RVM_WITNESS_H
#define RVM_WITNESS_H

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/ed25519.h>
#include <rvm/err.h>
#include <rvm/platform.h>
#include <rvm/profile.h>
#include <rvm/sha256.h>

/*
 * Every privileged action of the object model, grouped by subsystem in
 * blocks of 0x100. X-macro: (NAME, value, "dotted.name"). Values are part of
 * the file format (docs/witness-format.md): append, never renumber.
 */
#define RVM_ACTION_LIST(X)                                                     \
	/* kernel and chain */                                                 \
	X(BOOT_PHASE, 0x0001, "boot.phase")                                    \
	X(BOOT_COMPLETE, 0x0002, "boot.complete")                              \
	X(SHUTDOWN, 0x0003, "kernel.shutdown")                                 \
	X(CHAIN_CHECKPOINT, 0x0004, "chain.checkpoint")                        \
	X(EPOCH_BATCH, 0x0005, "chain.epoch_batch")                            \
	X(DEGRADED_ENTER, 0x0006, "kernel.degraded_enter")                     \
	X(DEGRADED_EXIT, 0x0007, "kernel.degraded_exit")                       \
	X(EPOCH_TICK, 0x0008, "kernel.epoch")                                  \
	/* partitions */                                                       \
	X(PARTITION_CREATE, 0x0100, "partition.create")                        \
	X(PARTITION_DESTROY, 0x0101, "partition.destroy")                      \
	X(PARTITION_SUSPEND, 0x0102, "partition.suspend")                      \
	X(PARTITION_RESUME, 0x0103, "partition.resume")                        \
	X(PARTITION_HIBERNATE, 0x0104, "partition.hibernate")                  \
	X(PARTITION_WAKE, 0x0105, "partition.wake")                            \
	X(PARTITION_SPLIT, 0x0106, "partition.split")                          \
	X(PARTITION_MERGE, 0x0107, "partition.merge")                          \
	X(PARTITION_MIGRATE, 0x0108, "partition.migrate")                      \
	X(MIGRATE_ABORT, 0x0109, "partition.migrate_abort")                    \
	X(VMID_ASSIGN, 0x010A, "partition.vmid_assign")                        \
	X(SPLIT_ABORT, 0x010B, "partition.split_abort")                        \
	/* capabilities and the security gate */                               \
	X(CAP_MINT, 0x0200, "cap.mint")                                        \
	X(CAP_GRANT, 0x0201, "cap.grant")                                      \
	X(CAP_DERIVE, 0x0202, "cap.derive")                                    \
	X(CAP_REVOKE, 0x0203, "cap.revoke")                                    \
	X(CAP_DENIED, 0x0204, "cap.denied")                                    \
	X(GATE_DENIED, 0x0205, "gate.denied")                                  \
	X(CAP_MOVE, 0x0206, "cap.move")                                        \
	/* memory */                                                           \
	X(REGION_MAP, 0x0300, "region.map")                                    \
	X(REGION_UNMAP, 0x0301, "region.unmap")                                \
	X(REGION_TRANSFER, 0x0302, "region.transfer")                          \
	X(REGION_TIER, 0x0303, "region.tier")                                  \
	X(REGION_WRITE, 0x0304, "region.write")                                \
	X(REGION_CREATE, 0x0305, "region.create")                              \
	X(REGION_DESTROY, 0x0306, "region.destroy")                            \
	/* IPC */                                                              \
	X(EDGE_CREATE, 0x0400, "edge.create")                                  \
	X(EDGE_DESTROY, 0x0401, "edge.destroy")                                \
	X(IPC_SEND, 0x0402, "ipc.send")                                        \
	X(IPC_RECV, 0x0403, "ipc.recv")                                        \
	X(EDGE_REPOINT, 0x0404, "edge.repoint")                                \
	/* device leases */                                                    \
	X(LEASE_GRANT, 0x0500, "lease.grant")                                  \
	X(LEASE_REVOKE, 0x0501, "lease.revoke")                                \
	X(LEASE_EXPIRE, 0x0502, "lease.expire")                                \
	/* agents */                                                           \
	X(AGENT_SPAWN, 0x0600, "agent.spawn")                                  \
	X(AGENT_EXIT, 0x0601, "agent.exit")                                    \
	X(AGENT_TRAP, 0x0602, "agent.trap")                                    \
	X(HOSTCALL, 0x0603, "agent.hostcall")                                  \
	X(HOSTCALL_BATCH, 0x0604, "agent.hostcall_batch")                      \
	X(AGENT_MOVE, 0x0605, "agent.move")                                    \
	/* checkpoints and recovery (DC-14) */                                 \
	X(STATE_CHECKPOINT, 0x0700, "recovery.checkpoint")                     \
	X(FAULT, 0x0701, "recovery.fault")                                     \
	X(RECOVER_F1, 0x0702, "recovery.f1_restart_agent")                     \
	X(RECOVER_F2, 0x0703, "recovery.f2_reconstruct")                       \
	X(RECOVER_F3, 0x0704, "recovery.f3_rollback")                          \
	X(RECOVER_F4, 0x0705, "recovery.f4_reboot")                            \
	X(STATE_DIGEST, 0x0706, "recovery.digest")                             \
	X(STATE_RESTORE, 0x0707, "recovery.restore")                           \
	X(RECOVER_SKIP, 0x0708, "recovery.skip")                               \
	X(RECOVER_REPLAY, 0x0709, "recovery.replay")                           \
	X(TAPE_LOST, 0x070A, "recovery.tape_lost")                             \
	X(CKPT_LOST, 0x070B, "recovery.checkpoint_lost")                       \
	/* scheduling and coherence */                                         \
	X(SCHED_PLACE, 0x0800, "sched.place")                                  \
	X(COHERENCE_EPOCH, 0x0801, "coherence.epoch")                          \
	/* GPU compute */                                                      \
	X(GPU_ALLOC, 0x0900, "gpu.alloc")                                      \
	X(GPU_FREE, 0x0901, "gpu.free")                                        \
	X(GPU_TRANSFER, 0x0902, "gpu.transfer")                                \
	X(GPU_LAUNCH, 0x0903, "gpu.launch")                                    \
	X(GPU_CANCEL, 0x0904, "gpu.cancel")                                    \
	X(GPU_ATTACH, 0x0905, "gpu.attach")                                    \
	X(GPU_DETACH, 0x0906, "gpu.detach")                                    \
	X(GPU_QUEUE, 0x0907, "gpu.queue")                                      \
	X(GPU_KERNEL, 0x0908, "gpu.kernel")                                    \
	X(GPU_EPOCH, 0x0909, "gpu.epoch")                                      \
	X(GPU_MOVE, 0x090A, "gpu.move")                                        \
	X(GPU_RECOVER, 0x090B, "gpu.recover")

enum rvm_action {
#define RVM_ACTION_ENUM(name, value, text) RVM_ACT_##name = value,
	RVM_ACTION_LIST(RVM_ACTION_ENUM)
#undef RVM_ACTION_ENUM
};

/* "cap.grant" for RVM_ACT_CAP_GRANT; NULL for a value no action has. */
const char *rvm_action_name(uint16_t action);
/* Inverse of rvm_action_name; RVM_E_NOTFOUND for an unknown name. */
enum rvm_err rvm_action_parse(const char *name, uint16_t *action);

/* Record flags. */
enum rvm_witness_flags {
	RVM_WF_DENIED = 1u << 0,    /* the action was refused; arg1 holds the enum rvm_err */
	RVM_WF_SIGNATURE = 1u << 1, /* a 64-byte signature block follows this record in the file */
	RVM_WF_BATCH = 1u << 2,	    /* an epoch batch summarising many records (DC-10) */
	/* With BATCH: arg1 is the word fold (docs/witness-format.md); a BATCH record without it
	 * (logs written before the flag existed) carries the byte-wise FNV-1a fold. */
	RVM_WF_WORDFOLD = 1u << 3,
};

/* The word fold's multiplier (odd: each step is a bijection of the running fold). */
#define RVM_WITNESS_FOLD_MUL 0x9e3779b97f4a7c15ull

/*
 * The record: exactly 64 bytes, little-endian on disk, 64-byte aligned.
 * Invariants kept by rvm_witness_emit:
 *   seq increases by one per record, starting at 0 after genesis;
 *   prev8 = first 8 bytes of D(seq-1) (D(-1) = D0, the genesis digest);
 *   self8 = first 8 bytes of D(seq) = SHA-256(D(seq-1) || record with self8 zeroed).
 */
struct rvm_witness_record {
	alignas(64) uint64_t seq;
	uint64_t time_ns;
	uint16_t action;
	uint16_t flags;
	uint32_t actor;  /* partition (or agent) that acted; 0 = the kernel */
	uint64_t target; /* object acted upon */
	uint64_t arg0;
	uint64_t arg1;
	uint8_t prev8[8];
	uint8_t self8[8];
};
_Static_assert(sizeof(struct rvm_witness_record) == 64, "witness record must be 64 bytes");
_Static_assert(alignof(struct rvm_witness_record) == 64, "witness record must be 64-byte aligned");
_Static_assert(offsetof(struct rvm_witness_record, action) == 16, "witness record layout");
_Static_assert(offsetof(struct rvm_witness_record, prev8) == 48, "witness record layout");

#define RVM_WITNESS_RECORD_SIZE 64u

/* Serialise to / from the 64 little-endian bytes of the file format. */
void rvm_witness_encode(const struct rvm_witness_record *r, uint8_t out[RVM_WITNESS_RECORD_SIZE]);
void rvm_witness_decode(const uint8_t in[RVM_WITNESS_RECORD_SIZE], struct rvm_witness_record *r);

/* How the chain is hashed: SHA-256 (default) or FNV-1a 64 for the seed's cheapest mode. */
enum rvm_witness_chain { RVM_CHAIN_SHA256 = 1, RVM_CHAIN_FNV1A = 2 };

/* How checkpoints are signed. */
enum rvm_witness_sig { RVM_SIG_NONE = 0, RVM_SIG_HMAC_SHA256 = 1, RVM_SIG_ED25519 = 2 };

/* Why a chain checkpoint was emitted (its arg0). */
enum rvm_witness_ckpt_reason {
	RVM_CKPT_PERIODIC = 1, /* every cfg.checkpoint_every records */
	RVM_CKPT_EXPLICIT = 2, /* rvm_witness_checkpoint() */
	RVM_CKPT_SHUTDOWN = 3, /* rvm_witness_close(): the log ended cleanly */
};

/* The 64-byte block that follows a record flagged RVM_WF_SIGNATURE in the file. */
#define RVM_WITNESS_SIG_BLOCK 64u

struct rvm_witness_config {
	enum rvm_witness_chain chain;
	enum rvm_witness_sig sig;
	uint8_t key[RVM_ED25519_SECRET]; /* Ed25519 secret key, or HMAC key (first 32 bytes) */
	uint32_t checkpoint_every;       /* signed checkpoint every N records; 0 = never */
	uint8_t boot_nonce[16];          /* all zero = draw from platform entropy */
	/* Ed25519: the caller has just made key with rvm_ed25519_keypair, so its second half is
	 * the seed's public key by construction and setup takes it without deriving it again
	 * (a fixed-base scalar multiplication: milliseconds on a small core, before the first
	 * witness). A key read from a file or a config leaves it false and is checked. */
	bool key_pair_fresh;
};

/*
 * The log: caller-owned, no allocation.
 *
 * Ring invariants (N = RVM_WITNESS_RING_RECORDS, a power of two):
 *   record seq lives in ring[seq & (N-1)] while next_seq - seq <= N;
 *   durable_seq <= flushed_seq <= next_seq and next_seq - flushed_seq <= N:
 *   [flushed_seq, next_seq) are in the ring only, [durable_seq, flushed_seq)
 *   were appended to the sink but not yet synced, [0, durable_seq) survive a
 *   crash. Without a sink (ring-only, has_sink false) the ring is a window
 *   on the last N records and flushed_seq marks the oldest one kept.
 * Chain invariants:
 *   digest = D(next_seq - 1), D0 before the first record;
 *   ring[s].prev8 = D(s-1)[0..8), ring[s].self8 = D(s)[0..8).
 * Signature invariant: at most one checkpoint's signature block is pending
 *   (sig_pending); flush writes it immediately after record sig_seq.
 */
struct rvm_witness_log {
	const struct rvm_platform *plat;
	struct rvm_witness_record ring[RVM_WITNESS_RING_RECORDS];
	uint64_t next_seq;
	uint64_t flushed_seq;
	uint64_t durable_seq;
	uint8_t digest[RVM_SHA256_DIGEST]; /* D(next_seq - 1), D0 before the first record */
	uint8_t genesis[RVM_SHA256_DIGEST]; /* D0 */
	struct rvm_witness_config cfg;
	const struct rvm_sha256_impl *sha; /* the platform's SHA-256 (NULL: portable) */
	uint8_t public_key[RVM_ED25519_PUBLIC]; /* Ed25519 public key, or the HMAC key id */
	uint64_t boot_clock_ns;   /* platform clock at genesis: record times count from here */
	uint64_t since_checkpoint; /* records emitted since the last checkpoint */
	uint64_t last_ckpt_seq;    /* seq of the last checkpoint, UINT64_MAX before the first */
	uint64_t sig_seq;          /* seq of the checkpoint that sig signs */
	uint8_t sig[RVM_WITNESS_SIG_BLOCK];
	bool sig_pending; /* sig not yet appended to the sink */
	bool has_sink;    /* false: ring only (tests, no run directory) */
	enum rvm_err sink_err; /* last sink failure, RVM_OK when healthy */
	/* Epoch batching (DC-10): counts folded into one record per flush. */
	struct {
		uint64_t count;
		uint64_t sum;
		uint64_t fold; /* word fold of the batched (action, actor, target, arg0) */
		uint16_t action;
		uint32_t actor;
	} batch;
};

/*
 * Starts a log: draws the boot nonce if cfg's is zero, computes D0 and, when
 * the platform has a witness sink, writes the file header and syncs it. A
 * platform whose sink answers RVM_E_UNSUPPORTED gives a ring-only log.
 */
enum rvm_err rvm_witness_init(struct rvm_witness_log *log, const struct rvm_platform *plat,
			      const struct rvm_witness_config *cfg);
/* Appends one record; *seq_out (may be NULL) receives its seq. Fails with
 * RVM_E_FULL when the ring is full and the sink cannot take records, and with
 * RVM_E_INVAL for flags only the log itself sets (SIGNATURE, BATCH). If a
 * periodic checkpoint follows the record and fails, the record stays emitted
 * (*seq_out is set) and the checkpoint's error is returned. */
enum rvm_err rvm_witness_emit(struct rvm_witness_log *log, uint16_t action, uint16_t flags,
			      uint32_t actor, uint64_t target, uint64_t arg0, uint64_t arg1,
			      uint64_t *seq_out);
/* True if n more records can be emitted now without failing (check before apply). */
bool rvm_witness_can_emit(const struct rvm_witness_log *log, uint32_t n);
/* Folds a high-frequency event into the current epoch batch (DC-10). A change
 * of action or actor first flushes the pending batch. */
enum rvm_err rvm_witness_batch_add(struct rvm_witness_log *log, uint16_t action, uint32_t actor,
				   uint64_t target, uint64_t arg0);
/* Emits the pending batch as one RVM_WF_BATCH | RVM_WF_WORDFOLD record (no-op when
 * empty): action and actor of the batch, target = event count, arg0 = sum of the
 * events' arg0 (mod 2^64), arg1 = the word fold of every event in order. */
enum rvm_err rvm_witness_batch_flush(struct rvm_witness_log *log);
/* Emits a signed chain checkpoint now. */
enum rvm_err rvm_witness_checkpoint(struct rvm_witness_log *log);
/* Appends every record in the ring (and a pending signature block) to the sink. */
enum rvm_err rvm_witness_flush(struct rvm_witness_log *log);
/* Flush, then make everything appended durable: afterwards durable_seq = next_seq.
 * RVM_E_UNSUPPORTED on a ring-only log. */
enum rvm_err rvm_witness_sync(struct rvm_witness_log *log);
/* Shutdown: pending batch, final signed checkpoint (reason SHUTDOWN), sync. */
enum rvm_err rvm_witness_close(struct rvm_witness_log *log);
/* The record with this seq if it is still in the ring. */
const struct rvm_witness_record *rvm_witness_get(const struct rvm_witness_log *log, uint64_t seq);

/* Chain primitives shared by the writer and the verifier (kernel/witness_chain.c). */
/* D0 = H("RVM-WITNESS-v1" || nonce); FNV-1a mode: 8 meaningful bytes, the rest zero. */
void rvm_witness_genesis(enum rvm_witness_chain chain, const struct rvm_sha256_impl *sha,
			 const uint8_t nonce[16], uint8_t d0[RVM_SHA256_DIGEST]);
/* D(i) = H(D(i-1) || rec), rec being the encoded record with self8 zeroed.
 * FNV-1a mode hashes only the 8 meaningful bytes of D(i-1). prev and out may alias. */
void rvm_witness_chain_next(enum rvm_witness_chain chain, const struct rvm_sha256_impl *sha,
			    const uint8_t prev[RVM_SHA256_DIGEST],
			    const uint8_t rec[RVM_WITNESS_RECORD_SIZE],
			    uint8_t out[RVM_SHA256_DIGEST]);

#endif

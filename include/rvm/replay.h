/* rvm/replay.h - rebuilding partition state at any witness seq from checkpoints, the log and the
 * journal. */
#ifndef RVM_REPLAY_H
#define RVM_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/checkpoint.h>
#include <rvm/err.h>
#include <rvm/witness.h>

/*
 * Where replay reads history from: the live ring (recovery), or a whole
 * log file with its journal and checkpoint directory (rvm replay). Pointers
 * handed out stay valid until the next call of the same function.
 */
struct rvm_replay_source {
	/* Record seq; RVM_E_NOTFOUND if the source does not hold it. */
	enum rvm_err (*record)(void *ctx, uint64_t seq, struct rvm_witness_record *out);
	/* The journaled bytes of REGION_WRITE record seq; RVM_E_NOTFOUND if absent. */
	enum rvm_err (*payload)(void *ctx, uint64_t seq, const uint8_t **data, size_t *len);
	/* Checkpoint id's bytes; RVM_E_NOTFOUND if absent. */
	enum rvm_err (*checkpoint)(void *ctx, uint64_t id, const uint8_t **buf, size_t *len);
	void *ctx;
};

/* A set of partitions, one bit each. */
struct rvm_replay_set {
	uint8_t bits[(RVM_MAX_PARTITIONS + 7) / 8];
};

static inline void rvm_replay_set_add(struct rvm_replay_set *s, uint32_t p)
{
	if (p < RVM_MAX_PARTITIONS)
		s->bits[p / 8] |= (uint8_t)(1u << (p % 8));
}

static inline bool rvm_replay_set_has(const struct rvm_replay_set *s, uint32_t p)
{
	return !s || (p < RVM_MAX_PARTITIONS && (s->bits[p / 8] & (1u << (p % 8))));
}

struct rvm_replay_stats {
	uint64_t records;   /* records looked at */
	uint64_t applied;   /* records that changed state */
	uint64_t writes;    /* of which REGION_WRITE */
	uint64_t bytes;	    /* payload bytes written */
	uint64_t restores;  /* checkpoints restored */
	uint64_t skipped;   /* records skipped on purpose (the faulting mutation) */
	uint64_t start_seq; /* first record replayed */
};

/*
 * Applies one witnessed record to c's region space if it concerns a region
 * of a partition in set (NULL: every partition), re-witnessing it in that
 * space's log with the same actor and arguments:
 *   REGION_CREATE   the region again under the same id, zeroed;
 *   REGION_WRITE    the journaled bytes, checked against the record's binding;
 *   REGION_TRANSFER the owner changes (RVM_E_UNSUPPORTED for a region coming
 *                   from outside set: its contents are not known here);
 *   REGION_DESTROY  the region goes;
 *   STATE_RESTORE   the checkpoint it names is restored (a recovery rolled back);
 * everything else (refusals, mappings, tier moves, other subsystems) changes
 * no region contents or ownership and is passed over. Mappings are not
 * tracked: a region is unmapped before it is destroyed or transferred.
 * Errors: RVM_E_NOTFOUND (payload or checkpoint missing), RVM_E_CORRUPT
 * (payload does not match the record, checkpoint bad), the region ops' errors.
 */
enum rvm_err rvm_replay_apply(struct rvm_ckpt_ctx *c, const struct rvm_replay_source *src,
			      const struct rvm_replay_set *set, const struct rvm_witness_record *r,
			      struct rvm_replay_stats *st);

/* rvm_replay_apply over records [from, to], passing over skip (UINT64_MAX: none). */
enum rvm_err rvm_replay_range(struct rvm_ckpt_ctx *c, const struct rvm_replay_source *src,
			      const struct rvm_replay_set *set, uint64_t from, uint64_t to,
			      uint64_t skip, struct rvm_replay_stats *st);

/*
 * The checkpoint a STATE_CHECKPOINT record announces, fetched from src,
 * parsed and checked against the record (seq, partition, SHA-256 prefix),
 * then restored into c. RVM_E_CORRUPT when the bytes are not the ones the
 * log announced.
 */
enum rvm_err rvm_replay_restore(struct rvm_ckpt_ctx *c, const struct rvm_replay_source *src,
				const struct rvm_witness_record *announce,
				struct rvm_replay_stats *st);

/*
 * Rebuilds the state of partition at seq (after every record <= seq) in c,
 * which starts empty, from a source holding records 0..count-1: the latest
 * checkpoint of partition at or before seq, plus the log and journal after
 * it. Partitions that hand regions to it after that checkpoint are rebuilt
 * too, from their own latest checkpoints (or from genesis), so every region
 * it holds at seq has known contents. RVM_E_RANGE if seq >= count.
 */
enum rvm_err rvm_replay_rebuild(struct rvm_ckpt_ctx *c, const struct rvm_replay_source *src,
				uint64_t count, uint32_t partition, uint64_t seq,
				struct rvm_replay_stats *st);

#endif

/* kernel/recover_priv.h - internals shared by the swarm's checkpoint and recovery files. */
#ifndef RVM_RECOVER_PRIV_H
#define RVM_RECOVER_PRIV_H

#include <rvm/kernel_recover.h>

/*
 * Snapshots every ready agent of partition p into r->blobs and lists them in r->rec.agents;
 * *n gets the count. RVM_E_NOMEM when a snapshot or the blobs do not fit the buffers.
 */
enum rvm_err rvm_kernel_snapshot_agents(struct rvm_kernel_recovery *r, uint32_t p, uint32_t *n);
/*
 * Takes checkpoint of p holding the n snapshots in r->rec.agents (lock held; none of p's in
 * flight) and hands it to the store: asynchronously when the platform can, so it becomes p's
 * restore base, and its agents' tapes (cut for it here) start there, only once
 * rvm_kernel_checkpoint_settle hears it durable, a failure being witnessed as
 * recovery.checkpoint_lost; otherwise synchronously, a base at once. *info gets what was taken.
 * The take's errors (counted as a failed checkpoint of p).
 */
enum rvm_err rvm_kernel_checkpoint_store(struct rvm_kernel *k, uint32_t p, uint32_t n,
					 struct rvm_ckpt_info *info);
/* True when the platform stores checkpoints asynchronously. */
static inline bool rvm_kernel_store_async(const struct rvm_kernel *k)
{
	return k->plat->checkpoint_put_async && k->plat->checkpoint_done;
}
/*
 * Stops agent a for good (lock held): witnessed AGENT_EXIT (denied, its restarts, RVM_E_TRAP),
 * and its GPU objects freed now rather than when its partition is reaped, so its siblings get
 * their budget back.
 */
void rvm_kernel_agent_stop(struct rvm_kernel *k, struct rvm_agent *a);
/* Forgets the checkpoints of slot p when it now holds another partition than they were of. */
void rvm_kernel_recovery_track(struct rvm_kernel_recovery *r, uint32_t p);

/*
 * Handles agent a's trap through rvm_recovery_handle (lock held; a's instance is idle, its
 * life's last DIGEST journaled). *cls gets the class that resolved it. RVM_OK when the agent
 * runs again, RVM_E_TRAP when F4 stopped it, rvm_recovery_handle's errors.
 */
enum rvm_err rvm_kernel_recover_trap(struct rvm_kernel *k, struct rvm_agent *a,
				     enum rvm_wasm_trap trap, uint8_t *cls);

/* True while a checkpoint of p is pending: its agents are not started (lock held). */
static inline bool rvm_kernel_ckpt_pending(const struct rvm_world *w, uint32_t p)
{
	return w->rec && p < RVM_KPARTS && w->rec->pending[p];
}
/* A slice of an agent of p ended (lock held): takes p's pending checkpoint if it can now. */
void rvm_kernel_ckpt_slice_end(struct rvm_kernel *k, uint32_t p);

/* ---- Input tapes (kernel/agent_tape.c); lock held, no-ops without recovery attached ---- */

/* Tape entry head offsets (rvm/kernel_recover.h). */
enum { RVM_TH_SEQ = 0, RVM_TH_AUX = 8, RVM_TH_SENDS = 12, RVM_TH_LEN = 16, RVM_TH_KIND = 18,
       RVM_TH_IDX = 19 };

/* Starts agent a's tape afresh at base (a checkpoint id holding its snapshot, 0: its START);
 * a generation pending for a checkpoint on its way is forgotten. */
void rvm_tape_reset(struct rvm_kernel_recovery *r, const struct rvm_agent *a, uint64_t base);
/* Appends an input a consumed live, journaled as kind/aux/payload (idx: its index in its
 * batch, 0xff single). Not in a replay; a GPU answer or an entry that does not fit makes the
 * tape unreplayable (rvm_tape_lose). Past RVM_TAPE_HIGH it requests a checkpoint. */
void rvm_tape_record(struct rvm_agent *a, enum rvm_journal_kind kind, uint32_t aux,
		     const void *payload, uint32_t len, uint8_t idx);
/* The entries appended since the last call were bound by the witness record seq. */
void rvm_tape_bound(struct rvm_agent *a, uint64_t seq);
/* Folds a send a made live and the channel accepted into its tape's send hash. */
void rvm_tape_sent(struct rvm_agent *a, uint32_t edge, const uint8_t *p, uint32_t len);
/* Folds one send into hash h (the tape's and the replay's use the same). */
uint64_t rvm_tape_hash_send(uint64_t h, uint32_t edge, const uint8_t *p, uint32_t len);
/*
 * Is there room for an input of up to `need` journal payload bytes (plus the reserve)? If
 * not, a checkpoint of a's partition is requested and the call must wait (suspend): the
 * checkpoint, taken when the slice ends, starts a new tape once durable. A full tape whose
 * partition's checkpoints failed, none on its way, is given up instead (true). True without
 * recovery.
 */
bool rvm_tape_room(struct rvm_agent *a, uint32_t need);
/* a's tape stops being replayable (why: RVM_E_FULL no room, RVM_E_UNSUPPORTED a GPU answer,
 * or a failed checkpoint's error): emptied, witnessed as recovery.tape_lost. */
void rvm_tape_lose(struct rvm_kernel_recovery *r, struct rvm_agent *a, enum rvm_err why);
/* Checkpoint id holds a's snapshot as of now and is on its way to the store: what a consumes
 * from here is the next generation (a cut already pending is replaced). */
void rvm_tape_cut(struct rvm_kernel_recovery *r, const struct rvm_agent *a, uint64_t id);
/* Checkpoint id is durable: if a's tape was cut for it, the tape now starts there (what came
 * before the cut is dropped). */
void rvm_tape_commit(struct rvm_kernel_recovery *r, const struct rvm_agent *a, uint64_t id);
/* Checkpoint id was not stored: a's tape, if cut for it, stays whole on its old base. */
void rvm_tape_abandon(struct rvm_kernel_recovery *r, const struct rvm_agent *a, uint64_t id);
/* Tape offset of the last message a received (its F3 skip candidate), UINT32_MAX if none;
 * *seq and *head get that entry's binding seq and head fields for the skip record. */
uint32_t rvm_tape_last_message(const struct rvm_kernel_recovery *r, uint32_t agent,
			       uint64_t *seq, uint64_t *where);

/* ---- Replay against the tape (kernel/kernel_replay.c) ---- */

/* What the replay answers of a host call return besides a result. */
#define RVM_REPLAY_LIVE (-100) /* past the tape: the call suspends and is retried live */
#define RVM_REPLAY_BAD	(-101) /* the agent asked for something the tape does not hold */

/* rvm.send during a replay: the recorded result (0 accepted: suppressed and hashed). */
int32_t rvm_replay_send(struct rvm_agent *a, uint32_t edge, const uint8_t *p, uint32_t len);
/* rvm.recv / rvm.poll during a replay: the recorded message (delivered and journaled again)
 * or empty poll. */
int32_t rvm_replay_recv(struct rvm_agent *a, uint8_t *p, uint32_t cap, bool blocking);
/* rvm.now / rvm.spawn during a replay: the recorded answer; 0, or RVM_REPLAY_LIVE / _BAD. */
int32_t rvm_replay_now(struct rvm_agent *a, uint64_t *t);
int32_t rvm_replay_spawn(struct rvm_agent *a, int32_t *res, uint32_t *tmpl);
/* A call the tape cannot answer (GPU): past the tape, RVM_REPLAY_LIVE, else _BAD. */
int32_t rvm_replay_other(struct rvm_agent *a);

/*
 * Re-runs agent a (just restored at its tape's base, life journaled) against its tape to goal
 * g: RVM_OK when it reached the goal and is live again (a DIGEST and a recovery.replay record
 * say where), RVM_E_TRAP when it trapped again where it trapped live (a deterministic fault),
 * RVM_E_DIVERGED when it did anything else (the failed life ends in a DIGEST, the record is
 * DENIED). Runs under the lock; its host calls take none.
 */
enum rvm_err rvm_kernel_replay(struct rvm_kernel_recovery *r, struct rvm_agent *a,
			       const struct rvm_replay_goal *g);
/* Fuel and memory SHA-256 of agent a now, relative to its tape's base. */
void rvm_kernel_replay_goal(struct rvm_kernel_recovery *r, const struct rvm_agent *a,
			    struct rvm_replay_goal *g);

#endif

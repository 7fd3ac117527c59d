/* tools/rvm/agent_replay.h - re-running swarm agents from a run directory's journal and
 * checkpoints (rvm journal --check, rvm replay). */
#ifndef RVM_TOOL_AGENT_REPLAY_H
#define RVM_TOOL_AGENT_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/agent.h>
#include <rvm/journal.h>

struct ar_stream {
	const struct rvm_journal_entry **e;
	size_t n, cap, at;
};

/* One life of an agent: its START or RESUME entry and its entries up to the next one, by kind. */
struct ar_life {
	uint32_t agent;
	const struct rvm_journal_entry *start;
	struct ar_stream recv, now, spawn, send, digest, gpu;
};

/* A run directory's journal and modules, and the memory a replay runs in. */
struct ar_run {
	const char *dir;
	uint8_t *jbuf;
	size_t jlen;
	struct rvm_journal_entry *ents; /* in file order, which is seq order */
	size_t count;
	size_t kinds[RVM_JK_COUNT];
	enum rvm_err end;   /* how reading ended: RVM_E_EMPTY (clean), _TRUNCATED, _CORRUPT */
	size_t bad_hash;    /* entries whose payload does not match their hash */
	uint64_t first_bad; /* seq of the first of them */
	uint8_t *mod[RVM_AGENT_MODULES];
	size_t modlen[RVM_AGENT_MODULES];
	uint8_t *mod_arena, *inst_arena, *mem, *raw, *ckbuf;
	size_t ckcap, cklen;
};

/* Where a replay starts inside a life (NULL: where the life starts). */
struct ar_from {
	uint64_t ckpt; /* checkpoint holding the agent's snapshot */
	uint64_t seq;  /* the snapshot's seq: entries before it were consumed already */
	uint64_t fuel; /* fuel the life had used at the snapshot */
};

/* What a replay reached at one DIGEST entry (NULL: the life's start, before any). */
struct ar_point {
	const struct rvm_journal_entry *digest;
	uint64_t fuel;	 /* replayed fuel since the life's start */
	uint8_t mem[32]; /* SHA-256 of the replayed memory */
	bool match;	 /* fuel and memory equal the live ones */
};
typedef void ar_point_fn(void *ctx, uint32_t agent, const struct ar_point *p);

/* Reads RUNDIR/journal.log and RUNDIR/modules/; 0, or 2 with a message on stderr. */
int ar_open(struct ar_run *run, const char *dir);
void ar_close(struct ar_run *run);

/* True for the entries a life starts at (START, RESUME). */
static inline bool ar_is_start(const struct rvm_journal_entry *e)
{
	return e->kind == RVM_JK_START || e->kind == RVM_JK_RESUME;
}

/* The life of the agent whose START/RESUME is entry i. 0, or 2 (out of memory). */
int ar_life_collect(const struct ar_run *run, size_t i, struct ar_life *l);
void ar_life_free(struct ar_life *l);

/*
 * Replays life l from its start (or from `from`, a snapshot inside it) through every DIGEST
 * with seq <= upto, calling fn (may be NULL) at each, or once at the start when there is
 * none. A RESUME life starts from the snapshot
 * its entry names (RUNDIR/checkpoints). Returns the digests that matched, or -1 after the
 * first mismatch or a failure (printed on stdout, naming the agent and seq).
 */
int ar_replay(struct ar_run *run, struct ar_life *l, const struct ar_from *from, uint64_t upto,
	      ar_point_fn *fn, void *ctx);

#endif

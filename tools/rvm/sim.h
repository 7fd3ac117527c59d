/* tools/rvm/sim.h - the trace-driven placement simulator behind `rvm sim`. */
#ifndef RVM_TOOL_SIM_H
#define RVM_TOOL_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/coherence.h>
#include <rvm/gate.h>
#include <rvm/partition.h>
#include <rvm/reshape.h>
#include <rvm/witness.h>

#include "hosted.h"

enum sim_placement {
	SIM_NAIVE = 0,	   /* round robin at spawn, never moves */
	SIM_STATIC = 1,	   /* first fit at spawn (fill node 0, then 1, ...), never moves */
	SIM_COHERENCE = 2, /* RVM: partitions split/merge by the coherence engine, placed whole */
};

enum sim_op { SIM_SPAWN, SIM_SEND, SIM_TRUST, SIM_EXIT };

struct sim_event {
	uint64_t t_us;
	enum sim_op op;
	uint32_t a, b;	/* agent numbers (b: send's receiver) */
	uint32_t value; /* bytes for send, level for trust */
};

struct sim_config {
	uint32_t nodes, slots;
	enum sim_placement placement;
	uint64_t epoch_us;    /* trace time between coherence epochs */
	uint32_t trust_floor; /* a partition's floor: an agent below it is split out */
};

struct sim_result {
	uint64_t messages, bytes, remote_bytes;
	uint64_t splits, merges, migrations, degraded_epochs;
	uint64_t mincut_p50_ns, mincut_p99_ns;
	uint64_t epochs;
	uint64_t witness_records; /* coherence: records the kernel witnessed */
	uint64_t kernel_refusals; /* coherence: decisions the kernel refused (gate) */
};

#define SIM_MAX_AGENTS RVM_COH_MAX_NODES
#define SIM_NO_NODE UINT32_MAX
#define SIM_NO_PART UINT32_MAX

/*
 * The kernel objects coherence placement runs on (heap: the cap space is
 * large but demand-paged). Each partition is a real kernel partition in the
 * pool, created, split (rvm_partition_split) and merged
 * (rvm_partition_merge_env) through the gate, every step witnessed on wlog.
 * Each agent holds one cap (an agent object) in its partition's table; a
 * split's scored assignment moves it with its agent. pcoh is the
 * partition-level traffic graph (node = pool slot) the kernel's merge checks.
 */
struct sim_kernel {
	struct rvm_hosted hosted;
	struct rvm_platform plat;
	struct rvm_obj_table objs;
	struct rvm_cap_space caps;
	struct rvm_witness_log wlog;
	struct rvm_gate gate;
	struct rvm_part_pool pool;
	struct rvm_coherence pcoh;
	struct rvm_reshape_work work;
	struct rvm_reshape_env env;
	rvm_cap_t part_cap[RVM_MAX_PARTITIONS]; /* the kernel's cap to each partition (table 0) */
};

/* The simulator's state; large (holds a coherence engine): heap-allocate it. */
struct sim {
	struct sim_config cfg;
	struct rvm_coherence coh;
	uint32_t node_of[SIM_MAX_AGENTS]; /* SIM_NO_NODE while not alive */
	uint32_t trust[SIM_MAX_AGENTS];
	bool quarantined[SIM_MAX_AGENTS]; /* below the floor: alone, never merged */
	uint32_t part_of[SIM_MAX_AGENTS];   /* coherence: the agent's kernel partition (pool slot) */
	rvm_cap_t agent_cap[SIM_MAX_AGENTS]; /* coherence: its cap, in part_of's table */
	struct sim_kernel *k;		  /* coherence only */
	uint32_t *used;			  /* agents per node */
	uint32_t rr;			  /* naive's next node */
	uint64_t next_epoch_us;
	uint64_t *epoch_ns; /* per-epoch engine time, for the percentiles */
	uint64_t epoch_ns_len, epoch_ns_cap;
	struct sim_result res;
};

/* Sets up s for cfg. Returns 0, or -1 with msg filled for a bad config. */
int sim_init(struct sim *s, const struct sim_config *cfg, char *msg, size_t msg_len);
/*
 * Feeds one event (times must not go backwards). Returns 0, or -1 with msg
 * filled: agent already alive / not alive, no free slot, time going back.
 */
int sim_event(struct sim *s, const struct sim_event *ev, char *msg, size_t msg_len);
/* ---- The trace reader (sim_trace.c): JSON Lines to events, agent names to numbers. ---- */

#define SIM_NAME_MAX 64

/* Agent names to numbers; a number is free again once its agent exits. */
struct sim_names {
	char name[SIM_MAX_AGENTS][SIM_NAME_MAX];
	bool used[SIM_MAX_AGENTS];
};

struct sim_trace {
	struct sim_names names;
	uint64_t lineno; /* lines read so far */
	uint64_t last_t; /* time of the last event */
};

void sim_trace_init(struct sim_trace *t);
/*
 * Reads one line of a trace (its newline and trailing blanks are dropped, a
 * blank line is skipped) and feeds its event to s. Returns 0, or -1 with msg
 * = "LINE: field: problem" (or "LINE: problem") for a malformed line or an
 * impossible event. line is modified; len is its length (it may hold NULs).
 */
int sim_trace_line(struct sim_trace *t, struct sim *s, char *line, size_t len, char *msg,
		   size_t msg_len);

/* Finishes the run and fills res (percentiles). */
void sim_finish(struct sim *s, struct sim_result *res);
void sim_free(struct sim *s);

#endif

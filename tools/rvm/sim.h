/* tools/rvm/sim.h - the trace-driven placement simulator behind `rvm sim`. */
#ifndef RVM_TOOL_SIM_H
#define RVM_TOOL_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include <rvm/coherence.h>

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
};

#define SIM_MAX_AGENTS RVM_COH_MAX_NODES
#define SIM_NO_NODE UINT32_MAX

/* The simulator's state; large (holds a coherence engine): heap-allocate it. */
struct sim {
	struct sim_config cfg;
	struct rvm_coherence coh;
	uint32_t node_of[SIM_MAX_AGENTS]; /* SIM_NO_NODE while not alive */
	uint32_t trust[SIM_MAX_AGENTS];
	bool quarantined[SIM_MAX_AGENTS]; /* below the floor: out of every partition */
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
/* Finishes the run and fills res (percentiles). */
void sim_finish(struct sim *s, struct sim_result *res);
void sim_free(struct sim *s);

#endif

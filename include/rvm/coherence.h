/* rvm/coherence.h - the coherence engine: traffic graph, scores, cut pressure, split/merge,
 * degraded mode. */
#ifndef RVM_COHERENCE_H
#define RVM_COHERENCE_H

#include <stdbool.h>
#include <stdint.h>

#include <rvm/err.h>
#include <rvm/fixed.h>
#include <rvm/mincut.h>
#include <rvm/profile.h>
#include <rvm/witness.h>

/*
 * The graph's nodes are agents (or, one level up, partitions); each node
 * belongs to one group (its partition). An edge weighs the decayed traffic
 * between two nodes: observe() adds, each epoch multiplies by cfg.decay.
 * Per group, per epoch:
 *   coherence = internal / (internal + external) weight, basis points
 *               (10000 for a group with no traffic at all);
 *   pressure  = 10000 - lambda / min(vol(S), vol(rest)), basis points, where
 *               lambda is the min cut of the group's own subgraph, S one side
 *               of it, vol the summed internal degrees (a conductance); 0 for
 *               a single node or no internal traffic.
 * Both are smoothed by an integer EMA (rvm_bp_ema) before decisions read them.
 */
#define RVM_COH_MAX_NODES  RVM_MINCUT_MAX_NODES
#define RVM_COH_MAX_GROUPS RVM_MINCUT_MAX_NODES
#define RVM_COH_NO_GROUP   0xffffu

struct rvm_coh_config {
	rvm_bp decay;		 /* share of each weight kept per epoch (9000 = 0.9) */
	rvm_bp alpha;		 /* EMA gain of the filtered scores */
	rvm_bp split_pressure;	 /* split a group whose filtered pressure reaches this */
	rvm_bp merge_mutual;	 /* merge two groups whose mutual coherence reaches this */
	uint32_t max_group_size; /* resources: nodes a merged group may hold */
	uint64_t epoch_budget;	 /* work units one epoch may spend (DC-2's 50 us) */
	uint32_t overrun_enter;	 /* this many overrunning epochs in a row: degraded */
	uint32_t good_exit;	 /* this many good epochs in a row: back to normal */
	bool enabled;		 /* false: degraded from the next epoch on (DC-1/DC-6) */
};

/* Per-group state. Filtered values are primed by the group's first scored epoch. */
struct rvm_coh_group {
	uint64_t internal;	 /* weight of edges inside the group, this epoch */
	uint64_t external;	 /* weight of edges leaving it */
	rvm_bp coherence;	 /* filtered */
	rvm_bp pressure;	 /* filtered */
	rvm_bp coherence_raw;	 /* this epoch's sample */
	rvm_bp pressure_raw;	 /* this epoch's sample */
	uint32_t cut_value;	 /* min cut of the group's subgraph, last time computed */
	struct rvm_nodeset side; /* smaller side of that cut, in node numbers */
	uint16_t size;		 /* nodes in the group */
	bool primed;		 /* filtered values hold at least one sample */
	bool cut_valid;		 /* side/cut_value describe the current membership */
};

/* Why the engine is degraded (arg0 of the witness record). */
enum rvm_coh_reason {
	RVM_COH_REASON_NONE = 0,
	RVM_COH_REASON_DISABLED = 1, /* cfg.enabled is false, or no engine in this profile */
	RVM_COH_REASON_OVERRUN = 2,  /* cfg.overrun_enter epochs in a row ran out of budget */
};

/*
 * The engine: caller-owned, about 2 MiB (graph, one group's subgraph, solver
 * scratch). Invariants: n <= RVM_COH_MAX_NODES; group[i] < RVM_COH_MAX_GROUPS
 * or RVM_COH_NO_GROUP for i < n; groups[g].size counts the nodes with group g;
 * degraded implies reason != NONE; order/gstart list nodes by group (valid
 * after every assign and epoch).
 */
struct rvm_coherence {
	struct rvm_coh_config cfg;
	struct rvm_mincut_graph graph;
	uint16_t group[RVM_COH_MAX_NODES];
	struct rvm_coh_group groups[RVM_COH_MAX_GROUPS];
	uint16_t order[RVM_COH_MAX_NODES];	 /* nodes sorted by group */
	uint16_t gstart[RVM_COH_MAX_GROUPS + 1]; /* group g is order[gstart[g]..gstart[g+1]) */
	struct rvm_mincut_graph sub;		 /* scratch: one group's subgraph */
	struct rvm_mincut_work work;		 /* scratch: the solver's */
	uint64_t epoch;
	uint32_t next_group; /* where the next epoch starts cutting (round robin on overrun) */
	uint32_t overruns;   /* overrunning epochs in a row */
	uint32_t good;	     /* good epochs in a row */
	uint16_t reason;     /* enum rvm_coh_reason while degraded */
	bool degraded;
	bool order_valid;
};

/* What one epoch did; event is RVM_ACT_DEGRADED_ENTER, RVM_ACT_DEGRADED_EXIT or 0. */
struct rvm_coh_report {
	uint64_t epoch;
	uint64_t work;	 /* work units spent */
	uint32_t scored; /* groups whose pressure was recomputed */
	uint16_t event;	 /* witness action of a mode change, 0 for none */
	uint16_t reason; /* enum rvm_coh_reason of an enter event */
	bool overrun;	 /* the budget ran out before every group was cut */
	bool degraded;	 /* mode after the epoch */
};

struct rvm_coh_split {
	bool split;		 /* false: no group is under enough pressure */
	uint16_t group;		 /* the group to split */
	rvm_bp pressure;	 /* its filtered pressure */
	uint32_t cut_value;	 /* weight of the edges the split cuts */
	struct rvm_nodeset move; /* nodes leaving for the new group (the smaller side) */
};

struct rvm_coh_merge {
	bool merge;    /* false: no adjacent pair is coherent enough, or none fits */
	uint16_t a, b; /* the two groups, a < b */
	rvm_bp mutual; /* 2 w(a,b) / (traffic of a + traffic of b) */
};

/* Sane defaults: decay 0.9, alpha 0.25, split at 0.8, merge at 0.6, budget for 50 us. */
void rvm_coh_config_default(struct rvm_coh_config *cfg);

/*
 * Starts an engine over n nodes, none in a group, no traffic. RVM_E_INVAL for
 * a NULL pointer or a config out of range (bp values > 10000, zero counts),
 * RVM_E_RANGE for n > RVM_COH_MAX_NODES, RVM_E_UNSUPPORTED in a profile built
 * without the engine (RVM_HAS_COHERENCE 0: static placement only).
 */
enum rvm_err rvm_coh_init(struct rvm_coherence *coh, const struct rvm_coh_config *cfg, uint32_t n);
/* Puts node in group (RVM_COH_NO_GROUP takes it out). RVM_E_RANGE for a bad node or group. */
enum rvm_err rvm_coh_assign(struct rvm_coherence *coh, uint32_t node, uint32_t group);
/*
 * Adds amount to the traffic between nodes a and b. RVM_E_RANGE / RVM_E_INVAL
 * for bad nodes; RVM_E_OVERFLOW when the graph's total would pass
 * RVM_MINCUT_MAX_TOTAL: the part that fits is added, the rest dropped.
 */
enum rvm_err rvm_coh_observe(struct rvm_coherence *coh, uint32_t a, uint32_t b, uint32_t amount);
/* Turns the engine on or off; the mode changes at the next epoch. */
void rvm_coh_set_enabled(struct rvm_coherence *coh, bool enabled);

/*
 * One epoch: decay, per-group scores, EMA, min cuts within cfg.epoch_budget,
 * then the degraded-mode hysteresis. A mode change is witnessed on log (may be
 * NULL: the caller then witnesses report->event itself); if log cannot take
 * the record the change is not made and RVM_E_FULL is returned (it is retried
 * next epoch). Disabled: no engine work, only the mode.
 */
enum rvm_err rvm_coh_epoch(struct rvm_coherence *coh, struct rvm_witness_log *log,
			   struct rvm_coh_report *report);

/* Filtered coherence of a group; RVM_BP_ONE for an empty, unscored or out-of-range group. */
rvm_bp rvm_coh_coherence(const struct rvm_coherence *coh, uint32_t group);
/* Filtered cut pressure of a group; 0 while degraded (DC-6) or for a bad group. */
rvm_bp rvm_coh_pressure(const struct rvm_coherence *coh, uint32_t group);
/* 2 w(a,b) / (traffic of a + traffic of b) in basis points, from the current weights. */
rvm_bp rvm_coh_mutual(const struct rvm_coherence *coh, uint32_t a, uint32_t b);

/*
 * Split decision (pure): the group with the highest filtered pressure at or
 * above cfg.split_pressure, with at least 2 nodes and a current cut; it splits
 * along that min cut. RVM_E_DEGRADED while degraded (static placement).
 */
enum rvm_err rvm_coh_decide_split(const struct rvm_coherence *coh, struct rvm_coh_split *out);
/*
 * Merge decision (pure): the adjacent pair (some traffic between them) with
 * the highest mutual coherence at or above cfg.merge_mutual whose merged size
 * fits cfg.max_group_size. RVM_E_DEGRADED while degraded.
 */
enum rvm_err rvm_coh_decide_merge(const struct rvm_coherence *coh, struct rvm_coh_merge *out);

#endif

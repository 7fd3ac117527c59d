/* rvm/sched.h - per-CPU run queues, fixed-point priority (deadline urgency + cut-pressure boost),
 * Reflex and Flow modes, and the SMP coordinator that places partitions along the coherence graph. */
#ifndef RVM_SCHED_H
#define RVM_SCHED_H

#include <stdint.h>

#include <rvm/coherence.h>
#include <rvm/err.h>
#include <rvm/fixed.h>
#include <rvm/partition.h>

#ifndef RVM_SCHED_QUEUE
#define RVM_SCHED_QUEUE RVM_MAX_PARTITIONS
#endif
#define RVM_SCHED_NONE UINT32_MAX
/* Flow mode's age term saturates here (100 horizons): priorities stay far inside 32 bits. */
#define RVM_SCHED_AGE_MAX 1000000u

/*
 * Reflex: hard deadlines. The earliest deadline runs (EDF); picking scans a
 * queue of at most RVM_SCHED_QUEUE entries with no other work, so a switch
 * decision is bounded. A deadline already past when picked is counted a miss.
 * Flow: throughput. The highest priority plus age runs, ties to the one that ran
 * least recently. Age is the time since the entry last ran, 10000 bp per
 * horizon (capped at RVM_SCHED_AGE_MAX): an entry that waits overtakes one
 * that just ran, whatever their deadlines and cut pressures, so no partition
 * starves; one waits at most about (10000 + boost) / 10000 horizons beyond
 * the slices of the others queued with it. Deadlines are the caller's: the
 * scheduler never moves them.
 */
enum rvm_sched_mode {
	RVM_SCHED_FLOW = 0,
	RVM_SCHED_REFLEX = 1,
};

struct rvm_sched_config {
	uint64_t horizon_ns; /* a deadline this far away or further has urgency 0 */
	rvm_bp boost;	     /* weight of cut pressure: full pressure adds boost bp */
};

/* One queued partition. */
struct rvm_sched_entry {
	uint64_t deadline_ns;
	uint64_t last_run_ns;
	uint32_t part;	 /* pool slot */
	rvm_bp pressure; /* cut pressure of its coherence group (DC-4 boost) */
	uint16_t pad;
};

/* One CPU. Invariant: q[0..n) are distinct partitions, each listed in cpu_of. */
struct rvm_sched_cpu {
	struct rvm_sched_entry q[RVM_SCHED_QUEUE];
	uint32_t n;
	uint32_t current; /* pool slot running, RVM_SCHED_NONE for idle */
	uint8_t mode;	  /* enum rvm_sched_mode */
	uint64_t switches, misses;
};

/* Invariant: cpu_of[p] == c iff p is queued on CPU c, RVM_SCHED_NONE iff nowhere. */
struct rvm_sched {
	struct rvm_sched_config cfg;
	struct rvm_sched_cpu cpu[RVM_MAX_CPUS];
	uint32_t cpu_of[RVM_MAX_PARTITIONS];
	uint8_t place_to[RVM_MAX_PARTITIONS]; /* scratch of rvm_sched_place: the new cpu */
	struct rvm_part_pool *parts;
};

/* Defaults: 10 ms horizon, pressure boost up to 0.25 of the scale. */
void rvm_sched_config_default(struct rvm_sched_config *cfg);
void rvm_sched_init(struct rvm_sched *s, struct rvm_part_pool *parts,
		    const struct rvm_sched_config *cfg);

/*
 * Priority in basis points (0..10000 + boost): urgency grows linearly from 0
 * at horizon_ns before the deadline to 10000 at (and after) it; the boost is
 * pressure * cfg.boost / 10000. Pure, integer only.
 */
uint32_t rvm_sched_priority(const struct rvm_sched_config *cfg, uint64_t now_ns,
			    uint64_t deadline_ns, rvm_bp pressure);

void rvm_sched_set_mode(struct rvm_sched *s, uint32_t cpu, enum rvm_sched_mode mode);
/*
 * Queues partition part on cpu with a deadline. RVM_E_RANGE for a bad cpu or
 * slot, RVM_E_STATE unless it is Running, RVM_E_EXISTS if already queued,
 * RVM_E_FULL if the queue is full.
 */
enum rvm_err rvm_sched_enqueue(struct rvm_sched *s, uint32_t cpu, uint32_t part,
			       uint64_t deadline_ns);
/* Takes part off its queue (suspend, destroy). RVM_E_NOTFOUND if not queued. */
enum rvm_err rvm_sched_remove(struct rvm_sched *s, uint32_t part);
/* Sets a queued partition's deadline / cut pressure. RVM_E_NOTFOUND if not queued. */
enum rvm_err rvm_sched_update(struct rvm_sched *s, uint32_t part, uint64_t deadline_ns,
			      rvm_bp pressure);
/*
 * Flow mode's age term in basis points: (now - last_run) * 10000 / horizon, at most
 * RVM_SCHED_AGE_MAX (0 for a last run in the future or a zero horizon). Pure.
 */
uint32_t rvm_sched_age(const struct rvm_sched_config *cfg, uint64_t now_ns, uint64_t last_run_ns);
/*
 * The partition cpu runs next (it stays queued); its last run becomes now_ns.
 * RVM_E_EMPTY when the queue is empty.
 */
enum rvm_err rvm_sched_pick(struct rvm_sched *s, uint32_t cpu, uint64_t now_ns, uint32_t *part);
/*
 * Records that part ran at now_ns although rvm_sched_pick chose another (the embedder ran
 * it because the choice had nothing runnable): its age starts over. RVM_E_NOTFOUND if
 * not queued.
 */
enum rvm_err rvm_sched_ran(struct rvm_sched *s, uint32_t part, uint64_t now_ns);

/*
 * SMP coordinator: redistributes every queued partition over the first ncpus
 * CPUs so that partitions with heavy mutual traffic (coh's graph, node =
 * pool slot, as the IPC layer feeds it) share a CPU, while no CPU takes more
 * than ceil(queued / ncpus). Greedy: partitions by total traffic, heaviest
 * first, each to the CPU with the most traffic to those already placed there
 * (ties: the CPU it is queued on, then least loaded, then lowest: a placement
 * with nothing to gain moves nothing). Each move is witnessed as SCHED_PLACE
 * (target the partition id, arg0 old cpu, arg1 new cpu); *moved counts them.
 * RVM_E_RANGE for ncpus 0 or > RVM_MAX_CPUS; RVM_E_FULL if the witness log
 * ran out of room (the moves made so far stand, each witnessed).
 */
enum rvm_err rvm_sched_place(struct rvm_sched *s, const struct rvm_coherence *coh,
			     uint32_t ncpus, uint32_t *moved);

#endif

/* rvm/world.h - the full kernel's object model (caps, partitions, IPC, coherence, scheduler,
 * agents, journal), its seven-phase boot, and the calls that run a swarm on it. */
#ifndef RVM_WORLD_H
#define RVM_WORLD_H

#include <stdint.h>

#include <rvm/agent.h>
#include <rvm/cap.h>
#include <rvm/coherence.h>
#include <rvm/err.h>
#include <rvm/gate.h>
#include <rvm/ipc.h>
#include <rvm/journal.h>
#include <rvm/kernel.h>
#include <rvm/partition.h>
#include <rvm/platform.h>
#include <rvm/reshape.h>
#include <rvm/sched.h>
#include <rvm/witness.h>

struct rvm_kernel_recovery;
struct rvm_gpu_space;

/* The embedder's big lock: every entry into the object model holds it (may be NULL ops). */
struct rvm_kernel_lock {
	void (*lock)(void *ctx);
	void (*unlock)(void *ctx);
	void *ctx;
};

/* Partition slots the swarm uses: each must also be a coherence group number. */
#define RVM_KPARTS (RVM_MAX_PARTITIONS < RVM_COH_MAX_GROUPS ? RVM_MAX_PARTITIONS : RVM_COH_MAX_GROUPS)

/* A recent reshaping, for live views (kinds: PARTITION_SPLIT, _MERGE, _MIGRATE, RECOVER_F1). */
struct rvm_reshape_event {
	uint64_t time_ns; /* since boot */
	uint16_t action;
	uint32_t a, b; /* partition slots (split: from, new; merge: from, into; migrate: cpus;
			* recover: agent, restarts) */
	uint32_t n;    /* agents moved */
};
#define RVM_RECENT_EVENTS 16u

/* Knobs of the full boot. Zeroed fields take the defaults named per field. */
struct rvm_kernel_config {
	struct rvm_witness_config witness;
	struct rvm_agent_mem *agent_mem; /* agent memory slots (phase memory) */
	uint32_t agent_mem_count;	 /* <= RVM_AGENT_MAX */
	uint32_t ncpus;			 /* virtual CPUs; 0 = the platform's, at most RVM_MAX_CPUS */
	struct rvm_coh_config coh;	 /* decay 0 = rvm_coh_config_default with merge at 0.2 */
	struct rvm_kernel_lock lock;
	uint32_t max_partition_agents; /* merge limit; default 8 */
	uint32_t trust_floor;	       /* an agent below it is split off; default 50 */
	uint32_t fail_phase;	       /* test hook: this phase fails with RVM_E_BOOT (0 none) */
	/* Board hook (bare metal, where a first witness must leave early and untouched RAM must
	 * cost nothing before it): the witness phase runs right after the platform phase, its
	 * records are streamed at once, and only then is w zeroed by the boot (so w may be any
	 * storage). Same phases and measurements, folded in the order they ran. */
	bool early_genesis;
};

/*
 * The object model of a full kernel. Large (the capability space alone is
 * RVM_CAP_TABLES tables): the embedder provides zeroed storage (static, or
 * calloc on a demand-paged host, where untouched tables cost nothing).
 * Invariants: agents[i].num == i; a partition slot p hosts parts.p[p].agents
 * agents, each with part == p and coherence group p; pcap[p] is the kernel's
 * root cap (every right, table 0) for every live partition p.
 */
struct rvm_world {
	struct rvm_obj_table objs;
	struct rvm_cap_space caps;
	struct rvm_gate gate;
	struct rvm_part_pool parts;
	struct rvm_ipc ipc;
	struct rvm_coherence coh;  /* agents: node = agent number, group = partition slot */
	struct rvm_coherence pcoh; /* partitions: node = slot, fed by cross-partition IPC */
	struct rvm_sched sched;
	struct rvm_journal journal;
	struct rvm_agent agents[RVM_AGENT_MAX];
	struct rvm_chan chans[RVM_CHAN_MAX];
	struct rvm_agent_module modules[RVM_AGENT_MODULES];
	struct rvm_agent_mem mem[RVM_AGENT_MAX];
	rvm_cap_t pcap[RVM_MAX_PARTITIONS];
	struct rvm_migration mig;
	/* Placement hysteresis (kernel_epoch.c): the epoch each partition last changed CPU, the
	 * epoch of the last placement run and the interval before the next may run. */
	uint64_t moved_epoch[RVM_KPARTS];
	uint64_t place_epoch;
	uint32_t place_every;
	uint16_t cursor[RVM_KPARTS]; /* round robin over each partition's agents */
	/* Scratch of swarm splits (kernel_split.c): rvm_partition_split's work area and uses. */
	struct rvm_reshape_work rework;
	struct rvm_split_use split_use[RVM_CAP_TABLE_SLOTS];
	struct rvm_kernel_lock lock;
	struct rvm_kernel *k;
	struct rvm_kernel_recovery *rec; /* checkpoints and F1-F4 (kernel_recover.h); NULL: a trap
					  * restarts the agent from its module */
	struct rvm_reshape_event recent[RVM_RECENT_EVENTS];
	uint32_t nrecent; /* events ever recorded; recent[] keeps the last ones */
	uint32_t ncpus, nagents, nchans, nmem, trust_floor, max_group;
	uint64_t splits, merges, migrations, recoveries, epochs;
	uint64_t messages, bytes; /* delivered */
	uint64_t sig_refused;	  /* kernel IPC disagreeing with a channel: must stay 0 */
	struct rvm_gpu_space *gpu; /* GPU objects the embedder set up (rvm.gpu_*); NULL: none */
	uint32_t split_fault_step; /* test hook: that step of every swarm split fails (RVM_E_IO)
				   * and the split rolls back (rvm_reshape_env); 0: none */
};

/*
 * Full boot, seven phases in order: platform, memory, capabilities, witness,
 * partitions/scheduler, coherence, agents. Each phase is measured (SHA-256 of what it
 * set up), the measurement folded into k->attest = SHA-256(attest || phase || digest),
 * and witnessed (BOOT_PHASE: target phase, arg0 its value, arg1 the measurement's first
 * 8 bytes; the three phases before genesis are witnessed right after it, in order).
 * BOOT_COMPLETE carries target = 7, arg0 = boot ns, arg1 = the attestation's first 8 bytes.
 * A phase that fails stops the boot: RVM_E_BOOT (or the phase's own error), the failure
 * witnessed (BOOT_PHASE with RVM_WF_DENIED, arg1 = the error) when the log exists,
 * the kernel stays OFF. w must be zeroed storage (unless cfg->early_genesis: then the order
 * is platform, witness, memory, capabilities, partitions, coherence, agents, and the boot
 * zeroes w after genesis).
 */
enum rvm_err rvm_kernel_boot_full(struct rvm_kernel *k, const struct rvm_platform *plat,
				  struct rvm_world *w, const struct rvm_kernel_config *cfg);
/* ---- Agents and partitions (kernel/kernel_agents.c); callers hold the lock ---- */

/*
 * Loads a module agents are made from (template `name`, rights and trust for spawned
 * copies). The module's storage is arena (the embedder's). *index receives its slot.
 * RVM_E_MALFORMED / RVM_E_INVALID_MODULE with *werr for a bad module, RVM_E_NOMEM.
 */
enum rvm_err rvm_kernel_module_load(struct rvm_kernel *k, const char *name, const uint8_t *bytes,
				    size_t len, void *arena, size_t arena_size, uint8_t rights,
				    uint8_t trust, uint32_t *index, struct rvm_wasm_error *werr);
/* A new, started partition queued on cpu (RVM_MAX_CPUS: the least loaded); witnessed. */
enum rvm_err rvm_kernel_partition_new(struct rvm_kernel *k, uint32_t cpu, uint32_t *slot);
/*
 * Spawns an agent of module `module` named `name` into partition `part`: a registry
 * object, its cap (rights) in the partition's table, an instance in a free memory
 * slot, linked to the host functions, init(args) run (AGENT_SPAWN, arg0 module, arg1
 * rights; a START journal entry holds the module hash and the args; args may be NULL).
 * RVM_E_LINK if the module imports something RVM does not offer, RVM_E_NOMEM.
 */
enum rvm_err rvm_kernel_agent_spawn(struct rvm_kernel *k, uint32_t module, const char *name,
				    uint32_t part, uint8_t rights, uint8_t trust,
				    const int64_t args[RVM_AGENT_ARGS], uint32_t *num);
/* A channel src -> dst (both agents live); RVM_E_EXISTS if there is one, RVM_E_FULL past
 * RVM_AGENT_EDGES per agent. */
enum rvm_err rvm_kernel_connect(struct rvm_kernel *k, uint32_t src, uint32_t dst, uint32_t *chan);
/* Moves agent a into partition `to`: cap re-homed, channels re-pointed, group changed. */
enum rvm_err rvm_kernel_agent_move(struct rvm_kernel *k, uint32_t a, uint32_t to);
/*
 * Splits partition `from` (a swarm partition, lock held): the agents in `move` (agent
 * numbers living in it, not all of them) leave for a new partition through
 * rvm_partition_split: gated, each step witnessed (PARTITION_CREATE, CAP_MOVE of their caps
 * and of their channels' edge ends, EDGE_REPOINT, PARTITION_SPLIT), rolled back whole
 * (SPLIT_ABORT) if a step fails. Then the agents follow their caps, channels whose ends came
 * apart get an edge, the new partition is queued on the least loaded CPU. cut_weight seeds
 * the partition graph between the two. *to (may be NULL) receives the new slot.
 * RVM_E_NOMEM when no free slot is a coherence group; rvm_partition_split's errors.
 */
enum rvm_err rvm_kernel_split(struct rvm_kernel *k, uint32_t from, const struct rvm_nodeset *move,
			      uint32_t cut_weight, uint32_t *to);
/*
 * Merges partitions a and b (lock held) as an epoch's merge decision does: the one with fewer
 * agents goes into the other through rvm_partition_merge (DC-11 checks: they must exchange
 * traffic and be coherent enough), its agents move, its GPU context follows. RVM_E_POLICY when
 * their GPU contexts cannot be one (other device or device rights); the merge's errors.
 */
enum rvm_err rvm_kernel_merge(struct rvm_kernel *k, uint32_t a, uint32_t b);
/* Sets an agent's trust; below the floor it is split off into a partition of its own and
 * loses SPAWN (a quarantine no merge undoes). */
enum rvm_err rvm_kernel_set_trust(struct rvm_kernel *k, uint32_t a, uint8_t trust);

/*
 * Fault injection (soak tests): agent a's next send or receive traps (RVM_WASM_TRAP_HOST),
 * taking the real trap and recovery path. RVM_E_STATE unless it is ready to run.
 */
enum rvm_err rvm_kernel_inject_fault(struct rvm_kernel *k, uint32_t a);

/* ---- Running (kernel/kernel_run.c) ---- */

/* Outcome of one slice on one CPU. */
struct rvm_slice {
	uint32_t agent; /* RVM_AGENT_NONE: nothing was runnable */
	uint32_t part;
	uint64_t fuel;	/* fuel used */
	uint8_t status; /* enum rvm_wasm_status */
	uint8_t trap;	/* enum rvm_wasm_trap when trapped */
};
/*
 * Runs one slice on virtual CPU cpu: takes the lock, lets the scheduler pick a
 * partition queued on cpu and in it the next runnable agent, drops the lock, runs the
 * agent for at most `fuel` (host calls take the lock themselves), takes the lock to
 * account for the slice: a trap is witnessed (AGENT_TRAP) and takes the recovery path
 * (F1: the agent restarts from its module, RECOVER_F1; after RVM_AGENT_MAX_RESTARTS it is
 * stopped); a returned run function is AGENT_EXIT. Safe to call from one thread per CPU.
 */
enum rvm_err rvm_kernel_run_slice(struct rvm_kernel *k, uint32_t cpu, uint64_t fuel,
				  struct rvm_slice *out);

/* What one epoch did (kernel/kernel_epoch.c). */
struct rvm_epoch_report {
	struct rvm_coh_report coh;
	uint32_t splits, merges, migrations;
};
/*
 * One coherence epoch (caller holds the lock): engine epochs, then splits along min
 * cuts, merges of coherent pairs, the migration in flight finished and a new one begun
 * where CPU loads differ by more than one, scheduler pressures updated, a
 * COHERENCE_EPOCH record, journal batches bound, witness batch and journal flushed.
 */
enum rvm_err rvm_kernel_epoch(struct rvm_kernel *k, struct rvm_epoch_report *rep);

/*
 * Binds every agent's staged journal entries (one agent.hostcall_batch record per
 * agent with any; caller holds the lock). Each epoch and the shutdown do it; tests
 * call it before reading the journal. The first error, the other agents still bound.
 */
enum rvm_err rvm_kernel_journal_bind_all(struct rvm_kernel *k);

/* Locks / unlocks the world (no-ops without lock hooks). */
void rvm_kernel_lock(struct rvm_kernel *k);
void rvm_kernel_unlock(struct rvm_kernel *k);
/* Records a reshaping for views. */
void rvm_kernel_note(struct rvm_world *w, uint16_t action, uint32_t a, uint32_t b, uint32_t n);

#endif

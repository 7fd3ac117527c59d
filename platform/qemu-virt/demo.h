/* platform/qemu-virt/demo.h - swarms of kernel agents the bare-metal image runs, as plain tables:
 * the demo swarm (a small examples/demo.json) and the deterministic twin scenario. */
#ifndef RVM_QEMU_DEMO_H
#define RVM_QEMU_DEMO_H

#include <stddef.h>
#include <stdint.h>

#include <rvm/world.h>

/* Agent memory slots the image hands the kernel, and each slot's sizes. */
#define RVM_DEMO_SLOTS		16u
#define RVM_DEMO_MODULE_ARENA	(192u * 1024u)
#define RVM_DEMO_INSTANCE_ARENA (256u * 1024u)
#define RVM_DEMO_MEMORY_PAGES	2u /* the example agents ask for 128 KiB */
#define RVM_DEMO_MAX_MODULES	5u
#define RVM_DEMO_MAX_AGENTS	RVM_DEMO_SLOTS
#define RVM_DEMO_MAX_PARTS	8u

/* A module: the embedded wasm bytes of one example agent. */
struct rvm_demo_module {
	const char *name;
	const unsigned char *wasm;
	const unsigned long *len;
};

/* An agent: its module (index), its first partition (index into the swarm's), its init args. */
struct rvm_demo_agent {
	const char *name;
	uint8_t module, part;
	int64_t args[RVM_AGENT_ARGS];
};

/*
 * A swarm: modules, agents, channels (edges from -> to, agent indices, connected in this order,
 * so an agent's outbound edge k is its k-th edge here), CPU each partition starts on (modulo
 * the CPUs the kernel has), fuel per slice, and a trust change (agent trust_agent drops to
 * trust_to, not before epoch trust_at_epoch; trust_agent >= nagents: none).
 */
struct rvm_demo {
	const char *name;
	const struct rvm_demo_module *modules;
	uint32_t nmodules;
	const struct rvm_demo_agent *agents;
	uint32_t nagents;
	const uint8_t (*edges)[2];
	uint32_t nedges;
	uint32_t nparts;
	uint64_t fuel;
	uint32_t trust_agent, trust_to, trust_at_epoch;
};

extern const struct rvm_demo rvm_demo_swarm; /* teams of chatty agents and a sensor pipeline */
extern const struct rvm_demo rvm_demo_twin;  /* one partition, one CPU: deterministic */

/* Memory the caller gives one swarm: module arenas (need not be zeroed). */
struct rvm_demo_mem {
	uint8_t module_arena[RVM_DEMO_MAX_MODULES][RVM_DEMO_MODULE_ARENA];
};

/* What the swarm was given: its kernel agent numbers and partition slots; module indices. */
struct rvm_demo_state {
	uint32_t module[RVM_DEMO_MAX_MODULES];
	uint32_t agent[RVM_DEMO_MAX_AGENTS];
	uint32_t part[RVM_DEMO_MAX_PARTS];
	uint8_t sha8[RVM_DEMO_MAX_MODULES][8]; /* first 8 bytes of each module's SHA-256 */
};

/*
 * Loads d's modules into k (booted in full) and makes its partitions, agents and channels
 * through the kernel's calls (rvm_kernel_module_load, _partition_new, _agent_spawn,
 * _connect: every step witnessed), partition i queued on CPU i modulo the kernel's CPUs.
 * Takes the kernel lock itself. On failure *what names the step (for the console).
 */
enum rvm_err rvm_demo_populate(struct rvm_kernel *k, const struct rvm_demo *d,
			       struct rvm_demo_mem *mem, struct rvm_demo_state *st,
			       const char **what);
/* Runs up to `slices` slices on CPU 0 of k (the deterministic scenario: one CPU, no epochs),
 * fewer if every agent has stopped; *ran receives how many ran an agent. */
enum rvm_err rvm_demo_run_cpu0(struct rvm_kernel *k, const struct rvm_demo *d, uint32_t slices,
			       uint32_t *ran);
/* Whether any agent of k can still run (READY): false once all exited or were stopped. */
bool rvm_demo_alive(struct rvm_kernel *k);

#endif

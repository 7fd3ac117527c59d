/* platform/qemu-virt/scenario.h - the deterministic agent scenario shared by the bare-metal image
 * and its hosted twin: WebAssembly agents in the kernel's interpreter, fuel-sliced round robin. */
#ifndef RVM_SCENARIO_H
#define RVM_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include <rvm/err.h>

#define RVM_SCENARIO_AGENTS 3u
/* Fuel per slice: agents are interleaved every this many wasm instructions (deterministic). */
#define RVM_SCENARIO_FUEL 3000u
/* Where agents appear in witness records: actor = RVM_SCENARIO_ACTOR0 + index. */
#define RVM_SCENARIO_ACTOR0	    100u
#define RVM_SCENARIO_MODULE_ARENA   (64u * 1024u)
#define RVM_SCENARIO_INSTANCE_ARENA (64u * 1024u)
#define RVM_SCENARIO_MEMORY	    (64u * 1024u)

/* Witnesses one record; the platform decides how (a lock on SMP, directly on a host). */
typedef enum rvm_err rvm_scenario_emit_fn(void *ctx, uint16_t action, uint32_t actor,
					  uint64_t target, uint64_t arg0, uint64_t arg1);
/* Reports an event of agent `agent` ("spawned", "trapped", "restarted", "exited") with a value
 * (steps, trap code, restart count, result); may be NULL. */
typedef void rvm_scenario_print_fn(void *ctx, const char *what, uint32_t agent, uint64_t value);

/* Memory the scenario runs in: large, caller-owned (static or from a page allocator). */
struct rvm_scenario_mem {
	uint8_t module_arena[RVM_SCENARIO_MODULE_ARENA];
	struct {
		uint8_t arena[RVM_SCENARIO_INSTANCE_ARENA];
		uint8_t memory[RVM_SCENARIO_MEMORY];
	} agent[RVM_SCENARIO_AGENTS];
};

/* What the run did, for the caller's report. */
struct rvm_scenario_result {
	uint64_t result[RVM_SCENARIO_AGENTS];
	uint64_t fuel[RVM_SCENARIO_AGENTS];
	uint32_t restarts[RVM_SCENARIO_AGENTS];
	uint32_t slices;
};

/*
 * Loads the agent module (wasm bytes), spawns RVM_SCENARIO_AGENTS agents and runs them round
 * robin, RVM_SCENARIO_FUEL per slice, until each has returned. Agent 0 traps on its first run
 * (an out-of-bounds store): the trap is witnessed and F1 restarts it. Every spawn, host call,
 * trap, restart and exit is witnessed through emit, in an order that depends only on the
 * module and the fuel: the same on every platform.
 */
enum rvm_err rvm_scenario_run(struct rvm_scenario_mem *mem, const uint8_t *wasm, size_t wasm_len,
			      rvm_scenario_emit_fn *emit, rvm_scenario_print_fn *print, void *ctx,
			      struct rvm_scenario_result *out);

#endif

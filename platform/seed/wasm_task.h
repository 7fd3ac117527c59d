/* platform/seed/wasm_task.h - a WebAssembly agent as a seed task: the kernel's interpreter,
 * fuel-sliced, for a module with no linear memory. */
#ifndef RVM_SEED_WASM_TASK_H
#define RVM_SEED_WASM_TASK_H

#include <stdalign.h>
#include <stdint.h>

#include <rvm/err.h>
#include <rvm/wasm.h>
#include <rvm/witness.h>

/*
 * One arena serves both: while the module loads, the engine's translator takes its operand
 * and control stacks as scratch from the arena's top (about 8 bytes per operand, 2 per body
 * byte plus 1024: some 12 KiB even for a tiny module); once loaded, the module keeps only
 * what it used at the bottom, and the instance (globals, RVM_SEED_WASM_DEPTH call frames,
 * the value stack) takes the rest. The boot prints the split.
 */
#define RVM_SEED_WASM_ARENA 16384u
#define RVM_SEED_WASM_DEPTH 8u
/* Fuel per slice: the agent is interrupted (and resumed) every this many wasm instructions. */
#define RVM_SEED_WASM_FUEL 200u

/*
 * The task. Its isolation is the interpreter's: with no linear memory, a module can reach
 * nothing but its globals and its value stack, both in its arena, and the host functions
 * it imports (rvm.report). So it runs privileged, with no MPU region of its own, and costs
 * RAM only for the two arenas.
 * Invariant: inst is NULL or a live instance of mod with no linear memory.
 */
struct rvm_seed_wasm {
	alignas(8) uint8_t arena[RVM_SEED_WASM_ARENA];
	size_t mod_bytes; /* arena[0, mod_bytes) holds the module, the rest the instance */
	struct rvm_wasm_module *mod;
	struct rvm_wasm_instance *inst;
	struct rvm_wasm_func *on_event;
	struct rvm_wasm_func report;
	struct rvm_witness_log *wlog;
	uint32_t actor;	  /* witness actor: the task's partition */
	uint32_t slices;  /* fuel slices run, all events */
	uint32_t reports; /* rvm.report calls */
	uint64_t fuel;	  /* fuel charged, all events */
	enum rvm_wasm_trap trap; /* why the last event trapped */
	struct rvm_wasm_error err; /* why the last load or restart failed */
};

/*
 * Loads (decodes, validates, translates) the module into w's arena and instantiates it.
 * RVM_E_NOMEM when an arena is too small, RVM_E_INVALID_MODULE / RVM_E_MALFORMED for a bad
 * module, RVM_E_LINK when it imports anything but rvm.report(i32), exports no
 * on_event(i32) -> i32 or defines a linear memory (the seed has no 64 KiB page to give).
 */
enum rvm_err rvm_seed_wasm_load(struct rvm_seed_wasm *w, const uint8_t *bytes, size_t len,
				struct rvm_witness_log *wlog, uint32_t actor);
/* A fresh instance of the loaded module (F1): globals back to their initial values. */
enum rvm_err rvm_seed_wasm_restart(struct rvm_seed_wasm *w);
/*
 * Runs on_event(payload) to its end in slices of RVM_SEED_WASM_FUEL. RVM_OK with *result,
 * RVM_E_TRAP when the agent trapped (w->trap says why; the instance must be restarted), or
 * the error of a witness record its host call could not write.
 */
enum rvm_err rvm_seed_wasm_event(struct rvm_seed_wasm *w, uint32_t payload, uint32_t *result);

#endif

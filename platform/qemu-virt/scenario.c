/* platform/qemu-virt/scenario.c - the deterministic agent scenario: WebAssembly agents run in the
 * kernel's interpreter, fuel-sliced round robin, a trap witnessed and recovered by F1 restart. */
#include "scenario.h"

#include <stdbool.h>

#include <rvm/bytes.h>
#include <rvm/sha256.h>
#include <rvm/wasm.h>
#include <rvm/witness.h>

#define HOSTCALL_PROGRESS 1u

/* The work each agent does: steps of its run(steps, faulty) export. */
static const uint64_t agent_steps[RVM_SCENARIO_AGENTS] = {4, 5, 6};

static const uint8_t progress_params[1] = {RVM_WASM_I64};
static const struct rvm_wasm_functype progress_type = {1, 0, progress_params, NULL};

/* One agent. Invariant: inst is a live instance of the module whose call of run is started
 * (READY or suspended) unless done. */
struct agent {
	struct rvm_wasm_instance *inst;
	struct rvm_wasm_func progress;
	uint32_t index, restarts;
	uint64_t fuel, calls, result;
	bool done;
	/* The scenario's context, for the host function. */
	rvm_scenario_emit_fn *emit;
	void *ctx;
};

static uint32_t actor(const struct agent *a)
{
	return RVM_SCENARIO_ACTOR0 + a->index;
}

/* rvm.progress(i64): witnessed as a host call carrying the agent's value. */
static enum rvm_wasm_trap host_progress(void *ctx, struct rvm_wasm_instance *caller,
					uint64_t *slots)
{
	struct agent *a = ctx;

	(void)caller;
	a->calls++;
	if (a->emit(a->ctx, RVM_ACT_HOSTCALL, actor(a), HOSTCALL_PROGRESS, slots[0], a->calls) !=
	    RVM_OK)
		return RVM_WASM_TRAP_HOST; /* no witness, no effect */
	return RVM_WASM_TRAP_NONE;
}

/* A fresh instance in the agent's own arena and memory, with run(steps, faulty) started. */
static enum rvm_err start(struct agent *a, const struct rvm_wasm_module *m,
			  struct rvm_scenario_mem *mem, bool faulty)
{
	/* The agent calls no deeper than 2: a small frame pool leaves the arena to the stack. */
	struct rvm_wasm_config cfg = {.memory = mem->agent[a->index].memory,
				      .memory_cap = RVM_SCENARIO_MEMORY,
				      .max_call_depth = 64};
	struct rvm_wasm_extern imp = {.kind = RVM_WASM_KIND_FUNC, .u.func = &a->progress};
	struct rvm_wasm_extern run;
	struct rvm_wasm_error werr;
	enum rvm_wasm_trap trap;
	uint64_t args[2] = {agent_steps[a->index], faulty ? 1u : 0u};

	rvm_wasm_host_func(&a->progress, &progress_type, host_progress, a);
	a->inst = rvm_wasm_instantiate(m, &imp, 1, &cfg, mem->agent[a->index].arena,
				       RVM_SCENARIO_INSTANCE_ARENA, &werr, &trap);
	if (!a->inst)
		return werr.err;
	if (!rvm_wasm_export(a->inst, "run", 3, &run) || run.kind != RVM_WASM_KIND_FUNC)
		return RVM_E_LINK;
	return rvm_wasm_call(a->inst, run.u.func, args, 2);
}

/* One fuel slice of agent a; witnesses how it ended if it did. */
static enum rvm_err slice(struct agent *a, const struct rvm_wasm_module *m,
			  struct rvm_scenario_mem *mem, rvm_scenario_print_fn *print)
{
	uint64_t used = 0;
	enum rvm_wasm_status st = rvm_wasm_run(a->inst, RVM_SCENARIO_FUEL, &used);
	enum rvm_err err = RVM_OK;

	a->fuel += used;
	if (st == RVM_WASM_DONE) {
		uint32_t n = 0;
		const uint64_t *res = rvm_wasm_results(a->inst, &n);
		uint64_t r = n ? res[0] : 0;

		a->done = true;
		a->result = r;
		if (print)
			print(a->ctx, "exited", a->index, r);
		return a->emit(a->ctx, RVM_ACT_AGENT_EXIT, actor(a), actor(a), r, a->fuel);
	}
	if (st == RVM_WASM_TRAPPED) {
		enum rvm_wasm_trap trap = rvm_wasm_trap_of(a->inst);

		if (print)
			print(a->ctx, "trapped", a->index, trap);
		err = a->emit(a->ctx, RVM_ACT_AGENT_TRAP, actor(a), trap, a->fuel, a->restarts);
		if (err == RVM_OK && a->restarts >= 3)
			return RVM_E_TRAP; /* F1 gave up: the scenario fails loudly */
		a->restarts++;
		if (err == RVM_OK)
			err = a->emit(a->ctx, RVM_ACT_RECOVER_F1, 0, actor(a), a->restarts, trap);
		if (print)
			print(a->ctx, "restarted", a->index, a->restarts);
		if (err == RVM_OK)
			err = start(a, m, mem, false);
		return err;
	}
	return st == RVM_WASM_OUT_OF_FUEL ? RVM_OK : RVM_E_STATE;
}

enum rvm_err rvm_scenario_run(struct rvm_scenario_mem *mem, const uint8_t *wasm, size_t wasm_len,
			      rvm_scenario_emit_fn *emit, rvm_scenario_print_fn *print, void *ctx,
			      struct rvm_scenario_result *out)
{
	struct agent agents[RVM_SCENARIO_AGENTS];
	const struct rvm_wasm_module *m;
	struct rvm_wasm_error werr;
	uint8_t digest[RVM_SHA256_DIGEST];
	enum rvm_err err = RVM_OK;
	bool left = true;

	rvm_memset(out, 0, sizeof(*out));
	m = rvm_wasm_module_load(wasm, wasm_len, mem->module_arena, RVM_SCENARIO_MODULE_ARENA,
				 &werr);
	if (!m)
		return werr.err;
	rvm_sha256(NULL, wasm, wasm_len, digest);
	for (uint32_t i = 0; i < RVM_SCENARIO_AGENTS && err == RVM_OK; i++) {
		struct agent *a = &agents[i];

		rvm_memset(a, 0, sizeof(*a));
		a->index = i;
		a->emit = emit;
		a->ctx = ctx;
		err = emit(ctx, RVM_ACT_AGENT_SPAWN, 0, actor(a), agent_steps[i],
			   rvm_load_le64(digest));
		if (err == RVM_OK)
			err = start(a, m, mem, i == 0); /* agent 0's first run is the faulty one */
		if (err == RVM_OK && print)
			print(ctx, "spawned", i, agent_steps[i]);
	}
	while (err == RVM_OK && left) {
		left = false;
		for (uint32_t i = 0; i < RVM_SCENARIO_AGENTS && err == RVM_OK; i++) {
			if (agents[i].done)
				continue;
			err = slice(&agents[i], m, mem, print);
			out->slices++;
			left = left || !agents[i].done;
		}
	}
	for (uint32_t i = 0; i < RVM_SCENARIO_AGENTS; i++) {
		out->result[i] = agents[i].result;
		out->fuel[i] = agents[i].fuel;
		out->restarts[i] = agents[i].restarts;
	}
	return err;
}

/* platform/seed/wasm_task.c - a WebAssembly agent as a seed task: load, run an event in fuel
 * slices, restart after a trap. */
#include "wasm_task.h"

#include <rvm/bytes.h>

#define HOSTCALL_REPORT 1u

static const uint8_t report_params[1] = {RVM_WASM_I32};
static const struct rvm_wasm_functype report_type = {1, 0, report_params, NULL};
static const uint8_t i32_one[1] = {RVM_WASM_I32};
static const struct rvm_wasm_functype event_type = {1, 1, i32_one, i32_one};

/* rvm.report(i32): witnessed as a host call carrying the agent's value. */
static enum rvm_wasm_trap host_report(void *ctx, struct rvm_wasm_instance *caller,
				      uint64_t *slots)
{
	struct rvm_seed_wasm *w = ctx;

	(void)caller;
	w->reports++;
	if (rvm_witness_emit(w->wlog, RVM_ACT_HOSTCALL, 0, w->actor, HOSTCALL_REPORT,
			     (uint32_t)slots[0], w->reports, NULL) != RVM_OK)
		return RVM_WASM_TRAP_HOST; /* no witness, no effect */
	return RVM_WASM_TRAP_NONE;
}

/* Is the module's import list exactly rvm.report(i32)? */
static bool imports_ok(const struct rvm_wasm_module *m)
{
	struct rvm_wasm_import_desc d;

	if (rvm_wasm_module_import_count(m) != 1)
		return false;
	rvm_wasm_module_import(m, 0, &d);
	return d.kind == RVM_WASM_KIND_FUNC && d.module_len == 3 &&
	       !rvm_memcmp(d.module, "rvm", 3) && d.name_len == 6 &&
	       !rvm_memcmp(d.name, "report", 6) && rvm_wasm_functype_eq(d.type, &report_type);
}

enum rvm_err rvm_seed_wasm_restart(struct rvm_seed_wasm *w)
{
	/* No memory buffer: a module that defines one fails to instantiate (RVM_E_LINK). */
	struct rvm_wasm_config cfg = {.max_call_depth = RVM_SEED_WASM_DEPTH};
	struct rvm_wasm_extern imp = {.kind = RVM_WASM_KIND_FUNC, .u.func = &w->report};
	struct rvm_wasm_extern ev;
	enum rvm_wasm_trap trap;

	w->inst = NULL;
	w->on_event = NULL;
	rvm_wasm_host_func(&w->report, &report_type, host_report, w);
	w->inst = rvm_wasm_instantiate(w->mod, &imp, 1, &cfg, w->arena + w->mod_bytes,
				       sizeof(w->arena) - w->mod_bytes, &w->err, &trap);
	if (!w->inst)
		return w->err.err;
	if (rvm_wasm_instance_memory(w->inst) || !rvm_wasm_export(w->inst, "on_event", 8, &ev) ||
	    ev.kind != RVM_WASM_KIND_FUNC || !rvm_wasm_functype_eq(ev.u.func->type, &event_type)) {
		w->inst = NULL;
		return RVM_E_LINK;
	}
	w->on_event = ev.u.func;
	return RVM_OK;
}

enum rvm_err rvm_seed_wasm_load(struct rvm_seed_wasm *w, const uint8_t *bytes, size_t len,
				struct rvm_witness_log *wlog, uint32_t actor)
{
	struct rvm_wasm_module_info info;

	w->wlog = wlog;
	w->actor = actor;
	w->slices = w->reports = 0;
	w->fuel = 0;
	w->trap = RVM_WASM_TRAP_NONE;
	w->mod = rvm_wasm_module_load(bytes, len, w->arena, sizeof(w->arena), &w->err);
	if (!w->mod)
		return w->err.err;
	/* The translator's scratch is free again: the instance takes the arena past the module. */
	rvm_wasm_module_info(w->mod, &info);
	w->mod_bytes = (info.arena_used + 7u) & ~(size_t)7u;
	if (!imports_ok(w->mod))
		return RVM_E_LINK;
	return rvm_seed_wasm_restart(w);
}

enum rvm_err rvm_seed_wasm_event(struct rvm_seed_wasm *w, uint32_t payload, uint32_t *result)
{
	uint64_t arg = payload, used;
	enum rvm_wasm_status st;
	enum rvm_err err;

	if (!w->inst)
		return RVM_E_STATE;
	err = rvm_wasm_call(w->inst, w->on_event, &arg, 1);
	if (err != RVM_OK)
		return err;
	do {
		used = 0;
		st = rvm_wasm_run(w->inst, RVM_SEED_WASM_FUEL, &used);
		w->fuel += used;
		w->slices++;
	} while (st == RVM_WASM_OUT_OF_FUEL);
	if (st == RVM_WASM_TRAPPED) {
		w->trap = rvm_wasm_trap_of(w->inst);
		return RVM_E_TRAP;
	}
	if (st != RVM_WASM_DONE)
		return RVM_E_STATE;
	*result = (uint32_t)rvm_wasm_results(w->inst, &(uint32_t){0})[0];
	return RVM_OK;
}

/* kernel/kernel_run.c - one scheduling slice on one virtual CPU: pick, run with fuel, account, recover. */
#include <rvm/bytes.h>
#include <rvm/world.h>

#include "agent_priv.h"
#include "kernel_gpu.h"
#include "recover_priv.h"

/* The next agent of partition p that may run now (round robin from the last one), or NULL. */
static struct rvm_agent *agent_in(struct rvm_world *w, uint32_t p)
{
	uint16_t *cursor = &w->cursor[p < RVM_KPARTS ? p : 0];

	for (uint32_t i = 0; i < w->nagents; i++) {
		struct rvm_agent *a = &w->agents[(*cursor + i) % w->nagents];

		if (a->part == p && a->state == RVM_AGENT_READY && !a->running &&
		    !rvm_kernel_ckpt_pending(w, p) && (!a->waiting || rvm_agent_has_mail(a))) {
			a->waiting = false;
			*cursor = (uint16_t)((a->num + 1) % w->nagents);
			return a;
		}
	}
	return NULL;
}

/*
 * The scheduler's choice first; if all its agents are busy, any other partition on this
 * CPU, whose age then starts over. Flow mode's age term shares the CPU among the
 * partitions, tilted by their cut pressure (kept current by each epoch), and starves none.
 */
static struct rvm_agent *pick(struct rvm_kernel *k, uint32_t cpu, uint64_t now)
{
	struct rvm_world *w = k->w;
	struct rvm_sched_cpu *c = &w->sched.cpu[cpu];
	uint32_t part;
	struct rvm_agent *a = NULL;

	if (rvm_sched_pick(&w->sched, cpu, now, &part) != RVM_OK)
		return NULL;
	if (!(a = agent_in(w, part))) {
		for (uint32_t i = 0; i < c->n && !a; i++)
			if (c->q[i].part != part && (a = agent_in(w, c->q[i].part)))
				(void)rvm_sched_ran(&w->sched, c->q[i].part, now);
	}
	return a;
}

/* Recovery attached (kernel_recover.h): DC-14 through rvm_recovery_handle, F1 from the agent's
 * last snapshot, escalating on repeated faults. */
static void recover_dc14(struct rvm_kernel *k, struct rvm_agent *a, enum rvm_wasm_trap trap)
{
	static const uint16_t act[RVM_F4 + 1] = { 0, RVM_ACT_RECOVER_F1, RVM_ACT_RECOVER_F2,
						  RVM_ACT_RECOVER_F3, RVM_ACT_RECOVER_F4 };
	uint8_t cls = RVM_F4;

	a->restarts++;
	if (rvm_kernel_recover_trap(k, a, trap, &cls) != RVM_OK || a->state != RVM_AGENT_READY)
		return;
	k->w->recoveries++;
	rvm_kernel_note(k->w, act[cls <= RVM_F4 ? cls : RVM_F4], a->num, a->restarts, 1);
}

void rvm_kernel_agent_stop(struct rvm_kernel *k, struct rvm_agent *a)
{
	a->state = RVM_AGENT_STOPPED;
	(void)rvm_witness_emit(&k->witness, RVM_ACT_AGENT_EXIT, RVM_WF_DENIED, a->part, a->id,
			       a->restarts, RVM_E_TRAP, NULL);
	rvm_agent_gpu_release(a);
}

/* F1: the agent starts over (from its last snapshot when recovery is attached, else from its
 * module with its memory zeroed and its GPU objects released), witnessed; escalates to a stop
 * after RVM_AGENT_MAX_RESTARTS, which releases its GPU objects too. */
static void recover(struct rvm_kernel *k, struct rvm_agent *a, enum rvm_wasm_trap trap)
{
	struct rvm_world *w = k->w;
	enum rvm_err err;

	a->traps++;
	(void)rvm_witness_emit(&k->witness, RVM_ACT_AGENT_TRAP, 0, a->part, a->id, trap, a->fuel,
			       NULL);
	if (!w->rec)
		(void)rvm_witness_emit(&k->witness, RVM_ACT_FAULT, 0, a->part, a->id, 1, trap,
				       NULL);
	/* The life ends here: its last state is on record, so a replay can check it trapped
	 * at the same instruction with the same memory. */
	(void)rvm_agent_digest(a);
	rvm_wasm_reset(a->inst);
	if (w->rec && a->restarts < RVM_AGENT_MAX_RESTARTS) {
		recover_dc14(k, a, trap);
		return;
	}
	if (a->restarts >= RVM_AGENT_MAX_RESTARTS) {
		rvm_kernel_agent_stop(k, a);
		return;
	}
	a->restarts++;
	/* A fresh start opens the GPU again: what the old life held is freed (gated, witnessed
	 * GPU_FREE) and its names go stale, as for recovery's restart from the module. */
	rvm_agent_gpu_restart(a, NULL, 0);
	err = rvm_agent_instantiate(a);
	(void)rvm_witness_emit(&k->witness, RVM_ACT_RECOVER_F1, err != RVM_OK ? RVM_WF_DENIED : 0,
			       a->part, a->id, a->restarts, err, NULL);
	if (err != RVM_OK) {
		a->state = RVM_AGENT_STOPPED;
		rvm_agent_gpu_release(a); /* its names went stale above; nothing is left to free */
		return;
	}
	(void)rvm_agent_journal_start(a);
	w->recoveries++;
	rvm_kernel_note(w, RVM_ACT_RECOVER_F1, a->num, a->restarts, 1);
}

enum rvm_err rvm_kernel_run_slice(struct rvm_kernel *k, uint32_t cpu, uint64_t fuel,
				  struct rvm_slice *out)
{
	struct rvm_world *w;
	struct rvm_agent *a;
	enum rvm_wasm_status st;
	uint64_t used = 0;

	if (!k || !(w = k->w) || !out || cpu >= w->ncpus)
		return RVM_E_INVAL;
	rvm_memset(out, 0, sizeof(*out));
	out->agent = RVM_AGENT_NONE;
	rvm_kernel_lock(k);
	if (k->state != RVM_KERNEL_RUNNING) {
		rvm_kernel_unlock(k);
		return RVM_E_STATE;
	}
	a = pick(k, cpu, rvm_platform_now_ns(k->plat));
	if (a)
		a->running = true;
	rvm_kernel_unlock(k);
	if (!a)
		return RVM_OK;
	/* Only this CPU touches the instance while running is set: no lock while it runs. */
	st = rvm_wasm_run(a->inst, fuel, &used);
	rvm_kernel_lock(k);
	out->agent = a->num;
	out->part = a->part;
	out->fuel = used;
	out->status = (uint8_t)st;
	a->fuel += used;
	a->life_fuel += used;
	a->slices++;
	if (st == RVM_WASM_TRAPPED) {
		out->trap = (uint8_t)rvm_wasm_trap_of(a->inst);
		recover(k, a, (enum rvm_wasm_trap)out->trap);
	} else if (st == RVM_WASM_DONE) {
		a->state = RVM_AGENT_EXITED;
		(void)rvm_witness_emit(&k->witness, RVM_ACT_AGENT_EXIT, 0, a->part, a->id, a->sent,
				       a->received, NULL);
	}
	a->running = false;
	if (w->rec)
		rvm_kernel_ckpt_slice_end(k, a->part);
	rvm_kernel_unlock(k);
	return RVM_OK;
}

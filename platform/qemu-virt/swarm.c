/* platform/qemu-virt/swarm.c - the EL1 guests: kernel partitions running native code under stage 2,
 * stage-2 faults witnessed and recovered by F1 restart, a timer-driven round robin per CPU. */
#include "swarm.h"

#include <stdbool.h>

#include <rvm/bytes.h>
#include <rvm/witness.h>

#include "board.h"
#include "gic.h"

#define GUEST_CODE_IPA 0x40000000ul
#define GUEST_DATA_IPA 0x40001000ul
#define HC_EXIT	       0
#define HC_PROGRESS    1
/* EL1h with D, A, I, F masked: guests here never take their own interrupts. */
#define GUEST_SPSR 0x3c5ul
/* SCTLR_EL1 RES1 bits, MMU off: guests run on stage 2 alone. */
#define GUEST_SCTLR 0x30d00800ul
/* HCR_EL2: VM (stage 2), FMO/IMO/AMO (physical interrupts to EL2), TWI/TWE (WFI/WFE trap),
 * TSC (SMC traps), RW (EL1 is AArch64). EL1's own registers, translation registers included,
 * are the guest's: they are switched with it (struct rvm_a64_el1), so writes need no trap. */
#define HCR_GUEST                                                                                  \
	(1ul << 0 | 1ul << 3 | 1ul << 4 | 1ul << 5 | 1ul << 13 | 1ul << 14 | 1ul << 19 | 1ul << 31)
#define HCR_HOST	 (1ul << 31)
#define TIMER_INTID_BASE 16u

extern const char rvm_guest_faulter[], rvm_guest_faulter_end[];
extern const char rvm_guest_counter[], rvm_guest_counter_end[];
extern const char rvm_guest_regcheck[], rvm_guest_regcheck_end[];
extern const char rvm_guest_fpcheck[], rvm_guest_fpcheck_end[];

/* Registers for a (re)start: x0 = restarts, x1 = param, pc = the code page. */
static void reset_regs(struct rvm_part *p)
{
	rvm_memset(&p->regs, 0, sizeof(p->regs));
	p->regs.x[0] = p->restarts;
	p->regs.x[1] = p->param;
	p->regs.elr = GUEST_CODE_IPA;
	p->regs.spsr = GUEST_SPSR;
	/* A restart is a reset: FP/SIMD and EL1 registers start from zero too. */
	rvm_memset(&p->fp, 0, sizeof(p->fp));
	rvm_memset(&p->el1, 0, sizeof(p->el1));
	p->el1.sctlr = GUEST_SCTLR;
}

/* Makes freshly copied instructions visible to instruction fetch. */
static void sync_icache(const void *p, size_t n)
{
	for (uintptr_t a = (uintptr_t)p & ~63ul; a < (uintptr_t)p + n; a += 64)
		__asm__ volatile("dc cvau, %0" ::"r"(a) : "memory");
	__asm__ volatile("dsb ish\n\tic iallu\n\tdsb ish\n\tisb" ::: "memory");
}

/* A lifecycle op on p through the gate, with the kernel's authority (its root cap). */
static enum rvm_err part_op(struct rvm_swarm *sw, struct rvm_part *p, enum rvm_part_op op)
{
	enum rvm_err err;

	rvm_board_kernel_take();
	err = rvm_partition_op(sw->k->pool, RVM_CAP_KERNEL_TABLE, p->cap, op);
	rvm_board_kernel_give();
	return err;
}

static enum rvm_err part_create(struct rvm_swarm *sw, const char *name, const char *code,
				const char *code_end, uint64_t param, uint32_t cpu)
{
	struct rvm_part *p = &sw->part[sw->nparts];
	void *code_page, *data_page;
	enum rvm_err err;

	if (sw->nparts == RVM_SWARM_MAX_PARTS || code_end - code > 4096)
		return RVM_E_NOMEM;
	/* The kernel's partition: pool slot, object, root cap (PARTITION_CREATE, CAP_MINT). */
	rvm_board_kernel_take();
	err = rvm_partition_create(sw->k->pool, RVM_CAP_KERNEL_TABLE, &p->id, &p->obj, &p->cap);
	if (err == RVM_OK)
		sw->k->pool->p[p->id].agents = 1; /* the guest: not an empty partition to reap */
	rvm_board_kernel_give();
	if (err != RVM_OK)
		return err;
	p->cpu = cpu;
	p->name = name;
	p->param = param;
	/* VMID 0 until its first slice: the kernel's VMID table assigns one per CPU. */
	err = rvm_s2_init(&p->s2, 0, rvm_board_page_alloc, NULL);
	code_page = rvm_board_page_alloc(NULL);
	data_page = rvm_board_page_alloc(NULL);
	if (err != RVM_OK || !code_page || !data_page)
		return RVM_E_NOMEM;
	rvm_memcpy(code_page, code, (size_t)(code_end - code));
	sync_icache(code_page, (size_t)(code_end - code));
	p->code_pa = (uintptr_t)code_page;
	p->data_pa = (uintptr_t)data_page;
	err = rvm_s2_map(&p->s2, GUEST_CODE_IPA, p->code_pa, RVM_S2_RO | RVM_S2_EXEC);
	if (err == RVM_OK)
		err = rvm_s2_map(&p->s2, GUEST_DATA_IPA, p->data_pa, RVM_S2_RW);
	if (err != RVM_OK)
		return err;
	reset_regs(p);
	sw->nparts++;
	err = rvm_board_witness(RVM_ACT_REGION_MAP, p->id, p->id, GUEST_CODE_IPA, p->code_pa);
	if (err == RVM_OK)
		err = rvm_board_witness(RVM_ACT_REGION_MAP, p->id, p->id, GUEST_DATA_IPA,
					p->data_pa);
	if (err == RVM_OK)
		err = rvm_board_witness(RVM_ACT_SCHED_PLACE, 0, p->id, cpu, 0);
	if (err == RVM_OK)
		err = part_op(sw, p, RVM_PART_START); /* Created -> Running: PARTITION_RESUME */
	rvm_board_printf(
		"rvm: partition %u (%s) created: object %lx, code IPA %lx -> PA %lx, data IPA "
		"%lx -> PA %lx, on cpu %u\n",
		p->id, name, (unsigned long)p->obj, GUEST_CODE_IPA, (unsigned long)p->code_pa,
		GUEST_DATA_IPA, (unsigned long)p->data_pa, cpu);
	return err;
}

enum rvm_err rvm_swarm_create(struct rvm_swarm *sw, struct rvm_part_pool *pool, uint32_t ncpus,
			      uint64_t tick)
{
	struct rvm_swarm_kernel *k = rvm_board_take(sizeof(*k));
	enum rvm_err err;

	if (!k)
		return RVM_E_NOMEM;
	sw->k = k;
	sw->tick = tick;
	k->pool = pool;
	rvm_board_kernel_take();
	rvm_vmid_init(&k->vmids, pool);
	rvm_board_kernel_give();
	err = part_create(sw, "faulter", rvm_guest_faulter, rvm_guest_faulter_end, 0, 0);
	for (uint32_t i = 1; err == RVM_OK && i < 4; i++)
		err = part_create(sw, "counter", rvm_guest_counter, rvm_guest_counter_end,
				  300000u * i, i % ncpus);
	if (err == RVM_OK)
		err = part_create(sw, "regcheck", rvm_guest_regcheck, rvm_guest_regcheck_end,
				  10000000u, 4 % ncpus);
	/* Two FP/SIMD and EL1 register checkers share one CPU, so they take turns on it. */
	for (uint32_t k = 1; err == RVM_OK && k <= 2; k++)
		err = part_create(sw, "fpcheck", rvm_guest_fpcheck, rvm_guest_fpcheck_end, k,
				  ncpus > 1 ? 1 : 0);
	return err;
}

/* A stage-2 fault or an unexpected trap: witness it, then F1 (restart) or suspend. */
static void fault(struct rvm_swarm *sw, struct rvm_part *p, uint64_t esr, uint64_t ipa, bool s2,
		  uint32_t cpu)
{
	rvm_board_witness(RVM_ACT_FAULT, p->id, ipa, esr, p->regs.elr);
	if (s2)
		rvm_board_printf("rvm: partition %u (%s) fault on cpu %u: IPA %lx outside its "
				 "stage-2 map (esr %lx, pc %lx)\n",
				 p->id, p->name, cpu, (unsigned long)ipa, (unsigned long)esr,
				 (unsigned long)p->regs.elr);
	else
		rvm_board_printf("rvm: partition %u (%s) fault on cpu %u: trap of class %lx it may "
				 "not make (esr %lx, pc %lx)\n",
				 p->id, p->name, cpu, (unsigned long)(esr >> 26),
				 (unsigned long)esr, (unsigned long)p->regs.elr);
	if (p->restarts >= RVM_SWARM_MAX_RESTARTS) {
		enum rvm_err err = part_op(sw, p, RVM_PART_SUSPEND);

		rvm_board_printf("rvm: partition %u suspended after %u restarts (%s)\n", p->id,
				 p->restarts, rvm_err_str(err));
		p->state = RVM_RUN_SUSPENDED;
		return;
	}
	p->restarts++;
	reset_regs(p);
	rvm_board_witness(RVM_ACT_RECOVER_F1, 0, p->id, p->restarts, ipa);
	rvm_board_printf("rvm: partition %u F1 recovery: restart %u\n", p->id, p->restarts);
}

static void hypercall(struct rvm_swarm *sw, struct rvm_part *p, uint32_t cpu)
{
	uint64_t call = p->regs.x[0], val = p->regs.x[1];

	if (call == HC_PROGRESS) {
		p->progress++;
		rvm_board_witness(RVM_ACT_HOSTCALL, p->id, HC_PROGRESS, val, 0);
		rvm_board_printf("rvm: partition %u (%s) step %lu on cpu %u\n", p->id, p->name,
				 (unsigned long)val, cpu);
	} else if (call == HC_EXIT) {
		enum rvm_err err;

		p->result = val;
		p->state = RVM_RUN_EXITED;
		rvm_board_witness(RVM_ACT_AGENT_EXIT, p->id, p->id, val, p->restarts);
		err = part_op(sw, p,
			      RVM_PART_SUSPEND); /* its guest is gone: Running -> Suspended */
		rvm_board_printf(
			"rvm: partition %u (%s) exited with %lu after %u restart(s), "
			"%u preemption(s)%s%s\n",
			p->id, p->name, (unsigned long)val, p->restarts, p->preempted,
			err == RVM_OK ? "" : "; suspend: ", err == RVM_OK ? "" : rvm_err_str(err));
	} else {
		fault(sw, p, rvm_a64_read(esr_el2), 0, false, cpu); /* no such hypercall */
	}
}

/* Runs p until it traps, is preempted by the tick, or yields; handles the exit. */
static void slice(struct rvm_swarm *sw, struct rvm_part *p, uint32_t cpu)
{
	enum rvm_a64_exit why;
	uint64_t esr, ec;
	uint16_t vmid;
	bool flush;
	enum rvm_err err;

	/* The VMID it runs with on this CPU, from the kernel's table (VMID_ASSIGN when new).
	 * rvm_s2_activate drops that VMID's TLB entries anyway, so a reassigned VMID never
	 * carries another partition's translations: flush needs no extra step. */
	rvm_board_kernel_take();
	err = rvm_vmid_acquire(&sw->k->vmids, cpu, p->id, &vmid, &flush);
	rvm_board_kernel_give();
	if (err != RVM_OK) {
		rvm_board_printf("rvm: partition %u: no VMID on cpu %u: %s\n", p->id, cpu,
				 rvm_err_str(err));
		p->state = RVM_RUN_SUSPENDED;
		return;
	}
	p->s2.vmid = vmid;
	rvm_s2_activate(&p->s2);
	rvm_a64_el1_load(&p->el1);
	rvm_a64_fpsimd_load(&p->fp);
	rvm_a64_write(hcr_el2, HCR_GUEST);
	rvm_a64_isb();
	rvm_timer_arm(sw->tick);
	why = rvm_a64_vcpu_run(rvm_a64_this_cpu(), &p->regs);
	if (why == RVM_A64_EXIT_IRQ) {
		/* Acknowledge before stopping the timer: its level-triggered PPI would vanish.
		 * It may also be a wake SGI (wait.c) that came while the guest ran. */
		uint32_t ack = rvm_gic_ack(), intid = rvm_gic_intid(ack);

		if (intid >= TIMER_INTID_BASE && intid < 32) {
			sw->preemptions[cpu]++;
			p->preempted++;
		}
		if (intid < 1020)
			rvm_gic_eoi(ack);
	}
	rvm_timer_stop();
	rvm_a64_write(hcr_el2, HCR_HOST);
	rvm_a64_isb();
	rvm_a64_fpsimd_save(&p->fp);
	rvm_a64_el1_save(&p->el1);
	p->slices++;
	if (why == RVM_A64_EXIT_IRQ)
		return;
	esr = rvm_a64_read(esr_el2);
	ec = esr >> 26;
	if (ec == RVM_EC_HVC64)
		hypercall(sw, p, cpu);
	else if (ec == RVM_EC_DABT_LOW || ec == RVM_EC_IABT_LOW)
		fault(sw, p, esr, rvm_s2_fault_ipa(), true, cpu);
	else if (ec == RVM_EC_WFX)
		p->regs.elr += 4; /* WFI/WFE: the guest waits, so let another run */
	else
		fault(sw, p, esr, 0, false, cpu); /* other traps (SMC, unknown instructions) */
}

bool rvm_swarm_slice(struct rvm_swarm *sw, uint32_t cpu)
{
	for (uint32_t k = 0; k < sw->nparts; k++) {
		uint32_t i = (sw->next[cpu] + k) % sw->nparts;
		struct rvm_part *p = &sw->part[i];

		if (p->cpu == cpu && p->state == RVM_RUN_READY) {
			sw->next[cpu] = (i + 1) % sw->nparts;
			slice(sw, p, cpu);
			return true;
		}
	}
	return false;
}

void rvm_swarm_destroy(struct rvm_swarm *sw)
{
	uint32_t destroyed = 0;

	for (uint32_t i = 0; i < sw->nparts; i++) {
		struct rvm_part *p = &sw->part[i];
		enum rvm_err err = RVM_OK;

		if (p->state == RVM_RUN_READY) /* never finished: stop it first */
			err = part_op(sw, p, RVM_PART_SUSPEND);
		rvm_board_kernel_take();
		if (err == RVM_OK)
			err = rvm_vmid_release(&sw->k->vmids, p->id);
		if (err == RVM_OK)
			err = rvm_partition_op(sw->k->pool, RVM_CAP_KERNEL_TABLE, p->cap,
					       RVM_PART_DESTROY);
		if (err == RVM_OK)
			sw->k->pool->p[p->id].agents = 0;
		rvm_board_kernel_give();
		if (err == RVM_OK)
			destroyed++;
		else
			rvm_board_printf("rvm: partition %u: destroy: %s\n", p->id,
					 rvm_err_str(err));
	}
	rvm_board_printf("rvm: %u partitions destroyed through the gate; %lu gate operations "
			 "allowed, %lu refused\n",
			 destroyed, (unsigned long)sw->k->pool->gate->allowed,
			 (unsigned long)sw->k->pool->gate->denied);
}

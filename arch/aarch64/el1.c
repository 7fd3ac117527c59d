/* arch/aarch64/el1.c - switches a vCPU's EL1 and EL0 system registers on the calling CPU. */
#include "a64.h"

void rvm_a64_el1_save(struct rvm_a64_el1 *s)
{
	s->sctlr = rvm_a64_read(sctlr_el1);
	s->cpacr = rvm_a64_read(cpacr_el1);
	s->ttbr0 = rvm_a64_read(ttbr0_el1);
	s->ttbr1 = rvm_a64_read(ttbr1_el1);
	s->tcr = rvm_a64_read(tcr_el1);
	s->mair = rvm_a64_read(mair_el1);
	s->amair = rvm_a64_read(amair_el1);
	s->contextidr = rvm_a64_read(contextidr_el1);
	s->vbar = rvm_a64_read(vbar_el1);
	s->esr = rvm_a64_read(esr_el1);
	s->far = rvm_a64_read(far_el1);
	s->afsr0 = rvm_a64_read(afsr0_el1);
	s->afsr1 = rvm_a64_read(afsr1_el1);
	s->par = rvm_a64_read(par_el1);
	s->elr = rvm_a64_read(elr_el1);
	s->spsr = rvm_a64_read(spsr_el1);
	s->tpidr = rvm_a64_read(tpidr_el1);
	s->tpidr_el0 = rvm_a64_read(tpidr_el0);
	s->tpidrro_el0 = rvm_a64_read(tpidrro_el0);
	s->sp_el0 = rvm_a64_read(sp_el0);
	s->cntkctl = rvm_a64_read(cntkctl_el1);
	s->cntv_ctl = rvm_a64_read(cntv_ctl_el0);
	s->cntv_cval = rvm_a64_read(cntv_cval_el0);
	s->csselr = rvm_a64_read(csselr_el1);
	/* The guest's timer must not interrupt whoever runs next. */
	rvm_a64_write(cntv_ctl_el0, 0);
}

void rvm_a64_el1_load(const struct rvm_a64_el1 *s)
{
	rvm_a64_write(sctlr_el1, s->sctlr);
	rvm_a64_write(cpacr_el1, s->cpacr);
	rvm_a64_write(ttbr0_el1, s->ttbr0);
	rvm_a64_write(ttbr1_el1, s->ttbr1);
	rvm_a64_write(tcr_el1, s->tcr);
	rvm_a64_write(mair_el1, s->mair);
	rvm_a64_write(amair_el1, s->amair);
	rvm_a64_write(contextidr_el1, s->contextidr);
	rvm_a64_write(vbar_el1, s->vbar);
	rvm_a64_write(esr_el1, s->esr);
	rvm_a64_write(far_el1, s->far);
	rvm_a64_write(afsr0_el1, s->afsr0);
	rvm_a64_write(afsr1_el1, s->afsr1);
	rvm_a64_write(par_el1, s->par);
	rvm_a64_write(elr_el1, s->elr);
	rvm_a64_write(spsr_el1, s->spsr);
	rvm_a64_write(tpidr_el1, s->tpidr);
	rvm_a64_write(tpidr_el0, s->tpidr_el0);
	rvm_a64_write(tpidrro_el0, s->tpidrro_el0);
	rvm_a64_write(sp_el0, s->sp_el0);
	rvm_a64_write(cntkctl_el1, s->cntkctl);
	rvm_a64_write(csselr_el1, s->csselr);
	rvm_a64_write(cntv_cval_el0, s->cntv_cval);
	rvm_a64_write(cntv_ctl_el0, s->cntv_ctl);
	rvm_a64_isb();
}

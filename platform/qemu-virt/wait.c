/* platform/qemu-virt/wait.c - CPUs that wait without spinning: a sleeping kernel lock woken by
 * SGIs, waiting for a flag, and the idle wait on the EL2 timer. */
#include "wait.h"

#include "../../arch/aarch64/a64.h"
#include "gic.h"

static uint32_t this_cpu(void)
{
	return rvm_a64_this_cpu()->index;
}

static uint64_t ticks_now(void)
{
	rvm_a64_isb();
	return rvm_a64_read(cntpct_el0);
}

/* The longest a sleeper waits for its SGI: a wake-up that never came (none should) costs at
 * most this, never a hang. */
static uint64_t backstop(void)
{
	return rvm_a64_read(cntfrq_el0) / 1000u * RVM_WAIT_BACKSTOP_MS;
}

/*
 * One sleep in WFI until an interrupt is pending: the wake SGI, or the EL2 timer after ticks.
 * The wake-up is spent afterwards (acknowledged and ended), so the next WFI waits for a new
 * one; one that came before the WFI ends it at once. Whether the wake SGI came.
 */
static bool sleep_once(uint64_t ticks)
{
	bool woken;

	rvm_timer_arm(ticks);
	__asm__ volatile("wfi" ::: "memory");
	rvm_timer_stop();
	woken = rvm_gic_clear_pending();
	return woken;
}

/* One free-to-taken attempt. */
static int try_take(struct rvm_wlock *l)
{
	return !__atomic_load_n(&l->held, __ATOMIC_RELAXED) &&
	       !__atomic_exchange_n(&l->held, 1u, __ATOMIC_ACQUIRE);
}

void rvm_wlock_take(struct rvm_wlock *l)
{
	uint32_t cpu = this_cpu(), bit = 1u << cpu;
	uint64_t t0;

	l->takes[cpu]++;
	if (try_take(l))
		return;
	t0 = ticks_now();
	for (;;) {
		for (uint32_t i = 0; i < RVM_WLOCK_SPINS || l->spin_only; i++)
			if (try_take(l))
				goto taken;
		__atomic_fetch_or(&l->sleepers, bit, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&l->held, __ATOMIC_SEQ_CST)) {
			l->sleeps[cpu]++;
			/* Not woken: the holder kept it past the backstop (say, QEMU's host
			 * thread was descheduled), or a wake-up was lost. */
			l->backstops[cpu] += !sleep_once(backstop());
		}
		__atomic_fetch_and(&l->sleepers, ~bit, __ATOMIC_SEQ_CST);
	}
taken:
	l->wait_ticks[cpu] += ticks_now() - t0;
}

void rvm_wlock_give(struct rvm_wlock *l)
{
	uint32_t s;

	__atomic_store_n(&l->held, 0u, __ATOMIC_SEQ_CST);
	s = __atomic_exchange_n(&l->sleepers, 0u, __ATOMIC_SEQ_CST);
	if (s)
		rvm_gic_sgi_send(s);
}

void rvm_wait_until(const volatile uint32_t *word, uint32_t v)
{
	while (__atomic_load_n(word, __ATOMIC_ACQUIRE) < v)
		(void)sleep_once(backstop());
}

void rvm_wait_idle(uint64_t ticks)
{
	(void)sleep_once(ticks);
}

/* platform/qemu-virt/wait.h - CPUs that wait without spinning: the board's kernel lock, whose
 * waiters sleep in WFI until the holder's SGI, and the idle wait until the timer or an SGI. */
#ifndef RVM_QEMU_WAIT_H
#define RVM_QEMU_WAIT_H

#include <stdbool.h>
#include <stdint.h>

#include "../../arch/aarch64/a64_asm.h"

/* Loads of `held` a waiter spins on before it sleeps: a lock held for a few microseconds is
 * taken without a sleep; a longer hold (or a holder the host descheduled) costs the waiter's
 * host thread nothing while it sleeps. Under QEMU's TCG a vCPU in WFI gives its host core
 * up; a spinning one takes it from the CPU that holds the lock. */
#define RVM_WLOCK_SPINS 2000u
/* A sleeper's EL2 timer ends its WFI after this many ms even if no SGI came. */
#define RVM_WAIT_BACKSTOP_MS 1u

/*
 * A test-and-set lock whose waiters sleep: after RVM_WLOCK_SPINS loads a waiter sets its bit
 * in `sleepers`, checks `held` once more and waits in WFI; give clears `held`, then takes the
 * whole `sleepers` set and sends each of them the wake SGI.
 * Invariant (no lost wake-up): a waiter sets its bit before its last look at `held`, and give
 * clears `held` before it reads the bits (both sequentially consistent), so either the waiter
 * sees the lock free or give sees the bit; an SGI sent early stays pending and ends the WFI
 * at once. Statistics are per CPU, each written only by its own CPU.
 */
struct rvm_wlock {
	volatile uint32_t held;
	volatile uint32_t sleepers; /* bit per CPU asleep (or going to sleep) on this lock */
	bool spin_only;		    /* waiters never sleep (to measure against); set before use */
	uint64_t takes[RVM_A64_MAX_CPUS];
	uint64_t wait_ticks[RVM_A64_MAX_CPUS]; /* counter ticks spent waiting for it */
	uint64_t sleeps[RVM_A64_MAX_CPUS];
	uint64_t backstops[RVM_A64_MAX_CPUS]; /* sleeps the backstop timer ended, not an SGI */
};

/* Takes l (not recursive). Call with IRQs masked at EL2, as the board always runs, and not
 * while a guest's tick is armed (a sleeping waiter uses the EL2 timer as its backstop). */
void rvm_wlock_take(struct rvm_wlock *l);
/* Gives l and wakes its sleepers. */
void rvm_wlock_give(struct rvm_wlock *l);

/* Sleeps in WFI until *word >= v. Whoever raises *word sends the waiter the wake SGI
 * (rvm_gic_sgi_send) after its store; one sent before the WFI stays pending and ends it. */
void rvm_wait_until(const volatile uint32_t *word, uint32_t v);

/* Sleeps until `ticks` counter ticks have passed or an SGI arrives (WFI on the EL2 timer);
 * the timer is off again on return. Every wait here uses the EL2 timer, so none may happen
 * while a guest's tick is armed (the board waits only between guest slices). */
void rvm_wait_idle(uint64_t ticks);

#endif

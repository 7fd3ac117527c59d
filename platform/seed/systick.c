/* platform/seed/systick.c - the monotonic clock: SysTick at the processor clock plus counted wraps. */
#include "seed.h"

#define SYST_CSR 0xE000E010u
#define SYST_RVR 0xE000E014u
#define SYST_CVR 0xE000E018u
#define CSR_ENABLE    (1u << 0)
#define CSR_TICKINT   (1u << 1)
#define CSR_CLKSOURCE (1u << 2) /* the processor clock */
#define CSR_COUNTFLAG (1u << 16)
#define RELOAD        0x00FFFFFFu /* the full 24 bits: 2^24 counts per wrap */

/* Completed wraps; written only by the SysTick handler, read with the counter below. */
static volatile uint32_t systick_wraps;
/* The raw count when the clock started, so time starts at 0. */
static uint64_t systick_base;

void rvm_seed_systick_handler(void);

void rvm_seed_systick_handler(void)
{
	systick_wraps++;
}

void rvm_seed_systick_start(void)
{
	RVM_SEED_REG(SYST_CSR) = 0;
	RVM_SEED_REG(SYST_RVR) = RELOAD;
	RVM_SEED_REG(SYST_CVR) = 0;
	RVM_SEED_REG(SYST_CSR) = CSR_ENABLE | CSR_TICKINT | CSR_CLKSOURCE;
	/* The counter reads 0 until its first reload: counting from there would jump a wrap. */
	while (RVM_SEED_REG(SYST_CVR) == 0)
		;
	systick_base = 0;
	systick_base = rvm_seed_ticks();
}

/*
 * The counter counts down; a wrap between reading the wrap count and the counter would lose
 * 2^24 counts, so read the count, then the counter, then the count again and retry on change.
 * Called with interrupts enabled (the handler must be able to run) or masked for short spans
 * well under one wrap (1.3 s).
 */
uint64_t rvm_seed_ticks(void)
{
	uint32_t w, v;

	do {
		w = systick_wraps;
		v = RVM_SEED_REG(SYST_CVR);
	} while (w != systick_wraps);
	return ((uint64_t)w << 24) + (RELOAD - v) - systick_base;
}

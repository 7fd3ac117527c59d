/* kernel/kernel.c - the kernel object: its minimal boot and its shutdown. */
#include <rvm/bytes.h>
#include <rvm/kernel_recover.h>
#include <rvm/world.h>
#include "kernel_priv.h"

enum rvm_err rvm_kernel_phase(struct rvm_kernel *k, uint32_t p, uint64_t arg0, uint64_t arg1)
{
	enum rvm_err err = rvm_witness_emit(&k->witness, RVM_ACT_BOOT_PHASE, 0, 0, p, arg0, arg1,
					    NULL);

	if (err == RVM_OK)
		k->phases_done++;
	return err;
}

enum rvm_err rvm_kernel_boot_done(struct rvm_kernel *k, uint64_t arg1)
{
	enum rvm_err err;

	err = rvm_witness_emit(&k->witness, RVM_ACT_BOOT_COMPLETE, 0, 0, k->phases_done,
			       rvm_platform_now_ns(k->plat) - k->boot_start_ns, arg1, NULL);
	if (err == RVM_OK && k->witness.has_sink)
		err = rvm_witness_sync(&k->witness);
	if (err == RVM_OK)
		k->state = RVM_KERNEL_RUNNING;
	return err;
}

enum rvm_err rvm_kernel_boot(struct rvm_kernel *k, const struct rvm_platform *plat,
			     const struct rvm_witness_config *wcfg)
{
	enum rvm_err err;

	if (!k || !plat || !wcfg)
		return RVM_E_INVAL;
	rvm_memset(k, 0, sizeof(*k));
	k->plat = plat;
	k->boot_start_ns = rvm_platform_now_ns(plat);
	/* The log cannot witness its own birth before it exists: genesis first, then both
	 * phases are recorded in the order they happened. */
	err = rvm_witness_init(&k->witness, plat, wcfg);
	if (err != RVM_OK)
		return err;
	err = rvm_kernel_phase(k, RVM_BOOT_PLATFORM, plat->cpu_count ? plat->cpu_count(plat->ctx) : 1, 0);
	if (err == RVM_OK)
		err = rvm_kernel_phase(k, RVM_BOOT_WITNESS, wcfg->chain, wcfg->sig);
	return err == RVM_OK ? rvm_kernel_boot_done(k, 0) : err;
}

enum rvm_err rvm_kernel_shutdown(struct rvm_kernel *k)
{
	enum rvm_err err;

	if (k->state != RVM_KERNEL_RUNNING)
		return RVM_E_STATE;
	if (k->w) {
		/* Checkpoints still being written are waited for, and what became of them goes
		 * on record before the log closes. */
		(void)rvm_kernel_checkpoint_settle(k, true);
		(void)rvm_kernel_journal_bind_all(k);
		(void)rvm_witness_batch_flush(&k->witness);
	}
	err = rvm_witness_emit(&k->witness, RVM_ACT_SHUTDOWN, 0, 0, 0,
			       rvm_platform_now_ns(k->plat) - k->boot_start_ns, 0, NULL);
	if (err == RVM_OK)
		err = rvm_witness_close(&k->witness);
	if (k->w) {
		enum rvm_err je = rvm_journal_sync(&k->w->journal);

		if (err == RVM_OK && je != RVM_OK && je != RVM_E_UNSUPPORTED)
			err = je;
	}
	k->state = RVM_KERNEL_HALTED;
	return err;
}


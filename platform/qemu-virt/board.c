/* platform/qemu-virt/board.c - boot of the QEMU virt board: find the machine, boot the full kernel
 * (seven measured phases) in RAM from the device tree, bring up every CPU, run the kernel's agents
 * and the EL1 guests on all of them, shut down through PSCI. */
#include "board.h"

#include <rvm/bytes.h>
#include <rvm/ed25519.h>
#include <rvm/sha256.h>
#include <rvm/witness.h>
#include <rvm/world.h>

#include "../../arch/aarch64/a64.h"
#include "../../arch/aarch64/mmu.h"
#include "../common/board_phase.h"
#include "../common/frame.h"
#include "bootargs.h"
#include "demo.h"
#include "gic.h"
#include "qemu.h"
#include "swarm.h"
#include "wait.h"

extern char __image_start[], __image_end[], __rodata_end[];
extern struct rvm_a64_cpu rvm_a64_cpus[RVM_A64_MAX_CPUS];

/* Boot arguments (QEMU's -append): "rvm.twin" runs only the deterministic scenario, on one CPU,
 * with this fixed boot nonce (the one tests/qemu/twin.c uses); "rvm.unsigned" skips the signing
 * key; "rvm.test-panic" makes EL2 fault on purpose once booted, to test the panic path. */
#define RVM_TWIN_NONCE "rvm-twin-nonce01"
/* The twin's key seed: fixed (and so public), only so both halves measure the same key. */
#define RVM_TWIN_SEED "rvm-twin-signing-key-seed-000001"
/* The twin scenario's length in slices (tests/qemu/twin.c runs as many). */
#define RVM_TWIN_SLICES 400u
/* A coherence epoch every EPOCH_FUEL units of fuel the agents burn (all CPUs'): counted in work,
 * not in time or slices (a slice that yields early is short), so what an epoch sees does not
 * depend on how loaded the host running QEMU is: some 1400 messages, as a 50 ms epoch of `rvm
 * run` sees a few thousand. The demo runs until it has shown a split, a merge (or with several
 * CPUs a migration), an F1 restart and the trust split, at most RUN_EPOCHS epochs and
 * RUN_MAX_MS of machine time; with the boot argument rvm.run-ms=N it runs N ms, whatever it
 * has shown (for measurements: the same length on any number of CPUs). */
#define EPOCH_FUEL 300000u
#define RUN_EPOCHS 80u
#define RUN_MAX_MS 14000u
/* How long a CPU with nothing to run waits before it asks the kernel again. With several CPUs
 * a slice that used less than 1/SHORT_DIV of its fuel (its agent blocked at once on an empty
 * channel) counts as nothing, so mail from the other CPUs gathers for the next slice instead
 * of one message waking an agent each time (a slice costs two takes of the kernel lock
 * besides the agent's own); on one CPU no mail comes while it waits. */
#define IDLE_US	  200u
#define SHORT_DIV 8u
/* Bytes of framed sink lines waiting for the console (pl011.c). */
#define FRAME_BUFFER 65536u

/*
 * The machine's one board: platform services, the kernel and its world, EL2 page table, page
 * allocator, guests and the run's shared flags. Platform state, not core. Written by the boot
 * CPU before secondaries start, except where a lock or atomic says otherwise.
 */
static struct rvm_qemu board;
static struct rvm_platform plat;
static struct rvm_kernel kernel;
static struct rvm_world *world;
static struct rvm_agent_mem agent_mem[RVM_DEMO_SLOTS];
static struct rvm_demo_mem *demo_mem;
static struct rvm_demo_state demo;
static struct rvm_wlock wlog_lock;
static struct rvm_swarm swarm;
static uint64_t el2_l1[512] __attribute__((aligned(4096)));
static struct {
	struct rvm_lock lock;
	uint64_t next, end;
} pages;
static struct {
	volatile uint32_t go, stop, cpus_done, failed;
	uint64_t start_ns, next_epoch;
	uint32_t fixed_ms;	 /* rvm.run-ms: the run's length, 0 for the demo's own end */
	volatile uint64_t kfuel; /* fuel the agents burnt on every CPU */
	uint64_t trust_epoch;	 /* the epoch after which the trust change was made, 0 before */
	enum rvm_err err;	 /* the first kernel call that failed while running */
	uint64_t slices[RVM_A64_MAX_CPUS];
	uint64_t idle[RVM_A64_MAX_CPUS]; /* idle waits: nothing to run here */
} run;
/* Where the boot's time went, in counter ticks from entry (printed once the log is out). */
static struct {
	uint64_t t0, fdt, zero, key;
} bt;

/* Where QEMU put the device tree: x0 if it points at one, else the start of RAM. */
static const uint8_t *find_dtb(uint64_t x0)
{
	const uint8_t *p = (const uint8_t *)(uintptr_t)x0;

	if (x0 && rvm_load_be32(p) == 0xd00dfeedu)
		return p;
	return (const uint8_t *)RVM_QEMU_RAM_BASE;
}

/* n contiguous bytes (rounded up to pages) of RAM above the image, zeroed if zero, or NULL. */
static void *pages_take(uint64_t n, bool zero)
{
	void *p = NULL;

	n = (n + 4095) & ~4095ul;
	rvm_lock_take(&pages.lock);
	if (n <= pages.end - pages.next) {
		p = (void *)(uintptr_t)pages.next;
		pages.next += n;
	}
	rvm_lock_give(&pages.lock);
	if (p && zero)
		rvm_memset(p, 0, n);
	return p;
}

void *rvm_board_page_alloc(void *ctx)
{
	(void)ctx;
	return pages_take(4096, true);
}

void *rvm_board_take(uint64_t n)
{
	return pages_take(n, true);
}

void rvm_board_kernel_take(void)
{
	rvm_wlock_take(&wlog_lock);
}

void rvm_board_kernel_give(void)
{
	/* Stream what the kernel call witnessed before anyone else emits. */
	(void)rvm_witness_flush(&kernel.witness);
	rvm_wlock_give(&wlog_lock);
	/* The run defers the console: its lines go out here, outside the lock. */
	rvm_board_frames_flush(RVM_FLUSH_TRY);
}

/* The kernel's lock hooks (struct rvm_kernel_lock): the same lock. */
static void kernel_lock(void *ctx)
{
	(void)ctx;
	rvm_board_kernel_take();
}

static void kernel_unlock(void *ctx)
{
	(void)ctx;
	rvm_board_kernel_give();
}

struct rvm_witness_log *rvm_board_wlog(void)
{
	return &kernel.witness;
}

enum rvm_err rvm_board_witness(uint16_t action, uint32_t actor, uint64_t target, uint64_t arg0,
			       uint64_t arg1)
{
	enum rvm_err err;

	rvm_wlock_take(&wlog_lock);
	err = rvm_witness_emit(&kernel.witness, action, 0, actor, target, arg0, arg1, NULL);
	if (err == RVM_OK)
		err = rvm_witness_flush(&kernel.witness);
	rvm_wlock_give(&wlog_lock);
	return err;
}

static uint64_t us_of(uint64_t ticks)
{
	return rvm_qemu_ticks_to_ns(&board, ticks) / 1000;
}

static void describe(const struct rvm_fdt_info *f)
{
	rvm_board_printf("rvm: RVM on qemu-virt, EL%u, %u CPU(s), PSCI %u.%u via %s\n",
			 rvm_a64_current_el(), f->ncpus, rvm_psci_version() >> 16,
			 rvm_psci_version() & 0xffff, f->psci_smc ? "smc" : "hvc");
	for (uint32_t i = 0; i < f->nmem; i++)
		rvm_board_printf("rvm: memory %lx..%lx (%lu MiB) from the device tree\n",
				 (unsigned long)f->mem[i].base,
				 (unsigned long)(f->mem[i].base + f->mem[i].size),
				 (unsigned long)(f->mem[i].size >> 20));
	rvm_board_printf("rvm: image %p..%p, GICv%u distributor %lx, console pl011 %lx, timer %lu "
			 "Hz\n",
			 (void *)__image_start, (void *)__image_end, f->gic_version,
			 (unsigned long)f->gicd_base, (unsigned long)f->uart_base,
			 (unsigned long)board.cntfrq);
}

/* Whether word (e.g. "rvm.twin") is among the boot arguments (QEMU's -append). */
static bool bootarg(const char *word)
{
	return rvm_bootargs_find(board.fdt.bootargs, word) != NULL;
}

/*
 * The decimal value of "word=N" among the boot arguments, min..UINT32_MAX (what, e.g.
 * "milliseconds", says of what), or 0 when absent. A malformed value is ignored, as an unknown
 * argument is, but never silently: the console names it and what it takes.
 */
static uint32_t bootarg_u32(const char *word, uint32_t min, const char *what)
{
	enum rvm_err err;
	uint32_t v = 0;
	char shown[28];

	err = rvm_bootargs_u32(board.fdt.bootargs, word, min, UINT32_MAX, &v);
	if (err == RVM_OK || err == RVM_E_NOTFOUND)
		return v;
	rvm_bootargs_value(board.fdt.bootargs, word, shown, sizeof(shown));
	rvm_board_printf("rvm: boot argument %s%s ignored (%s): it takes a whole number of %s, %u "
			 "to %u\n",
			 word, shown, rvm_err_name(err), what, min, UINT32_MAX);
	return 0;
}

/*
 * RAM from the device tree: the EL2 identity map, the page allocator from the end of the image
 * to the end of its memory node, then the kernel's world and the agents' memory slots taken
 * from it, none of it touched yet. Zeroing ~13 MiB costs 20-60 ms under TCG (each fresh page
 * faults in the host too), so none of it comes before the first witness: the kernel zeroes
 * the world right after genesis (early_genesis), and the board zeroes the agents' linear
 * memories after the boot, before the first agent is spawned into one (agent arenas need no
 * zeroing).
 */
static enum rvm_err boot_memory(void)
{
	uint64_t ram[RVM_FDT_MAX_MEM][2], img = (uintptr_t)__image_end;

	for (uint32_t i = 0; i < board.fdt.nmem; i++)
		ram[i][0] = board.fdt.mem[i].base, ram[i][1] = board.fdt.mem[i].size;
	rvm_a64_mmu_build(el2_l1, (const uint64_t(*)[2])ram, board.fdt.nmem);
	rvm_a64_mmu_enable(el2_l1);
	for (uint32_t i = 0; i < board.fdt.nmem && !pages.end; i++)
		if (img >= board.fdt.mem[i].base &&
		    img < board.fdt.mem[i].base + board.fdt.mem[i].size) {
			pages.next = (img + 4095) & ~4095ul;
			pages.end = (board.fdt.mem[i].base + board.fdt.mem[i].size) & ~4095ul;
		}
	/* The console's buffer for framed sink lines (pl011.c). */
	rvm_board_frames_buffer(pages_take(FRAME_BUFFER, false), FRAME_BUFFER);
	world = pages_take(sizeof(*world), false);
	demo_mem = pages_take(sizeof(*demo_mem), false);
	for (uint32_t i = 0; world && demo_mem && i < RVM_DEMO_SLOTS; i++) {
		agent_mem[i].arena_size = RVM_DEMO_INSTANCE_ARENA;
		agent_mem[i].arena = pages_take(RVM_DEMO_INSTANCE_ARENA, false);
		agent_mem[i].memory_cap = RVM_DEMO_MEMORY_PAGES * RVM_WASM_PAGE;
		agent_mem[i].memory = pages_take(agent_mem[i].memory_cap, false);
		if (!agent_mem[i].arena || !agent_mem[i].memory)
			return RVM_E_NOMEM;
	}
	return world && demo_mem ? RVM_OK : RVM_E_NOMEM;
}

/* The agents' linear memories, zeroed once the first witness is out (before any spawn). */
static void zero_agent_memory(void)
{
	for (uint32_t i = 0; i < RVM_DEMO_SLOTS; i++)
		rvm_memset(agent_mem[i].memory, 0, agent_mem[i].memory_cap);
}

/*
 * A signing key for this boot only: an Ed25519 key pair from the platform's entropy (the twin:
 * from its fixed seed). The secret half stays in the log's config until genesis; the public
 * half goes to the host as a framed "@rvm:k:" line (it is also in the log header), so the host
 * pins it at boot.
 */
static enum rvm_err boot_key(struct rvm_witness_config *wcfg, bool twin)
{
	uint8_t seed[RVM_ED25519_SEED], pk[RVM_ED25519_PUBLIC];
	enum rvm_err err = RVM_OK;

	_Static_assert(sizeof(RVM_TWIN_SEED) == RVM_ED25519_SEED + 1, "twin seed size");
	if (twin)
		rvm_memcpy(seed, RVM_TWIN_SEED, sizeof(seed));
	else
		err = rvm_platform_entropy(&plat, seed, sizeof(seed));

	if (err != RVM_OK)
		return err;
	rvm_ed25519_keypair(pk, wcfg->key, seed);
	rvm_wipe(seed, sizeof(seed));
	wcfg->sig = RVM_SIG_ED25519;
	wcfg->key_pair_fresh = true; /* derived once, here: the kernel takes it as it is */
	rvm_frame_write(rvm_board_write, 'k', pk, sizeof(pk));
	return RVM_OK;
}

static const char *const phase_names[RVM_BOOT_FULL_PHASES + 1] = {
	[RVM_BOOT_PLATFORM] = "platform",     [RVM_BOOT_WITNESS] = "witness",
	[RVM_BOOT_MEMORY] = "memory",	      [RVM_BOOT_CAPS] = "capabilities",
	[RVM_BOOT_PARTITIONS] = "partitions", [RVM_BOOT_COHERENCE] = "coherence",
	[RVM_BOOT_AGENTS] = "agents",
};

/*
 * The hosted kernel's full boot: seven phases, each measured into the attestation and
 * witnessed; genesis streams the first records. CPUs: those the device tree lists (they come
 * online later; a twin boot has one).
 */
static enum rvm_err boot_kernel(bool twin)
{
	struct rvm_kernel_config cfg = {
		.witness = {.chain = RVM_CHAIN_SHA256,
			    .sig = RVM_SIG_NONE,
			    .checkpoint_every = RVM_WITNESS_CHECKPOINT_EVERY},
		.agent_mem = agent_mem,
		.agent_mem_count = RVM_DEMO_SLOTS,
		.ncpus = twin ? 1 : board.fdt.ncpus,
		.lock = {kernel_lock, kernel_unlock, NULL},
		.max_partition_agents = 4,
		.early_genesis = true,
	};
	enum rvm_err err = RVM_OK;

	if (cfg.ncpus > RVM_A64_MAX_CPUS)
		cfg.ncpus = RVM_A64_MAX_CPUS;
	if (cfg.ncpus > RVM_MAX_CPUS)
		cfg.ncpus = RVM_MAX_CPUS;
	if (twin)
		rvm_memcpy(cfg.witness.boot_nonce, RVM_TWIN_NONCE, sizeof(cfg.witness.boot_nonce));
	/* Signed by default; rvm.unsigned skips deriving the key pair (tens of ms under TCG,
	 * all before the first witness) for the fastest first witness. */
	if (!bootarg("rvm.unsigned"))
		err = boot_key(&cfg.witness, twin);
	bt.key = rvm_a64_read(cntpct_el0);
	if (err == RVM_OK)
		err = rvm_kernel_boot_full(&kernel, &plat, world, &cfg);
	rvm_wipe(&cfg.witness, sizeof(cfg.witness));
	if (err != RVM_OK)
		return err;
	zero_agent_memory();
	rvm_board_printf("rvm: first witness record %lu us after entry (%lu us after reset)\n",
			 (unsigned long)us_of(board.first_record_ticks - bt.t0),
			 (unsigned long)us_of(board.first_record_ticks));
	rvm_board_printf("rvm: before it: device tree and platform %lu us, RAM map %lu us, key %lu "
			 "us, platform phase and genesis %lu us\n",
			 (unsigned long)us_of(bt.fdt - bt.t0),
			 (unsigned long)us_of(bt.zero - bt.fdt),
			 (unsigned long)us_of(bt.key - bt.zero),
			 (unsigned long)us_of(board.first_record_ticks - bt.key));
	for (uint32_t p = 1; p <= RVM_BOOT_FULL_PHASES; p++)
		rvm_board_printf("rvm: boot phase %u (%s) measured %016lx\n", p, phase_names[p],
				 (unsigned long)kernel.measure[p]);
	rvm_board_printf(
		"rvm: boot attestation %016lx (%u phases measured, %lu us)\n",
		(unsigned long)rvm_load_le64(kernel.attest), kernel.phases_done,
		(unsigned long)((rvm_platform_now_ns(&plat) - kernel.boot_start_ns) / 1000));
	describe(&board.fdt);
	return RVM_OK;
}

/* The per-CPU part of bring-up, shared by the boot CPU and secondaries. */
static enum rvm_err cpu_up(uint32_t index)
{
	struct rvm_a64_cpu *c = rvm_a64_this_cpu();

	c->index = index;
	c->mpidr = rvm_a64_read(mpidr_el1);
	rvm_a64_mmu_enable(el2_l1);
	return rvm_gic_cpu_init(&board.fdt, c->mpidr);
}

/* Starts every other CPU the device tree lists and waits (bounded) until each runs C code. */
static uint32_t start_secondaries(void)
{
	uint32_t n = board.fdt.ncpus < RVM_A64_MAX_CPUS ? board.fdt.ncpus : RVM_A64_MAX_CPUS;

	for (uint32_t i = 1; i < n; i++) {
		int64_t r =
			rvm_psci_cpu_on(board.fdt.mpidr[i], (uintptr_t)rvm_a64_secondary_entry, i);
		uint64_t deadline = rvm_a64_read(cntpct_el0) + board.cntfrq; /* 1 s */

		if (r != 0) {
			rvm_board_printf("rvm: PSCI CPU_ON for cpu %u failed: %ld\n", i, (long)r);
			continue;
		}
		while (!__atomic_load_n(&rvm_a64_cpus[i].online, __ATOMIC_ACQUIRE) &&
		       rvm_a64_read(cntpct_el0) < deadline)
			;
	}
	return board.cpus_online;
}

/* Notes the first kernel error of the run and stops it. */
static void run_fail(enum rvm_err err, const char *what)
{
	if (__atomic_exchange_n(&run.failed, 1u, __ATOMIC_ACQ_REL) == 0) {
		run.err = err;
		rvm_board_printf("rvm: FATAL: %s: %s\n", what, rvm_err_str(err));
	}
	__atomic_store_n(&run.stop, 1u, __ATOMIC_RELEASE);
}

/*
 * CPU 0's duties between slices, as `rvm run`'s main loop: a coherence epoch every EPOCH_FUEL
 * units of fuel, the trust change at its epoch (a quarantine before any merge leaves the other
 * merges free), and the end of the run once it has shown what it is for.
 */
static void run_tick(void)
{
	const struct rvm_demo *d = &rvm_demo_swarm;
	uint64_t ms = (rvm_platform_now_ns(&plat) - run.start_ns) / 1000000u;
	struct rvm_epoch_report rep;
	enum rvm_err err = RVM_OK;
	bool shown = false;

	if (ms >= (run.fixed_ms ? run.fixed_ms : RUN_MAX_MS)) {
		__atomic_store_n(&run.stop, 1u, __ATOMIC_RELEASE);
		return;
	}
	if (__atomic_load_n(&run.kfuel, __ATOMIC_RELAXED) < run.next_epoch)
		return;
	run.next_epoch += EPOCH_FUEL;
	rvm_kernel_lock(&kernel);
	if (!run.trust_epoch && d->trust_agent < d->nagents && world->epochs >= d->trust_at_epoch) {
		run.trust_epoch = world->epochs + 1;
		err = rvm_kernel_set_trust(&kernel, demo.agent[d->trust_agent],
					   (uint8_t)d->trust_to);
	}
	if (err == RVM_OK)
		err = rvm_kernel_epoch(&kernel, &rep);
	/* With several CPUs partitions migrate; merges may take longer than a test should. */
	shown = world->splits && (world->merges || world->migrations) && world->recoveries &&
		run.trust_epoch && world->epochs > run.trust_epoch;
	rvm_kernel_unlock(&kernel);
	if (err != RVM_OK)
		run_fail(err, "epoch");
	else if (!run.fixed_ms && (shown || world->epochs >= RUN_EPOCHS))
		__atomic_store_n(&run.stop, 1u, __ATOMIC_RELEASE);
}

/*
 * Every CPU: kernel slices (the scheduler picks a partition queued here and an agent in it,
 * as on every vCPU of `rvm run`) interleaved with the slices of the EL1 guests placed here,
 * until the run stops and the guests are done. CPU 0 also runs the epochs.
 */
static void cpu_loop(uint32_t cpu)
{
	bool guests = true;

	for (;;) {
		bool stop = __atomic_load_n(&run.stop, __ATOMIC_ACQUIRE), ran = false;

		if (guests)
			ran = guests = rvm_swarm_slice(&swarm, cpu);
		if (!stop && cpu < world->ncpus) {
			struct rvm_slice s;
			enum rvm_err err =
				rvm_kernel_run_slice(&kernel, cpu, rvm_demo_swarm.fuel, &s);

			if (err != RVM_OK)
				run_fail(err, "slice");
			else if (s.agent != RVM_AGENT_NONE) {
				ran = ran || world->ncpus == 1 ||
				      s.fuel >= rvm_demo_swarm.fuel / SHORT_DIV;
				run.slices[cpu]++;
				__atomic_fetch_add(&run.kfuel, s.fuel, __ATOMIC_RELAXED);
			}
		}
		if (cpu == 0 && !stop)
			run_tick();
		if (stop && !guests)
			break;
		/* Nothing (or next to nothing) here to run: sleep a little (in WFI, so the
		 * host core goes to CPUs with work) rather than ask the kernel again at once. */
		if (!ran && !stop && !wlog_lock.spin_only) {
			run.idle[cpu]++;
			rvm_wait_idle(board.cntfrq / 1000000u * IDLE_US);
		}
	}
	__atomic_fetch_add(&run.cpus_done, 1, __ATOMIC_RELEASE);
	if (cpu != 0)
		rvm_gic_sgi_send(1u); /* CPU 0 waits for the last one */
}

void rvm_qemu_secondary(uint64_t index)
{
	enum rvm_err err = cpu_up((uint32_t)index);

	if (err != RVM_OK) {
		rvm_board_printf("rvm: cpu %lu: %s\n", (unsigned long)index, rvm_err_str(err));
		return;
	}
	__atomic_fetch_add(&board.cpus_online, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&rvm_a64_cpus[index].online, 1, __ATOMIC_RELEASE);
	rvm_board_printf("rvm: cpu %lu online (mpidr %lx)\n", (unsigned long)index,
			 (unsigned long)rvm_a64_cpus[index].mpidr);
	/* Asleep while the boot CPU loads the swarm: a spinning vCPU would slow it down. */
	rvm_wait_until(&run.go, 1);
	cpu_loop((uint32_t)index);
}

static enum rvm_err phase(enum rvm_board_phase p, uint64_t arg0, uint64_t arg1)
{
	return rvm_board_witness(RVM_ACT_BOOT_PHASE, 0, p, arg0, arg1);
}

/* Interrupt controller and this CPU's interface (the boot CPU). */
static enum rvm_err boot_board(void)
{
	enum rvm_err err = rvm_gic_init(&board.fdt);

	return err == RVM_OK ? cpu_up(0) : err;
}

/* Loads the swarm d into the kernel; with phases, each module's load is witnessed as a board
 * phase (not in the twin, whose hosted half has no board). */
static enum rvm_err load_swarm(const struct rvm_demo *d, bool phases)
{
	const char *what = NULL;
	enum rvm_err err = rvm_demo_populate(&kernel, d, demo_mem, &demo, &what);

	for (uint32_t i = 0; err == RVM_OK && phases && i < d->nmodules; i++)
		err = phase(RVM_PH_AGENTS, rvm_load_le64(demo.sha8[i]), *d->modules[i].len);
	if (err != RVM_OK)
		rvm_board_printf("rvm: FATAL: %s: %s %s\n", d->name, what ? what : "",
				 rvm_err_str(err));
	else
		rvm_board_printf("rvm: %s: %u agents of %u modules in %u partitions, %u channels\n",
				 d->name, d->nagents, d->nmodules, d->nparts, d->nedges);
	return err;
}

/* Normal boot: the board's steps witnessed, every CPU up, guests and agents in place. */
static enum rvm_err boot_swarm(uint64_t t0)
{
	uint8_t d[RVM_SHA256_DIGEST];
	enum rvm_err err;

	/* Measure the image: code and constants, as loaded (arg0 = first 8 digest bytes). */
	size_t len = (size_t)((uintptr_t)__rodata_end - (uintptr_t)__image_start);

	rvm_sha256(plat.sha256, __image_start, len, d);
	err = phase(RVM_PH_IMAGE, rvm_load_le64(d), len);
	if (err == RVM_OK)
		err = phase(RVM_PH_PROTECT, (uintptr_t)el2_l1, pages.end - pages.next);
	if (err == RVM_OK)
		err = phase(RVM_PH_IRQ, board.fdt.gic_version, board.fdt.gicd_base);
	if (err != RVM_OK)
		return err;
	rvm_a64_cpus[0].online = 1;
	err = phase(RVM_PH_SMP, start_secondaries(), board.fdt.ncpus);
	if (err == RVM_OK)
		err = rvm_swarm_create(&swarm, &world->parts, board.cpus_online,
				       board.cntfrq / 1000);
	if (err == RVM_OK)
		err = load_swarm(&rvm_demo_swarm, true);
	if (err == RVM_OK)
		err = phase(RVM_PH_PARTITIONS, swarm.nparts + rvm_demo_swarm.nparts,
			    rvm_qemu_ticks_to_ns(&board, rvm_a64_read(cntpct_el0) - t0));
	return err;
}

/* Closes the log with the kernel's shutdown record and checkpoint. */
static void shutdown(void)
{
	enum rvm_err err;

	rvm_kernel_lock(&kernel);
	err = rvm_kernel_shutdown(&kernel);
	rvm_kernel_unlock(&kernel);
	if (err != RVM_OK)
		rvm_board_printf("rvm: FATAL: shutdown: %s\n", rvm_err_str(err));
	rvm_board_printf("rvm: %lu witness records streamed; shutdown via PSCI SYSTEM_OFF\n",
			 (unsigned long)kernel.witness.next_seq);
}

/* What the kernel's agents did (`rvm run`'s summary, in short). */
static void report(const char *what, uint64_t ms)
{
	uint32_t ready = 0, exited = 0, stopped = 0;
	uint64_t traps = 0;

	rvm_kernel_lock(&kernel);
	for (uint32_t i = 0; i < world->nagents; i++) {
		const struct rvm_agent *a = &world->agents[i];

		ready += a->state == RVM_AGENT_READY;
		exited += a->state == RVM_AGENT_EXITED;
		stopped += a->state == RVM_AGENT_STOPPED;
		traps += a->traps;
	}
	rvm_board_printf("rvm: %s: %lu ms, %u agents (%u running, %u exited, %u stopped), %lu "
			 "messages, %lu bytes\n",
			 what, (unsigned long)ms, world->nagents, ready, exited, stopped,
			 (unsigned long)world->messages, (unsigned long)world->bytes);
	if (ms)
		rvm_board_printf("rvm: %s: %lu messages/s on %u CPU(s)\n", what,
				 (unsigned long)(world->messages * 1000u / ms), board.cpus_online);
	rvm_board_printf("rvm: reshaping: %lu epochs, %lu splits, %lu merges, %lu migrations; "
			 "faults: %lu traps, %lu F1 restarts\n",
			 (unsigned long)world->epochs, (unsigned long)world->splits,
			 (unsigned long)world->merges, (unsigned long)world->migrations,
			 (unsigned long)traps, (unsigned long)world->recoveries);
	rvm_kernel_unlock(&kernel);
}

/* Every CPU runs its share of the kernel's agents and of the guests; then the report. */
static void run_swarm(void)
{
	rvm_board_printf("rvm: boot complete: %u CPU(s) online, %u partitions (%u guests, %u of "
			 "agents)\n",
			 board.cpus_online, swarm.nparts + rvm_demo_swarm.nparts, swarm.nparts,
			 rvm_demo_swarm.nparts);
	run.start_ns = rvm_platform_now_ns(&plat);
	run.next_epoch = EPOCH_FUEL;
	/* rvm.spin: waiters and idle CPUs spin as they did before wait.c, to measure against. */
	wlog_lock.spin_only = bootarg("rvm.spin");
	if (run.fixed_ms || wlog_lock.spin_only)
		rvm_board_printf("rvm: run of %u ms, CPUs %s\n", run.fixed_ms,
				 wlog_lock.spin_only ? "spinning" : "sleeping when they wait");
	rvm_board_frames_defer(true);
	__atomic_store_n(&run.go, 1, __ATOMIC_RELEASE);
	rvm_gic_sgi_send(~1u);
	cpu_loop(0);
	rvm_wait_until(&run.cpus_done, board.cpus_online);
	rvm_board_frames_defer(false);
	for (uint32_t i = 0; i < board.cpus_online; i++)
		rvm_board_printf(
			"rvm: cpu %u: %lu agent slices, %u timer preemptions; kernel lock "
			"taken %lu times, %lu ms waiting, %lu sleeps (%lu to the backstop); %lu "
			"idle waits\n",
			i, (unsigned long)run.slices[i], swarm.preemptions[i],
			(unsigned long)wlog_lock.takes[i],
			(unsigned long)us_of(wlog_lock.wait_ticks[i]) / 1000,
			(unsigned long)wlog_lock.sleeps[i], (unsigned long)wlog_lock.backstops[i],
			(unsigned long)run.idle[i]);
	report("kernel agents", (rvm_platform_now_ns(&plat) - run.start_ns) / 1000000u);
	rvm_swarm_destroy(&swarm);
	shutdown();
}

/* The twin scenario: only what the hosted twin does too, on one CPU. */
static enum rvm_err run_twin(void)
{
	uint32_t ran = 0;
	enum rvm_err err;

	rvm_board_printf("rvm: twin scenario (fixed nonce, kernel agents only, one CPU)\n");
	err = load_swarm(&rvm_demo_twin, false);
	if (err == RVM_OK)
		err = rvm_demo_run_cpu0(&kernel, &rvm_demo_twin, RVM_TWIN_SLICES, &ran);
	if (err != RVM_OK)
		return err;
	rvm_board_printf("rvm: twin: %u slices ran an agent\n", ran);
	report("twin agents", 0);
	shutdown();
	return RVM_OK;
}

void rvm_qemu_main(uint64_t dtb)
{
	const uint8_t *blob;
	enum rvm_err err;
	bool twin;

	bt.t0 = rvm_a64_read(cntpct_el0);
	rvm_board_early_console();
	blob = find_dtb(dtb);
	/* The blob lies below the image: it may span at most the gap between them. */
	err = rvm_fdt_parse(blob, (size_t)((uintptr_t)__image_start - (uintptr_t)blob), &board.fdt);
	if (err != RVM_OK) {
		rvm_board_printf("rvm: FATAL: device tree at %p unreadable: %s\n",
				 (const void *)blob, rvm_err_str(err));
		return;
	}
	if (board.fdt.uart_base)
		rvm_board_console_set(board.fdt.uart_base);
	/* The host runner enables semihosting on the console's chardev and says so. */
	if (bootarg("rvm.semihost"))
		rvm_board_console_semihost();
	twin = bootarg("rvm.twin");
	/* Read with the others, so a bad value is reported at boot whatever runs (the twin too). */
	run.fixed_ms = bootarg_u32("rvm.run-ms=", 1, "milliseconds");
	board.cpus_online = 1;
	rvm_qemu_platform(&board, &plat);
	bt.fdt = rvm_a64_read(cntpct_el0);
	err = boot_memory();
	bt.zero = rvm_a64_read(cntpct_el0);
	if (err == RVM_OK)
		err = boot_kernel(twin);
	if (err == RVM_OK)
		err = boot_board();
	if (err == RVM_OK && bootarg("rvm.test-panic")) {
		/* Fault injection for the tests: a load beyond the 4 GiB the EL2 map covers. */
		rvm_board_printf("rvm: test: loading from an unmapped address at EL2\n");
		(void)*(volatile uint64_t *)(uintptr_t)0x100000000ul;
	}
	if (err == RVM_OK && twin) {
		err = run_twin();
	} else if (err == RVM_OK) {
		err = boot_swarm(bt.t0);
		if (err == RVM_OK)
			run_swarm();
	}
	if (err != RVM_OK)
		rvm_board_printf("rvm: FATAL: %s\n", rvm_err_str(err));
}

void rvm_board_irq(void)
{
	uint32_t ack = rvm_gic_ack(), intid = rvm_gic_intid(ack);

	if (intid < 1020)
		rvm_gic_eoi(ack);
	rvm_board_printf("rvm: unexpected IRQ %u on cpu %u\n", intid, rvm_a64_this_cpu()->index);
}

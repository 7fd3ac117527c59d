/* tests/qemu/twin.c - rvm-qemu-twin DIR: the bare-metal image's twin scenario on the hosted
 * platform (the full kernel boot with the same fixed nonce and configuration, the same kernel
 * agents on one CPU for the same number of slices, shutdown), so the two witness logs can be
 * compared record by record. The core it links is built as the image's is
 * (platform/qemu-virt/board_config.cmake: 32 capability tables), so even the boot's
 * measurements match. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rvm/ed25519.h>
#include <rvm/world.h>

#include "demo.h"
#include "hosted.h"

/* Must equal RVM_TWIN_NONCE, RVM_TWIN_SEED and RVM_TWIN_SLICES in platform/qemu-virt/board.c. */
#define TWIN_NONCE  "rvm-twin-nonce01"
#define TWIN_SEED   "rvm-twin-signing-key-seed-000001"
#define TWIN_SLICES 400u

static struct rvm_kernel kernel;
static struct rvm_demo_mem demo_mem;
static struct rvm_demo_state demo;
static struct rvm_agent_mem agent_mem[RVM_DEMO_SLOTS];

/* The twin models the image's boot CPU alone, as the image is when its kernel boots. */
static uint32_t one_cpu(void *ctx)
{
	(void)ctx;
	return 1;
}

/* Agent memory as the image hands it over: the same slots and sizes (phase memory measures
 * them), linear memories zeroed. */
static int agent_memory(void)
{
	for (uint32_t i = 0; i < RVM_DEMO_SLOTS; i++) {
		agent_mem[i].arena_size = RVM_DEMO_INSTANCE_ARENA;
		agent_mem[i].arena = malloc(RVM_DEMO_INSTANCE_ARENA);
		agent_mem[i].memory_cap = RVM_DEMO_MEMORY_PAGES * RVM_WASM_PAGE;
		agent_mem[i].memory = calloc(1, agent_mem[i].memory_cap);
		if (!agent_mem[i].arena || !agent_mem[i].memory)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	/* As the image (platform/qemu-virt/board.c, boot_kernel, twin). */
	struct rvm_kernel_config cfg = {
		.witness = {.chain = RVM_CHAIN_SHA256,
			    .sig = RVM_SIG_ED25519,
			    .checkpoint_every = RVM_WITNESS_CHECKPOINT_EVERY},
		.agent_mem = agent_mem,
		.agent_mem_count = RVM_DEMO_SLOTS,
		.ncpus = 1,
		.max_partition_agents = 4,
		.early_genesis = true,
	};
	uint8_t seed[RVM_ED25519_SEED], pk[RVM_ED25519_PUBLIC];
	struct rvm_world *w = calloc(1, sizeof(*w));
	const char *what = NULL;
	uint32_t ran = 0;
	struct rvm_hosted h;
	struct rvm_platform plat;
	enum rvm_err err;
	uint32_t slices = TWIN_SLICES;

	if (argc == 3) {
		/* Another length: a scenario that must differ (the twin test's negative check). */
		char *end;
		unsigned long v = strtoul(argv[2], &end, 10);

		if (*end || v == 0 || v > 100000) {
			fprintf(stderr, "rvm-qemu-twin: bad slice count %s\n", argv[2]);
			return 2;
		}
		slices = (uint32_t)v;
	}
	if (argc != 2 && argc != 3) {
		fprintf(stderr,
			"usage: rvm-qemu-twin DIR [SLICES]   (writes DIR/witness.log; "
			"SLICES: %u, as the image)\n",
			TWIN_SLICES);
		return 2;
	}
	if (!w || agent_memory() != 0) {
		fprintf(stderr, "rvm-qemu-twin: out of memory\n");
		return 2;
	}
	err = rvm_hosted_open(&h, argv[1], RVM_HOSTED_TRUNCATE, &plat);
	if (err != RVM_OK) {
		fprintf(stderr, "rvm-qemu-twin: %s: %s\n", argv[1], rvm_err_str(err));
		return 2;
	}
	/* The platform phase measures the platform's name and CPU count: the image's. */
	plat.name = "qemu-virt";
	plat.cpu_count = one_cpu;
	/* As the image's twin boot: the Ed25519 key pair from the fixed twin seed. */
	memcpy(seed, TWIN_SEED, sizeof(seed));
	rvm_ed25519_keypair(pk, cfg.witness.key, seed);
	cfg.witness.key_pair_fresh = true;
	memcpy(cfg.witness.boot_nonce, TWIN_NONCE, sizeof(cfg.witness.boot_nonce));
	err = rvm_kernel_boot_full(&kernel, &plat, w, &cfg);
	if (err == RVM_OK)
		err = rvm_demo_populate(&kernel, &rvm_demo_twin, &demo_mem, &demo, &what);
	if (err == RVM_OK)
		err = rvm_demo_run_cpu0(&kernel, &rvm_demo_twin, slices, &ran);
	if (err == RVM_OK)
		err = rvm_kernel_shutdown(&kernel);
	printf("twin: %s%s%s, %u slices ran an agent, %lu messages, %lu F1 restarts, %lu records\n",
	       what ? what : "", what ? ": " : "", rvm_err_str(err), ran,
	       (unsigned long)w->messages, (unsigned long)w->recoveries,
	       (unsigned long)kernel.witness.next_seq);
	rvm_hosted_close(&h);
	return err == RVM_OK ? 0 : 1;
}

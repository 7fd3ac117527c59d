/* tests/qemu/twin.c - rvm-qemu-twin DIR: the bare-metal image's twin scenario on the hosted
 * platform (kernel boot with the same fixed nonce, the same WebAssembly agents, shutdown), so
 * the two witness logs can be compared record by record. */
#include <stdio.h>
#include <string.h>

#include <sys/random.h>

#include <rvm/ed25519.h>
#include <rvm/kernel.h>

#include "hosted.h"
#include "scenario.h"

extern const unsigned char rvm_agent_wasm[];
extern const unsigned long rvm_agent_wasm_len;

/* Must equal RVM_TWIN_NONCE in platform/qemu-virt/board.c. */
#define TWIN_NONCE "rvm-twin-nonce01"

static struct rvm_kernel kernel;
static struct rvm_scenario_mem mem;

/* The twin models the image's boot CPU alone, as the image is when its kernel boots. */
static uint32_t one_cpu(void *ctx)
{
	(void)ctx;
	return 1;
}

static enum rvm_err emit(void *ctx, uint16_t action, uint32_t actor, uint64_t target, uint64_t arg0,
			 uint64_t arg1)
{
	enum rvm_err err;

	(void)ctx;
	err = rvm_witness_emit(&kernel.witness, action, 0, actor, target, arg0, arg1, NULL);
	return err == RVM_OK ? rvm_witness_flush(&kernel.witness) : err;
}

static void print(void *ctx, const char *what, uint32_t agent, uint64_t value)
{
	(void)ctx;
	printf("twin: wasm agent %u %s (%llu)\n", agent, what, (unsigned long long)value);
}

int main(int argc, char **argv)
{
	/* As the image (platform/qemu-virt/board.c, boot_kernel). */
	struct rvm_witness_config wcfg = {.chain = RVM_CHAIN_SHA256,
					  .sig = RVM_SIG_ED25519,
					  .checkpoint_every = RVM_WITNESS_CHECKPOINT_EVERY};
	uint8_t seed[RVM_ED25519_SEED], pk[RVM_ED25519_PUBLIC];
	struct rvm_scenario_result res = {0};
	struct rvm_hosted h;
	struct rvm_platform plat;
	enum rvm_err err;

	if (argc != 2) {
		fprintf(stderr, "usage: rvm-qemu-twin DIR   (writes DIR/witness.log)\n");
		return 2;
	}
	err = rvm_hosted_open(&h, argv[1], RVM_HOSTED_TRUNCATE, &plat);
	if (err != RVM_OK) {
		fprintf(stderr, "rvm-qemu-twin: %s: %s\n", argv[1], rvm_err_str(err));
		return 2;
	}
	plat.cpu_count = one_cpu;
	/* As the image: a fresh Ed25519 key pair for this run only. */
	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed)) {
		fprintf(stderr, "rvm-qemu-twin: no entropy for the key\n");
		rvm_hosted_close(&h);
		return 2;
	}
	rvm_ed25519_keypair(pk, wcfg.key, seed);
	wcfg.key_pair_fresh = true;
	memcpy(wcfg.boot_nonce, TWIN_NONCE, sizeof(wcfg.boot_nonce));
	err = rvm_kernel_boot(&kernel, &plat, &wcfg);
	if (err == RVM_OK)
		err = rvm_scenario_run(&mem, rvm_agent_wasm, rvm_agent_wasm_len, emit, print, NULL,
				       &res);
	if (err == RVM_OK)
		err = rvm_kernel_shutdown(&kernel);
	rvm_hosted_close(&h);
	printf("twin: %s, %u fuel slices, results %llx %llx %llx\n", rvm_err_str(err), res.slices,
	       (unsigned long long)res.result[0], (unsigned long long)res.result[1],
	       (unsigned long long)res.result[2]);
	return err == RVM_OK ? 0 : 1;
}

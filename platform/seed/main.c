/* platform/seed/main.c - the seed demo: witnessed boot, MPU-isolated tasks with F1 restart, shutdown. */
#include <rvm/bytes.h>
#include <rvm/kernel.h>
#include <rvm/sha256.h>

#include "../common/board_phase.h"
#include "ipc.h"
#include "seed.h"
#include "seed_key.h"
#include "task.h"
#include "wasm_task.h"

extern const unsigned char rvm_seed_agent_wasm[];
extern const unsigned long rvm_seed_agent_wasm_len;
extern const uint8_t __data_load[], __data_start[], __data_end[];

int rvm_seed_main(void);

/* Rounds of events: each round the sensor and the intruder get the round number, the filter
 * the sensor's result sent through the gate. */
#define ROUNDS 6u

/* The device key, provisioned into the image at build time (a demo: see docs/seed.md). */
static const uint8_t device_key[32] = RVM_SEED_DEVICE_KEY;

/* The board's state: kernel structs live in .bss, counted by the memory report. */
static struct rvm_kernel kern;
static struct rvm_platform plat;
__attribute__((section(".partitions"))) static struct rvm_seed_part_mem parts[RVM_SEED_TASKS];
static struct rvm_seed_ipc ipc;
static struct rvm_seed_wasm wasm;
/* The WebAssembly task's partition: after the MPU tasks'. */
#define WASM_ID (RVM_SEED_TASKS + 1u)
static struct {
	uint32_t events, restarts, last;
} wasm_task;

struct seed_task {
	const char *name;
	rvm_seed_task_fn fn;
	uint32_t restarts;
	uint32_t events; /* events handled (not counting the one that faulted) */
	uint32_t last;   /* the last result */
};

static struct seed_task tasks[RVM_SEED_TASKS] = {
	{"sensor", rvm_seed_task_counter, 0, 0, 0},
	{"filter", rvm_seed_task_counter, 0, 0, 0},
	{"intruder", rvm_seed_task_intruder, 0, 0, 0},
};

/*
 * The boot nonce must differ between boots, and this board has no random source:
 * it is SHA-256 over the host's clock (semihosting SYS_TIME) and SysTick counts so far.
 * Unique per boot, not secret; the chain's integrity rests on the HMAC key, not on it.
 */
static void boot_nonce(uint8_t nonce[16])
{
	struct rvm_sha256 h;
	uint8_t buf[12], d[RVM_SHA256_DIGEST];

	rvm_store_le32(buf, rvm_seed_host_time());
	rvm_store_le64(buf + 4, rvm_seed_ticks());
	rvm_sha256_init(&h, plat.sha256);
	rvm_sha256_update(&h, "RVM-seed-nonce", 14);
	rvm_sha256_update(&h, buf, sizeof(buf));
	rvm_sha256_final(&h, d);
	rvm_memcpy(nonce, d, 16);
}

static void check(enum rvm_err err, const char *what)
{
	if (err != RVM_OK) {
		rvm_seed_puts("FATAL: ");
		rvm_seed_puts(what);
		rvm_seed_puts(": ");
		rvm_seed_puts(rvm_err_str(err));
		rvm_seed_puts("\n");
		rvm_seed_exit(1);
	}
}

static void emit(uint16_t action, uint32_t actor, uint64_t target, uint64_t arg0, uint64_t arg1)
{
	check(rvm_witness_emit(&kern.witness, action, 0, actor, target, arg0, arg1, NULL),
	      "witness emit");
}

/* F1: the task's partition is wiped and it starts over at its next event; witnessed. */
static void restart(uint32_t id)
{
	struct seed_task *t = &tasks[id - 1];

	rvm_memset(&parts[id - 1], 0, sizeof(parts[id - 1]));
	t->restarts++;
	emit(RVM_ACT_RECOVER_F1, 0, id, t->restarts, 0);
	rvm_seed_putu("partition ", id);
	rvm_seed_putu(" F1 recovery: restart ", t->restarts);
	rvm_seed_puts("\n");
}

/* Delivers one event (a 16-bit payload) to partition id (1-based); a fault is witnessed,
 * then F1. Returns whether the task handled it. */
static bool deliver(uint32_t id, uint32_t payload)
{
	struct seed_task *t = &tasks[id - 1];
	struct rvm_seed_fault f;
	uint32_t r = rvm_seed_task_run(t->fn, &parts[id - 1], t->restarts << 16 | payload, &f);

	if (r != RVM_SEED_TASK_FAULTED) {
		t->events++;
		t->last = r;
		emit(RVM_ACT_IPC_RECV, id, payload, r, 0);
		return true;
	}
	emit(RVM_ACT_FAULT, id, f.mmfar, f.cfsr, f.pc);
	rvm_seed_putu("partition ", id);
	rvm_seed_puts(" (");
	rvm_seed_puts(t->name);
	rvm_seed_putx(") MemManage fault: data access at 0x", f.mmfar);
	rvm_seed_putx(" (CFSR 0x", f.cfsr);
	rvm_seed_putx(", pc 0x", f.pc);
	rvm_seed_puts(") outside its partition\n");
	restart(id);
	return false;
}

/* Delivers one event to the WebAssembly task; a trap is witnessed, then F1 (a fresh instance). */
static void deliver_wasm(uint32_t payload)
{
	uint32_t r = 0;
	enum rvm_err e = rvm_seed_wasm_event(&wasm, wasm_task.restarts << 16 | payload, &r);

	if (e == RVM_OK) {
		wasm_task.events++;
		wasm_task.last = r;
		emit(RVM_ACT_IPC_RECV, WASM_ID, payload, r, 0);
		return;
	}
	if (e != RVM_E_TRAP)
		check(e, "wasm task");
	emit(RVM_ACT_AGENT_TRAP, WASM_ID, wasm.trap, wasm.fuel, wasm_task.restarts);
	rvm_seed_putu("partition ", WASM_ID);
	rvm_seed_puts(" (wasm) trapped: ");
	rvm_seed_puts(rvm_wasm_trap_str(wasm.trap));
	rvm_seed_puts("\n");
	wasm_task.restarts++;
	emit(RVM_ACT_RECOVER_F1, 0, WASM_ID, wasm_task.restarts, wasm.trap);
	check(rvm_seed_wasm_restart(&wasm), "wasm restart");
	rvm_seed_putu("partition ", WASM_ID);
	rvm_seed_putu(" F1 recovery: restart ", wasm_task.restarts);
	rvm_seed_puts("\n");
}

/* Measures the image as it sits in flash (code, constants, the data image). */
static void measure_image(void)
{
	size_t len = (size_t)(__data_load - (const uint8_t *)0) + (size_t)(__data_end - __data_start);
	uint8_t d[RVM_SHA256_DIGEST];

	rvm_sha256(plat.sha256, (const void *)0, len, d);
	emit(RVM_ACT_BOOT_PHASE, 0, RVM_PH_IMAGE, rvm_load_le64(d), len);
}

/* Loads the WebAssembly task's module, measured and witnessed. */
static void load_wasm(void)
{
	uint8_t d[RVM_SHA256_DIGEST];

	rvm_sha256(plat.sha256, rvm_seed_agent_wasm, rvm_seed_agent_wasm_len, d);
	enum rvm_err e = rvm_seed_wasm_load(&wasm, rvm_seed_agent_wasm, rvm_seed_agent_wasm_len,
					    &kern.witness, WASM_ID);

	if (e != RVM_OK) {
		rvm_seed_puts("wasm load: ");
		rvm_seed_puts(wasm.err.msg);
		rvm_seed_puts("\n");
		check(e, "wasm load");
	}
	emit(RVM_ACT_BOOT_PHASE, 0, RVM_PH_AGENTS, rvm_load_le64(d), rvm_seed_agent_wasm_len);
	emit(RVM_ACT_AGENT_SPAWN, 0, WASM_ID, rvm_load_le64(d), rvm_seed_agent_wasm_len);
	rvm_seed_putu("wasm task: module of ", rvm_seed_agent_wasm_len);
	rvm_seed_putu(" bytes, no linear memory; arena ", RVM_SEED_WASM_ARENA);
	rvm_seed_putu(" B: module ", wasm.mod_bytes);
	rvm_seed_putu(" B, instance ", RVM_SEED_WASM_ARENA - wasm.mod_bytes);
	rvm_seed_putu(" B; fuel slice ", RVM_SEED_WASM_FUEL);
	rvm_seed_puts("\n");
}

/* "overflow" on the semihosting command line (QEMU -append) selects the stack-guard test. */
static bool cmdline_has(const char *word)
{
	char cmd[96];
	size_t n = rvm_seed_cmdline(cmd, sizeof(cmd)), w = 0;

	while (word[w])
		w++;
	for (size_t i = 0; i + w <= n; i++)
		if (rvm_memcmp(cmd + i, word, w) == 0)
			return true;
	return false;
}

/* One round: sensor, then its result through the gate to the filter, then the intruder,
 * which after its restart tries to send with a read-only cap. */
static void round_of(uint32_t round, uint32_t *refused, uint64_t *sensor_nonce)
{
	enum rvm_err e;

	if (deliver(1, round)) {
		check(rvm_seed_ipc_send(&ipc, 1, tasks[0].last), "sensor send");
		*sensor_nonce = ipc.last_nonce;
		deliver(2, ipc.mailbox);
	}
	deliver_wasm(round);
	if (deliver(3, round) && tasks[2].restarts > 0) {
		e = rvm_seed_ipc_send(&ipc, 3, tasks[2].last);
		if (e == RVM_OK)
			rvm_seed_panic("the gate let a read-only cap send");
		if (!*refused) {
			rvm_seed_puts("partition 3 (intruder) send refused by the gate: ");
			rvm_seed_puts(rvm_err_name(e));
			rvm_seed_puts(" (P1: its cap lacks WRITE)\n");
		}
		(*refused)++;
	}
}

int rvm_seed_main(void)
{
	struct rvm_witness_config wcfg = {
		.chain = RVM_CHAIN_SHA256,
		.sig = RVM_SIG_HMAC_SHA256,
		.checkpoint_every = 16,
	};
	uint32_t sum = 0, refused = 0, mailbox;
	uint64_t used_nonce = 0;
	enum rvm_err e;

	rvm_seed_systick_start();
	__asm__ volatile("cpsie i" ::: "memory");
	rvm_seed_platform(&plat);
	rvm_seed_puts("RVM seed on lm3s6965evb (Cortex-M3, 64 KB SRAM), profile " RVM_PROFILE_NAME
		      "\n");
	rvm_memcpy(wcfg.key, device_key, sizeof(device_key));
	boot_nonce(wcfg.boot_nonce);
	check(rvm_kernel_boot(&kern, &plat, &wcfg), "kernel boot");
	rvm_seed_putu("boot complete: ", kern.phases_done);
	rvm_seed_putu(" phases witnessed, ", kern.witness.next_seq);
	rvm_seed_puts(" records, HMAC-SHA-256 checkpoints\n");
	measure_image();

	rvm_seed_mpu_init();
	emit(RVM_ACT_BOOT_PHASE, 0, RVM_PH_PROTECT, RVM_SEED_TASKS + 2u, RVM_SEED_PART_BYTES);
	rvm_seed_puts("MPU on: task code read-only, one 1 KiB region per partition, stack guard\n");
	if (cmdline_has("overflow"))
		rvm_seed_overflow();
	for (uint32_t id = 1; id <= RVM_SEED_TASKS; id++) {
		rvm_memset(&parts[id - 1], 0, sizeof(parts[id - 1]));
		emit(RVM_ACT_PARTITION_CREATE, 0, id, (uint32_t)(uintptr_t)&parts[id - 1],
		     RVM_SEED_PART_BYTES);
	}
	emit(RVM_ACT_PARTITION_CREATE, 0, WASM_ID, (uint32_t)(uintptr_t)&wasm, sizeof(wasm));
	emit(RVM_ACT_BOOT_PHASE, 0, RVM_PH_PARTITIONS, WASM_ID, 0);
	load_wasm();
	check(rvm_seed_ipc_init(&ipc, &kern.witness, plat.sha256), "capabilities");
	rvm_seed_puts("capabilities: sensor WRITE, filter READ, intruder READ on the sensor->filter "
		      "edge\n");
	for (uint32_t round = 1; round <= ROUNDS; round++) {
		round_of(round, &refused, &used_nonce);
		check(rvm_witness_flush(&kern.witness), "witness flush");
	}
	/* The sensor's last nonce, presented again: P2 must refuse the replay. */
	mailbox = ipc.mailbox;
	e = rvm_seed_ipc_send_nonce(&ipc, 1, 99, used_nonce);
	if (e == RVM_OK || ipc.mailbox != mailbox)
		rvm_seed_panic("the gate accepted a replayed nonce");
	rvm_seed_puts("replayed nonce refused by the gate: ");
	rvm_seed_puts(rvm_err_name(e));
	rvm_seed_puts("\n");
	rvm_seed_putu("gate: ", ipc.gate.allowed);
	rvm_seed_putu(" operations allowed, ", ipc.gate.denied);
	rvm_seed_puts(" refused\n");
	for (uint32_t id = 1; id <= RVM_SEED_TASKS; id++) {
		struct seed_task *t = &tasks[id - 1];

		rvm_seed_putu("partition ", id);
		rvm_seed_puts(" (");
		rvm_seed_puts(t->name);
		rvm_seed_putu(") handled ", t->events);
		rvm_seed_putu(" events after ", t->restarts);
		rvm_seed_putu(" restart(s), last result ", t->last);
		rvm_seed_puts("\n");
	}
	rvm_seed_putu("partition ", WASM_ID);
	rvm_seed_putu(" (wasm) handled ", wasm_task.events);
	rvm_seed_putu(" events after ", wasm_task.restarts);
	rvm_seed_putu(" restart(s), last result ", wasm_task.last);
	rvm_seed_putu(", fuel ", wasm.fuel);
	rvm_seed_putu(" in ", wasm.slices);
	rvm_seed_putu(" slices, ", wasm.reports);
	rvm_seed_puts(" host calls\n");
	for (uint32_t round = 1; round <= ROUNDS; round++)
		sum += round;
	/* The intruder's write must not have landed in partition 1. */
	if (parts[0].words[0] != sum)
		rvm_seed_panic("partition 1 data was changed by another partition");
	rvm_seed_putu("partition 1 data intact: sum ", parts[0].words[0]);
	rvm_seed_puts("\n");
	check(rvm_kernel_shutdown(&kern), "shutdown");
	rvm_seed_putu("witness: ", kern.witness.next_seq);
	rvm_seed_puts(" records streamed; exit via semihosting\n");
	return 0;
}

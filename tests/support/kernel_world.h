/* tests/support/kernel_world.h - a booted hosted kernel world for unit tests: memory sinks and
 * checkpoint store, example agents, slices run until a condition holds, the log read back. */
#ifndef RVM_TEST_KERNEL_WORLD_H
#define RVM_TEST_KERNEL_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/kernel_recover.h>
#include <rvm/witness_file.h>
#include <rvm/world.h>

#include "memplat.h"

#define RVM_TW_SINK_CAP	  (64u << 20) /* bytes per sink stream; an append past it is RVM_E_IO */
#define RVM_TW_MEM	  8u	      /* agent memory slots */
#define RVM_TW_ARENAS	  16u	      /* modules loaded per boot */
#define RVM_TW_ARENA_SIZE (2u << 20)

/* The rights the example agents need for messages, logs and time. */
#define RVM_TW_ALL_RIGHTS                                                                          \
	(RVM_AGENT_RIGHT_SEND | RVM_AGENT_RIGHT_RECV | RVM_AGENT_RIGHT_LOG | RVM_AGENT_RIGHT_TIME)

/*
 * One kernel world and what a test needs around it. Large (the kernel holds its witness ring):
 * static, or calloc'd; zeroed before its first rvm_tw_boot. Buffers are allocated on first use
 * and kept across boots; rvm_tw_free releases them.
 * Invariants: world is zeroed storage before each boot; recs[0..nrecs) is the log as of the
 * last rvm_tw_read_log; arena[0..narenas) back the modules loaded since the last boot.
 */
struct rvm_tw {
	struct rvm_memplat ms;	  /* sinks of RVM_TW_SINK_CAP, 1 us per clock reading, 4 CPUs */
	struct rvm_platform plat; /* ctx = &ms */
	struct rvm_kernel kern;
	struct rvm_world *world;
	struct rvm_agent_mem mem[RVM_TW_MEM];
	uint8_t key[32]; /* the witness HMAC key ({7, 0, ...} from rvm_tw_fresh) */
	char agents_dir[1024];
	void *arena[RVM_TW_ARENAS];
	uint32_t narenas;
	struct rvm_witness_record *recs;
	size_t nrecs;
	struct rvm_witness_reader *reader;
	/* Recovery (rvm_tw_recovery): its state and buffers. */
	struct rvm_kernel_recovery *rec;
	uint8_t *ckbuf, *rawbuf, *blobbuf;
};

/*
 * Empties the sinks and the store, resets the clock (and cpu_count to 4), gives a fresh zeroed
 * world and zeroed agent memory, forgets loaded modules. The kernel itself is not touched.
 */
void rvm_tw_fresh(struct rvm_tw *tw);
/* A boot configuration: SHA-256 chain, HMAC checkpoints every 256 with tw->key, a fixed boot
 * nonce, the agent memory slots, ncpus virtual CPUs; every other knob zero (its default). */
void rvm_tw_config(struct rvm_tw *tw, struct rvm_kernel_config *c, uint32_t ncpus);
/* rvm_tw_fresh, then a full boot on ncpus CPUs with a merge limit of max_part_agents agents per
 * partition (0: the default), asserted to succeed. */
void rvm_tw_boot(struct rvm_tw *tw, uint32_t ncpus, uint32_t max_part_agents);
/* Releases every buffer (the kernel should be shut down); tw may then be zeroed and reused. */
void rvm_tw_free(struct rvm_tw *tw);

/*
 * Finds the example agents built next to the rvm binary (RVM_BIN is BUILD/tools/rvm/rvm, they
 * are in BUILD/examples/agents) and checks that `probe`.wasm is there. False, after a SKIP line
 * naming what is missing, when it is not: callers then skip().
 */
bool rvm_tw_have_agents(struct rvm_tw *tw, const char *probe);
/* Loads example agent `name` as a module (template rights, trust 100); returns its index. */
uint32_t rvm_tw_load(struct rvm_tw *tw, const char *name, uint8_t rights);
/* A new partition on the least loaded CPU; returns its slot. */
uint32_t rvm_tw_part(struct rvm_tw *tw);
/* Spawns an agent (trust 100) with args; returns its number. */
uint32_t rvm_tw_spawn_args(struct rvm_tw *tw, uint32_t mod, const char *name, uint32_t part,
			   uint8_t rights, const int64_t args[RVM_AGENT_ARGS]);
/* The same with args {a0, a1, 0, 0}. */
uint32_t rvm_tw_spawn(struct rvm_tw *tw, uint32_t mod, const char *name, uint32_t part,
		      uint8_t rights, int64_t a0, int64_t a1);
/* Connects every ordered pair of the n agents a[] (a full mesh of channels). */
void rvm_tw_mesh(struct rvm_tw *tw, const uint32_t *a, uint32_t n);

/* Runs n slices of `fuel`, round robin over the CPUs from CPU 0. */
void rvm_tw_slices(struct rvm_tw *tw, uint32_t n, uint64_t fuel);
/* A condition on the world, checked between slices. */
typedef bool (*rvm_tw_cond)(const struct rvm_tw *tw, const void *arg);
/* Runs slices of `fuel` round robin over the CPUs until done(tw, arg) holds, at most max of
 * them; returns whether it holds. */
bool rvm_tw_run(struct rvm_tw *tw, uint32_t max, uint64_t fuel, rvm_tw_cond done, const void *arg);
/* rvm_tw_run until *counter >= want (a counter of the world's, an agent's, recovery's). */
bool rvm_tw_run_until(struct rvm_tw *tw, const uint64_t *counter, uint64_t want, uint32_t max,
		      uint64_t fuel);
/* Epochs of n slices each (then rvm_kernel_epoch), at most max of them, stopping after the one
 * that makes *stop nonzero (stop NULL: never); returns how many ran. */
uint32_t rvm_tw_epochs(struct rvm_tw *tw, uint32_t max, uint32_t n, uint64_t fuel,
		       const uint64_t *stop);

/* Every channel adds up (sent = received + queued, never over its ring), no refused signal. */
void rvm_tw_check_channels(const struct rvm_tw *tw);
/* Flushes the log (when the kernel runs), verifies the whole witness stream so far with
 * tw->key and collects its records into recs/nrecs. */
void rvm_tw_read_log(struct rvm_tw *tw);
/* The record at seq in recs, NULL past the end. */
const struct rvm_witness_record *rvm_tw_rec(const struct rvm_tw *tw, uint64_t seq);
/* Records of action in recs from seq `from` on. */
size_t rvm_tw_count(const struct rvm_tw *tw, uint16_t action, uint64_t from);
/* A record lookup for rvm_journal_bind_check over recs (ctx is the struct rvm_tw). */
enum rvm_err rvm_tw_lookup_rec(void *ctx, uint64_t seq, struct rvm_witness_record *out);
/*
 * Binds the staged journal entries, flushes journal and log, reads the log back and checks that
 * every journal entry is bound to its record (a single one to its agent.hostcall record, a batch
 * to its agent.hostcall_batch record). Returns the number of entries of kind.
 */
size_t rvm_tw_check_journal(struct rvm_tw *tw, uint16_t kind);

/* Attaches recovery (cfg NULL: the defaults) with buffers of its own; asserted to succeed. */
void rvm_tw_recovery(struct rvm_tw *tw, const struct rvm_kernel_recovery_config *cfg);

#endif

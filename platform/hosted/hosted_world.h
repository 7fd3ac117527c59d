/* platform/hosted/hosted_world.h - a full kernel booted on the hosted platform, as the bench rows
 * and the tests that need real sinks or the real checkpoint store set one up. */
#ifndef RVM_HOSTED_WORLD_H
#define RVM_HOSTED_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/kernel_recover.h>
#include <rvm/world.h>

#include "hosted.h"

#define RVM_HOSTED_WORLD_ARENA	   (256u << 10) /* each agent slot's instance arena */
#define RVM_HOSTED_WORLD_MOD_ARENA (2u << 20)	/* the modules of one boot share it */
#define RVM_HOSTED_WORLD_CKPT_CAP  (8u << 20)	/* recovery's checkpoint and blob buffers */
/* Recovery's raw buffer: a slot's memory (2 pages) and its arena. */
#define RVM_HOSTED_WORLD_RAW_CAP (2u * RVM_WASM_PAGE + RVM_HOSTED_WORLD_ARENA)

/* How a world is set up. Witness: SHA-256 chain, unsigned, no checkpoints (the bench's and the
 * tests' common choice); every byte of the boot nonce is `nonce`. */
struct rvm_hosted_world_config {
	/* NULL: no run directory (ring-only log, counted journal, no checkpoint store). Else a
	 * mkdtemp template ("/tmp/name.XXXXXX"): the sinks and checkpoints/ go there, emptied
	 * first, and rvm_hosted_world_free removes it. */
	const char *run_dir;
	uint32_t nmem;	/* agent memory slots, >= 1 */
	uint32_t pages; /* each slot's linear memory, in wasm pages */
	uint32_t ncpus; /* virtual CPUs */
	uint8_t nonce;
};

/*
 * One booted kernel, its platform and the memory it was handed. Large (the kernel holds its
 * witness ring): made by rvm_hosted_world_new on the heap.
 * Invariants: plat is hosted's; mem[0..cfg.nmem) each have an arena of RVM_HOSTED_WORLD_ARENA
 * and cfg.pages of memory; mod_used <= RVM_HOSTED_WORLD_MOD_ARENA counts the bytes of mod_arena
 * given to modules since the last boot; rec and its buffers are all NULL or all set.
 */
struct rvm_hosted_world {
	struct rvm_kernel k;
	struct rvm_world *w; /* zeroed storage before each boot */
	struct rvm_hosted hosted;
	struct rvm_platform plat;
	struct rvm_hosted_world_config cfg; /* run_dir points at dir */
	struct rvm_agent_mem *mem;
	uint8_t *mod_arena;
	size_t mod_used;
	struct rvm_kernel_recovery *rec; /* rvm_hosted_world_recovery's */
	uint8_t *ckbuf, *raw, *blobs;
	char dir[64]; /* the run directory made from cfg.run_dir (a short template); "" without one
		       */
};

/* The usual pair of example agents: a sensor (args {1, 1}: one message per step) in partition
 * ps feeding a sink in partition pk over one channel, both partitions on CPU 0. */
struct rvm_hosted_world_pair {
	uint32_t s, k;	 /* the agents */
	uint32_t ps, pk; /* their partitions */
};

/*
 * Opens the hosted platform (quiet; with cfg->run_dir, in a new directory made from it), gives
 * the world its agent memory and module arena, and boots it (rvm_hosted_world_boot). *out is
 * the world, or NULL on any failure (everything undone): RVM_E_NOMEM, RVM_E_IO (no directory),
 * or the boot's error.
 */
enum rvm_err rvm_hosted_world_new(const struct rvm_hosted_world_config *cfg,
				  struct rvm_hosted_world **out);
/* Boots hw again on fresh zeroed world storage and zeroed agent memory, its module arena
 * empty. The previous kernel is dropped, not shut down (no sinks: nothing to close). */
enum rvm_err rvm_hosted_world_boot(struct rvm_hosted_world *hw);
/* Attaches recovery (cfg NULL: its defaults) with buffers of RVM_HOSTED_WORLD_CKPT_CAP /
 * RVM_HOSTED_WORLD_RAW_CAP; RVM_E_NOMEM or attach's error. */
enum rvm_err rvm_hosted_world_recovery(struct rvm_hosted_world *hw,
				       const struct rvm_kernel_recovery_config *cfg);
/*
 * Reads dir/name.wasm (dir NULL: the example agents of this build, rvm_hosted_world_agents_dir)
 * and loads it as module `name` (no template rights, trust 100) into the next arena_size bytes
 * of the module arena; *index gets its number. RVM_E_NOTFOUND when the file cannot be read,
 * RVM_E_NOMEM when the arena has no arena_size bytes left, else the load's error.
 */
enum rvm_err rvm_hosted_world_load(struct rvm_hosted_world *hw, const char *dir, const char *name,
				   size_t arena_size, uint32_t *index);
/* Loads sensor and sink (half the module arena each) and sets up the pair in *out. */
enum rvm_err rvm_hosted_world_pair(struct rvm_hosted_world *hw, struct rvm_hosted_world_pair *out);
/* Shuts the kernel down when it runs, closes the platform (draining its store), removes the run
 * directory and frees everything. hw NULL: nothing. */
void rvm_hosted_world_free(struct rvm_hosted_world *hw);

/*
 * The pieces, for a caller that keeps its kernel, world and agent memory in a struct of its own.
 * rvm_hosted_world_boot_into: frees *w and gives it fresh zeroed storage, gives mem[0..nmem)
 * their arenas and memory on first use and zeroes the memory, and boots k on plat with cfg
 * (cfg->run_dir is not looked at). rvm_hosted_world_mem_free releases what it gave mem.
 */
enum rvm_err rvm_hosted_world_boot_into(const struct rvm_hosted_world_config *cfg,
					struct rvm_kernel *k, struct rvm_platform *plat,
					struct rvm_world **w, struct rvm_agent_mem *mem);
void rvm_hosted_world_mem_free(struct rvm_agent_mem *mem, uint32_t nmem);
/* The example agents of this build: BUILD/examples/agents, next to the running program's folder
 * (BUILD/bench, BUILD/tests). False when the program's path cannot be read or does not fit. */
bool rvm_hosted_world_agents_dir(char *out, size_t cap);
/* Removes the directory dir and all in it; "" (none): nothing. A failure is reported on stderr. */
void rvm_hosted_world_remove_dir(const char *dir);
/* dir/name.wasm in a malloc'd buffer (dir NULL: the example agents); NULL when unreadable. */
uint8_t *rvm_hosted_world_read_agent(const char *dir, const char *name, size_t *len);

#endif

/* platform/hosted/hosted_world.c - a full kernel booted on the hosted platform, as the bench rows
 * and the tests that need real sinks or the real checkpoint store set one up. */
#include "hosted_world.h"

#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the pieces ---- */

bool rvm_hosted_world_agents_dir(char *out, size_t cap)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	int len;

	if (n <= 0)
		return false;
	exe[n] = 0;
	len = snprintf(out, cap, "%s/../examples/agents", dirname(exe));
	return len > 0 && (size_t)len < cap;
}

uint8_t *rvm_hosted_world_read_agent(const char *dir, const char *name, size_t *len)
{
	char agents[PATH_MAX], path[PATH_MAX + 64];
	uint8_t *buf = NULL;
	FILE *f;
	long sz;

	*len = 0;
	if (!dir) {
		if (!rvm_hosted_world_agents_dir(agents, sizeof(agents)))
			return NULL;
		dir = agents;
	}
	snprintf(path, sizeof(path), "%s/%s.wasm", dir, name);
	if (!(f = fopen(path, "rb")))
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)sz)) && fread(buf, 1, (size_t)sz, f) == (size_t)sz)
		*len = (size_t)sz;
	else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

void rvm_hosted_world_mem_free(struct rvm_agent_mem *mem, uint32_t nmem)
{
	for (uint32_t i = 0; i < nmem; i++) {
		free(mem[i].arena);
		free(mem[i].memory);
		mem[i].arena = mem[i].memory = NULL;
	}
}

/* Gives each slot its arena and memory on first use; the kernel is handed zeroed memory. */
static enum rvm_err mem_ready(struct rvm_agent_mem *mem, uint32_t nmem, uint32_t pages)
{
	for (uint32_t i = 0; i < nmem; i++) {
		struct rvm_agent_mem *m = &mem[i];

		if (!m->arena) {
			m->arena = malloc(RVM_HOSTED_WORLD_ARENA);
			m->arena_size = RVM_HOSTED_WORLD_ARENA;
			m->memory_cap = (uint64_t)pages * RVM_WASM_PAGE;
			m->memory = malloc(m->memory_cap);
			if (!m->arena || !m->memory)
				return RVM_E_NOMEM;
		}
		memset(m->memory, 0, m->memory_cap);
	}
	return RVM_OK;
}

enum rvm_err rvm_hosted_world_boot_into(const struct rvm_hosted_world_config *cfg,
					struct rvm_kernel *k, struct rvm_platform *plat,
					struct rvm_world **w, struct rvm_agent_mem *mem)
{
	struct rvm_kernel_config c = {0};
	enum rvm_err e;

	free(*w);
	if (!(*w = calloc(1, sizeof(**w))))
		return RVM_E_NOMEM;
	if ((e = mem_ready(mem, cfg->nmem, cfg->pages)) != RVM_OK)
		return e;
	c.witness.chain = RVM_CHAIN_SHA256;
	c.witness.sig = RVM_SIG_NONE;
	memset(c.witness.boot_nonce, cfg->nonce, sizeof(c.witness.boot_nonce));
	c.agent_mem = mem;
	c.agent_mem_count = cfg->nmem;
	c.ncpus = cfg->ncpus;
	return rvm_kernel_boot_full(k, plat, *w, &c);
}

/* ---- the whole world ---- */

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void rvm_hosted_world_remove_dir(const char *dir)
{
	if (dir[0] && nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "hosted world: cannot remove %s\n", dir);
}

enum rvm_err rvm_hosted_world_boot(struct rvm_hosted_world *hw)
{
	hw->mod_used = 0;
	return rvm_hosted_world_boot_into(&hw->cfg, &hw->k, &hw->plat, &hw->w, hw->mem);
}

enum rvm_err rvm_hosted_world_new(const struct rvm_hosted_world_config *cfg,
				  struct rvm_hosted_world **out)
{
	struct rvm_hosted_world *hw = calloc(1, sizeof(*hw));
	enum rvm_err e;

	*out = NULL;
	if (!hw)
		return RVM_E_NOMEM;
	hw->cfg = *cfg;
	hw->cfg.run_dir = NULL;
	if (cfg->run_dir) {
		int n = snprintf(hw->dir, sizeof(hw->dir), "%s", cfg->run_dir);

		if (n <= 0 || (size_t)n >= sizeof(hw->dir) || !mkdtemp(hw->dir)) {
			free(hw);
			return RVM_E_IO;
		}
		hw->cfg.run_dir = hw->dir;
	}
	e = rvm_hosted_open(&hw->hosted, hw->cfg.run_dir, RVM_HOSTED_QUIET | RVM_HOSTED_TRUNCATE,
			    &hw->plat);
	if (e != RVM_OK) {
		rvm_hosted_world_remove_dir(hw->dir);
		free(hw);
		return e;
	}
	hw->mem = calloc(cfg->nmem ? cfg->nmem : 1, sizeof(*hw->mem));
	hw->mod_arena = malloc(RVM_HOSTED_WORLD_MOD_ARENA);
	e = hw->mem && hw->mod_arena ? rvm_hosted_world_boot(hw) : RVM_E_NOMEM;
	if (e != RVM_OK) {
		rvm_hosted_world_free(hw);
		return e;
	}
	*out = hw;
	return RVM_OK;
}

enum rvm_err rvm_hosted_world_recovery(struct rvm_hosted_world *hw,
				       const struct rvm_kernel_recovery_config *cfg)
{
	if (!hw->rec) {
		hw->rec = calloc(1, sizeof(*hw->rec));
		hw->ckbuf = malloc(RVM_HOSTED_WORLD_CKPT_CAP);
		hw->raw = malloc(RVM_HOSTED_WORLD_RAW_CAP);
		hw->blobs = malloc(RVM_HOSTED_WORLD_CKPT_CAP);
		if (!hw->rec || !hw->ckbuf || !hw->raw || !hw->blobs)
			return RVM_E_NOMEM; /* freed with hw */
	}
	return rvm_kernel_recovery_attach(
		&hw->k, hw->rec, cfg, hw->ckbuf, RVM_HOSTED_WORLD_CKPT_CAP, hw->raw,
		RVM_HOSTED_WORLD_RAW_CAP, hw->blobs, RVM_HOSTED_WORLD_CKPT_CAP);
}

enum rvm_err rvm_hosted_world_load(struct rvm_hosted_world *hw, const char *dir, const char *name,
				   size_t arena_size, uint32_t *index)
{
	size_t len;
	uint8_t *bytes;
	enum rvm_err e;

	if (arena_size > RVM_HOSTED_WORLD_MOD_ARENA - hw->mod_used)
		return RVM_E_NOMEM;
	if (!(bytes = rvm_hosted_world_read_agent(dir, name, &len)))
		return RVM_E_NOTFOUND;
	e = rvm_kernel_module_load(&hw->k, name, bytes, len, hw->mod_arena + hw->mod_used,
				   arena_size, 0, 100, index, NULL);
	free(bytes);
	if (e == RVM_OK)
		hw->mod_used += arena_size;
	return e;
}

enum rvm_err rvm_hosted_world_pair(struct rvm_hosted_world *hw, struct rvm_hosted_world_pair *out)
{
	const int64_t args[RVM_AGENT_ARGS] = {1, 1};
	uint32_t ms, mk;
	enum rvm_err e;

	if ((e = rvm_hosted_world_load(hw, NULL, "sensor", RVM_HOSTED_WORLD_MOD_ARENA / 2, &ms)) ||
	    (e = rvm_hosted_world_load(hw, NULL, "sink", RVM_HOSTED_WORLD_MOD_ARENA / 2, &mk)) ||
	    (e = rvm_kernel_partition_new(&hw->k, 0, &out->ps)) ||
	    (e = rvm_kernel_partition_new(&hw->k, 0, &out->pk)) ||
	    (e = rvm_kernel_agent_spawn(&hw->k, ms, "s", out->ps, RVM_AGENT_RIGHT_SEND, 100, args,
					&out->s)) ||
	    (e = rvm_kernel_agent_spawn(&hw->k, mk, "k", out->pk,
					RVM_AGENT_RIGHT_RECV | RVM_AGENT_RIGHT_LOG, 100, NULL,
					&out->k)))
		return e;
	return rvm_kernel_connect(&hw->k, out->s, out->k, NULL);
}

void rvm_hosted_world_free(struct rvm_hosted_world *hw)
{
	if (!hw)
		return;
	if (hw->k.state == RVM_KERNEL_RUNNING)
		(void)rvm_kernel_shutdown(&hw->k);
	rvm_hosted_close(&hw->hosted);
	rvm_hosted_world_remove_dir(hw->dir);
	if (hw->mem)
		rvm_hosted_world_mem_free(hw->mem, hw->cfg.nmem);
	free(hw->mem);
	free(hw->w);
	free(hw->mod_arena);
	free(hw->rec);
	free(hw->ckbuf);
	free(hw->raw);
	free(hw->blobs);
	free(hw);
}

/* kernel/kernel_boot.c - the full boot: seven phases, each measured into the attestation and witnessed. */
#include <rvm/bytes.h>
#include <rvm/sha256.h>
#include <rvm/world.h>

#include "kernel_priv.h"

/* Order of the full boot's phases. */
static const uint8_t full_order[RVM_BOOT_FULL_PHASES] = {
	RVM_BOOT_PLATFORM, RVM_BOOT_MEMORY,	RVM_BOOT_CAPS,	 RVM_BOOT_WITNESS,
	RVM_BOOT_PARTITIONS, RVM_BOOT_COHERENCE, RVM_BOOT_AGENTS,
};

/* The order with early genesis (cfg->early_genesis): nothing but the platform before it. */
static const uint8_t early_order[RVM_BOOT_FULL_PHASES] = {
	RVM_BOOT_PLATFORM, RVM_BOOT_WITNESS,	RVM_BOOT_MEMORY, RVM_BOOT_CAPS,
	RVM_BOOT_PARTITIONS, RVM_BOOT_COHERENCE, RVM_BOOT_AGENTS,
};

/* What a phase set up, hashed; its value goes into the record's arg0. */
struct measured {
	struct rvm_sha256 h;
	uint64_t value;
};

static void m_u64(struct measured *m, uint64_t v)
{
	uint8_t b[8];

	rvm_store_le64(b, v);
	rvm_sha256_update(&m->h, b, 8);
}

/* Folds phase p's measurement into the attestation digest. */
static void fold(struct rvm_kernel *k, uint32_t p, struct measured *m)
{
	uint8_t d[32], b[4];
	struct rvm_sha256 h;

	rvm_sha256_final(&m->h, d);
	k->measure[p] = rvm_load_le64(d);
	rvm_sha256_init(&h, k->plat->sha256);
	rvm_sha256_update(&h, k->attest, 32);
	rvm_store_le32(b, p);
	rvm_sha256_update(&h, b, 4);
	rvm_sha256_update(&h, d, 32);
	rvm_sha256_final(&h, k->attest);
}

static enum rvm_err ph_platform(struct rvm_kernel *k, const struct rvm_kernel_config *c,
				struct measured *m)
{
	const struct rvm_platform *p = k->plat;
	uint32_t n = p->cpu_count ? p->cpu_count(p->ctx) : 1;

	if (!p->now_ns || !p->entropy)
		return RVM_E_INVAL;
	k->w->ncpus = c->ncpus ? c->ncpus : (n < RVM_MAX_CPUS ? n : RVM_MAX_CPUS);
	if (k->w->ncpus == 0 || k->w->ncpus > RVM_MAX_CPUS)
		return RVM_E_RANGE;
	if (p->name)
		rvm_sha256_update(&m->h, p->name, rvm_strlen(p->name));
	m_u64(m, n);
	m_u64(m, k->w->ncpus);
	m->value = n;
	return RVM_OK;
}

static enum rvm_err ph_memory(struct rvm_kernel *k, const struct rvm_kernel_config *c,
			      struct measured *m)
{
	struct rvm_world *w = k->w;

	if (c->agent_mem_count > RVM_AGENT_MAX || (c->agent_mem_count && !c->agent_mem))
		return RVM_E_RANGE;
	for (uint32_t i = 0; i < c->agent_mem_count; i++) {
		const struct rvm_agent_mem *a = &c->agent_mem[i];

		if (!a->arena || a->arena_size < 4096 || (a->memory_cap && !a->memory) ||
		    a->memory_cap % RVM_WASM_PAGE)
			return RVM_E_INVAL;
		w->mem[i] = *a;
		m_u64(m, a->arena_size);
		m_u64(m, a->memory_cap);
	}
	w->nmem = c->agent_mem_count;
	m_u64(m, w->nmem);
	m->value = w->nmem;
	return RVM_OK;
}

static enum rvm_err ph_caps(struct rvm_kernel *k, const struct rvm_kernel_config *c,
			    struct measured *m)
{
	struct rvm_world *w = k->w;

	(void)c;
	rvm_obj_init(&w->objs);
	rvm_cap_space_init(&w->caps, &w->objs, k->plat->sha256);
	/* The gate keeps a pointer to the log; records flow once genesis is done. */
	rvm_gate_init(&w->gate, &w->caps, &k->witness, NULL);
	m_u64(m, RVM_CAP_TABLES);
	m_u64(m, RVM_CAP_TABLE_SLOTS);
	m_u64(m, RVM_OBJ_SLOTS);
	m_u64(m, w->caps.epoch);
	m->value = RVM_CAP_TABLES;
	return RVM_OK;
}

static enum rvm_err ph_witness(struct rvm_kernel *k, const struct rvm_kernel_config *c,
			       struct measured *m)
{
	enum rvm_err err = rvm_witness_init(&k->witness, k->plat, &c->witness);

	if (err != RVM_OK)
		return err;
	rvm_sha256_update(&m->h, k->witness.genesis, 32);
	rvm_sha256_update(&m->h, k->witness.public_key, 32);
	m->value = (uint64_t)c->witness.chain | (uint64_t)c->witness.sig << 8;
	return RVM_OK;
}

static enum rvm_err ph_partitions(struct rvm_kernel *k, const struct rvm_kernel_config *c,
				  struct measured *m)
{
	struct rvm_world *w = k->w;
	struct rvm_sched_config sc;

	(void)c;
	rvm_part_pool_init(&w->parts, &w->gate);
	/* Cross-partition traffic feeds the partition graph (merge checks, placement). */
	rvm_ipc_init(&w->ipc, &w->parts, &w->pcoh);
	rvm_sched_config_default(&sc);
	rvm_sched_init(&w->sched, &w->parts, &sc);
	m_u64(m, RVM_MAX_PARTITIONS);
	m_u64(m, RVM_IPC_MAX_EDGES);
	m_u64(m, sc.horizon_ns);
	m_u64(m, sc.boost);
	m_u64(m, w->ncpus);
	m->value = w->ncpus;
	return RVM_OK;
}

static enum rvm_err ph_coherence(struct rvm_kernel *k, const struct rvm_kernel_config *c,
				 struct measured *m)
{
	struct rvm_world *w = k->w;
	struct rvm_coh_config cc = c->coh;
	enum rvm_err err;

	if (cc.decay == 0) {
		rvm_coh_config_default(&cc);
		/* Partitions start small, so a pair inside a team of k has a mutual
		 * coherence near 1/(k-1): 0.2 lets teams of up to 6 come together. */
		cc.merge_mutual = 2000;
	}
	w->max_group = c->max_partition_agents ? c->max_partition_agents : 8;
	cc.max_group_size = w->max_group;
	w->trust_floor = c->trust_floor ? c->trust_floor : 50;
	err = rvm_coh_init(&w->coh, &cc, RVM_AGENT_MAX);
	if (err == RVM_OK)
		err = rvm_coh_init(&w->pcoh, &cc, RVM_COH_MAX_NODES);
	if (err == RVM_E_UNSUPPORTED)
		err = RVM_OK; /* a profile without the engine: static placement (DC-1) */
	if (err != RVM_OK)
		return err;
	rvm_sha256_update(&m->h, &cc, sizeof(cc));
	m->value = RVM_HAS_COHERENCE && cc.enabled;
	return RVM_OK;
}

static enum rvm_err ph_agents(struct rvm_kernel *k, const struct rvm_kernel_config *c,
			      struct measured *m)
{
	struct rvm_world *w = k->w;
	enum rvm_err err = rvm_journal_init(&w->journal, k->plat);

	(void)c;
	if (err != RVM_OK)
		return err;
	for (uint32_t i = 0; i < RVM_AGENT_MAX; i++) {
		w->agents[i].w = w;
		w->agents[i].num = i;
	}
	/* The host ABI agents link against is part of what booted. */
	for (uint32_t i = 0; i < RVM_AGENT_IMPORTS; i++) {
		const struct rvm_wasm_functype *t = rvm_agent_imports[i].type;

		rvm_sha256_update(&m->h, rvm_agent_imports[i].name,
				  rvm_strlen(rvm_agent_imports[i].name));
		rvm_sha256_update(&m->h, t->params, t->nparams);
		rvm_sha256_update(&m->h, t->results, t->nresults);
	}
	m_u64(m, RVM_AGENT_MAX);
	m->value = RVM_AGENT_MAX;
	return RVM_OK;
}

/*
 * Early genesis: the first records leave now, then the world's storage is zeroed (the caller
 * left it as it was, so untouched RAM cost nothing before the first witness), keeping what the
 * platform phase set.
 */
static enum rvm_err early_world(struct rvm_kernel *k, struct rvm_world *w,
				const struct rvm_kernel_config *c)
{
	enum rvm_err err = k->witness.has_sink ? rvm_witness_flush(&k->witness) : RVM_OK;
	uint32_t ncpus = w->ncpus;

	rvm_memset(w, 0, sizeof(*w));
	w->k = k;
	w->lock = c->lock;
	w->ncpus = ncpus;
	return err;
}

typedef enum rvm_err phase_fn(struct rvm_kernel *k, const struct rvm_kernel_config *c,
			      struct measured *m);

static phase_fn *const phase_fns[RVM_BOOT_FULL_PHASES + 1] = {
	[RVM_BOOT_PLATFORM] = ph_platform,     [RVM_BOOT_MEMORY] = ph_memory,
	[RVM_BOOT_CAPS] = ph_caps,	       [RVM_BOOT_WITNESS] = ph_witness,
	[RVM_BOOT_PARTITIONS] = ph_partitions, [RVM_BOOT_COHERENCE] = ph_coherence,
	[RVM_BOOT_AGENTS] = ph_agents,
};

/* Runs phase p: measured, injected failure honoured. */
static enum rvm_err run_phase(struct rvm_kernel *k, const struct rvm_kernel_config *c,
			      uint32_t p, struct measured *m)
{
	enum rvm_err err;

	rvm_sha256_init(&m->h, k->plat->sha256);
	m->value = 0;
	if (c->fail_phase == p)
		return RVM_E_BOOT;
	err = phase_fns[p](k, c, m);
	if (err == RVM_OK)
		fold(k, p, m);
	return err;
}

/* Witnesses a failed phase (if the log exists), makes it durable, returns err. */
static enum rvm_err boot_failed(struct rvm_kernel *k, uint32_t p, enum rvm_err err, bool log)
{
	if (log) {
		(void)rvm_witness_emit(&k->witness, RVM_ACT_BOOT_PHASE, RVM_WF_DENIED, 0, p, 0,
				       err, NULL);
		if (k->witness.has_sink)
			(void)rvm_witness_sync(&k->witness);
	}
	k->state = RVM_KERNEL_OFF;
	return err;
}

enum rvm_err rvm_kernel_boot_full(struct rvm_kernel *k, const struct rvm_platform *plat,
				  struct rvm_world *w, const struct rvm_kernel_config *cfg)
{
	struct measured m[RVM_BOOT_FULL_PHASES + 1];
	const uint8_t *order;
	bool log = false;
	enum rvm_err err;
	uint32_t i;

	if (!k || !plat || !w || !cfg)
		return RVM_E_INVAL;
	rvm_memset(k, 0, sizeof(*k));
	k->plat = plat;
	k->w = w;
	w->k = k;
	w->lock = cfg->lock;
	k->boot_start_ns = rvm_platform_now_ns(plat);
	rvm_sha256(plat->sha256, "RVM-BOOT-v1", 11, k->attest);
	order = cfg->early_genesis ? early_order : full_order;
	for (i = 0; i < RVM_BOOT_FULL_PHASES; i++) {
		uint32_t p = order[i];

		err = run_phase(k, cfg, p, &m[p]);
		if (err != RVM_OK) {
			/* Before genesis there is no log to witness the failure in; try to
			 * start one so the phases that did run and the failure are on record
			 * (not possible when the platform itself failed). */
			if (!log && p != RVM_BOOT_PLATFORM && p != RVM_BOOT_WITNESS &&
			    rvm_witness_init(&k->witness, plat, &cfg->witness) == RVM_OK) {
				log = true;
				for (uint32_t j = 0; j < i; j++)
					if (rvm_kernel_phase(k, order[j], m[order[j]].value,
						  k->measure[order[j]]) != RVM_OK)
						break;
			}
			return boot_failed(k, p, err == RVM_OK ? RVM_E_BOOT : err, log);
		}
		if (p == RVM_BOOT_WITNESS) {
			/* Genesis: the phases so far go on record now, in their order. */
			log = true;
			for (uint32_t j = 0; j <= i && err == RVM_OK; j++)
				err = rvm_kernel_phase(k, order[j], m[order[j]].value,
					    k->measure[order[j]]);
			if (err == RVM_OK && cfg->early_genesis)
				err = early_world(k, w, cfg);
		} else if (log) {
			err = rvm_kernel_phase(k, p, m[p].value, k->measure[p]);
		}
		if (err != RVM_OK)
			return boot_failed(k, p, err, false);
	}
	return rvm_kernel_boot_done(k, rvm_load_le64(k->attest));
}

void rvm_kernel_lock(struct rvm_kernel *k)
{
	if (k->w && k->w->lock.lock)
		k->w->lock.lock(k->w->lock.ctx);
}

void rvm_kernel_unlock(struct rvm_kernel *k)
{
	if (k->w && k->w->lock.unlock)
		k->w->lock.unlock(k->w->lock.ctx);
}

void rvm_kernel_note(struct rvm_world *w, uint16_t action, uint32_t a, uint32_t b, uint32_t n)
{
	struct rvm_reshape_event *e = &w->recent[w->nrecent % RVM_RECENT_EVENTS];

	e->time_ns = rvm_platform_now_ns(w->k->plat) - w->k->boot_start_ns;
	e->action = action;
	e->a = a;
	e->b = b;
	e->n = n;
	w->nrecent++;
}

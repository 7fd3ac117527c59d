/* tools/rvm/run_swarm.c - `rvm run MANIFEST`: boot the full kernel, load the swarm, run it on N vCPUs. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rvm/bytes.h>
#include <rvm/kernel_recover.h>

#include "hosted.h"
#include "hosted_cpu.h"
#include "run.h"

#define MODULE_ARENA (2u << 20)
#define INSTANCE_ARENA (256u << 10)
#define VIEW_NS 250000000ull
#define IDLE_NS 100000l

/* Recovery buffers: the blobs of one partition's agents (compressed snapshots) and one
 * checkpoint (blobs plus caps and edges). */
#define CKPT_BLOBS (8u << 20)
#define CKPT_EXTRA (2u << 20)

/* The swarm's checkpoints and DC-14 recovery (kernel_recover.h), with the embedder's buffers. */
struct swarm_recovery {
	struct rvm_kernel_recovery r;
	uint8_t *ckbuf, *raw, *blobs;
};

static void recovery_free(struct swarm_recovery *sr)
{
	if (!sr)
		return;
	free(sr->ckbuf);
	free(sr->raw);
	free(sr->blobs);
	free(sr);
}

/* Attaches recovery to the booted kernel; NULL (and a message) if it cannot. */
static struct swarm_recovery *recovery_attach(struct rvm_kernel *k, uint32_t memory_pages)
{
	struct swarm_recovery *sr = calloc(1, sizeof(*sr));
	size_t rawcap = (size_t)memory_pages * RVM_WASM_PAGE + INSTANCE_ARENA;
	enum rvm_err err = RVM_E_NOMEM;

	if (sr && (sr->ckbuf = malloc(CKPT_BLOBS + CKPT_EXTRA)) && (sr->raw = malloc(rawcap)) &&
	    (sr->blobs = malloc(CKPT_BLOBS)))
		err = rvm_kernel_recovery_attach(k, &sr->r, NULL, sr->ckbuf, CKPT_BLOBS + CKPT_EXTRA,
						 sr->raw, rawcap, sr->blobs, CKPT_BLOBS);
	if (err != RVM_OK) {
		fprintf(stderr, "rvm run: %s: recovery: %s\n", rvm_err_name(err), rvm_err_str(err));
		recovery_free(sr);
		return NULL;
	}
	return sr;
}

struct swarm {
	struct rvm_kernel *k;
	struct rvm_hosted_cpus cpus;
	atomic_bool stop;
	uint64_t fuel;
	atomic_uint_fast64_t idle[RVM_MAX_CPUS];
};

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
			       .tv_nsec = (long)(ns % 1000000000u) };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !interrupted)
		;
}

/* One virtual CPU: slices until told to stop; sleeps a little when nothing is runnable. */
static void cpu_loop(void *ctx, uint32_t cpu)
{
	struct swarm *sw = ctx;

	while (!atomic_load(&sw->stop)) {
		struct rvm_slice s;

		if (rvm_kernel_run_slice(sw->k, cpu, sw->fuel, &s) != RVM_OK)
			break;
		if (s.agent == RVM_AGENT_NONE) {
			atomic_fetch_add(&sw->idle[cpu], 1);
			sleep_ns(IDLE_NS);
		}
	}
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n < (64l << 20) &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)))
		*len = fread(buf, 1, (size_t)n, f);
	fclose(f);
	return buf;
}

/* Agent memory: one instance arena and one linear memory per agent slot. */
static struct rvm_agent_mem *alloc_agent_mem(uint32_t n, uint32_t pages)
{
	struct rvm_agent_mem *mem = calloc(n, sizeof(*mem));

	for (uint32_t i = 0; mem && i < n; i++) {
		mem[i].arena = malloc(INSTANCE_ARENA);
		mem[i].arena_size = INSTANCE_ARENA;
		mem[i].memory_cap = (uint64_t)pages * RVM_WASM_PAGE;
		mem[i].memory = calloc(1, mem[i].memory_cap);
		if (!mem[i].arena || !mem[i].memory)
			return NULL; /* the process exits at once: nothing to free */
	}
	return mem;
}

static void free_agent_mem(struct rvm_agent_mem *mem, uint32_t n)
{
	for (uint32_t i = 0; mem && i < n; i++) {
		free(mem[i].arena);
		free(mem[i].memory);
	}
	free(mem);
}

/* RUNDIR/modules/<index>.wasm: the run directory holds what its agents ran (replay). */
static int keep_module(const char *dir, uint32_t index, const uint8_t *bytes, size_t len)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/modules", dir);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		return -1;
	snprintf(path, sizeof(path), "%s/modules/%u.wasm", dir, index);
	if (!(f = fopen(path, "wb")))
		return -1;
	if (fwrite(bytes, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

/* Modules, partitions, agents and edges of the manifest; lock held. Returns 0 or 2. */
static int populate(struct rvm_kernel *k, const struct run_manifest *m, void **arenas,
		    const char *dir)
{
	uint32_t mod_index[RUN_MAX_MODULES], part_of[RUN_MAX_AGENTS], num[RUN_MAX_AGENTS];
	enum rvm_err err;

	for (uint32_t i = 0; i < m->nmodules; i++) {
		const struct run_module *md = &m->modules[i];
		struct rvm_wasm_error werr = { 0 };
		size_t len = 0;
		uint8_t *bytes = read_file(md->path, &len);

		if (!bytes) {
			fprintf(stderr, "rvm run: module %s: cannot read %s\n", md->name, md->path);
			return 2;
		}
		arenas[i] = malloc(MODULE_ARENA);
		err = arenas[i] ? rvm_kernel_module_load(k, md->name, bytes, len, arenas[i], MODULE_ARENA,
							 md->is_template ? md->rights : 0,
							 md->is_template ? md->trust : 0, &mod_index[i],
							 &werr)
				: RVM_E_NOMEM;
		if (err == RVM_OK && keep_module(dir, mod_index[i], bytes, len) != 0)
			fprintf(stderr, "rvm run: cannot keep a copy of module %s in %s/modules\n",
				md->name, dir);
		free(bytes);
		if (err != RVM_OK) {
			fprintf(stderr, "rvm run: module %s (%s): %s: %s at byte %u\n", md->name,
				md->path, rvm_err_name(err), werr.msg[0] ? werr.msg : rvm_err_str(err),
				werr.offset);
			return 2;
		}
	}
	for (uint32_t i = 0; i < m->nagents; i++) {
		const struct run_agent_spec *a = &m->agents[i];
		uint32_t j;

		for (j = 0; j < i; j++)
			if (!strcmp(m->agents[j].partition, a->partition))
				break;
		if (j < i) {
			part_of[i] = part_of[j];
		} else if ((err = rvm_kernel_partition_new(k, RVM_MAX_CPUS, &part_of[i])) != RVM_OK) {
			fprintf(stderr, "rvm run: partition %s: %s\n", a->partition, rvm_err_str(err));
			return 2;
		}
		err = rvm_kernel_agent_spawn(k, mod_index[a->module], a->name, part_of[i], a->rights,
					     a->trust, a->args, &num[i]);
		if (err != RVM_OK) {
			fprintf(stderr, "rvm run: agent %s (module %s): %s: %s\n", a->name,
				m->modules[a->module].name, rvm_err_name(err), rvm_err_str(err));
			return 2;
		}
	}
	for (uint32_t i = 0; i < m->nedges; i++) {
		err = rvm_kernel_connect(k, num[m->edges[i][0]], num[m->edges[i][1]], NULL);
		if (err != RVM_OK) {
			fprintf(stderr, "rvm run: edge %s -> %s: %s\n", m->agents[m->edges[i][0]].name,
				m->agents[m->edges[i][1]].name, rvm_err_str(err));
			return 2;
		}
	}
	return 0;
}

/* Fault injection: with probability p, one random agent that is running traps next. */
static void inject(struct rvm_kernel *k, double p, uint64_t *rng)
{
	uint32_t n = k->w->nagents;

	*rng ^= *rng << 13;
	*rng ^= *rng >> 7;
	*rng ^= *rng << 17;
	if (!n || (double)(*rng % 1000000u) >= p * 1e6)
		return;
	(void)rvm_kernel_inject_fault(k, (uint32_t)((*rng >> 20) % n));
}

/* Trust changes due by now (ns since boot); events are applied once, in file order. */
static void apply_events(struct rvm_kernel *k, const struct run_manifest *m, uint64_t t,
			 uint32_t *next)
{
	while (*next < m->nevents && m->events[*next].at_ns <= t) {
		const struct run_event *e = &m->events[*next];

		(void)rvm_kernel_set_trust(k, e->agent, e->trust);
		(*next)++;
	}
}

/* Has the run shown what its manifest expects (splits, merges, recoveries)? */
static bool expect_met(struct rvm_kernel *k, const struct run_manifest *m)
{
	const struct rvm_world *w = k->w;
	bool met;

	rvm_kernel_lock(k);
	met = w->splits >= m->expect_splits && w->merges >= m->expect_merges &&
	      w->recoveries >= m->expect_recoveries;
	rvm_kernel_unlock(k);
	return met;
}

int run_swarm(const struct run_opts *o, const struct rvm_platform *plat,
	      const struct rvm_witness_config *wcfg, struct run_result *res)
{
	static struct rvm_kernel k;
	static struct run_manifest m;
	static struct run_snapshot snap;
	static struct swarm sw;
	struct rvm_kernel_config cfg = { 0 };
	struct rvm_world *w = calloc(1, sizeof(*w));
	struct rvm_agent_mem *mem = NULL;
	struct swarm_recovery *sr = NULL;
	static void *arenas[RUN_MAX_MODULES];
	struct run_gpu_state *gpu = NULL;
	char msg[512];
	enum rvm_err err;
	uint64_t t0, next_epoch, next_view, end, cap, last_msgs = 0, last_t;
	uint32_t next_event = 0;
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	double msgs_per_s = 0;
	bool tty = o->live && isatty(STDOUT_FILENO) && !o->plain;
	int rc = 0;

	if (!w) {
		fprintf(stderr, "rvm run: out of memory for the kernel\n");
		return 2;
	}
	if (o->manifest && run_manifest_load(o->manifest, o->agents_dir, &m, msg, sizeof(msg)) != 0) {
		fprintf(stderr, "rvm run: %s: %s\n", o->manifest, msg);
		free(w);
		return 2;
	}
	if (!o->manifest) {
		memset(&m, 0, sizeof(m));
		m.cpus = 1;
		m.epoch_ms = 50;
		m.fuel = 20000;
		m.memory_pages = 1;
	}
	if (o->seconds > 0)
		m.seconds = o->seconds;
	if (o->cpus)
		m.cpus = o->cpus;
	if (m.max_agents && !(mem = alloc_agent_mem(m.max_agents, m.memory_pages))) {
		fprintf(stderr, "rvm run: out of memory for %u agents\n", m.max_agents);
		free(w);
		return 2;
	}
	if (rvm_hosted_cpus_init(&sw.cpus, &cfg.lock) != RVM_OK) {
		free(w);
		return 2;
	}
	cfg.witness = *wcfg;
	cfg.agent_mem = mem;
	cfg.agent_mem_count = m.max_agents;
	cfg.ncpus = m.cpus;
	cfg.max_partition_agents = m.max_partition_agents;
	cfg.trust_floor = m.trust_floor;
	err = rvm_kernel_boot_full(&k, plat, w, &cfg);
	rvm_wipe(&cfg.witness, sizeof(cfg.witness));
	if (err != RVM_OK) {
		fprintf(stderr, "rvm run: %s: boot failed: %s\n", rvm_err_name(err), rvm_err_str(err));
		free(w);
		free_agent_mem(mem, m.max_agents);
		return 2;
	}
	res->k = &k;
	res->m = &m;
	rvm_kernel_lock(&k);
	if (m.nagents && !(sr = recovery_attach(&k, m.memory_pages)))
		rc = 2;
	if (rc == 0)
		rc = populate(&k, &m, arenas, o->out);
	if (rc == 0)
		rc = run_gpu_setup(&k, &m, &gpu);
	rvm_kernel_unlock(&k);
	sw.k = &k;
	sw.fuel = m.fuel;
	if (rc == 0 && o->stress_on)
		rc = res->stress(&k, o->stress);
	if (rc == 0 && m.nagents && rvm_hosted_cpus_start(&sw.cpus, w->ncpus, cpu_loop, &sw) != RVM_OK) {
		fprintf(stderr, "rvm run: cannot start %u CPU threads\n", w->ncpus);
		rc = 2;
	}
	signal(SIGINT, on_sigint);
	t0 = last_t = mono_ns();
	next_epoch = t0 + (uint64_t)m.epoch_ms * 1000000u;
	next_view = t0;
	end = t0 + (uint64_t)(m.seconds * 1e9);
	cap = o->until_expect > m.seconds ? t0 + (uint64_t)(o->until_expect * 1e9) : end;
	while (rc == 0 && m.nagents && !interrupted) {
		uint64_t now = mono_ns(), wake = next_epoch < next_view ? next_epoch : next_view;

		if (now < wake) {
			sleep_ns(wake - now);
			continue;
		}
		if (now >= next_epoch) {
			struct rvm_epoch_report rep;

			rvm_kernel_lock(&k);
			apply_events(&k, &m, rvm_platform_now_ns(plat) - k.boot_start_ns, &next_event);
			run_gpu_tick(gpu, rvm_platform_now_ns(plat) - k.boot_start_ns);
			if (o->faults > 0)
				inject(&k, o->faults, &rng);
			err = rvm_kernel_epoch(&k, &rep);
			if (err == RVM_OK)
				(void)rvm_kernel_checkpoint_tick(&k);
			rvm_kernel_unlock(&k);
			if (err != RVM_OK) {
				fprintf(stderr, "rvm run: %s: epoch failed: %s\n", rvm_err_name(err),
					rvm_err_str(err));
				rc = 2;
			}
			next_epoch += (uint64_t)m.epoch_ms * 1000000u;
		}
		if (now >= next_view) {
			rvm_kernel_lock(&k);
			/* A rate over a few microseconds (the first view comes at once) says
			 * nothing: keep the last one until at least 100 ms have passed. */
			if (now - last_t >= 100000000u) {
				msgs_per_s = (double)(w->messages - last_msgs) * 1e9 /
					     (double)(now - last_t);
				last_msgs = w->messages;
				last_t = now;
			}
			run_snapshot_take(&k, (double)(now - t0) / 1e9, msgs_per_s, true, &snap);
			rvm_kernel_unlock(&k);
			if (o->live)
				run_view_live(&k, &snap, tty);
			(void)run_status_write(o->out, &k, &snap);
			next_view += VIEW_NS;
		}
		if (now >= end && (now >= cap || expect_met(&k, &m)))
			break;
	}
	atomic_store(&sw.stop, true);
	rvm_hosted_cpus_join(&sw.cpus);
	signal(SIGINT, SIG_DFL);
	rvm_kernel_lock(&k);
	res->seconds = (double)(mono_ns() - t0) / 1e9;
	run_snapshot_take(&k, res->seconds, res->seconds > 0 ? (double)w->messages / res->seconds : 0,
			  false, &snap);
	run_gpu_stop(gpu);
	if ((err = rvm_kernel_shutdown(&k)) != RVM_OK && rc == 0) {
		fprintf(stderr, "rvm run: %s: shutdown failed: %s\n", rvm_err_name(err),
			rvm_err_str(err));
		rc = 2;
	}
	rvm_kernel_unlock(&k);
	run_gpu_release(gpu);
	snap.witness_records = k.witness.next_seq;
	/* Only a swarm has a status to show (no manifest: a bare boot, no status.json). */
	if (m.nagents)
		(void)run_status_write(o->out, &k, &snap);
	res->snap = &snap;
	res->arenas_free = arenas;
	rvm_hosted_cpus_destroy(&sw.cpus);
	res->mem = mem;
	res->nmem = m.max_agents;
	res->recovery = sr;
	return rc;
}

void run_release(struct run_result *res)
{
	for (uint32_t i = 0; res->arenas_free && i < RUN_MAX_MODULES; i++)
		free(res->arenas_free[i]);
	free_agent_mem(res->mem, res->nmem);
	recovery_free(res->recovery);
	if (res->k)
		free(res->k->w);
}

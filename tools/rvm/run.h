/* tools/rvm/run.h - `rvm run`: the manifest, the swarm driver, and its views (live, status, summary). */
#ifndef RVM_TOOL_RUN_H
#define RVM_TOOL_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <rvm/world.h>

#define RUN_MAX_MODULES RVM_AGENT_MODULES
#define RUN_MAX_AGENTS RVM_AGENT_MAX
#define RUN_MAX_EDGES RVM_CHAN_MAX
#define RUN_MAX_EVENTS 64u
#define RUN_NAME 32u
#define RUN_PATH 4096u

struct run_module {
	char name[RUN_NAME];
	char path[RUN_PATH];
	bool is_template; /* spawnable by name */
	uint8_t rights, trust;
};

struct run_agent_spec {
	char name[RUN_NAME];
	uint32_t module;
	char partition[RUN_NAME];
	uint8_t rights, trust;
	int64_t args[RVM_AGENT_ARGS];
};

struct run_event {
	uint64_t at_ns;
	uint32_t agent;
	uint8_t trust;
};

/* The GPU grants of a manifest ("gpu", docs/gpu.md): a device cap and a budget per partition. */
#define RUN_MAX_GPU_GRANTS 16u
#define RUN_GPU_DIMS 4u /* compute ns, memory bytes, transfer bytes, launches (enum rvm_gpu_dim) */
struct run_gpu_grant {
	char partition[RUN_NAME]; /* an agents[].partition name */
	uint8_t rights;		  /* of the device cap: READ, WRITE, EXECUTE */
	uint64_t limit[RUN_GPU_DIMS];
};

struct run_gpu {
	char backend[8];  /* "auto" (OpenCL if a device opens, else cpu), "opencl", "cpu" */
	char device[64];  /* OpenCL device name match; empty: RVM_OPENCL_DEVICE or the first */
	uint32_t epoch_ms; /* budgets of compute, transfer and launches reset this often */
	struct run_gpu_grant grants[RUN_MAX_GPU_GRANTS];
	uint32_t ngrants; /* 0: no "gpu" key, no GPU */
};

/* A parsed manifest (docs/run.md); limits hold defaults where the file is silent. */
struct run_manifest {
	char name[64];
	struct run_module modules[RUN_MAX_MODULES];
	uint32_t nmodules;
	struct run_agent_spec agents[RUN_MAX_AGENTS];
	uint32_t nagents;
	uint32_t edges[RUN_MAX_EDGES][2];
	uint32_t nedges;
	struct run_event events[RUN_MAX_EVENTS];
	uint32_t nevents;
	double seconds;
	uint32_t cpus, epoch_ms, max_partition_agents, trust_floor, memory_pages, max_agents;
	uint64_t fuel;
	/* What the scenario promises, checked by the tests from the summary. */
	uint32_t expect_splits, expect_merges, expect_recoveries;
	struct run_gpu gpu;
};

/*
 * Reads and checks a manifest. Module names without a path resolve to
 * AGENTS_DIR/<name>.wasm; relative paths to the manifest's directory. Returns 0, or -1
 * with msg naming the key and the problem ("agents[2].trust: ...").
 */
int run_manifest_load(const char *path, const char *agents_dir, struct run_manifest *m, char *msg,
		      size_t msg_len);

/* One partition in a snapshot. */
struct run_part_view {
	uint32_t slot, cpu, agents;
	uint16_t coherence, pressure;
	bool migrating;
	uint32_t members[16];
	uint32_t nmembers;
	bool gpu; /* has a GPU context: its budget follows */
	uint64_t gpu_used[RUN_GPU_DIMS], gpu_limit[RUN_GPU_DIMS];
};

/* What the views show, copied under the kernel lock. */
struct run_snapshot {
	double t;
	bool running;
	uint32_t nparts;
	struct run_part_view parts[RVM_KPARTS];
	uint64_t witness_records, journal_entries, messages, bytes;
	uint64_t splits, merges, migrations, recoveries, epochs, traps;
	double msgs_per_s;
	struct rvm_reshape_event recent[RVM_RECENT_EVENTS];
	uint32_t nrecent;
	bool degraded;
	const char *gpu_backend; /* NULL: no GPU in this run */
	uint64_t gpu_epoch;
};

struct run_opts {
	const char *manifest, *out, *key, *hmac_key, *graph, *agents_dir;
	enum rvm_witness_chain chain;
	uint32_t every;
	bool unsigned_log;
	double seconds;
	double faults; /* --faults P: each epoch, with probability P, an agent is made to trap */
	/* --until-expect MAX: past its seconds the run goes on, MAX seconds in all, until the
	 * manifest's expect counts are reached (0: off). For tests on a loaded machine. */
	double until_expect;
	uint32_t cpus;
	bool json, live, plain;
	uint64_t stress; /* hidden: --stress-sync N emits and syncs N bursts (0 = until killed) */
	bool stress_on;
};

struct swarm_recovery;

/* What a run leaves for the report; run_release frees it. */
struct run_result {
	struct rvm_kernel *k;
	const struct run_manifest *m;
	const struct run_snapshot *snap;
	double seconds;
	int (*stress)(struct rvm_kernel *k, uint64_t bursts); /* the hidden crash-test writer */
	void **arenas_free;
	struct rvm_agent_mem *mem;
	uint32_t nmem;
	struct swarm_recovery *recovery; /* checkpoints and recovery (run_swarm.c), or NULL */
};

/*
 * Boots the full kernel (no manifest: no agents), populates it from the manifest, runs
 * the swarm on its virtual CPUs for the run's seconds with epochs, live view and
 * DIR/status.json, then shuts down. Returns the exit status.
 */
int run_swarm(const struct run_opts *o, const struct rvm_platform *plat,
	      const struct rvm_witness_config *wcfg, struct run_result *res);
void run_release(struct run_result *res);

/* GPU (run_gpu.c); lock held for all but release. */
struct run_gpu_state;
/*
 * Opens the manifest's backend, registers the device and attaches each grant's partition
 * (the agents are spawned, not yet running). Returns 0 (also with no "gpu" key: *out stays
 * NULL) or 2 with a message on stderr.
 */
int run_gpu_setup(struct rvm_kernel *k, const struct run_manifest *m, struct run_gpu_state **out);
/* Starts a new budget epoch when gpu.epoch_ms has passed since the last (t_ns since boot). */
void run_gpu_tick(struct run_gpu_state *g, uint64_t t_ns);
/* The backend's name, for views. */
const char *run_gpu_backend(const struct run_gpu_state *g);
/* Detaches every context (witnessed) and unhooks the space from the world; before shutdown. */
void run_gpu_stop(struct run_gpu_state *g);
/* Closes the device and frees the state (NULL is fine); after the kernel shut down. */
void run_gpu_release(struct run_gpu_state *g);

/* Views (run_view.c). */
void run_snapshot_take(const struct rvm_kernel *k, double t, double msgs_per_s, bool running,
		       struct run_snapshot *s);
void run_view_live(const struct rvm_kernel *k, const struct run_snapshot *s, bool tty);
int run_status_write(const char *dir, const struct rvm_kernel *k, const struct run_snapshot *s);
void run_summary(FILE *f, const struct rvm_kernel *k, const struct run_manifest *m,
		 const struct run_snapshot *s, bool json);
int run_graph_write(const char *path, const struct rvm_kernel *k);

#endif

/* rvm/agent.h - agents: WebAssembly instances bound to RVM's host functions, and their channels. */
#ifndef RVM_AGENT_H
#define RVM_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rvm/cap.h>
#include <rvm/err.h>
#include <rvm/ipc.h>
#include <rvm/journal.h>
#include <rvm/profile.h>
#include <rvm/wasm.h>

/*
 * An agent is one instance of a wasm module, living in one partition. It sees the
 * world only through the imports of module "rvm" (docs/agents.md):
 *   send(edge i32, ptr i32, len i32) -> i32   0 sent, -1 ring full (retry; never blocks, so
 *                                             two agents sending to each other cannot
 *                                             deadlock), -2 no such
 *                                             edge, -3 denied by the capability check
 *   recv(ptr i32, cap i32) -> i32             bytes of the next message on any inbound
 *                                             edge (copies at most cap); blocks until there
 *                                             is one (the call suspends, costing no fuel,
 *                                             and the agent is not scheduled until mail
 *                                             arrives); -3 denied
 *   poll(ptr i32, cap i32) -> i32             recv that does not block: -1 when nothing waits
 *   yield()                                   gives up the rest of the slice
 *   now() -> i64                              ns since boot (journaled)
 *   log(ptr i32, len i32)                     one line of output (not an input: not journaled)
 *   spawn(ptr i32, len i32) -> i32            starts the template agent named by the bytes in
 *                                             a new partition, connected both ways; returns the
 *                                             outbound edge to it, or -1 (no room), -2 (no such
 *                                             template), -3 (denied)
 *   edge() -> i32                             inbound edge of the last message received
 *   gpu_open, gpu_alloc, gpu_free, gpu_write, gpu_read, gpu_queue, gpu_kernel, gpu_launch,
 *   gpu_budget                                GPU compute through the partition's device
 *                                             grant (kernel/agent_gpu.c, docs/gpu.md);
 *                                             a refusal is -(enum rvm_err)
 * A module exports run() (the agent's life; returning ends it) and may export
 * init(i64, i64, i64, i64), called first with the agent's four arguments (init may
 * not call the host: such a call traps).
 * A pointer or length outside the agent's memory is a trap, never a crash. Every
 * input the agent sees (received bytes, times, spawn and send results) is written
 * to the journal, bound to an agent.hostcall witness record, so a run replays exactly.
 */

/* Rights of an agent's own capability, one per host service. */
#define RVM_AGENT_RIGHT_SEND RVM_RIGHT_WRITE
#define RVM_AGENT_RIGHT_RECV RVM_RIGHT_READ
#define RVM_AGENT_RIGHT_SPAWN RVM_RIGHT_GRANT
#define RVM_AGENT_RIGHT_LOG RVM_RIGHT_EXECUTE
#define RVM_AGENT_RIGHT_TIME RVM_RIGHT_PROVE

#if defined(RVM_PROFILE_SEED)
#define RVM_AGENT_MAX 8u
#define RVM_CHAN_MAX 16u
#define RVM_AGENT_MODULES 2u
#else
/* One agent per coherence-graph node. */
#define RVM_AGENT_MAX 256u
#define RVM_CHAN_MAX 1024u
#define RVM_AGENT_MODULES 32u
#endif
/* Edges an agent may hold each way. */
#define RVM_AGENT_EDGES 32u
/* Messages a channel queues: the kernel edge's ring, so both agree on back-pressure. */
#define RVM_CHAN_RING RVM_IPC_RING
/* Largest message body. */
#define RVM_MSG_MAX 256u
#define RVM_AGENT_NAME 24u
/* The base imports, then the GPU ones (none on the seed profile, which has no GPU). */
#define RVM_AGENT_BASE_IMPORTS 8u
#if defined(RVM_PROFILE_SEED)
#define RVM_AGENT_GPU_IMPORTS 0u
#else
#define RVM_AGENT_GPU_IMPORTS 9u
#endif
#define RVM_AGENT_IMPORTS (RVM_AGENT_BASE_IMPORTS + RVM_AGENT_GPU_IMPORTS)
/*
 * The rvm.gpu_* calls in import order (after the base imports); a GPU journal entry's aux.
 * Their contracts are in docs/gpu.md ("The host functions").
 */
enum rvm_agent_gpu_op {
	RVM_AGPU_OPEN = 1,   /* gpu_open(out i32) -> i32: device cap, context cap (2 x u64) */
	RVM_AGPU_ALLOC = 2,  /* gpu_alloc(ctx i64, size i64) -> i64 buffer cap */
	RVM_AGPU_FREE = 3,   /* gpu_free(cap i64) -> i32 */
	RVM_AGPU_WRITE = 4,  /* gpu_write(buf i64, off i64, ptr i32, len i32) -> i32 */
	RVM_AGPU_READ = 5,   /* gpu_read(buf i64, off i64, ptr i32, len i32) -> i32 */
	RVM_AGPU_QUEUE = 6,  /* gpu_queue(ctx i64) -> i64 queue cap */
	RVM_AGPU_KERNEL = 7, /* gpu_kernel(ctx i64, src i32, len i32, name i32, len i32) -> i64 */
	RVM_AGPU_LAUNCH = 8, /* gpu_launch(req i32, len i32) -> i32 (rvm_gpu_wire_decode) */
	RVM_AGPU_BUDGET = 9, /* gpu_budget(out i32) -> i32: limit[4] then used[4] (8 x u64) */
};
/* Bytes gpu_open and gpu_budget write; the longest kernel name gpu_kernel takes. */
#define RVM_AGENT_GPU_OPEN_BYTES 16u
#define RVM_AGENT_GPU_BUDGET_BYTES 64u
#define RVM_AGENT_GPU_NAME_MAX 63u

/* F1 restarts an agent at most this many times, then it is stopped (escalation). */
#define RVM_AGENT_MAX_RESTARTS 8u
#define RVM_AGENT_NONE 0xffffffffu
/* Arguments an agent's optional export init(i64, i64, i64, i64) receives. */
#define RVM_AGENT_ARGS 4u
/* Fuel init may spend (it only sets the agent up). */
#define RVM_AGENT_INIT_FUEL 1000000u

enum rvm_agent_state {
	RVM_AGENT_FREE = 0,
	RVM_AGENT_READY = 1,   /* runnable */
	RVM_AGENT_EXITED = 2,  /* its run function returned */
	RVM_AGENT_STOPPED = 3, /* trapped more often than F1 allows */
};

/* A loaded module agents are instantiated from (a template when spawnable by name). */
struct rvm_agent_module {
	struct rvm_wasm_module *mod; /* NULL: free */
	uint8_t sha[32];	     /* SHA-256 of the module bytes */
	char name[RVM_AGENT_NAME];   /* template name */
	uint32_t size;		     /* module bytes */
	uint8_t rights;		     /* rights a spawned instance gets */
	uint8_t trust;
};

/* Memory the embedder hands the kernel for one agent (the kernel never allocates). */
struct rvm_agent_mem {
	void *arena;	     /* instance arena: globals, tables, stacks */
	size_t arena_size;
	uint8_t *memory;     /* linear memory, zeroed when handed over */
	uint64_t memory_cap; /* bytes */
};

#if RVM_AGENT_GPU_IMPORTS > 0 && defined(RVM_HAS_GPU)
/*
 * GPU handles. rvm.gpu_* hand an agent names of its own, not caps: handle = gen << 32 |
 * agent << 16 | (index + 1) into its table. The table keeps what each names: the device and
 * the context are always its partition's (whatever partition that is now); a buffer, queue
 * or kernel is a cap in its partition's table plus the object, so when a split or merge moves
 * the cap to another table under a new handle the name the agent holds stays good.
 * Invariants: type == RVM_OBJ_NONE for a free entry; gen only grows (a freed name goes stale),
 * except that a restore from a snapshot rolls the table back with the agent's memory.
 */
#define RVM_AGENT_GPU_HANDLES 32u
struct rvm_agent_gpu_handle {
	rvm_cap_t cap;	/* buffers, queues, kernels: the cap in the partition's table */
	rvm_obj_id obj; /* what it names */
	uint64_t size;	/* buffers: bytes; in snap, kernels: bytes of their captured source */
	uint32_t gen;	/* of the name the agent holds; 0: never handed out */
	uint8_t type;	/* enum rvm_obj_type; RVM_OBJ_NONE: free */
	uint8_t pad[3];
};
_Static_assert(sizeof(struct rvm_agent_gpu_handle) == 32, "a GPU handle entry is 32 bytes");

/* An agent's GPU state: its handles and what its last checkpoint captured of them. */
struct rvm_agent_gpu {
	struct rvm_agent_gpu_handle h[RVM_AGENT_GPU_HANDLES];
	struct rvm_agent_gpu_handle snap[RVM_AGENT_GPU_HANDLES]; /* at the last snapshot */
	uint64_t snap_tag; /* FNV-1a of the snapshot blob the capture goes with; 0: none */
	uint32_t snap_off; /* its buffers' contents: capture[snap_off, + snap_len) of the GPU */
	uint32_t snap_len; /* space (rvm_gpu_space), in table order */
};
#endif

struct rvm_world;

/*
 * One agent. Invariants: state != FREE iff id is a live RVM_OBJ_AGENT; cap is a
 * live cap in partition part's table naming id with exactly `rights`; running
 * is set only by the CPU that picked it, between pick and slice end; out/in list
 * channel indices whose src/dst is this agent.
 */
struct rvm_agent {
	struct rvm_world *w;
	rvm_obj_id id;
	rvm_cap_t cap;
	uint32_t num;  /* index in the agent table: coherence node, journal agent */
	uint32_t part; /* partition pool slot */
	uint32_t module;
	uint8_t state;
	uint8_t rights;
	uint8_t trust; /* 0..100 */
	bool running;
	bool quarantined; /* split off for low trust: never merged back */
	bool yielded;	  /* yield suspended once; its retry returns */
	bool waiting;	  /* suspended in recv with no mail: not scheduled until some arrives */
	bool initialising; /* init runs under the kernel lock: host calls trap */
	bool fault_pending; /* injected fault: its next send or receive traps (tests, soak) */
	bool mem_dirty;	   /* its memory slot was used: zero it before the next instance */
	bool replay; /* recovery re-runs it against its input tape under the kernel lock: its
		      * host calls answer from the tape and take no lock (kernel_replay.c) */
	struct rvm_wasm_instance *inst;
	struct rvm_wasm_func imports[RVM_AGENT_IMPORTS];
	uint16_t out[RVM_AGENT_EDGES];
	uint16_t in[RVM_AGENT_EDGES];
	uint8_t nout, nin, rr;
	uint32_t last_edge;
	int64_t args[RVM_AGENT_ARGS]; /* passed to its init export, if any, at every (re)start */
	uint32_t polls;	   /* empty recv results not yet journaled */
	uint32_t refusals; /* full-ring send results not yet journaled */
	uint32_t sends_ok; /* accepted sends before them, not yet journaled */
	uint64_t sent, received, bytes_out, fuel, slices, traps, restarts, logs;
	uint64_t life_fuel; /* fuel since its last (re)start: where a digest was taken */
	/* Its journal entries not yet bound by a witness record (agent.hostcall_batch); bound
	 * before any single entry of its own, at every epoch and at shutdown. */
	struct rvm_journal_batch jb;
	char name[RVM_AGENT_NAME];
	char last_log[48];
#if RVM_AGENT_GPU_IMPORTS > 0 && defined(RVM_HAS_GPU)
	struct rvm_agent_gpu gpu; /* rvm.gpu_* names and their checkpoint capture (agent_gpu.c) */
#endif
};

/*
 * A channel src -> dst between two agents. Its ring holds the message bodies (the
 * shared region both ends map). While src and dst live in different partitions a
 * kernel CommEdge carries one descriptor per message (gated, witnessed, counted in the
 * partition graph); inside one partition messages stay local (batched witness).
 * Invariants: tail <= head <= tail + RVM_CHAN_RING; via_edge[i] marks the messages
 * whose descriptor sits on the current edge, and those are the newest ones, in order.
 */
struct rvm_chan {
	uint32_t src, dst; /* agent numbers */
	uint32_t head, tail;
	uint16_t len[RVM_CHAN_RING];
	uint8_t via_edge[RVM_CHAN_RING];
	uint8_t data[RVM_CHAN_RING][RVM_MSG_MAX];
	struct rvm_edge_caps edge; /* edge.id == 0: none */
	uint32_t edge_src, edge_dst;
	uint64_t sent, received, refused, bytes;
	bool live;
};

/* The host-function table agents link against (names and types), for tools and tests. */
struct rvm_agent_import_desc {
	const char *name;
	const struct rvm_wasm_functype *type;
};
extern const struct rvm_agent_import_desc rvm_agent_imports[RVM_AGENT_IMPORTS];

/* Binds an instance's imports to agent a's host functions; RVM_E_LINK names a bad import. */
enum rvm_err rvm_agent_link(struct rvm_agent *a, const struct rvm_wasm_module *m,
			    struct rvm_wasm_extern *ext, uint32_t cap, uint32_t *bad);

#endif

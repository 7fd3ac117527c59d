/* rvm/ipc.h - CommEdges: capability-gated channels between partitions with bounded descriptor rings. */
#ifndef RVM_IPC_H
#define RVM_IPC_H

#include <stdint.h>

#include <rvm/cap.h>
#include <rvm/coherence.h>
#include <rvm/err.h>
#include <rvm/partition.h>

/* Descriptors one edge queues; a power of two (the ring indexes with a mask). */
#ifndef RVM_IPC_RING
#define RVM_IPC_RING 16u
#endif
#ifndef RVM_IPC_MAX_EDGES
#define RVM_IPC_MAX_EDGES (RVM_MAX_PARTITIONS * 2u)
#endif
_Static_assert((RVM_IPC_RING & (RVM_IPC_RING - 1u)) == 0, "ring size must be a power of two");
_Static_assert(RVM_IPC_MAX_EDGES < 0xffffu, "edge index must fit in 16 bits");

/*
 * A message is a descriptor, not a copy: it names bytes in a memory region
 * both ends can map. The payload never passes through the kernel.
 */
struct rvm_ipc_desc {
	uint64_t region; /* region id the payload lives in (0: none, a pure signal) */
	uint64_t tag;	 /* sender's word */
	uint32_t offset;
	uint32_t length; /* bytes; added to the edge's weight */
};
_Static_assert(sizeof(struct rvm_ipc_desc) == 24, "a descriptor is 24 bytes");

/*
 * One directed edge src -> dst. Invariants: head - tail <= RVM_IPC_RING
 * (unsigned difference, indices run freely and are masked); id == NULL iff
 * the slot is free; weight == sum of the lengths of every accepted message;
 * sent == accepted sends, refused == sends turned away because the ring was
 * full (each returned RVM_E_FULL to its sender: nothing is dropped silently).
 */
struct rvm_edge {
	rvm_obj_id id;
	uint64_t weight;
	uint64_t sent, received, refused;
	uint32_t src, dst;  /* partition pool slots */
	uint32_t head;	    /* next slot to write */
	uint32_t tail;	    /* next slot to read */
	struct rvm_ipc_desc ring[RVM_IPC_RING];
};

/* Every edge; coh (may be NULL) is told of each message's size between src and dst. */
struct rvm_ipc {
	struct rvm_edge e[RVM_IPC_MAX_EDGES];
	uint16_t by_obj[RVM_OBJ_SLOTS]; /* registry slot -> edge index */
	struct rvm_part_pool *parts;
	struct rvm_coherence *coh;
	uint32_t hw; /* edges e[hw..] have never been used: scans stop here */
};

/* Caps an edge creation hands out. */
struct rvm_edge_caps {
	rvm_obj_id id;
	rvm_cap_t owner; /* every right, in the creator's table */
	rvm_cap_t send;	 /* WRITE, in src's table */
	rvm_cap_t recv;	 /* READ, in dst's table */
};

/* Rights on both partitions a caller needs to connect them. */
#define RVM_EDGE_CREATE_RIGHTS (RVM_RIGHT_GRANT)

void rvm_ipc_init(struct rvm_ipc *ipc, struct rvm_part_pool *parts, struct rvm_coherence *coh);

/*
 * Connects partition src_cap names to the one dst_cap names (both in caller's
 * table, both with GRANT). RVM_E_INVAL for src == dst, RVM_E_STATE if either is
 * not alive, RVM_E_NOMEM when the edge pool, registry or a table is full.
 * Witness EDGE_CREATE (arg0 src slot, arg1 dst slot) and one CAP_MINT per cap.
 */
enum rvm_err rvm_edge_create(struct rvm_ipc *ipc, uint32_t caller, rvm_cap_t src_cap,
			     rvm_cap_t dst_cap, struct rvm_edge_caps *out);
/* Frees the edge (cap with REVOKE); queued descriptors are discarded and counted. EDGE_DESTROY. */
enum rvm_err rvm_edge_destroy(struct rvm_ipc *ipc, uint32_t caller, rvm_cap_t cap);

/*
 * Queues d on the edge (cap with WRITE, caller must be its src and Running).
 * RVM_E_FULL when the ring is full: the message is not queued, the sender
 * must retry later (back-pressure), edge->refused counts it and the refusal
 * is witnessed. RVM_E_STATE if the receiver is destroyed. Witness IPC_SEND
 * (arg0 length, arg1 queue depth after).
 */
enum rvm_err rvm_ipc_send(struct rvm_ipc *ipc, uint32_t caller, rvm_cap_t cap,
			  const struct rvm_ipc_desc *d);
/* Takes the oldest descriptor (cap with READ, caller must be dst). RVM_E_EMPTY. IPC_RECV. */
enum rvm_err rvm_ipc_recv(struct rvm_ipc *ipc, uint32_t caller, rvm_cap_t cap,
			  struct rvm_ipc_desc *d);

/*
 * The same operations, checked the same way, witnessed in the DC-10 epoch batch
 * (rvm_witness_batch_add: action, actor = caller, target = edge id, arg0 length)
 * instead of one record each: for high-rate traffic whose every message is
 * journaled anyway (agent channels). Refusals are still witnessed one by one.
 * The caller names the edge it means (it holds the id from rvm_edge_create):
 * the cap must name that very edge (P2 rule 1, RVM_E_PERM otherwise), and the
 * cap is resolved once, by the gate.
 */
enum rvm_err rvm_ipc_send_batched(struct rvm_ipc *ipc, uint32_t caller, rvm_cap_t cap,
				  rvm_obj_id edge, const struct rvm_ipc_desc *d);
enum rvm_err rvm_ipc_recv_batched(struct rvm_ipc *ipc, uint32_t caller, rvm_cap_t cap,
				  rvm_obj_id edge, struct rvm_ipc_desc *d);

/* The edge id names, or NULL. */
struct rvm_edge *rvm_edge_find(struct rvm_ipc *ipc, rvm_obj_id id);

#endif

/* rvm/mincut.h - global minimum cut (Stoer-Wagner) of a small weighted graph, with a work budget.
 */
#ifndef RVM_MINCUT_H
#define RVM_MINCUT_H

#include <stdbool.h>
#include <stdint.h>

#include <rvm/err.h>

/*
 * The coherence engine's graphs have 8 to 256 nodes (partitions, or agents in a
 * partition). Capacity is fixed at compile time: no allocation anywhere.
 */
#define RVM_MINCUT_MAX_NODES 256u
#define RVM_MINCUT_SET_WORDS (RVM_MINCUT_MAX_NODES / 64u)
/* Undirected edges a full graph of RVM_MINCUT_MAX_NODES has, each stored twice in adjacency. */
#define RVM_MINCUT_ADJ_CAP (RVM_MINCUT_MAX_NODES * (RVM_MINCUT_MAX_NODES - 1u))
/* Sum of all edge weights: every key, degree and cut of a contracted graph fits in uint32. */
#define RVM_MINCUT_MAX_TOTAL ((uint64_t)UINT32_MAX)
/* Budget meaning "run to the exact answer". */
#define RVM_MINCUT_UNLIMITED UINT64_MAX

/* Node numbers are uint16_t in the scratch arrays, 0xffff meaning none; sets are whole words. */
_Static_assert(RVM_MINCUT_MAX_NODES < 0xffffu, "node numbers must fit uint16_t below 0xffff");
_Static_assert(RVM_MINCUT_MAX_NODES % 64u == 0, "node sets are whole 64-bit words");

/* A set of node indices 0..RVM_MINCUT_MAX_NODES-1, one bit each. */
struct rvm_nodeset {
	uint64_t w[RVM_MINCUT_SET_WORDS];
};

static inline bool rvm_nodeset_has(const struct rvm_nodeset *s, uint32_t i)
{
	return (s->w[i >> 6] >> (i & 63u)) & 1u;
}

static inline void rvm_nodeset_add(struct rvm_nodeset *s, uint32_t i)
{
	s->w[i >> 6] |= (uint64_t)1 << (i & 63u);
}

/* Index of the lowest set bit of x != 0 (32-bit builtins: no libgcc helper on 32-bit cores). */
static inline uint32_t rvm_ctz64(uint64_t x)
{
	uint32_t lo = (uint32_t)x;

	return lo ? (uint32_t)__builtin_ctz(lo)
		  : 32u + (uint32_t)__builtin_ctz((uint32_t)(x >> 32));
}

/* Number of nodes in the set. */
uint32_t rvm_nodeset_count(const struct rvm_nodeset *s);

/*
 * An undirected weighted graph as a dense matrix plus one bitmap of neighbours
 * per row (so sparse graphs are walked without scanning zeros). Invariants,
 * kept by the functions below and checked by rvm_mincut_graph_check:
 *   n <= RVM_MINCUT_MAX_NODES; w[i][j] == w[j][i]; w[i][i] == 0;
 *   w[i][j] == 0 whenever i >= n or j >= n;
 *   bit j of nz[i] is set iff w[i][j] != 0;
 *   edges = number of pairs i < j with w[i][j] != 0;
 *   total = sum of w[i][j] over i < j, and total <= RVM_MINCUT_MAX_TOTAL.
 * 264 KiB: callers keep it static or inside a larger owned struct, never on a small stack.
 */
struct rvm_mincut_graph {
	uint32_t w[RVM_MINCUT_MAX_NODES][RVM_MINCUT_MAX_NODES];
	struct rvm_nodeset nz[RVM_MINCUT_MAX_NODES];
	uint64_t total;
	uint32_t edges;
	uint32_t n;
};

/*
 * Scratch space of the solver: the contracted graph, dense or as adjacency
 * arrays, and the bookkeeping of one phase. Caller-owned, reused across calls;
 * its contents between calls mean nothing.
 */
struct rvm_mincut_work {
	uint32_t mat[RVM_MINCUT_MAX_NODES * RVM_MINCUT_MAX_NODES];
	uint32_t adj_w[2][RVM_MINCUT_ADJ_CAP];
	uint16_t adj_v[2][RVM_MINCUT_ADJ_CAP];
	uint32_t adj_off[2][RVM_MINCUT_MAX_NODES + 1u];
	struct rvm_nodeset members[2][RVM_MINCUT_MAX_NODES];
	uint16_t pair_a[RVM_MINCUT_ADJ_CAP / 2u + 1u];
	uint16_t pair_b[RVM_MINCUT_ADJ_CAP / 2u + 1u];
	uint32_t deg[2][RVM_MINCUT_MAX_NODES];
	uint32_t key[RVM_MINCUT_MAX_NODES];
	uint16_t cand[RVM_MINCUT_MAX_NODES];
	uint16_t heap[RVM_MINCUT_MAX_NODES];
	uint16_t hpos[RVM_MINCUT_MAX_NODES];
	uint16_t uf[RVM_MINCUT_MAX_NODES];
	uint16_t slot_of[RVM_MINCUT_MAX_NODES];
	uint16_t root_of[RVM_MINCUT_MAX_NODES];
	uint16_t label[RVM_MINCUT_MAX_NODES];
	uint16_t order[RVM_MINCUT_MAX_NODES];
	uint32_t cursor[RVM_MINCUT_MAX_NODES + 1u];
	uint32_t mark[RVM_MINCUT_MAX_NODES];
	uint16_t stamp[RVM_MINCUT_MAX_NODES];
};

/*
 * A phase records at most one merge per unordered pair it scans (the later
 * end is no longer a candidate when the earlier one is scanned) plus its s-t
 * pair: n(n-1)/2 + 1, the size of pair_a/pair_b.
 */
_Static_assert(sizeof(((struct rvm_mincut_work *)0)->pair_a) / sizeof(uint16_t) ==
		       RVM_MINCUT_ADJ_CAP / 2u + 1u,
	       "one recorded merge per scanned pair, plus s-t");

/* How the last solve represented the graph (diagnostics and benchmarks). */
enum rvm_mincut_method {
	RVM_MINCUT_DENSE = 1,  /* matrix from the start */
	RVM_MINCUT_SPARSE = 2, /* adjacency arrays, maybe ending on the matrix once small */
};

struct rvm_mincut_result {
	uint32_t value;		 /* weight of the cut between side and the other nodes */
	struct rvm_nodeset side; /* one side: never empty, never all n nodes */
	uint64_t work;		 /* work units spent (edge scans, vertex steps, contractions) */
	bool exhausted; /* the budget ran out: value is the best found, maybe not minimal */
	uint8_t method; /* enum rvm_mincut_method */
};

/* Empties g and gives it n nodes. RVM_E_RANGE if n > RVM_MINCUT_MAX_NODES. */
enum rvm_err rvm_mincut_graph_init(struct rvm_mincut_graph *g, uint32_t n);
/*
 * Empties a graph that already keeps its invariants and gives it n nodes,
 * clearing only the rows its old node count used: O(old n^2), not 264 KiB.
 * RVM_E_RANGE if n > RVM_MINCUT_MAX_NODES (the graph is then unchanged).
 */
enum rvm_err rvm_mincut_graph_reset(struct rvm_mincut_graph *g, uint32_t n);
/*
 * Sets the weight of edge {u,v} (0 removes it). RVM_E_RANGE for a node >= n,
 * RVM_E_INVAL for u == v, RVM_E_OVERFLOW if the total weight would exceed
 * RVM_MINCUT_MAX_TOTAL (the graph is then unchanged).
 */
enum rvm_err rvm_mincut_graph_set(struct rvm_mincut_graph *g, uint32_t u, uint32_t v,
				  uint32_t weight);
/* Weight of edge {u,v}; 0 for no edge or a node out of range. */
uint32_t rvm_mincut_graph_get(const struct rvm_mincut_graph *g, uint32_t u, uint32_t v);
/* Weight of the edges between side and the other nodes of g. */
uint64_t rvm_mincut_cut_weight(const struct rvm_mincut_graph *g, const struct rvm_nodeset *side);
/* RVM_OK if every invariant of struct rvm_mincut_graph holds, else RVM_E_CORRUPT. */
enum rvm_err rvm_mincut_graph_check(const struct rvm_mincut_graph *g);

/*
 * Global minimum cut of g (Stoer-Wagner with Nagamochi-Ibaraki contractions).
 * Picks a dense matrix or adjacency arrays from n and the edge count. Spends at
 * most about `budget` work units (RVM_MINCUT_UNLIMITED: no limit); when the
 * budget runs out it stops between phases and returns the best cut found so
 * far with out->exhausted set. The result is always a valid cut of g whose
 * weight is out->value. RVM_E_INVAL if g has fewer than 2 nodes or a NULL
 * argument, RVM_E_CORRUPT if g's total breaks its invariant.
 */
enum rvm_err rvm_mincut_solve(const struct rvm_mincut_graph *g, struct rvm_mincut_work *wk,
			      uint64_t budget, struct rvm_mincut_result *out);

#endif

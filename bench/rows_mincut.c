/* bench/rows_mincut.c - global min cut, ours vs igraph and Boost.Graph, on the same random graphs.
 */
#include <stdio.h>
#include <stdlib.h>

#include <igraph/igraph.h>

#include <rvm/coherence.h>
#include <rvm/mincut.h>

#include "bench.h"
#include "mincut_peers.h"

/* Graphs per cell: iterations cycle through them so no single instance decides a row. */
#define MC_GRAPHS 4u
#define MC_MAXW	  1000u

/* One benchmark cell: MC_GRAPHS connected random graphs held by all three implementations. */
struct mc_cell {
	uint32_t n, m;
	struct rvm_mincut_graph *g[MC_GRAPHS];
	igraph_t ig[MC_GRAPHS];
	igraph_vector_t iw[MC_GRAPHS];
	void *bg[MC_GRAPHS];
	uint32_t value[MC_GRAPHS];
};

static struct rvm_mincut_work mc_work;

static uint64_t mc_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A random spanning tree, then random extra edges up to m, weights 1..MC_MAXW. */
static void mc_build(struct mc_cell *c, uint32_t idx, uint64_t seed)
{
	uint32_t n = c->n, m = c->m, k = 0;
	uint32_t *eu = malloc(sizeof(uint32_t) * m), *ev = malloc(sizeof(uint32_t) * m);
	uint32_t *ew = malloc(sizeof(uint32_t) * m);
	igraph_vector_int_t edges;
	struct rvm_mincut_graph *g = malloc(sizeof(*g));

	if (!eu || !ev || !ew || !g || rvm_mincut_graph_init(g, n) != RVM_OK) {
		fprintf(stderr, "mincut bench: out of memory\n");
		exit(1);
	}
	while (k < m) {
		uint32_t u, v;

		if (k + 1 < n) {
			u = k + 1;
			v = (uint32_t)(mc_rand(&seed) % u);
		} else {
			u = (uint32_t)(mc_rand(&seed) % n);
			v = (uint32_t)(mc_rand(&seed) % n);
			if (u == v || g->w[u][v])
				continue;
		}
		eu[k] = u;
		ev[k] = v;
		ew[k] = (uint32_t)(mc_rand(&seed) % MC_MAXW) + 1;
		rvm_mincut_graph_set(g, u, v, ew[k]);
		k++;
	}
	c->g[idx] = g;
	igraph_vector_int_init(&edges, 2 * (igraph_integer_t)m);
	igraph_vector_init(&c->iw[idx], m);
	for (uint32_t i = 0; i < m; i++) {
		VECTOR(edges)[2 * i] = eu[i];
		VECTOR(edges)[2 * i + 1] = ev[i];
		VECTOR(c->iw[idx])[i] = ew[i];
	}
	igraph_create(&c->ig[idx], &edges, n, IGRAPH_UNDIRECTED);
	igraph_vector_int_destroy(&edges);
	c->bg[idx] = rvm_bench_boost_make(n, m, eu, ev, ew);
	free(eu);
	free(ev);
	free(ew);
}

static void mc_free(struct mc_cell *c)
{
	for (uint32_t i = 0; i < MC_GRAPHS; i++) {
		free(c->g[i]);
		igraph_destroy(&c->ig[i]);
		igraph_vector_destroy(&c->iw[i]);
		rvm_bench_boost_free(c->bg[i]);
	}
}

static void mc_ours(void *ctx, uint64_t iters)
{
	struct mc_cell *c = ctx;
	struct rvm_mincut_result r;

	for (uint64_t i = 0; i < iters; i++) {
		rvm_mincut_solve(c->g[i % MC_GRAPHS], &mc_work, RVM_MINCUT_UNLIMITED, &r);
		rvm_bench_sink(&r, sizeof(r));
	}
}

static void mc_igraph(void *ctx, uint64_t iters)
{
	struct mc_cell *c = ctx;
	igraph_real_t v;

	for (uint64_t i = 0; i < iters; i++) {
		igraph_mincut_value(&c->ig[i % MC_GRAPHS], &v, &c->iw[i % MC_GRAPHS]);
		rvm_bench_sink(&v, sizeof(v));
	}
}

static void mc_boost(void *ctx, uint64_t iters)
{
	struct mc_cell *c = ctx;

	for (uint64_t i = 0; i < iters; i++) {
		uint64_t v = rvm_bench_boost_mincut(c->bg[i % MC_GRAPHS]);

		rvm_bench_sink(&v, sizeof(v));
	}
}

/*
 * Builds the cell, checks that all three agree on every graph, then times
 * ours against each peer (interleaved) and reports the faster peer: the row's
 * peer id becomes that peer's, and the note carries both peers' figures.
 */
static void mc_run(struct rvm_bench_result *out, uint32_t n, int dense, struct rvm_bench_row *row)
{
	struct mc_cell c = {.n = n};
	double o1, pi, o2, pb, slow;
	uint64_t iters, t0;
	struct rvm_mincut_result r;
	int method = 0;

	c.m = dense ? n * (n - 1) / 4 : 2 * n;
	for (uint32_t i = 0; i < MC_GRAPHS; i++) {
		igraph_real_t iv;

		mc_build(&c, i, 0x6d696e637574ull * (n + 1) + (uint64_t)dense * 7919 + i);
		rvm_mincut_solve(c.g[i], &mc_work, RVM_MINCUT_UNLIMITED, &r);
		igraph_mincut_value(&c.ig[i], &iv, &c.iw[i]);
		if (r.exhausted || r.value != (uint64_t)iv ||
		    r.value != rvm_bench_boost_mincut(c.bg[i])) {
			fprintf(stderr,
				"mincut bench: n=%u graph %u: ours %u, igraph %.0f, boost %llu\n",
				n, i, r.value, (double)iv,
				(unsigned long long)rvm_bench_boost_mincut(c.bg[i]));
			exit(1);
		}
		method |= r.method;
	}
	/* About 2 ms of the slowest implementation per timed round. */
	t0 = rvm_bench_now_ns();
	mc_igraph(&c, MC_GRAPHS);
	mc_boost(&c, MC_GRAPHS);
	slow = (double)(rvm_bench_now_ns() - t0) / (2.0 * MC_GRAPHS);
	iters = (uint64_t)(2e6 / slow);
	iters = (iters / MC_GRAPHS + 1) * MC_GRAPHS;
	rvm_bench_pair(mc_ours, &c, mc_igraph, &c, iters, 15, &o1, &pi);
	rvm_bench_pair(mc_ours, &c, mc_boost, &c, iters, 15, &o2, &pb);
	out->ours_ns = pi < pb ? o1 : o2;
	out->peer_ns = pi < pb ? pi : pb;
	row->peer = pi < pb ? "igraph-mincut" : "boost-stoer-wagner";
	snprintf(out->note, sizeof(out->note), "igraph %.0f ns, boost %.0f ns; m=%u, %s", pi, pb,
		 c.m, method == RVM_MINCUT_DENSE ? "matrix" : "adjacency");
	mc_free(&c);
}

/* The row is declared first so its run function can name the faster peer in it. */
#define MC_ROW(kind, n, dense, target)                                                             \
	static struct rvm_bench_row rvm_bench_row_mincut_##kind##_n##n;                            \
	static void run_mincut_##kind##_n##n(struct rvm_bench_result *out)                         \
	{                                                                                          \
		mc_run(out, n, dense, &rvm_bench_row_mincut_##kind##_n##n);                        \
	}                                                                                          \
	RVM_BENCH_ROW(mincut_##kind##_n##n, "best(igraph,boost)", target, run_mincut_##kind##_n##n)

MC_ROW(sparse, 8, 0, "ratio <= 0.5")
MC_ROW(sparse, 16, 0, "ratio<=0.5, <2us")
MC_ROW(sparse, 32, 0, "ratio <= 0.5")
MC_ROW(sparse, 64, 0, "ratio<=0.5, <50us")
MC_ROW(sparse, 128, 0, "ratio <= 0.5")
MC_ROW(sparse, 256, 0, "ratio <= 0.5")
MC_ROW(dense, 8, 1, "ratio <= 0.5")
MC_ROW(dense, 16, 1, "ratio<=0.5, <2us")
MC_ROW(dense, 32, 1, "ratio <= 0.5")
MC_ROW(dense, 64, 1, "ratio <= 0.5")
MC_ROW(dense, 128, 1, "ratio <= 0.5")
MC_ROW(dense, 256, 1, "ratio <= 0.5")

/*
 * One engine epoch for 64 partitions of 4 agents (256 nodes), default config:
 * each iteration feeds one epoch of traffic (6 messages inside each partition,
 * 128 between random partitions, via rvm_coh_observe) and runs the epoch.
 */
#define CE_GROUPS 64u
#define CE_PER	  4u
#define CE_MSGS	  (CE_GROUPS * 6u + 128u)

struct ce_ctx {
	struct rvm_coherence coh;
	uint16_t a[CE_MSGS], b[CE_MSGS];
	uint32_t amount[CE_MSGS];
	struct rvm_coh_report rep;
};

static void ce_epoch(void *ctx, uint64_t iters)
{
	struct ce_ctx *c = ctx;

	for (uint64_t i = 0; i < iters; i++) {
		for (uint32_t m = 0; m < CE_MSGS; m++)
			rvm_coh_observe(&c->coh, c->a[m], c->b[m], c->amount[m]);
		rvm_coh_epoch(&c->coh, NULL, &c->rep);
		rvm_bench_sink(&c->rep, sizeof(c->rep));
	}
}

static void run_coherence_epoch_64(struct rvm_bench_result *out)
{
	struct ce_ctx *c = malloc(sizeof(*c));
	struct rvm_coh_config cfg;
	uint64_t seed = 0x636f68;
	uint32_t m = 0;

	if (!c) {
		fprintf(stderr, "coherence bench: out of memory\n");
		exit(1);
	}
	rvm_coh_config_default(&cfg);
	rvm_coh_init(&c->coh, &cfg, CE_GROUPS * CE_PER);
	for (uint32_t i = 0; i < CE_GROUPS * CE_PER; i++)
		rvm_coh_assign(&c->coh, i, i / CE_PER);
	for (uint32_t g = 0; g < CE_GROUPS; g++) {
		for (uint32_t k = 0; k < 6; k++, m++) {
			uint32_t x = (uint32_t)(mc_rand(&seed) % CE_PER),
				 y = (x + 1 + k % 3) % CE_PER;

			c->a[m] = (uint16_t)(g * CE_PER + x);
			c->b[m] = (uint16_t)(g * CE_PER + y);
			c->amount[m] = 50 + (uint32_t)(mc_rand(&seed) % 100);
		}
	}
	while (m < CE_MSGS) {
		uint32_t x = (uint32_t)(mc_rand(&seed) % (CE_GROUPS * CE_PER));
		uint32_t y = (uint32_t)(mc_rand(&seed) % (CE_GROUPS * CE_PER));

		if (x / CE_PER == y / CE_PER)
			continue;
		c->a[m] = (uint16_t)x;
		c->b[m] = (uint16_t)y;
		c->amount[m++] = 1 + (uint32_t)(mc_rand(&seed) % 20);
	}
	ce_epoch(c, 100); /* reach the steady state of traffic vs decay */
	out->ours_ns = rvm_bench_time(ce_epoch, c, 10, 51);
	snprintf(out->note, sizeof(out->note),
		 "256 agents, %u edges, %llu work units/epoch, scored %u, overrun %d",
		 c->coh.graph.edges, (unsigned long long)c->rep.work, c->rep.scored,
		 c->rep.overrun);
	free(c);
}

RVM_BENCH_ROW(coherence_epoch_64, NULL, "< 50000 ns", run_coherence_epoch_64)

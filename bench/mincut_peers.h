/* bench/mincut_peers.h - C interface to the C++ Boost.Graph min-cut peer (bench/mincut_boost.cpp).
 */
#ifndef RVM_BENCH_MINCUT_PEERS_H
#define RVM_BENCH_MINCUT_PEERS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Builds a Boost adjacency_list of n vertices and m weighted edges (eu[i], ev[i], ew[i]). */
void *rvm_bench_boost_make(uint32_t n, uint32_t m, const uint32_t *eu, const uint32_t *ev,
			   const uint32_t *ew);
/* stoer_wagner_min_cut on it: the weight of a global minimum cut. */
uint64_t rvm_bench_boost_mincut(void *g);
void rvm_bench_boost_free(void *g);

#ifdef __cplusplus
}
#endif

#endif

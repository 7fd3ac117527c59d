// bench/mincut_boost.cpp - the Boost.Graph peer of the min-cut rows (stoer_wagner_min_cut), C-callable.
#include <cstdint>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/stoer_wagner_min_cut.hpp>
#include <boost/property_map/property_map.hpp>

#include "mincut_peers.h"

namespace {
using weight_prop = boost::property<boost::edge_weight_t, std::uint64_t>;
using graph_t = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS,
				      boost::no_property, weight_prop>;
} // namespace

extern "C" void *rvm_bench_boost_make(uint32_t n, uint32_t m, const uint32_t *eu,
				      const uint32_t *ev, const uint32_t *ew)
{
	graph_t *g = new graph_t(n);

	for (uint32_t i = 0; i < m; i++)
		boost::add_edge(eu[i], ev[i], weight_prop(ew[i]), *g);
	return g;
}

extern "C" uint64_t rvm_bench_boost_mincut(void *gp)
{
	graph_t *g = static_cast<graph_t *>(gp);

	return boost::stoer_wagner_min_cut(*g, boost::get(boost::edge_weight, *g));
}

extern "C" void rvm_bench_boost_free(void *gp)
{
	delete static_cast<graph_t *>(gp);
}

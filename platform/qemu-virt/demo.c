/* platform/qemu-virt/demo.c - the bare-metal image's swarms as tables, and the calls that put one
 * into a booted kernel through the same kernel calls `rvm run` makes. */
#include "demo.h"

#include <rvm/bytes.h>

#define EXTERN_AGENT(n)                                                                            \
	extern const unsigned char rvm_demo_##n##_wasm[];                                          \
	extern const unsigned long rvm_demo_##n##_wasm_len;
EXTERN_AGENT(chatty)
EXTERN_AGENT(sensor)
EXTERN_AGENT(flaky)
EXTERN_AGENT(fusion)
EXTERN_AGENT(sink)

enum { M_CHATTY, M_SENSOR, M_FLAKY, M_FUSION, M_SINK, M_COUNT };

/* examples/agents, built to wasm32 by demo_agents.cmake. */
static const struct rvm_demo_module modules[M_COUNT] = {
	[M_CHATTY] = {"chatty", rvm_demo_chatty_wasm, &rvm_demo_chatty_wasm_len},
	[M_SENSOR] = {"sensor", rvm_demo_sensor_wasm, &rvm_demo_sensor_wasm_len},
	[M_FLAKY] = {"flaky", rvm_demo_flaky_wasm, &rvm_demo_flaky_wasm_len},
	[M_FUSION] = {"fusion", rvm_demo_fusion_wasm, &rvm_demo_fusion_wasm_len},
	[M_SINK] = {"sink", rvm_demo_sink_wasm, &rvm_demo_sink_wasm_len},
};
_Static_assert(M_COUNT <= RVM_DEMO_MAX_MODULES, "module arenas");

/*
 * The demo: eight chatty agents in two teams of four (team size 4, mesh of 8, regrouping every
 * 1000 messages), started in partitions that each hold half of both teams, so the coherence
 * engine splits them along the min cut and merges the halves that belong together; a sensor
 * pipeline whose filter divides by zero at its 300th message (F1 restarts it); c5 loses
 * trust once the teams have come together and is split off. examples/demo.json at a size TCG
 * runs in a second or two.
 */
#define CHATTY(i)                                                                                  \
	{                                                                                          \
		"c" #i, M_CHATTY, (i) / 2 % 2,                                                     \
		{                                                                                  \
			i, 4, 8, 1000                                                              \
		}                                                                                  \
	}
static const struct rvm_demo_agent swarm_agents[] = {
	CHATTY(0),
	CHATTY(1),
	CHATTY(2),
	CHATTY(3),
	CHATTY(4),
	CHATTY(5),
	CHATTY(6),
	CHATTY(7),
	{"sensor1", M_SENSOR, 2, {1, 1}},
	{"sensor2", M_SENSOR, 2, {2, 1}},
	{"filter", M_FLAKY, 2, {1, 300}},
	{"fusion", M_FUSION, 3, {1}},
	{"actuator", M_SINK, 3, {0}},
};
#define MESH_FROM(x)                                                                               \
	{x, (x) > 0 ? 0 : 1}, {x, (x) > 1 ? 1 : 2}, {x, (x) > 2 ? 2 : 3}, {x, (x) > 3 ? 3 : 4},    \
		{x, (x) > 4 ? 4 : 5}, {x, (x) > 5 ? 5 : 6},                                        \
	{                                                                                          \
		x, (x) > 6 ? 6 : 7                                                                 \
	}
static const uint8_t swarm_edges[][2] = {
	{8, 10},      {9, 10},	    {10, 11},	  {11, 12}, /* sensors -> filter -> fusion ->
							       actuator */
	MESH_FROM(0), MESH_FROM(1), MESH_FROM(2), MESH_FROM(3), MESH_FROM(4),
	MESH_FROM(5), MESH_FROM(6), MESH_FROM(7),
};

const struct rvm_demo rvm_demo_swarm = {
	.name = "bare-metal demo swarm",
	.modules = modules,
	.nmodules = M_COUNT,
	.agents = swarm_agents,
	.nagents = sizeof(swarm_agents) / sizeof(swarm_agents[0]),
	.edges = swarm_edges,
	.nedges = sizeof(swarm_edges) / sizeof(swarm_edges[0]),
	.nparts = 4,
	.fuel = 20000,
	.trust_agent = 5,
	.trust_to = 20,
	.trust_at_epoch = 5,
};

/* The twin scenario: the sensor pipeline alone, in one partition on one CPU, so the order of
 * slices depends only on fuel and messages; its filter traps at every 200th message. */
static const struct rvm_demo_agent twin_agents[] = {
	{"sensor1", M_SENSOR, 0, {1, 1}}, {"sensor2", M_SENSOR, 0, {2, 1}},
	{"filter", M_FLAKY, 0, {1, 200}}, {"fusion", M_FUSION, 0, {1}},
	{"actuator", M_SINK, 0, {0}},
};
static const uint8_t twin_edges[][2] = {{0, 2}, {1, 2}, {2, 3}, {3, 4}};

const struct rvm_demo rvm_demo_twin = {
	.name = "twin scenario",
	.modules = modules,
	.nmodules = M_COUNT,
	.agents = twin_agents,
	.nagents = sizeof(twin_agents) / sizeof(twin_agents[0]),
	.edges = twin_edges,
	.nedges = sizeof(twin_edges) / sizeof(twin_edges[0]),
	.nparts = 1,
	.fuel = 3000,
	.trust_agent = ~0u,
};

/* The rights `rvm run` gives an agent its manifest says nothing about. */
#define AGENT_RIGHTS                                                                               \
	(RVM_AGENT_RIGHT_SEND | RVM_AGENT_RIGHT_RECV | RVM_AGENT_RIGHT_LOG | RVM_AGENT_RIGHT_TIME)

static enum rvm_err populate(struct rvm_kernel *k, const struct rvm_demo *d,
			     struct rvm_demo_mem *mem, struct rvm_demo_state *st, const char **what)
{
	enum rvm_err err;

	if (d->nmodules > RVM_DEMO_MAX_MODULES || d->nagents > RVM_DEMO_MAX_AGENTS ||
	    d->nparts > RVM_DEMO_MAX_PARTS)
		return RVM_E_RANGE;
	for (uint32_t i = 0; i < d->nmodules; i++) {
		const struct rvm_demo_module *m = &d->modules[i];
		struct rvm_wasm_error werr = {0};

		*what = m->name;
		err = rvm_kernel_module_load(k, m->name, m->wasm, *m->len, mem->module_arena[i],
					     RVM_DEMO_MODULE_ARENA, 0, 0, &st->module[i], &werr);
		if (err != RVM_OK)
			return err;
		rvm_memcpy(st->sha8[i], k->w->modules[st->module[i]].sha, 8);
	}
	*what = "partition";
	for (uint32_t i = 0; i < d->nparts; i++)
		if ((err = rvm_kernel_partition_new(k, i % k->w->ncpus, &st->part[i])) != RVM_OK)
			return err;
	for (uint32_t i = 0; i < d->nagents; i++) {
		const struct rvm_demo_agent *a = &d->agents[i];

		*what = a->name;
		if (a->module >= d->nmodules || a->part >= d->nparts)
			return RVM_E_RANGE;
		err = rvm_kernel_agent_spawn(k, st->module[a->module], a->name, st->part[a->part],
					     AGENT_RIGHTS, 100, a->args, &st->agent[i]);
		if (err != RVM_OK)
			return err;
	}
	*what = "channel";
	for (uint32_t i = 0; i < d->nedges; i++) {
		if (d->edges[i][0] >= d->nagents || d->edges[i][1] >= d->nagents)
			return RVM_E_RANGE;
		err = rvm_kernel_connect(k, st->agent[d->edges[i][0]], st->agent[d->edges[i][1]],
					 NULL);
		if (err != RVM_OK)
			return err;
	}
	*what = NULL;
	return RVM_OK;
}

enum rvm_err rvm_demo_populate(struct rvm_kernel *k, const struct rvm_demo *d,
			       struct rvm_demo_mem *mem, struct rvm_demo_state *st,
			       const char **what)
{
	enum rvm_err err;

	rvm_kernel_lock(k);
	err = populate(k, d, mem, st, what);
	rvm_kernel_unlock(k);
	return err;
}

bool rvm_demo_alive(struct rvm_kernel *k)
{
	bool alive = false;

	rvm_kernel_lock(k);
	for (uint32_t i = 0; i < k->w->nagents && !alive; i++)
		alive = k->w->agents[i].state == RVM_AGENT_READY;
	rvm_kernel_unlock(k);
	return alive;
}

enum rvm_err rvm_demo_run_cpu0(struct rvm_kernel *k, const struct rvm_demo *d, uint32_t slices,
			       uint32_t *ran)
{
	enum rvm_err err = RVM_OK;

	*ran = 0;
	for (uint32_t i = 0; i < slices && err == RVM_OK; i++) {
		struct rvm_slice s;

		err = rvm_kernel_run_slice(k, 0, d->fuel, &s);
		if (err == RVM_OK && s.agent == RVM_AGENT_NONE && !rvm_demo_alive(k))
			break;
		if (err == RVM_OK && s.agent != RVM_AGENT_NONE)
			(*ran)++;
	}
	return err;
}

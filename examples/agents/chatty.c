/* examples/agents/chatty.c - a team member: talks mostly to its team; teams regroup every so often. */
#include "rvm_agent.h"

static int64_t me, team, n, every;

/*
 * args: my index in the mesh, team size, agents in the mesh, messages per phase.
 * The mesh gives agent i an edge to every other agent j, in order, skipping i. In
 * phase ph agent x's team is ((x + ph * team / 2) mod n) / team: every phase half of
 * each team moves on, so the traffic graph's clusters shift.
 */
EXPORT("init") void init(int64_t a0, int64_t a1, int64_t a2, int64_t a3)
{
	me = a0;
	team = a1 > 0 ? a1 : 1;
	n = a2 > 1 ? a2 : 2;
	every = a3 > 0 ? a3 : 1000;
}

static int64_t team_of(int64_t x, int64_t ph)
{
	return ((x + ph * (team / 2 > 0 ? team / 2 : 1)) % n) / team;
}

static int32_t edge_to(int64_t peer)
{
	return (int32_t)(peer < me ? peer : peer - 1);
}

EXPORT("run") void run(void)
{
	uint32_t rng = (uint32_t)(me * 40503u + 7);
	int32_t msg[8] = { 0 }, in[64];

	for (int64_t sent = 0;; sent++) {
		int64_t ph = sent / every, peer;

		/* Mostly to a teammate; one draw in twenty may go to anyone (cross-team chatter). */
		do {
			peer = (int64_t)(rng_next(&rng) % (uint32_t)n);
		} while (peer == me ||
			 (rng % 20 != 0 && team_of(peer, ph) != team_of(me, ph)));
		msg[0] = (int32_t)me;
		msg[1] = (int32_t)sent;
		msg[2] = (int32_t)ph;
		while (rvm_send(edge_to(peer), msg, sizeof(msg)) == RVM_FULL) {
			/* Keep our own inbox moving while we wait: no deadlock between peers. */
			while (rvm_poll(in, sizeof(in)) >= 0)
				;
			rvm_yield();
		}
		while (rvm_poll(in, sizeof(in)) >= 0)
			;
		if (sent % every == 0)
			log_num("phase", ph);
	}
}

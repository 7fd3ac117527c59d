/* examples/agents/hub.c - a hub: spawns its clients, then answers every request on the edge it came in on. */
#include "rvm_agent.h"

static int64_t clients;

/* args: clients to spawn. */
EXPORT("init") void init(int64_t a0, int64_t a1, int64_t a2, int64_t a3)
{
	(void)a1;
	(void)a2;
	(void)a3;
	clients = a0;
}

EXPORT("run") void run(void)
{
	int32_t req[4];

	/* Each spawn connects both ways; with no edges before, in and out indices agree. */
	for (int64_t i = 0; i < clients; i++)
		if (rvm_spawn("client", 6) < 0)
			log_num("spawn failed at", i);
	for (uint32_t n = 1;; n++) {
		recv_wait(req, sizeof(req));
		req[1] += 1; /* the answer: the request's number plus one */
		send_wait(rvm_edge(), req, sizeof(req));
		if (n % 8192 == 0)
			log_num("answered", n);
	}
}

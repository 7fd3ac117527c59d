/* examples/agents/client.c - a client of the hub: request, wait for the answer, check it, repeat. */
#include "rvm_agent.h"

EXPORT("run") void run(void)
{
	int32_t req[4] = { 0 }, ans[4];

	for (int32_t n = 0;; n++) {
		req[0] = 1;
		req[1] = n;
		send_wait(0, req, sizeof(req));
		recv_wait(ans, sizeof(ans));
		if (ans[1] != n + 1)
			__builtin_trap(); /* a wrong answer is a fault: the recovery path restarts us */
	}
}

/* examples/agents/flaky.c - a stage with a latent bug: after a number of messages it traps. */
#include "rvm_agent.h"

static int64_t nout, limit;

/* args: outbound edges, messages handled before the bug strikes. */
EXPORT("init") void init(int64_t a0, int64_t a1, int64_t a2, int64_t a3)
{
	(void)a2;
	(void)a3;
	nout = a0;
	limit = a1 > 0 ? a1 : 1000;
}

static volatile int32_t divisor;

EXPORT("run") void run(void)
{
	int32_t msg[4];

	for (int64_t n = 1;; n++) {
		recv_wait(msg, sizeof(msg));
		/* The bug: an integer division by a value that reaches zero. */
		divisor = (int32_t)(limit - n);
		msg[3] = msg[2] / divisor;
		for (int32_t e = 0; e < nout; e++)
			send_wait(e, msg, sizeof(msg));
	}
}

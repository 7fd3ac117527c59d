/* examples/agents/flaky.c - a stage with a latent bug: past a number of messages it traps. */
#include "rvm_agent.h"

static int64_t nout, limit, period;

/*
 * args: outbound edges, messages handled before the bug can strike, and where the bug is:
 *   period 0 (the default): in the counter - the limit-th message divides by zero, and with the
 *            counter stuck there so does every later one, until the agent is rolled back to a
 *            state before it;
 *   period p > 0: in the data - past the limit, a reading whose sequence number (msg[1]) is a
 *            multiple of p divides by zero: a poison message, which F3 drops.
 */
EXPORT("init") void init(int64_t a0, int64_t a1, int64_t a2, int64_t a3)
{
	(void)a3;
	nout = a0;
	limit = a1 > 0 ? a1 : 1000;
	period = a2 > 0 ? a2 : 0;
}

static volatile int32_t divisor;

EXPORT("run") void run(void)
{
	int32_t msg[4];

	for (int64_t n = 1;; n++) {
		recv_wait(msg, sizeof(msg));
		/* The bug: an integer division by a value that reaches zero. */
		if (period)
			divisor = n >= limit && msg[1] % period == 0 ? 0 : 1;
		else
			divisor = (int32_t)(limit - n);
		msg[3] = msg[2] / divisor;
		for (int32_t e = 0; e < nout; e++)
			send_wait(e, msg, sizeof(msg));
	}
}

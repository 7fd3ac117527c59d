/* examples/agents/filter.c - smooths the readings it receives and forwards them on every outbound edge. */
#include "rvm_agent.h"

static int64_t nout;

/* args: outbound edges. */
EXPORT("init") void init(int64_t a0, int64_t a1, int64_t a2, int64_t a3)
{
	(void)a1;
	(void)a2;
	(void)a3;
	nout = a0;
}

EXPORT("run") void run(void)
{
	int32_t msg[4];
	int64_t ema = 0;

	for (uint32_t n = 0;; n++) {
		if (recv_wait(msg, sizeof(msg)) != sizeof(msg))
			__builtin_trap(); /* malformed input: a fault, taken by the recovery path */
		ema += ((int64_t)msg[2] * 256 - ema) / 8;
		msg[3] = (int32_t)(ema / 256);
		for (int32_t e = 0; e < nout; e++)
			send_wait(e, msg, sizeof(msg));
		if (n % 4096 == 0)
			log_num("smoothed", msg[3]);
	}
}

/* examples/agents/fusion.c - fuses the smoothed streams: an average over every source, forwarded on. */
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
	int32_t msg[4], out[4] = { 0 };
	int64_t sum = 0;

	for (uint32_t n = 1;; n++) {
		recv_wait(msg, sizeof(msg));
		sum += msg[3];
		if (n % 64 == 0) {
			out[0] = -1;
			out[1] = (int32_t)(n / 64);
			out[2] = (int32_t)(sum / 64);
			sum = 0;
			for (int32_t e = 0; e < nout; e++)
				send_wait(e, out, sizeof(out));
			if (n % 8192 == 0)
				log_num("fused", out[2]);
		}
	}
}

/* examples/agents/sensor.c - a sensor: emits readings on every outbound edge, as fast as they are taken. */
#include "rvm_agent.h"

static int64_t id, nout;

/* args: sensor number, outbound edges. */
EXPORT("init") void init(int64_t a0, int64_t a1, int64_t a2, int64_t a3)
{
	(void)a2;
	(void)a3;
	id = a0;
	nout = a1 > 0 ? a1 : 1;
}

EXPORT("run") void run(void)
{
	uint32_t rng = (uint32_t)(id * 2654435761u + 1);
	int32_t msg[4];

	for (int32_t seq = 0;; seq++) {
		/* A reading: a slow wave per sensor plus noise. */
		msg[0] = (int32_t)id;
		msg[1] = seq;
		msg[2] = (int32_t)((seq % 200) - 100) * (int32_t)(id + 1) + (int32_t)(rng_next(&rng) % 16);
		msg[3] = 0;
		for (int32_t e = 0; e < nout; e++)
			send_wait(e, msg, sizeof(msg));
		if (seq % 4096 == 0)
			log_num("reading", msg[2]);
	}
}

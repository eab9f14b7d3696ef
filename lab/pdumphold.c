/* pdumphold.so: preloaded into a lab primary, it holds the primary's lcore
 * inside dpdk-pdump's packet callback while the file PDUMPHOLD_FILE exists
 * (from the first packet copied after it appears; 60 s at most), as a
 * preemption on a loaded machine does for a moment. pdump's callback (DPDK
 * 22.11, V1 as dpdk-pdump asks) copies each packet with rte_pktmbuf_copy
 * into the capture's mempool, so wrapping that call stops the lcore there.
 * internal/lab's TestVariantPdumpDetachMidCallback detaches a capture
 * while the primary is held there. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct rte_mbuf;
struct rte_mempool;

typedef struct rte_mbuf *copy_fn(const struct rte_mbuf *, struct rte_mempool *, uint32_t, uint32_t);

struct rte_mbuf *rte_pktmbuf_copy(const struct rte_mbuf *m, struct rte_mempool *mp,
				  uint32_t offset, uint32_t length)
{
	static copy_fn *real;
	static int fired;
	const char *hold = getenv("PDUMPHOLD_FILE");

	if (real == NULL)
		real = (copy_fn *)dlsym(RTLD_NEXT, "rte_pktmbuf_copy");
	if (!fired && hold != NULL && access(hold, F_OK) == 0) {
		fired = 1;
		fprintf(stderr, "pdumphold: holding the lcore inside pdump's callback\n");
		for (int i = 0; i < 6000 && access(hold, F_OK) == 0; i++)
			usleep(10000);
		fprintf(stderr, "pdumphold: copying into mempool %p again\n", (void *)mp);
	}
	return real(m, mp, offset, length);
}

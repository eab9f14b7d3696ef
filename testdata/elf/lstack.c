/* A stand-in for liblstack.so: calls rte_eal_init and rte_pdump_init like
 * lstack's dpdk_eal_init() does. Linked by elfcheck's tests against
 * Debian's librte_*.so, with and without librte_net_pcap. */
#include <rte_eal.h>
#include <rte_pdump.h>

int lstack_init(int argc, char **argv)
{
	if (rte_eal_init(argc, argv) < 0)
		return -1;
	return rte_pdump_init();
}

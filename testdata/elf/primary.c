/* A DPDK primary like the lab's: EAL, then rte_pdump_init(). Built by
 * elfcheck's tests shared (pkg-config --libs libdpdk) and static (the
 * librte_*.a archives, with and without the pcap PMD). */
#include <rte_eal.h>
#include <rte_pdump.h>

int main(int argc, char **argv)
{
	if (rte_eal_init(argc, argv) < 0)
		return 1;
	return rte_pdump_init() == 0 ? 0 : 1;
}

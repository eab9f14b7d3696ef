/* SPDX-License-Identifier: MIT
 * lab-primary as an executable: EAL arguments on the command line, like
 * ltran or a DPDK application of its own. */
#include "primary.h"

int main(int argc, char **argv)
{
	int ret = lab_primary_start(argc, argv);

	if (ret != 0)
		return ret;
	return lab_primary_run();
}

/* SPDX-License-Identifier: MIT
 *
 * lab-app: an application with no DPDK of its own, the kind Gazelle users
 * run with LD_PRELOAD=liblstack.so. It only waits; the preloaded library's
 * primary decides when the process ends. Without a preloaded primary it
 * ends after --max-seconds (default 3600) so it can never linger. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long max = 3600;

	if (argc == 3 && strcmp(argv[1], "--max-seconds") == 0)
		max = strtol(argv[2], NULL, 10);
	else if (argc != 1) {
		fprintf(stderr, "usage: %s [--max-seconds N]\n", argv[0]);
		return 2;
	}
	printf("lab-app: main running pid=%d\n", (int)getpid());
	fflush(stdout);
	for (long i = 0; i < max; i++)
		sleep(1);
	return 0;
}

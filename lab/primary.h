/* SPDX-License-Identifier: MIT
 * The lab primary's entry points, shared by the executable (main.c) and the
 * liblstack-like shared library (lstack.c). */
#ifndef GZLAB_PRIMARY_H
#define GZLAB_PRIMARY_H

/* lab_primary_start initialises the EAL from argv ("prog [EAL] -- [app
 * args]"), starts the ports and prints the ready line. It returns 0, or the
 * exit status to end the process with (the EAL is cleaned up then). */
int lab_primary_start(int argc, char **argv);

/* lab_primary_run runs until SIGINT/SIGTERM (or --count), prints the final
 * counters and cleans up the EAL; it returns the exit status. */
int lab_primary_run(void);

#endif

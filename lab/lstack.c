/* SPDX-License-Identifier: MIT
 *
 * liblstack.so, the lab's stand-in for Gazelle's: a shared library that is
 * LD_PRELOADed into an application with no DPDK of its own and starts the
 * lab primary from its constructor, with the EAL arguments of the
 * dpdk_args list in the lstack.conf that LSTACK_CONF_PATH names (default
 * /etc/gazelle/lstack.conf, as lstack). The lab's own options (--rate,
 * --stats, ...) come from a lab_args list in the same file. The primary then
 * runs on a thread of its own while the application's main goes on.
 *
 * Only the two lists are read, with a small parser for the one form they
 * take: key = [ "string", ... ]; (or key: [...]), # and // comments.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "primary.h"

#define MAX_ARGS 64
#define DEFAULT_CONF "/etc/gazelle/lstack.conf"

static char *argbuf[2 * MAX_ARGS + 3];

/* skip_space skips blanks and comments. */
static const char *skip_space(const char *p)
{
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			while (*p && *p != '\n')
				p++;
			continue;
		}
		if (p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");
			p = e ? e + 2 : p + strlen(p);
			continue;
		}
		return p;
	}
}

/* find_list returns the text after the '[' of `key = [`, or NULL. */
static const char *find_list(const char *text, const char *key)
{
	size_t n = strlen(key);

	for (const char *p = skip_space(text); *p; p = skip_space(p)) {
		if (strncmp(p, key, n) == 0 && (p == text || !(isalnum((unsigned char)p[-1]) || p[-1] == '_')) &&
		    !(isalnum((unsigned char)p[n]) || p[n] == '_')) {
			const char *q = skip_space(p + n);
			if (*q == '=' || *q == ':') {
				q = skip_space(q + 1);
				if (*q == '[')
					return q + 1;
				return NULL;
			}
		}
		/* Next token: a string is skipped whole so a key inside it does
		 * not count. */
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
			if (*p)
				p++;
		} else {
			p++;
		}
	}
	return NULL;
}

/* parse_list appends the strings of a list to argv; -1 on a malformed list. */
static int parse_list(const char *p, int *argc, int max)
{
	for (;;) {
		p = skip_space(p);
		if (*p == ']')
			return 0;
		if (*p != '"' || *argc >= max)
			return -1;
		p++;
		char *s = malloc(strlen(p) + 1), *w = s;
		if (s == NULL)
			return -1;
		while (*p && *p != '"') {
			if (*p == '\\' && p[1])
				p++;
			*w++ = *p++;
		}
		if (*p != '"') {
			free(s);
			return -1;
		}
		*w = '\0';
		argbuf[(*argc)++] = s;
		p = skip_space(p + 1);
		if (*p == ',')
			p++;
	}
}

static void *run_primary(void *arg)
{
	(void)arg;
	/* The primary owns the process's life, as lstack does: when it stops
	 * (SIGINT, SIGTERM) the application ends with it. */
	exit(lab_primary_run());
	return NULL;
}

__attribute__((constructor)) static void lstack_init(void)
{
	const char *conf = getenv("LSTACK_CONF_PATH");
	FILE *f;
	char *text;
	long size;
	int argc = 0;

	if (conf == NULL || *conf == '\0')
		conf = DEFAULT_CONF;
	f = fopen(conf, "r");
	if (f == NULL) {
		fprintf(stderr, "liblstack: cannot open %s: %s\n", conf, strerror(errno));
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)(size > 0 ? size : 0) + 1);
	if (text == NULL || (size > 0 && fread(text, 1, (size_t)size, f) != (size_t)size)) {
		fprintf(stderr, "liblstack: cannot read %s\n", conf);
		exit(1);
	}
	fclose(f);

	argbuf[argc++] = "liblstack";
	const char *dpdk = find_list(text, "dpdk_args");
	if (dpdk == NULL) {
		fprintf(stderr, "liblstack: %s: no dpdk_args = [\"...\", ...] list\n", conf);
		exit(1);
	}
	if (parse_list(dpdk, &argc, MAX_ARGS) < 0) {
		fprintf(stderr, "liblstack: %s: dpdk_args is not a list of strings (at most %d)\n",
			conf, MAX_ARGS);
		exit(1);
	}
	const char *app = find_list(text, "lab_args");
	if (app != NULL) {
		argbuf[argc++] = "--";
		if (parse_list(app, &argc, 2 * MAX_ARGS + 1) < 0) {
			fprintf(stderr, "liblstack: %s: lab_args is not a list of strings\n", conf);
			exit(1);
		}
	}
	argbuf[argc] = NULL;
	free(text);

	printf("liblstack: starting the EAL with the dpdk_args of %s\n", conf);
	fflush(stdout);
	int ret = lab_primary_start(argc, argbuf);
	if (ret != 0)
		exit(ret);
	pthread_t t;
	if (pthread_create(&t, NULL, run_primary, NULL) != 0) {
		fprintf(stderr, "liblstack: cannot start the primary's thread\n");
		exit(1);
	}
	pthread_detach(t);
}

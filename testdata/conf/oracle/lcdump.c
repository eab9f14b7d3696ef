/*
 * lcdump: parse a libconfig file with the real libconfig and print the tree
 * in the canonical form of host/libconfig's Config.Dump (one line per node:
 * path, type, value, and the line of named settings). On a parse error it
 * prints "ERROR<TAB>line<TAB>text" and exits 1. Built by host/libconfig's
 * oracle test.
 */
#include <libconfig.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *type_name(int t)
{
	switch (t) {
	case CONFIG_TYPE_INT: return "int";
	case CONFIG_TYPE_INT64: return "int64";
	case CONFIG_TYPE_FLOAT: return "float";
	case CONFIG_TYPE_STRING: return "string";
	case CONFIG_TYPE_BOOL: return "bool";
	case CONFIG_TYPE_ARRAY: return "array";
	case CONFIG_TYPE_LIST: return "list";
	case CONFIG_TYPE_GROUP: return "group";
	}
	return "none";
}

static void dump(config_setting_t *s, const char *path)
{
	int t = config_setting_type(s);
	int i, n;
	char child[4096];

	printf("%s\t%s\t", path, type_name(t));
	switch (t) {
	case CONFIG_TYPE_INT:
		printf("%d", config_setting_get_int(s));
		if (config_setting_get_format(s) == CONFIG_FORMAT_HEX)
			printf(" hex");
		break;
	case CONFIG_TYPE_INT64:
		printf("%lld", (long long)config_setting_get_int64(s));
		if (config_setting_get_format(s) == CONFIG_FORMAT_HEX)
			printf(" hex");
		break;
	case CONFIG_TYPE_FLOAT:
		printf("%.17g", config_setting_get_float(s));
		break;
	case CONFIG_TYPE_BOOL:
		printf("%s", config_setting_get_bool(s) ? "true" : "false");
		break;
	case CONFIG_TYPE_STRING: {
		const unsigned char *p = (const unsigned char *)config_setting_get_string(s);
		for (; p && *p; p++)
			printf("%02x", *p);
		break;
	}
	default:
		printf("%d", config_setting_length(s));
	}
	if (config_setting_name(s) != NULL)
		printf("\t%u", config_setting_source_line(s));
	printf("\n");

	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST && t != CONFIG_TYPE_GROUP)
		return;
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		config_setting_t *c = config_setting_get_elem(s, i);
		if (t == CONFIG_TYPE_GROUP)
			snprintf(child, sizeof child, "%s%s%s", path, *path ? "." : "", config_setting_name(c));
		else
			snprintf(child, sizeof child, "%s[%d]", path, i);
		dump(c, child);
	}
}

int main(int argc, char **argv)
{
	config_t cfg;
	config_setting_t *root;
	char *dir;
	int i, n;

	if (argc != 2) {
		fprintf(stderr, "usage: lcdump FILE\n");
		return 2;
	}
	config_init(&cfg);
	dir = strdup(argv[1]);
	config_set_include_dir(&cfg, dirname(dir));
	if (!config_read_file(&cfg, argv[1])) {
		printf("ERROR\t%d\t%s\n", config_error_line(&cfg), config_error_text(&cfg));
		return 1;
	}
	root = config_root_setting(&cfg);
	n = config_setting_length(root);
	for (i = 0; i < n; i++) {
		config_setting_t *c = config_setting_get_elem(root, i);
		dump(c, config_setting_name(c));
	}
	config_destroy(&cfg);
	free(dir);
	return 0;
}

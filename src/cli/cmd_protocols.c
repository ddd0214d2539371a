/* treadlab protocols | protocol show NAME | protocol check FILE */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json_out.h"
#include "protocol_files.h"
#include "units.h"

static bool take_flag(int *argc, char **argv, const char *flag)
{
	for (int i = 0; i < *argc; i++)
		if (!strcmp(argv[i], flag)) {
			memmove(&argv[i], &argv[i + 1], sizeof *argv * (size_t)(*argc - i - 1));
			(*argc)--;
			return true;
		}
	return false;
}

int cmd_protocols(int argc, char **argv)
{
	bool json = take_flag(&argc, argv, "--json");
	if (argc)
		return cli_usage("protocols: unexpected argument '%s'", argv[0]);
	struct tl_err err;
	char **names;
	int n = tl_protocol_list(NULL, &names, &err);
	if (n < 0)
		return cli_fail("%s", err.msg);
	int rc = 0;
	json_t *arr = json_array();
	for (int i = 0; i < n; i++) {
		struct tl_protocol p;
		if (tl_protocol_load_name(NULL, names[i], NULL, &p, &err)) {
			rc = cli_fail("%s", err.msg);
			continue;
		}
		if (json)
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "name", p.name,
							     "title", p.title, "reference", p.reference));
		else
			printf("%-22s %s\n%-22s   %s\n", p.name, p.title, "", p.reference);
	}
	if (json)
		tl_json_print(arr);
	json_decref(arr);
	tl_protocol_names_free(names, n);
	return rc;
}

static void print_table(const struct tl_protocol *p)
{
	printf("%s: %s\n%s\nunits %s, endpoint %s, maximum %.0f s\n\n", p->name, p->title,
	       p->reference, tl_units_name(p->units), tl_endpoint_name(p->endpoint),
	       p->max_duration_ms / 1000.0);
	printf("%5s %-5s %9s %9s %9s %8s %7s\n", "stage", "kind", "start_s", "length_s", "km/h",
	       "mph", "grade%");
	for (size_t i = 0; i < p->n_stages; i++) {
		const struct tl_stage *s = &p->stages[i];
		printf("%5zu %-5s %9.1f %9.1f %9.3f %8.2f %7.1f\n", i + 1, tl_stage_kind_name(s->kind),
		       s->start_ms / 1000.0, s->duration_ms / 1000.0, s->speed_kmh,
		       tl_kmh_to_mph(s->speed_kmh), s->grade_pct);
	}
}

int cmd_protocol(int argc, char **argv)
{
	if (argc < 1)
		return cli_usage("protocol: expected 'show NAME' or 'check FILE'");
	struct tl_err err;
	struct tl_protocol p;
	if (!strcmp(argv[0], "show")) {
		argc--, argv++;
		bool json = take_flag(&argc, argv, "--json");
		if (argc != 1)
			return cli_usage("protocol show: expected one protocol name");
		if (tl_protocol_load_name(NULL, argv[0], NULL, &p, &err))
			return cli_fail("%s", err.msg);
		if (json) {
			json_t *j = tl_json_protocol(&p);
			tl_json_print(j);
			json_decref(j);
		} else {
			print_table(&p);
		}
		return 0;
	}
	if (!strcmp(argv[0], "check")) {
		if (argc != 2)
			return cli_usage("protocol check: expected one file");
		if (tl_protocol_load_file(argv[1], NULL, &p, &err))
			return cli_fail("%s", err.msg);
		printf("%s: ok (%zu stages, %.0f s)\n", argv[1], p.n_stages,
		       tl_protocol_length_ms(&p) / 1000.0);
		return 0;
	}
	return cli_usage("protocol: unknown subcommand '%s' (show, check)", argv[0]);
}

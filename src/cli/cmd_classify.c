/* treadlab classify FILE|- [--json] [--lower-ankle]
 *
 * Reads a findings document and prints the classification: red flags first (they
 * matter whatever the category), then the warnings about the measurement, the category,
 * the walking endpoints (censored ones say so), the ABI table, the severity grades with
 * their criteria, the findings with their sources and the rationale. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classifier.h"
#include "cli.h"
#include "findings_json.h"
#include "json_out.h"
#include "protocol_files.h"

/* "0.70" or "-" when not computable. */
static const char *fmt_index(char *buf, size_t n, struct tl_index i)
{
	if (!i.has)
		return "-";
	if (i.noncompressible)
		return "n/c"; /* an ankle artery not compressible at the cuff's maximum */
	snprintf(buf, n, "%.2f", tl_index_value(i));
	return buf;
}

static void print_flags(const struct tl_classification *c)
{
	if (!c->n_red_flags) {
		printf("red flags: none\n\n");
		return;
	}
	printf("RED FLAGS\n");
	for (size_t i = 0; i < c->n_red_flags; i++)
		printf("  !! %s: %s\n", tl_red_flag_name(c->red_flags[i].code),
		       c->red_flags[i].reason);
	printf("\n");
}

static void print_warnings(const struct tl_classification *c)
{
	if (!c->n_warnings)
		return;
	printf("WARNINGS\n");
	for (size_t i = 0; i < c->n_warnings; i++)
		printf("  ! %s\n      source: %s\n", c->warnings[i].text, c->warnings[i].source);
	printf("\n");
}

static void print_endpoints(const struct tl_classification *c)
{
	if (!c->pwt.has && !c->acd.has)
		return;
	printf("PWT  %s\n", c->pwt.has ? c->pwt.text : "-");
	printf("ACD  %s\n\n", c->acd.has ? c->acd.text : "-");
}

static void print_grade(const char *name, const struct tl_grade *g)
{
	printf("  %-12s %-5s %s\n", name, g->has ? g->grade : "-", g->criteria);
}

static void print_severity(const struct tl_severity *sv)
{
	printf("severity:\n");
	for (int s = 0; s < TL_N_SIDES; s++) {
		char label[24];
		snprintf(label, sizeof label, "ABI %s", tl_side_name((enum tl_side)s));
		if (sv->has_band[s])
			printf("  %-12s %s: %s\n", label, tl_abi_band_name(sv->band[s]),
			       tl_abi_band_criteria(sv->band[s]));
		else
			printf("  %-12s -\n", label);
	}
	print_grade("Rutherford", &sv->rutherford);
	print_grade("Fontaine", &sv->fontaine);
	printf("  source: %s; %s\n\n", sv->rutherford.source, sv->fontaine.source);
}

static void print_leg_cell(const struct tl_abi_leg *leg)
{
	char b[16];
	char cell[40];
	snprintf(cell, sizeof cell, "%s %s", fmt_index(b, sizeof b, leg->rest),
		 leg->rest.has ? tl_abi_category_name(leg->rest_category) : "");
	printf("  %-24s", cell);
}

static void print_post_cell(const struct tl_abi_post *p)
{
	char b[16], fall[16] = "-", ankle[16] = "-", cell[64];
	if (p->has_fall_pct)
		snprintf(fall, sizeof fall, "%.0f%%", p->fall_pct);
	if (p->has_ankle_fall)
		snprintf(ankle, sizeof ankle, "%.0f", p->ankle_fall_mmhg);
	snprintf(cell, sizeof cell, "%s fall %s / %s mmHg", fmt_index(b, sizeof b, p->abi), fall,
		 ankle);
	printf("  %-24s", cell);
}

/* Criteria lists are too wide for a table cell: one line per leg. */
static void print_criteria(const struct tl_abi_leg *leg, enum tl_side side)
{
	printf("criteria %-5s ", tl_side_name(side));
	if (leg->changes_not_interpreted) {
		printf(" not interpreted (resting ABI > 1.40)\n");
		return;
	}
	int n = 0;
	for (int i = 0; i < TL_N_CRITERIA; i++)
		if (leg->criteria & tl_abi_criteria[i])
			printf("%s%s", n++ ? ", " : " ", tl_abi_criterion_name(tl_abi_criteria[i]));
	printf("%s\n", n ? "" : " none");
}

static void print_abi(const struct tl_abi_result *r)
{
	const struct tl_abi_leg *l = &r->leg[TL_LEFT], *rt = &r->leg[TL_RIGHT];
	char b[16];
	printf("%-14s  %-24s  %-24s\n", "ABI", "left", "right");
	printf("%-14s", "rest");
	print_leg_cell(l);
	print_leg_cell(rt);
	printf("\n%-14s", "TBI");
	for (int s = 0; s < TL_N_SIDES; s++) {
		const struct tl_abi_leg *leg = &r->leg[s];
		char cell[40];
		snprintf(cell, sizeof cell, "%s %s", fmt_index(b, sizeof b, leg->tbi),
			 leg->tbi.has ? tl_tbi_category_name(leg->tbi_category) : "");
		printf("  %-24s", cell);
	}
	printf("\n");
	for (size_t i = 0; i < l->n_post; i++) {
		printf("post %5g min", l->post[i].minute);
		print_post_cell(&l->post[i]);
		print_post_cell(&rt->post[i]);
		printf("\n");
	}
	printf("%-14s", "recovery");
	for (int s = 0; s < TL_N_SIDES; s++) {
		const struct tl_abi_leg *leg = &r->leg[s];
		char cell[24] = "-";
		if (leg->has_recovery)
			snprintf(cell, sizeof cell, "%g min", leg->recovery_min);
		printf("  %-24s", cell);
	}
	printf("\n");
	print_criteria(l, TL_LEFT);
	print_criteria(rt, TL_RIGHT);
	printf("\n");
}

static void print_report(const struct tl_classification *c)
{
	print_flags(c);
	print_warnings(c);
	printf("category: %s\n\n", tl_category_name(c->category));
	print_endpoints(c);
	print_abi(&c->abi);
	print_severity(&c->severity);
	printf("findings:\n");
	if (!c->n_findings)
		printf("  none\n");
	for (size_t i = 0; i < c->n_findings; i++) {
		const struct tl_finding *f = &c->findings[i];
		printf("  [%s %d] %s\n      source: %s\n", tl_points_to_name(f->points_to), f->weight,
		       f->finding, f->source);
	}
	printf("\nrationale:\n");
	for (size_t i = 0; i < c->n_rationale; i++)
		printf("  - %s\n", c->rationale[i]);
}

int cmd_classify(int argc, char **argv)
{
	const char *file = NULL;
	bool json = false;
	struct tl_abi_options opt = TL_ABI_OPTIONS_DEFAULT;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--lower-ankle"))
			opt.ankle_rule = TL_ANKLE_LOWER;
		else if (argv[i][0] == '-' && argv[i][1])
			return cli_usage("classify: unknown option '%s'", argv[i]);
		else if (file)
			return cli_usage("classify: expected one FILE (or - for stdin)");
		else
			file = argv[i];
	}
	if (!file)
		return cli_usage("classify: expected FILE|- [--json] [--lower-ankle]");
	bool use_stdin = !strcmp(file, "-");
	const char *label = use_stdin ? "stdin" : file;
	struct tl_err err;
	size_t len;
	char *text = tl_read_file(use_stdin ? "/dev/stdin" : file, &len, &err);
	if (!text)
		return cli_fail("%s", err.msg);
	struct tl_findings f;
	int rc = tl_findings_parse(text, len, &f, &err);
	free(text);
	if (rc)
		return cli_fail("%s: %s", label, err.msg);
	struct tl_classification c;
	if (tl_classify(&f, &opt, &c, &err))
		return cli_fail("%s: %s", label, err.msg);
	if (json) {
		json_t *j = tl_classification_to_json(&c);
		if (!j)
			return cli_fail("out of memory");
		tl_json_print(j);
		json_decref(j);
	} else {
		print_report(&c);
	}
	return 0;
}

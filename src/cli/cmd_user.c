/* treadlab user add NAME --role ROLE | passwd NAME | disable NAME | enable NAME |
 * list [--json]: operator accounts, through the daemon's API (docs/api.md, Accounts).
 *
 * A new password is read from the terminal without echo, twice, or, when standard
 * input is not a terminal, as its first line (for scripts: printf '%s\n' "$pw" | ...). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "api_client.h"
#include "cli.h"
#include "json_out.h"
#include "password.h"
#include "store.h"

/* Room for the longest password, its newline and one byte more to notice a longer one. */
#define PW_CAP (TL_PASSWORD_MAX_BYTES + 3)

/* One line of fd 0 into buf (no newline); -1 at end of input or on a line too long. */
static int read_line(char *buf, size_t cap)
{
	if (!fgets(buf, (int)cap, stdin))
		return -1;
	size_t n = strcspn(buf, "\n");
	bool whole = buf[n] == '\n' || feof(stdin);
	buf[n] = '\0';
	if (n && buf[n - 1] == '\r')
		buf[n - 1] = '\0';
	if (!whole) {
		int ch;
		while ((ch = getchar()) != EOF && ch != '\n')
			;
		return -2;
	}
	return 0;
}

/* Asks on the terminal with echo off; the terminal's settings are put back. Echo goes
 * off (dropping what was typed ahead) before the prompt shows, so that nothing typed
 * after the prompt is dropped or echoed. */
static int ask(const char *prompt, char *buf, size_t cap)
{
	struct termios old, quiet;
	if (tcgetattr(STDIN_FILENO, &old))
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet))
		return -1;
	fputs(prompt, stderr);
	fflush(stderr);
	int rc = read_line(buf, cap);
	tcsetattr(STDIN_FILENO, TCSADRAIN, &old);
	return rc;
}

/* The new password of name into pw (PW_CAP bytes); 0, or the exit status after saying why. */
static int new_password(const char *cmd, const char *name, char *pw)
{
	int rc;
	if (isatty(STDIN_FILENO)) {
		char prompt[96], again[PW_CAP];
		snprintf(prompt, sizeof prompt, "New password for %s: ", name);
		rc = ask(prompt, pw, PW_CAP);
		if (rc == 0)
			rc = ask("The same again: ", again, sizeof again);
		if (rc == 0 && strcmp(pw, again))
			rc = -3;
		tl_password_wipe(again, sizeof again);
	} else {
		rc = read_line(pw, PW_CAP);
	}
	if (rc == -1)
		return cli_fail("%s: no password given (standard input %s)", cmd,
				isatty(STDIN_FILENO) ? "closed" : "had no line");
	if (rc == -2)
		return cli_fail("%s: the password is longer than %d bytes", cmd,
				TL_PASSWORD_MAX_BYTES);
	if (rc == -3)
		return cli_fail("%s: the two passwords differ; nothing was changed", cmd);
	const char *why = tl_password_refused(pw);
	if (why)
		return cli_fail("%s: the password is %s (at least %d characters, at most %d bytes, "
				"no control characters)", cmd, why, TL_PASSWORD_MIN_CHARS,
				TL_PASSWORD_MAX_BYTES);
	return 0;
}

static int check_name(const char *cmd, const char *name)
{
	if (tl_store_user_name_ok(name))
		return 0;
	return cli_usage("%s: '%s' is not a user name (1 to %d of a-z 0-9 . _ - starting with a "
			 "letter or digit)", cmd, name, TL_STORE_USER_NAME_MAX);
}

/* Sends body (taken) with a password field set from pw, then wipes what it can. */
static json_t *call_with_password(const struct tl_client *c, const char *method,
				  const char *path, json_t *body, char *pw)
{
	json_object_set_new(body, "password", json_string(pw));
	tl_password_wipe(pw, PW_CAP);
	json_t *r = tl_client_call(c, method, path, body);
	json_t *v = json_object_get(body, "password");
	if (json_string_value(v))
		tl_password_wipe((char *)json_string_value(v), json_string_length(v));
	json_decref(body);
	return r;
}

static int user_add(const struct tl_client *c, int argc, char **argv)
{
	const char *name = NULL, *role = NULL;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--role")) {
			if (i + 1 >= argc)
				return cli_usage("user add: --role needs a value");
			role = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return cli_usage("user add: unknown option '%s'", argv[i]);
		} else if (!name) {
			name = argv[i];
		} else {
			return cli_usage("user add: unexpected argument '%s'", argv[i]);
		}
	}
	if (!name || !role)
		return cli_usage("user add: expected NAME --role technician|physician|admin");
	int rc = check_name("user add", name);
	if (rc)
		return rc;
	if (!tl_store_user_role_ok(role))
		return cli_usage("user add: role '%s' is not technician, physician or admin", role);
	char pw[PW_CAP];
	if ((rc = new_password("user add", name, pw))) {
		tl_password_wipe(pw, sizeof pw);
		return rc;
	}
	json_t *r = call_with_password(c, "POST", "/v1/users",
				       json_pack("{s:s, s:s}", "name", name, "role", role), pw);
	if (!r)
		return 1;
	printf("user %s added (%s)\n", name, role);
	json_decref(r);
	return 0;
}

static int user_change(const struct tl_client *c, const char *cmd, int argc, char **argv)
{
	if (argc != 1)
		return cli_usage("user %s: expected one user name", cmd);
	const char *name = argv[0];
	char what[32];
	snprintf(what, sizeof what, "user %s", cmd);
	int rc = check_name(what, name);
	if (rc)
		return rc;
	char path[96];
	snprintf(path, sizeof path, "/v1/users/%s", name);
	json_t *r;
	if (!strcmp(cmd, "passwd")) {
		char pw[PW_CAP];
		if ((rc = new_password(what, name, pw))) {
			tl_password_wipe(pw, sizeof pw);
			return rc;
		}
		r = call_with_password(c, "PUT", path, json_object(), pw);
	} else {
		json_t *body = json_pack("{s:b}", "disabled", !strcmp(cmd, "disable"));
		r = tl_client_call(c, "PUT", path, body);
		json_decref(body);
	}
	if (!r)
		return 1;
	if (!strcmp(cmd, "passwd"))
		printf("password of %s changed; their open sessions are ended\n", name);
	else if (!strcmp(cmd, "disable"))
		printf("user %s disabled; their open sessions are ended\n", name);
	else
		printf("user %s enabled\n", name);
	json_decref(r);
	return 0;
}

static int user_list(const struct tl_client *c, int argc, char **argv)
{
	bool json = false;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else
			return cli_usage("user list: unexpected argument '%s'", argv[i]);
	}
	json_t *r = tl_client_call(c, "GET", "/v1/users", NULL);
	if (!r)
		return 1;
	if (json) {
		tl_json_print(r);
	} else if (json_array_size(r) == 0) {
		printf("no users: add one with 'treadlab user add NAME --role admin'\n");
	} else {
		printf("%-32s %-10s %-8s %s\n", "name", "role", "state", "changed");
		size_t i;
		json_t *u;
		json_array_foreach(r, i, u)
			printf("%-32s %-10s %-8s %s\n", json_string_value(json_object_get(u, "name")),
			       json_string_value(json_object_get(u, "role")),
			       json_is_true(json_object_get(u, "disabled")) ? "disabled" : "active",
			       json_string_value(json_object_get(u, "updated_at")));
	}
	json_decref(r);
	return 0;
}

int cmd_user(int argc, char **argv)
{
	struct tl_client c;
	if (tl_client_init(&c, &argc, argv))
		return 1;
	if (argc < 1)
		return cli_usage("user: expected add, passwd, disable, enable or list");
	const char *sub = argv[0];
	argc--, argv++;
	if (!strcmp(sub, "add"))
		return user_add(&c, argc, argv);
	if (!strcmp(sub, "passwd") || !strcmp(sub, "disable") || !strcmp(sub, "enable"))
		return user_change(&c, sub, argc, argv);
	if (!strcmp(sub, "list"))
		return user_list(&c, argc, argv);
	return cli_usage("user: unknown subcommand '%s' (add, passwd, disable, enable, list)", sub);
}

/* treadlab sign ID --user NAME: a physician signs a finished test's report. The password
 * is asked at every signature (from the terminal without echo, or standard input's first
 * line), as the signature is the signer's own act. */
int cmd_sign(int argc, char **argv)
{
	struct tl_client c;
	if (tl_client_init(&c, &argc, argv))
		return 1;
	const char *id = NULL, *user = NULL;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--user") && i + 1 < argc)
			user = argv[++i];
		else if (argv[i][0] != '-' && !id)
			id = argv[i];
		else
			return cli_usage("sign: unexpected argument '%s' (sign ID --user NAME)", argv[i]);
	}
	if (!id || !user)
		return cli_usage("sign: expected a test id and --user NAME (a physician's account)");
	char *end;
	errno = 0;
	long long n = strtoll(id, &end, 10);
	if (*end || errno || n <= 0)
		return cli_usage("sign: '%s' is not a test id (a positive number)", id);
	int rc = check_name("sign", user);
	if (rc)
		return rc;
	char pw[PW_CAP];
	if (isatty(STDIN_FILENO)) {
		char prompt[96];
		snprintf(prompt, sizeof prompt, "Password of %s, to sign test %lld: ", user, n);
		rc = ask(prompt, pw, sizeof pw);
	} else {
		rc = read_line(pw, sizeof pw);
	}
	if (rc < 0) {
		tl_password_wipe(pw, sizeof pw);
		return cli_fail("sign: no password given");
	}
	char path[64];
	snprintf(path, sizeof path, "/v1/tests/%lld/sign", n);
	json_t *r = call_with_password(&c, "POST", path, json_pack("{s:s}", "user", user), pw);
	if (!r)
		return 1;
	printf("test %lld: report version %lld signed by %s at %s (sha-256 %s)\n", n,
	       (long long)json_integer_value(json_object_get(r, "version")),
	       json_string_value(json_object_get(r, "signed_by")),
	       json_string_value(json_object_get(r, "signed_at")),
	       json_string_value(json_object_get(r, "pdf_sha256")));
	/* what went to the outbox: "queued", or "not sent: missing ..." (docs/records.md) */
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(r, "outbox"), k, v)
		printf("test %lld: %s %s\n", n, k, json_string_value(v));
	json_decref(r);
	return 0;
}

/* treadlab ports [--json]: the serial ports libserialport sees, with their USB ids. */
#include <jansson.h>
#include <libserialport.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "json_out.h"

static json_t *port_json(struct sp_port *p)
{
	const char *desc = sp_get_port_description(p);
	json_t *j = json_pack("{s:s, s:s}", "name", sp_get_port_name(p), "description",
			      desc ? desc : "");
	enum sp_transport t = sp_get_port_transport(p);
	json_object_set_new(j, "transport",
			    json_string(t == SP_TRANSPORT_USB ? "usb"
					: t == SP_TRANSPORT_BLUETOOTH ? "bluetooth" : "native"));
	int vid, pid;
	if (t == SP_TRANSPORT_USB && sp_get_port_usb_vid_pid(p, &vid, &pid) == SP_OK) {
		char id[16];
		snprintf(id, sizeof id, "%04x:%04x", (unsigned)vid & 0xffffu, (unsigned)pid & 0xffffu);
		json_object_set_new(j, "usb_id", json_string(id));
		const char *serial = sp_get_port_usb_serial(p);
		if (serial)
			json_object_set_new(j, "usb_serial", json_string(serial));
	}
	return j;
}

int cmd_ports(int argc, char **argv)
{
	bool json = false;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else
			return cli_usage("ports: unexpected argument '%s'", argv[i]);
	}
	struct sp_port **ports;
	if (sp_list_ports(&ports) != SP_OK) {
		char *msg = sp_last_error_message();
		int rc = cli_fail("cannot list serial ports: %s", msg ? msg : "error");
		sp_free_error_message(msg);
		return rc;
	}
	json_t *arr = json_array();
	for (size_t i = 0; ports[i]; i++)
		json_array_append_new(arr, port_json(ports[i]));
	sp_free_port_list(ports);
	if (json) {
		tl_json_print(arr);
	} else if (json_array_size(arr) == 0) {
		printf("no serial ports found\n");
	} else {
		size_t i;
		json_t *p;
		json_array_foreach(arr, i, p) {
			json_t *id = json_object_get(p, "usb_id");
			printf("%-20s %-10s %s%s%s\n", json_string_value(json_object_get(p, "name")),
			       id ? json_string_value(id) : "-",
			       json_string_value(json_object_get(p, "description")),
			       *json_string_value(json_object_get(p, "description")) ? " " : "",
			       json_string_value(json_object_get(p, "transport")));
		}
	}
	json_decref(arr);
	return 0;
}

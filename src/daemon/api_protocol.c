/* api_protocol.c - GET /v1/protocols/{name}: one protocol, expanded, with its stage table
 * (what the page shows before a start; the test record keeps the same as
 * protocol_as_run). */
#include "api_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "json_out.h"
#include "protocol_files.h"

enum MHD_Result tl_api_get_protocol(struct tl_api *api, struct MHD_Connection *c,
				    struct tl_api_request *rq)
{
	const char *dir = api->d->cfg.protocols[0] ? api->d->cfg.protocols : NULL;
	if (!tl_protocol_name_valid(rq->name))
		return tl_api_send_error(c, 404, "unknown protocol '%s'", rq->name);
	char path[512];
	snprintf(path, sizeof path, "%s/%s.protocol", dir ? dir : tl_protocol_dir(), rq->name);
	if (access(path, R_OK))
		return tl_api_send_error(c, 404, "unknown protocol '%s' (GET /v1/protocols lists them)",
					 rq->name);
	struct tl_protocol p;
	struct tl_err err;
	if (tl_protocol_load_file(path, NULL, &p, &err))
		return tl_api_send_error(c, 500, "protocol '%s': %s", rq->name, err.msg);
	json_t *j = tl_json_protocol(&p);
	if (!j)
		return tl_api_send_error(c, 500, "out of memory");
	return tl_api_send_json(c, 200, j);
}

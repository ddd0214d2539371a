/* reply.c - how a command's caller waits for its answer (reply.h). */
#include "reply.h"

#include <string.h>
#include <stdio.h>
#include <syslog.h>
#include <unistd.h>

void tl_reply_init(struct tl_reply *r)
{
	memset(r, 0, sizeof *r);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->test_id = -1;
	r->wake_fd = -1;
}

void tl_reply_destroy(struct tl_reply *r)
{
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
}

void tl_reply_complete(struct tl_reply *r, int http_status, const char *msg, int64_t test_id)
{
	pthread_mutex_lock(&r->mu);
	r->http_status = http_status;
	snprintf(r->msg, sizeof r->msg, "%s", msg ? msg : "");
	r->test_id = test_id;
	r->done = true;
	pthread_cond_signal(&r->cv);
	uint64_t one = 1;
	if (r->wake_fd >= 0 && write(r->wake_fd, &one, sizeof one) != (ssize_t)sizeof one)
		syslog(LOG_ERR, "waking the API for a reply: %m");
	pthread_mutex_unlock(&r->mu);
}

void tl_reply_wait(struct tl_reply *r)
{
	pthread_mutex_lock(&r->mu);
	while (!r->done)
		pthread_cond_wait(&r->cv, &r->mu);
	pthread_mutex_unlock(&r->mu);
}

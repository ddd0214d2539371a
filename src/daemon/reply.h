/* reply.h - how a command's caller waits for its answer: the API thread waits on it;
 * the control thread (an emergency stop) or the store writer (once what the command
 * caused is committed) completes it. */
#ifndef TL_REPLY_H
#define TL_REPLY_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct tl_reply {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
	int http_status;
	char msg[512];
	int64_t test_id;
	int wake_fd;     /* -1, or an eventfd written once done (the API's gate waits on it) */
};

void tl_reply_init(struct tl_reply *r);
void tl_reply_destroy(struct tl_reply *r);
void tl_reply_complete(struct tl_reply *r, int http_status, const char *msg, int64_t test_id);
void tl_reply_wait(struct tl_reply *r);

#endif

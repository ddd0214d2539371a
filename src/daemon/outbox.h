/* outbox.h - the daemon's sender: delivers the outbox's messages (docs/records.md, The
 * outbox).
 *
 * One thread with its own read-write store connection (the store allows a writer per
 * connection; WAL lets the writer thread and the API's connections go on beside it). It
 * takes the oldest due message of each destination, marks the attempt, sends it (one
 * message outstanding per connection), records the answer and its history, and waits on
 * a condition variable until the next message is due or a new one is queued: no polling.
 * At start it resumes: a message a killed daemon left 'sending' is queued again with the
 * same control id (at least once, the same id every time). */
#ifndef TL_OUTBOX_H
#define TL_OUTBOX_H

#include "daemon.h"

struct tl_outbox;

/* Starts the thread (also when no destination is configured: then it only resumes and
 * counts, and the messages wait). NULL + err if the store or the thread cannot be had. */
struct tl_outbox *tl_outbox_start(struct tl_daemon *d, struct tl_err *err);
/* A message was queued or retried: look again now. Safe with NULL. */
void tl_outbox_wake(struct tl_outbox *o);
/* Ends an attempt under way at once (it is recorded as a retry), joins the thread, frees.
 * Safe with NULL. */
void tl_outbox_stop(struct tl_outbox *o);

#endif

/* mllp.h - one HL7 v2 message over MLLP (the Minimal Lower Layer Protocol) and its ACK.
 *
 * A frame is 0x0B, the message, 0x1C 0x0D (HL7 v2.5.1, Appendix C, MLLP; docs/records.md).
 * One message is outstanding per connection: the next is sent only once this one's answer
 * came or its deadline passed. The connection stays open between messages and is closed
 * after a timeout, a broken connection or an answer that is not an ACK; the next attempt
 * connects again. */
#ifndef TL_MLLP_H
#define TL_MLLP_H

#include <stdbool.h>
#include <stddef.h>

#include "records.h"

#define TL_MLLP_SB 0x0b
#define TL_MLLP_EB 0x1c
#define TL_MLLP_CR 0x0d

struct tl_mllp {
	int fd;           /* -1: not connected */
	char host[256];
	int port;
	unsigned char buf[8192]; /* bytes received and not yet a whole frame */
	size_t n;
};

void tl_mllp_init(struct tl_mllp *m, const char *host, int port);
void tl_mllp_close(struct tl_mllp *m);

/* What one attempt came to, for the outbox's history. */
struct tl_mllp_answer {
	enum tl_send_result result;
	char event[24];   /* "ack AA", "ack AE", "ack AR", "timeout", "broken", "connect" */
	char detail[512]; /* MSA-3 or the ERR segment, or what went wrong */
};

/* Sends msg (segments ending in CR) whose MSH-10 is control_id and waits for its ACK,
 * the whole answer within timeout_ms of the message written (not per read; connecting
 * and writing have timeout_ms too). An ACK for another control id is
 * not this message's: it is skipped. AA/CA: delivered; AE/CE: rejected; AR/CR, no ACK by
 * the deadline, a refused or broken connection: retry. If cancel_fd (>= 0) becomes
 * readable the attempt ends at once as a retry ("cancelled"). */
void tl_mllp_send(struct tl_mllp *m, const unsigned char *msg, size_t len, const char *control_id,
		  int timeout_ms, int cancel_fd, struct tl_mllp_answer *out);

/* ---- pure parts (no I/O), for the tests ---- */

/* Finds the first whole frame in buf[0..n): 1 with the message at buf[*start..*end),
 * *used the bytes up to and including its trailer (bytes before 0x0B are skipped); 0 if
 * no whole frame is there yet. */
int tl_mllp_frame_find(const unsigned char *buf, size_t n, size_t *start, size_t *end,
		       size_t *used);

/* Reads an ACK (segments separated by CR or LF): 1 if its MSA-2 is control_id (result,
 * the MSA-1 code in code and the receiver's text in detail), 0 if it acknowledges another
 * message (code holds its MSA-1), -1 if it is not an ACK (detail says why). */
int tl_mllp_ack_parse(const char *ack, size_t len, const char *control_id,
		      enum tl_send_result *result, char code[3], char *detail, size_t cap);

#endif

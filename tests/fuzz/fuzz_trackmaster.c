/* Trackmaster replies (tl_tm_decode) as the driver consumes them: bytes arrive in reads
 * of any size into the driver's 64-byte receive buffer, and each decode takes what it
 * used off the front (trackmaster.c, await_reply). The first byte of the input sets the
 * read sizes. Checks: progress is always made on a complete reply, a decode never claims
 * more than it was given, and what it decodes is in the protocol's ranges. */
#include "fuzz.h"
#include "trackmaster.h"

static void check_reply(const uint8_t *buf, size_t used, const struct tl_tm_reply *r)
{
	FUZZ_REQUIRE(r->code == buf[0]);
	switch (r->kind) {
	case TL_TM_R_GARBAGE:
		FUZZ_REQUIRE(used == 1);
		break;
	case TL_TM_R_ACK:
		FUZZ_REQUIRE(used == 1 && r->code >= 0xB0 && r->code <= 0xBD);
		break;
	case TL_TM_R_REFUSED:
		FUZZ_REQUIRE(used == 1 && (r->code == 0xBE || r->code == 0xBF));
		break;
	case TL_TM_R_NO_STATUS:
		FUZZ_REQUIRE(used == 1 && r->code == TL_TM_REPLY_BAD_STATUS);
		break;
	case TL_TM_R_STATUS:
		FUZZ_REQUIRE(used == 2 && r->value >= TL_TM_STOPPED &&
			     r->value <= TL_TM_RUNNING_UNARMED && r->value == buf[1]);
		break;
	case TL_TM_R_VALUE:
		FUZZ_REQUIRE(used == 5 && r->code >= 0xD1 && r->code <= 0xD4);
		FUZZ_REQUIRE(r->value >= 0 && r->value <= 9999);
		break;
	default:
		FUZZ_REQUIRE(!"unknown reply kind");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t chunk = (data[0] & 0x1F) + 1; /* 1..32 bytes a read */
	data++, size--;
	uint8_t rx[64];
	size_t rx_len = 0, off = 0;
	while (off < size || rx_len > 0) {
		size_t n = size - off;
		if (n > chunk)
			n = chunk;
		if (n > sizeof rx - rx_len)
			n = sizeof rx - rx_len;
		memcpy(rx + rx_len, data + off, n);
		rx_len += n;
		off += n;
		size_t used;
		struct tl_tm_reply r;
		while ((used = tl_tm_decode(rx, rx_len, &r)) > 0) {
			FUZZ_REQUIRE(used <= rx_len);
			check_reply(rx, used, &r);
			memmove(rx, rx + used, rx_len - used);
			rx_len -= used;
		}
		/* Only the start of a reply is left: shorter than the longest reply. */
		FUZZ_REQUIRE(rx_len < 5);
		if (off == size)
			break; /* the line went quiet with a reply cut short */
	}
	/* Frames the driver sends: whatever value, the encoder stays in its buffer. */
	uint8_t frame[5];
	int value = size >= 2 ? (data[0] << 8 | data[1]) - 1 : -1;
	size_t len = tl_tm_encode(TL_TM_SET_SPEED, value, frame, sizeof frame);
	FUZZ_REQUIRE(len == 0 || len == 1 || len == 5);
	FUZZ_REQUIRE((len == 0) == (value > 9999));
	return 0;
}

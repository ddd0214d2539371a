/* serial_link.h - a byte link to a device: a real serial port or a pseudo-terminal.
 *
 * A link is a small ops table plus private data, so the drivers and the patient buttons
 * can run over libserialport (real ports, with modem lines), over plain termios on a file
 * descriptor (pseudo-terminals, which libserialport cannot open, and any tty it refuses),
 * or over a fake link in unit tests (modem lines cannot be simulated on a pty).
 *
 * Both real backends open the device exclusively (TIOCEXCL and flock), set raw 8N1 at the
 * given baud without flow control, raise DTR and RTS (they power a patient button wired
 * to an input line), and restore the previous settings on close. Calls
 * return 0 (or a byte count) on success, -1 with l->err set to one line on failure.
 *
 * A device that hangs up (a USB-serial adapter pulled out: reads return 0 or EIO, poll
 * reports POLLHUP, writes fail with EIO) is released at once by the termios backend:
 * every later call fails with "PATH: the device hung up (unplugged?); reconnect once it
 * is back", fd() returns -1, and the node is no longer held, so the adapter plugged back
 * gets its old name. Reopening (close, then open) is the caller's business. */
#ifndef TL_SERIAL_LINK_H
#define TL_SERIAL_LINK_H

#include <stddef.h>

/* Modem input lines, as returned by get_lines(). */
enum {
	TL_LINE_CTS = 1u << 0,
	TL_LINE_DSR = 1u << 1,
	TL_LINE_DCD = 1u << 2,
	TL_LINE_RI = 1u << 3,
};

enum tl_serial_backend {
	TL_SERIAL_AUTO,        /* libserialport if it knows the device, else termios */
	TL_SERIAL_LIBSERIALPORT,
	TL_SERIAL_TERMIOS,
};

struct tl_serial_link;

struct tl_serial_link_ops {
	const char *name; /* "libserialport", "termios", or a test's fake */
	/* Reads up to len bytes, waiting at most timeout_ms for the first one (0: do not
	 * wait). Returns the count, 0 when the deadline passed, -1 on error. Required. */
	int (*read)(struct tl_serial_link *l, void *buf, size_t len, int timeout_ms);
	/* Writes all len bytes within timeout_ms, then waits for them to drain. Required. */
	int (*write_all)(struct tl_serial_link *l, const void *buf, size_t len, int timeout_ms);
	/* Discards bytes received and not yet read. Required. */
	int (*flush_input)(struct tl_serial_link *l);
	/* Reads the modem input lines into *lines (TL_LINE_* bits). NULL or -1: the link has
	 * no modem lines (a pty). */
	int (*get_lines)(struct tl_serial_link *l, unsigned *lines);
	/* A descriptor that poll() reports readable when bytes arrive, or -1. Optional. */
	int (*fd)(struct tl_serial_link *l);
	/* Restores the device settings and releases everything. Required. */
	void (*close)(struct tl_serial_link *l);
};

struct tl_serial_link {
	const struct tl_serial_link_ops *ops;
	void *priv;    /* the backend's state */
	char err[256]; /* the last error, one line */
};

/* Opens path at baud (raw 8N1, no flow control). TL_SERIAL_AUTO uses libserialport for
 * ports it lists and termios for the rest (ptys). Returns 0, or -1 with l->err set. */
int tl_serial_open(struct tl_serial_link *l, const char *path, int baud,
		   enum tl_serial_backend backend);

/* Convenience wrappers; tl_serial_close is safe on a link that failed to open. */
int tl_serial_read(struct tl_serial_link *l, void *buf, size_t len, int timeout_ms);
int tl_serial_write_all(struct tl_serial_link *l, const void *buf, size_t len, int timeout_ms);
int tl_serial_flush_input(struct tl_serial_link *l);
int tl_serial_get_lines(struct tl_serial_link *l, unsigned *lines);
/* The link's pollable descriptor, or -1 when it has none. */
int tl_serial_fd(struct tl_serial_link *l);
void tl_serial_close(struct tl_serial_link *l);

/* Opens an already open tty descriptor with the termios backend (takes ownership of fd;
 * used by tests on an openpty pair). */
int tl_serial_open_fd(struct tl_serial_link *l, int fd, const char *name, int baud);

/* Reads until `len` bytes arrived or deadline_ms (CLOCK_MONOTONIC, ms) passed. Returns
 * the count read (possibly short) or -1. */
int tl_serial_read_full(struct tl_serial_link *l, void *buf, size_t len, long long deadline_ms);

/* CLOCK_MONOTONIC in ms: the clock drivers use for I/O deadlines only. */
long long tl_serial_now_ms(void);

#endif

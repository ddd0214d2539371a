/* config.h - treadlabd's configuration (INI; config/treadlabd.conf documents every key).
 *
 * Strict: an unknown section or key, a bad number or an out-of-range value is refused
 * with "file:line: reason". Values not given keep the defaults below. The driver's own
 * keys ([treadmill] device, ..., [sim] patient_*) are read through the chosen driver's
 * option table (drivers/treadmill.h): a key of another driver is refused. */
#ifndef TL_CONFIG_H
#define TL_CONFIG_H

/* At most this many sites in a cuff series (the eight pressure sites). */
#define TL_CUFF_SITES_MAX 8

#include <stdbool.h>
#include <stddef.h>

#include "cuff.h"
#include "cuff_source.h"
#include "guard.h"
#include "records.h"
#include "session.h"
#include "tl_err.h"
#include "treadmill.h"

struct tl_config {
	/* [treadmill] */
	char driver[32];          /* a name in tl_treadmill_drivers */
	const struct tl_treadmill_ops *drv;  /* that driver */
	struct tl_driver_optbuf drv_opts;    /* its options struct, filled by its table */
	bool simulated;           /* the device is a simulator (treadsim): time scale allowed */
	double max_speed_kmh;     /* what the treadmill can do */
	double max_grade_pct;
	/* [limits] site limits, the guard's */
	struct tl_limits limits;
	/* [store] */
	char database[256];
	/* [api] */
	char socket[256];         /* Unix socket path; empty: none */
	char listen[128];         /* ADDR:PORT; beyond loopback only with TLS and a token */
	char tls_cert[256];       /* PEM certificate for the TCP listener (HTTPS) */
	char tls_key[256];        /* its PEM private key */
	char token_file[256];     /* a file holding the bearer token TCP clients must send */
	char allowed_hosts[512];  /* more Host values the API accepts, comma-separated */
	double session_idle_min;  /* a login session ends after this long unused */
	char web_root[256];       /* the page's files; empty: the installed (or source tree's) web/ */
	/* [daemon] */
	int tick_hz;
	char operator_default[64];
	char protocols[256];      /* protocol directory; empty: the built-in one */
	char log_level[16];       /* error|warning|info|debug|wire; empty: info (tl_log.h) */
	struct tl_session_opts session;
	/* [buttons] patient buttons besides the technician's commands */
	char modem_device[256];   /* serial port with a switch across modem lines */
	char modem_lines[64];     /* e.g. "CTS=onset,DSR=max" */
	char box_device[256];     /* serial port of a button box that sends a byte */
	int box_baud;
	char box_onset[4], box_max[4], box_foot[4]; /* the bytes (one character each) */
	bool modbus_button;       /* the Modbus treadmill's button register */
	int debounce_ms;          /* 0: a press counts on its first sample */
	int button_poll_ms;       /* button polls between ticks while the patient walks */
	/* [sim] time_scale: the daemon's test clock, allowed on a simulator (a TL_DRV_SIMULATED
	 * driver or simulated = true); the section's other keys are the sim driver's */
	double time_scale;
	/* [report] the PDF report; all empty: an A4 report without lab details */
	char report_paper[8];          /* a4 (default) | letter */
	char report_lab_name[256];
	char report_lab_address[512];  /* "\n" (backslash n) starts a new line */
	char report_logo[256];         /* PNG file */
	bool report_patient_page;      /* add the page for the patient */
	char report_guidance[256];     /* text file (UTF-8) printed on the patient's page */
	/* [cuff] an ankle or arm pressure cuff the daemon reads (src/daemon/cuffd.h); the
	 * source's own keys through its option table (drivers/cuff_source.h) */
	char cuff_source[32];                 /* a name in tl_cuff_sources; "": no cuff */
	const struct tl_cuff_ops *cuff_ops;   /* that source */
	struct tl_driver_optbuf cuff_opts;    /* its options struct */
	char cuff_sites[TL_CUFF_SITES_MAX][24]; /* the lab's order of a series */
	int cuff_n_sites;
	struct tl_cuff_cycle_cfg cuff_cycle;  /* ceiling, deflation rate, time limits */
	int cuff_sample_ms;                   /* how often a source without a descriptor is read */
	int cuff_max_gap_ms;                  /* the widest gap between the samples around a press */
	/* [hl7] and [fhir]: where a test's record is delivered (src/records/records.h) */
	struct tl_hl7_conf hl7;
	struct tl_fhir_conf fhir;
};

void tl_config_defaults(struct tl_config *c);
/* Reads path over the current values. Returns 0 or -1 with err "path:line: reason". */
int tl_config_load(struct tl_config *c, const char *path, struct tl_err *err);
/* Splits "ADDR:PORT" (IPv4 or localhost; port 0 picks a free one). Returns 0 or -1. */
int tl_listen_parse(const char *listen, char *host, size_t cap, int *port, bool *is_loopback);

/* Cross-field checks (time scale only on a simulator, listen on loopback, the driver's
 * own rules through its validate hook, ...). */
int tl_config_validate(const struct tl_config *c, const char *path, struct tl_err *err);

#endif

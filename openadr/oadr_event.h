/* OpenADR 3.1 event notifications, as they arrive over MQTT: bytes in, a
 * validated event out, or a reason it was refused.
 *
 *   {"objectType":"EVENT","operation":"CREATE|UPDATE|DELETE","object":{event}}
 *
 * Pure (time is an argument) and strict: size, UTF-8, JSON, types, bounds,
 * RFC 3339 times, interval order. The payload types the gateway acts on are
 * IMPORT_CAPACITY_LIMIT (the site's import cap for the interval) and SIMPLE
 * (levels 0-3); others are noted and ignored, and an event with nothing the
 * gateway can act on is refused.
 */
#ifndef SITEGATE_OADR_EVENT_H
#define SITEGATE_OADR_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oadr_text.h"

#define OADR_INTERVALS_MAX 288   /* a day of 5-minute intervals */
#define OADR_PAYLOADS_MAX 16     /* per interval */
#define OADR_TARGETS_MAX 64
#define OADR_ERR_MAX 160
#define OADR_SIMPLE_LEVELS 4     /* SIMPLE 0 (normal) .. 3 */
#define OADR_PRIORITY_NONE INT64_MAX /* no priority: below every numbered one */

enum oadr_operation { OADR_CREATE, OADR_UPDATE, OADR_DELETE };

/* What oadr_parse found. */
enum oadr_verdict {
    OADR_EVENT = 0,    /* a valid event (or DELETE) for this site: act on it */
    OADR_IGNORE = 1,   /* not for this site (program, targets) or not an event: drop it */
    OADR_INVALID = -1, /* malformed: err says why; event.id is set when it was readable */
};

struct oadr_interval {
    int32_t id;
    int64_t start_us;     /* before the event's randomizeStart offset */
    int64_t duration_us;  /* OADR_FOREVER: no end */
    double limit_kw;      /* IMPORT_CAPACITY_LIMIT in kW (the lowest given); NAN: none */
    int simple;           /* SIMPLE level 0..3; -1: none */
};

struct oadr_event {
    char id[OADR_ID_MAX + 1];
    char program_id[OADR_ID_MAX + 1];
    char modified[48];             /* modificationDateTime as received ("" unknown) */
    int64_t modified_us;           /* INT64_MIN: unknown (a DELETE may omit it) */
    int64_t priority;              /* lower is higher; OADR_PRIORITY_NONE */
    int64_t randomize_us;          /* randomizeStart: offsets drawn in [0, this] */
    bool cancel;                   /* zero duration: cancels the event */
    char ignored[96];              /* payload types seen and ignored, comma-separated */
    size_t n_intervals;
    struct oadr_interval intervals[OADR_INTERVALS_MAX];
};

struct oadr_notification {
    enum oadr_operation operation;
    struct oadr_event event;
};

/* Who this gateway is, and its bounds. */
struct oadr_parse_cfg {
    const char *ven_id;                 /* matches targets "VEN_NAME" and plain names */
    const char *site_id;                /* matches "RESOURCE_NAME" and plain names */
    const char *const *programs;        /* enrolled program ids */
    size_t n_programs;
    const char *const *groups;          /* further target names ("GROUP" and plain) */
    size_t n_groups;
    size_t max_bytes;                   /* larger messages are refused unread */
    int64_t max_future_us;              /* an event may start at most this far ahead */
};

/* Parses and validates one notification of len bytes (not NUL-terminated).
 * now_us resolves the "now" start and bounds "too far in the future". On
 * OADR_INVALID and OADR_IGNORE, err (OADR_ERR_MAX bytes) says why, and
 * out->event.id (and modified) hold what could be read ("" otherwise). */
enum oadr_verdict oadr_parse(const char *buf, size_t len, const struct oadr_parse_cfg *cfg,
                             int64_t now_us, struct oadr_notification *out, char *err);

/* The interval's start and end once the event's offset is applied; the end is
 * OADR_FOREVER for an endless interval. */
void oadr_interval_span(const struct oadr_interval *iv, int64_t offset_us, int64_t *start_us,
                        int64_t *end_us);

#endif

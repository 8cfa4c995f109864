/* The messages the gateway publishes (pure JSON builders; README.md, "Demand
 * response", shows each):
 *
 *   opt response  <prefix>/vens/<venID>/events/<eventID>/opt
 *   report        <prefix>/vens/<venID>/reports           (OpenADR 3.1 report shape)
 *   status        <prefix>/vens/<venID>/status            (retained; the last will)
 *
 * Each builder returns a malloc'd NUL-terminated string (free() it), or NULL
 * when out of memory.
 */
#ifndef SITEGATE_OADR_MSG_H
#define SITEGATE_OADR_MSG_H

#include <stdbool.h>
#include <stdint.h>

/* Response codes of opt responses (HTTP's, as OpenADR 3 uses them). */
enum {
    OADR_CODE_OK = 200,
    OADR_CODE_INVALID = 400,
    OADR_CODE_UNAVAILABLE = 503,  /* valid, but the schedule is full */
};

struct oadr_opt {
    const char *event_id;
    const char *modified;   /* the event's modificationDateTime; NULL or "": left out */
    bool opt_in;
    const char *reason;
    int code;
};

/* {"eventID","modificationDateTime","optType":"optIn|optOut","reason","responseCode"} */
char *oadr_msg_opt(const struct oadr_opt *o);

struct oadr_report {
    const char *event_id;       /* the event it is about; NULL: none (left out) */
    const char *client_name;    /* the VEN id */
    const char *resource_name;  /* the site id */
    const char *report_name;
    int64_t start_us;           /* the period it covers */
    int64_t duration_us;
    double import_kw;           /* DEMAND: the site's import; NAN: unknown, left out */
    double ev_kw;               /* EV_DEMAND: the chargers' load */
    double cap_kw;              /* IMPORT_CAPACITY_LIMIT: the cap in force */
    double flex_kw;             /* DOWN_REGULATION_AVAILABLE: what the site could still shed */
};

/* An OpenADR 3.1 report: eventID, clientName, reportName, payloadDescriptors,
 * and one resource (the site) with one interval of readings, in kW. */
char *oadr_msg_report(const struct oadr_report *r);

/* {"venID":"...","status":"online|offline"} */
char *oadr_msg_status(const char *ven_id, bool online);

#endif

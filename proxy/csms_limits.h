/* Internal to proxy/: the CSMS's charger-wide profiles that the gateway took.
 *
 * They belong to the charger, not to its socket (a real charger keeps its
 * profiles across reconnects), and their limit changes with time as their
 * schedule's periods begin and end: the payload is kept and read again at
 * every sweep, and the balancer hears of each change.
 */
#ifndef SITEGATE_CSMS_LIMITS_H
#define SITEGATE_CSMS_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct proxy;

struct csms_limit {
    char *charger;
    int profile_id;
    char version;         /* 0: 1.6, 1: 2.0.1 (enum ocpp_version) */
    char *payload;        /* the CSMS's SetChargingProfile payload */
    size_t len;
    double limit_a;       /* in force at the last evaluation, NAN none */
};

struct csms_limits {
    struct csms_limit *v;
    size_t n, cap;
};

/* Takes a CSMS profile (replacing the charger's previous one); 0 or -ENOMEM. */
int csms_limits_set(struct proxy *p, const char *charger, int version, int profile_id,
                    const char *payload, size_t len, double limit_a);

/* The charger's profile, or NULL. */
const struct csms_limit *csms_limits_get(const struct proxy *p, const char *charger);

/* Drops the charger's profile; whether there was one. */
bool csms_limits_clear(struct proxy *p, const char *charger);

/* Reads every profile again at now and reports the limits that changed. */
void csms_limits_tick(struct proxy *p, time_t now);

/* Frees them all. */
void csms_limits_free(struct csms_limits *l);

#endif

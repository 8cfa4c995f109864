/* The site as the gateway knows it: every charger and connector, updated from
 * what the proxy observes, and what the gateway last told each charger. No
 * policy here: control.c decides. */
#ifndef SITEGATE_SITE_H
#define SITEGATE_SITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "balancer.h"
#include "config.h"
#include "proxy.h"

#define SITE_MAX_CONNECTORS 16

struct site_connector {
    enum balancer_state state;
    double arrival_s;                  /* when a car arrived (loop clock), NAN none */
    double measured_a[BALANCER_PHASES];/* latest draw per phase, NAN unknown */
    double csms_limit_a;               /* the CSMS's Tx/TxDefault limit for it, NAN none */
    double ev_min_a, ev_max_a;         /* NotifyEVChargingNeeds, NAN unknown */
    double sent_a;                     /* the limit the gateway gave it, NAN none yet */
    char tx_id[64];                    /* its transaction: later events may name only it */
};

struct site_charger {
    char id[CONFIG_ID_MAX + 1];
    const struct config_charger *cfg;  /* its entry, or the defaults */
    bool online;
    bool ready;                        /* abilities known: limits can be sent */
    bool smart;                        /* takes profiles at all */
    int following;                     /* 1, 0, -1 not known yet */
    double csms_max_a;                 /* the CSMS's charger-wide limit, NAN none */
    double csms_all_a;                 /* the CSMS's TxDefault for every connector, NAN none */
    double sent_a;                     /* the charger-wide limit given, NAN none yet */
    uint64_t last_increase_ms;         /* when a limit of it last went up */
    bool unsettled;                    /* a decrease is on its way: others wait */
    uint64_t profile_writes;           /* profiles sent to it since the start */
    struct site_connector conn[SITE_MAX_CONNECTORS];
};

struct site {
    const struct config *cfg;
    uv_loop_t *loop;
    struct site_charger *chargers;
    size_t n_chargers, cap_chargers;
    void (*changed)(void *ctx);        /* something the balancer reads changed */
    void *changed_ctx;
};

/* Builds the site from the configured chargers. */
int site_init(struct site *site, uv_loop_t *loop, const struct config *cfg);

/* Frees it. */
void site_free(struct site *site);

/* The proxy observer that keeps the site up to date (ctx is the site). */
void site_observer(struct site *site, struct proxy_observer *out);

/* The charger with this id, or NULL. */
struct site_charger *site_find(struct site *site, const char *id);

#endif

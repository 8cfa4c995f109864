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

#define SITE_MAX_CONNECTORS 16 /* config: a charger has 1 to 16 */

struct site_connector {
    enum balancer_state state;
    double arrival_s;                  /* when a car arrived (loop clock), NAN none */
    double measured_a[BALANCER_PHASES];/* latest draw per phase, NAN unknown */
    double csms_limit_a;               /* the CSMS's Tx/TxDefault limit for it, NAN none */
    double ev_min_a, ev_max_a;         /* NotifyEVChargingNeeds, NAN unknown */
    double sent_a;                     /* the limit the gateway gave it, NAN none yet */
    char tx_id[64];                    /* its transaction: later events may name only it */
    uint64_t sent_at_ms;               /* when sent_a last changed */
    uint64_t over_since_ms;            /* drawing above sent_a since, 0: it is not */
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
    bool over_limit;                   /* drew above its limit past the apply window */
    uint64_t profile_writes;           /* profiles sent to it since the start */
    /* cfg->connectors of them, apart: the control loop walks every charger
     * several times a run, and 1,000 chargers must stay in the cache. */
    struct site_connector *conn;
    int n_conn;                        /* cfg->connectors, kept at hand for the same reason */
};

/* The latest good readings of the site's meters (gateway/metering.c). A time
 * of 0 means no good reading yet. */
struct site_meters {
    bool has_grid, has_ev, has_transformer;     /* configured */
    double grid_a[BALANCER_PHASES], grid_kw;
    uint64_t grid_ms;
    uint64_t grid_arrival_ns;                   /* uv_hrtime() of a sample not yet acted on */
    double grid_energy_wh;                      /* import register, NAN unknown */
    double ev_a[BALANCER_PHASES], ev_kw;
    uint64_t ev_ms;
    double transformer_temp_c;                  /* the hotter of oil and winding */
    uint64_t transformer_ms;
    const struct config_meter *transformer;
};

struct site {
    const struct config *cfg;
    struct site_meters meters;
    uv_loop_t *loop;
    struct site_charger *chargers;
    size_t n_chargers, cap_chargers;
    size_t n_connectors;               /* of every charger */
    void (*changed)(void *ctx, bool urgent); /* something the balancer reads changed */
    void *changed_ctx;
    /* Aggregate mode: the CSMS's limits on the site as a whole, NAN none. */
    double csms_site_a;                /* its ChargePointMaxProfile on connector 0, per phase */
    double csms_site_kw;               /* its SiteGridLimitKw configuration key */
    double cap_kw;                     /* the lowest import cap in force (control.c) */
};

/* Builds the site from the configured chargers. */
int site_init(struct site *site, uv_loop_t *loop, const struct config *cfg);

/* Frees it. */
void site_free(struct site *site);

/* The proxy observer that keeps the site up to date (ctx is the site). */
void site_observer(struct site *site, struct proxy_observer *out);

/* Tells the control loop that something it reads changed, in a way that must
 * be acted on at once (a meter reading, a car arriving, a rising draw)... */
void site_changed(struct site *site);

/* ...or in a way that can wait a moment: runs are coalesced, so that a
 * thousand chargers' MeterValues do not re-run the balancer for each one. */
void site_changed_soon(struct site *site);

/* The charger with this id, or NULL. */
struct site_charger *site_find(struct site *site, const char *id);

#endif

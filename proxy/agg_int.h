/* Internal to aggregate*.c and agg_csms.c: the site's state in aggregate mode. */
#ifndef SITEGATE_AGG_INT_H
#define SITEGATE_AGG_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "agg_map.h"
#include "frame.h"

#define AGG_ROUTES 1024  /* chargers' CALLs in flight on the site's socket */
#define AGG_REFS 256     /* transactions and reservations remembered */

/* A charger's CALL sent up under the site's message id "a<hex seq>". */
struct agg_route {
    uint64_t seq;                      /* 0: free */
    char charger[CONFIG_ID_MAX + 1];   /* "" for the gateway's own (answer dropped) */
    char id[FRAME_ID_MAX + 1];         /* the charger's message id */
    char action[FRAME_NAME_MAX + 1];
    int connector;                     /* the charger's connector, 0 none */
    uint64_t conn_serial;              /* the charger's socket that sent it */
};

/* Which charger a transaction or a reservation is on. */
struct agg_ref {
    char key[40];
    char charger[CONFIG_ID_MAX + 1];
    int connector;
};

struct agg_status {
    char status[24];                   /* "" not known yet */
    char error[32];
};

struct aggregate {
    struct proxy *proxy;
    struct session *site;
    struct agg_map map;
    struct agg_status *status;         /* by site number; [0] the site itself */
    size_t n_status;
    struct agg_route routes[AGG_ROUTES];
    uint64_t next_seq;
    struct agg_ref txs[AGG_REFS], resvs[AGG_REFS];
    size_t next_tx, next_resv;
    uv_timer_t heartbeat, meter;
    int heartbeat_s, meter_s;
    double grid_limit_kw;              /* SiteGridLimitKw, NAN: the config's cap */
    bool booted;
    int open_handles;
};

/* aggregate.c */
struct aggregate *agg__of(const struct session *s);
/* Sends a message the CSMS must see (stored while it is away) as the site's. */
void agg__emit(struct aggregate *a, const char *action, cJSON *payload);
/* The statuses of connector 0 and every site connector. */
void agg__emit_statuses(struct aggregate *a);
/* The grid meter's reading as MeterValues on connector 0, if there is one. */
void agg__emit_meter(struct aggregate *a);
void agg__send_boot(struct aggregate *a);
void agg__send_heartbeat(struct aggregate *a);
/* (Re)starts the meter timer at a->meter_s. */
void agg__meter_timer(struct aggregate *a);
void agg__heartbeat_timer(struct aggregate *a);
void agg__ref_put(struct agg_ref *refs, size_t *next, const char *key, const char *charger,
                  int connector);
const struct agg_ref *agg__ref_get(const struct agg_ref *refs, const char *key);
/* Transactions are kept in the store too: a RemoteStopTransaction after a
 * restart still finds its charger. */
void agg__tx_put(struct aggregate *a, const char *tx, const char *charger, int connector);
const struct agg_ref *agg__tx_get(struct aggregate *a, const char *tx);
void agg__tx_end(struct aggregate *a, const char *tx);
/* The gateway's current time, RFC 3339. */
void agg__now(char out[32]);

/* agg_csms.c: answers a CSMS CALL with this payload (taken). */
void agg__reply(struct aggregate *a, const char *id, cJSON *payload);
void agg__reply_status(struct aggregate *a, const char *id, const char *status);

#endif

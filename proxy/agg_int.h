/* Internal to aggregate*.c and agg_csms.c: the site's state in aggregate mode. */
#ifndef SITEGATE_AGG_INT_H
#define SITEGATE_AGG_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "agg_map.h"
#include "agg_btx.h"
#include "frame.h"
#include "pending.h"

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
    /* Bridged (agg_up.c): the charger's version is not the site's, or 2.0.1. */
    bool bridged;
    enum ocpp_version version;         /* the charger's */
    char up_action[FRAME_NAME_MAX + 1]; /* what went up for it */
    int64_t tx;                        /* the bridged transaction's handle, 0 none */
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
    struct agg_btxs bridged;            /* transactions carried between versions (agg_btx.h) */
    const char *boot_reason;           /* 2.0.1: the reason of the next BootNotification */
    bool booted;
    int open_handles;
};

/* The site's OCPP version (its session's, known before and after it). */
enum ocpp_version agg__version(const struct aggregate *a);

/* aggregate.c */
struct aggregate *agg__of(const struct session *s);
/* Sends a message the CSMS must see (stored while it is away) as the site's. */
void agg__emit(struct aggregate *a, const char *action, const cJSON *payload);
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
/* A transaction started: as agg__tx_put, and any other of that connector is over. */
void agg__tx_start(struct aggregate *a, const char *tx, const char *charger, int connector);
const struct agg_ref *agg__tx_get(struct aggregate *a, const char *tx);
void agg__tx_end(struct aggregate *a, const char *tx);
/* The gateway's current time, RFC 3339. */
void agg__now(char out[32]);

/* Answers a charger's CALL here. */
void agg__answer(struct session *c, const char *id, const char *payload);
/* A site connector's status (in 1.6 words), set and sent; "" not known. */
void agg__set_status(struct aggregate *a, int number, const char *status, const char *error);
void agg__emit_status(struct aggregate *a, int number);
const char *agg__status_of(struct aggregate *a, int number);
/* A charger-level status (1.6 words) stands for each of its connectors. */
void agg__charger_status(struct aggregate *a, struct session *c, const char *status, const char *error);
/* A route for a CALL going up under the site's message id (written to site_id). */
struct agg_route *agg__route_new(struct aggregate *a, char site_id[FRAME_ID_MAX + 1]);
/* Sends a CALL up through the site session. */
void agg__up(struct aggregate *a, const char *site_id, const char *action, const char *payload);

/* agg_up.c: chargers whose CALLs are mapped (another version, or 2.0.1). */
bool agg__bridged(const struct aggregate *a, const struct session *c);
void agg__up_bridged(struct aggregate *a, struct session *c, const struct frame *f, const cJSON *payload);
/* The site's answer to a bridged CALL as the charger's frame (*out malloc'd). */
int agg__answer_bridged(struct aggregate *a, const struct agg_route *r, const struct frame *f, char **out,
                        size_t *len);
/* Emits a site message written in 1.6 (about connector number) in the site's version. */
void agg__emit_bridged(struct aggregate *a, const char *action, const cJSON *payload16, int number);

/* agg_down.c: a CSMS CALL for one charger, in the charger's version. */
struct agg_down_call;
struct agg_down {
    const char *action;                /* the charger's */
    char *text;                        /* its payload (malloc'd) */
    struct agg_down_call *call;        /* agg__down_answer's ctx; NULL: the answer is not mapped */
};
/* payload: in the site's version, connectors already in the charger's numbering.
 * 0, or a negative errno for agg__down_refuse. */
int agg__down(struct aggregate *a, struct session *c, const char *action, const cJSON *payload,
              struct agg_down *out);
void agg__down_free(struct agg_down *d);
/* Answers the CSMS when its CALL cannot be carried (rc from agg__down). */
void agg__down_refuse(struct aggregate *a, const char *id, const char *action, int rc);
/* The charger's answer to a mapped CALL, mapped back for the CSMS (frees ctx). */
void agg__down_answer(void *ctx, const struct pending_call *call, const struct frame *f);

/* Sends a mapped CALL's frame through the charger's smart charging (the
 * balancer hears of the CSMS's limits); whether the gateway answered it. */
bool agg__down_smart(struct session *c, const char *id, const struct agg_down *d);

/* agg_csms.c: answers a CSMS CALL with this payload (taken). */
void agg__reply(struct aggregate *a, const char *id, cJSON *payload);
void agg__reply_status(struct aggregate *a, const char *id, const char *status);
/* Answers a CSMS CALL with a CALLERROR (code: either version's name). */
void agg__refuse(struct aggregate *a, const char *id, const char *code, const char *why);
/* The CSMS's CALL to one charger (payload: connectors in the charger's numbering). */
void agg__to_charger(struct aggregate *a, const struct frame *f, struct session *c, const cJSON *payload);
/* The CALL to every connected charger, one combined answer. */
void agg__fan_out(struct aggregate *a, const struct frame *f, const cJSON *payload);
/* The gateway's own configuration keys (1.6 names): a value, a change's status. */
void agg__key_value(struct aggregate *a, const char *name, char *out, size_t cap);
const char *agg__change_key(struct aggregate *a, const char *name, const char *text);
/* The site's cap in force, in A per phase or W, rounded down to 0.1. */
double agg__site_limit(struct aggregate *a, bool amps);
/* Reset: hard_type ("Hard", 2.0.1 "Immediate") goes to every charger if
 * allowed, else the site's upstream session starts again. */
void agg__reset(struct aggregate *a, const struct frame *f, const cJSON *payload, const char *hard_type);
/* SendLocalList, GetLocalListVersion (1.6), ClearCache, DataTransfer, ...: answered. */
bool agg__site_call(struct aggregate *a, const struct frame *f, const cJSON *payload);
/* The first Available site connector of a connected charger, or NULL. */
cJSON *agg__free_connector(struct aggregate *a);

/* agg_csms201.c: a 2.0.1 CSMS's CALL to the site. */
void agg__csms201(struct aggregate *a, const struct frame *f, cJSON *payload);
/* agg_dm.c: the site's 2.0.1 device model (GetVariables, SetVariables,
 * GetBaseReport, GetReport); false for other actions. */
bool agg__device_model(struct aggregate *a, const struct frame *f, const cJSON *payload);

#endif

/* Internal to aggregate*.c: the transactions the gateway carries between
 * OCPP versions in aggregate mode, and the CSMS's pending remote starts.
 *
 * A 1.6 charger behind a 2.0.1 site gets a 1.6 transactionId of the
 * gateway's (the entry's handle) and the site reports a 2.0.1 transactionId
 * the gateway mints (a UUID), with its own seqNo. A 2.0.1 charger keeps its
 * transactionId; behind a 1.6 site the entry learns the 1.6 id the site got
 * (the CSMS's, or a local one while it was away). Every entry is kept in the
 * store (namespace "aggregate_bridged": one key per entry, an index, the handle
 * counter), so that a restart finds them all: the numbers a charger and the
 * CSMS hold stay valid, and seqNo goes on where it was.
 */
#ifndef SITEGATE_AGG_BTX_H
#define SITEGATE_AGG_BTX_H

#include <stdbool.h>
#include <stdint.h>

#include "bridge.h"
#include "config.h"

#define AGG_BTXS 256     /* transactions at once (one per site connector at most) */
#define AGG_REMOTES 64  /* remote starts waiting for their StartTransaction */

struct store;

struct agg_btx {
    int64_t handle;                  /* 0: a free slot */
    char charger[CONFIG_ID_MAX + 1];
    int connector;                   /* the charger's connector / EVSE */
    int number;                      /* the site's */
    int64_t id16;                    /* the 1.6 id on the other side: the handle for a 1.6
                                        charger; the site's for a 2.0.1 charger (0 until known) */
    char id201[BRIDGE_TX_MAX];       /* minted, or the 2.0.1 charger's own */
    int seq_no;                      /* the next seqNo toward a 2.0.1 site */
    char state[16];                  /* the chargingState last reported; "" none */
    double meter_wh;                 /* the last energy register seen, NAN none */
    bool started;                    /* 1.6 site: its StartTransaction went up */
};

/* A RequestStartTransaction passed to a 1.6 charger, until its StartTransaction. */
struct agg_remote {
    int number;                      /* 0: free */
    int id;                          /* remoteStartId */
    char id_tag[BRIDGE_TX_MAX];
    char type[16];                   /* the idToken's type */
};

struct agg_btxs {
    struct agg_btx v[AGG_BTXS];
    struct agg_remote remotes[AGG_REMOTES];
    int64_t last;                    /* the last handle given */
    int remote_ids;                  /* the last remoteStartId given to a 2.0.1 charger */
    size_t next_remote;
    struct store *store;             /* may be NULL (nothing kept) */
};

/* Reads what an earlier run kept; 0 or a negative errno (an entry that
 * cannot be read is skipped with a warning). */
int agg_btx_load(struct agg_btxs *t, struct store *st);

/* A new transaction of a charger's connector (an older one left on that
 * connector is over: it goes). id201 NULL: one is minted. Kept at once;
 * NULL when it cannot be. */
struct agg_btx *agg_btx_new(struct agg_btxs *t, const char *charger, int connector, int number,
                          const char *id201);

/* Lookups; NULL when none. charger NULL: any charger's. */
struct agg_btx *agg_btx_by_handle(struct agg_btxs *t, const char *charger, int64_t handle);
struct agg_btx *agg_btx_by_id201(struct agg_btxs *t, const char *charger, const char *id201);
struct agg_btx *agg_btx_by_id16(struct agg_btxs *t, const char *charger, int64_t id16);
struct agg_btx *agg_btx_on(struct agg_btxs *t, int number);

/* Keeps the entry's changes (seqNo, ids, state). */
int agg_btx_save(struct agg_btxs *t, const struct agg_btx *x);

/* The transaction is over: forgotten, here and in the store. */
void agg_btx_end(struct agg_btxs *t, struct agg_btx *x);

/* A remote start on a site connector, and the one waiting there for this
 * idTag (taken: true, *out filled). */
void agg_btx_remote_put(struct agg_btxs *t, int number, int id, const char *id_tag, const char *type);
bool agg_btx_remote_take(struct agg_btxs *t, int number, const char *id_tag, struct agg_remote *out);

#endif

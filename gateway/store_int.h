/* The store's internals, shared by store.c (open, close, group commit,
 * errors), store_queue.c and store_auth.c. Not a public face: only these files and the
 * store's unit tests include it. */
#ifndef SITEGATE_STORE_INT_H
#define SITEGATE_STORE_INT_H

#include "store.h"

#include <sqlite3.h>

#define STORE_SCHEMA_VERSION 1

/* Every statement the store runs, prepared once at open. */
enum store__stmt {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_SYNC_MARK,
    ST_Q_APPEND,
    ST_Q_PEEK,
    ST_Q_REMOVE,
    ST_Q_ATTEMPTED,
    ST_Q_PARK,
    ST_Q_PARKED_ID,
    ST_Q_PARKED_ALL,
    ST_Q_STATS_ID,
    ST_Q_STATS_ALL,
    ST_Q_TOTAL,
    ST_Q_IDENTITIES,
    ST_Q_THIN_CANDIDATES,
    ST_Q_THIN_GROUP,
    ST_TX_PUT,
    ST_TX_GET_REAL,
    ST_TX_GET_LOCAL,
    ST_TX_END,
    ST_META_GET,
    ST_META_PUT,
    ST_LL_CLEAR,
    ST_LL_PUT,
    ST_LL_DELETE,
    ST_LL_GET,
    ST_LL_VERSION_PUT,
    ST_LL_VERSION_GET,
    ST_AC_UPDATE,
    ST_AC_INSERT,
    ST_AC_GET,
    ST_AC_COUNT,
    ST_AC_EVICT,
    ST_AC_CLEAR,
    ST_KV_PUT,
    ST_KV_GET,
    ST_KV_DELETE,
    ST_KV_DELETE_VALUE,
    ST__COUNT
};

/* One store_after_commit() registration; status is set once its
 * transaction's commit is known. */
struct store__cb {
    void (*cb)(void *arg, int status);
    void *arg;
    int status;
};

struct store {
    uv_loop_t *loop;
    uv_prepare_t prepare;       /* commits the turn's transaction */
    uv_idle_t idle;             /* keeps the poll from blocking while one is open */
    bool handles_active;
    int handles_open;           /* close callbacks still to come */
    sqlite3 *db;
    sqlite3_stmt *stmt[ST__COUNT];
    char *path;                 /* <state_dir>/sitegate.db */
    int lock_fd;

    bool in_tx;                 /* a BEGIN IMMEDIATE is open */
    bool tx_durable;            /* committed with synchronous=FULL */
    bool sync_full;             /* the connection's current synchronous level */
    bool closing;
    int last_status;            /* of the last commit */

    /* Callbacks: [head, first_open) are committed and wait to be called,
     * [first_open, n) wait for the open transaction. */
    struct store__cb *cbs;
    size_t n_cbs, cap_cbs, head, first_open;
    size_t max_callbacks;       /* STORE_MAX_CALLBACKS; tests lower it */
    bool notifying;

    uint64_t max_bytes;
    uint64_t queue_bytes;       /* sum of size over the queue, parked included */
    uint64_t thinned;
    bool over_budget_logged;
    bool thin_blocked;          /* the last full pass found nothing more to drop */
    uint64_t thin_unlogged, thin_unlogged_bytes;
    uint64_t thin_logged_ms;    /* uv_now of the last thinning line */
    uint64_t auth_count;        /* rows in auth_cache */

    uint64_t commits, lazy_commits, early_commits;  /* for tests and the benchmark */
};

/* store.c */
int store__err(struct store *st, int rc, const char *what);
int store__begin(struct store *st, bool durable);
int store__commit(struct store *st);
int store__step(struct store *st, sqlite3_stmt *s, const char *what);
int store__exec(struct store *st, enum store__stmt id, const char *what);
int store__reload_counts(struct store *st);
bool store__text_ok(const char *s, size_t max, bool empty_ok);
int store__invalid(const char *what);

/* store_queue.c */
int store__thin(struct store *st);

#endif

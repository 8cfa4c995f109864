/* The store's small tables: the 1.6 transaction-id map and the local id
 * counter, the local authorization lists, the auth cache, and kv. */
#include "store_int.h"

#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define STORE_KV_VALUE_MAX (16u * 1024 * 1024)

static void store__bind_text(sqlite3_stmt *s, int i, const char *text)
{
    sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC);
}

/* Runs s (bound) for one text column into buf; -ENOENT without a row. */
static int store__get_text(struct store *st, sqlite3_stmt *s, char *buf, size_t cap,
                           const char *what)
{
    int rc = sqlite3_step(s);
    int r = 0;
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(s, 0);
        size_t len = v ? strlen(v) : 0;
        if (len >= cap) {
            log_error("store", "%s: a buffer of %zu bytes is too small for %zu", what, cap,
                      len + 1);
            r = -ENOBUFS;
        } else {
            memcpy(buf, v ? v : "", len + 1);
        }
    } else if (rc == SQLITE_DONE) {
        r = -ENOENT;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = store__err(st, rc, what);
    return r;
}

/* ---- Transaction ids ---- */

int store_tx_put(struct store *st, const char *identity, const char *tx_local,
                 const char *tx_real, int connector)
{
    if (!tx_real)
        tx_real = "";
    if (!store__text_ok(identity, STORE_IDENTITY_MAX, false) ||
        !store__text_ok(tx_local, STORE_TX_MAX, false) ||
        !store__text_ok(tx_real, STORE_TX_MAX, true) || connector < 0)
        return store__invalid("store_tx_put: identity, tx ids or connector");
    int r = store__begin(st, true);
    if (r < 0)
        return r;
    sqlite3_stmt *s = st->stmt[ST_TX_PUT];
    store__bind_text(s, 1, identity);
    store__bind_text(s, 2, tx_local);
    store__bind_text(s, 3, tx_real);
    sqlite3_bind_int(s, 4, connector);
    return store__step(st, s, "transaction map put");
}

int store_tx_get_real(struct store *st, const char *identity, const char *tx_local,
                      char *tx_real, size_t cap)
{
    if (!store__text_ok(identity, STORE_IDENTITY_MAX, false) ||
        !store__text_ok(tx_local, STORE_TX_MAX, false) || !tx_real || !cap)
        return store__invalid("store_tx_get_real: identity, tx_local or buffer");
    sqlite3_stmt *s = st->stmt[ST_TX_GET_REAL];
    store__bind_text(s, 1, identity);
    store__bind_text(s, 2, tx_local);
    return store__get_text(st, s, tx_real, cap, "transaction map get real");
}

int store_tx_get_local(struct store *st, const char *identity, const char *tx_real,
                       char *tx_local, size_t cap)
{
    if (!store__text_ok(identity, STORE_IDENTITY_MAX, false) ||
        !store__text_ok(tx_real, STORE_TX_MAX, false) || !tx_local || !cap)
        return store__invalid("store_tx_get_local: identity, tx_real or buffer");
    sqlite3_stmt *s = st->stmt[ST_TX_GET_LOCAL];
    store__bind_text(s, 1, identity);
    store__bind_text(s, 2, tx_real);
    return store__get_text(st, s, tx_local, cap, "transaction map get local");
}

int store_tx_end(struct store *st, const char *identity, const char *tx_local)
{
    if (!store__text_ok(identity, STORE_IDENTITY_MAX, false) ||
        !store__text_ok(tx_local, STORE_TX_MAX, false))
        return store__invalid("store_tx_end: identity or tx_local");
    int r = store__begin(st, true);
    if (r < 0)
        return r;
    sqlite3_stmt *s = st->stmt[ST_TX_END];
    store__bind_text(s, 1, identity);
    store__bind_text(s, 2, tx_local);
    if ((r = store__step(st, s, "transaction map end")) < 0)
        return r;
    return sqlite3_changes(st->db) ? 0 : -ENOENT;
}

int store_next_local_tx(struct store *st, int64_t *out)
{
    int r = store__begin(st, true);
    if (r < 0)
        return r;
    sqlite3_stmt *s = st->stmt[ST_META_GET];
    store__bind_text(s, 1, "next_local_tx");
    int rc = sqlite3_step(s);
    int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store__err(st, rc, "local transaction counter");
    if (id > -1 || id < INT32_MIN)
        id = -1;  /* a row lost to hand editing: start again */
    int64_t next = id - 1;
    if (next < INT32_MIN) {
        log_warn("store", "local transaction ids wrap around to -1 after=%lld", (long long)id);
        next = -1;
    }
    s = st->stmt[ST_META_PUT];
    store__bind_text(s, 1, "next_local_tx");
    sqlite3_bind_int64(s, 2, next);
    if ((r = store__step(st, s, "local transaction counter")) < 0)
        return r;
    *out = id;
    return 0;
}

/* ---- Local authorization list ---- */

static bool store__status_ok(enum store_auth_status status, bool remove_ok)
{
    return (status >= STORE_AUTH_ACCEPTED && status <= STORE_AUTH_CONCURRENT) ||
           (remove_ok && status == STORE_AUTH_REMOVE);
}

int store_local_list_set(struct store *st, const char *identity, int version, bool full,
                         const char *const *tags, const enum store_auth_status *status,
                         const int64_t *expiry_s, const char *const *parent, size_t n)
{
    if (!store__text_ok(identity, STORE_IDENTITY_MAX, false) || (n && (!tags || !status)))
        return store__invalid("store_local_list_set: identity or entries");
    for (size_t i = 0; i < n; i++) {
        if (!store__text_ok(tags[i], STORE_TAG_MAX, false) || !store__status_ok(status[i], true) ||
            (parent && parent[i] && !store__text_ok(parent[i], STORE_TAG_MAX, true)))
            return store__invalid("store_local_list_set: a tag, status or parent");
    }
    int r = store__begin(st, true);
    if (r < 0)
        return r;
    if ((r = store__exec(st, ST_SAVEPOINT, "local list: savepoint")) < 0)
        return r;
    if (full) {
        sqlite3_stmt *s = st->stmt[ST_LL_CLEAR];
        store__bind_text(s, 1, identity);
        r = store__step(st, s, "local list clear");
    }
    for (size_t i = 0; r == 0 && i < n; i++) {
        sqlite3_stmt *s;
        if (status[i] == STORE_AUTH_REMOVE) {
            if (full)
                continue;
            s = st->stmt[ST_LL_DELETE];
            store__bind_text(s, 1, identity);
            store__bind_text(s, 2, tags[i]);
        } else {
            s = st->stmt[ST_LL_PUT];
            store__bind_text(s, 1, identity);
            store__bind_text(s, 2, tags[i]);
            sqlite3_bind_int(s, 3, (int)status[i]);
            sqlite3_bind_int64(s, 4, expiry_s ? expiry_s[i] : 0);
            if (parent && parent[i])
                store__bind_text(s, 5, parent[i]);
        }
        r = store__step(st, s, "local list update");
    }
    if (r == 0) {
        sqlite3_stmt *s = st->stmt[ST_LL_VERSION_PUT];
        store__bind_text(s, 1, identity);
        sqlite3_bind_int(s, 2, version);
        r = store__step(st, s, "local list version");
    }
    if (r < 0) {
        if (st->in_tx) {
            store__exec(st, ST_ROLLBACK_TO, "local list: rollback");
            store__exec(st, ST_RELEASE, "local list: release");
        }
        return r;
    }
    return store__exec(st, ST_RELEASE, "local list: release");
}

int store_local_list_version(struct store *st, const char *identity, int *version)
{
    *version = 0;
    if (!store__text_ok(identity, STORE_IDENTITY_MAX, false))
        return store__invalid("store_local_list_version: identity");
    sqlite3_stmt *s = st->stmt[ST_LL_VERSION_GET];
    store__bind_text(s, 1, identity);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *version = sqlite3_column_int(s, 0);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc == SQLITE_DONE)
        return -ENOENT;
    return rc == SQLITE_ROW ? 0 : store__err(st, rc, "local list version");
}

int store_local_list_get(struct store *st, const char *identity, const char *tag,
                         enum store_auth_status *status, int64_t *expiry_s)
{
    if (!store__text_ok(identity, STORE_IDENTITY_MAX, false) ||
        !store__text_ok(tag, STORE_TAG_MAX, false) || !status)
        return store__invalid("store_local_list_get: identity or tag");
    sqlite3_stmt *s = st->stmt[ST_LL_GET];
    store__bind_text(s, 1, identity);
    store__bind_text(s, 2, tag);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *status = (enum store_auth_status)sqlite3_column_int(s, 0);
        if (expiry_s)
            *expiry_s = sqlite3_column_int64(s, 1);
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc == SQLITE_DONE)
        return -ENOENT;
    return rc == SQLITE_ROW ? 0 : store__err(st, rc, "local list get");
}

/* ---- Auth cache ---- */

/* Whether the cache already holds this verdict, with an expiry at most a
 * minute older: every Authorize and transaction start answers with the
 * tag's verdict again, and rewriting it each time costs a commit. */
static bool store__auth_cache_same(struct store *st, const char *tag, enum store_auth_status status,
                                   int64_t expiry_s)
{
    const int64_t slack_s = 60;
    sqlite3_stmt *s = st->stmt[ST_AC_GET];
    store__bind_text(s, 1, tag);
    bool same = false;
    if (sqlite3_step(s) == SQLITE_ROW) {
        int64_t had = sqlite3_column_int64(s, 1);
        same = sqlite3_column_int(s, 0) == (int)status &&
               (had == expiry_s || (had && expiry_s >= had && expiry_s - had < slack_s));
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return same;
}

int store_auth_cache_put(struct store *st, const char *tag, enum store_auth_status status,
                         int64_t expiry_s)
{
    if (!store__text_ok(tag, STORE_TAG_MAX, false) || !store__status_ok(status, false))
        return store__invalid("store_auth_cache_put: tag or status");
    if (store__auth_cache_same(st, tag, status, expiry_s))
        return 0;
    /* A cache: committed with the next transaction, without an fsync of its
     * own (one per Authorize answer would stall the loop at scale). A power
     * cut may forget the latest answers; the CSMS gives them again. */
    int r = store__begin(st, false);
    if (r < 0)
        return r;
    sqlite3_stmt *s = st->stmt[ST_AC_UPDATE];
    store__bind_text(s, 1, tag);
    sqlite3_bind_int(s, 2, (int)status);
    sqlite3_bind_int64(s, 3, expiry_s);
    if ((r = store__step(st, s, "auth cache update")) < 0)
        return r;
    if (sqlite3_changes(st->db))
        return 0;
    s = st->stmt[ST_AC_INSERT];
    store__bind_text(s, 1, tag);
    sqlite3_bind_int(s, 2, (int)status);
    sqlite3_bind_int64(s, 3, expiry_s);
    if ((r = store__step(st, s, "auth cache insert")) < 0)
        return r;
    if (++st->auth_count <= STORE_AUTH_CACHE_MAX)
        return 0;
    s = st->stmt[ST_AC_EVICT];
    sqlite3_bind_int64(s, 1, (int64_t)(st->auth_count - STORE_AUTH_CACHE_MAX));
    if ((r = store__step(st, s, "auth cache evict")) < 0)
        return r;
    st->auth_count -= (uint64_t)sqlite3_changes(st->db);
    return 0;
}

int store_auth_cache_clear(struct store *st)
{
    int r = store__begin(st, true);
    if (r < 0)
        return r;
    if ((r = store__step(st, st->stmt[ST_AC_CLEAR], "auth cache clear")) < 0)
        return r;
    st->auth_count = 0;
    return 0;
}

int store_auth_cache_get(struct store *st, const char *tag, int64_t now_s,
                         enum store_auth_status *status)
{
    if (!store__text_ok(tag, STORE_TAG_MAX, false) || !status)
        return store__invalid("store_auth_cache_get: tag");
    sqlite3_stmt *s = st->stmt[ST_AC_GET];
    store__bind_text(s, 1, tag);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        int64_t expiry = sqlite3_column_int64(s, 1);
        *status = expiry && now_s >= expiry ? STORE_AUTH_EXPIRED
                                            : (enum store_auth_status)sqlite3_column_int(s, 0);
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc == SQLITE_DONE)
        return -ENOENT;
    return rc == SQLITE_ROW ? 0 : store__err(st, rc, "auth cache get");
}

/* ---- Key-value ---- */

static bool store__kv_ok(const char *ns, const char *key)
{
    return store__text_ok(ns, STORE_KV_KEY_MAX, false) &&
           store__text_ok(key, STORE_KV_KEY_MAX, false);
}

int store_kv_put(struct store *st, const char *ns, const char *key, const char *value)
{
    if (!store__kv_ok(ns, key) || !value || strnlen(value, STORE_KV_VALUE_MAX) >= STORE_KV_VALUE_MAX)
        return store__invalid("store_kv_put: ns, key or value");
    int r = store__begin(st, true);
    if (r < 0)
        return r;
    sqlite3_stmt *s = st->stmt[ST_KV_PUT];
    store__bind_text(s, 1, ns);
    store__bind_text(s, 2, key);
    store__bind_text(s, 3, value);
    return store__step(st, s, "kv put");
}

int store_kv_get(struct store *st, const char *ns, const char *key, char **value)
{
    *value = NULL;
    if (!store__kv_ok(ns, key))
        return store__invalid("store_kv_get: ns or key");
    sqlite3_stmt *s = st->stmt[ST_KV_GET];
    store__bind_text(s, 1, ns);
    store__bind_text(s, 2, key);
    int rc = sqlite3_step(s);
    int r = 0;
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(s, 0);
        size_t len = (size_t)sqlite3_column_bytes(s, 0);
        *value = malloc(len + 1);
        if (*value) {
            if (len)
                memcpy(*value, v, len);
            (*value)[len] = '\0';
        } else {
            log_error("store", "kv get: out of memory");
            r = -ENOMEM;
        }
    } else if (rc == SQLITE_DONE) {
        r = -ENOENT;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        r = store__err(st, rc, "kv get");
    return r;
}

int store_kv_delete(struct store *st, const char *ns, const char *key)
{
    if (!store__kv_ok(ns, key))
        return store__invalid("store_kv_delete: ns or key");
    int r = store__begin(st, true);
    if (r < 0)
        return r;
    sqlite3_stmt *s = st->stmt[ST_KV_DELETE];
    store__bind_text(s, 1, ns);
    store__bind_text(s, 2, key);
    if ((r = store__step(st, s, "kv delete")) < 0)
        return r;
    return sqlite3_changes(st->db) ? 0 : -ENOENT;
}

int store_kv_delete_value(struct store *st, const char *ns, const char *value,
                          const char *except_key)
{
    if (!store__kv_ok(ns, except_key) || !value)
        return store__invalid("store_kv_delete_value: ns, value or key");
    int r = store__begin(st, true);
    if (r < 0)
        return r;
    sqlite3_stmt *s = st->stmt[ST_KV_DELETE_VALUE];
    store__bind_text(s, 1, ns);
    store__bind_text(s, 2, value);
    store__bind_text(s, 3, except_key);
    if ((r = store__step(st, s, "kv delete by value")) < 0)
        return r;
    return sqlite3_changes(st->db);
}

/* Keeping chargers going while the CSMS is unreachable: local answers, the
 * durable queue and 1.6 transaction-id mapping (offline.h); the replay is in
 * offline_replay.c. */
#include "offline.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "offline_int.h"
#include "session.h"
#include "store.h"

#define OFFLINE__PAYLOAD_MAX 512

/* What becomes of a charger's CALL while the CSMS cannot be reached. */
enum offline__fate {
    OFFLINE__RELAY = -1,    /* held in the link's queue until the CSMS is back */
    OFFLINE__LOCAL = -2,    /* answered by the gateway, not kept */
    /* >= 0: a store_kind, kept for the CSMS and answered once durable */
};

static int offline__fate(enum ocpp_version v, const char *action)
{
    static const struct { const char *action; int v16, v201; } table[] = {
        { "BootNotification",   OFFLINE__LOCAL, OFFLINE__LOCAL },
        { "Heartbeat",          OFFLINE__LOCAL, OFFLINE__LOCAL },
        { "Authorize",          OFFLINE__LOCAL, OFFLINE__LOCAL },
        { "StartTransaction",   STORE_TX,       OFFLINE__RELAY },
        { "StopTransaction",    STORE_TX,       OFFLINE__RELAY },
        /* 2.0.1: every event of a transaction carries its seqNo: none may go. */
        { "TransactionEvent",   OFFLINE__RELAY, STORE_TX },
        { "MeterValues",        STORE_METER,    STORE_METER },
        { "StatusNotification", STORE_OTHER,    STORE_OTHER },
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(table[i].action, action) == 0)
            return v == OCPP_16 ? table[i].v16 : table[i].v201;
    return OFFLINE__RELAY;
}

/* Whether a payload mentions needle at all (a cheap test before parsing it). */
static bool offline__mentions(const struct frame_span *payload, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= payload->len; i++)
        if (memcmp(payload->ptr + i, needle, n) == 0)
            return true;
    return false;
}

/* An RFC 3339 UTC time ("2026-11-21T10:00:00Z", fractions ignored); -1 if not. */
static int64_t offline__parse_time(const char *text)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

/* A live socket to the CSMS (its state lags behind while a close is handled). */
bool offline__upstream_ok(const struct session *s)
{
    return s->up_state == UPSTREAM_OPEN && s->up.wsi && !link_closing(&s->up) &&
           (!s->site || aggregate_booted(s));
}

static void offline__now_iso(char out[32])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* --- authorization -------------------------------------------------------- */

static const char *const offline__auth_names[] = {
    [STORE_AUTH_ACCEPTED] = "Accepted", [STORE_AUTH_BLOCKED] = "Blocked",
    [STORE_AUTH_EXPIRED] = "Expired", [STORE_AUTH_INVALID] = "Invalid",
    [STORE_AUTH_CONCURRENT] = "ConcurrentTx",
};

static int offline__auth_parse(const char *name, enum store_auth_status *out)
{
    for (size_t i = 0; i < sizeof(offline__auth_names) / sizeof(offline__auth_names[0]); i++) {
        if (strcmp(name, offline__auth_names[i]) == 0) {
            *out = (enum store_auth_status)i;
            return 0;
        }
    }
    return -EINVAL; /* 2.0.1 adds Unknown, NoCredit, ...: not cached */
}

static enum store_auth_status offline__expired(enum store_auth_status status, int64_t expiry,
                                              int64_t now)
{
    return status == STORE_AUTH_ACCEPTED && expiry && expiry < now ? STORE_AUTH_EXPIRED : status;
}

/* The CSMS's local list (it knows its own tags best: a card it blocked stays
 * blocked), then the site's list from the config, then the auth cache, then
 * the site's policy for unknown tags. */
static enum store_auth_status offline__authorize(struct session *s, const char *tag)
{
    static const enum store_auth_status from_config[] = {
        [CONFIG_AUTH_ACCEPTED] = STORE_AUTH_ACCEPTED, [CONFIG_AUTH_BLOCKED] = STORE_AUTH_BLOCKED,
        [CONFIG_AUTH_EXPIRED] = STORE_AUTH_EXPIRED, [CONFIG_AUTH_INVALID] = STORE_AUTH_INVALID,
    };
    struct store *st = s->proxy->store;
    int64_t now = (int64_t)time(NULL);
    enum store_auth_status status;
    int64_t expiry;
    if (store_local_list_get(st, s->id, tag, &status, &expiry) == 0)
        return offline__expired(status, expiry, now);
    const struct config_local_tag *site = config_find_local_tag(s->proxy->cfg, tag);
    if (site)
        return offline__expired(from_config[site->status], site->expiry, now);
    if (store_auth_cache_get(st, tag, now, &status) == 0)
        return status;
    return s->proxy->cfg->offline.unknown_tags == CONFIG_UNKNOWN_ACCEPT ? STORE_AUTH_ACCEPTED
                                                                        : STORE_AUTH_INVALID;
}

/* The idTag of a 1.6 payload, or the idToken.idToken of a 2.0.1 one; "" none. */
static void offline__id_tag(enum ocpp_version v, const cJSON *payload, char *out, size_t cap)
{
    const cJSON *tag = v == OCPP_16 ? cJSON_GetObjectItemCaseSensitive(payload, "idTag")
                                    : cJSON_GetObjectItemCaseSensitive(
                                          cJSON_GetObjectItemCaseSensitive(payload, "idToken"),
                                          "idToken");
    snprintf(out, cap, "%s", cJSON_IsString(tag) ? tag->valuestring : "");
}

/* --- answers ------------------------------------------------------------- */

static void offline__send_result(struct session *s, const char *id, const char *payload)
{
    char frame[FRAME_ID_MAX + OFFLINE__PAYLOAD_MAX + 16];
    int n = frame_write_result(frame, sizeof(frame), id, payload, strlen(payload));
    if (n > 0 && session_send(s, SESSION_DOWN, frame, (size_t)n) < 0)
        s->proxy->stats.dropped_frames++;
}

/* The answer the gateway gives in the CSMS's place; tx_local is the local
 * transaction id it hands out for a 1.6 StartTransaction. */
static int offline__answer(struct session *s, const char *action, const cJSON *payload,
                           const char *tx_local, char *out, size_t cap)
{
    enum ocpp_version v = s->version;
    char now[32], tag[64];
    offline__now_iso(now);
    offline__id_tag(v, payload, tag, sizeof(tag));
    const char *auth = tag[0] ? offline__auth_names[offline__authorize(s, tag)] : "Accepted";
    const char *info = v == OCPP_16 ? "idTagInfo" : "idTokenInfo";
    int n;

    if (strcmp(action, "BootNotification") == 0)
        n = snprintf(out, cap, "{\"status\":\"Accepted\",\"currentTime\":\"%s\",\"interval\":%d}",
                     now, s->proxy->cfg->offline.heartbeat_interval_s);
    else if (strcmp(action, "Heartbeat") == 0)
        n = snprintf(out, cap, "{\"currentTime\":\"%s\"}", now);
    else if (strcmp(action, "Authorize") == 0)
        n = snprintf(out, cap, "{\"%s\":{\"status\":\"%s\"}}", info, auth);
    else if (strcmp(action, "StartTransaction") == 0)
        n = snprintf(out, cap, "{\"idTagInfo\":{\"status\":\"%s\"},\"transactionId\":%s}", auth, tx_local);
    else if (strcmp(action, "TransactionEvent") == 0 && tag[0])
        n = snprintf(out, cap, "{\"idTokenInfo\":{\"status\":\"%s\"}}", auth);
    else
        n = snprintf(out, cap, "{}");
    return n > 0 && (size_t)n < cap ? 0 : -ENOSPC;
}

/* --- transaction ids (1.6) ------------------------------------------------ */

/* Replaces every "transactionId" whose value is from by to, anywhere in the
 * payload (MeterValues, StopTransaction, RemoteStopTransaction, a TxProfile). */
static int offline__swap_tx(cJSON *node, double from, double to)
{
    int n = 0;
    for (cJSON *c = node ? node->child : NULL; c; c = c->next) {
        if (c->string && strcmp(c->string, "transactionId") == 0 && cJSON_IsNumber(c) &&
            c->valuedouble == from) {
            cJSON_SetNumberValue(c, to);
            n++;
        }
        n += offline__swap_tx(c, from, to);
    }
    return n;
}

/* A new CALL text with the same id and action and the edited payload. */
static int offline__rewrap(const struct frame *f, const cJSON *payload, char **out, size_t *out_len)
{
    char *text = cJSON_PrintUnformatted(payload);
    if (!text)
        return -ENOMEM;
    size_t cap = strlen(text) + FRAME_ID_MAX + FRAME_NAME_MAX + 32;
    char *frame = malloc(cap);
    int n = frame ? frame_write_call(frame, cap, f->id, f->action, text, strlen(text)) : -ENOMEM;
    free(text);
    if (n < 0) {
        free(frame);
        return n;
    }
    *out = frame;
    *out_len = (size_t)n;
    return 0;
}

/* A queued message of a transaction started offline, with the CSMS's id
 * instead of the local one (*out NULL: nothing to change). */
int offline__rewrite_frame(const char *text, size_t len, const char *tx_real, char **out,
                           size_t *out_len)
{
    struct frame f;
    *out = NULL;
    if (frame_parse(text, len, &f) != FRAME_OK)
        return -EINVAL;
    cJSON *payload = cJSON_ParseWithLength(f.payload.ptr, f.payload.len);
    cJSON *tx = payload ? cJSON_GetObjectItemCaseSensitive(payload, "transactionId") : NULL;
    int rc = payload ? 0 : -EINVAL;
    if (cJSON_IsNumber(tx)) {
        offline__swap_tx(payload, tx->valuedouble, strtod(tx_real, NULL));
        rc = offline__rewrap(&f, payload, out, out_len);
    }
    cJSON_Delete(payload);
    return rc;
}

/* --- storing what the CSMS must see --------------------------------------- */

struct offline__pending_reply {
    struct proxy *proxy;
    char charger[CONFIG_ID_MAX + 1];
    char id[FRAME_ID_MAX + 1];
    char payload[];
};

/* The write is durable (or failed): only now does the charger get its answer. */
static void offline__after_commit(void *arg, int status)
{
    struct offline__pending_reply *r = arg;
    struct session *s = proxy__find(r->proxy, r->charger);
    if (s && session_has_down(s)) {
        if (status == 0)
            offline__send_result(s, r->id, r->payload);
        else /* the charger keeps it and sends it again: nothing is lost */
            relay_send_error(s, SESSION_DOWN, r->id, "InternalError", "cannot store the message");
    }
    free(r);
}

/* Stores a charger's CALL (msg, the whole frame) for the CSMS and answers it
 * once the write is durable. */
static int offline__store(struct session *s, const struct frame *f, const char *msg, size_t len,
                          int kind)
{
    struct proxy *p = s->proxy;
    cJSON *payload = cJSON_ParseWithLength(f->payload.ptr, f->payload.len);
    if (!payload)
        return -EINVAL;
    char tx_local[64] = "";
    char *rewritten = NULL;
    size_t rewritten_len = 0;
    int rc = 0;

    if (s->version == OCPP_16 && strcmp(f->action, "StartTransaction") == 0) {
        int64_t local;
        rc = store_next_local_tx(p->store, &local);
        if (rc == 0) {
            snprintf(tx_local, sizeof(tx_local), "%" PRId64, local);
            const cJSON *conn = cJSON_GetObjectItemCaseSensitive(payload, "connectorId");
            rc = store_tx_put(p->store, s->id, tx_local, NULL,
                              cJSON_IsNumber(conn) ? conn->valueint : 0);
        }
    } else if (s->version == OCPP_16) {
        const cJSON *tx = cJSON_GetObjectItemCaseSensitive(payload, "transactionId");
        if (cJSON_IsNumber(tx) && tx->valuedouble < 0) {
            char real[64];
            snprintf(tx_local, sizeof(tx_local), "%.0f", tx->valuedouble);
            /* Replayed already: the CSMS's id goes into the stored message. */
            if (store_tx_get_real(p->store, s->id, tx_local, real, sizeof(real)) == 0 && real[0]) {
                offline__swap_tx(payload, tx->valuedouble, strtod(real, NULL));
                rc = offline__rewrap(f, payload, &rewritten, &rewritten_len);
                tx_local[0] = '\0';
            }
        }
    } else if (strcmp(f->action, "TransactionEvent") == 0) {
        /* The charger thinks it is online; the CSMS must know it was not. */
        const cJSON *tx = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(payload, "transactionInfo"), "transactionId");
        if (cJSON_IsString(tx))
            snprintf(tx_local, sizeof(tx_local), "%s", tx->valuestring);
        cJSON_DeleteItemFromObjectCaseSensitive(payload, "offline");
        cJSON_AddBoolToObject(payload, "offline", 1);
        rc = offline__rewrap(f, payload, &rewritten, &rewritten_len);
    }

    char answer[OFFLINE__PAYLOAD_MAX];
    if (rc == 0)
        rc = offline__answer(s, f->action, payload, tx_local, answer, sizeof(answer));
    cJSON_Delete(payload);
    int64_t seq;
    if (rc == 0)
        rc = store_queue_append(p->store, s->id, (enum store_kind)kind, f->action, tx_local,
                                rewritten ? rewritten : msg, rewritten ? rewritten_len : len, &seq);
    free(rewritten);

    struct offline__pending_reply *r = NULL;
    if (rc == 0) {
        size_t alen = strlen(answer) + 1;
        r = malloc(sizeof(*r) + alen);
        rc = r ? 0 : -ENOMEM;
    }
    if (rc == 0) {
        r->proxy = p;
        snprintf(r->charger, sizeof(r->charger), "%s", s->id);
        snprintf(r->id, sizeof(r->id), "%s", f->id);
        memcpy(r->payload, answer, strlen(answer) + 1);
        rc = store_after_commit(p->store, offline__after_commit, r);
    }
    if (rc < 0) {
        free(r);
        log_error("proxy", "cannot store for the CSMS charger=%s action=%s: %s", s->id, f->action,
                  strerror(-rc));
        return rc;
    }
    s->offline.backlog = true;
    log_debug("proxy", "stored for the CSMS charger=%s action=%s tx=%s", s->id, f->action,
              tx_local[0] ? tx_local : "-");
    return 0;
}

/* Answers a charger's CALL the gateway can answer, storing it first when
 * the CSMS must see it; false when it is for the relay to hold. */
static bool offline__take_one(struct session *s, const struct frame *f, const char *msg, size_t len)
{
    int fate = offline__fate(s->version, f->action);
    if (fate == OFFLINE__RELAY)
        return false;
    if (fate >= 0) {
        if (offline__store(s, f, msg, len, fate) < 0)
            relay_send_error(s, SESSION_DOWN, f->id, "InternalError", "cannot store the message");
        return true;
    }
    cJSON *payload = cJSON_ParseWithLength(f->payload.ptr, f->payload.len);
    char answer[OFFLINE__PAYLOAD_MAX];
    if (payload && offline__answer(s, f->action, payload, "", answer, sizeof(answer)) == 0)
        offline__send_result(s, f->id, answer);
    else
        relay_send_error(s, SESSION_DOWN, f->id, "InternalError", "cannot answer");
    cJSON_Delete(payload);
    log_debug("proxy", "answered locally charger=%s action=%s", s->id, f->action);
    return true;
}

static void offline__forwarded(void *ctx, const struct pending_call *call, const struct frame *f);

/* Moves the CALLs still held for the CSMS that it must see into the store,
 * oldest first: what is stored next must not overtake them. */
void offline__store_held(struct session *s)
{
    for (size_t i = 0; i < s->to_csms.n;) {
        const struct pending_call *c = &s->to_csms.calls[i];
        struct frame orig;
        if (c->on_answer != offline__forwarded || !c->frame ||
            frame_parse(c->frame, c->frame_len, &orig) != FRAME_OK ||
            offline__fate(s->version, orig.action) < 0 || !link_unqueue(&s->up, c->id)) {
            i++;
            continue;
        }
        struct pending_call held;
        pending_take(&s->to_csms, c->id, &held); /* index i is the next one now */
        if (frame_parse(held.frame, held.frame_len, &orig) == FRAME_OK)
            offline__take_one(s, &orig, held.frame, held.frame_len);
        free(held.frame);
    }
}

/* A new CALL (the youngest): what is still held goes into the store first. */
static bool offline__take(struct session *s, const struct frame *f, const char *msg, size_t len)
{
    if (offline__fate(s->version, f->action) >= 0)
        offline__store_held(s);
    return offline__take_one(s, f, msg, len);
}

/* A live 1.6 message naming a transaction that was started offline and has
 * its CSMS id by now: the CSMS gets its own id. */
static void offline__translate_up(struct session *s, const struct frame *f, char **out, size_t *out_len)
{
    /* Every forwarded frame passes here: cheap tests first. Only these two
     * actions name a transaction, and only a negative id is a local one. */
    if (s->version != OCPP_16 ||
        (strcmp(f->action, "MeterValues") != 0 && strcmp(f->action, "StopTransaction") != 0) ||
        !offline__mentions(&f->payload, "\"transactionId\":-"))
        return;
    cJSON *payload = cJSON_ParseWithLength(f->payload.ptr, f->payload.len);
    const cJSON *tx = payload ? cJSON_GetObjectItemCaseSensitive(payload, "transactionId") : NULL;
    char local[64], real[64];
    if (cJSON_IsNumber(tx) && tx->valuedouble < 0) {
        snprintf(local, sizeof(local), "%.0f", tx->valuedouble);
        if (store_tx_get_real(s->proxy->store, s->id, local, real, sizeof(real)) == 0 && real[0]) {
            offline__swap_tx(payload, tx->valuedouble, strtod(real, NULL));
            offline__rewrap(f, payload, out, out_len);
        }
    }
    cJSON_Delete(payload);
}

bool offline_charger_call(struct session *s, const struct frame *f, const char *msg, size_t len,
                          char **rewritten, size_t *rewritten_len)
{
    *rewritten = NULL;
    if (!s->proxy->store)
        return false;
    bool up = offline__upstream_ok(s);
    bool must_see = offline__fate(s->version, f->action) >= 0;
    /* Behind a backlog, what the CSMS must see queues too, up or down: the
     * CSMS gets it in the order the charger sent it. */
    if (s->offline.backlog && must_see)
        return offline__take(s, f, msg, len);
    /* Down, and already found to be down for good: answer at once. Down for
     * a moment only (or not known yet): the relay holds it (offline.hold_s). */
    if (!up)
        return s->offline.active ? offline__take(s, f, msg, len) : false;
    offline__translate_up(s, f, rewritten, rewritten_len);
    return false;
}

/* --- CALLs forwarded while the link is up --------------------------------- */

/* The CSMS's answer to a forwarded CALL (relayed as it is), or none. */
static void offline__forwarded(void *ctx, const struct pending_call *call, const struct frame *f)
{
    struct session *s = ctx;
    if (!f) {
        /* The link died (or the CSMS never answered): answer in its place,
         * keeping what it must see. At least once: the CSMS may have had it. */
        if (!session_has_down(s) || !call->frame)
            return;
        struct frame orig;
        if (frame_parse(call->frame, call->frame_len, &orig) != FRAME_OK)
            return;
        /* Still held: it must not reach the CSMS twice. */
        link_unqueue(&s->up, call->id);
        if (!s->offline.active && !offline__upstream_ok(s))
            log_warn("proxy", "CSMS unreachable, answering in its place charger=%s", s->id);
        s->offline.active = !offline__upstream_ok(s);
        log_info("proxy", "no answer from the CSMS, answering locally charger=%s action=%s",
                 s->id, call->action);
        /* The oldest of what waits: stored alone, the younger ones follow. */
        offline__take_one(s, &orig, call->frame, call->frame_len);
        return;
    }
    /* Learn from the CSMS's verdicts, for authorizing offline. */
    if (f->type != FRAME_RESULT || !call->frame ||
        (strcmp(call->action, "Authorize") && strcmp(call->action, "StartTransaction") &&
         strcmp(call->action, "TransactionEvent")) ||
        !offline__mentions(&f->payload, s->version == OCPP_16 ? "\"idTagInfo\"" : "\"idTokenInfo\""))
        return;
    struct frame req;
    if (frame_parse(call->frame, call->frame_len, &req) != FRAME_OK)
        return;
    cJSON *in = cJSON_ParseWithLength(req.payload.ptr, req.payload.len);
    cJSON *out = cJSON_ParseWithLength(f->payload.ptr, f->payload.len);
    char tag[64];
    offline__id_tag(s->version, in, tag, sizeof(tag));
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(out, s->version == OCPP_16 ? "idTagInfo"
                                                                                  : "idTokenInfo");
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(info, "status");
    const cJSON *expiry = cJSON_GetObjectItemCaseSensitive(
        info, s->version == OCPP_16 ? "expiryDate" : "cacheExpiryDateTime");
    enum store_auth_status st;
    if (tag[0] && cJSON_IsString(status) && offline__auth_parse(status->valuestring, &st) == 0) {
        int64_t until = (int64_t)time(NULL) + s->proxy->cfg->offline.auth_cache_s;
        if (cJSON_IsString(expiry) && offline__parse_time(expiry->valuestring) > 0)
            until = offline__parse_time(expiry->valuestring);
        if (s->proxy->cfg->offline.auth_cache_s > 0)
            store_auth_cache_put(s->proxy->store, tag, st, until);
    }
    cJSON_Delete(in);
    cJSON_Delete(out);
}

int offline_track_call(struct session *s, const struct frame *f, const char *msg, size_t len,
                       struct pending_call *call)
{
    if (!s->proxy->store || offline__fate(s->version, f->action) == OFFLINE__RELAY)
        return 0;
    call->frame = malloc(len);
    if (!call->frame)
        return -ENOMEM;
    memcpy(call->frame, msg, len);
    call->frame_len = len;
    call->on_answer = offline__forwarded;
    call->ctx = s;
    call->relayed = true;
    return 0;
}

/* --- the CSMS's CALLs ------------------------------------------------------ */

static void offline__local_list(struct session *s, const cJSON *payload)
{
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(
        payload, s->version == OCPP_16 ? "listVersion" : "versionNumber");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(payload, "updateType");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(payload, "localAuthorizationList");
    if (!cJSON_IsNumber(version) || !cJSON_IsString(type))
        return;
    size_t n = (size_t)cJSON_GetArraySize(list), k = 0;
    const char **tags = calloc(n + 1, sizeof(*tags));
    const char **parents = calloc(n + 1, sizeof(*parents));
    enum store_auth_status *status = calloc(n + 1, sizeof(*status));
    int64_t *expiry = calloc(n + 1, sizeof(*expiry));
    if (tags && parents && status && expiry) {
        const cJSON *e;
        cJSON_ArrayForEach(e, list) {
            const cJSON *tag = s->version == OCPP_16
                ? cJSON_GetObjectItemCaseSensitive(e, "idTag")
                : cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "idToken"), "idToken");
            const cJSON *info = cJSON_GetObjectItemCaseSensitive(
                e, s->version == OCPP_16 ? "idTagInfo" : "idTokenInfo");
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(info, "status");
            const cJSON *until = cJSON_GetObjectItemCaseSensitive(
                info, s->version == OCPP_16 ? "expiryDate" : "cacheExpiryDateTime");
            const cJSON *parent = s->version == OCPP_16
                ? cJSON_GetObjectItemCaseSensitive(info, "parentIdTag")
                : cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(info, "groupIdToken"),
                                                   "idToken");
            if (!cJSON_IsString(tag))
                continue;
            tags[k] = tag->valuestring;
            parents[k] = cJSON_IsString(parent) ? parent->valuestring : NULL;
            expiry[k] = cJSON_IsString(until) && offline__parse_time(until->valuestring) > 0
                            ? offline__parse_time(until->valuestring) : 0;
            /* A Differential entry without info removes the tag (the cache and
             * the policy decide again); a status unknown to 1.6 is Invalid. */
            if (!info)
                status[k] = STORE_AUTH_REMOVE;
            else if (!cJSON_IsString(st) || offline__auth_parse(st->valuestring, &status[k]) < 0)
                status[k] = STORE_AUTH_INVALID;
            k++;
        }
        store_local_list_set(s->proxy->store, s->id, version->valueint,
                             strcmp(type->valuestring, "Full") == 0, tags, status, expiry, parents, k);
        log_info("proxy", "local authorization list captured charger=%s version=%d entries=%zu",
                 s->id, version->valueint, k);
    }
    free(tags);
    free(parents);
    free(status);
    free(expiry);
}

void offline_csms_call(struct session *s, const struct frame *f, char **rewritten, size_t *len)
{
    *rewritten = NULL;
    if (!s->proxy->store)
        return;
    if (strcmp(f->action, "SendLocalList") == 0) {
        cJSON *payload = cJSON_ParseWithLength(f->payload.ptr, f->payload.len);
        if (payload)
            offline__local_list(s, payload);
        cJSON_Delete(payload);
        return;
    }
    /* The CSMS names a transaction by its own id; a charger that started it
     * offline knows it by the local one. */
    if (s->version != OCPP_16 || !offline__mentions(&f->payload, "transactionId"))
        return;
    cJSON *payload = cJSON_ParseWithLength(f->payload.ptr, f->payload.len);
    const cJSON *tx = cJSON_GetObjectItemCaseSensitive(payload, "transactionId");
    if (!tx)
        tx = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(payload, "csChargingProfiles"), "transactionId");
    char real[64], local[64];
    if (cJSON_IsNumber(tx) && tx->valuedouble > 0) {
        snprintf(real, sizeof(real), "%.0f", tx->valuedouble);
        if (store_tx_get_local(s->proxy->store, s->id, real, local, sizeof(local)) == 0) {
            offline__swap_tx(payload, tx->valuedouble, strtod(local, NULL));
            if (offline__rewrap(f, payload, rewritten, len) == 0)
                log_info("proxy", "CSMS transaction id translated charger=%s action=%s csms=%s local=%s",
                         s->id, f->action, real, local);
        }
    }
    cJSON_Delete(payload);
}

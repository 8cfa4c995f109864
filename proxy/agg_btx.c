#include "agg_btx.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <openssl/rand.h>

#include "log.h"
#include "store.h"

#define AGG_BTX__NS "aggregate_bridged"
#define AGG_BTX__HANDLE_MAX INT32_MAX /* a 1.6 transactionId is a JSON integer chargers keep in 32 bits */

/* ---- the store ---- */

static void agg_btx__key(int64_t handle, char out[24])
{
    snprintf(out, 24, "%" PRId64, handle);
}

static cJSON *agg_btx__json(const struct agg_btx *x)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o && cJSON_AddNumberToObject(o, "handle", (double)x->handle) &&
              cJSON_AddStringToObject(o, "charger", x->charger) &&
              cJSON_AddNumberToObject(o, "connector", x->connector) &&
              cJSON_AddNumberToObject(o, "number", x->number) &&
              cJSON_AddNumberToObject(o, "id16", (double)x->id16) &&
              cJSON_AddStringToObject(o, "id201", x->id201) &&
              cJSON_AddNumberToObject(o, "seq_no", x->seq_no) &&
              cJSON_AddStringToObject(o, "state", x->state) &&
              (isnan(x->meter_wh) || cJSON_AddNumberToObject(o, "meter_wh", x->meter_wh)) &&
              cJSON_AddBoolToObject(o, "started", x->started);
    if (!ok) {
        cJSON_Delete(o);
        o = NULL;
    }
    return o;
}

/* One kept entry; false when it is not one. */
static bool agg_btx__parse(const cJSON *o, struct agg_btx *x)
{
    const cJSON *f[9];
    static const char *const names[] = { "handle", "charger", "connector", "number", "id16",
                                         "id201", "seq_no", "state", "started" };
    for (size_t i = 0; i < 9; i++)
        f[i] = cJSON_GetObjectItemCaseSensitive(o, names[i]);
    if (!cJSON_IsNumber(f[0]) || !cJSON_IsString(f[1]) || !cJSON_IsNumber(f[2]) || !cJSON_IsNumber(f[3]) ||
        !cJSON_IsNumber(f[4]) || !cJSON_IsString(f[5]) || !cJSON_IsNumber(f[6]) || !cJSON_IsString(f[7]) ||
        !cJSON_IsBool(f[8]) || f[0]->valuedouble < 1 || f[0]->valuedouble > AGG_BTX__HANDLE_MAX ||
        strlen(f[1]->valuestring) > CONFIG_ID_MAX || strlen(f[5]->valuestring) >= BRIDGE_TX_MAX ||
        strlen(f[7]->valuestring) >= sizeof(x->state))
        return false;
    const cJSON *wh = cJSON_GetObjectItemCaseSensitive(o, "meter_wh");
    memset(x, 0, sizeof(*x));
    x->handle = (int64_t)f[0]->valuedouble;
    snprintf(x->charger, sizeof(x->charger), "%s", f[1]->valuestring);
    x->connector = f[2]->valueint;
    x->number = f[3]->valueint;
    x->id16 = (int64_t)f[4]->valuedouble;
    snprintf(x->id201, sizeof(x->id201), "%s", f[5]->valuestring);
    x->seq_no = f[6]->valueint;
    snprintf(x->state, sizeof(x->state), "%s", f[7]->valuestring);
    x->meter_wh = cJSON_IsNumber(wh) ? wh->valuedouble : NAN;
    x->started = cJSON_IsTrue(f[8]);
    return true;
}

/* The index (the handles in use) and the counter. */
static int agg_btx__save_index(struct agg_btxs *t)
{
    if (!t->store)
        return 0;
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = o ? cJSON_AddArrayToObject(o, "handles") : NULL;
    bool ok = arr && cJSON_AddNumberToObject(o, "last", (double)t->last);
    for (size_t i = 0; ok && i < AGG_BTXS; i++)
        if (t->v[i].handle)
            ok = cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)t->v[i].handle));
    char *text = ok ? cJSON_PrintUnformatted(o) : NULL;
    int rc = text ? store_kv_put(t->store, AGG_BTX__NS, "index", text) : -ENOMEM;
    cJSON_Delete(o);
    free(text);
    return rc;
}

static int agg_btx__save_remotes(struct agg_btxs *t)
{
    if (!t->store)
        return 0;
    cJSON *arr = cJSON_CreateArray();
    bool ok = arr != NULL;
    for (size_t i = 0; ok && i < AGG_REMOTES; i++) {
        const struct agg_remote *r = &t->remotes[i];
        if (!r->number)
            continue;
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddItemToArray(arr, o) && cJSON_AddNumberToObject(o, "number", r->number) &&
             cJSON_AddNumberToObject(o, "id", r->id) && cJSON_AddStringToObject(o, "id_tag", r->id_tag) &&
             cJSON_AddStringToObject(o, "type", r->type);
    }
    char *text = ok ? cJSON_PrintUnformatted(arr) : NULL;
    int rc = text ? store_kv_put(t->store, AGG_BTX__NS, "remotes", text) : -ENOMEM;
    cJSON_Delete(arr);
    free(text);
    return rc;
}

int agg_btx_save(struct agg_btxs *t, const struct agg_btx *x)
{
    if (!t->store)
        return 0;
    char key[24];
    cJSON *o = agg_btx__json(x);
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    agg_btx__key(x->handle, key);
    int rc = text ? store_kv_put(t->store, AGG_BTX__NS, key, text) : -ENOMEM;
    cJSON_Delete(o);
    free(text);
    if (rc < 0)
        log_error("proxy", "cannot keep a bridged transaction charger=%s tx=%s", x->charger, x->id201);
    return rc;
}

static void agg_btx__load_remotes(struct agg_btxs *t)
{
    char *text = NULL;
    if (store_kv_get(t->store, AGG_BTX__NS, "remotes", &text) < 0)
        return;
    cJSON *arr = cJSON_Parse(text);
    free(text);
    const cJSON *o;
    size_t n = 0;
    cJSON_ArrayForEach(o, arr) {
        const cJSON *number = cJSON_GetObjectItemCaseSensitive(o, "number");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
        const cJSON *tag = cJSON_GetObjectItemCaseSensitive(o, "id_tag");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
        if (n == AGG_REMOTES || !cJSON_IsNumber(number) || number->valueint < 1 || !cJSON_IsNumber(id) ||
            !cJSON_IsString(tag) || !cJSON_IsString(type))
            continue;
        struct agg_remote *r = &t->remotes[n++];
        r->number = number->valueint;
        r->id = id->valueint;
        snprintf(r->id_tag, sizeof(r->id_tag), "%s", tag->valuestring);
        snprintf(r->type, sizeof(r->type), "%s", type->valuestring);
    }
    t->next_remote = n % AGG_REMOTES;
    cJSON_Delete(arr);
}

int agg_btx_load(struct agg_btxs *t, struct store *st)
{
    memset(t, 0, sizeof(*t));
    t->store = st;
    if (!st)
        return 0;
    char *text = NULL;
    int rc = store_kv_get(st, AGG_BTX__NS, "index", &text);
    if (rc == -ENOENT)
        return 0;
    if (rc < 0)
        return rc;
    cJSON *index = cJSON_Parse(text);
    free(text);
    const cJSON *last = cJSON_GetObjectItemCaseSensitive(index, "last"), *h;
    if (cJSON_IsNumber(last) && last->valuedouble >= 0 && last->valuedouble <= AGG_BTX__HANDLE_MAX)
        t->last = (int64_t)last->valuedouble;
    size_t n = 0;
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(index, "handles")) {
        char key[24];
        if (!cJSON_IsNumber(h) || n == AGG_BTXS)
            continue;
        agg_btx__key((int64_t)h->valuedouble, key);
        cJSON *o = store_kv_get(st, AGG_BTX__NS, key, &text) == 0 ? cJSON_Parse(text) : NULL;
        if (o && agg_btx__parse(o, &t->v[n]))
            n++;
        else
            log_warn("proxy", "kept bridged transaction unreadable, dropped handle=%s", key);
        free(text);
        text = NULL;
        cJSON_Delete(o);
    }
    cJSON_Delete(index);
    agg_btx__load_remotes(t);
    if (n)
        log_info("proxy", "bridged transactions restored count=%zu", n);
    return 0;
}

/* ---- entries ---- */

/* A version 4 UUID, for the 2.0.1 transactionId of a 1.6 charger's transaction. */
static int agg_btx__uuid(char out[BRIDGE_TX_MAX])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof(b)) != 1)
        return -EIO;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, BRIDGE_TX_MAX, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return 0;
}

static void agg_btx__forget(struct agg_btxs *t, struct agg_btx *x)
{
    char key[24];
    agg_btx__key(x->handle, key);
    int rc = t->store ? store_kv_delete(t->store, AGG_BTX__NS, key) : 0;
    if (rc < 0 && rc != -ENOENT)
        log_error("proxy", "cannot forget a bridged transaction charger=%s tx=%s", x->charger, x->id201);
    memset(x, 0, sizeof(*x));
}

struct agg_btx *agg_btx_new(struct agg_btxs *t, const char *charger, int connector, int number,
                          const char *id201)
{
    struct agg_btx *slot = NULL, *oldest = NULL;
    for (size_t i = 0; i < AGG_BTXS; i++) {
        struct agg_btx *x = &t->v[i];
        if (x->handle && x->connector == connector && strcmp(x->charger, charger) == 0) {
            log_info("proxy", "bridged transaction replaced by a new one charger=%s connector=%d tx=%s",
                     charger, connector, x->id201);
            agg_btx__forget(t, x);
        }
        if (!x->handle && !slot)
            slot = x;
        else if (x->handle && (!oldest || x->handle < oldest->handle))
            oldest = x;
    }
    if (!slot) {
        log_warn("proxy", "too many bridged transactions, the oldest is forgotten charger=%s tx=%s",
                 oldest->charger, oldest->id201);
        agg_btx__forget(t, oldest);
        slot = oldest;
    }
    slot->handle = t->last = t->last >= AGG_BTX__HANDLE_MAX ? 1 : t->last + 1;
    snprintf(slot->charger, sizeof(slot->charger), "%s", charger);
    slot->connector = connector;
    slot->number = number;
    slot->meter_wh = NAN;
    if (id201)
        snprintf(slot->id201, sizeof(slot->id201), "%s", id201);
    else
        slot->id16 = slot->handle;
    if ((!id201 && agg_btx__uuid(slot->id201) < 0) || agg_btx_save(t, slot) < 0 || agg_btx__save_index(t) < 0) {
        agg_btx__forget(t, slot);
        return NULL;
    }
    return slot;
}

struct agg_btx *agg_btx_by_handle(struct agg_btxs *t, const char *charger, int64_t handle)
{
    for (size_t i = 0; handle && i < AGG_BTXS; i++)
        if (t->v[i].handle == handle && (!charger || strcmp(t->v[i].charger, charger) == 0))
            return &t->v[i];
    return NULL;
}

struct agg_btx *agg_btx_by_id201(struct agg_btxs *t, const char *charger, const char *id201)
{
    for (size_t i = 0; id201 && i < AGG_BTXS; i++)
        if (t->v[i].handle && strcmp(t->v[i].id201, id201) == 0 &&
            (!charger || strcmp(t->v[i].charger, charger) == 0))
            return &t->v[i];
    return NULL;
}

struct agg_btx *agg_btx_by_id16(struct agg_btxs *t, const char *charger, int64_t id16)
{
    for (size_t i = 0; id16 && i < AGG_BTXS; i++)
        if (t->v[i].handle && t->v[i].id16 == id16 && (!charger || strcmp(t->v[i].charger, charger) == 0))
            return &t->v[i];
    return NULL;
}

struct agg_btx *agg_btx_on(struct agg_btxs *t, int number)
{
    for (size_t i = 0; i < AGG_BTXS; i++)
        if (t->v[i].handle && t->v[i].number == number)
            return &t->v[i];
    return NULL;
}

void agg_btx_end(struct agg_btxs *t, struct agg_btx *x)
{
    agg_btx__forget(t, x);
    if (agg_btx__save_index(t) < 0)
        log_error("proxy", "cannot keep the bridged transactions' index");
}

/* ---- remote starts ---- */

void agg_btx_remote_put(struct agg_btxs *t, int number, int id, const char *id_tag, const char *type)
{
    struct agg_remote *r = NULL;
    for (size_t i = 0; i < AGG_REMOTES && !r; i++)
        if (t->remotes[i].number == number)
            r = &t->remotes[i];
    if (!r)
        r = &t->remotes[t->next_remote++ % AGG_REMOTES]; /* the oldest goes */
    r->number = number;
    r->id = id;
    snprintf(r->id_tag, sizeof(r->id_tag), "%s", id_tag);
    snprintf(r->type, sizeof(r->type), "%s", type);
    if (agg_btx__save_remotes(t) < 0)
        log_error("proxy", "cannot keep a remote start site_connector=%d", number);
}

bool agg_btx_remote_take(struct agg_btxs *t, int number, const char *id_tag, struct agg_remote *out)
{
    for (size_t i = 0; i < AGG_REMOTES; i++) {
        struct agg_remote *r = &t->remotes[i];
        if (r->number != number || strcasecmp(r->id_tag, id_tag) != 0)
            continue;
        *out = *r;
        memset(r, 0, sizeof(*r));
        if (agg_btx__save_remotes(t) < 0)
            log_error("proxy", "cannot keep the remote starts");
        return true;
    }
    return false;
}

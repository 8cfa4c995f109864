/* The demand-response schedule in the store's key-value table: each event
 * as the notification it came in (with its arrival and drawn offset), the
 * list of ids held, and the cancelled ids. Written from the loop thread; the
 * store's group commit makes each loop turn's writes durable together. */
#include "dr_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "oadr_record.h"
#include "store.h"

int64_t dr__now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void dr__key(char *buf, size_t cap, const char *id)
{
    snprintf(buf, cap, "event/%s", id);
}

void dr__save_ids(struct dr *d)
{
    if (!d->store)
        return;
    cJSON *ids = cJSON_CreateArray();
    bool ok = ids != NULL;
    for (size_t i = 0; ok && i < d->sched->n; i++) {
        cJSON *s = cJSON_CreateString(d->sched->entries[i].ev.id);
        ok = s && cJSON_AddItemToArray(ids, s);
        if (!ok)
            cJSON_Delete(s);
    }
    char *text = ok ? cJSON_PrintUnformatted(ids) : NULL;
    cJSON_Delete(ids);
    if (!text || store_kv_put(d->store, DR_KV_NS, "ids", text) < 0)
        log_error("dr", "cannot store the list of events held");
    free(text);
}

void dr__save_event(struct dr *d, const char *id, const char *notification, size_t len)
{
    const struct oadr_entry *e = oadr_schedule_find(d->sched, id);
    if (!d->store || !e)
        return;
    char key[OADR_ID_MAX + 16];
    dr__key(key, sizeof(key), id);
    char *rec = oadr_record_encode(notification, len, e->received_us, e->offset_us);
    if (!rec || store_kv_put(d->store, DR_KV_NS, key, rec) < 0)
        log_error("dr", "cannot store event=%s: it is followed until a restart only", id);
    free(rec);
    dr__save_ids(d);
}

void dr__forget_event(struct dr *d, const char *id)
{
    if (!d->store)
        return;
    char key[OADR_ID_MAX + 16];
    dr__key(key, sizeof(key), id);
    int rc = store_kv_delete(d->store, DR_KV_NS, key);
    if (rc < 0 && rc != -ENOENT)
        log_error("dr", "cannot remove event=%s from the store", id);
}

void dr__save_tombstones(struct dr *d)
{
    if (!d->store)
        return;
    char *text = oadr_record_tombs_encode(d->sched);
    if (!text || store_kv_put(d->store, DR_KV_NS, "tombstones", text) < 0)
        log_error("dr", "cannot store the cancelled events");
    free(text);
}

/* One stored event back into the schedule; false when it is dropped. */
static bool dr__load_one(struct dr *d, const char *id)
{
    char key[OADR_ID_MAX + 16], err[OADR_ERR_MAX];
    char *rec = NULL, *text = NULL;
    size_t len = 0;
    int64_t received, offset;
    dr__key(key, sizeof(key), id);
    bool kept = false;
    if (store_kv_get(d->store, DR_KV_NS, key, &rec) < 0 ||
        oadr_record_decode(rec, &text, &len, &received, &offset) < 0) {
        log_warn("dr", "stored event=%s is unreadable, dropped", id);
    } else if (oadr_parse(text, len, &d->parse, received, d->scratch, err) != OADR_EVENT ||
               d->scratch->operation == OADR_DELETE || d->scratch->event.cancel ||
               strcmp(d->scratch->event.id, id) != 0) {
        /* The config changed under it (a program left, another VEN id). */
        log_info("dr", "stored event=%s no longer applies, dropped reason=%s", id,
                 err[0] ? err : "cancelled");
    } else if (oadr_schedule_restore(d->sched, &d->scratch->event, offset, received) < 0) {
        log_warn("dr", "stored event=%s does not fit in the schedule, dropped", id);
    } else {
        log_info("dr", "event restored event=%s modified=%s", id, d->scratch->event.modified);
        kept = true;
    }
    free(rec);
    free(text);
    return kept;
}

void dr__load(struct dr *d)
{
    char *text = NULL;
    if (!d->store)
        return;
    if (store_kv_get(d->store, DR_KV_NS, "tombstones", &text) == 0 &&
        oadr_record_tombs_decode(text, d->sched) < 0)
        log_warn("dr", "stored cancelled events are unreadable, some may come back");
    free(text);
    text = NULL;
    if (store_kv_get(d->store, DR_KV_NS, "ids", &text) < 0)
        return;
    cJSON *ids = cJSON_Parse(text);
    free(text);
    bool dropped = !cJSON_IsArray(ids);
    for (const cJSON *id = ids ? ids->child : NULL; id; id = id->next) {
        if (!cJSON_IsString(id) || !id->valuestring || !oadr_object_id_ok(id->valuestring)) {
            dropped = true;
            continue;
        }
        if (!dr__load_one(d, id->valuestring)) {
            char key[OADR_ID_MAX + 16];
            dr__key(key, sizeof(key), id->valuestring);
            store_kv_delete(d->store, DR_KV_NS, key);
            dropped = true;
        }
    }
    cJSON_Delete(ids);
    if (dropped)
        dr__save_ids(d);
}

/* The persisted form of the schedule (oadr_record.h). */
#include "oadr_record.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static bool oadr__add_i64(cJSON *obj, const char *name, int64_t v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%" PRId64, v);
    return cJSON_AddStringToObject(obj, name, buf) != NULL;
}

/* A decimal int64 in a string member; false if absent or malformed. */
static bool oadr__get_i64(const cJSON *obj, const char *name, int64_t *out)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsString(m) || !m->valuestring || !m->valuestring[0])
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(m->valuestring, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

char *oadr_record_encode(const char *notification, size_t len, int64_t received_us,
                         int64_t offset_us)
{
    char *text = malloc(len + 1);
    cJSON *root = text ? cJSON_CreateObject() : NULL;
    char *out = NULL;
    if (root) {
        memcpy(text, notification, len);
        text[len] = '\0';
        if (oadr__add_i64(root, "received_us", received_us) &&
            oadr__add_i64(root, "offset_us", offset_us) &&
            cJSON_AddStringToObject(root, "notification", text))
            out = cJSON_PrintUnformatted(root);
    }
    cJSON_Delete(root);
    free(text);
    return out;
}

int oadr_record_decode(const char *text, char **notification, size_t *len, int64_t *received_us,
                       int64_t *offset_us)
{
    *notification = NULL;
    cJSON *root = cJSON_Parse(text);
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(root, "notification");
    int rc = -EINVAL;
    if (cJSON_IsObject(root) && cJSON_IsString(n) && n->valuestring &&
        oadr__get_i64(root, "received_us", received_us) &&
        oadr__get_i64(root, "offset_us", offset_us) && *offset_us >= 0) {
        *len = strlen(n->valuestring);
        *notification = malloc(*len + 1);
        rc = *notification ? 0 : -ENOMEM;
        if (*notification)
            memcpy(*notification, n->valuestring, *len + 1);
    }
    cJSON_Delete(root);
    return rc;
}

char *oadr_record_tombs_encode(const struct oadr_schedule *s)
{
    cJSON *root = cJSON_CreateArray();
    bool ok = root != NULL;
    for (size_t i = 0; ok && i < s->n_tombs; i++) {
        cJSON *t = cJSON_CreateObject();
        if (!t || !cJSON_AddItemToArray(root, t)) {
            cJSON_Delete(t);
            ok = false;
            break;
        }
        ok = cJSON_AddStringToObject(t, "id", s->tombs[i].id) &&
             oadr__add_i64(t, "modified_us", s->tombs[i].modified_us);
    }
    char *out = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return out;
}

int oadr_record_tombs_decode(const char *text, struct oadr_schedule *s)
{
    cJSON *root = cJSON_Parse(text);
    int rc = cJSON_IsArray(root) ? 0 : -EINVAL;
    for (const cJSON *t = root ? root->child : NULL; !rc && t; t = t->next) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(t, "id");
        int64_t modified;
        if (!cJSON_IsString(id) || !id->valuestring || !oadr_object_id_ok(id->valuestring) ||
            !oadr__get_i64(t, "modified_us", &modified))
            rc = -EINVAL;
        else
            oadr_schedule_restore_tombstone(s, id->valuestring, modified);
    }
    cJSON_Delete(root);
    return rc;
}

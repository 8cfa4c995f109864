/* offline.local_list: the site's own authorization list, the idTags (1.6)
 * and idTokens (2.0.1) a site manager wants honoured while the CSMS cannot be
 * reached, even when the CSMS never sent a list of its own. Kept sorted by
 * tag, so a lookup on every offline Authorize is a binary search.
 * config/README.md documents the same keys; keep the two in step. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config_int.h"

#define KEY(base, key, ty, field, ...) \
    { .name = key, .type = CONFIG__##ty, .off = offsetof(base, field), __VA_ARGS__ }

#define CONFIG__LOCAL_LIST_MAX 10000

_Static_assert(sizeof(enum config_auth) == sizeof(int), "enum size");
/* The walker fills an IDBUF field with CONFIG_ID_MAX + 1 bytes. */
_Static_assert(sizeof(((struct config_local_tag *)0)->id_tag) == CONFIG_ID_MAX + 1, "IDBUF size");

static const struct config__name config__auth_names[] = {
    { "Accepted", CONFIG_AUTH_ACCEPTED },
    { "Blocked", CONFIG_AUTH_BLOCKED },
    { "Expired", CONFIG_AUTH_EXPIRED },
    { "Invalid", CONFIG_AUTH_INVALID },
    { 0 },
};

/* An RFC 3339 time with its offset ("2027-12-31T23:59:59Z",
 * "2027-12-31T23:59:59.5+05:30"); fractions of a second are dropped. */
static int config__parse_datetime(struct config__ctx *ctx, cJSON *item, void *field)
{
    const char *s = cJSON_IsString(item) ? item->valuestring : NULL;
    struct tm tm = { 0 };
    int used = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                     &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6 || used != 19)
        goto bad;
    const char *rest = s + used;
    if (*rest == '.') {
        do
            rest++;
        while (*rest >= '0' && *rest <= '9');
    }
    long offset_s = 0;
    if (strcmp(rest, "Z") != 0) {
        int oh, om, n = 0;
        if ((rest[0] != '+' && rest[0] != '-') ||
            sscanf(rest + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5 || rest[6] || oh > 23 || om > 59)
            goto bad;
        offset_s = (rest[0] == '-' ? -1 : 1) * (oh * 3600L + om * 60L);
    }
    if (tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
        tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        goto bad;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *(int64_t *)field = (int64_t)timegm(&tm) - offset_s;
    return 0;
bad:
    return config__fail(ctx, "must be an RFC 3339 time like \"2027-12-31T23:59:59Z\"");
}

static const struct config__key config__local_tag_keys[] = {
    KEY(struct config_local_tag, "id_tag", IDBUF, id_tag, .flags = CONFIG__REQUIRED, .min = 1,
        .max = CONFIG_TAG_MAX),
    KEY(struct config_local_tag, "status", ENUM, status, .names = config__auth_names,
        .def = CONFIG_AUTH_ACCEPTED),
    KEY(struct config_local_tag, "expiry", CUSTOM, expiry, .parse = config__parse_datetime),
    { 0 },
};

static const struct config__object config__local_tag_object = { .keys = config__local_tag_keys };

static int config__cmp_tag(const void *a, const void *b)
{
    return strcmp(((const struct config_local_tag *)a)->id_tag,
                  ((const struct config_local_tag *)b)->id_tag);
}

int config__parse_local_list(struct config__ctx *ctx, cJSON *item, void *field)
{
    struct config *cfg = ctx->cfg;
    (void)field;
    if (!cJSON_IsArray(item))
        return config__fail(ctx, "must be an array");
    int n = cJSON_GetArraySize(item);
    if (n > CONFIG__LOCAL_LIST_MAX)
        return config__fail(ctx, "at most %d entries", CONFIG__LOCAL_LIST_MAX);
    if (n == 0)
        return 0;
    struct config_local_tag *list = calloc((size_t)n, sizeof(*list));
    if (!list)
        return -ENOMEM;
    cfg->offline.local_list = list;
    cfg->offline.n_local_list = (size_t)n;
    size_t i = 0;
    for (cJSON *e = item->child; e; e = e->next, i++) {
        size_t saved = config__push_index(ctx, i);
        int rc = config__defaults(&config__local_tag_object, (char *)&list[i]);
        if (!rc)
            rc = config__walk(ctx, e, &config__local_tag_object, (char *)&list[i]);
        config__pop(ctx, saved);
        if (rc)
            return rc;
    }
    qsort(list, (size_t)n, sizeof(*list), config__cmp_tag);
    for (i = 1; i < (size_t)n; i++) {
        if (strcmp(list[i - 1].id_tag, list[i].id_tag) == 0)
            return config__fail(ctx, "duplicate id_tag \"%s\"", list[i].id_tag);
    }
    return 0;
}

const struct config_local_tag *config_find_local_tag(const struct config *cfg, const char *id_tag)
{
    if (!cfg || !id_tag || cfg->offline.n_local_list == 0)
        return NULL;
    struct config_local_tag key;
    if (snprintf(key.id_tag, sizeof(key.id_tag), "%s", id_tag) > CONFIG_TAG_MAX)
        return NULL;
    return bsearch(&key, cfg->offline.local_list, cfg->offline.n_local_list,
                   sizeof(key), config__cmp_tag);
}

#include "csms_limits.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "session.h"

static struct csms_limit *csms_limits__find(const struct csms_limits *l, const char *charger)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].charger, charger) == 0)
            return &l->v[i];
    return NULL;
}

const struct csms_limit *csms_limits_get(const struct proxy *p, const char *charger)
{
    return csms_limits__find(&p->csms_limits, charger);
}

int csms_limits_set(struct proxy *p, const char *charger, int version, int profile_id,
                    const char *payload, size_t len, double limit_a)
{
    struct csms_limits *l = &p->csms_limits;
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, payload, len);
    struct csms_limit *e = csms_limits__find(l, charger);
    if (!e) {
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 4;
            struct csms_limit *grown = realloc(l->v, cap * sizeof(*grown));
            if (!grown) {
                free(copy);
                return -ENOMEM;
            }
            l->v = grown;
            l->cap = cap;
        }
        char *name = strdup(charger);
        if (!name) {
            free(copy);
            return -ENOMEM;
        }
        e = &l->v[l->n++];
        memset(e, 0, sizeof(*e));
        e->charger = name;
    }
    free(e->payload);
    e->payload = copy;
    e->len = len;
    e->profile_id = profile_id;
    e->version = (char)version;
    e->limit_a = limit_a;
    return 0;
}

bool csms_limits_clear(struct proxy *p, const char *charger)
{
    struct csms_limits *l = &p->csms_limits;
    struct csms_limit *e = csms_limits__find(l, charger);
    if (!e)
        return false;
    free(e->charger);
    free(e->payload);
    *e = l->v[--l->n];
    return true;
}

void csms_limits_tick(struct proxy *p, time_t now)
{
    struct csms_limits *l = &p->csms_limits;
    for (size_t i = 0; i < l->n; i++) {
        struct csms_limit *e = &l->v[i];
        struct ocpp_csms_profile cp;
        double amps = NAN;
        if (ocpp_parse_set_profile((enum ocpp_version)e->version, e->payload, e->len, now, &cp) == 0)
            amps = smart_to_amps(p, e->charger, cp.unit, cp.limit_now, cp.phases);
        bool same = (isnan(amps) && isnan(e->limit_a)) || amps == e->limit_a;
        if (same)
            continue;
        e->limit_a = amps;
        log_info("proxy", "CSMS charger-wide limit now charger=%s limit_a=%.1f profile_id=%d",
                 e->charger, amps, e->profile_id);
        if (p->observer.csms_limit)
            p->observer.csms_limit(p->observer.ctx, e->charger, 0, amps);
    }
}

void csms_limits_free(struct csms_limits *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].charger);
        free(l->v[i].payload);
    }
    free(l->v);
    memset(l, 0, sizeof(*l));
}

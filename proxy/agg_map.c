#include "agg_map.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "store.h"

/* One kv value holds the whole map: {"<charger>/<connector>": number, ...}. */
#define AGG_MAP__NS "aggregate"
#define AGG_MAP__KEY "site_connectors"

static int agg_map__put(struct agg_map *m, int number, const char *charger, int connector)
{
    if (number < 1 || number > CONFIG_SITE_CONNECTOR_MAX)
        return -ERANGE;
    if ((size_t)number > m->n) {
        struct agg_slot *grown = realloc(m->slots, (size_t)number * sizeof(*grown));
        if (!grown)
            return -ENOMEM;
        memset(grown + m->n, 0, ((size_t)number - m->n) * sizeof(*grown));
        m->slots = grown;
        m->n = (size_t)number;
    }
    snprintf(m->slots[number - 1].charger, sizeof(m->slots[0].charger), "%s", charger);
    m->slots[number - 1].connector = connector;
    return 0;
}

static int agg_map__find(const struct agg_map *m, const char *charger, int connector)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->slots[i].connector == connector && strcmp(m->slots[i].charger, charger) == 0)
            return (int)i + 1;
    return 0;
}

static int agg_map__save(const struct agg_map *m)
{
    if (!m->store)
        return 0;
    cJSON *o = cJSON_CreateObject();
    char key[CONFIG_ID_MAX + 16];
    for (size_t i = 0; o && i < m->n; i++) {
        if (!m->slots[i].charger[0])
            continue;
        snprintf(key, sizeof(key), "%s/%d", m->slots[i].charger, m->slots[i].connector);
        if (!cJSON_AddNumberToObject(o, key, (double)(i + 1))) {
            cJSON_Delete(o);
            o = NULL;
        }
    }
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    int rc = text ? store_kv_put(m->store, AGG_MAP__NS, AGG_MAP__KEY, text) : -ENOMEM;
    cJSON_Delete(o);
    free(text);
    return rc;
}

/* Assignments kept by an earlier run, unless the config now gives their
 * number (or their connector) to another: the config wins, with a warning. */
static int agg_map__restore(struct agg_map *m)
{
    char *text = NULL;
    int rc = store_kv_get(m->store, AGG_MAP__NS, AGG_MAP__KEY, &text);
    if (rc == -ENOENT)
        return 0;
    if (rc < 0)
        return rc;
    cJSON *o = cJSON_Parse(text);
    free(text);
    const cJSON *e;
    cJSON_ArrayForEach(e, o) {
        const char *slash = e->string ? strrchr(e->string, '/') : NULL;
        if (!slash || !cJSON_IsNumber(e) || slash - e->string > CONFIG_ID_MAX)
            continue;
        char charger[CONFIG_ID_MAX + 1];
        snprintf(charger, sizeof(charger), "%.*s", (int)(slash - e->string), e->string);
        int connector = atoi(slash + 1), number = e->valueint;
        const struct agg_slot *owner = agg_map_slot(m, number);
        int had = agg_map__find(m, charger, connector);
        if (owner || had) {
            if (had != number)
                log_warn("proxy", "site connector renumbered by the config charger=%s connector=%d was=%d",
                         charger, connector, number);
            continue;
        }
        if (agg_map__put(m, number, charger, connector) < 0)
            log_warn("proxy", "kept site connector ignored charger=%s connector=%d number=%d",
                     charger, connector, number);
    }
    cJSON_Delete(o);
    return 0;
}

int agg_map_load(struct agg_map *m, const struct config *cfg, struct store *st)
{
    memset(m, 0, sizeof(*m));
    m->store = st;
    int rc = 0;
    for (size_t i = 0; !rc && i < cfg->n_chargers; i++) {
        const struct config_charger *ch = &cfg->chargers[i];
        for (int k = 0; !rc && k < ch->connectors; k++)
            if (ch->site_connectors[k])
                rc = agg_map__put(m, ch->site_connectors[k], ch->id, k + 1);
    }
    if (!rc && st)
        rc = agg_map__restore(m);
    for (size_t i = 0; !rc && i < cfg->n_chargers; i++) {
        const struct config_charger *ch = &cfg->chargers[i];
        for (int k = 1; rc >= 0 && k <= ch->connectors; k++)
            rc = agg_map_number(m, ch->id, k);
        rc = rc < 0 ? rc : 0;
    }
    if (rc < 0)
        agg_map_free(m);
    return rc;
}

int agg_map_number(struct agg_map *m, const char *charger, int connector)
{
    int number = agg_map__find(m, charger, connector);
    if (number)
        return number;
    for (size_t i = 0; i < m->n && !number; i++)
        if (!m->slots[i].charger[0])
            number = (int)i + 1;
    if (!number)
        number = (int)m->n + 1;
    int rc = agg_map__put(m, number, charger, connector);
    if (rc == 0)
        rc = agg_map__save(m);
    if (rc < 0) {
        log_error("proxy", "cannot number a site connector charger=%s connector=%d", charger, connector);
        return rc;
    }
    log_info("proxy", "site connector assigned charger=%s connector=%d site_connector=%d", charger,
             connector, number);
    return number;
}

const struct agg_slot *agg_map_slot(const struct agg_map *m, int number)
{
    if (number < 1 || (size_t)number > m->n || !m->slots[number - 1].charger[0])
        return NULL;
    return &m->slots[number - 1];
}

void agg_map_free(struct agg_map *m)
{
    free(m->slots);
    memset(m, 0, sizeof(*m));
}

/* The check pass: rules that span keys, run once every key has parsed and every
 * default is in place. Each message names the key to change. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

#define CONFIG__DAY_MIN (24 * 60)

static int config__check_site(struct config__ctx *ctx)
{
    const struct config *cfg = ctx->cfg;
    if (cfg->site.margin_kw >= cfg->site.grid_limit_kw)
        return config__err(ctx, "site.margin_kw: must be less than site.grid_limit_kw (%.15g)",
                           cfg->site.grid_limit_kw);
    for (size_t i = 0; i < cfg->site.n_schedule; i++) {
        const struct config_schedule *s = &cfg->site.schedule[i];
        /* The schedule may only lower the cap: a window that raised it would
         * put the site above what its grid connection is rated for. */
        if (s->grid_limit_kw > cfg->site.grid_limit_kw)
            return config__err(ctx, "site.schedule[%zu].grid_limit_kw: %.15g is above "
                                    "site.grid_limit_kw (%.15g)",
                               i, s->grid_limit_kw, cfg->site.grid_limit_kw);
        if (!isnan(cfg->site.phase_limit_a) && s->phase_limit_a > cfg->site.phase_limit_a)
            return config__err(ctx, "site.schedule[%zu].phase_limit_a: %.15g is above "
                                    "site.phase_limit_a (%.15g)",
                               i, s->phase_limit_a, cfg->site.phase_limit_a);
    }
    return 0;
}

/* A window as at most two half-open minute ranges within one day. */
struct config__span {
    int lo[2], hi[2];
    int n;
};

static struct config__span config__span_of(const struct config_schedule *s)
{
    struct config__span sp = { .n = 1, .lo = { s->from_min }, .hi = { s->to_min } };
    if (s->to_min <= s->from_min) { /* wraps past midnight */
        sp.hi[0] = CONFIG__DAY_MIN;
        if (s->to_min > 0) {
            sp.lo[1] = 0;
            sp.hi[1] = s->to_min;
            sp.n = 2;
        }
    }
    return sp;
}

static bool config__spans_overlap(const struct config__span *a, const struct config__span *b)
{
    for (int i = 0; i < a->n; i++) {
        for (int j = 0; j < b->n; j++) {
            if (a->lo[i] < b->hi[j] && b->lo[j] < a->hi[i])
                return true;
        }
    }
    return false;
}

/* Two windows over the same minute would leave "which cap applies" to the
 * order of the file; make the site manager say it. */
static int config__check_schedule_overlap(struct config__ctx *ctx)
{
    const struct config *cfg = ctx->cfg;
    for (size_t j = 1; j < cfg->site.n_schedule; j++) {
        struct config__span b = config__span_of(&cfg->site.schedule[j]);
        for (size_t i = 0; i < j; i++) {
            struct config__span a = config__span_of(&cfg->site.schedule[i]);
            if (config__spans_overlap(&a, &b))
                return config__err(ctx, "site.schedule[%zu]: overlaps site.schedule[%zu]", j, i);
        }
    }
    return 0;
}

/* The fail-safe budgets must themselves keep the site under its cap. */
static int config__check_failsafe(struct config__ctx *ctx)
{
    const struct config *cfg = ctx->cfg;
    if (cfg->site.fallback_ev_kw > cfg->site.grid_limit_kw)
        return config__err(ctx, "site.fallback_ev_kw: %.15g is above site.grid_limit_kw (%.15g)",
                           cfg->site.fallback_ev_kw, cfg->site.grid_limit_kw);
    bool grid_meter = false;
    for (size_t i = 0; i < cfg->n_meters; i++)
        grid_meter = grid_meter || cfg->meters[i].role == CONFIG_METER_GRID;
    if (!grid_meter || cfg->balancer.lease_s == 0)
        return 0;
    /* Under a lease, a gateway that dies leaves every charger on its safe
     * default at once, whatever the other loads do. */
    double w = 0;
    for (size_t i = 0; i < cfg->n_chargers; i++)
        w += cfg->balancer.safe_limit_a * cfg->chargers[i].phases * cfg->site.voltage_v;
    if (w > cfg->site.grid_limit_kw * 1000)
        return config__err(ctx, "balancer.safe_limit_a: the safe default of every charger "
                                "together (%.15g kW) exceeds site.grid_limit_kw (%.15g)",
                           w / 1000, cfg->site.grid_limit_kw);
    return 0;
}

static int config__check_upstream(struct config__ctx *ctx)
{
    const struct config *cfg = ctx->cfg;
    if (cfg->upstream.reconnect_max_s < cfg->upstream.reconnect_min_s)
        return config__err(ctx, "upstream.reconnect_max_s: must be at least "
                                "upstream.reconnect_min_s (%.15g)",
                           cfg->upstream.reconnect_min_s);
    /* In passthrough each upstream socket speaks its charger's version. */
    if (cfg->upstream.ocpp_version != CONFIG_OCPP_16 && cfg->upstream.mode != CONFIG_MODE_AGGREGATE)
        return config__err(ctx, "upstream.ocpp_version: only with upstream.mode \"aggregate\" "
                                "(in passthrough each charger's own version goes upstream)");
    return 0;
}

static int config__check_currents(struct config__ctx *ctx, const struct config_charger *ch,
                                  const char *where, size_t index)
{
    if (ch->max_current_a >= ch->min_current_a)
        return 0;
    if (where)
        return config__err(ctx, "%s.max_current_a: must be at least min_current_a (%.15g)",
                           where, ch->min_current_a);
    return config__err(ctx, "chargers[%zu].max_current_a: must be at least min_current_a (%.15g)",
                       index, ch->min_current_a);
}

/* By id, then by place in the file, so that equal ids sit together in file order. */
static int config__cmp_charger(const void *a, const void *b)
{
    const struct config_charger *x = *(const struct config_charger *const *)a;
    const struct config_charger *y = *(const struct config_charger *const *)b;
    int c = strcmp(x->id, y->id);
    if (c)
        return c;
    return x < y ? -1 : x > y;
}

/* Sorting finds duplicates in n log n (a site may list 10,000 chargers) and
 * leaves the index that config_find_charger searches on every connection. */
static int config__check_chargers(struct config__ctx *ctx)
{
    struct config *cfg = ctx->cfg;
    int rc = config__check_currents(ctx, &cfg->charger_defaults, "charger_defaults", 0);
    for (size_t i = 0; !rc && i < cfg->n_chargers; i++)
        rc = config__check_currents(ctx, &cfg->chargers[i], NULL, i);
    if (rc || cfg->n_chargers == 0)
        return rc;

    const struct config_charger **index = calloc(cfg->n_chargers, sizeof(*index));
    if (!index)
        return -ENOMEM;
    for (size_t i = 0; i < cfg->n_chargers; i++)
        index[i] = &cfg->chargers[i];
    qsort(index, cfg->n_chargers, sizeof(*index), config__cmp_charger);

    /* Report the first repeat in file order, whatever the sort order. */
    size_t dup = SIZE_MAX;
    for (size_t i = 1; i < cfg->n_chargers; i++) {
        if (strcmp(index[i - 1]->id, index[i]->id) == 0) {
            size_t at = (size_t)(index[i] - cfg->chargers);
            if (at < dup)
                dup = at;
        }
    }
    if (dup != SIZE_MAX) {
        free(index);
        return config__err(ctx, "chargers[%zu].id: duplicate \"%s\"", dup, cfg->chargers[dup].id);
    }
    cfg->charger_index = index;
    return 0;
}

/* Aggregate mode: a charger's site_connectors names one number per
 * connector, each number once on the site; the site's own identity is not
 * a charger's. */
static int config__check_site_connectors(struct config__ctx *ctx)
{
    const struct config *cfg = ctx->cfg;
    static const int none[CONFIG_CONNECTORS_MAX];
    bool aggregate = cfg->upstream.mode == CONFIG_MODE_AGGREGATE;
    unsigned char *owner = calloc(CONFIG_SITE_CONNECTOR_MAX + 1, 1);
    if (!owner)
        return -ENOMEM;
    int rc = 0;
    for (size_t i = 0; !rc && i < cfg->n_chargers; i++) {
        const struct config_charger *ch = &cfg->chargers[i];
        if (aggregate && strcmp(ch->id, cfg->site.id) == 0) {
            rc = config__err(ctx, "chargers[%zu].id: \"%s\" is the site's own id (aggregate mode)",
                             i, ch->id);
            break;
        }
        if (memcmp(ch->site_connectors, none, sizeof(none)) == 0)
            continue;
        if (!aggregate) {
            rc = config__err(ctx, "chargers[%zu].site_connectors: only with upstream.mode \"aggregate\"", i);
            break;
        }
        for (int k = 0; !rc && k < CONFIG_CONNECTORS_MAX; k++) {
            int n = ch->site_connectors[k];
            if (n && k >= ch->connectors)
                rc = config__err(ctx, "chargers[%zu].site_connectors: more entries than connectors (%d)",
                                 i, ch->connectors);
            else if (n && owner[n])
                rc = config__err(ctx, "chargers[%zu].site_connectors[%d]: site connector %d is taken",
                                 i, k, n);
            else if (n)
                owner[n] = 1;
        }
    }
    free(owner);
    return rc;
}

int config__check(struct config__ctx *ctx)
{
    int rc = config__check_site(ctx);
    if (!rc)
        rc = config__check_schedule_overlap(ctx);
    if (!rc)
        rc = config__check_upstream(ctx);
    if (!rc)
        rc = config__check_chargers(ctx);
    if (!rc)
        rc = config__check_site_connectors(ctx);
    if (!rc)
        rc = config__check_meters(ctx);
    if (!rc)
        rc = config__check_failsafe(ctx);
    if (!rc)
        rc = config__check_tls(ctx);
    return rc;
}

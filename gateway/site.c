#include "site.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static void site__connector_init(struct site_connector *c)
{
    c->state = BALANCER_AVAILABLE;
    c->arrival_s = NAN;
    for (int p = 0; p < BALANCER_PHASES; p++)
        c->measured_a[p] = NAN;
    c->csms_limit_a = c->ev_min_a = c->ev_max_a = NAN;
    c->sent_a = NAN;
}

static struct site_charger *site__add(struct site *site, const char *id,
                                      const struct config_charger *cfg)
{
    if (site->n_chargers == site->cap_chargers) {
        size_t cap = site->cap_chargers ? site->cap_chargers * 2 : 16;
        struct site_charger *grown = realloc(site->chargers, cap * sizeof(*grown));
        if (!grown)
            return NULL;
        site->chargers = grown;
        site->cap_chargers = cap;
    }
    struct site_connector *conn = calloc((size_t)cfg->connectors, sizeof(*conn));
    if (!conn)
        return NULL;
    struct site_charger *ch = &site->chargers[site->n_chargers++];
    memset(ch, 0, sizeof(*ch));
    snprintf(ch->id, sizeof(ch->id), "%s", id);
    ch->cfg = cfg;
    ch->following = -1;
    ch->csms_max_a = ch->csms_all_a = ch->sent_a = NAN;
    ch->conn = conn;
    ch->n_conn = cfg->connectors;
    site->n_connectors += (size_t)cfg->connectors;
    for (int i = 0; i < cfg->connectors; i++)
        site__connector_init(&ch->conn[i]);
    return ch;
}

int site_init(struct site *site, uv_loop_t *loop, const struct config *cfg)
{
    memset(site, 0, sizeof(*site));
    site->cfg = cfg;
    site->loop = loop;
    site->meters.grid_energy_wh = NAN;
    site->csms_site_a = site->csms_site_kw = NAN;
    site->cap_kw = cfg->site.grid_limit_kw;
    for (size_t i = 0; i < cfg->n_meters; i++) {
        const struct config_meter *m = &cfg->meters[i];
        site->meters.has_grid |= m->role == CONFIG_METER_GRID;
        site->meters.has_ev |= m->role == CONFIG_METER_EV_SUBMETER;
        if (m->role == CONFIG_METER_TRANSFORMER) {
            site->meters.has_transformer = true;
            site->meters.transformer = m;
        }
    }
    for (size_t i = 0; i < cfg->n_chargers; i++)
        if (!site__add(site, cfg->chargers[i].id, &cfg->chargers[i]))
            return -ENOMEM;
    return 0;
}

void site_free(struct site *site)
{
    for (size_t i = 0; i < site->n_chargers; i++)
        free(site->chargers[i].conn);
    free(site->chargers);
    memset(site, 0, sizeof(*site));
}

struct site_charger *site_find(struct site *site, const char *id)
{
    /* Looked up for every observed frame: configured chargers sit at their
     * config index, which the config's sorted index finds in O(log n). */
    const struct config_charger *cc = config_find_charger(site->cfg, id);
    if (cc)
        return &site->chargers[cc - site->cfg->chargers];
    /* Chargers let in by allow_unknown_chargers follow, in arrival order. */
    for (size_t i = site->cfg->n_chargers; i < site->n_chargers; i++)
        if (strcmp(site->chargers[i].id, id) == 0)
            return &site->chargers[i];
    return NULL;
}

void site_changed(struct site *site)
{
    if (site->changed)
        site->changed(site->changed_ctx, true);
}

void site_changed_soon(struct site *site)
{
    if (site->changed)
        site->changed(site->changed_ctx, false);
}

static bool site__active(enum balancer_state s)
{
    return s == BALANCER_PREPARING || s == BALANCER_CHARGING || s == BALANCER_SUSPENDED_EV ||
           s == BALANCER_SUSPENDED_EVSE;
}

static enum balancer_state site__state(enum ocpp_status st)
{
    switch (st) {
    case OCPP_ST_PREPARING:      return BALANCER_PREPARING;
    case OCPP_ST_OCCUPIED:       return BALANCER_PREPARING; /* 2.0.1: a car, charging or not */
    case OCPP_ST_CHARGING:       return BALANCER_CHARGING;
    case OCPP_ST_SUSPENDED_EV:   return BALANCER_SUSPENDED_EV;
    case OCPP_ST_SUSPENDED_EVSE: return BALANCER_SUSPENDED_EVSE;
    case OCPP_ST_FINISHING:      return BALANCER_FINISHING;
    case OCPP_ST_UNAVAILABLE:    return BALANCER_UNAVAILABLE;
    case OCPP_ST_FAULTED:        return BALANCER_FAULTED;
    default:                     return BALANCER_AVAILABLE;
    }
}

static void site__set_state(struct site *site, struct site_charger *ch, struct site_connector *c,
                            enum balancer_state st)
{
    if (!site__active(c->state) && site__active(st))
        c->arrival_s = (double)uv_now(site->loop) / 1000.0;
    if (!site__active(st)) {
        c->arrival_s = NAN;
        for (int p = 0; p < BALANCER_PHASES; p++)
            c->measured_a[p] = NAN;
        c->ev_min_a = c->ev_max_a = NAN;
    }
    if (c->state != st)
        log_debug("site", "connector state charger=%s connector=%td state=%d", ch->id,
                  c - ch->conn + 1, (int)st);
    c->state = st;
}

/* Updates the connector's draw; whether it rose on some phase by more than
 * meters and chargers round (which the control loop must see at once). */
static bool site__meter(const struct site *site, const struct site_charger *ch,
                        struct site_connector *c, const struct ocpp_observation *o)
{
    const double rise_a = 1.0;
    double before[BALANCER_PHASES];
    memcpy(before, c->measured_a, sizeof(before));
    bool any = false;
    for (int p = 0; p < BALANCER_PHASES; p++)
        any |= !isnan(o->current_a[p]);
    if (any) {
        for (int p = 0; p < BALANCER_PHASES; p++)
            c->measured_a[p] = o->current_a[p];
    } else if (!isnan(o->power_w)) {
        /* Power only: spread it over the phases the charger uses. */
        double a = o->power_w / (site->cfg->site.voltage_v * ch->cfg->phases);
        for (int p = 0; p < BALANCER_PHASES; p++)
            c->measured_a[p] = p < ch->cfg->phases ? a : NAN;
    }
    bool rose = false;
    for (int p = 0; p < BALANCER_PHASES; p++)
        rose |= c->measured_a[p] > (isnan(before[p]) ? 0 : before[p]) + rise_a;
    return rose;
}

static bool site__same(double a, double b)
{
    return isnan(a) ? isnan(b) : a == b;
}

static void site__observed(void *ctx, const char *id, const struct ocpp_observation *o)
{
    struct site *site = ctx;
    struct site_charger *ch = site_find(site, id);
    if (!ch)
        return;
    int n = ch->n_conn;
    if (o->connector == 0 && o->kind == OCPP_OBS_STATUS) {
        /* The charger as a whole: only a fault or unavailability says anything
         * about its connectors. */
        if (o->status == OCPP_ST_FAULTED || o->status == OCPP_ST_UNAVAILABLE) {
            for (int i = 0; i < n; i++)
                site__set_state(site, ch, &ch->conn[i], site__state(o->status));
            site_changed_soon(site); /* it draws nothing now */
        }
        return;
    }
    int k = o->connector;
    /* 2.0.1 names the EVSE only in a transaction's first event, and a 1.6
     * StopTransaction never: find the connector by its transaction. */
    for (int i = 0; k < 1 && o->transaction_id[0] && i < n; i++)
        if (strcmp(ch->conn[i].tx_id, o->transaction_id) == 0)
            k = i + 1;
    if (k < 1 || k > n)
        return;
    struct site_connector *c = &ch->conn[k - 1];
    if (o->kind == OCPP_OBS_TX_START && o->transaction_id[0])
        snprintf(c->tx_id, sizeof(c->tx_id), "%s", o->transaction_id);
    /* What may make the site draw more is acted on at once: a car arriving,
     * a rising draw, the EV's needs. The rest (MeterValues that move nothing
     * much, a car leaving or pausing, which only frees current) waits for
     * the next coalesced run. */
    enum balancer_state was = c->state;
    bool urgent = false;
    switch (o->kind) {
    case OCPP_OBS_STATUS:
    case OCPP_OBS_TX_UPDATE:
        if (o->status != OCPP_ST_UNKNOWN)
            site__set_state(site, ch, c, site__state(o->status));
        urgent = site__meter(site, ch, c, o);
        break;
    case OCPP_OBS_TX_START:
        if (!site__active(c->state))
            site__set_state(site, ch, c, BALANCER_CHARGING);
        urgent = site__meter(site, ch, c, o);
        break;
    case OCPP_OBS_TX_STOP:
        site__set_state(site, ch, c, o->status != OCPP_ST_UNKNOWN ? site__state(o->status)
                                                                  : BALANCER_FINISHING);
        c->tx_id[0] = '\0';
        break;
    case OCPP_OBS_METER:
        urgent = site__meter(site, ch, c, o);
        break;
    case OCPP_OBS_EV_NEEDS:
        urgent = !site__same(c->ev_min_a, o->ev_min_a) || !site__same(c->ev_max_a, o->ev_max_a);
        c->ev_min_a = o->ev_min_a;
        c->ev_max_a = o->ev_max_a;
        break;
    default:
        return;
    }
    if (urgent || (!site__active(was) && site__active(c->state)))
        site_changed(site);
    else
        site_changed_soon(site);
}

static void site__charger_link(void *ctx, const char *id, bool up)
{
    struct site *site = ctx;
    struct site_charger *ch = site_find(site, id);
    if (!ch && up) {
        if (!site->cfg->listen.allow_unknown_chargers)
            return;
        ch = site__add(site, id, &site->cfg->charger_defaults);
        if (!ch) {
            log_error("site", "out of memory charger=%s", id);
            return;
        }
    }
    if (!ch)
        return;
    ch->online = up;
    ch->ready = false;
    ch->following = -1;
    ch->unsettled = false;
    if (up) {
        /* A new socket: whatever the gateway sent before is sent again. */
        ch->sent_a = NAN;
        for (int i = 0; i < ch->n_conn; i++)
            ch->conn[i].sent_a = NAN;
    }
    site_changed(site);
}

static void site__ready(void *ctx, const char *id, const struct proxy_charging *how)
{
    struct site *site = ctx;
    struct site_charger *ch = site_find(site, id);
    if (!ch)
        return;
    ch->ready = true;
    ch->smart = how->smart;
    site_changed(site);
}

static void site__csms_limit(void *ctx, const char *id, int connector, double limit_a)
{
    struct site *site = ctx;
    if (site->cfg->upstream.mode == CONFIG_MODE_AGGREGATE && strcmp(id, site->cfg->site.id) == 0) {
        if (connector == 0) {
            site->csms_site_a = limit_a;
            log_info("site", "CSMS site limit limit_a=%.1f", limit_a);
            site_changed(site);
        }
        return;
    }
    struct site_charger *ch = site_find(site, id);
    if (!ch)
        return;
    if (connector == 0)
        ch->csms_max_a = limit_a;
    else if (connector < 0)
        ch->csms_all_a = limit_a;
    else if (connector <= ch->n_conn)
        ch->conn[connector - 1].csms_limit_a = limit_a;
    log_info("site", "CSMS limit charger=%s connector=%d limit_a=%.1f", id, connector, limit_a);
    site_changed(site);
}

static void site__following(void *ctx, const char *id, bool following, const char *why)
{
    struct site *site = ctx;
    struct site_charger *ch = site_find(site, id);
    if (!ch)
        return;
    ch->following = following;
    site_changed(site);
}

static void site__settled(void *ctx, const char *id)
{
    struct site *site = ctx;
    struct site_charger *ch = site_find(site, id);
    if (!ch || !ch->unsettled)
        return;
    ch->unsettled = false;
    /* Increases wait for every decrease to be confirmed, and for their
     * interval: nothing is urgent here. */
    site_changed_soon(site);
}

static bool site__reading(void *ctx, struct proxy_site_reading *out)
{
    const struct site *site = ctx;
    const struct site_meters *m = &site->meters;
    uint64_t now = uv_now(site->loop);
    if (!m->has_grid || !m->grid_ms || now - m->grid_ms > (uint64_t)site->cfg->site.meter_stale_s * 1000)
        return false;
    out->power_w = m->grid_kw * 1000;
    memcpy(out->current_a, m->grid_a, sizeof(out->current_a));
    out->energy_wh = m->grid_energy_wh;
    return true;
}

static double site__cap_kw(void *ctx)
{
    return ((const struct site *)ctx)->cap_kw;
}

static void site__limit_kw(void *ctx, double kw)
{
    struct site *site = ctx;
    site->csms_site_kw = kw;
    log_info("site", "CSMS site cap grid_limit_kw=%.1f", kw);
    site_changed(site);
}

void site_observer(struct site *site, struct proxy_observer *out)
{
    memset(out, 0, sizeof(*out));
    out->ctx = site;
    out->charger_link = site__charger_link;
    out->observed = site__observed;
    out->ready = site__ready;
    out->csms_limit = site__csms_limit;
    out->following = site__following;
    out->settled = site__settled;
    out->site_reading = site__reading;
    out->site_cap_kw = site__cap_kw;
    out->site_limit_kw = site__limit_kw;
}

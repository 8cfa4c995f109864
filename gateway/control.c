#include "control.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "proxy.h"

/* A limit "changes" when it moves by at least this much (the 0.1 A grid). */
#define CONTROL__EPS_A 0.05
/* Changes that can wait are acted on together, at most this much later. */
#define CONTROL__COALESCE_MS 100
/* The schedule timer is re-armed at least this often, so that a clock or
 * daylight-saving change is caught up with. */
#define CONTROL__SCHEDULE_MAX_MS (3600 * 1000)

static int control__grow(struct control *c, size_t n_conn, size_t n_chargers)
{
    if (n_conn <= c->cap && n_chargers <= c->cap_chargers)
        return 0;
    size_t cap = n_conn > c->cap ? n_conn * 2 : c->cap;
    size_t capc = n_chargers > c->cap_chargers ? n_chargers * 2 : c->cap_chargers;
    size_t scratch = balancer_scratch_size(cap, capc);
    if (scratch == SIZE_MAX)
        return -ENOMEM;
    struct balancer_connector *in = realloc(c->in, cap * sizeof(*in));
    if (in)
        c->in = in;
    struct balancer_allocation *out = realloc(c->out, cap * sizeof(*out));
    if (out)
        c->out = out;
    uint32_t *owner = realloc(c->conn_charger, cap * sizeof(*owner));
    if (owner)
        c->conn_charger = owner;
    struct balancer_charger *ch = realloc(c->chargers, capc * sizeof(*ch));
    if (ch)
        c->chargers = ch;
    struct balancer_charger_sum *sums = realloc(c->sums, capc * sizeof(*sums));
    if (sums)
        c->sums = sums;
    void *mem = realloc(c->scratch, scratch ? scratch : 1);
    if (mem)
        c->scratch = mem;
    if (!in || !out || !owner || !ch || !sums || !mem)
        return -ENOMEM;
    c->cap = cap;
    c->cap_chargers = capc;
    return 0;
}

static int control__minute_of_day(int *second)
{
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm); /* TZ is the site's time zone (gateway.c) */
    *second = tm.tm_sec;
    return tm.tm_hour * 60 + tm.tm_min;
}

static bool control__fresh(const struct control *c, uint64_t at_ms, uint64_t now)
{
    return at_ms && now - at_ms <= (uint64_t)c->cfg->site.meter_stale_s * 1000;
}

/* A connector's measured draw per site phase (A), a phase not reported as 0:
 * a single-phase one draws its busiest reading on the site phase it is wired
 * to, a three-phase one each phase's. */
static void control__conn_draw(const struct site_charger *ch, int k, double a[BALANCER_PHASES])
{
    const double *m = ch->conn[k].measured_a;
    if (ch->cfg->phases == 1) {
        double most = 0;
        for (int p = 0; p < BALANCER_PHASES; p++) {
            most = isnan(m[p]) ? most : fmax(most, m[p]);
            a[p] = 0;
        }
        a[ch->cfg->phase >= CONFIG_PHASE_L1 ? ch->cfg->phase - CONFIG_PHASE_L1 : 0] = most;
    } else {
        for (int p = 0; p < BALANCER_PHASES; p++)
            a[p] = isnan(m[p]) ? 0 : m[p];
    }
}

/* The EV draw as the chargers report it (MeterValues), per site phase. */
static void control__ev_draw(const struct control *c, struct balancer_site *bs)
{
    const struct site *site = c->site;
    double a[BALANCER_PHASES] = { 0, 0, 0 };
    for (size_t i = 0; i < site->n_chargers; i++) {
        const struct site_charger *ch = &site->chargers[i];
        for (int k = 0; k < ch->n_conn; k++) {
            double conn[BALANCER_PHASES];
            control__conn_draw(ch, k, conn);
            for (int p = 0; p < BALANCER_PHASES; p++)
                a[p] += conn[p];
        }
    }
    double total = 0;
    for (int p = 0; p < BALANCER_PHASES; p++) {
        bs->ev_draw_a[p] = a[p];
        total += a[p];
    }
    bs->ev_draw_kw = total * bs->voltage_v / 1000;
}

/* The grid meter went quiet: assume the worst case of the other loads, never
 * the last good reading. Returns the fallback EV budget in kW when the site
 * manager configured one (the budget is then the smaller of the two), else NAN. */
static double control__fail_safe(const struct control *c, struct balancer_site *bs)
{
    const struct config *cfg = c->cfg;
    double other_kw = cfg->site.other_load_max_kw;
    if (isnan(other_kw) && isnan(cfg->site.fallback_ev_kw))
        other_kw = cfg->site.grid_limit_kw; /* nothing known: they may take the whole cap */
    if (!isnan(other_kw)) {
        bs->worst_other_kw = other_kw;
        /* Unbalanced at worst: all of it on any one phase. */
        for (int p = 0; p < BALANCER_PHASES; p++)
            bs->worst_other_a[p] = other_kw * 1000 / bs->voltage_v;
    }
    return cfg->site.fallback_ev_kw;
}

static void control__log_meter_state(struct control *c, bool stale)
{
    if (stale == c->grid_stale)
        return;
    c->grid_stale = stale;
    if (stale)
        log_warn("control", "grid meter stale, fail-safe budget after_s=%d other_load_max_kw=%.1f fallback_ev_kw=%.1f",
                 c->cfg->site.meter_stale_s, c->cfg->site.other_load_max_kw, c->cfg->site.fallback_ev_kw);
    else
        log_info("control", "grid meter readings back, live budget");
}

static void control__budget(struct control *c, struct balancer_budget *budget)
{
    const struct config *cfg = c->cfg;
    const struct site_meters *m = &c->site->meters;
    uint64_t now = uv_now(c->loop);
    struct balancer_site bs;
    balancer_site_init(&bs);
    bs.voltage_v = cfg->site.voltage_v;
    bs.cap_kw[BALANCER_SRC_CONFIG] = cfg->site.grid_limit_kw;
    bs.phase_cap_a[BALANCER_SRC_CONFIG] = cfg->site.phase_limit_a;
    bs.margin_kw = cfg->site.margin_kw;
    int second;
    int entry = balancer_tod_pick(c->tod, c->n_tod, control__minute_of_day(&second));
    if (entry >= 0) {
        bs.cap_kw[BALANCER_SRC_SCHEDULE] = c->tod[entry].cap_kw;
        bs.phase_cap_a[BALANCER_SRC_SCHEDULE] = c->tod[entry].phase_a;
    }
    bs.cap_kw[BALANCER_SRC_DR] = c->dr_kw;
    if (m->has_transformer) {
        /* A transformer monitor gone quiet is taken as hot as its curve goes. */
        double temp = control__fresh(c, m->transformer_ms, now) ? m->transformer_temp_c : INFINITY;
        bs.cap_kw[BALANCER_SRC_TRANSFORMER] =
            m->transformer->rating_kva * config_derating_percent(m->transformer, temp) / 100;
    }

    /* Aggregate mode: what the CSMS set for the site as a whole. */
    double csms_kw = c->site->csms_site_kw, csms_a = c->site->csms_site_a;
    if (!isnan(csms_a))
        csms_kw = fmin(isnan(csms_kw) ? INFINITY : csms_kw, balancer_phase_a_to_kw(csms_a, bs.voltage_v));
    bs.cap_kw[BALANCER_SRC_CSMS] = csms_kw;
    bs.phase_cap_a[BALANCER_SRC_CSMS] = csms_a;

    double fallback_kw = NAN;
    if (m->has_grid) {
        bool fresh = control__fresh(c, m->grid_ms, now);
        control__log_meter_state(c, !fresh);
        if (fresh) {
            memcpy(bs.import_a, m->grid_a, sizeof(bs.import_a));
            bs.import_kw = m->grid_kw;
            if (m->has_ev && control__fresh(c, m->ev_ms, now)) {
                memcpy(bs.ev_draw_a, m->ev_a, sizeof(bs.ev_draw_a));
                bs.ev_draw_kw = m->ev_kw;
            } else {
                control__ev_draw(c, &bs);
            }
        } else {
            fallback_kw = control__fail_safe(c, &bs);
        }
    }
    memcpy(c->caps_kw, bs.cap_kw, sizeof(c->caps_kw));
    memcpy(c->phase_caps_a, bs.phase_cap_a, sizeof(c->phase_caps_a));
    /* fmin ignores a NAN: a source without a cap, or cap_other_kw before the first. */
    c->cap_other_kw = NAN;
    c->site->cap_kw = INFINITY;
    for (int src = 0; src < BALANCER_SRC_COUNT; src++) {
        c->site->cap_kw = fmin(c->site->cap_kw, bs.cap_kw[src]);
        if (src != BALANCER_SRC_DR)
            c->cap_other_kw = fmin(c->cap_other_kw, bs.cap_kw[src]);
    }
    /* On an invalid input the budget is zero: nobody charges rather than too much. */
    if (balancer_budget(&bs, budget) < 0)
        log_error("control", "invalid site limits, pausing every charger");
    if (!isnan(fallback_kw)) {
        budget->total_w = fmin(budget->total_w, fallback_kw * 1000);
        for (int p = 0; p < BALANCER_PHASES; p++)
            budget->phase_a[p] = fmin(budget->phase_a[p], fallback_kw * 1000 / (3 * bs.voltage_v));
    }
    c->budget = *budget;
}

/* A charger drawing clearly above the limit it was given, for longer than
 * chargers take to obey, is not following: counted at its draw from then on. */
static void control__compliance(struct control *c, struct site_charger *ch, uint64_t now)
{
    const double tolerance_a = 1.0; /* meters and chargers round */
    uint64_t window = (uint64_t)c->cfg->balancer.apply_window_s * 1000;
    bool over = false;
    for (int k = 0; k < ch->n_conn; k++) {
        struct site_connector *sc = &ch->conn[k];
        double draw = 0;
        for (int p = 0; p < BALANCER_PHASES; p++)
            draw = isnan(sc->measured_a[p]) ? draw : fmax(draw, sc->measured_a[p]);
        if (isnan(sc->sent_a) || draw <= sc->sent_a + tolerance_a) {
            sc->over_since_ms = 0;
            continue;
        }
        if (!sc->over_since_ms)
            sc->over_since_ms = now;
        uint64_t since = sc->over_since_ms > sc->sent_at_ms ? sc->over_since_ms : sc->sent_at_ms;
        if (now - since >= window)
            over = true;
    }
    if (over != ch->over_limit)
        log_msg(over ? LOG_LVL_WARN : LOG_LVL_INFO, "control", over
                ? "charger draws above its limit, counted at its draw charger=%s limit_a=%.1f"
                : "charger within its limit again charger=%s limit_a=%.1f", ch->id, ch->sent_a);
    ch->over_limit = over;
}

static double control__min(double a, double b)
{
    return isnan(a) ? b : isnan(b) ? a : fmin(a, b);
}

/* Fills the balancer's input from the site; returns the connector count. */
static size_t control__input(struct control *c)
{
    struct site *site = c->site;
    size_t n = 0;
    for (size_t i = 0; i < site->n_chargers; i++) {
        struct site_charger *ch = &site->chargers[i];
        const struct config_charger *cc = ch->cfg;
        c->chargers[i].max_a = ch->csms_max_a;
        /* A charger the gateway cannot steer right now draws what it likes:
         * count it at its maximum, never at the best case. */
        control__compliance(c, ch, uv_now(c->loop));
        bool steered = ch->online && ch->ready && ch->smart && ch->following != 0 && !ch->over_limit;
        for (int k = 0; k < ch->n_conn; k++, n++) {
            const struct site_connector *sc = &ch->conn[k];
            struct balancer_connector *b = &c->in[n];
            balancer_connector_init(b);
            b->key = (uint32_t)n;
            b->charger = (uint32_t)i;
            b->state = sc->state;
            b->phases = cc->phases;
            b->phase = cc->phases == 1 && cc->phase >= CONFIG_PHASE_L1
                           ? (enum balancer_phase)(cc->phase - CONFIG_PHASE_L1) : BALANCER_L1;
            b->priority = cc->priority;
            b->arrival = sc->arrival_s;
            b->min_a = cc->min_current_a;
            b->max_a = cc->max_current_a;
            memcpy(b->measured_a, sc->measured_a, sizeof(b->measured_a));
            b->csms_limit_a = control__min(sc->csms_limit_a, ch->csms_all_a);
            b->ev_min_a = sc->ev_min_a;
            b->ev_max_a = sc->ev_max_a;
            if (!steered) {
                if (ch->ready && !ch->smart)
                    b->no_smart_charging = true;
                else
                    b->not_following = true;
            }
            c->conn_charger[n] = (uint32_t)i;
        }
    }
    return n;
}

/* What to tell a charger now for one of its limits: decreases (and first
 * limits) at once; increases above the deadband only when allowed, else what
 * it has (*deferred when the interval alone held it back). */
static double control__next(double want, double sent, bool allowed, bool interval_due,
                            double deadband, bool *deferred, bool *increased)
{
    if (isnan(sent) || want < sent - CONTROL__EPS_A)
        return want;
    if (want - sent <= deadband + CONTROL__EPS_A / 2)
        return sent;
    if (allowed && interval_due) {
        *increased = true;
        return want;
    }
    *deferred |= allowed && !interval_due;
    return sent;
}

static void control__increase_due(uv_timer_t *t)
{
    control_request(t->data);
}

static bool control__steerable(const struct site_charger *ch)
{
    return ch->online && ch->ready && ch->smart;
}

static double control__charger_total(const struct control *c, size_t i)
{
    double total = 0;
    for (int p = 0; p < BALANCER_PHASES; p++)
        total = fmax(total, c->sums[i].limit_a[p]);
    return total;
}

/* Whether some charger must go down now, or has not yet confirmed that it
 * did: then no charger goes up in this run, so that the site never passes
 * its cap because one charger rose before another fell. */
static bool control__decreasing(const struct control *c)
{
    const struct site *site = c->site;
    size_t base = 0;
    for (size_t i = 0; i < site->n_chargers; base += (size_t)site->chargers[i].n_conn, i++) {
        const struct site_charger *ch = &site->chargers[i];
        if (!control__steerable(ch))
            continue;
        if (ch->unsettled || control__charger_total(c, i) < ch->sent_a - CONTROL__EPS_A)
            return true;
        for (int k = 0; k < ch->n_conn; k++)
            if (c->out[base + (size_t)k].limit_a < ch->conn[k].sent_a - CONTROL__EPS_A)
                return true;
    }
    return false;
}

/* Sends each steerable charger what the allocation gives it, with hysteresis. */
/* Returns how many profiles went to the chargers. */
static int control__apply(struct control *c)
{
    const struct config *cfg = c->cfg;
    struct site *site = c->site;
    uint64_t now = uv_now(c->loop);
    uint64_t interval = (uint64_t)cfg->balancer.increase_interval_s * 1000;
    double deadband = cfg->balancer.deadband_a;
    bool allowed = !control__decreasing(c);
    uint64_t next_due = UINT64_MAX;
    size_t base = 0;
    int written = 0;

    for (size_t i = 0; i < site->n_chargers; base += (size_t)site->chargers[i].n_conn, i++) {
        struct site_charger *ch = &site->chargers[i];
        int nc = ch->n_conn;
        if (!control__steerable(ch))
            continue;
        bool due = ch->last_increase_ms == 0 || now - ch->last_increase_ms >= interval;
        bool deferred = false, increased = false, decreased = false;
        double total = control__next(control__charger_total(c, i), ch->sent_a, allowed, due,
                                     deadband, &deferred, &increased);
        double conn[SITE_MAX_CONNECTORS];
        bool changed = isnan(ch->sent_a) || fabs(total - ch->sent_a) >= CONTROL__EPS_A;
        decreased |= total < ch->sent_a - CONTROL__EPS_A;
        for (int k = 0; k < nc; k++) {
            double sent = ch->conn[k].sent_a;
            conn[k] = control__next(c->out[base + (size_t)k].limit_a, sent, allowed, due, deadband,
                                    &deferred, &increased);
            changed |= isnan(sent) || fabs(conn[k] - sent) >= CONTROL__EPS_A;
            decreased |= conn[k] < sent - CONTROL__EPS_A;
        }
        if (deferred && ch->last_increase_ms + interval < next_due)
            next_due = ch->last_increase_ms + interval;
        if (!changed)
            continue;
        int profiles = proxy_set_limits(c->proxy, ch->id, total, conn, (size_t)nc);
        if (profiles < 0)
            continue;
        ch->profile_writes += (uint64_t)profiles;
        written += profiles;
        ch->unsettled |= decreased && profiles > 0;
        ch->sent_a = total;
        for (int k = 0; k < nc; k++) {
            if (isnan(ch->conn[k].sent_a) || fabs(conn[k] - ch->conn[k].sent_a) >= CONTROL__EPS_A)
                ch->conn[k].sent_at_ms = now;
            ch->conn[k].sent_a = conn[k];
        }
        if (increased)
            ch->last_increase_ms = now;
    }
    if (next_due != UINT64_MAX)
        uv_timer_start(&c->increase, control__increase_due, next_due > now ? next_due - now : 0, 0);
    return written;
}

static void control__run(uv_timer_t *t)
{
    struct control *c = t->data;
    struct site *site = c->site;
    size_t n_conn = site->n_connectors;
    if (control__grow(c, n_conn, site->n_chargers) < 0) {
        log_error("control", "out of memory connectors=%zu", n_conn);
        return;
    }
    struct balancer_input in = {
        .connectors = c->in,
        .n_connectors = control__input(c),
        .chargers = c->chargers,
        .n_chargers = site->n_chargers,
        .voltage_v = c->cfg->site.voltage_v,
        .headroom_a = c->cfg->balancer.headroom_a,
    };
    control__budget(c, &in.budget);
    struct balancer_output out = { .connectors = c->out, .chargers = c->sums };
    int rc = balancer_allocate(&in, &out, c->scratch, balancer_scratch_size(c->cap, c->cap_chargers));
    if (rc < 0) {
        log_error("control", "allocation failed: %s connector=%zu", balancer_strerror(rc),
                  out.summary.invalid_index);
        return;
    }
    const struct balancer_summary *sum = &out.summary;
    c->summary = out.summary;
    c->n_out = n_conn;
    log_debug("control", "allocation budget_w=%.0f used_w=%.0f binding=%s active=%zu paused=%zu",
              in.budget.total_w, sum->used_w, balancer_binding_name(sum->binding), sum->n_active,
              sum->n_paused);
    if (sum->overcommitted != c->overcommitted)
        log_msg(sum->overcommitted ? LOG_LVL_WARN : LOG_LVL_INFO, "control", sum->overcommitted
                ? "chargers the gateway cannot steer alone exceed the budget used_w=%.0f budget_w=%.0f"
                : "the budget covers the chargers the gateway cannot steer again used_w=%.0f budget_w=%.0f",
                sum->used_w, in.budget.total_w);
    c->overcommitted = sum->overcommitted;
    int written = control__apply(c);
    /* How fast the site reacts to its meter: from the reading's arrival to the
     * last profile handed to the sockets. */
    uint64_t arrival = c->site->meters.grid_arrival_ns;
    c->site->meters.grid_arrival_ns = 0;
    if (arrival && written > 0)
        log_info("control", "limits sent after a meter reading profiles=%d connectors=%zu in_us=%llu",
                 written, n_conn, (unsigned long long)((uv_hrtime() - arrival) / 1000));
}

void control_request(struct control *c)
{
    if (!uv_is_active((uv_handle_t *)&c->soon) || uv_timer_get_due_in(&c->soon) > 0)
        uv_timer_start(&c->soon, control__run, 0, 0);
}

static void control__changed(void *ctx, bool urgent)
{
    struct control *c = ctx;
    if (urgent)
        control_request(c);
    else if (!uv_is_active((uv_handle_t *)&c->soon))
        uv_timer_start(&c->soon, control__run, CONTROL__COALESCE_MS, 0);
}

void control_set_dr_limit(struct control *c, double kw)
{
    c->dr_kw = kw;
    control_request(c);
}

/* A connector's measured draw in kW (control__conn_draw). */
static double control__draw_kw(const struct site_charger *ch, int k, double voltage_v)
{
    double a[BALANCER_PHASES], sum = 0;
    control__conn_draw(ch, k, a);
    for (int p = 0; p < BALANCER_PHASES; p++)
        sum += a[p];
    return sum * voltage_v / 1000;
}

void control_report(const struct control *c, struct control_report *out)
{
    const struct site *site = c->site;
    const struct site_meters *m = &site->meters;
    double v = c->cfg->site.voltage_v;
    uint64_t now = uv_now(c->loop);
    double ev = 0, steered = 0;
    for (size_t i = 0; i < site->n_chargers; i++) {
        const struct site_charger *ch = &site->chargers[i];
        bool steers = control__steerable(ch) && ch->following != 0 && !ch->over_limit;
        for (int k = 0; k < ch->n_conn; k++) {
            double kw = control__draw_kw(ch, k, v);
            ev += kw;
            steered += steers ? kw : 0;
        }
    }
    if (m->has_ev && control__fresh(c, m->ev_ms, now))
        ev = !isnan(m->ev_kw) ? m->ev_kw : (m->ev_a[0] + m->ev_a[1] + m->ev_a[2]) * v / 1000;
    out->ev_kw = ev;
    out->flex_kw = steered;
    if (!m->has_grid)
        out->import_kw = ev; /* what the balancer assumes without a grid meter */
    else if (control__fresh(c, m->grid_ms, now))
        out->import_kw = !isnan(m->grid_kw) ? m->grid_kw
                                            : (m->grid_a[0] + m->grid_a[1] + m->grid_a[2]) * v / 1000;
    else
        out->import_kw = NAN;
    out->cap_kw = control__min(c->cap_other_kw, c->dr_kw);
}

static void control__schedule_cb(uv_timer_t *t);

static void control__arm_schedule(struct control *c)
{
    if (c->n_tod == 0)
        return;
    int second;
    int now = control__minute_of_day(&second);
    int next = balancer_tod_next_boundary(c->tod, c->n_tod, now);
    if (next < 0)
        return; /* only all-day entries: no boundary */
    int minutes = (next - now + 1440) % 1440;
    if (minutes == 0)
        minutes = 1440;
    /* Wake a little after the boundary minute has begun. */
    uint64_t ms = ((uint64_t)minutes * 60 - (uint64_t)second) * 1000 + 100;
    uv_timer_start(&c->schedule, control__schedule_cb,
                   ms < CONTROL__SCHEDULE_MAX_MS ? ms : CONTROL__SCHEDULE_MAX_MS, 0);
}

static void control__schedule_cb(uv_timer_t *t)
{
    struct control *c = t->data;
    int second;
    int minute = control__minute_of_day(&second);
    int entry = balancer_tod_pick(c->tod, c->n_tod, minute);
    log_info("control", "time-of-day check minute=%d entry=%d", minute, entry);
    control_request(c);
    control__arm_schedule(c);
}

/* The time-of-day caps, copied from the config (at start and on reload). */
static void control__load_tod(struct control *c)
{
    const struct config *cfg = c->cfg;
    c->n_tod = cfg->site.n_schedule < CONTROL_MAX_TOD ? cfg->site.n_schedule : CONTROL_MAX_TOD;
    for (size_t i = 0; i < c->n_tod; i++) {
        c->tod[i].from_min = cfg->site.schedule[i].from_min;
        c->tod[i].to_min = cfg->site.schedule[i].to_min;
        c->tod[i].cap_kw = cfg->site.schedule[i].grid_limit_kw;
        c->tod[i].phase_a = cfg->site.schedule[i].phase_limit_a;
    }
}

void control_reload(struct control *c)
{
    control__load_tod(c);
    uv_timer_stop(&c->schedule);
    control__arm_schedule(c);
    /* A raised cap or a lowered minimum may free room that the increase
     * interval holds back as usual; a lowered cap goes out at once. */
    control_request(c);
}

void control_start(struct control *c, uv_loop_t *loop, struct site *site, struct proxy *proxy,
                   const struct config *cfg)
{
    memset(c, 0, sizeof(*c));
    c->dr_kw = NAN;
    c->cap_other_kw = cfg->site.grid_limit_kw;
    for (int src = 0; src < BALANCER_SRC_COUNT; src++)
        c->caps_kw[src] = c->phase_caps_a[src] = NAN;
    c->loop = loop;
    c->site = site;
    c->proxy = proxy;
    c->cfg = cfg;
    control__load_tod(c);
    uv_timer_init(loop, &c->soon);
    uv_timer_init(loop, &c->schedule);
    uv_timer_init(loop, &c->increase);
    c->soon.data = c->schedule.data = c->increase.data = c;
    site->changed = control__changed;
    site->changed_ctx = c;
    control__arm_schedule(c);
    control_request(c); /* the limits in force are known from the start */
}

static void control__closed(uv_handle_t *h)
{
    struct control *c = h->data;
    if (--c->open_handles > 0)
        return;
    free(c->in);
    free(c->out);
    free(c->conn_charger);
    free(c->chargers);
    free(c->sums);
    free(c->scratch);
}

void control_stop(struct control *c)
{
    c->site->changed = NULL;
    c->open_handles = 3;
    uv_close((uv_handle_t *)&c->soon, control__closed);
    uv_close((uv_handle_t *)&c->schedule, control__closed);
    uv_close((uv_handle_t *)&c->increase, control__closed);
}

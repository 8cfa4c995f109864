/* Smart charging: the gateway's side of each charger's charging profiles.
 *
 * Once the CSMS has accepted a charger (its BootNotification, or any CALL of a
 * charger that reconnects without booting), the gateway asks the charger what
 * it can do (GetConfiguration / GetVariables), picks unit, stack level and
 * strategy (config overrides what a charger reports wrongly), and from then on
 * sends the balancer's limits as charging profiles of its own:
 *  - the charger-wide cap (ChargePointMaxProfile / ChargingStationMaxProfile
 *    on connector 0), which the charger combines by minimum with the CSMS's
 *    Tx/TxDefault profiles; plus a TxDefaultProfile per connector for chargers
 *    with several;
 *  - or, for chargers that refuse the charger-wide cap (or are configured so),
 *    TxDefaultProfiles at the reserved stack level.
 * The CSMS's own profiles of the purpose the gateway owns are taken, answered
 * and handed to the balancer as limits; its Tx/TxDefault ones pass through and
 * are reported as limits too, so the balancer gives their spare to others.
 */
#include "session.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "charger_calls.h"
#include "log.h"

#define SMART__FRAME_MAX 2048

#define SMART__NOTIFY(s, fn, ...) \
    do { \
        struct proxy *p_ = (s)->proxy; \
        if (p_->observer.fn) \
            p_->observer.fn(p_->observer.ctx, (s)->id, __VA_ARGS__); \
    } while (0)

void smart_reset(struct session *s)
{
    struct smart_state *m = &s->smart;
    memset(m, 0, sizeof(*m));
    m->following = -1;
    m->sent_charger_a = NAN;
    for (int i = 0; i < SESSION_MAX_CONNECTORS; i++)
        m->sent_connector_a[i] = NAN;
}

/* Answers a CSMS CALL in the charger's place. */
static void smart__reply(struct session *s, const struct frame *f, const char *status)
{
    char payload[64], frame[FRAME_ID_MAX + 96];
    int n = ocpp_write_status_reply(status, payload, sizeof(payload));
    int m = n > 0 ? frame_write_result(frame, sizeof(frame), f->id, payload, (size_t)n) : -1;
    if (m > 0 && session_send(s, SESSION_UP, frame, (size_t)m) < 0)
        s->proxy->stats.dropped_frames++;
}

double smart_to_amps(const struct proxy *p, const char *charger, char unit, double limit, int phases)
{
    if (unit != 'W')
        return limit;
    const struct config_charger *cc = config_find_charger(p->cfg, charger);
    int n = phases > 0 ? phases : (cc ? cc : &p->cfg->charger_defaults)->phases;
    return limit / (p->cfg->site.voltage_v * n);
}

static bool smart__differs(double want, double sent)
{
    return isnan(sent) || fabs(want - sent) >= 0.05;
}

static void smart__profile_answer(void *ctx, const struct pending_call *call, const struct frame *f);

/* The safe default's profile id: after the dynamic ones (profile_id + connector). */
#define SMART__SAFE_ID_OFFSET (SESSION_MAX_CONNECTORS + 1)

/* Queues one profile; 1 when it is a new CALL, 0 when it replaced a queued one.
 * safe: the safe default under the leases (one stack level lower, no validTo). */
static int smart__send_one(struct session *s, int connector, enum ocpp_purpose purpose, double amps,
                           bool safe)
{
    struct proxy *p = s->proxy;
    const struct smart_state *m = &s->smart;
    int lease = p->cfg->balancer.lease_s;
    time_t now = time(NULL);
    struct ocpp_limit_profile prof = {
        .connector = connector,
        .profile_id = p->cfg->balancer.profile_id + connector + (safe ? SMART__SAFE_ID_OFFSET : 0),
        .stack_level = m->how.stack_level - (safe ? 1 : 0),
        .purpose = purpose,
        .unit = m->how.unit,
        .limit = m->how.unit == 'W' ? amps * p->cfg->site.voltage_v * s->cfg->phases : amps,
        .phases = s->cfg->phases,
        .start = now,
        /* If the gateway dies, the charger drops to the safe default by itself. */
        .valid_to = lease > 0 && !safe ? now + lease : 0,
    };
    char payload[SMART__FRAME_MAX];
    int n = ocpp_write_set_profile(s->version, &prof, payload, sizeof(payload));
    int rc = n < 0 ? n : charger_calls_own(s, "SetChargingProfile", payload, (size_t)n,
                                     smart__profile_answer, s, prof.profile_id);
    if (rc < 0) {
        log_warn("proxy", "cannot queue a charging profile charger=%s connector=%d", s->id, connector);
        return 0;
    }
    p->stats.profile_writes++;
    log_debug("proxy", "limit sent charger=%s connector=%d limit=%.1f unit=%c profile=%s%s", s->id,
             connector, prof.limit, prof.unit,
             purpose == OCPP_PURPOSE_CHARGER_MAX ? "charger_max" : "tx_default",
             safe ? " safe_default=yes" : prof.valid_to ? " lease=yes" : "");
    s->smart.unanswered += rc == 0;
    return rc == 0;
}

int smart_send(struct session *s)
{
    struct smart_state *m = &s->smart;
    if (m->phase != SMART_READY || !m->how.smart || !m->have_want)
        return 0;
    int n = s->cfg->connectors, sent = 0;
    /* Without the charger-wide cap, TxDefault on connector 0 holds for every
     * connector of a single-connector charger. */
    enum ocpp_purpose whole = m->how.charger_max ? OCPP_PURPOSE_CHARGER_MAX : OCPP_PURPOSE_TX_DEFAULT;
    int lease = s->proxy->cfg->balancer.lease_s;
    if (lease > 0 && !m->safe_sent) {
        /* Under the leases first: what the charger keeps if they run out. */
        sent += smart__send_one(s, 0, whole, s->proxy->cfg->balancer.safe_limit_a, true);
        m->safe_sent = true;
    }
    if (smart__differs(m->want_charger_a, m->sent_charger_a) && (m->how.charger_max || n == 1)) {
        sent += smart__send_one(s, 0, whole, m->want_charger_a, false);
        m->sent_charger_a = m->want_charger_a;
    }
    for (int i = 0; n > 1 && i < n && i < SESSION_MAX_CONNECTORS; i++) {
        if (!smart__differs(m->want_connector_a[i], m->sent_connector_a[i]))
            continue;
        sent += smart__send_one(s, i + 1, OCPP_PURPOSE_TX_DEFAULT, m->want_connector_a[i], false);
        m->sent_connector_a[i] = m->want_connector_a[i];
    }
    /* A partial send renews only what it sends: the next full renewal stays
     * due when it was, for the profiles it did not touch. */
    if (sent && lease > 0 && !m->lease_renew_ms)
        m->lease_renew_ms = uv_now(s->proxy->loop) + (uint64_t)lease * 500;
    return sent;
}

void smart_renew_leases(struct session *s, uint64_t now_ms)
{
    struct smart_state *m = &s->smart;
    if (s->proxy->cfg->balancer.lease_s <= 0 || m->phase != SMART_READY || !m->have_want ||
        !s->down || now_ms < m->lease_renew_ms)
        return;
    /* Half the lease is gone: the same limits again, with a new validTo. */
    m->lease_renew_ms = now_ms + (uint64_t)s->proxy->cfg->balancer.lease_s * 500;
    m->sent_charger_a = NAN;
    for (int i = 0; i < SESSION_MAX_CONNECTORS; i++)
        m->sent_connector_a[i] = NAN;
    smart_send(s);
}

static void smart__following(struct session *s, bool following, const char *why)
{
    if (s->smart.following == (int)following)
        return;
    s->smart.following = following;
    if (!following)
        log_warn("proxy", "charger does not take limits charger=%s reason=%s", s->id, why);
    SMART__NOTIFY(s, following, following, why);
}

static void smart__profile_answer(void *ctx, const struct pending_call *call, const struct frame *f)
{
    struct session *s = ctx;
    struct smart_state *m = &s->smart;
    if (!s->down)
        return; /* the charger left; it is asked again when it is back */
    if (m->unanswered > 0 && --m->unanswered == 0 && s->proxy->observer.settled)
        s->proxy->observer.settled(s->proxy->observer.ctx, s->id);

    enum ocpp_reply reply = OCPP_REPLY_UNKNOWN;
    const char *why = "no answer";
    if (f && f->type == FRAME_ERROR)
        why = "CALLERROR";
    else if (f && ocpp_parse_reply_status(f->payload.ptr, f->payload.len, &reply) == 0)
        why = reply == OCPP_REPLY_NOT_SUPPORTED ? "NotSupported" : "Rejected";
    if (reply == OCPP_REPLY_ACCEPTED) {
        smart__following(s, true, NULL);
        return;
    }
    s->proxy->stats.profile_failures++;
    /* Whatever it has now is not ours: send again once there is a way. */
    m->sent_charger_a = NAN;
    for (int i = 0; i < SESSION_MAX_CONNECTORS; i++)
        m->sent_connector_a[i] = NAN;
    if (m->how.charger_max && s->cfg->profile == CONFIG_PROFILE_AUTO) {
        log_warn("proxy", "charger-wide cap refused, falling back to TxDefaultProfile charger=%s reason=%s",
                 s->id, why);
        m->how.charger_max = false;
        SMART__NOTIFY(s, ready, &m->how);
        smart_send(s);
        return;
    }
    smart__following(s, false, why);
}

/* Picks how to steer the charger from what it reported (caps, or nothing
 * known) and what the config overrides. */
static void smart__ready(struct session *s, const struct ocpp_caps *caps)
{
    struct smart_state *m = &s->smart;
    const struct config *cfg = s->proxy->cfg;
    struct proxy_charging *how = &m->how;
    /* Unknown abilities: try, and learn from the answer. */
    how->smart = s->cfg->smart_charging == CONFIG_ON ||
                 (s->cfg->smart_charging == CONFIG_AUTO && caps->smart_charging != 0);
    how->charger_max = s->cfg->profile != CONFIG_PROFILE_TX_DEFAULT;
    if (s->cfg->charging_rate_unit != CONFIG_UNIT_AUTO)
        how->unit = s->cfg->charging_rate_unit == CONFIG_UNIT_W ? 'W' : 'A';
    else
        how->unit = !caps->unit_a && caps->unit_w ? 'W' : 'A';
    if (s->cfg->stack_level >= 0)
        how->stack_level = s->cfg->stack_level;
    else if (cfg->balancer.stack_level >= 0)
        how->stack_level = cfg->balancer.stack_level;
    else
        how->stack_level = caps->max_stack_level >= 0 ? caps->max_stack_level : 1;
    /* The safe default under the leases sits one level lower. */
    if (cfg->balancer.lease_s > 0 && how->stack_level < 1)
        how->stack_level = 1;
    m->phase = SMART_READY;

    log_info("proxy", "smart charging charger=%s supported=%s unit=%c stack_level=%d profile=%s",
             s->id, how->smart ? "yes" : "no", how->unit, how->stack_level,
             how->charger_max ? "charger_max" : "tx_default");
    if (!how->smart)
        smart__following(s, false, "no smart charging");
    SMART__NOTIFY(s, ready, how);
    smart_send(s);
}

static void smart__caps_answer(void *ctx, const struct pending_call *call, const struct frame *f)
{
    struct session *s = ctx;
    if (!s->down)
        return;
    struct ocpp_caps caps = { .smart_charging = -1, .max_stack_level = -1, .max_profiles = -1 };
    if (f && f->type == FRAME_RESULT)
        ocpp_parse_caps(s->version, f->payload.ptr, f->payload.len, &caps);
    smart__ready(s, &caps);
}

static void smart__discover(struct session *s)
{
    struct smart_state *m = &s->smart;
    if (m->phase != SMART_UNKNOWN || m->boot_refused)
        return;
    if (s->cfg->smart_charging == CONFIG_OFF) {
        /* Nothing to ask a charger the site manager says cannot be steered. */
        struct ocpp_caps none = { .smart_charging = 0, .max_stack_level = -1, .max_profiles = -1 };
        smart__ready(s, &none);
        return;
    }
    const char *action;
    char payload[SMART__FRAME_MAX];
    int n = ocpp_write_caps_query(s->version, &action, payload, sizeof(payload));
    if (n < 0 || charger_calls_own(s, action, payload, (size_t)n, smart__caps_answer, s, -1) < 0) {
        log_warn("proxy", "cannot ask the charger its abilities charger=%s", s->id);
        return;
    }
    m->phase = SMART_DISCOVERING;
}

void smart_charger_call(struct session *s, const struct frame *f)
{
    struct ocpp_observation obs;
    if (ocpp_observe_frame(s->version, f, &obs) == 0 &&
        obs.kind != OCPP_OBS_NONE)
        SMART__NOTIFY(s, observed, &obs);
}

void smart_csms_answer(struct session *s, const struct pending_call *call, const struct frame *f)
{
    if (f->type != FRAME_RESULT)
        return;
    if (strcmp(call->action, "BootNotification") == 0) {
        struct ocpp_answer answer;
        if (ocpp_observe_result(s->version, call->action, f->payload.ptr, f->payload.len, &answer) == 0)
            s->smart.boot_refused = !answer.accepted;
    }
    smart__discover(s);
}

static bool smart__take_profile(struct session *s, const struct frame *f)
{
    struct ocpp_csms_profile cp;
    if (ocpp_parse_set_profile(s->version, f->payload.ptr, f->payload.len, time(NULL), &cp) < 0)
        return false; /* the charger judges what the gateway cannot read */
    double amps = smart_to_amps(s->proxy, s->id, cp.unit, cp.limit_now, cp.phases);
    if (cp.purpose != OCPP_PURPOSE_CHARGER_MAX) {
        if (cp.purpose == OCPP_PURPOSE_TX_DEFAULT || cp.purpose == OCPP_PURPOSE_TX)
            SMART__NOTIFY(s, csms_limit, cp.connector == 0 ? -1 : cp.connector, amps);
        return false;
    }
    if (csms_limits_set(s->proxy, s->id, s->version, cp.profile_id, f->payload.ptr,
                        f->payload.len, amps) < 0) {
        relay_send_error(s, SESSION_UP, f->id, "InternalError", "out of memory");
        return true;
    }
    log_info("proxy", "CSMS charger-wide limit taken charger=%s limit_a=%.1f profile_id=%d",
             s->id, amps, cp.profile_id);
    smart__reply(s, f, "Accepted");
    SMART__NOTIFY(s, csms_limit, 0, amps);
    return true;
}

static bool smart__take_clear(struct session *s, const struct frame *f)
{
    struct ocpp_clear_filter cf;
    if (ocpp_parse_clear_profile(s->version, f->payload.ptr, f->payload.len, &cf) < 0)
        return false;
    const struct csms_limit *taken = csms_limits_get(s->proxy, s->id);
    bool by_id = cf.profile_id >= 0;
    bool ours_by_id = by_id && taken && cf.profile_id == taken->profile_id;
    bool ours_by_purpose = !by_id && cf.has_purpose && cf.purpose == OCPP_PURPOSE_CHARGER_MAX;
    if (ours_by_id || ours_by_purpose) {
        /* The charger holds no CSMS profile of this purpose: the gateway answers. */
        bool had = csms_limits_clear(s->proxy, s->id);
        smart__reply(s, f, had ? "Accepted" : "Unknown");
        if (had)
            SMART__NOTIFY(s, csms_limit, 0, NAN);
        return true;
    }
    if (!by_id && (!cf.has_purpose || cf.purpose == OCPP_PURPOSE_TX_DEFAULT ||
                   cf.purpose == OCPP_PURPOSE_TX)) {
        SMART__NOTIFY(s, csms_limit, cf.connector > 0 ? cf.connector : -1, NAN);
        if (!cf.has_purpose && cf.connector <= 0 && csms_limits_clear(s->proxy, s->id))
            SMART__NOTIFY(s, csms_limit, 0, NAN);
        /* A broad clear wipes the gateway's profiles too: smart_send, after the
         * relay queued the clear, puts ours back behind it. */
        s->smart.sent_charger_a = NAN;
        for (int i = 0; i < SESSION_MAX_CONNECTORS; i++)
            s->smart.sent_connector_a[i] = NAN;
    }
    return false;
}

bool smart_csms_call(struct session *s, const struct frame *f)
{
    bool taken = false;
    if (strcmp(f->action, "SetChargingProfile") == 0)
        taken = smart__take_profile(s, f);
    else if (strcmp(f->action, "ClearChargingProfile") == 0)
        taken = smart__take_clear(s, f);
    return taken;
}

void proxy_set_observer(struct proxy *p, const struct proxy_observer *observer)
{
    p->observer = *observer;
}

int proxy_set_limits(struct proxy *p, const char *charger, double charger_a,
                     const double *connector_a, size_t n)
{
    struct session *s = proxy__find(p, charger);
    if (!s || !s->down)
        return -ENOENT;
    struct smart_state *m = &s->smart;
    m->have_want = true;
    m->want_charger_a = charger_a;
    for (size_t i = 0; i < n && i < SESSION_MAX_CONNECTORS; i++)
        m->want_connector_a[i] = connector_a[i];
    return smart_send(s);
}

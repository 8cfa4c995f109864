/* The OCPP-J proxy: the WebSocket server for chargers, one client socket per
 * charger toward the CSMS (passthrough mode), and the relay between them.
 */
#ifndef SITEGATE_PROXY_H
#define SITEGATE_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "ocpp_msg.h"

struct config;
struct lws_context;
struct proxy;

/* Counters, for logs now and metrics later. */
struct proxy_stats {
    uint64_t frames_from_chargers;
    uint64_t frames_from_csms;
    uint64_t bad_frames;         /* refused by the envelope parser */
    uint64_t oversized_frames;   /* above limits.max_frame_bytes: socket closed */
    uint64_t unmatched_results;  /* answered no CALL in flight: dropped */
    uint64_t expired_calls;      /* no answer within the CALL timeout */
    uint64_t refused_calls;      /* answered by the gateway with a CALLERROR */
    uint64_t refused_handshakes;
    uint64_t dropped_frames;     /* queue full or peer gone */
    uint64_t profile_writes;     /* SetChargingProfile CALLs the gateway sent */
    uint64_t profile_failures;   /* rejected, not supported, error or no answer */
    uint64_t refused_connections; /* limits.max_connections(_per_address) */
    uint64_t handshake_timeouts; /* not a WebSocket within limits.handshake_timeout_s */
    uint64_t rate_limited_frames; /* above limits.charger_frames_per_s: refused */
    uint64_t slow_readers;       /* chargers closed for not reading what was queued */
    uint64_t idle_closed;        /* chargers closed after limits.idle_timeout_s */
    uint32_t chargers_connected;
    uint32_t upstreams_connected;
};

/* How a charger takes the gateway's limits, once its abilities are known. */
struct proxy_charging {
    bool smart;          /* takes charging profiles at all */
    bool charger_max;    /* the charger-wide cap (else TxDefault profiles) */
    char unit;           /* 'A' or 'W' */
    int stack_level;
};

/* The grid meter's latest reading, for the site's own MeterValues in
 * aggregate mode; NAN what is not known. */
struct proxy_site_reading {
    double power_w;
    double current_a[3];
    double energy_wh;
};

/* What the proxy tells the gateway about its chargers, on the loop thread.
 * Charger ids are valid only during the call. */
struct proxy_observer {
    void *ctx;
    /* A charger connected (up) or left. */
    void (*charger_link)(void *ctx, const char *charger, bool up);
    /* Something the balancer needs, read from the charger's relayed traffic. */
    void (*observed)(void *ctx, const char *charger, const struct ocpp_observation *obs);
    /* The charger's smart-charging abilities are known: send it its limits. */
    void (*ready)(void *ctx, const char *charger, const struct proxy_charging *how);
    /* A limit the CSMS set, in A, for the charger (connector 0) or one
     * connector; NAN when the CSMS cleared it. */
    void (*csms_limit)(void *ctx, const char *charger, int connector, double limit_a);
    /* Whether the charger accepts the gateway's limits (why: when it does not). */
    void (*following)(void *ctx, const char *charger, bool following, const char *why);
    /* Every profile sent to the charger has been answered (or timed out). */
    void (*settled)(void *ctx, const char *charger);
    /* Aggregate mode. A CSMS profile on the site's connector 0 arrives as
     * csms_limit() with the site's id as charger. */
    /* The grid meter's latest fresh reading; false when there is none. */
    bool (*site_reading)(void *ctx, struct proxy_site_reading *out);
    /* The site's import cap in force, kW (GetCompositeSchedule on connector 0). */
    double (*site_cap_kw)(void *ctx);
    /* The CSMS set the site's cap with the SiteGridLimitKw key; NAN: back to the config's. */
    void (*site_limit_kw)(void *ctx, double kw);
};

/* Creates the charger listener on ctx (created with explicit vhosts on loop). */
int proxy_create(struct proxy **out, uv_loop_t *loop, struct lws_context *ctx,
                 const struct config *cfg);

/* Stops taking chargers and closes every socket with 1001; calls done once
 * every session is gone. */
void proxy_drain(struct proxy *p, void (*done)(void *arg), void *arg);

/* Frees the proxy. Call after the lws context is destroyed and the loop has run
 * its close callbacks. */
void proxy_destroy(struct proxy *p);

struct store;

/* Gives the proxy the durable store: from then on it answers chargers while
 * the CSMS is unreachable and replays what the CSMS must see. In aggregate
 * mode this starts the site's upstream session (set the observer first).
 * 0 or a negative errno. */
int proxy_set_store(struct proxy *p, struct store *store);

/* Sets who hears about the chargers (the struct is copied). */
void proxy_set_observer(struct proxy *p, const struct proxy_observer *observer);

/* The gateway's limits for a charger: charger_a for the charger as a whole,
 * and per connector (n of them) for multi-connector chargers, in A per phase.
 * Sent as charging profiles once the charger is ready; unchanged limits are
 * not sent again. Returns how many profiles were sent (settled is reported
 * once they are answered), or -ENOENT when the charger is not connected. */
int proxy_set_limits(struct proxy *p, const char *charger, double charger_a,
                     const double *connector_a, size_t n);

/* The counters so far. */
const struct proxy_stats *proxy_get_stats(const struct proxy *p);

/* ---- Read-only views, for the status API and the metrics (proxy_status.c) ---- */

#define PROXY_ACTIONS_MAX 64      /* actions counted apart; the rest count as "other" */
#define PROXY_RTT_BUCKETS 12

enum proxy_dir { PROXY_FROM_CHARGER, PROXY_FROM_CSMS, PROXY_DIRS };
enum proxy_frame_kind { PROXY_CALL, PROXY_RESULT, PROXY_ERROR, PROXY_KINDS };

/* Frames relayed, per action: CALLs by their action, answers by the action of
 * the CALL they answer. */
struct proxy_action_frames {
    char action[65];
    uint64_t n[PROXY_DIRS][PROXY_KINDS];
};

struct proxy_traffic {
    struct proxy_action_frames actions[PROXY_ACTIONS_MAX]; /* the last one is "other" */
    size_t n_actions;
    /* CSMS round trips: from a CALL's sending upstream to its answer. */
    uint64_t rtt_bucket[PROXY_RTT_BUCKETS]; /* per bucket, not cumulative */
    uint64_t rtt_count;
    double rtt_sum_s;
};

/* Upper bounds of the round-trip buckets, in seconds (the last is +Inf). */
extern const double proxy_rtt_bounds_s[PROXY_RTT_BUCKETS];

/* One charger as the proxy sees it. */
struct proxy_charger_view {
    bool connected;              /* its socket is up */
    const char *ocpp;            /* "ocpp1.6", "ocpp2.0.1" */
    const char *upstream;        /* "open", "connecting", "backoff", "closing", "idle";
                                    aggregate mode: the site's socket */
    bool offline;                /* the gateway answers in the CSMS's place */
    bool backlog;                /* the store may hold messages for it */
    bool replaying;
    bool profiles_known;         /* its smart-charging abilities are known */
    const char *profile;         /* "charge_point_max", "tx_default", "none" (no smart
                                    charging), "" (not known yet) */
    int profiles_unanswered;
    size_t pending_to_csms;      /* CALLs in flight toward the CSMS */
    size_t pending_to_charger;
};

/* The charger's view; -ENOENT when the proxy has no session for it. */
int proxy_charger_view(const struct proxy *p, const char *id, struct proxy_charger_view *out);

/* The upstream socket of the site's own identity (aggregate mode); -ENOENT
 * in passthrough mode. */
int proxy_site_view(const struct proxy *p, struct proxy_charger_view *out);

/* Totals over every session: CALLs in flight each way, sessions whose
 * upstream socket is up, and sessions replaying a backlog. */
struct proxy_totals {
    size_t sessions;
    size_t pending_to_csms, pending_to_charger;
    size_t upstreams_open;
    size_t replaying;
};
void proxy_get_totals(const struct proxy *p, struct proxy_totals *out);

/* Calls fn for each session whose backlog is being replayed (upstream open). */
void proxy_foreach_replaying(const struct proxy *p, void (*fn)(void *ctx, const char *identity),
                             void *ctx);

/* The frame and round-trip counters so far. */
const struct proxy_traffic *proxy_get_traffic(const struct proxy *p);

#endif

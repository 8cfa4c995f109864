/* The config loader: one table row per key (name, type, default, bounds, field),
 * applied to the JSON by a generic walker (config_walk.c), then the check pass
 * (config_check.c) for the rules that span keys. This file holds the tables,
 * the arrays, and the public face. config/README.md documents the same keys;
 * keep the two in step. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "config_int.h"
#include "oadr_text.h"

#define CONFIG__ROWS_FIT(table) \
    _Static_assert(sizeof(table) / sizeof(table[0]) <= CONFIG__ROWS_MAX, #table " too long")

#define KEY(base, key, ty, field, ...) \
    { .name = key, .type = CONFIG__##ty, .off = offsetof(base, field), __VA_ARGS__ }

/* Enums are stored through an int. */
_Static_assert(sizeof(enum config_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_phase) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_unit) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_profile) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_tristate) == sizeof(int), "enum size");
_Static_assert(sizeof(enum log_level) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_meter_role) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_transport) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_parity) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_reg_function) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_reg_type) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_order) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_unknown_tags) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_ocpp_version) == sizeof(int), "enum size");

static const struct config__name config__modes[] = {
    { "passthrough", CONFIG_MODE_PASSTHROUGH }, { "aggregate", CONFIG_MODE_AGGREGATE }, { 0 },
};
static const struct config__name config__ocpp_versions[] = {
    { "1.6", CONFIG_OCPP_16 }, { "2.0.1", CONFIG_OCPP_201 }, { 0 },
};
static const struct config__name config__phases[] = {
    { "L1", CONFIG_PHASE_L1 }, { "L2", CONFIG_PHASE_L2 }, { "L3", CONFIG_PHASE_L3 }, { 0 },
};
static const struct config__name config__units[] = {
    { "auto", CONFIG_UNIT_AUTO }, { "A", CONFIG_UNIT_A }, { "W", CONFIG_UNIT_W }, { 0 },
};
static const struct config__name config__profiles[] = {
    { "auto", CONFIG_PROFILE_AUTO },
    { "charge_point_max", CONFIG_PROFILE_CHARGER_MAX },
    { "tx_default", CONFIG_PROFILE_TX_DEFAULT },
    { 0 },
};
static const struct config__name config__unknown_tags[] = {
    { "reject", CONFIG_UNKNOWN_REJECT }, { "accept", CONFIG_UNKNOWN_ACCEPT }, { 0 },
};
static const struct config__name config__tristates[] = {
    { "auto", CONFIG_AUTO }, { "on", CONFIG_ON }, { "off", CONFIG_OFF }, { 0 },
};

static const struct config__key config__schedule_keys[] = {
    KEY(struct config_schedule, "from", CUSTOM, from_min, .flags = CONFIG__REQUIRED,
        .parse = config__parse_time),
    KEY(struct config_schedule, "to", CUSTOM, to_min, .flags = CONFIG__REQUIRED,
        .parse = config__parse_time),
    KEY(struct config_schedule, "grid_limit_kw", DBL, grid_limit_kw, .flags = CONFIG__MIN_EXCL,
        .min = 0, .max = 100000, .def = NAN),
    KEY(struct config_schedule, "phase_limit_a", DBL, phase_limit_a, .flags = CONFIG__MIN_EXCL,
        .min = 0, .max = 100000, .def = NAN),
    { 0 },
};
CONFIG__ROWS_FIT(config__schedule_keys);

static int config__schedule_finish(struct config__ctx *ctx, const cJSON *obj, void *base)
{
    const struct config_schedule *s = base;
    if (isnan(s->grid_limit_kw) && isnan(s->phase_limit_a))
        return config__fail(ctx, "needs grid_limit_kw or phase_limit_a");
    if (s->from_min == s->to_min) {
        size_t saved = config__push(ctx, "to");
        int rc = config__fail(ctx, "must differ from \"from\"");
        config__pop(ctx, saved);
        return rc;
    }
    return 0;
}

static const struct config__object config__schedule_object = {
    .keys = config__schedule_keys, .finish = config__schedule_finish,
};

static int config__parse_schedule(struct config__ctx *ctx, cJSON *item, void *field);
static int config__parse_chargers(struct config__ctx *ctx, cJSON *item, void *field);
static int config__parse_site_connectors(struct config__ctx *ctx, cJSON *item, void *field);

static const struct config__key config__site_keys[] = {
    KEY(struct config, "id", IDBUF, site.id, .flags = CONFIG__REQUIRED, .min = 1,
        .max = CONFIG_ID_MAX, .check = config__check_site_id),
    KEY(struct config, "timezone", STR, site.timezone, .min = 1, .max = 64, .def_str = "UTC",
        .check = config__check_timezone),
    KEY(struct config, "grid_limit_kw", DBL, site.grid_limit_kw,
        .flags = CONFIG__REQUIRED | CONFIG__MIN_EXCL, .min = 0, .max = 100000),
    KEY(struct config, "phase_limit_a", DBL, site.phase_limit_a, .flags = CONFIG__MIN_EXCL,
        .min = 0, .max = 100000, .def = NAN),
    KEY(struct config, "margin_kw", DBL, site.margin_kw, .min = 0, .max = 100000, .def = 0),
    KEY(struct config, "voltage_v", DBL, site.voltage_v, .min = 100, .max = 480, .def = 230),
    KEY(struct config, "schedule", CUSTOM, site.schedule, .parse = config__parse_schedule),
    KEY(struct config, "meter_stale_s", INT, site.meter_stale_s, .min = 1, .max = 3600, .def = 10),
    KEY(struct config, "other_load_max_kw", DBL, site.other_load_max_kw, .min = 0, .max = 100000,
        .def = NAN),
    KEY(struct config, "fallback_ev_kw", DBL, site.fallback_ev_kw, .min = 0, .max = 100000,
        .def = NAN),
    { 0 },
};
CONFIG__ROWS_FIT(config__site_keys);

static const struct config__key config__listen_keys[] = {
    KEY(struct config, "address", STR, listen.address, .min = 1, .max = 253,
        .def_str = "0.0.0.0", .check = config__check_address),
    KEY(struct config, "port", INT, listen.port, .min = 1, .max = 65535, .def = 9000),
    KEY(struct config, "path", STR, listen.path, .min = 1, .max = 64, .def_str = "/ocpp",
        .check = config__check_path),
    KEY(struct config, "ping_interval_s", INT, listen.ping_interval_s, .min = 0, .max = 3600,
        .def = 30),
    KEY(struct config, "allow_unknown_chargers", BOOL, listen.allow_unknown_chargers, .def = 0),
    KEY(struct config, "plain", BOOL, listen.plain, .def = 1),
    KEY(struct config, "tls", CUSTOM, listen.tls, .parse = config__parse_listen_tls),
    { 0 },
};
CONFIG__ROWS_FIT(config__listen_keys);

static const struct config__key config__upstream_keys[] = {
    KEY(struct config, "url", STR, upstream.url, .flags = CONFIG__REQUIRED, .min = 1, .max = 512,
        .check = config__check_url),
    KEY(struct config, "mode", ENUM, upstream.mode, .names = config__modes,
        .def = CONFIG_MODE_PASSTHROUGH),
    KEY(struct config, "ca_file", STR, upstream.ca_file, .min = 1, .max = CONFIG__PATHNAME_MAX,
        .check = config__check_readable),
    KEY(struct config, "tls_verify", BOOL, upstream.tls_verify, .def = 1),
    KEY(struct config, "call_timeout_s", INT, upstream.call_timeout_s, .min = 1, .max = 600,
        .def = 30),
    KEY(struct config, "ping_interval_s", INT, upstream.ping_interval_s, .min = 0, .max = 3600,
        .def = 30),
    KEY(struct config, "reconnect_min_s", DBL, upstream.reconnect_min_s, .min = 0.1, .max = 600,
        .def = 1),
    KEY(struct config, "reconnect_rate_per_s", DBL, upstream.reconnect_rate_per_s, .min = 0.1,
        .max = 100000, .def = 200),
    KEY(struct config, "reconnect_max_s", DBL, upstream.reconnect_max_s, .min = 0.1, .max = 3600,
        .def = 60),
    KEY(struct config, "ocpp_version", ENUM, upstream.ocpp_version, .names = config__ocpp_versions,
        .def = CONFIG_OCPP_16),
    KEY(struct config, "cert_file", STR, upstream.cert_file, .min = 1, .max = CONFIG__PATHNAME_MAX,
        .check = config__check_readable),
    KEY(struct config, "key_file", STR, upstream.key_file, .min = 1, .max = CONFIG__PATHNAME_MAX,
        .check = config__check_readable),
    { 0 },
};
CONFIG__ROWS_FIT(config__upstream_keys);

/* One table for a charger and for charger_defaults: the electrical keys are the
 * same, so a default and its override can never drift apart. */
static const struct config__key config__charger_keys[] = {
    KEY(struct config_charger, "id", IDBUF, id, .flags = CONFIG__REQUIRED | CONFIG__PER_CHARGER,
        .min = 1, .max = CONFIG_ID_MAX, .check = config__check_charger_id),
    /* The value keys come before their _file keys: a _file parser refuses to
     * run when its value key already filled the field. */
    KEY(struct config_charger, "password_hash", CUSTOM, password_hash,
        .flags = CONFIG__PER_CHARGER, .parse = config__parse_password_hash),
    KEY(struct config_charger, "password_file", CUSTOM, password_hash,
        .flags = CONFIG__PER_CHARGER, .parse = config__parse_password_file),
    KEY(struct config_charger, "upstream_password", CUSTOM, upstream_password,
        .flags = CONFIG__PER_CHARGER, .parse = config__parse_upstream_password),
    KEY(struct config_charger, "upstream_password_file", CUSTOM, upstream_password,
        .flags = CONFIG__PER_CHARGER, .parse = config__parse_upstream_password_file),
    KEY(struct config_charger, "connectors", INT, connectors, .min = 1, .max = 16, .def = 1),
    KEY(struct config_charger, "phases", INT, phases, .min = 1, .max = 3, .def = 3),
    KEY(struct config_charger, "phase", ENUM, phase, .names = config__phases,
        .def = CONFIG_PHASE_NONE),
    KEY(struct config_charger, "min_current_a", DBL, min_current_a, .min = 0, .max = 80, .def = 6),
    KEY(struct config_charger, "max_current_a", DBL, max_current_a, .min = 0, .max = 630,
        .def = 32),
    KEY(struct config_charger, "priority", INT, priority, .min = -100, .max = 100, .def = 0),
    KEY(struct config_charger, "charging_rate_unit", ENUM, charging_rate_unit,
        .names = config__units, .def = CONFIG_UNIT_AUTO),
    KEY(struct config_charger, "profile", ENUM, profile, .names = config__profiles,
        .def = CONFIG_PROFILE_AUTO),
    KEY(struct config_charger, "stack_level", INT, stack_level, .min = -1, .max = 100, .def = -1),
    KEY(struct config_charger, "smart_charging", ENUM, smart_charging, .names = config__tristates,
        .def = CONFIG_AUTO),
    KEY(struct config_charger, "site_connectors", CUSTOM, site_connectors,
        .flags = CONFIG__PER_CHARGER, .parse = config__parse_site_connectors),
    KEY(struct config_charger, "security_profile", INT, security_profile, .min = 0, .max = 3,
        .def = 0),
    KEY(struct config_charger, "upstream_cert_file", STR, upstream_cert_file,
        .flags = CONFIG__PER_CHARGER, .min = 1, .max = CONFIG__PATHNAME_MAX,
        .check = config__check_readable),
    KEY(struct config_charger, "upstream_key_file", STR, upstream_key_file,
        .flags = CONFIG__PER_CHARGER, .min = 1, .max = CONFIG__PATHNAME_MAX,
        .check = config__check_readable),
    { 0 },
};
CONFIG__ROWS_FIT(config__charger_keys);

/* phases is 1 or 3 (a table can only say 1..3), and phase belongs to 1. The
 * check looks at what this object says, not at inherited values: a default
 * "phase" must not make every three-phase charger an error. */
static int config__charger_finish(struct config__ctx *ctx, const cJSON *obj, void *base)
{
    struct config_charger *ch = base;
    int rc = 0;
    if (ch->phases != 1 && ch->phases != 3) {
        size_t saved = config__push(ctx, "phases");
        rc = config__fail(ctx, "must be 1 or 3");
        config__pop(ctx, saved);
        return rc;
    }
    if (ch->phases == 3) {
        if (cJSON_GetObjectItemCaseSensitive(obj, "phase")) {
            size_t saved = config__push(ctx, "phase");
            rc = config__fail(ctx, "only for single-phase chargers (phases is 3)");
            config__pop(ctx, saved);
            return rc;
        }
        ch->phase = CONFIG_PHASE_NONE;
    } else if (ch->phase == CONFIG_PHASE_NONE) {
        ch->phase = CONFIG_PHASE_L1;
    }
    return 0;
}

static const struct config__object config__charger_object = {
    .keys = config__charger_keys, .finish = config__charger_finish,
};

static const struct config__object config__charger_defaults_object = {
    .keys = config__charger_keys,
    .exclude = CONFIG__PER_CHARGER,
    .exclude_why = "only allowed in chargers[] entries",
    .finish = config__charger_finish,
};

static const struct config__key config__balancer_keys[] = {
    KEY(struct config, "increase_interval_s", INT, balancer.increase_interval_s, .min = 0,
        .max = 3600, .def = 30),
    KEY(struct config, "deadband_a", DBL, balancer.deadband_a, .min = 0, .max = 32, .def = 1),
    KEY(struct config, "headroom_a", DBL, balancer.headroom_a, .min = 0, .max = 32, .def = 2),
    KEY(struct config, "profile_id", INT, balancer.profile_id, .min = 1, .max = 2147483647,
        .def = 1000),
    KEY(struct config, "stack_level", INT, balancer.stack_level, .min = -1, .max = 100, .def = -1),
    KEY(struct config, "lease_s", INT, balancer.lease_s, .min = 0, .max = 86400, .def = 0),
    KEY(struct config, "safe_limit_a", DBL, balancer.safe_limit_a, .min = 0, .max = 630, .def = 6),
    KEY(struct config, "apply_window_s", INT, balancer.apply_window_s, .min = 1, .max = 600,
        .def = 30),
    { 0 },
};
CONFIG__ROWS_FIT(config__balancer_keys);

static const struct config__key config__offline_keys[] = {
    KEY(struct config, "unknown_tags", ENUM, offline.unknown_tags, .names = config__unknown_tags,
        .def = CONFIG_UNKNOWN_REJECT),
    KEY(struct config, "hold_s", INT, offline.hold_s, .min = 1, .max = 600, .def = 10),
    KEY(struct config, "heartbeat_interval_s", INT, offline.heartbeat_interval_s, .min = 10,
        .max = 86400, .def = 300),
    KEY(struct config, "auth_cache_s", INT, offline.auth_cache_s, .min = 0, .max = 31536000,
        .def = 604800),
    KEY(struct config, "replay_interval_ms", INT, offline.replay_interval_ms, .min = 0,
        .max = 60000, .def = 0),
    KEY(struct config, "max_queue_mb", INT, offline.max_queue_mb, .min = 1, .max = 1048576,
        .def = 512),
    KEY(struct config, "close_chargers", BOOL, offline.close_chargers, .def = 0),
    KEY(struct config, "local_list", CUSTOM, offline.local_list,
        .parse = config__parse_local_list),
    { 0 },
};
CONFIG__ROWS_FIT(config__offline_keys);

/* An OCPP 2.0.1 IdTokenEnumType a card reader's idTag can be (not NoAuthorization). */
static int config__check_id_token_type(struct config__ctx *ctx, char *s)
{
    static const char *const types[] = {
        "Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local", "MacAddress",
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(types[i], s) == 0)
            return 0;
    return config__fail(ctx, "must be one of \"Central\", \"eMAID\", \"ISO14443\", \"ISO15693\", "
                             "\"KeyCode\", \"Local\", \"MacAddress\"");
}

static const struct config__key config__aggregate_keys[] = {
    KEY(struct config, "vendor", STR, aggregate.vendor, .min = 1, .max = 20, .def_str = "sitegate"),
    KEY(struct config, "model", STR, aggregate.model, .min = 1, .max = 20,
        .def_str = "sitegate-site"),
    KEY(struct config, "meter_interval_s", INT, aggregate.meter_interval_s, .min = 0, .max = 86400,
        .def = 60),
    KEY(struct config, "allow_hard_reset", BOOL, aggregate.allow_hard_reset, .def = 0),
    KEY(struct config, "id_token_type", STR, aggregate.id_token_type, .min = 1, .max = 16,
        .def_str = "ISO14443", .check = config__check_id_token_type),
    { 0 },
};
CONFIG__ROWS_FIT(config__aggregate_keys);

static const struct config__key config__limits_keys[] = {
    KEY(struct config, "max_frame_bytes", SIZE, limits.max_frame_bytes, .min = 1024,
        .max = 16777216, .def = 65536),
    KEY(struct config, "max_pending_calls", INT, limits.max_pending_calls, .min = 1,
        .max = 10000, .def = 64),
    KEY(struct config, "hold_frames", INT, limits.hold_frames, .min = 1, .max = 100000,
        .def = 1000),
    KEY(struct config, "max_connections", INT, limits.max_connections, .min = 1, .max = 100000,
        .def = 10000),
    KEY(struct config, "max_connections_per_address", INT, limits.max_connections_per_address,
        .min = 0, .max = 100000, .def = 0),
    KEY(struct config, "charger_frames_per_s", DBL, limits.charger_frames_per_s, .min = 0,
        .max = 100000, .def = 100),
    KEY(struct config, "handshake_timeout_s", INT, limits.handshake_timeout_s, .min = 1,
        .max = 600, .def = 10),
    KEY(struct config, "idle_timeout_s", INT, limits.idle_timeout_s, .min = 0, .max = 604800,
        .def = 0),
    KEY(struct config, "max_queued_bytes", SIZE, limits.max_queued_bytes, .min = 1024,
        .max = 1073741824, .def = 4194304),
    { 0 },
};
CONFIG__ROWS_FIT(config__limits_keys);

static const struct config__object config__site_object = { .keys = config__site_keys };
static const struct config__object config__listen_object = { .keys = config__listen_keys };
static const struct config__object config__upstream_object = { .keys = config__upstream_keys };
static const struct config__object config__balancer_object = { .keys = config__balancer_keys };
static const struct config__object config__limits_object = { .keys = config__limits_keys };
static const struct config__object config__offline_object = { .keys = config__offline_keys };
static const struct config__object config__aggregate_object = { .keys = config__aggregate_keys };

/* Sections share the top-level base (their fields are anonymous structs), so
 * their offset is 0. charger_defaults comes before chargers: rows are applied
 * in table order, and every charger starts as a copy of the defaults. */
static const struct config__key config__root_keys[] = {
    { .name = "site", .type = CONFIG__OBJECT, .flags = CONFIG__REQUIRED,
      .child = &config__site_object },
    { .name = "listen", .type = CONFIG__OBJECT, .child = &config__listen_object },
    { .name = "upstream", .type = CONFIG__OBJECT, .flags = CONFIG__REQUIRED,
      .child = &config__upstream_object },
    KEY(struct config, "charger_defaults", OBJECT, charger_defaults,
        .child = &config__charger_defaults_object),
    KEY(struct config, "chargers", CUSTOM, chargers, .parse = config__parse_chargers),
    { .name = "balancer", .type = CONFIG__OBJECT, .child = &config__balancer_object },
    { .name = "offline", .type = CONFIG__OBJECT, .child = &config__offline_object },
    { .name = "aggregate", .type = CONFIG__OBJECT, .child = &config__aggregate_object },
    { .name = "limits", .type = CONFIG__OBJECT, .child = &config__limits_object },
    KEY(struct config, "state_dir", STR, state_dir, .min = 1, .max = CONFIG__PATHNAME_MAX,
        .def_str = "/var/lib/sitegate"),
    KEY(struct config, "log_level", LOGLEVEL, log_level, .def = LOG_LVL_INFO),
    /* template_dir before meters: a meter's template is read as it parses. */
    KEY(struct config, "template_dir", STR, template_dir, .min = 1, .max = CONFIG__PATHNAME_MAX,
        .check = config__check_dir),
    KEY(struct config, "meters", CUSTOM, meters, .parse = config__parse_meters),
    KEY(struct config, "openadr", CUSTOM, openadr, .parse = config__parse_openadr),
    KEY(struct config, "status", CUSTOM, status, .parse = config__parse_status),
    { 0 },
};
CONFIG__ROWS_FIT(config__root_keys);

static const struct config__object config__root_object = { .keys = config__root_keys };

/* --- arrays -------------------------------------------------------------- */

static int config__parse_schedule(struct config__ctx *ctx, cJSON *item, void *field)
{
    struct config *cfg = ctx->cfg;
    if (!cJSON_IsArray(item))
        return config__fail(ctx, "must be an array");
    int n = cJSON_GetArraySize(item);
    if (n > CONFIG__SCHEDULE_MAX)
        return config__fail(ctx, "at most %d entries", CONFIG__SCHEDULE_MAX);
    if (n == 0)
        return 0;
    cfg->site.schedule = calloc((size_t)n, sizeof(*cfg->site.schedule));
    if (!cfg->site.schedule)
        return -ENOMEM;
    cfg->site.n_schedule = (size_t)n;
    size_t i = 0;
    for (cJSON *e = item->child; e; e = e->next, i++) {
        char *base = (char *)&cfg->site.schedule[i];
        size_t saved = config__push_index(ctx, i);
        int rc = config__defaults(&config__schedule_object, base);
        if (!rc)
            rc = config__walk(ctx, e, &config__schedule_object, base);
        config__pop(ctx, saved);
        if (rc)
            return rc;
    }
    return 0;
}

static int config__parse_chargers(struct config__ctx *ctx, cJSON *item, void *field)
{
    struct config *cfg = ctx->cfg;
    if (!cJSON_IsArray(item))
        return config__fail(ctx, "must be an array");
    int n = cJSON_GetArraySize(item);
    if (n > CONFIG__CHARGERS_MAX)
        return config__fail(ctx, "at most %d chargers", CONFIG__CHARGERS_MAX);
    if (n == 0)
        return 0;
    cfg->chargers = calloc((size_t)n, sizeof(*cfg->chargers));
    if (!cfg->chargers)
        return -ENOMEM;
    size_t i = 0;
    for (cJSON *e = item->child; e; e = e->next, i++) {
        /* Counted before it is filled, so that config_free releases what a
         * failing entry already allocated. The defaults hold no pointers. */
        cfg->chargers[i] = cfg->charger_defaults;
        cfg->n_chargers = i + 1;
        size_t saved = config__push_index(ctx, i);
        int rc = config__walk(ctx, e, &config__charger_object, (char *)&cfg->chargers[i]);
        config__pop(ctx, saved);
        if (rc)
            return rc;
    }
    return 0;
}

/* Read before connectors is known (table order): the count is checked
 * against it in the check pass. */
static int config__parse_site_connectors(struct config__ctx *ctx, cJSON *item, void *field)
{
    int *out = field;
    if (!cJSON_IsArray(item))
        return config__fail(ctx, "must be an array");
    int n = cJSON_GetArraySize(item);
    if (n > CONFIG_CONNECTORS_MAX)
        return config__fail(ctx, "at most %d entries", CONFIG_CONNECTORS_MAX);
    memset(out, 0, CONFIG_CONNECTORS_MAX * sizeof(*out));
    size_t i = 0;
    for (cJSON *e = item->child; e; e = e->next, i++) {
        if (!cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble) || e->valuedouble < 1 ||
            e->valuedouble > CONFIG_SITE_CONNECTOR_MAX) {
            size_t saved = config__push_index(ctx, i);
            int rc = config__fail(ctx, "must be an integer from 1 to %d", CONFIG_SITE_CONNECTOR_MAX);
            config__pop(ctx, saved);
            return rc;
        }
        out[i] = (int)e->valuedouble;
    }
    return 0;
}

/* --- the public face ----------------------------------------------------- */

static bool config__space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int config__json_error(struct config__ctx *ctx, const char *json, size_t len,
                              const char *at, const char *what)
{
    size_t pos = at && at >= json && at <= json + len ? (size_t)(at - json) : len;
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos; i++) {
        if (json[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    return config__err(ctx, "invalid JSON at line %zu, column %zu%s%s", line, col,
                       what ? ": " : "", what ? what : "");
}

/* The tree may hold upstream passwords: do not leave them in freed memory. */
static void config__wipe(cJSON *item)
{
    for (; item; item = item->next) {
        if (cJSON_IsString(item) && item->valuestring)
            OPENSSL_cleanse(item->valuestring, strlen(item->valuestring));
        config__wipe(item->child);
    }
}

int config_parse(const char *json, size_t len, struct config *out, char err[CONFIG_ERR_MAX])
{
    struct config__ctx ctx = { .cfg = out, .err = err };
    memset(out, 0, sizeof(*out));
    err[0] = '\0';

    if (len > CONFIG__FILE_MAX) {
        config__err(&ctx, "file is larger than 4 MiB");
        return -EFBIG;
    }
    size_t i = 0;
    while (i < len && config__space(json[i]))
        i++;
    if (i == len)
        return config__err(&ctx, "file is empty");

    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, false);
    if (!root)
        return config__json_error(&ctx, json, len, end, NULL);

    int rc = 0;
    for (i = end ? (size_t)(end - json) : len; i < len && config__space(json[i]); i++)
        ;
    const char *nul;
    if (i < len)
        rc = config__json_error(&ctx, json, len, json + i, "text after the end");
    /* cJSON decodes "\u0000" into a NUL that silently cuts the string short
     * (an id "CP01\u0000x" would become "CP01"): refuse it. */
    else if ((nul = oadr_json_nul_escape(json, len)))
        rc = config__json_error(&ctx, json, len, nul, "\\u0000 is not allowed");
    else if (!cJSON_IsObject(root))
        rc = config__err(&ctx, "top level: must be a JSON object");
    else if (!(rc = config__defaults(&config__root_object, (char *)out)) &&
             !(rc = config__walk(&ctx, root, &config__root_object, (char *)out)))
        rc = config__check(&ctx);

    config__wipe(root);
    cJSON_Delete(root);
    if (rc) {
        if (rc == -ENOMEM && !err[0])
            config__err(&ctx, "out of memory");
        config_free(out);
    }
    return rc;
}

int config_read_file(const char *path, char **text, size_t *text_len, char err[CONFIG_ERR_MAX])
{
    *text = NULL;
    *text_len = 0;
    err[0] = '\0';
    FILE *f = fopen(path, "re");
    if (!f) {
        int e = errno;
        snprintf(err, CONFIG_ERR_MAX, "cannot read %s: %s", path, strerror(e));
        return -e;
    }
    /* Read one byte past the limit to tell "too large" from "just fits";
     * pipes (-c /dev/stdin) have no size to ask for. */
    size_t cap = 0, len = 0;
    char *buf = NULL;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 16384;
            if (ncap > CONFIG__FILE_MAX + 1)
                ncap = CONFIG__FILE_MAX + 1;
            if (ncap == cap)
                break;
            char *nbuf = malloc(ncap);
            if (!nbuf) {
                rc = -ENOMEM;
                break;
            }
            if (buf) {
                memcpy(nbuf, buf, len);
                OPENSSL_cleanse(buf, len);
            }
            free(buf);
            buf = nbuf;
            cap = ncap;
        }
        errno = 0;
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f))
                rc = errno ? -errno : -EIO;
            break;
        }
    }
    fclose(f);

    if (!rc && len > CONFIG__FILE_MAX)
        rc = -EFBIG;
    if (rc == -ENOMEM)
        snprintf(err, CONFIG_ERR_MAX, "cannot read %s: out of memory", path);
    else if (rc == -EFBIG)
        snprintf(err, CONFIG_ERR_MAX, "file is larger than 4 MiB");
    else if (rc)
        snprintf(err, CONFIG_ERR_MAX, "cannot read %s: %s", path, strerror(-rc));
    if (rc) {
        config_free_text(buf, len);
        return rc;
    }
    *text = buf;
    *text_len = len;
    return 0;
}

void config_free_text(char *text, size_t len)
{
    if (text) {
        OPENSSL_cleanse(text, len);
        free(text);
    }
}

int config_load(const char *path, struct config *out, char err[CONFIG_ERR_MAX])
{
    memset(out, 0, sizeof(*out));
    char *text;
    size_t len;
    int rc = config_read_file(path, &text, &len, err);
    if (rc == 0)
        rc = config_parse(text ? text : "", len, out, err);
    config_free_text(text, len);
    return rc;
}

static void config__free_secret(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void config_free(struct config *cfg)
{
    if (!cfg)
        return;
    free(cfg->site.timezone);
    free(cfg->site.schedule);
    free(cfg->listen.address);
    free(cfg->listen.path);
    free(cfg->upstream.url);
    free(cfg->upstream.ca_file);
    for (size_t i = 0; i < cfg->n_chargers; i++) {
        config__free_secret(cfg->chargers[i].password_hash);
        config__free_secret(cfg->chargers[i].upstream_password);
    }
    config__free_secret(cfg->charger_defaults.password_hash);
    config__free_secret(cfg->charger_defaults.upstream_password);
    config__free_tls(cfg); /* before the chargers it reads */
    free(cfg->chargers);
    free(cfg->charger_index);
    free(cfg->offline.local_list);
    free(cfg->aggregate.vendor);
    free(cfg->aggregate.model);
    free(cfg->aggregate.id_token_type);
    free(cfg->state_dir);
    free(cfg->template_dir);
    config__free_meters(cfg->meters, cfg->n_meters);
    config__free_openadr(&cfg->openadr);
    config__free_status(&cfg->status);
    memset(cfg, 0, sizeof(*cfg));
}

static int config__cmp_key(const void *key, const void *elem)
{
    const struct config_charger *const *ch = elem;
    return strcmp(key, (*ch)->id);
}

const struct config_charger *config_find_charger(const struct config *cfg, const char *id)
{
    if (!cfg || !id)
        return NULL;
    if (cfg->charger_index) {
        const struct config_charger *const *hit =
            bsearch(id, cfg->charger_index, cfg->n_chargers, sizeof(*cfg->charger_index),
                    config__cmp_key);
        return hit ? *hit : NULL;
    }
    /* A config built by hand (tests of other components) has no index. */
    for (size_t i = 0; i < cfg->n_chargers; i++) {
        if (strcmp(cfg->chargers[i].id, id) == 0)
            return &cfg->chargers[i];
    }
    return NULL;
}

/* The meters[] array: Modbus devices (TCP or a shared RTU line), their roles,
 * the transformer's rating and derating curve, and the meter rules of the
 * check pass. Register maps and templates are config_registers.c's.
 * config/README.md documents the same keys; keep the two in step. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"

#define KEY(base, key, ty, field, ...) \
    { .name = key, .type = CONFIG__##ty, .off = offsetof(base, field), __VA_ARGS__ }

double config_derating_percent(const struct config_meter *m, double temp_c)
{
    if (isnan(temp_c))
        return NAN;
    if (!m || m->n_derating == 0 || temp_c < m->derating[0].temp_c)
        return 100;
    const struct config_derating_point *p = m->derating;
    for (size_t i = 1; i < m->n_derating; i++) {
        if (temp_c < p[i].temp_c) {
            double f = (temp_c - p[i - 1].temp_c) / (p[i].temp_c - p[i - 1].temp_c);
            return p[i - 1].percent + f * (p[i].percent - p[i - 1].percent);
        }
    }
    return p[m->n_derating - 1].percent;
}

/* --- one meter ------------------------------------------------------------ */

static const struct config__name config__roles[] = {
    { "grid", CONFIG_METER_GRID },
    { "transformer", CONFIG_METER_TRANSFORMER },
    { "ev_submeter", CONFIG_METER_EV_SUBMETER },
    { 0 },
};
static const struct config__name config__parities[] = {
    { "none", CONFIG_PARITY_NONE }, { "even", CONFIG_PARITY_EVEN }, { "odd", CONFIG_PARITY_ODD },
    { 0 },
};

/* The rates termios can set: libmodbus falls back to 9600 for any other. */
static const int config__bauds[] = { 1200,   2400,   4800,   9600,   19200,  38400, 57600,
                                     115200, 230400, 460800, 500000, 576000, 921600 };

static int config__check_device(struct config__ctx *ctx, char *s)
{
    if (s[0] != '/')
        return config__fail(ctx, "must be an absolute path like \"/dev/ttyUSB0\"");
    return 0;
}

static int config__parse_meter_name(struct config__ctx *ctx, cJSON *item, void *field)
{
    if (!cJSON_IsString(item) || !item->valuestring)
        return config__fail(ctx, "must be a string");
    size_t len = strlen(item->valuestring);
    if (len < 1 || len > CONFIG_METER_NAME_MAX)
        return config__fail(ctx, "must be 1 to %d characters", CONFIG_METER_NAME_MAX);
    if (!config__name_ok(item->valuestring))
        return config__fail(ctx, "may only contain letters, digits and ._-");
    memcpy(field, item->valuestring, len + 1);
    return 0;
}

static const struct config__key config__derating_keys[] = {
    KEY(struct config_derating_point, "temp_c", DBL, temp_c, .flags = CONFIG__REQUIRED,
        .min = -50, .max = 250),
    KEY(struct config_derating_point, "percent", DBL, percent, .flags = CONFIG__REQUIRED,
        .min = 0, .max = 100),
    { 0 },
};
static const struct config__object config__derating_object = { .keys = config__derating_keys };

static int config__parse_derating(struct config__ctx *ctx, cJSON *item, void *field)
{
    struct config_meter *m =
        (struct config_meter *)((char *)field - offsetof(struct config_meter, derating));
    if (!cJSON_IsArray(item))
        return config__fail(ctx, "must be an array");
    int n = cJSON_GetArraySize(item);
    if (n > CONFIG_DERATING_MAX)
        return config__fail(ctx, "at most %d points", CONFIG_DERATING_MAX);
    if (n == 0)
        return 0;
    m->derating = calloc((size_t)n, sizeof(*m->derating));
    if (!m->derating)
        return -ENOMEM;
    m->n_derating = (size_t)n;
    size_t i = 0;
    for (cJSON *e = item->child; e; e = e->next, i++) {
        struct config_derating_point *p = &m->derating[i];
        size_t saved = config__push_index(ctx, i);
        int rc = config__walk(ctx, e, &config__derating_object, (char *)p);
        if (!rc && i > 0 && p->temp_c <= p[-1].temp_c) {
            size_t inner = config__push(ctx, "temp_c");
            rc = config__fail(ctx, "must be above the previous point's (%.15g)", p[-1].temp_c);
            config__pop(ctx, inner);
        }
        config__pop(ctx, saved);
        if (rc)
            return rc;
    }
    return 0;
}

static const struct config__key config__tcp_keys[] = {
    KEY(struct config_meter, "host", STR, tcp.host, .flags = CONFIG__REQUIRED, .min = 1,
        .max = 253, .check = config__check_address),
    KEY(struct config_meter, "port", INT, tcp.port, .min = 1, .max = 65535, .def = 502),
    { 0 },
};

static int config__rtu_finish(struct config__ctx *ctx, const cJSON *obj, void *base)
{
    const struct config_meter *m = base;
    size_t n = sizeof(config__bauds) / sizeof(config__bauds[0]);
    for (size_t i = 0; i < n; i++) {
        if (m->rtu.baud == config__bauds[i])
            return 0;
    }
    char list[160] = "";
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof(list); i++) {
        int w = snprintf(list + used, sizeof(list) - used, "%s%d", i ? ", " : "",
                         config__bauds[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    size_t saved = config__push(ctx, "baud");
    int rc = config__fail(ctx, "must be one of %s", list);
    config__pop(ctx, saved);
    return rc;
}

static const struct config__key config__rtu_keys[] = {
    KEY(struct config_meter, "device", STR, rtu.device, .flags = CONFIG__REQUIRED, .min = 1,
        .max = CONFIG__PATHNAME_MAX, .check = config__check_device),
    KEY(struct config_meter, "baud", INT, rtu.baud, .min = 1200, .max = 921600, .def = 9600),
    KEY(struct config_meter, "parity", ENUM, rtu.parity, .names = config__parities,
        .def = CONFIG_PARITY_NONE),
    KEY(struct config_meter, "data_bits", INT, rtu.data_bits, .min = 7, .max = 8, .def = 8),
    KEY(struct config_meter, "stop_bits", INT, rtu.stop_bits, .min = 1, .max = 2, .def = 1),
    { 0 },
};

static const struct config__object config__tcp_object = { .keys = config__tcp_keys };
static const struct config__object config__rtu_object = {
    .keys = config__rtu_keys, .finish = config__rtu_finish,
};

/* Rows run in order: template before registers, so the overrides land on the
 * template's map. tcp and rtu share the meter's base (offset 0). */
static const struct config__key config__meter_keys[] = {
    KEY(struct config_meter, "name", CUSTOM, name, .flags = CONFIG__REQUIRED,
        .parse = config__parse_meter_name),
    KEY(struct config_meter, "role", ENUM, role, .flags = CONFIG__REQUIRED,
        .names = config__roles),
    KEY(struct config_meter, "template", CUSTOM, template_name, .parse = config__parse_template),
    { .name = "tcp", .type = CONFIG__OBJECT, .child = &config__tcp_object },
    { .name = "rtu", .type = CONFIG__OBJECT, .child = &config__rtu_object },
    KEY(struct config_meter, "unit_id", INT, unit_id, .min = 0, .max = 247, .def = 1),
    KEY(struct config_meter, "poll_ms", INT, poll_ms, .min = 100, .max = 60000, .def = 1000),
    KEY(struct config_meter, "timeout_ms", INT, timeout_ms, .min = 50, .max = 10000, .def = 500),
    KEY(struct config_meter, "retries", INT, retries, .min = 0, .max = 5, .def = 1),
    KEY(struct config_meter, "registers", CUSTOM, registers, .parse = config__parse_overrides),
    KEY(struct config_meter, "rating_kva", DBL, rating_kva, .flags = CONFIG__MIN_EXCL, .min = 0,
        .max = 1000000, .def = NAN),
    KEY(struct config_meter, "derating", CUSTOM, derating, .parse = config__parse_derating),
    { 0 },
};

static int config__fail_at(struct config__ctx *ctx, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int config__fail_at(struct config__ctx *ctx, const char *key, const char *fmt, ...)
{
    char msg[CONFIG_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t saved = key ? config__push(ctx, key) : ctx->plen;
    int rc = config__fail(ctx, "%s", msg);
    config__pop(ctx, saved);
    return rc;
}

static bool config__has(const struct config_meter *m, enum config_quantity q)
{
    return m->registers[q].present;
}

static bool config__has3(const struct config_meter *m, enum config_quantity first)
{
    return config__has(m, first) && config__has(m, first + 1) && config__has(m, first + 2);
}

static const char *config__role_name(enum config_meter_role r)
{
    for (const struct config__name *n = config__roles; n->name; n++) {
        if (n->value == (int)r)
            return n->name;
    }
    return "?";
}

static int config__meter_finish(struct config__ctx *ctx, const cJSON *obj, void *base)
{
    struct config_meter *m = base;
    bool tcp = cJSON_GetObjectItemCaseSensitive(obj, "tcp") != NULL;
    bool rtu = cJSON_GetObjectItemCaseSensitive(obj, "rtu") != NULL;
    if (!tcp && !rtu)
        return config__fail(ctx, "needs tcp or rtu");
    if (tcp && rtu)
        return config__fail_at(ctx, "rtu", "cannot be used together with tcp");
    m->transport = tcp ? CONFIG_MODBUS_TCP : CONFIG_MODBUS_RTU;
    if (rtu && m->unit_id == 0)
        return config__fail_at(ctx, "unit_id", "0 is the broadcast address on RTU (use 1 to 247)");

    bool any = false;
    for (int q = 0; q < CONFIG_Q_COUNT; q++)
        any = any || m->registers[q].present;
    if (!any)
        return config__fail(ctx, "needs a template or registers");

    bool rating = cJSON_GetObjectItemCaseSensitive(obj, "rating_kva") != NULL;
    bool derating = cJSON_GetObjectItemCaseSensitive(obj, "derating") != NULL;
    if (m->role != CONFIG_METER_TRANSFORMER) {
        if (rating)
            return config__fail_at(ctx, "rating_kva", "only for role transformer");
        if (derating)
            return config__fail_at(ctx, "derating", "only for role transformer");
        if (!config__has(m, CONFIG_Q_POWER) && !config__has3(m, CONFIG_Q_POWER_L1) &&
            !config__has3(m, CONFIG_Q_CURRENT_L1))
            return config__fail_at(ctx, "registers",
                                   "role %s needs power, power_l1 to power_l3, or "
                                   "current_l1 to current_l3",
                                   config__role_name(m->role));
        return 0;
    }
    if (!rating)
        return config__fail_at(ctx, "rating_kva", "is required for a transformer");
    bool temp = config__has(m, CONFIG_Q_OIL_TEMP_C) || config__has(m, CONFIG_Q_WINDING_TEMP_C);
    if (!temp && !config__has(m, CONFIG_Q_LOAD_KVA))
        return config__fail_at(ctx, "registers",
                               "role transformer needs oil_temp_c, winding_temp_c or load_kva");
    if (m->n_derating && !temp)
        return config__fail_at(ctx, "derating", "needs oil_temp_c or winding_temp_c in the "
                                                "register map");
    return 0;
}

static const struct config__object config__meter_object = {
    .keys = config__meter_keys, .finish = config__meter_finish,
};

/* Names are unique, and one meter each for the roles that describe the site
 * as a whole. Checked as each entry parses, so the message names it. */
static int config__meter_unique(struct config__ctx *ctx, const struct config_meter *meters,
                                size_t i)
{
    const struct config_meter *m = &meters[i];
    for (size_t j = 0; j < i; j++) {
        if (strcmp(meters[j].name, m->name) == 0)
            return config__fail_at(ctx, "name", "duplicate \"%s\"", m->name);
        if (m->role != CONFIG_METER_EV_SUBMETER && meters[j].role == m->role)
            return config__fail_at(ctx, "role", "only one %s meter is allowed (meters[%zu] is one)",
                                   config__role_name(m->role), j);
    }
    return 0;
}

int config__parse_meters(struct config__ctx *ctx, cJSON *item, void *field)
{
    struct config *cfg = ctx->cfg;
    if (!cJSON_IsArray(item))
        return config__fail(ctx, "must be an array");
    int n = cJSON_GetArraySize(item);
    if (n > CONFIG_METERS_MAX)
        return config__fail(ctx, "at most %d meters", CONFIG_METERS_MAX);
    if (n == 0)
        return 0;
    cfg->meters = calloc((size_t)n, sizeof(*cfg->meters));
    if (!cfg->meters)
        return -ENOMEM;
    size_t i = 0;
    for (cJSON *e = item->child; e; e = e->next, i++) {
        /* Counted before it is filled, so that config_free releases what a
         * failing entry already allocated. */
        struct config_meter *m = &cfg->meters[i];
        cfg->n_meters = i + 1;
        size_t saved = config__push_index(ctx, i);
        int rc = config__defaults(&config__meter_object, (char *)m);
        if (!rc)
            rc = config__walk(ctx, e, &config__meter_object, (char *)m);
        if (!rc)
            rc = config__meter_unique(ctx, cfg->meters, i);
        config__pop(ctx, saved);
        if (rc)
            return rc;
    }
    return 0;
}

void config__free_meters(struct config_meter *meters, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(meters[i].template_name);
        free(meters[i].tcp.host);
        free(meters[i].rtu.device);
        free(meters[i].derating);
    }
    free(meters);
}

/* --- the check pass ------------------------------------------------------- */

static const char *config__parity_name(enum config_parity p)
{
    return config__parities[p].name;
}

/* Meters on one serial line share its settings (one port, one speed) and need
 * distinct unit ids; two entries for one TCP device would poll it twice. */
static int config__check_buses(struct config__ctx *ctx)
{
    const struct config *cfg = ctx->cfg;
    for (size_t i = 0; i < cfg->n_meters; i++) {
        const struct config_meter *m = &cfg->meters[i];
        for (size_t j = 0; j < i; j++) {
            const struct config_meter *o = &cfg->meters[j];
            if (m->transport != o->transport)
                continue;
            if (m->transport == CONFIG_MODBUS_TCP) {
                if (strcmp(m->tcp.host, o->tcp.host) == 0 && m->tcp.port == o->tcp.port &&
                    m->unit_id == o->unit_id)
                    return config__err(ctx, "meters[%zu].unit_id: meters[%zu] already reads "
                                            "unit %d at %s port %d",
                                       i, j, m->unit_id, m->tcp.host, m->tcp.port);
                continue;
            }
            if (strcmp(m->rtu.device, o->rtu.device) != 0)
                continue;
            if (m->rtu.baud != o->rtu.baud)
                return config__err(ctx, "meters[%zu].rtu.baud: %d differs from meters[%zu] on "
                                        "the same bus (%d)",
                                   i, m->rtu.baud, j, o->rtu.baud);
            if (m->rtu.parity != o->rtu.parity)
                return config__err(ctx, "meters[%zu].rtu.parity: \"%s\" differs from meters[%zu] "
                                        "on the same bus (\"%s\")",
                                   i, config__parity_name(m->rtu.parity), j,
                                   config__parity_name(o->rtu.parity));
            if (m->rtu.data_bits != o->rtu.data_bits)
                return config__err(ctx, "meters[%zu].rtu.data_bits: %d differs from meters[%zu] "
                                        "on the same bus (%d)",
                                   i, m->rtu.data_bits, j, o->rtu.data_bits);
            if (m->rtu.stop_bits != o->rtu.stop_bits)
                return config__err(ctx, "meters[%zu].rtu.stop_bits: %d differs from meters[%zu] "
                                        "on the same bus (%d)",
                                   i, m->rtu.stop_bits, j, o->rtu.stop_bits);
            if (m->unit_id == o->unit_id)
                return config__err(ctx, "meters[%zu].unit_id: %d is already used by meters[%zu] "
                                        "on %s",
                                   i, m->unit_id, j, m->rtu.device);
        }
    }
    return 0;
}

int config__check_meters(struct config__ctx *ctx)
{
    const struct config *cfg = ctx->cfg;
    int rc = config__check_buses(ctx);
    if (rc)
        return rc;
    for (size_t i = 0; i < cfg->n_meters; i++) {
        const struct config_meter *m = &cfg->meters[i];
        /* A grid meter polled less often than it goes stale would always be. */
        if (m->role == CONFIG_METER_GRID && (double)cfg->site.meter_stale_s * 1000 <= m->poll_ms)
            return config__err(ctx, "site.meter_stale_s: %d s is not longer than "
                                    "meters[%zu].poll_ms (%d ms); the grid meter would always "
                                    "be stale",
                               cfg->site.meter_stale_s, i, m->poll_ms);
    }
    return 0;
}

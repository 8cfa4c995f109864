/* Meter values in relayed traffic: MeterValues / transactionData (1.6) and
 * MeterValues / TransactionEvent (2.0.1) samples, validated against the
 * official schemas' enums (ocpp-rpc's ocpp1_6.json / ocpp2_0_1.json, in their
 * order) and reduced to what the balancer reads: current per phase, active
 * power, the energy register.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "ocpp_msg.h"
#include "ocpp_msg_util.h"

#define N_(a) (sizeof(a) / sizeof((a)[0]))

static const char *const meter__measurand16[] = {
    "Energy.Active.Export.Register", "Energy.Active.Import.Register",
    "Energy.Reactive.Export.Register", "Energy.Reactive.Import.Register",
    "Energy.Active.Export.Interval", "Energy.Active.Import.Interval",
    "Energy.Reactive.Export.Interval", "Energy.Reactive.Import.Interval",
    "Power.Active.Export", "Power.Active.Import", "Power.Offered", "Power.Reactive.Export",
    "Power.Reactive.Import", "Power.Factor", "Current.Import", "Current.Export",
    "Current.Offered", "Voltage", "Frequency", "Temperature", "SoC", "RPM",
};
static const char *const meter__measurand201[] = {
    "Current.Export", "Current.Import", "Current.Offered", "Energy.Active.Export.Register",
    "Energy.Active.Import.Register", "Energy.Reactive.Export.Register",
    "Energy.Reactive.Import.Register", "Energy.Active.Export.Interval",
    "Energy.Active.Import.Interval", "Energy.Active.Net", "Energy.Reactive.Export.Interval",
    "Energy.Reactive.Import.Interval", "Energy.Reactive.Net", "Energy.Apparent.Net",
    "Energy.Apparent.Import", "Energy.Apparent.Export", "Frequency", "Power.Active.Export",
    "Power.Active.Import", "Power.Factor", "Power.Offered", "Power.Reactive.Export",
    "Power.Reactive.Import", "SoC", "Voltage",
};
static const char *const meter__phase[] = {
    "L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1",
};
static const char *const meter__context[] = {
    "Interruption.Begin", "Interruption.End", "Sample.Clock", "Sample.Periodic",
    "Transaction.Begin", "Transaction.End", "Trigger", "Other",
};
static const char *const meter__location[] = { "Cable", "EV", "Inlet", "Outlet", "Body" };
static const char *const meter__unit16[] = {
    "Wh", "kWh", "varh", "kvarh", "W", "kW", "VA", "kVA", "var", "kvar", "A", "V", "K",
    "Celcius", "Celsius", "Fahrenheit", "Percent",
};
static const char *const meter__format16[] = { "Raw", "SignedData" };

/* The units understood for the quantities the balancer reads. Absent, a
 * measurand's unit is its base one (A, W, Wh); 2.0.1 adds a multiplier. */
static const struct {
    const char *name;
    enum ocpp_msg__qty qty;
    double scale;
} meter__units[] = {
    { "A", OCPP_MSG__Q_CURRENT, 1 },
    { "W", OCPP_MSG__Q_POWER, 1 },
    { "kW", OCPP_MSG__Q_POWER, 1000 },
    { "Wh", OCPP_MSG__Q_ENERGY, 1 },
    { "kWh", OCPP_MSG__Q_ENERGY, 1000 },
};

static enum ocpp_msg__qty meter__qty_of(const char *measurand)
{
    if (strcmp(measurand, "Current.Import") == 0)
        return OCPP_MSG__Q_CURRENT;
    if (strcmp(measurand, "Power.Active.Import") == 0)
        return OCPP_MSG__Q_POWER;
    if (strcmp(measurand, "Energy.Active.Import.Register") == 0)
        return OCPP_MSG__Q_ENERGY;
    return OCPP_MSG__Q_OTHER;
}

bool ocpp_msg__sane(enum ocpp_msg__qty q, double v)
{
    if (!isfinite(v))
        return false;
    switch (q) {
    case OCPP_MSG__Q_CURRENT: return fabs(v) <= 10000.0;
    case OCPP_MSG__Q_POWER: return fabs(v) <= 10e6;
    case OCPP_MSG__Q_ENERGY: return v >= 0 && v <= 1e12;
    default: return false;
    }
}

/* What one meterValue holds; merged into the observation at its end so that
 * "no phases in this reading" can be told apart. */
struct meter__reading {
    double phase[3][3]; /* [qty-1][L1..L3] */
    double plain[3];    /* [qty-1], without phase */
    bool phased_current;
};

static void meter__reading_init(struct meter__reading *r)
{
    for (int q = 0; q < 3; q++) {
        r->plain[q] = NAN;
        for (int i = 0; i < 3; i++)
            r->phase[q][i] = NAN;
    }
    r->phased_current = false;
}

static void meter__reading_merge(const struct meter__reading *r,
                                   struct ocpp_observation *out)
{
    double *totals[2] = { &out->power_w, &out->energy_wh };

    for (int i = 0; i < 3; i++)
        if (!isnan(r->phase[0][i]))
            out->current_a[i] = r->phase[0][i];
    if (!r->phased_current && !isnan(r->plain[0]))
        out->current_a[0] = r->plain[0];
    for (int q = 1; q < 3; q++) {
        double sum = 0;
        bool any = false;

        if (!isnan(r->plain[q])) {
            *totals[q - 1] = r->plain[q];
            continue;
        }
        for (int i = 0; i < 3; i++) {
            if (!isnan(r->phase[q][i])) {
                sum += r->phase[q][i];
                any = true;
            }
        }
        if (any)
            *totals[q - 1] = sum;
    }
}

/* A 1.6 sample's value and unit. 1 when it carries no number to read. */
static int meter__value16(const cJSON *sv, double *value, const char **unit)
{
    const char *text;
    int fmt = 0, u, rc;

    rc = ocpp_msg__enum(sv, "format", meter__format16, N_(meter__format16), &fmt);
    if (rc < 0)
        return rc;
    rc = ocpp_msg__enum(sv, "unit", meter__unit16, N_(meter__unit16), &u);
    if (rc < 0)
        return rc;
    *unit = rc == 0 ? meter__unit16[u] : NULL;
    /* No maxLength in 1.6: signed (OCMF) values can be long. */
    rc = ocpp_msg__need(ocpp_msg__str(sv, "value", OCPP_MSG_PAYLOAD_MAX, &text));
    if (rc < 0)
        return rc;
    if (fmt == 1) /* SignedData: an opaque blob, not a number */
        return 1;
    return ocpp_msg__parse_decimal(text, value) == 0 ? 0 : 1;
}

/* A 2.0.1 sample's value (multiplier applied) and unit. 1 when unusable. */
static int meter__value201(const cJSON *sv, double *value, const char **unit)
{
    static const double pow10[] = { 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1,
                                    1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9 };
    const cJSON *uom;
    long long mult = 0;
    int rc;

    rc = ocpp_msg__need(ocpp_msg__num(sv, "value", value));
    if (rc < 0)
        return rc;
    *unit = NULL;
    rc = ocpp_msg__child(sv, "unitOfMeasure", cJSON_Object, &uom);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        rc = ocpp_msg__str(uom, "unit", 20, unit);
        if (rc < 0)
            return rc;
        rc = ocpp_msg__int(uom, "multiplier", -2147483648LL, 2147483647LL, &mult);
        if (rc < 0)
            return rc;
    }
    if (mult < -9 || mult > 9)
        return 1;
    *value *= pow10[mult + 9];
    return 0;
}

static int meter__sample(enum ocpp_version v, const cJSON *sv, struct meter__reading *r)
{
    const char *const *measurands = v == OCPP_16 ? meter__measurand16 : meter__measurand201;
    size_t n_measurands = v == OCPP_16 ? N_(meter__measurand16) : N_(meter__measurand201);
    const char *measurand = "Energy.Active.Import.Register", *unit = NULL;
    int m, phase = -1, ignored, rc;
    enum ocpp_msg__qty q;
    double value = NAN, scale = 0;

    if (!cJSON_IsObject(sv))
        return -EPROTO;
    rc = ocpp_msg__enum(sv, "measurand", measurands, n_measurands, &m);
    if (rc < 0)
        return rc;
    if (rc == 0)
        measurand = measurands[m];
    if ((rc = ocpp_msg__enum(sv, "phase", meter__phase, N_(meter__phase), &phase)) < 0 ||
        (rc = ocpp_msg__enum(sv, "context", meter__context, N_(meter__context),
                             &ignored)) < 0 ||
        (rc = ocpp_msg__enum(sv, "location", meter__location, N_(meter__location),
                             &ignored)) < 0)
        return rc;
    rc = v == OCPP_16 ? meter__value16(sv, &value, &unit) : meter__value201(sv, &value, &unit);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    q = meter__qty_of(measurand);
    if (q == OCPP_MSG__Q_OTHER)
        return 0;
    for (size_t i = 0; i < N_(meter__units); i++) {
        if (meter__units[i].qty != q)
            continue;
        if (unit ? strcmp(unit, meter__units[i].name) == 0 : meter__units[i].scale == 1)
            scale = meter__units[i].scale;
    }
    value *= scale;
    if (scale == 0 || !ocpp_msg__sane(q, value))
        return 0;
    if (phase < 0) {
        r->plain[q - 1] = value;
    } else if (phase != 3 && phase <= 6) { /* L1..L3, L1-N..L3-N; not N or L-L */
        r->phase[q - 1][phase < 3 ? phase : phase - 4] = value;
        if (q == OCPP_MSG__Q_CURRENT)
            r->phased_current = true;
    }
    return 0;
}

int ocpp_msg__meter_values(enum ocpp_version v, const cJSON *arr, bool take_time,
                           struct ocpp_observation *out)
{
    const cJSON *mv;

    cJSON_ArrayForEach(mv, arr) {
        struct meter__reading r;
        const cJSON *svs, *sv;
        time_t t;
        int rc;

        if (!cJSON_IsObject(mv))
            return -EPROTO;
        rc = ocpp_msg__time(mv, "timestamp", &t);
        if (rc < 0)
            return rc;
        if (rc == 0 && take_time)
            out->timestamp = t;
        rc = ocpp_msg__need(ocpp_msg__child(mv, "sampledValue", cJSON_Array, &svs));
        if (rc < 0)
            return rc;
        meter__reading_init(&r);
        cJSON_ArrayForEach(sv, svs) {
            rc = meter__sample(v, sv, &r);
            if (rc < 0)
                return rc;
        }
        meter__reading_merge(&r, out);
    }
    return 0;
}

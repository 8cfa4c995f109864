/* Unit tests of the OCPP payload readers and writers (proxy/ocpp_msg.c,
 * ocpp_observe.c, ocpp_profile.c, ocpp_caps.c).
 *
 * Payloads are written with single quotes for readability ('a' -> "a") and
 * every parse goes through a heap copy of exactly the payload's length,
 * without a NUL, so that under AddressSanitizer a read past len is caught.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <time.h>

#include "test.h"

#include "ocpp_msg.h"
#include "ocpp_msg_util.h"

/* 2024-05-01T10:00:00Z */
#define T0 ((time_t)1714557600)

/* A heap copy of exactly strlen(json) bytes with ' turned into ". */
static char *exact(const char *json, size_t *len)
{
    size_t n = strlen(json);
    char *p = malloc(n ? n : 1);

    if (!p)
        abort();
    for (size_t i = 0; i < n; i++)
        p[i] = json[i] == '\'' ? '"' : json[i];
    *len = n;
    return p;
}

static bool same_number(double a, double b)
{
    return isnan(a) ? isnan(b) : a == b;
}

static bool same_obs(const struct ocpp_observation *a, const struct ocpp_observation *b)
{
    for (int p = 0; p < 3; p++)
        if (!same_number(a->current_a[p], b->current_a[p]))
            return false;
    return a->kind == b->kind && a->connector == b->connector &&
           a->evse_connector == b->evse_connector && a->status == b->status &&
           same_number(a->power_w, b->power_w) && same_number(a->energy_wh, b->energy_wh) &&
           strcmp(a->transaction_id, b->transaction_id) == 0 && strcmp(a->id_tag, b->id_tag) == 0 &&
           same_number(a->ev_min_a, b->ev_min_a) && same_number(a->ev_max_a, b->ev_max_a) &&
           same_number(a->ev_energy_wh, b->ev_energy_wh) && a->ev_departure == b->ev_departure &&
           a->timestamp == b->timestamp;
}

static int frame_path_checks; /* how many obs() calls compared the two paths */

/* ocpp_observe_call on the payload; when the payload is valid JSON, the
 * relay's path too (ocpp_observe_frame on a CALL frame_parse accepted),
 * which must say exactly the same. */
static int obs(enum ocpp_version v, const char *action, const char *json,
               struct ocpp_observation *o)
{
    size_t n;
    char *p = exact(json, &n);
    int rc = ocpp_observe_call(v, action, p, n, o);
    char *text = malloc(n + 96);
    struct frame f;
    struct ocpp_observation framed;

    if (!text)
        abort();
    int m = snprintf(text, n + 96, "[2,\"m1\",\"%s\",%.*s]", action, (int)n, p);
    if (m > 0 && frame_parse(text, (size_t)m, &f) == FRAME_OK) {
        frame_path_checks++;
        if (ocpp_observe_frame(v, &f, &framed) != rc || !same_obs(&framed, o)) {
            fprintf(stderr, "the frame path differs for %s %s\n", action, json);
            rc = -EBADMSG;
        }
    }
    free(text);
    free(p);
    return rc;
}

static int answer(enum ocpp_version v, const char *action, const char *json,
                  struct ocpp_answer *a)
{
    size_t n;
    char *p = exact(json, &n);
    int rc = ocpp_observe_result(v, action, p, n, a);

    free(p);
    return rc;
}

static int set_profile(enum ocpp_version v, const char *json, time_t now,
                       struct ocpp_csms_profile *out)
{
    size_t n;
    char *p = exact(json, &n);
    int rc = ocpp_parse_set_profile(v, p, n, now, out);

    free(p);
    return rc;
}

static int clear_profile(enum ocpp_version v, const char *json, struct ocpp_clear_filter *out)
{
    size_t n;
    char *p = exact(json, &n);
    int rc = ocpp_parse_clear_profile(v, p, n, out);

    free(p);
    return rc;
}

static int reply(const char *json, enum ocpp_reply *out)
{
    size_t n;
    char *p = exact(json, &n);
    int rc = ocpp_parse_reply_status(p, n, out);

    free(p);
    return rc;
}

static int caps(enum ocpp_version v, const char *json, struct ocpp_caps *out)
{
    size_t n;
    char *p = exact(json, &n);
    int rc = ocpp_parse_caps(v, p, n, out);

    free(p);
    return rc;
}

/* Single quotes to double quotes, for comparing writer output. */
static const char *dq(const char *s)
{
    static char buf[4096];
    size_t i;

    for (i = 0; s[i] && i < sizeof buf - 1; i++)
        buf[i] = s[i] == '\'' ? '"' : s[i];
    buf[i] = '\0';
    return buf;
}

static int is_unknown_obs(const struct ocpp_observation *o)
{
    return o->kind == OCPP_OBS_NONE && o->connector == -1 && o->status == OCPP_ST_UNKNOWN &&
           isnan(o->current_a[0]) && isnan(o->current_a[1]) && isnan(o->current_a[2]) &&
           isnan(o->power_w) && isnan(o->energy_wh) && !o->transaction_id[0] &&
           !o->id_tag[0] && isnan(o->ev_min_a) && isnan(o->ev_max_a) &&
           isnan(o->ev_energy_wh) && o->ev_departure == 0 && o->timestamp == 0;
}

/* ------------------------------------------------------------------ helpers */

TEST(time_parse)
{
    time_t t;

    ASSERT_EQ(ocpp_msg__parse_time("2024-05-01T10:00:00Z", &t), 0);
    ASSERT_EQ(t, T0);
    ASSERT_EQ(ocpp_msg__parse_time("2024-05-01T10:00:00.123456Z", &t), 0);
    ASSERT_EQ(t, T0);
    ASSERT_EQ(ocpp_msg__parse_time("2024-05-01T15:30:00+05:30", &t), 0);
    ASSERT_EQ(t, T0);
    ASSERT_EQ(ocpp_msg__parse_time("2024-05-01T05:00:00.5-05:00", &t), 0);
    ASSERT_EQ(t, T0);
    ASSERT_EQ(ocpp_msg__parse_time("2024-05-01t10:00:00z", &t), 0);
    ASSERT_EQ(t, T0);
    ASSERT_EQ(ocpp_msg__parse_time("1970-01-01T00:00:00Z", &t), 0);
    ASSERT_EQ(t, 0);
    ASSERT_EQ(ocpp_msg__parse_time("2024-02-29T00:00:00Z", &t), 0);
    ASSERT_EQ(t, 1709164800);
    ASSERT_EQ(ocpp_msg__parse_time("2000-02-29T00:00:00Z", &t), 0);
    ASSERT_EQ(ocpp_msg__parse_time("9999-12-31T23:59:59Z", &t), 0);
    ASSERT_EQ(t, 253402300799LL);
    ASSERT_EQ(ocpp_msg__parse_time("2023-02-29T00:00:00Z", &t), -EPROTO);
    ASSERT_EQ(ocpp_msg__parse_time("1900-02-29T00:00:00Z", &t), -EPROTO);
    ASSERT_EQ(ocpp_msg__parse_time("2024-04-31T00:00:00Z", &t), -EPROTO);
    ASSERT_EQ(ocpp_msg__parse_time("2024-05-01T10:00:00", &t), -EPROTO);
    ASSERT_EQ(ocpp_msg__parse_time("2024-05-01 10:00:00Z", &t), -EPROTO);
    ASSERT_EQ(ocpp_msg__parse_time("2024-05-01T24:00:00Z", &t), -EPROTO);
    ASSERT_EQ(ocpp_msg__parse_time("2024-05-01T10:60:00Z", &t), -EPROTO);
    ASSERT_EQ(ocpp_msg__parse_time("2024-13-01T10:00:00Z", &t), -EPROTO);
    ASSERT_EQ(ocpp_msg__parse_time("2024-05-01T10:00:00.Z", &t), -EPROTO);
    ASSERT_EQ(ocpp_msg__parse_time("2024-05-01T10:00:00+0530", &t), -EPROTO);
    ASSERT_EQ(ocpp_msg__parse_time("2024-05-01T10:00:00Zjunk", &t), -EPROTO);
    ASSERT_EQ(ocpp_msg__parse_time("", &t), -EPROTO);
    ASSERT_EQ(ocpp_msg__parse_time("2024-5-1T10:00:00Z", &t), -EPROTO);
}

TEST(time_format)
{
    char s[21];
    time_t back;

    ASSERT_EQ(ocpp_msg__format_time(0, s), 0);
    ASSERT_STR_EQ(s, "1970-01-01T00:00:00Z");
    ASSERT_EQ(ocpp_msg__format_time(T0, s), 0);
    ASSERT_STR_EQ(s, "2024-05-01T10:00:00Z");
    ASSERT_EQ(ocpp_msg__format_time(253402300799LL, s), 0);
    ASSERT_STR_EQ(s, "9999-12-31T23:59:59Z");
    ASSERT_EQ(ocpp_msg__format_time(253402300800LL, s), -EINVAL);
    ASSERT_EQ(ocpp_msg__format_time(-1, s), -EINVAL);
    /* Every day of a few centuries, through leap years, survives both ways. */
    for (long long t = 0; t < 253402300799LL; t += 86399LL * 7 + 3601) {
        ASSERT_EQ(ocpp_msg__format_time((time_t)t, s), 0);
        ASSERT_EQ(ocpp_msg__parse_time(s, &back), 0);
        ASSERT_EQ(back, t);
    }
}

TEST(decimal_parse)
{
    static const struct { const char *s; double v; } ok[] = {
        { "12.5", 12.5 }, { "-3", -3 }, { "1e3", 1000 }, { " 7 ", 7 }, { "+0.5", 0.5 },
        { ".5", 0.5 }, { "5.", 5 }, { "0", 0 }, { "7360.000", 7360 }, { "1.5E-3", 0.0015 },
        { "00012", 12 }, { "123456789012345678901234", 1.2345678901234568e23 },
        { "0.30000000000000000000001", 0.3 },
    };
    static const char *const bad[] = {
        "", " ", "abc", "1e", "--1", "1.2.3", "0x10", "inf", "nan", "NaN", "1,5", ".", "-",
        "1 2", "12a", "e5",
    };
    double v;

    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ASSERT_EQ(ocpp_msg__parse_decimal(ok[i].s, &v), 0);
        ASSERT_DBL_NEAR(v, ok[i].v, fabs(ok[i].v) * 1e-15);
    }
    ASSERT_EQ(ocpp_msg__parse_decimal("12.5", &v), 0);
    ASSERT(v == 12.5);
    ASSERT_EQ(ocpp_msg__parse_decimal("7.3", &v), 0);
    ASSERT(v == 7.3); /* one correctly rounded division: the same double as the literal */
    ASSERT_EQ(ocpp_msg__parse_decimal("1e400", &v), 0);
    ASSERT(isinf(v));
    ASSERT_EQ(ocpp_msg__parse_decimal("1e-400", &v), 0);
    ASSERT(v == 0);
    ASSERT_EQ(ocpp_msg__parse_decimal("0e999999999999", &v), 0);
    ASSERT(v == 0);
    ASSERT_EQ(ocpp_msg__parse_decimal("-0.000", &v), 0);
    ASSERT(v == 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (ocpp_msg__parse_decimal(bad[i], &v) != -EPROTO)
            TEST__FAIL("\"%s\" parsed", bad[i]);
}

TEST(floor_tenths)
{
    ASSERT_EQ(ocpp_msg__floor_tenths(7.35), 73);
    ASSERT_EQ(ocpp_msg__floor_tenths(7.3), 73);
    ASSERT_EQ(ocpp_msg__floor_tenths(7.39999), 73);
    ASSERT_EQ(ocpp_msg__floor_tenths(7.299999999), 72);
    ASSERT_EQ(ocpp_msg__floor_tenths(0.3), 3);
    ASSERT_EQ(ocpp_msg__floor_tenths(0.05), 0);
    ASSERT_EQ(ocpp_msg__floor_tenths(0), 0);
    ASSERT_EQ(ocpp_msg__floor_tenths(16), 160);
    ASSERT_EQ(ocpp_msg__floor_tenths(-0.05), -1);
    /* Every exact tenth stays itself, however its double is rounded. */
    for (long long i = 0; i <= 200000; i++)
        if (ocpp_msg__floor_tenths((double)i / 10.0) != i)
            TEST__FAIL("%lld tenths floored to %lld", i, ocpp_msg__floor_tenths((double)i / 10.0));
    /* The double just below a tenth, whose product by 10 rounds up to the
     * integer: still the tenth below. */
    ASSERT_EQ(ocpp_msg__floor_tenths(0.8999999999999999), 8);
    ASSERT_EQ(ocpp_msg__floor_tenths(6.699999999999999), 66);
    for (long long i = 1; i <= 200000; i++) {
        double x = (double)i / 10.0;
        uint64_t bits;

        memcpy(&bits, &x, sizeof bits);
        bits--; /* the next double toward zero */
        memcpy(&x, &bits, sizeof x);
        if (ocpp_msg__floor_tenths(x) != i - 1)
            TEST__FAIL("%.17g floored to %lld tenths", x, ocpp_msg__floor_tenths(x));
    }
    /* And anything else goes down to the nearest tenth below, never up. */
    srand(42);
    for (int i = 0; i < 200000; i++) {
        double x = (double)rand() / RAND_MAX * 100000.0;
        long long n = ocpp_msg__floor_tenths(x);

        if (!((double)n / 10.0 <= x && (double)(n + 1) / 10.0 > x))
            TEST__FAIL("%.17g floored to %lld tenths", x, n);
    }
}

/* ------------------------------------------------------------ observe 1.6 */

TEST(observe16_boot)
{
    struct ocpp_observation o;

    ASSERT_EQ(obs(OCPP_16, "BootNotification",
                  "{'chargePointVendor':'ACME','chargePointModel':'X1'}", &o), 0);
    ASSERT_EQ(o.kind, OCPP_OBS_BOOT);
    ASSERT_EQ(o.connector, 0);
    ASSERT_EQ(obs(OCPP_16, "BootNotification", "[1]", &o), -EINVAL);
}

TEST(observe16_status)
{
    static const struct { const char *name; enum ocpp_status st; } map[] = {
        { "Available", OCPP_ST_AVAILABLE },         { "Preparing", OCPP_ST_PREPARING },
        { "Charging", OCPP_ST_CHARGING },           { "SuspendedEVSE", OCPP_ST_SUSPENDED_EVSE },
        { "SuspendedEV", OCPP_ST_SUSPENDED_EV },    { "Finishing", OCPP_ST_FINISHING },
        { "Reserved", OCPP_ST_RESERVED },           { "Unavailable", OCPP_ST_UNAVAILABLE },
        { "Faulted", OCPP_ST_FAULTED },
    };
    struct ocpp_observation o;
    char json[256];

    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        snprintf(json, sizeof json, "{'connectorId':2,'errorCode':'NoError','status':'%s',"
                 "'timestamp':'2024-05-01T10:00:00Z'}", map[i].name);
        ASSERT_EQ(obs(OCPP_16, "StatusNotification", json, &o), 0);
        ASSERT_EQ(o.kind, OCPP_OBS_STATUS);
        ASSERT_EQ(o.connector, 2);
        ASSERT_EQ(o.status, map[i].st);
        ASSERT_EQ(o.timestamp, T0);
    }
    ASSERT_EQ(obs(OCPP_16, "StatusNotification",
                  "{'connectorId':0,'errorCode':'NoError','status':'Available'}", &o), 0);
    ASSERT_EQ(o.connector, 0);
    ASSERT_EQ(o.timestamp, 0);
    /* Missing, wrong types, out of the enum, 2.0.1's words. */
    ASSERT_EQ(obs(OCPP_16, "StatusNotification", "{'errorCode':'NoError','status':'Charging'}",
                  &o), -EINVAL);
    ASSERT(is_unknown_obs(&o));
    ASSERT_EQ(obs(OCPP_16, "StatusNotification", "{'connectorId':1,'errorCode':'NoError'}", &o),
              -EINVAL);
    ASSERT_EQ(obs(OCPP_16, "StatusNotification", "{'connectorId':'1','status':'Charging'}", &o),
              -EPROTO);
    ASSERT_EQ(obs(OCPP_16, "StatusNotification", "{'connectorId':1.5,'status':'Charging'}", &o),
              -EPROTO);
    ASSERT_EQ(obs(OCPP_16, "StatusNotification", "{'connectorId':-1,'status':'Charging'}", &o),
              -EPROTO);
    ASSERT_EQ(obs(OCPP_16, "StatusNotification", "{'connectorId':null,'status':'Charging'}", &o),
              -EPROTO);
    ASSERT_EQ(obs(OCPP_16, "StatusNotification", "{'connectorId':1e30,'status':'Charging'}", &o),
              -EPROTO);
    ASSERT_EQ(obs(OCPP_16, "StatusNotification", "{'connectorId':1,'status':'charging'}", &o),
              -EPROTO);
    ASSERT_EQ(obs(OCPP_16, "StatusNotification", "{'connectorId':1,'status':'Occupied'}", &o),
              -EPROTO);
    ASSERT_EQ(obs(OCPP_16, "StatusNotification", "{'connectorId':1,'status':7}", &o), -EPROTO);
    ASSERT_EQ(obs(OCPP_16, "StatusNotification",
                  "{'connectorId':1,'status':'Charging','timestamp':'yesterday'}", &o), -EPROTO);
    ASSERT(is_unknown_obs(&o));
    /* 1.0 is an integer by JSON Schema's rules. */
    ASSERT_EQ(obs(OCPP_16, "StatusNotification", "{'connectorId':1.0,'status':'Charging'}", &o), 0);
    ASSERT_EQ(o.connector, 1);
}

TEST(observe16_start_stop)
{
    struct ocpp_observation o;

    ASSERT_EQ(obs(OCPP_16, "StartTransaction",
                  "{'connectorId':1,'idTag':'TAG-0001','meterStart':123456,"
                  "'timestamp':'2024-05-01T10:00:00Z','reservationId':3}", &o), 0);
    ASSERT_EQ(o.kind, OCPP_OBS_TX_START);
    ASSERT_EQ(o.connector, 1);
    ASSERT_STR_EQ(o.id_tag, "TAG-0001");
    ASSERT_DBL_NEAR(o.energy_wh, 123456, 0);
    ASSERT_EQ(o.timestamp, T0);
    ASSERT_STR_EQ(o.transaction_id, "");
    ASSERT_EQ(o.status, OCPP_ST_UNKNOWN);
    ASSERT_EQ(obs(OCPP_16, "StartTransaction", "{'idTag':'A','meterStart':0}", &o), -EINVAL);
    ASSERT_EQ(obs(OCPP_16, "StartTransaction",
                  "{'connectorId':1,'idTag':'123456789012345678901','meterStart':0}", &o), -EPROTO);
    ASSERT_EQ(obs(OCPP_16, "StartTransaction", "{'connectorId':1,'idTag':'A','meterStart':'0'}",
                  &o), -EPROTO);
    ASSERT_EQ(obs(OCPP_16, "StartTransaction", "{'connectorId':1,'idTag':'A','meterStart':0.5}",
                  &o), -EPROTO);
    ASSERT_EQ(obs(OCPP_16, "StartTransaction", "{'connectorId':1,'idTag':['A']}", &o), -EPROTO);
    /* A negative register is nonsense: ignored, not an error. */
    ASSERT_EQ(obs(OCPP_16, "StartTransaction", "{'connectorId':1,'idTag':'A','meterStart':-5}",
                  &o), 0);
    ASSERT(isnan(o.energy_wh));

    ASSERT_EQ(obs(OCPP_16, "StopTransaction",
                  "{'transactionId':987654,'meterStop':130000,'timestamp':'2024-05-01T10:00:00Z',"
                  "'reason':'EVDisconnected','idTag':'TAG-0001','transactionData':[{'timestamp':"
                  "'2024-05-01T09:59:00Z','sampledValue':[{'value':'15.5','measurand':"
                  "'Current.Import','phase':'L1'},{'value':'129000'}]}]}", &o), 0);
    ASSERT_EQ(o.kind, OCPP_OBS_TX_STOP);
    ASSERT_EQ(o.connector, -1);
    ASSERT_STR_EQ(o.transaction_id, "987654");
    ASSERT_STR_EQ(o.id_tag, "TAG-0001");
    ASSERT_DBL_NEAR(o.energy_wh, 130000, 0); /* meterStop wins over transactionData */
    ASSERT_DBL_NEAR(o.current_a[0], 15.5, 0);
    ASSERT_EQ(o.timestamp, T0);
    ASSERT_EQ(obs(OCPP_16, "StopTransaction", "{'transactionId':-42,'meterStop':1}", &o), 0);
    ASSERT_STR_EQ(o.transaction_id, "-42");
    ASSERT_EQ(obs(OCPP_16, "StopTransaction", "{'meterStop':1}", &o), -EINVAL);
    ASSERT_EQ(obs(OCPP_16, "StopTransaction", "{'transactionId':'42','meterStop':1}", &o), -EPROTO);
    ASSERT_EQ(obs(OCPP_16, "StopTransaction", "{'transactionId':4.2,'meterStop':1}", &o), -EPROTO);
    ASSERT_EQ(obs(OCPP_16, "StopTransaction", "{'transactionId':1e300,'meterStop':1}", &o),
              -EPROTO);
    ASSERT_EQ(obs(OCPP_16, "StopTransaction", "{'transactionId':1,'transactionData':{}}", &o),
              -EPROTO);
}

TEST(observe16_meter_values)
{
    struct ocpp_observation o;

    ASSERT_EQ(obs(OCPP_16, "MeterValues",
                  "{'connectorId':1,'transactionId':77,'meterValue':["
                  "{'timestamp':'2024-05-01T09:59:00Z','sampledValue':["
                  "{'value':'1.0','measurand':'Current.Import','phase':'L1','unit':'A'},"
                  "{'value':'99'}]},"
                  "{'timestamp':'2024-05-01T10:00:00Z','sampledValue':["
                  "{'value':'12.5','context':'Sample.Periodic','format':'Raw','measurand':"
                  "'Current.Import','phase':'L1','location':'Outlet','unit':'A'},"
                  "{'value':'12.25','measurand':'Current.Import','phase':'L2-N','unit':'A'},"
                  "{'value':'12','measurand':'Current.Import','phase':'L3','unit':'A'},"
                  "{'value':'3.5','measurand':'Current.Import','phase':'N','unit':'A'},"
                  "{'value':'7.36','measurand':'Power.Active.Import','unit':'kW'},"
                  "{'value':'12.345','measurand':'Energy.Active.Import.Register','unit':'kWh'},"
                  "{'value':'230.1','measurand':'Voltage','phase':'L1-N','unit':'V'},"
                  "{'value':'80','measurand':'SoC','unit':'Percent'}]}]}", &o), 0);
    ASSERT_EQ(o.kind, OCPP_OBS_METER);
    ASSERT_EQ(o.connector, 1);
    ASSERT_STR_EQ(o.transaction_id, "77");
    ASSERT_DBL_NEAR(o.current_a[0], 12.5, 1e-12);
    ASSERT_DBL_NEAR(o.current_a[1], 12.25, 1e-12);
    ASSERT_DBL_NEAR(o.current_a[2], 12, 1e-12);
    ASSERT_DBL_NEAR(o.power_w, 7360, 1e-9);
    ASSERT_DBL_NEAR(o.energy_wh, 12345, 1e-9);
    ASSERT_EQ(o.timestamp, T0);

    /* The default measurand is the energy register, in Wh; no transactionId. */
    ASSERT_EQ(obs(OCPP_16, "MeterValues", "{'connectorId':2,'meterValue':[{'timestamp':"
                  "'2024-05-01T10:00:00Z','sampledValue':[{'value':'4321'}]}]}", &o), 0);
    ASSERT_DBL_NEAR(o.energy_wh, 4321, 0);
    ASSERT_STR_EQ(o.transaction_id, "");
    ASSERT(isnan(o.power_w) && isnan(o.current_a[0]));

    /* An unphased current is L1 for a single-phase reading... */
    ASSERT_EQ(obs(OCPP_16, "MeterValues", "{'connectorId':1,'meterValue':[{'timestamp':"
                  "'2024-05-01T10:00:00Z','sampledValue':[{'value':'16.2','measurand':"
                  "'Current.Import'}]}]}", &o), 0);
    ASSERT_DBL_NEAR(o.current_a[0], 16.2, 1e-12);
    ASSERT(isnan(o.current_a[1]) && isnan(o.current_a[2]));
    /* ...but not beside phased ones, where it is some total or average. */
    ASSERT_EQ(obs(OCPP_16, "MeterValues", "{'connectorId':1,'meterValue':[{'timestamp':"
                  "'2024-05-01T10:00:00Z','sampledValue':[{'value':'48','measurand':"
                  "'Current.Import'},{'value':'16','measurand':'Current.Import','phase':'L2'}]}]}",
                  &o), 0);
    ASSERT(isnan(o.current_a[0]));
    ASSERT_DBL_NEAR(o.current_a[1], 16, 0);

    /* Per-phase power without a total: the sum. With a total: the total. */
    ASSERT_EQ(obs(OCPP_16, "MeterValues", "{'connectorId':1,'meterValue':[{'timestamp':"
                  "'2024-05-01T10:00:00Z','sampledValue':["
                  "{'value':'1000','measurand':'Power.Active.Import','phase':'L1-N','unit':'W'},"
                  "{'value':'1.5','measurand':'Power.Active.Import','phase':'L2-N','unit':'kW'},"
                  "{'value':'2000','measurand':'Power.Active.Import','phase':'L3-N'}]}]}", &o), 0);
    ASSERT_DBL_NEAR(o.power_w, 4500, 1e-9);
    ASSERT_EQ(obs(OCPP_16, "MeterValues", "{'connectorId':1,'meterValue':[{'timestamp':"
                  "'2024-05-01T10:00:00Z','sampledValue':["
                  "{'value':'1000','measurand':'Power.Active.Import','phase':'L1-N','unit':'W'},"
                  "{'value':'3300','measurand':'Power.Active.Import','unit':'W'}]}]}", &o), 0);
    ASSERT_DBL_NEAR(o.power_w, 3300, 0);

    /* The last sample wins, across meterValue entries too. */
    ASSERT_EQ(obs(OCPP_16, "MeterValues", "{'connectorId':1,'meterValue':["
                  "{'timestamp':'2024-05-01T10:00:00Z','sampledValue':[{'value':'10',"
                  "'measurand':'Power.Active.Import'},{'value':'20','measurand':"
                  "'Power.Active.Import'}]},{'timestamp':'2024-05-01T10:00:10Z','sampledValue':"
                  "[{'value':'30','measurand':'Power.Active.Import'}]}]}", &o), 0);
    ASSERT_DBL_NEAR(o.power_w, 30, 0);
    ASSERT_EQ(o.timestamp, T0 + 10);
}

TEST(observe16_meter_bad_values)
{
    static const char *const ignored[] = {
        "'value':'abc','measurand':'Current.Import'",
        "'value':'','measurand':'Current.Import'",
        "'value':'NaN','measurand':'Current.Import'",
        "'value':'inf','measurand':'Current.Import'",
        "'value':'1e400','measurand':'Current.Import'",
        "'value':'10001','measurand':'Current.Import'",
        "'value':'-10001','measurand':'Current.Import'",
        "'value':'16','measurand':'Current.Import','unit':'V'",
        "'value':'16','measurand':'Current.Import','unit':'W'",
        "'value':'16','measurand':'Current.Import','format':'SignedData'",
        "'value':'16','measurand':'Current.Import','phase':'L1-L2'",
        "'value':'16','measurand':'Current.Export'",
        "'value':'16','measurand':'Current.Offered'",
        "'value':'10000001','measurand':'Power.Active.Import'",
        "'value':'10001','measurand':'Power.Active.Import','unit':'kW'",
        "'value':'16','measurand':'Power.Active.Import','unit':'kWh'",
        "'value':'-1','measurand':'Energy.Active.Import.Register'",
        "'value':'2e12','measurand':'Energy.Active.Import.Register'",
        "'value':'5','measurand':'Energy.Active.Import.Register','unit':'W'",
    };
    static const char *const invalid[] = {
        "'value':16,'measurand':'Current.Import'",
        "'measurand':'Current.Import'",
        "'value':null,'measurand':'Current.Import'",
        "'value':'16','measurand':'Current.Importt'",
        "'value':'16','measurand':'Energy.Active.Net'", /* 2.0.1 only */
        "'value':'16','measurand':'Current.Import','unit':'mA'",
        "'value':'16','measurand':'Current.Import','phase':'L4'",
        "'value':'16','measurand':'Current.Import','context':'Sometimes'",
        "'value':'16','measurand':'Current.Import','location':'Moon'",
        "'value':'16','measurand':'Current.Import','format':'Cooked'",
        "'value':'16','measurand':5",
        "'value':'16','measurand':'Current.Import','unitOfMeasure':{'unit':'A'},'unit':7",
    };
    struct ocpp_observation o;
    char json[512];

    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++) {
        snprintf(json, sizeof json, "{'connectorId':1,'meterValue':[{'timestamp':"
                 "'2024-05-01T10:00:00Z','sampledValue':[{%s}]}]}", ignored[i]);
        if (obs(OCPP_16, "MeterValues", json, &o) != 0)
            TEST__FAIL("refused: %s", ignored[i]);
        if (!isnan(o.current_a[0]) || !isnan(o.power_w) || !isnan(o.energy_wh))
            TEST__FAIL("took a value from: %s", ignored[i]);
        ASSERT_EQ(o.kind, OCPP_OBS_METER);
    }
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        snprintf(json, sizeof json, "{'connectorId':1,'meterValue':[{'timestamp':"
                 "'2024-05-01T10:00:00Z','sampledValue':[{%s}]}]}", invalid[i]);
        int rc = obs(OCPP_16, "MeterValues", json, &o);
        if (rc != -EPROTO && rc != -EINVAL)
            TEST__FAIL("accepted (%d): %s", rc, invalid[i]);
        ASSERT(is_unknown_obs(&o));
    }
    /* Structure. */
    ASSERT_EQ(obs(OCPP_16, "MeterValues", "{'connectorId':1}", &o), -EINVAL);
    ASSERT_EQ(obs(OCPP_16, "MeterValues", "{'meterValue':[]}", &o), -EINVAL);
    ASSERT_EQ(obs(OCPP_16, "MeterValues", "{'connectorId':1,'meterValue':{}}", &o), -EPROTO);
    ASSERT_EQ(obs(OCPP_16, "MeterValues", "{'connectorId':1,'meterValue':[5]}", &o), -EPROTO);
    ASSERT_EQ(obs(OCPP_16, "MeterValues", "{'connectorId':1,'meterValue':[{'timestamp':"
                  "'2024-05-01T10:00:00Z'}]}", &o), -EINVAL);
    ASSERT_EQ(obs(OCPP_16, "MeterValues", "{'connectorId':1,'meterValue':[{'timestamp':"
                  "'2024-05-01T10:00:00Z','sampledValue':{}}]}", &o), -EPROTO);
    ASSERT_EQ(obs(OCPP_16, "MeterValues", "{'connectorId':1,'meterValue':[{'timestamp':"
                  "'2024-05-01T10:00:00Z','sampledValue':['16']}]}", &o), -EPROTO);
    ASSERT_EQ(obs(OCPP_16, "MeterValues", "{'connectorId':1,'meterValue':[{'timestamp':"
                  "'noon','sampledValue':[]}]}", &o), -EPROTO);
    ASSERT_EQ(obs(OCPP_16, "MeterValues", "{'connectorId':1,'transactionId':'7',"
                  "'meterValue':[]}", &o), -EPROTO);
    /* 1.6 values have no maxLength: a long signed (OCMF) value is skipped,
     * not refused, and the plain samples beside it still count. */
    {
        size_t blob = 20000, k;
        char *p = malloc(blob + 512);

        ASSERT_NOT_NULL(p);
        k = (size_t)sprintf(p, "{\"connectorId\":1,\"meterValue\":[{\"timestamp\":"
                            "\"2024-05-01T10:00:00Z\",\"sampledValue\":[{\"value\":\"7\","
                            "\"measurand\":\"Current.Import\"},{\"format\":\"SignedData\","
                            "\"value\":\"");
        memset(p + k, 'A', blob);
        k += blob;
        k += (size_t)sprintf(p + k, "\"}]}]}");
        ASSERT_EQ(ocpp_observe_call(OCPP_16, "MeterValues", p, k, &o), 0);
        ASSERT_DBL_NEAR(o.current_a[0], 7, 0);
        free(p);
    }
    /* A good sample after an ignored one of the same kind still counts. */
    ASSERT_EQ(obs(OCPP_16, "MeterValues", "{'connectorId':1,'meterValue':[{'timestamp':"
                  "'2024-05-01T10:00:00Z','sampledValue':[{'value':'8','measurand':"
                  "'Current.Import'},{'value':'1e999','measurand':'Current.Import'}]}]}", &o), 0);
    ASSERT_DBL_NEAR(o.current_a[0], 8, 0);
}

/* ---------------------------------------------------------- observe 2.0.1 */

TEST(observe201_boot_status)
{
    static const struct { const char *name; enum ocpp_status st; } map[] = {
        { "Available", OCPP_ST_AVAILABLE }, { "Occupied", OCPP_ST_OCCUPIED },
        { "Reserved", OCPP_ST_RESERVED },   { "Unavailable", OCPP_ST_UNAVAILABLE },
        { "Faulted", OCPP_ST_FAULTED },
    };
    struct ocpp_observation o;
    char json[256];

    ASSERT_EQ(obs(OCPP_201, "BootNotification", "{'reason':'PowerUp','chargingStation':"
                  "{'model':'X1','vendorName':'ACME'}}", &o), 0);
    ASSERT_EQ(o.kind, OCPP_OBS_BOOT);
    ASSERT_EQ(o.connector, 0);
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        snprintf(json, sizeof json, "{'timestamp':'2024-05-01T10:00:00Z','connectorStatus':"
                 "'%s','evseId':2,'connectorId':1}", map[i].name);
        ASSERT_EQ(obs(OCPP_201, "StatusNotification", json, &o), 0);
        ASSERT_EQ(o.kind, OCPP_OBS_STATUS);
        ASSERT_EQ(o.status, map[i].st);
        ASSERT_EQ(o.connector, 2);
        ASSERT_EQ(o.evse_connector, 1);
        ASSERT_EQ(o.timestamp, T0);
    }
    ASSERT_EQ(obs(OCPP_201, "StatusNotification", "{'timestamp':'2024-05-01T10:00:00Z',"
                  "'connectorStatus':'Charging','evseId':1,'connectorId':1}", &o), -EPROTO);
    ASSERT_EQ(obs(OCPP_201, "StatusNotification", "{'connectorStatus':'Available',"
                  "'connectorId':1}", &o), -EINVAL);
    ASSERT_EQ(obs(OCPP_201, "StatusNotification", "{'connectorStatus':'Available','evseId':"
                  "'1'}", &o), -EPROTO);
    ASSERT_EQ(obs(OCPP_201, "StatusNotification", "{'connectorStatus':'Available','evseId':1,"
                  "'connectorId':'x'}", &o), -EPROTO);
}

TEST(observe201_transaction_event)
{
    struct ocpp_observation o;

    ASSERT_EQ(obs(OCPP_201, "TransactionEvent",
                  "{'eventType':'Started','timestamp':'2024-05-01T10:00:00Z','triggerReason':"
                  "'Authorized','seqNo':0,'transactionInfo':{'transactionId':'TX-0001',"
                  "'chargingState':'Charging'},'evse':{'id':3,'connectorId':1},'idToken':"
                  "{'idToken':'04A1B2C3','type':'ISO14443'},'meterValue':[{'timestamp':"
                  "'2024-05-01T09:59:59Z','sampledValue':["
                  "{'value':7.4,'measurand':'Power.Active.Import','unitOfMeasure':{'unit':'kW'}},"
                  "{'value':12.5,'unitOfMeasure':{'unit':'kWh','multiplier':0}},"
                  "{'value':16000,'measurand':'Current.Import','phase':'L1','unitOfMeasure':"
                  "{'unit':'A','multiplier':-3}},"
                  "{'value':15.5,'measurand':'Current.Import','phase':'L2'},"
                  "{'value':1.55,'measurand':'Current.Import','phase':'L3','unitOfMeasure':"
                  "{'multiplier':1}}]}]}", &o), 0);
    ASSERT_EQ(o.kind, OCPP_OBS_TX_START);
    ASSERT_EQ(o.connector, 3);
    ASSERT_EQ(o.evse_connector, 1);
    ASSERT_EQ(o.status, OCPP_ST_CHARGING);
    ASSERT_STR_EQ(o.transaction_id, "TX-0001");
    ASSERT_STR_EQ(o.id_tag, "04A1B2C3");
    ASSERT_DBL_NEAR(o.power_w, 7400, 1e-9);
    ASSERT_DBL_NEAR(o.energy_wh, 12500, 1e-9);
    ASSERT_DBL_NEAR(o.current_a[0], 16, 1e-9);
    ASSERT_DBL_NEAR(o.current_a[1], 15.5, 1e-9);
    ASSERT_DBL_NEAR(o.current_a[2], 15.5, 1e-9);
    ASSERT_EQ(o.timestamp, T0); /* the event's time, not the sample's */

    /* A multiplier on watts; one out of reach is ignored. */
    ASSERT_EQ(obs(OCPP_201, "TransactionEvent",
                  "{'eventType':'Updated','timestamp':'2024-05-01T10:00:00Z','triggerReason':"
                  "'MeterValuePeriodic','seqNo':3,'transactionInfo':{'transactionId':'TX-1'},"
                  "'meterValue':[{'timestamp':'2024-05-01T10:00:00Z','sampledValue':["
                  "{'value':74,'measurand':'Power.Active.Import','unitOfMeasure':{'unit':'W',"
                  "'multiplier':2}},{'value':1,'measurand':'Current.Import','unitOfMeasure':"
                  "{'unit':'A','multiplier':12}}]}]}", &o), 0);
    ASSERT_EQ(o.kind, OCPP_OBS_TX_UPDATE);
    ASSERT_EQ(o.connector, -1);
    ASSERT_EQ(o.status, OCPP_ST_UNKNOWN);
    ASSERT_DBL_NEAR(o.power_w, 7400, 1e-9);
    ASSERT(isnan(o.current_a[0]));
}

TEST(observe201_charging_states)
{
    static const struct { const char *event, *extra; enum ocpp_status st; } cases[] = {
        { "Updated", "'chargingState':'Charging'", OCPP_ST_CHARGING },
        { "Updated", "'chargingState':'SuspendedEV'", OCPP_ST_SUSPENDED_EV },
        { "Updated", "'chargingState':'SuspendedEVSE'", OCPP_ST_SUSPENDED_EVSE },
        { "Updated", "'chargingState':'EVConnected'", OCPP_ST_PREPARING },
        { "Updated", "'chargingState':'Idle'", OCPP_ST_UNKNOWN },
        { "Started", "'chargingState':'Idle'", OCPP_ST_UNKNOWN },
        { "Ended", "'chargingState':'EVConnected'", OCPP_ST_FINISHING },
        { "Ended", "'chargingState':'Charging'", OCPP_ST_FINISHING },
        { "Ended", "'stoppedReason':'Remote'", OCPP_ST_FINISHING },
        { "Ended", "'chargingState':'Idle'", OCPP_ST_AVAILABLE },
        { "Ended", "'stoppedReason':'EVDisconnected'", OCPP_ST_AVAILABLE },
    };
    struct ocpp_observation o;
    char json[512];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(json, sizeof json, "{'eventType':'%s','timestamp':'2024-05-01T10:00:00Z',"
                 "'triggerReason':'ChargingStateChanged','seqNo':1,'transactionInfo':"
                 "{'transactionId':'T',%s},'evse':{'id':1}}", cases[i].event, cases[i].extra);
        ASSERT_EQ(obs(OCPP_201, "TransactionEvent", json, &o), 0);
        if (o.status != cases[i].st)
            TEST__FAIL("%s %s: status %d, want %d", cases[i].event, cases[i].extra, o.status,
                       cases[i].st);
    }
    ASSERT_EQ(obs(OCPP_201, "TransactionEvent", "{'eventType':'Ended','timestamp':"
                  "'2024-05-01T10:00:00Z','triggerReason':'EVDeparted','seqNo':9,"
                  "'transactionInfo':{'transactionId':'T'}}", &o), 0);
    ASSERT_EQ(o.kind, OCPP_OBS_TX_STOP);
    ASSERT_EQ(o.status, OCPP_ST_AVAILABLE);
}

TEST(observe201_transaction_event_bad)
{
    static const char *const bad[] = {
        /* -EINVAL */
        "{'timestamp':'2024-05-01T10:00:00Z','transactionInfo':{'transactionId':'T'}}",
        "{'eventType':'Started','timestamp':'2024-05-01T10:00:00Z'}",
        "{'eventType':'Started','transactionInfo':{}}",
        "{'eventType':'Started','transactionInfo':{'transactionId':'T'},'evse':{}}",
        "{'eventType':'Started','transactionInfo':{'transactionId':'T'},'idToken':{}}",
        /* -EPROTO */
        "{'eventType':'Begun','transactionInfo':{'transactionId':'T'}}",
        "{'eventType':'Started','transactionInfo':{'transactionId':7}}",
        "{'eventType':'Started','transactionInfo':{'transactionId':"
        "'0123456789012345678901234567890123456'}}",
        "{'eventType':'Started','transactionInfo':'T'}",
        "{'eventType':'Started','transactionInfo':{'transactionId':'T','chargingState':'Busy'}}",
        "{'eventType':'Started','transactionInfo':{'transactionId':'T'},'triggerReason':'Why'}",
        "{'eventType':'Ended','transactionInfo':{'transactionId':'T','stoppedReason':'Bored'}}",
        "{'eventType':'Started','transactionInfo':{'transactionId':'T'},'evse':{'id':-1}}",
        "{'eventType':'Started','transactionInfo':{'transactionId':'T'},'evse':[1]}",
        "{'eventType':'Started','transactionInfo':{'transactionId':'T'},'timestamp':5}",
        "{'eventType':'Started','transactionInfo':{'transactionId':'T'},'meterValue':[{"
        "'timestamp':'2024-05-01T10:00:00Z','sampledValue':[{'value':'12.5'}]}]}",
        "{'eventType':'Started','transactionInfo':{'transactionId':'T'},'meterValue':[{"
        "'timestamp':'2024-05-01T10:00:00Z','sampledValue':[{'value':1,'unitOfMeasure':'A'}]}]}",
        "{'eventType':'Started','transactionInfo':{'transactionId':'T'},'meterValue':[{"
        "'timestamp':'2024-05-01T10:00:00Z','sampledValue':[{'value':1,'unitOfMeasure':"
        "{'multiplier':0.5}}]}]}",
        "{'eventType':'Started','transactionInfo':{'transactionId':'T'},'meterValue':[{"
        "'timestamp':'2024-05-01T10:00:00Z','sampledValue':[{'value':1,'unitOfMeasure':"
        "{'unit':'aaaaaaaaaaaaaaaaaaaaa'}}]}]}",
        "{'eventType':'Started','transactionInfo':{'transactionId':'T'},'meterValue':[{"
        "'timestamp':'2024-05-01T10:00:00Z','sampledValue':[{'value':1,'measurand':"
        "'Temperature'}]}]}", /* 1.6 only */
        "{'eventType':'Started','transactionInfo':{'transactionId':'T'},'idToken':"
        "{'idToken':'0123456789012345678901234567890123456','type':'Local'}}",
    };
    struct ocpp_observation o;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = obs(OCPP_201, "TransactionEvent", bad[i], &o);
        int want = i < 5 ? -EINVAL : -EPROTO;

        if (rc != want)
            TEST__FAIL("%d, want %d: %s", rc, want, bad[i]);
        ASSERT(is_unknown_obs(&o));
    }
}

TEST(observe201_meter_values_and_needs)
{
    struct ocpp_observation o;

    ASSERT_EQ(obs(OCPP_201, "MeterValues", "{'evseId':0,'meterValue':[{'timestamp':"
                  "'2024-05-01T10:00:00Z','sampledValue':[{'value':1234.5,'measurand':"
                  "'Power.Active.Import','unitOfMeasure':{'unit':'W'}},{'value':1,'measurand':"
                  "'Energy.Active.Net'}]}]}", &o), 0);
    ASSERT_EQ(o.kind, OCPP_OBS_METER);
    ASSERT_EQ(o.connector, 0);
    ASSERT_DBL_NEAR(o.power_w, 1234.5, 0);
    ASSERT_EQ(o.timestamp, T0);
    ASSERT_EQ(obs(OCPP_201, "MeterValues", "{'connectorId':1,'meterValue':[]}", &o), -EINVAL);
    ASSERT_EQ(obs(OCPP_201, "MeterValues", "{'evseId':1,'meterValue':[{'timestamp':"
                  "'2024-05-01T10:00:00Z','sampledValue':[{'value':'5'}]}]}", &o), -EPROTO);

    ASSERT_EQ(obs(OCPP_201, "NotifyEVChargingNeeds", "{'evseId':2,'maxScheduleTuples':3,"
                  "'chargingNeeds':{'requestedEnergyTransfer':'AC_three_phase','departureTime':"
                  "'2024-05-01T18:00:00Z','acChargingParameters':{'energyAmount':30000,"
                  "'evMinCurrent':6,'evMaxCurrent':32,'evMaxVoltage':400}}}", &o), 0);
    ASSERT_EQ(o.kind, OCPP_OBS_EV_NEEDS);
    ASSERT_EQ(o.connector, 2);
    ASSERT_DBL_NEAR(o.ev_min_a, 6, 0);
    ASSERT_DBL_NEAR(o.ev_max_a, 32, 0);
    ASSERT_DBL_NEAR(o.ev_energy_wh, 30000, 0);
    ASSERT_EQ(o.ev_departure, T0 + 8 * 3600);

    /* DC: only the energy; absurd currents are ignored; no departure. */
    ASSERT_EQ(obs(OCPP_201, "NotifyEVChargingNeeds", "{'evseId':1,'chargingNeeds':{"
                  "'requestedEnergyTransfer':'DC','dcChargingParameters':{'evMaxCurrent':200,"
                  "'evMaxVoltage':800,'energyAmount':45000}}}", &o), 0);
    ASSERT(isnan(o.ev_min_a) && isnan(o.ev_max_a));
    ASSERT_DBL_NEAR(o.ev_energy_wh, 45000, 0);
    ASSERT_EQ(o.ev_departure, 0);
    ASSERT_EQ(obs(OCPP_201, "NotifyEVChargingNeeds", "{'evseId':1,'chargingNeeds':{"
                  "'acChargingParameters':{'energyAmount':1,'evMinCurrent':6,'evMaxCurrent':"
                  "99999,'evMaxVoltage':230}}}", &o), 0);
    ASSERT(isnan(o.ev_max_a));
    ASSERT_DBL_NEAR(o.ev_min_a, 6, 0);

    ASSERT_EQ(obs(OCPP_201, "NotifyEVChargingNeeds", "{'evseId':1}", &o), -EINVAL);
    ASSERT_EQ(obs(OCPP_201, "NotifyEVChargingNeeds", "{'chargingNeeds':{}}", &o), -EINVAL);
    ASSERT_EQ(obs(OCPP_201, "NotifyEVChargingNeeds", "{'evseId':1,'chargingNeeds':{"
                  "'acChargingParameters':{'evMaxCurrent':'32'}}}", &o), -EPROTO);
    ASSERT_EQ(obs(OCPP_201, "NotifyEVChargingNeeds", "{'evseId':1,'chargingNeeds':{"
                  "'acChargingParameters':{'evMaxCurrent':32.5}}}", &o), -EPROTO);
    ASSERT_EQ(obs(OCPP_201, "NotifyEVChargingNeeds", "{'evseId':1,'chargingNeeds':{"
                  "'departureTime':'18:00'}}", &o), -EPROTO);
    ASSERT_EQ(obs(OCPP_201, "NotifyEVChargingNeeds", "{'evseId':1,'chargingNeeds':[]}", &o),
              -EPROTO);
}

TEST(observe_other_actions)
{
    struct ocpp_observation o;

    /* Not looked into: not even parsed. */
    ASSERT_EQ(obs(OCPP_16, "Heartbeat", "garbage", &o), 0);
    ASSERT(is_unknown_obs(&o));
    ASSERT_EQ(obs(OCPP_16, "Authorize", "{'idTag':'A'}", &o), 0);
    ASSERT_EQ(o.kind, OCPP_OBS_NONE);
    ASSERT_EQ(obs(OCPP_16, "TransactionEvent", "{}", &o), 0);
    ASSERT_EQ(o.kind, OCPP_OBS_NONE);
    ASSERT_EQ(obs(OCPP_16, "NotifyEVChargingNeeds", "{}", &o), 0);
    ASSERT_EQ(o.kind, OCPP_OBS_NONE);
    ASSERT_EQ(obs(OCPP_201, "StartTransaction", "{}", &o), 0);
    ASSERT_EQ(o.kind, OCPP_OBS_NONE);
    ASSERT_EQ(obs(OCPP_201, "statusnotification", "{}", &o), 0);
    ASSERT_EQ(o.kind, OCPP_OBS_NONE);
    ASSERT_EQ(ocpp_observe_call((enum ocpp_version)7, "BootNotification", "{}", 2, &o), -EINVAL);
    ASSERT_EQ(ocpp_observe_call(OCPP_16, NULL, "{}", 2, &o), -EINVAL);
}

TEST(observe_hostile)
{
    static const char *const garbage[] = {
        "", " ", "{", "}", "[]", "null", "5", "'x'", "{'connectorId':1,", "{'a' 1}",
        "{'connectorId':1,'status':'Charging'} trailing", "{'connectorId':1}}",
        "{'connectorId':1,'status':'Charging',}",
        "\xff\xfe{}", "{'connectorId':1,'status':'\\ud800'}",
    };
    const char *real = "{'connectorId':1,'errorCode':'NoError','status':'Charging',"
                       "'timestamp':'2024-05-01T10:00:00Z'}";
    struct ocpp_observation o;
    char prefix[256];
    size_t n = strlen(real);

    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        int rc = obs(OCPP_16, "StatusNotification", garbage[i], &o);

        if (rc != -EINVAL && rc != -EPROTO)
            TEST__FAIL("%d for: %s", rc, garbage[i]);
        ASSERT(is_unknown_obs(&o));
    }
    /* Every truncation of a real payload. */
    for (size_t k = 0; k < n; k++) {
        memcpy(prefix, real, k);
        prefix[k] = '\0';
        ASSERT_EQ(obs(OCPP_16, "StatusNotification", prefix, &o), -EINVAL);
    }
    ASSERT_EQ(obs(OCPP_16, "StatusNotification", real, &o), 0);
    /* A NUL inside, NULL, over-long. */
    ASSERT_EQ(ocpp_observe_call(OCPP_16, "StatusNotification", "{}\0{}", 5, &o), -EINVAL);
    ASSERT_EQ(ocpp_observe_call(OCPP_16, "StatusNotification", NULL, 0, &o), -EINVAL);
    ASSERT_EQ(ocpp_observe_call(OCPP_16, "StatusNotification", NULL, 10, &o), -EINVAL);
    {
        size_t big = OCPP_MSG_PAYLOAD_MAX + 1;
        char *p = malloc(big);

        ASSERT_NOT_NULL(p);
        memset(p, ' ', big);
        p[0] = '{';
        p[big - 1] = '}';
        ASSERT_EQ(ocpp_observe_call(OCPP_16, "StatusNotification", p, big, &o), -EMSGSIZE);
        free(p);
    }
    /* Deep nesting, at the top and inside a field: the payload, like the
     * frame, may nest FRAME_DEPTH_MAX levels (the object is one). */
    {
        static const size_t nests[] = { FRAME_DEPTH_MAX - 1, FRAME_DEPTH_MAX, 900 };
        size_t depth = 100000;
        char *p = malloc(2 * depth + 64);
        size_t k = 0;

        ASSERT_NOT_NULL(p);
        for (size_t i = 0; i < depth; i++)
            p[k++] = '[';
        for (size_t i = 0; i < depth; i++)
            p[k++] = ']';
        ASSERT_EQ(ocpp_observe_call(OCPP_16, "MeterValues", p, k, &o), -EINVAL);
        for (size_t d = 0; d < sizeof nests / sizeof nests[0]; d++) {
            size_t arrays = nests[d];

            k = (size_t)sprintf(p, "{\"connectorId\":1,\"meterValue\":");
            for (size_t i = 0; i < arrays; i++)
                p[k++] = '[';
            for (size_t i = 0; i < arrays; i++)
                p[k++] = ']';
            p[k++] = '}';
            ASSERT_EQ(ocpp_observe_call(OCPP_16, "MeterValues", p, k, &o),
                      arrays < FRAME_DEPTH_MAX ? -EPROTO : -EINVAL);
        }
        free(p);
    }
    /* Escapes and duplicate keys (the first one counts, as in cJSON). */
    ASSERT_EQ(obs(OCPP_16, "StartTransaction", "{'connectorId':1,'connectorId':2,"
                  "'idTag':'\\u0041\\u00e9\\n'}", &o), 0);
    ASSERT_EQ(o.connector, 1);
    ASSERT_STR_EQ(o.id_tag, "A\xc3\xa9\n");
}

TEST(observe_result)
{
    struct ocpp_answer a;

    ASSERT_EQ(answer(OCPP_16, "BootNotification", "{'status':'Accepted','currentTime':"
                     "'2024-05-01T10:00:00Z','interval':300}", &a), 0);
    ASSERT(a.accepted);
    ASSERT_EQ(a.interval_s, 300);
    ASSERT_STR_EQ(a.transaction_id, "");
    ASSERT_EQ(answer(OCPP_201, "BootNotification", "{'status':'Pending','currentTime':"
                     "'2024-05-01T10:00:00Z','interval':60}", &a), 0);
    ASSERT(!a.accepted);
    ASSERT_EQ(a.interval_s, 60);
    ASSERT_EQ(answer(OCPP_16, "BootNotification", "{'status':'Rejected'}", &a), 0);
    ASSERT(!a.accepted);
    ASSERT_EQ(a.interval_s, -1);
    ASSERT_EQ(answer(OCPP_16, "BootNotification", "{'status':'OK','interval':1}", &a), -EPROTO);
    ASSERT_EQ(answer(OCPP_16, "BootNotification", "{'interval':1}", &a), -EINVAL);
    ASSERT_EQ(answer(OCPP_16, "BootNotification", "{'status':'Accepted','interval':'1'}", &a),
              -EPROTO);
    ASSERT(!a.accepted);

    ASSERT_EQ(answer(OCPP_16, "StartTransaction", "{'idTagInfo':{'status':'Accepted',"
                     "'expiryDate':'2024-06-01T00:00:00Z'},'transactionId':424242}", &a), 0);
    ASSERT(a.accepted);
    ASSERT_STR_EQ(a.transaction_id, "424242");
    ASSERT_EQ(answer(OCPP_16, "StartTransaction", "{'idTagInfo':{'status':'Blocked'},"
                     "'transactionId':1}", &a), 0);
    ASSERT(!a.accepted);
    ASSERT_STR_EQ(a.transaction_id, "1");
    ASSERT_EQ(answer(OCPP_16, "StartTransaction", "{'idTagInfo':{'status':'Accepted'}}", &a),
              -EINVAL);
    ASSERT_EQ(answer(OCPP_16, "StartTransaction", "{'transactionId':1}", &a), -EINVAL);
    ASSERT_EQ(answer(OCPP_16, "StartTransaction", "{'idTagInfo':{'status':'Accepted'},"
                     "'transactionId':'1'}", &a), -EPROTO);
    ASSERT_STR_EQ(a.transaction_id, "");

    ASSERT_EQ(answer(OCPP_16, "Authorize", "{'idTagInfo':{'status':'Accepted'}}", &a), 0);
    ASSERT(a.accepted);
    ASSERT_EQ(answer(OCPP_201, "Authorize", "{'idTokenInfo':{'status':'Invalid'}}", &a), 0);
    ASSERT(!a.accepted);
    ASSERT_EQ(answer(OCPP_201, "TransactionEvent", "{}", &a), 0);
    ASSERT(a.accepted);
    ASSERT_EQ(answer(OCPP_201, "TransactionEvent", "{'idTokenInfo':{'status':'Blocked'}}", &a), 0);
    ASSERT(!a.accepted);
    ASSERT_EQ(answer(OCPP_201, "TransactionEvent", "{'idTokenInfo':{}}", &a), -EINVAL);

    ASSERT_EQ(answer(OCPP_16, "Heartbeat", "{'currentTime':'2024-05-01T10:00:00Z'}", &a),
              -ENOTSUP);
    ASSERT_EQ(answer(OCPP_201, "StartTransaction", "{}", &a), -ENOTSUP);
    ASSERT_EQ(answer(OCPP_16, "TransactionEvent", "{}", &a), -ENOTSUP);
    ASSERT_EQ(answer(OCPP_16, "BootNotification", "{'status':", &a), -EINVAL);
}

/* ------------------------------------------------------------ writers */

static struct ocpp_limit_profile profile(int connector, enum ocpp_purpose purpose, char unit,
                                         double limit)
{
    struct ocpp_limit_profile p;

    memset(&p, 0, sizeof p);
    p.connector = connector;
    p.profile_id = 9001;
    p.stack_level = 5;
    p.purpose = purpose;
    p.unit = unit;
    p.limit = limit;
    p.start = T0;
    return p;
}

TEST(write_set_profile_exact)
{
    struct ocpp_limit_profile p = profile(0, OCPP_PURPOSE_CHARGER_MAX, 'A', 7.35);
    char buf[1024];
    int n;

    n = ocpp_write_set_profile(OCPP_16, &p, buf, sizeof buf);
    ASSERT_STR_EQ(buf, dq("{'connectorId':0,'csChargingProfiles':{'chargingProfileId':9001,"
                          "'stackLevel':5,'chargingProfilePurpose':'ChargePointMaxProfile',"
                          "'chargingProfileKind':'Absolute','chargingSchedule':{'startSchedule':"
                          "'2024-05-01T10:00:00Z','chargingRateUnit':'A','chargingSchedulePeriod':"
                          "[{'startPeriod':0,'limit':7.3}]}}}"));
    ASSERT_EQ(n, (int)strlen(buf));

    p.phases = 3;
    p.valid_to = T0 + 300;
    p.duration_s = 300;
    ASSERT(ocpp_write_set_profile(OCPP_16, &p, buf, sizeof buf) > 0);
    ASSERT_STR_EQ(buf, dq("{'connectorId':0,'csChargingProfiles':{'chargingProfileId':9001,"
                          "'stackLevel':5,'chargingProfilePurpose':'ChargePointMaxProfile',"
                          "'chargingProfileKind':'Absolute','validTo':'2024-05-01T10:05:00Z',"
                          "'chargingSchedule':{'duration':300,'startSchedule':"
                          "'2024-05-01T10:00:00Z','chargingRateUnit':'A','chargingSchedulePeriod':"
                          "[{'startPeriod':0,'limit':7.3,'numberPhases':3}]}}}"));

    ASSERT(ocpp_write_set_profile(OCPP_201, &p, buf, sizeof buf) > 0);
    ASSERT_STR_EQ(buf, dq("{'evseId':0,'chargingProfile':{'id':9001,'stackLevel':5,"
                          "'chargingProfilePurpose':'ChargingStationMaxProfile',"
                          "'chargingProfileKind':'Absolute','validTo':'2024-05-01T10:05:00Z',"
                          "'chargingSchedule':[{'id':9001,'duration':300,'startSchedule':"
                          "'2024-05-01T10:00:00Z','chargingRateUnit':'A','chargingSchedulePeriod':"
                          "[{'startPeriod':0,'limit':7.3,'numberPhases':3}]}]}}"));

    p = profile(2, OCPP_PURPOSE_TX_DEFAULT, 'W', 11000);
    ASSERT(ocpp_write_set_profile(OCPP_201, &p, buf, sizeof buf) > 0);
    ASSERT_STR_EQ(buf, dq("{'evseId':2,'chargingProfile':{'id':9001,'stackLevel':5,"
                          "'chargingProfilePurpose':'TxDefaultProfile','chargingProfileKind':"
                          "'Absolute','chargingSchedule':[{'id':9001,'startSchedule':"
                          "'2024-05-01T10:00:00Z','chargingRateUnit':'W','chargingSchedulePeriod':"
                          "[{'startPeriod':0,'limit':11000.0}]}]}}"));

    p = profile(1, OCPP_PURPOSE_TX, 'A', 16);
    strcpy(p.transaction_id, "12345");
    ASSERT(ocpp_write_set_profile(OCPP_16, &p, buf, sizeof buf) > 0);
    ASSERT_STR_EQ(buf, dq("{'connectorId':1,'csChargingProfiles':{'chargingProfileId':9001,"
                          "'transactionId':12345,'stackLevel':5,'chargingProfilePurpose':"
                          "'TxProfile','chargingProfileKind':'Absolute','chargingSchedule':"
                          "{'startSchedule':'2024-05-01T10:00:00Z','chargingRateUnit':'A',"
                          "'chargingSchedulePeriod':[{'startPeriod':0,'limit':16.0}]}}}"));
    strcpy(p.transaction_id, "tx\"1");
    ASSERT(ocpp_write_set_profile(OCPP_201, &p, buf, sizeof buf) > 0);
    ASSERT(strstr(buf, "\"transactionId\":\"tx\\\"1\",") != NULL);
    /* Not UTF-8: no strict JSON parser would read it back. */
    strcpy(p.transaction_id, "tx\xff");
    ASSERT_EQ(ocpp_write_set_profile(OCPP_201, &p, buf, sizeof buf), -EINVAL);
    ASSERT_STR_EQ(buf, "");
    strcpy(p.transaction_id, "tx-\xc3\xa9");
    ASSERT(ocpp_write_set_profile(OCPP_201, &p, buf, sizeof buf) > 0);

    p = profile(0, OCPP_PURPOSE_EXTERNAL, 'W', 22000.09);
    ASSERT(ocpp_write_set_profile(OCPP_201, &p, buf, sizeof buf) > 0);
    ASSERT(strstr(buf, "'ChargingStationExternalConstraints'") == NULL);
    ASSERT(strstr(buf, "\"ChargingStationExternalConstraints\"") != NULL);
    ASSERT(strstr(buf, "\"limit\":22000.0}") != NULL);
}

TEST(write_flooring)
{
    static const struct { double in; const char *out; } cases[] = {
        { 7.35, "7.3" }, { 7.3, "7.3" }, { 7.39999, "7.3" }, { 0.3, "0.3" }, { 6.1, "6.1" },
        { 11.1, "11.1" }, { 0.05, "0.0" }, { 0, "0.0" }, { 32, "32.0" }, { 9999.99, "9999.9" },
        { 0.7, "0.7" }, { 1.2, "1.2" }, { 2.3, "2.3" }, { 4.35, "4.3" },
    };
    char buf[512], want[64];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (int v = 0; v < 2; v++) {
            struct ocpp_limit_profile p = profile(0, OCPP_PURPOSE_CHARGER_MAX, 'A', cases[i].in);

            ASSERT(ocpp_write_set_profile(v ? OCPP_201 : OCPP_16, &p, buf, sizeof buf) > 0);
            snprintf(want, sizeof want, "\"limit\":%s}", cases[i].out);
            if (!strstr(buf, want))
                TEST__FAIL("%.17g -> %s", cases[i].in, buf);
        }
    }
}

TEST(write_invalid)
{
    struct ocpp_limit_profile p;
    char buf[512];

#define BAD(v, mutate) do { \
        p = profile(0, OCPP_PURPOSE_CHARGER_MAX, 'A', 16); \
        mutate; \
        strcpy(buf, "x"); \
        ASSERT_EQ(ocpp_write_set_profile(v, &p, buf, sizeof buf), -EINVAL); \
        ASSERT_STR_EQ(buf, ""); \
    } while (0)
    BAD(OCPP_16, p.purpose = OCPP_PURPOSE_EXTERNAL);
    BAD(OCPP_201, p.purpose = (enum ocpp_purpose)9);
    BAD(OCPP_16, p.connector = 1);
    BAD(OCPP_201, p.connector = 1);
    BAD(OCPP_201, (p.purpose = OCPP_PURPOSE_EXTERNAL, p.connector = 2));
    BAD(OCPP_16, p.connector = -1);
    BAD(OCPP_16, p.profile_id = -1);
    BAD(OCPP_16, p.stack_level = -1);
    BAD(OCPP_16, p.unit = 'a');
    BAD(OCPP_16, p.unit = 0);
    BAD(OCPP_16, p.limit = -0.1);
    BAD(OCPP_16, p.limit = NAN);
    BAD(OCPP_16, p.limit = INFINITY);
    BAD(OCPP_16, p.limit = 10000.1);
    BAD(OCPP_16, (p.unit = 'W', p.limit = 10e6 + 1));
    BAD(OCPP_16, p.phases = 4);
    BAD(OCPP_16, p.phases = -1);
    BAD(OCPP_16, p.duration_s = -5);
    BAD(OCPP_16, p.start = -1);
    BAD(OCPP_16, p.start = 253402300800LL);
    BAD(OCPP_201, p.valid_to = 253402300800LL);
    BAD(OCPP_16, strcpy(p.transaction_id, "12"));
    BAD(OCPP_16, (p.purpose = OCPP_PURPOSE_TX, p.connector = 1, strcpy(p.transaction_id, "a1")));
    BAD(OCPP_16, (p.purpose = OCPP_PURPOSE_TX, p.connector = 1, strcpy(p.transaction_id, "01")));
    BAD(OCPP_16, (p.purpose = OCPP_PURPOSE_TX, p.connector = 1, strcpy(p.transaction_id, "-")));
    /* Found by fuzzing: "-0" was written as -0, which reads back as 0. */
    BAD(OCPP_16, (p.purpose = OCPP_PURPOSE_TX, p.connector = 1, strcpy(p.transaction_id, "-0")));
    BAD(OCPP_16, (p.purpose = OCPP_PURPOSE_TX, p.connector = 1, strcpy(p.transaction_id, "-01")));
    BAD(OCPP_201, (p.purpose = OCPP_PURPOSE_TX, p.connector = 1,
                   strcpy(p.transaction_id, "0123456789012345678901234567890123456")));
    BAD(OCPP_201, memset(p.transaction_id, 'x', sizeof p.transaction_id));
    BAD((enum ocpp_version)5, (void)0);
#undef BAD
    ASSERT_EQ(ocpp_write_set_profile(OCPP_16, NULL, buf, sizeof buf), -EINVAL);
    ASSERT_EQ(ocpp_write_clear_profile(OCPP_16, -1, buf, sizeof buf), -EINVAL);
    ASSERT_EQ(ocpp_write_status_reply("", buf, sizeof buf), -EINVAL);
    ASSERT_EQ(ocpp_write_status_reply(NULL, buf, sizeof buf), -EINVAL);
}

/* Every cap below the size needed: -ENOSPC, "" and nothing past cap. */
static int check_enospc(int (*fn)(const void *arg, char *buf, size_t cap), const void *arg)
{
    char full[4096], probe[4096 + 32];
    int n = fn(arg, full, sizeof full);

    if (n <= 0)
        return 0;
    for (size_t cap = 0; cap <= (size_t)n + 1; cap++) {
        int rc;

        memset(probe, 0xAA, sizeof probe);
        rc = fn(arg, cap ? probe : NULL, cap);
        if (cap <= (size_t)n) {
            if (rc != -ENOSPC || (cap && probe[0] != '\0'))
                return 0;
        } else if (rc != n || strcmp(probe, full) != 0) {
            return 0;
        }
        for (size_t i = cap; i < sizeof probe; i++)
            if ((unsigned char)probe[i] != 0xAA)
                return 0;
    }
    return 1;
}

struct write_arg {
    enum ocpp_version v;
    struct ocpp_limit_profile p;
};

static int write_set_cb(const void *arg, char *buf, size_t cap)
{
    const struct write_arg *a = arg;
    return ocpp_write_set_profile(a->v, &a->p, buf, cap);
}

static int write_clear_cb(const void *arg, char *buf, size_t cap)
{
    const struct write_arg *a = arg;
    return ocpp_write_clear_profile(a->v, a->p.profile_id, buf, cap);
}

static int write_status_cb(const void *arg, char *buf, size_t cap)
{
    (void)arg;
    return ocpp_write_status_reply("Accepted", buf, cap);
}

static int write_caps_cb(const void *arg, char *buf, size_t cap)
{
    const struct write_arg *a = arg;
    const char *action;
    return ocpp_write_caps_query(a->v, &action, buf, cap);
}

TEST(write_enospc)
{
    struct write_arg a;

    for (int v = 0; v < 2; v++) {
        a.v = v ? OCPP_201 : OCPP_16;
        a.p = profile(0, OCPP_PURPOSE_CHARGER_MAX, 'A', 7.35);
        a.p.valid_to = T0 + 60;
        a.p.duration_s = 60;
        a.p.phases = 1;
        ASSERT(check_enospc(write_set_cb, &a));
        a.p = profile(3, OCPP_PURPOSE_TX, 'W', 1234.56);
        strcpy(a.p.transaction_id, "987");
        ASSERT(check_enospc(write_set_cb, &a));
        ASSERT(check_enospc(write_clear_cb, &a));
        ASSERT(check_enospc(write_caps_cb, &a));
    }
    ASSERT(check_enospc(write_status_cb, NULL));
}

TEST(write_small)
{
    char buf[1024];
    const char *action = "x";

    ASSERT_EQ(ocpp_write_clear_profile(OCPP_16, 9001, buf, sizeof buf), 11);
    ASSERT_STR_EQ(buf, "{\"id\":9001}");
    ASSERT(ocpp_write_clear_profile(OCPP_201, 0, buf, sizeof buf) > 0);
    ASSERT_STR_EQ(buf, "{\"chargingProfileId\":0}");
    ASSERT(ocpp_write_status_reply("Accepted", buf, sizeof buf) > 0);
    ASSERT_STR_EQ(buf, "{\"status\":\"Accepted\"}");
    ASSERT(ocpp_write_status_reply("Re\"j\\\n", buf, sizeof buf) > 0);
    ASSERT_STR_EQ(buf, "{\"status\":\"Re\\\"j\\\\\\u000a\"}");

    ASSERT(ocpp_write_caps_query(OCPP_16, &action, buf, sizeof buf) > 0);
    ASSERT_STR_EQ(action, "GetConfiguration");
    ASSERT_STR_EQ(buf, dq("{'key':['SupportedFeatureProfiles','ChargeProfileMaxStackLevel',"
                          "'ChargingScheduleAllowedChargingRateUnit',"
                          "'MaxChargingProfilesInstalled']}"));
    ASSERT(ocpp_write_caps_query(OCPP_201, &action, buf, sizeof buf) > 0);
    ASSERT_STR_EQ(action, "GetVariables");
    ASSERT_STR_EQ(buf, dq("{'getVariableData':["
                          "{'component':{'name':'SmartChargingCtrlr'},'variable':{'name':'Available'}},"
                          "{'component':{'name':'SmartChargingCtrlr'},'variable':{'name':'Enabled'}},"
                          "{'component':{'name':'SmartChargingCtrlr'},'variable':"
                          "{'name':'ProfileStackLevel'}},"
                          "{'component':{'name':'SmartChargingCtrlr'},'variable':{'name':'RateUnit'}}"
                          "]}"));
    ASSERT_EQ(ocpp_write_caps_query(OCPP_201, NULL, buf, sizeof buf), -EINVAL);
    ASSERT_EQ(ocpp_write_caps_query((enum ocpp_version)3, &action, buf, sizeof buf), -EINVAL);
    ASSERT_NULL(action);
}

TEST(round_trip)
{
    static const double limits[] = { 0, 6, 7.35, 13.8, 16, 32, 63.99, 7360, 11000.05, 22080 };
    static const int connectors[] = { 0, 1, 7 };
    int count = 0;

    for (int v = 0; v < 2; v++) {
        for (int purpose = 0; purpose < 4; purpose++) {
            for (size_t c = 0; c < 3; c++) {
                for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++) {
                    for (int opt = 0; opt < 4; opt++) {
                        enum ocpp_version ver = v ? OCPP_201 : OCPP_16;
                        struct ocpp_limit_profile p =
                            profile(connectors[c], (enum ocpp_purpose)purpose,
                                    limits[l] > 100 ? 'W' : 'A', limits[l]);
                        struct ocpp_csms_profile q;
                        char buf[1024];
                        int n;

                        p.profile_id = 100 + (int)l;
                        p.stack_level = opt;
                        p.phases = opt % 4;
                        p.valid_to = opt & 1 ? T0 + 600 : 0;
                        p.duration_s = opt & 2 ? 900 : 0;
                        if (purpose == OCPP_PURPOSE_TX && opt == 3)
                            strcpy(p.transaction_id, "31337");
                        n = ocpp_write_set_profile(ver, &p, buf, sizeof buf);
                        if (n == -EINVAL) /* purposes the version or connector forbids */
                            continue;
                        ASSERT(n > 0);
                        ASSERT_EQ(ocpp_parse_set_profile(ver, buf, (size_t)n, T0 + 59, &q), 0);
                        ASSERT_EQ(q.connector, p.connector);
                        ASSERT_EQ(q.profile_id, p.profile_id);
                        ASSERT_EQ(q.stack_level, p.stack_level);
                        ASSERT_EQ(q.purpose, p.purpose);
                        ASSERT_EQ(q.unit, p.unit);
                        ASSERT(q.limit_now == (double)ocpp_msg__floor_tenths(p.limit) / 10.0);
                        ASSERT(q.limit_now <= p.limit);
                        ASSERT_EQ(q.phases, p.phases);
                        ASSERT_EQ(q.valid_to, p.valid_to);
                        ASSERT_EQ(q.valid_from, 0);
                        ASSERT_STR_EQ(q.transaction_id, p.transaction_id);
                        /* Past the lease or the duration: nothing in force. */
                        ASSERT_EQ(ocpp_parse_set_profile(ver, buf, (size_t)n, T0 + 900, &q), 0);
                        ASSERT(!!isnan(q.limit_now) == (p.valid_to || p.duration_s));
                        ASSERT_EQ(ocpp_parse_set_profile(ver, buf, (size_t)n, T0 - 1, &q), 0);
                        ASSERT(isnan(q.limit_now));
                        count++;
                    }
                }
            }
        }
    }
    ASSERT(count > 300);
}

/* ------------------------------------------------------ CSMS profiles */

TEST(parse_set_profile16)
{
    const char *json = "{'connectorId':0,'csChargingProfiles':{'chargingProfileId':7,"
                       "'stackLevel':2,'chargingProfilePurpose':'ChargePointMaxProfile',"
                       "'chargingProfileKind':'Absolute','validFrom':'2024-05-01T00:00:00Z',"
                       "'validTo':'2024-05-02T00:00:00Z','chargingSchedule':{'duration':7200,"
                       "'startSchedule':'2024-05-01T10:00:00Z','chargingRateUnit':'A',"
                       "'minChargingRate':6.0,'chargingSchedulePeriod':[{'startPeriod':0,"
                       "'limit':32.0,'numberPhases':3},{'startPeriod':3600,'limit':16.5},"
                       "{'startPeriod':5400,'limit':8,'numberPhases':1}]}}}";
    struct ocpp_csms_profile q;

    ASSERT_EQ(set_profile(OCPP_16, json, T0 + 10, &q), 0);
    ASSERT_EQ(q.connector, 0);
    ASSERT_EQ(q.profile_id, 7);
    ASSERT_EQ(q.stack_level, 2);
    ASSERT_EQ(q.purpose, OCPP_PURPOSE_CHARGER_MAX);
    ASSERT_EQ(q.unit, 'A');
    ASSERT_DBL_NEAR(q.limit_now, 32, 0);
    ASSERT_EQ(q.phases, 3);
    ASSERT_EQ(q.valid_from, T0 - 36000);
    ASSERT_EQ(q.valid_to, T0 + 50400);
    ASSERT_STR_EQ(q.transaction_id, "");
    ASSERT_EQ(set_profile(OCPP_16, json, T0 + 3599, &q), 0);
    ASSERT_DBL_NEAR(q.limit_now, 32, 0);
    ASSERT_EQ(set_profile(OCPP_16, json, T0 + 3600, &q), 0);
    ASSERT_DBL_NEAR(q.limit_now, 16.5, 0);
    ASSERT_EQ(q.phases, 0);
    ASSERT_EQ(set_profile(OCPP_16, json, T0 + 7199, &q), 0);
    ASSERT_DBL_NEAR(q.limit_now, 8, 0);
    ASSERT_EQ(q.phases, 1);
    ASSERT_EQ(set_profile(OCPP_16, json, T0 + 7200, &q), 0); /* past duration */
    ASSERT(isnan(q.limit_now));
    ASSERT_EQ(q.profile_id, 7);
    ASSERT_EQ(set_profile(OCPP_16, json, T0 - 1, &q), 0); /* not started */
    ASSERT(isnan(q.limit_now));

    /* TxProfile with its transaction; Relative: the first period. */
    ASSERT_EQ(set_profile(OCPP_16, "{'connectorId':2,'csChargingProfiles':{'chargingProfileId':"
                          "8,'transactionId':555,'stackLevel':0,'chargingProfilePurpose':"
                          "'TxProfile','chargingProfileKind':'Relative','chargingSchedule':{"
                          "'chargingRateUnit':'W','chargingSchedulePeriod':[{'startPeriod':0,"
                          "'limit':7400.5},{'startPeriod':60,'limit':3700}]}}}", T0, &q), 0);
    ASSERT_EQ(q.connector, 2);
    ASSERT_EQ(q.purpose, OCPP_PURPOSE_TX);
    ASSERT_STR_EQ(q.transaction_id, "555");
    ASSERT_EQ(q.unit, 'W');
    ASSERT_DBL_NEAR(q.limit_now, 7400.5, 0);

    /* Absolute without a startSchedule: the first period too. */
    ASSERT_EQ(set_profile(OCPP_16, "{'connectorId':1,'csChargingProfiles':{'chargingProfileId':"
                          "1,'stackLevel':0,'chargingProfilePurpose':'TxDefaultProfile',"
                          "'chargingProfileKind':'Absolute','chargingSchedule':{"
                          "'chargingRateUnit':'A','chargingSchedulePeriod':[{'startPeriod':0,"
                          "'limit':10}]}}}", T0, &q), 0);
    ASSERT_EQ(q.purpose, OCPP_PURPOSE_TX_DEFAULT);
    ASSERT_DBL_NEAR(q.limit_now, 10, 0);
}

TEST(parse_set_profile_recurring)
{
    /* Daily from 2024-05-01T00:00:00Z: 32 A, 16 A from 18:00, 32 A from 22:00. */
    const char *json = "{'evseId':0,'chargingProfile':{'id':3,'stackLevel':1,"
                       "'chargingProfilePurpose':'ChargingStationMaxProfile','chargingProfileKind':"
                       "'Recurring','recurrencyKind':'Daily','chargingSchedule':[{'id':3,"
                       "'startSchedule':'2024-05-01T00:00:00Z','chargingRateUnit':'A',"
                       "'chargingSchedulePeriod':[{'startPeriod':0,'limit':32},{'startPeriod':"
                       "64800,'limit':16},{'startPeriod':79200,'limit':32}]}]}}";
    time_t midnight = T0 - 10 * 3600;
    struct ocpp_csms_profile q;

    ASSERT_EQ(set_profile(OCPP_201, json, midnight + 5 * 86400 + 19 * 3600, &q), 0);
    ASSERT_DBL_NEAR(q.limit_now, 16, 0);
    ASSERT_EQ(set_profile(OCPP_201, json, midnight + 5 * 86400 + 23 * 3600, &q), 0);
    ASSERT_DBL_NEAR(q.limit_now, 32, 0);
    ASSERT_EQ(set_profile(OCPP_201, json, midnight - 86400 + 18 * 3600, &q), 0);
    ASSERT_DBL_NEAR(q.limit_now, 16, 0);
    ASSERT_EQ(q.purpose, OCPP_PURPOSE_CHARGER_MAX);
    /* Weekly with a duration of one day: Tuesday on, the rest of the week off. */
    ASSERT_EQ(set_profile(OCPP_201, "{'evseId':1,'chargingProfile':{'id':4,'stackLevel':1,"
                          "'chargingProfilePurpose':'TxDefaultProfile','chargingProfileKind':"
                          "'Recurring','recurrencyKind':'Weekly','chargingSchedule':[{'id':1,"
                          "'startSchedule':'2024-04-30T00:00:00Z','duration':86400,"
                          "'chargingRateUnit':'W','chargingSchedulePeriod':[{'startPeriod':0,"
                          "'limit':5000}]}]}}", T0 + 7 * 86400, &q), 0);
    ASSERT(isnan(q.limit_now));
    ASSERT_EQ(set_profile(OCPP_201, "{'evseId':1,'chargingProfile':{'id':4,'stackLevel':1,"
                          "'chargingProfilePurpose':'TxDefaultProfile','chargingProfileKind':"
                          "'Recurring','recurrencyKind':'Weekly','chargingSchedule':[{'id':1,"
                          "'startSchedule':'2024-04-30T00:00:00Z','duration':86400,"
                          "'chargingRateUnit':'W','chargingSchedulePeriod':[{'startPeriod':0,"
                          "'limit':5000}]}]}}", T0 + 6 * 86400, &q), 0);
    ASSERT_DBL_NEAR(q.limit_now, 5000, 0);
}

TEST(parse_set_profile201)
{
    struct ocpp_csms_profile q;

    ASSERT_EQ(set_profile(OCPP_201, "{'evseId':0,'chargingProfile':{'id':12,'stackLevel':3,"
                          "'chargingProfilePurpose':'ChargingStationExternalConstraints',"
                          "'chargingProfileKind':'Absolute','validTo':'2024-05-01T11:00:00Z',"
                          "'chargingSchedule':[{'id':1,'startSchedule':'2024-05-01T09:00:00Z',"
                          "'chargingRateUnit':'W','chargingSchedulePeriod':[{'startPeriod':0,"
                          "'limit':22000.35,'numberPhases':3,'phaseToUse':1}]},{'id':2,"
                          "'chargingRateUnit':'A','chargingSchedulePeriod':[{'startPeriod':0,"
                          "'limit':1}]}]}}", T0, &q), 0);
    ASSERT_EQ(q.purpose, OCPP_PURPOSE_EXTERNAL);
    ASSERT_EQ(q.unit, 'W');
    ASSERT_DBL_NEAR(q.limit_now, 22000.35, 0); /* no multipleOf in 2.0.1 */
    ASSERT_EQ(q.phases, 3);
    ASSERT_EQ(q.valid_to, T0 + 3600);
    ASSERT_EQ(set_profile(OCPP_201, "{'evseId':1,'chargingProfile':{'id':13,'stackLevel':0,"
                          "'chargingProfilePurpose':'TxProfile','chargingProfileKind':'Absolute',"
                          "'transactionId':'TX-77','chargingSchedule':[{'id':1,'startSchedule':"
                          "'2024-05-01T10:00:00Z','chargingRateUnit':'A','chargingSchedulePeriod':"
                          "[{'startPeriod':0,'limit':20}]}]}}", T0, &q), 0);
    ASSERT_STR_EQ(q.transaction_id, "TX-77");
    ASSERT_DBL_NEAR(q.limit_now, 20, 0);
    /* validFrom in the future: nothing in force yet. */
    ASSERT_EQ(set_profile(OCPP_201, "{'evseId':1,'chargingProfile':{'id':13,'stackLevel':0,"
                          "'chargingProfilePurpose':'TxDefaultProfile','chargingProfileKind':"
                          "'Relative','validFrom':'2024-05-01T10:00:01Z','chargingSchedule':[{"
                          "'id':1,'chargingRateUnit':'A','chargingSchedulePeriod':[{"
                          "'startPeriod':0,'limit':20}]}]}}", T0, &q), 0);
    ASSERT(isnan(q.limit_now));
    ASSERT_EQ(q.valid_from, T0 + 1);
}

TEST(parse_set_profile_bad)
{
#define P16(prof) "{'connectorId':0,'csChargingProfiles':{" prof "}}"
#define OK16 "'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':'TxDefaultProfile'," \
             "'chargingProfileKind':'Absolute'"
#define P201(prof) "{'evseId':0,'chargingProfile':{" prof "}}"
#define OK201 "'id':1,'stackLevel':0,'chargingProfilePurpose':'TxDefaultProfile'," \
              "'chargingProfileKind':'Absolute'"
    static const struct { enum ocpp_version v; const char *json; int rc; } cases[] = {
        { OCPP_16, "{'csChargingProfiles':{}}", -EINVAL },
        { OCPP_16, "{'connectorId':0}", -EINVAL },
        { OCPP_16, P16("'stackLevel':0"), -EINVAL },
        { OCPP_16, P16(OK16), -EINVAL },
        { OCPP_16, P16(OK16 ",'chargingSchedule':{'chargingSchedulePeriod':[]}"), -EINVAL },
        { OCPP_16, P16(OK16 ",'chargingSchedule':{'chargingRateUnit':'A'}"), -EINVAL },
        { OCPP_16, P16(OK16 ",'chargingSchedule':{'chargingRateUnit':'A',"
                       "'chargingSchedulePeriod':[]}"), -EINVAL },
        { OCPP_16, P16(OK16 ",'chargingSchedule':{'chargingRateUnit':'A',"
                       "'chargingSchedulePeriod':[{'limit':6}]}"), -EINVAL },
        { OCPP_16, P16(OK16 ",'chargingSchedule':{'chargingRateUnit':'A',"
                       "'chargingSchedulePeriod':[{'startPeriod':0}]}"), -EINVAL },
        { OCPP_16, P16(OK16 ",'chargingSchedule':{'chargingRateUnit':'A',"
                       "'chargingSchedulePeriod':[{'startPeriod':0,'limit':7.35}]}"), -EPROTO },
        { OCPP_16, P16(OK16 ",'chargingSchedule':{'chargingRateUnit':'A',"
                       "'chargingSchedulePeriod':[{'startPeriod':0,'limit':'16'}]}"), -EPROTO },
        { OCPP_16, P16(OK16 ",'chargingSchedule':{'chargingRateUnit':'A',"
                       "'chargingSchedulePeriod':[{'startPeriod':0,'limit':-1}]}"), -EPROTO },
        { OCPP_16, P16(OK16 ",'chargingSchedule':{'chargingRateUnit':'A',"
                       "'chargingSchedulePeriod':[{'startPeriod':0,'limit':1e300}]}"), -EPROTO },
        { OCPP_16, P16(OK16 ",'chargingSchedule':{'chargingRateUnit':'A',"
                       "'chargingSchedulePeriod':[{'startPeriod':0,'limit':6,'numberPhases':4}]}"),
          -EPROTO },
        { OCPP_16, P16(OK16 ",'chargingSchedule':{'chargingRateUnit':'A',"
                       "'chargingSchedulePeriod':[{'startPeriod':60,'limit':6},{'startPeriod':60,"
                       "'limit':7}]}"), -EPROTO },
        { OCPP_16, P16(OK16 ",'chargingSchedule':{'chargingRateUnit':'A',"
                       "'chargingSchedulePeriod':[{'startPeriod':-1,'limit':6}]}"), -EPROTO },
        { OCPP_16, P16(OK16 ",'chargingSchedule':{'chargingRateUnit':'kW',"
                       "'chargingSchedulePeriod':[{'startPeriod':0,'limit':6}]}"), -EPROTO },
        { OCPP_16, P16(OK16 ",'chargingSchedule':{'chargingRateUnit':'A','duration':-5,"
                       "'chargingSchedulePeriod':[{'startPeriod':0,'limit':6}]}"), -EPROTO },
        { OCPP_16, P16(OK16 ",'chargingSchedule':{'chargingRateUnit':'A','startSchedule':"
                       "'now','chargingSchedulePeriod':[{'startPeriod':0,'limit':6}]}"), -EPROTO },
        { OCPP_16, P16(OK16 ",'chargingSchedule':[{'chargingRateUnit':'A',"
                       "'chargingSchedulePeriod':[{'startPeriod':0,'limit':6}]}]"), -EPROTO },
        { OCPP_16, P16(OK16 ",'chargingSchedule':{'chargingRateUnit':'A',"
                       "'chargingSchedulePeriod':{'startPeriod':0,'limit':6}}"), -EPROTO },
        { OCPP_16, P16(OK16 ",'chargingSchedule':{'chargingRateUnit':'A',"
                       "'chargingSchedulePeriod':[[0,6]]}"), -EPROTO },
        { OCPP_16, P16(OK16 ",'transactionId':'5','chargingSchedule':{'chargingRateUnit':'A',"
                       "'chargingSchedulePeriod':[{'startPeriod':0,'limit':6}]}"), -EPROTO },
        { OCPP_16, P16(OK16 ",'recurrencyKind':'Monthly','chargingSchedule':{'chargingRateUnit':"
                       "'A','chargingSchedulePeriod':[{'startPeriod':0,'limit':6}]}"), -EPROTO },
        { OCPP_16, P16("'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':"
                       "'ChargingStationMaxProfile','chargingProfileKind':'Absolute',"
                       "'chargingSchedule':{'chargingRateUnit':'A','chargingSchedulePeriod':[{"
                       "'startPeriod':0,'limit':6}]}"), -EPROTO },
        { OCPP_16, P16("'chargingProfileId':1,'stackLevel':-1,'chargingProfilePurpose':"
                       "'TxProfile','chargingProfileKind':'Absolute',"
                       "'chargingSchedule':{'chargingRateUnit':'A','chargingSchedulePeriod':[{"
                       "'startPeriod':0,'limit':6}]}"), -EPROTO },
        { OCPP_16, P16("'chargingProfileId':1,'stackLevel':0,'chargingProfilePurpose':"
                       "'TxProfile','chargingProfileKind':'Sometimes',"
                       "'chargingSchedule':{'chargingRateUnit':'A','chargingSchedulePeriod':[{"
                       "'startPeriod':0,'limit':6}]}"), -EPROTO },
        { OCPP_16, "{'connectorId':1,'csChargingProfiles':{'chargingProfileId':1,'stackLevel':0,"
                   "'chargingProfilePurpose':'ChargePointMaxProfile','chargingProfileKind':"
                   "'Absolute','chargingSchedule':{'chargingRateUnit':'A',"
                   "'chargingSchedulePeriod':[{'startPeriod':0,'limit':6}]}}}", -EPROTO },
        { OCPP_201, P201(OK201 ",'chargingSchedule':{'id':1,'chargingRateUnit':'A',"
                         "'chargingSchedulePeriod':[{'startPeriod':0,'limit':6}]}"), -EPROTO },
        { OCPP_201, P201(OK201 ",'chargingSchedule':[]"), -EPROTO },
        { OCPP_201, P201(OK201 ",'chargingSchedule':[1]"), -EPROTO },
        { OCPP_201, P201(OK201 ",'chargingSchedule':[{},{},{},{}]"), -EPROTO },
        { OCPP_201, P201(OK201 ",'transactionId':5,'chargingSchedule':[{'id':1,"
                         "'chargingRateUnit':'A','chargingSchedulePeriod':[{'startPeriod':0,"
                         "'limit':6}]}]"), -EPROTO },
        { OCPP_201, P201("'id':1,'stackLevel':0,'chargingProfilePurpose':'ChargePointMaxProfile',"
                         "'chargingProfileKind':'Absolute','chargingSchedule':[{'id':1,"
                         "'chargingRateUnit':'A','chargingSchedulePeriod':[{'startPeriod':0,"
                         "'limit':6}]}]"), -EPROTO },
        { OCPP_201, "{'evseId':0,'csChargingProfiles':{}}", -EINVAL },
        { OCPP_201, "{'evseId':'0','chargingProfile':{}}", -EPROTO },
    };
    struct ocpp_csms_profile q;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = set_profile(cases[i].v, cases[i].json, T0, &q);

        if (rc != cases[i].rc)
            TEST__FAIL("case %zu: %d, want %d: %s", i, rc, cases[i].rc, cases[i].json);
        ASSERT_EQ(q.profile_id, -1);
        ASSERT(isnan(q.limit_now));
    }
    /* 7.3 is a multiple of 0.1 as a peer reads it. */
    ASSERT_EQ(set_profile(OCPP_16, P16(OK16 ",'chargingSchedule':{'chargingRateUnit':'A',"
                                       "'chargingSchedulePeriod':[{'startPeriod':0,'limit':7.3}]}"),
                          T0, &q), 0);
    ASSERT(q.limit_now == 7.3);
    ASSERT_EQ(set_profile(OCPP_16, "garbage", T0, &q), -EINVAL);
    ASSERT_EQ(set_profile((enum ocpp_version)2, "{}", T0, &q), -EINVAL);
    /* An extreme now does not overflow anything. */
    ASSERT_EQ(set_profile(OCPP_16, P16(OK16 ",'chargingSchedule':{'chargingRateUnit':'A',"
                                       "'startSchedule':'0001-01-01T00:00:00Z',"
                                       "'chargingSchedulePeriod':[{'startPeriod':0,'limit':7}]}"),
                          (time_t)INT64_MAX, &q), 0);
    ASSERT_DBL_NEAR(q.limit_now, 7, 0);
    ASSERT_EQ(set_profile(OCPP_16, P16(OK16 ",'chargingSchedule':{'chargingRateUnit':'A',"
                                       "'startSchedule':'9999-01-01T00:00:00Z',"
                                       "'chargingSchedulePeriod':[{'startPeriod':0,'limit':7}]}"),
                          (time_t)INT64_MIN, &q), 0);
    ASSERT(isnan(q.limit_now));
#undef P16
#undef OK16
#undef P201
#undef OK201
}

TEST(parse_clear_profile)
{
    struct ocpp_clear_filter f;

    ASSERT_EQ(clear_profile(OCPP_16, "{'id':5}", &f), 0);
    ASSERT_EQ(f.profile_id, 5);
    ASSERT_EQ(f.connector, -1);
    ASSERT_EQ(f.stack_level, -1);
    ASSERT(!f.has_purpose);
    ASSERT_EQ(clear_profile(OCPP_16, "{'connectorId':0,'chargingProfilePurpose':"
                            "'ChargePointMaxProfile','stackLevel':3}", &f), 0);
    ASSERT_EQ(f.profile_id, -1);
    ASSERT_EQ(f.connector, 0);
    ASSERT_EQ(f.stack_level, 3);
    ASSERT(f.has_purpose);
    ASSERT_EQ(f.purpose, OCPP_PURPOSE_CHARGER_MAX);
    ASSERT_EQ(clear_profile(OCPP_16, "{}", &f), 0);
    ASSERT(f.profile_id == -1 && f.connector == -1 && f.stack_level == -1 && !f.has_purpose);
    ASSERT_EQ(clear_profile(OCPP_16, "{'id':'5'}", &f), -EPROTO);
    ASSERT_EQ(clear_profile(OCPP_16, "{'chargingProfilePurpose':'ChargingStationMaxProfile'}",
                            &f), -EPROTO);
    ASSERT(!f.has_purpose);
    ASSERT_EQ(clear_profile(OCPP_16, "{'connectorId':-2}", &f), -EPROTO);
    ASSERT_EQ(clear_profile(OCPP_16, "[]", &f), -EINVAL);

    ASSERT_EQ(clear_profile(OCPP_201, "{'chargingProfileId':7}", &f), 0);
    ASSERT_EQ(f.profile_id, 7);
    ASSERT_EQ(f.connector, -1);
    ASSERT_EQ(clear_profile(OCPP_201, "{'chargingProfileCriteria':{'evseId':0,"
                            "'chargingProfilePurpose':'ChargingStationMaxProfile','stackLevel':2}}",
                            &f), 0);
    ASSERT_EQ(f.profile_id, -1);
    ASSERT_EQ(f.connector, 0);
    ASSERT_EQ(f.stack_level, 2);
    ASSERT(f.has_purpose);
    ASSERT_EQ(f.purpose, OCPP_PURPOSE_CHARGER_MAX);
    ASSERT_EQ(clear_profile(OCPP_201, "{'chargingProfileCriteria':{'chargingProfilePurpose':"
                            "'ChargingStationExternalConstraints'}}", &f), 0);
    ASSERT_EQ(f.purpose, OCPP_PURPOSE_EXTERNAL);
    /* 1.6 names at the top level mean nothing in 2.0.1 (not validated, not read). */
    ASSERT_EQ(clear_profile(OCPP_201, "{'connectorId':1}", &f), 0);
    ASSERT_EQ(f.connector, -1);
    ASSERT_EQ(clear_profile(OCPP_201, "{'chargingProfileCriteria':{'chargingProfilePurpose':"
                            "'ChargePointMaxProfile'}}", &f), -EPROTO);
    ASSERT_EQ(clear_profile(OCPP_201, "{'chargingProfileCriteria':[]}", &f), -EPROTO);
    ASSERT_EQ(clear_profile(OCPP_201, "{'chargingProfileId':1.5}", &f), -EPROTO);
}

TEST(parse_reply_status)
{
    enum ocpp_reply r;

    ASSERT_EQ(reply("{'status':'Accepted'}", &r), 0);
    ASSERT_EQ(r, OCPP_REPLY_ACCEPTED);
    ASSERT_EQ(reply("{'status':'Rejected','statusInfo':{'reasonCode':'X'}}", &r), 0);
    ASSERT_EQ(r, OCPP_REPLY_REJECTED);
    ASSERT_EQ(reply("{'status':'NotSupported'}", &r), 0);
    ASSERT_EQ(r, OCPP_REPLY_NOT_SUPPORTED);
    ASSERT_EQ(reply("{'status':'Unknown'}", &r), 0);
    ASSERT_EQ(r, OCPP_REPLY_UNKNOWN);
    ASSERT_EQ(reply("{'status':'accepted'}", &r), -EPROTO);
    ASSERT_EQ(r, OCPP_REPLY_REJECTED);
    ASSERT_EQ(reply("{'status':1}", &r), -EPROTO);
    ASSERT_EQ(reply("{}", &r), -EINVAL);
    ASSERT_EQ(reply("{'status':'Accepted'", &r), -EINVAL);
    ASSERT_EQ(reply("'Accepted'", &r), -EINVAL);
}

/* ------------------------------------------------------------ caps */

TEST(caps16)
{
    struct ocpp_caps c;

    ASSERT_EQ(caps(OCPP_16, "{'configurationKey':["
                   "{'key':'SupportedFeatureProfiles','readonly':true,'value':"
                   "'Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,"
                   "RemoteTrigger'},"
                   "{'key':'ChargeProfileMaxStackLevel','readonly':true,'value':'10'},"
                   "{'key':'ChargingScheduleAllowedChargingRateUnit','readonly':true,'value':"
                   "'Current,Power'},"
                   "{'key':'MaxChargingProfilesInstalled','readonly':true,'value':'20'}]}", &c), 0);
    ASSERT_EQ(c.smart_charging, 1);
    ASSERT_EQ(c.max_stack_level, 10);
    ASSERT(c.unit_a && c.unit_w);
    ASSERT_EQ(c.max_profiles, 20);

    /* Spaces and case; only one unit; no smart charging. */
    ASSERT_EQ(caps(OCPP_16, "{'configurationKey':["
                   "{'key':'supportedfeatureprofiles','readonly':true,'value':' Core , "
                   "RemoteTrigger '},"
                   "{'key':'ChargingScheduleAllowedChargingRateUnit','readonly':true,'value':"
                   "' current '}],'unknownKey':['ChargeProfileMaxStackLevel',"
                   "'MaxChargingProfilesInstalled']}", &c), 0);
    ASSERT_EQ(c.smart_charging, 0);
    ASSERT_EQ(c.max_stack_level, -1);
    ASSERT(c.unit_a && !c.unit_w);
    ASSERT_EQ(c.max_profiles, -1);
    /* SmartChargingX is not SmartCharging. */
    ASSERT_EQ(caps(OCPP_16, "{'configurationKey':[{'key':'SupportedFeatureProfiles',"
                   "'readonly':true,'value':'Core,SmartChargingX'}]}", &c), 0);
    ASSERT_EQ(c.smart_charging, 0);

    /* Unknown answers. */
    ASSERT_EQ(caps(OCPP_16, "{}", &c), 0);
    ASSERT(c.smart_charging == -1 && c.max_stack_level == -1 && !c.unit_a && !c.unit_w &&
           c.max_profiles == -1);
    ASSERT_EQ(caps(OCPP_16, "{'unknownKey':['SupportedFeatureProfiles']}", &c), 0);
    ASSERT_EQ(c.smart_charging, -1);
    ASSERT_EQ(caps(OCPP_16, "{'configurationKey':[{'key':'ChargeProfileMaxStackLevel',"
                   "'readonly':true},{'key':'MaxChargingProfilesInstalled','readonly':true,"
                   "'value':'ten'},{'key':'SupportedFeatureProfiles','readonly':true}]}", &c), 0);
    ASSERT_EQ(c.max_stack_level, -1);
    ASSERT_EQ(c.max_profiles, -1);
    ASSERT_EQ(c.smart_charging, -1);
    ASSERT_EQ(caps(OCPP_16, "{'configurationKey':[{'key':'ChargeProfileMaxStackLevel',"
                   "'readonly':true,'value':'99999999999'}]}", &c), 0);
    ASSERT_EQ(c.max_stack_level, -1);

    /* Schema violations. */
    ASSERT_EQ(caps(OCPP_16, "{'configurationKey':{}}", &c), -EPROTO);
    ASSERT_EQ(caps(OCPP_16, "{'configurationKey':['SupportedFeatureProfiles']}", &c), -EPROTO);
    ASSERT_EQ(caps(OCPP_16, "{'configurationKey':[{'key':5,'value':'x'}]}", &c), -EPROTO);
    ASSERT_EQ(caps(OCPP_16, "{'configurationKey':[{'value':'x'}]}", &c), -EINVAL);
    ASSERT_EQ(caps(OCPP_16, "{'configurationKey':[{'key':'ChargeProfileMaxStackLevel',"
                   "'value':10}]}", &c), -EPROTO);
    ASSERT_EQ(c.max_stack_level, -1);
    ASSERT_EQ(caps(OCPP_16, "nope", &c), -EINVAL);
}

TEST(caps201)
{
    struct ocpp_caps c;

#define R(status, var, value) "{'attributeStatus':'" status "','component':{'name':" \
        "'SmartChargingCtrlr'},'variable':{'name':'" var "'}" value "}"
    ASSERT_EQ(caps(OCPP_201, "{'getVariableResult':["
                   R("Accepted", "Available", ",'attributeValue':'true'") ","
                   R("Accepted", "Enabled", ",'attributeValue':'true'") ","
                   R("Accepted", "ProfileStackLevel", ",'attributeValue':'5'") ","
                   R("Accepted", "RateUnit", ",'attributeValue':'A,W'") "]}", &c), 0);
    ASSERT_EQ(c.smart_charging, 1);
    ASSERT_EQ(c.max_stack_level, 5);
    ASSERT(c.unit_a && c.unit_w);
    ASSERT_EQ(c.max_profiles, -1);

    ASSERT_EQ(caps(OCPP_201, "{'getVariableResult':["
                   R("Accepted", "Available", ",'attributeValue':'TRUE'") ","
                   R("Accepted", "Enabled", ",'attributeValue':'false'") ","
                   R("Accepted", "RateUnit", ",'attributeValue':'W'") "]}", &c), 0);
    ASSERT_EQ(c.smart_charging, 0);
    ASSERT(!c.unit_a && c.unit_w);

    ASSERT_EQ(caps(OCPP_201, "{'getVariableResult':["
                   R("UnknownVariable", "Available", "") ","
                   R("Accepted", "Enabled", ",'attributeValue':'true'") ","
                   R("Rejected", "ProfileStackLevel", ",'attributeValue':'5'") ","
                   R("Accepted", "RateUnit", ",'attributeValue':'A,W','attributeType':'Target'")
                   "]}", &c), 0);
    ASSERT_EQ(c.smart_charging, 1);
    ASSERT_EQ(c.max_stack_level, -1);
    ASSERT(!c.unit_a && !c.unit_w);

    /* Nothing usable: all unknown. Another component is not ours. */
    ASSERT_EQ(caps(OCPP_201, "{'getVariableResult':["
                   R("UnknownComponent", "Available", "") ","
                   R("Accepted", "Enabled", ",'attributeValue':'maybe'") ","
                   R("Accepted", "ProfileStackLevel", ",'attributeValue':'-1'") ","
                   "{'attributeStatus':'Accepted','attributeValue':'true','component':{'name':"
                   "'OCPPCommCtrlr'},'variable':{'name':'Available'}}]}", &c), 0);
    ASSERT(c.smart_charging == -1 && c.max_stack_level == -1 && !c.unit_a && !c.unit_w &&
           c.max_profiles == -1);
    ASSERT_EQ(caps(OCPP_201, "{'getVariableResult':[{'attributeStatus':'Accepted',"
                   "'attributeValue':'7','component':{'name':'smartchargingctrlr'},'variable':"
                   "{'name':'profilestacklevel'}}]}", &c), 0);
    ASSERT_EQ(c.max_stack_level, 7);

    /* Schema violations. */
    ASSERT_EQ(caps(OCPP_201, "{}", &c), -EINVAL);
    ASSERT_EQ(caps(OCPP_201, "{'getVariableResult':{}}", &c), -EPROTO);
    ASSERT_EQ(caps(OCPP_201, "{'getVariableResult':[" R("Fine", "Available", "") "]}", &c),
              -EPROTO);
    ASSERT_EQ(caps(OCPP_201, "{'getVariableResult':[{'attributeStatus':'Accepted',"
                   "'variable':{'name':'Available'}}]}", &c), -EINVAL);
    ASSERT_EQ(caps(OCPP_201, "{'getVariableResult':[" R("Accepted", "Available",
                   ",'attributeValue':true") "]}", &c), -EPROTO);
    ASSERT_EQ(c.smart_charging, -1);
    ASSERT_EQ(caps((enum ocpp_version)9, "{}", &c), -EINVAL);
#undef R
}

TEST(names)
{
    ASSERT_STR_EQ(ocpp_status_str(OCPP_ST_SUSPENDED_EVSE), "SuspendedEVSE");
    ASSERT_STR_EQ(ocpp_status_str((enum ocpp_status)99), "Unknown");
    ASSERT_STR_EQ(ocpp_purpose_str(OCPP_16, OCPP_PURPOSE_CHARGER_MAX), "ChargePointMaxProfile");
    ASSERT_STR_EQ(ocpp_purpose_str(OCPP_201, OCPP_PURPOSE_CHARGER_MAX),
                  "ChargingStationMaxProfile");
    ASSERT_NULL(ocpp_purpose_str(OCPP_16, OCPP_PURPOSE_EXTERNAL));
    ASSERT_NULL(ocpp_purpose_str(OCPP_201, (enum ocpp_purpose)4));
}

/* Run last: the observation tests above went through the relay's path too. */
TEST(frame_path_was_compared)
{
    ASSERT(frame_path_checks >= 50);
}

int main(void)
{
    RUN(time_parse);
    RUN(time_format);
    RUN(decimal_parse);
    RUN(floor_tenths);
    RUN(observe16_boot);
    RUN(observe16_status);
    RUN(observe16_start_stop);
    RUN(observe16_meter_values);
    RUN(observe16_meter_bad_values);
    RUN(observe201_boot_status);
    RUN(observe201_transaction_event);
    RUN(observe201_charging_states);
    RUN(observe201_transaction_event_bad);
    RUN(observe201_meter_values_and_needs);
    RUN(observe_other_actions);
    RUN(observe_hostile);
    RUN(observe_result);
    RUN(write_set_profile_exact);
    RUN(write_flooring);
    RUN(write_invalid);
    RUN(write_enospc);
    RUN(write_small);
    RUN(round_trip);
    RUN(parse_set_profile16);
    RUN(parse_set_profile_recurring);
    RUN(parse_set_profile201);
    RUN(parse_set_profile_bad);
    RUN(parse_clear_profile);
    RUN(parse_reply_status);
    RUN(caps16);
    RUN(caps201);
    RUN(names);
    RUN(frame_path_was_compared);
    return test_summary();
}

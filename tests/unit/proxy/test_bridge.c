/* OCPP 1.6 <-> 2.0.1 payload mapping (proxy/bridge*.c): tables of inputs
 * and the exact payloads (or errors) they map to, both directions; every
 * row of the mapping table against hostile input. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bridge.h"
#include "test.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define NOW 1700000000 /* 2023-11-14T22:13:20Z */

struct row {
    const char *name;
    bridge_fn fn;
    struct bridge_ctx ctx;
    const char *in;
    const char *want; /* the payload, or NULL with rc */
    int rc;
};

static struct bridge_ctx ctx_of(int connector)
{
    struct bridge_ctx c = { .connector = connector, .remote_start_id = -1, .meter_wh = NAN, .now = NOW,
                            .token_type = "ISO14443" };
    return c;
}

/* Runs one row; false (and why on stderr) when it does not hold. */
static bool run_row(const struct row *r)
{
    cJSON *in = cJSON_Parse(r->in), *out = (cJSON *)1;
    if (!in) {
        fprintf(stderr, "  %s: test input is not JSON\n", r->name);
        return false;
    }
    int rc = r->fn(in, &r->ctx, &out);
    bool ok;
    if (!r->want) {
        ok = rc == r->rc && out == NULL;
        if (!ok)
            fprintf(stderr, "  %s: rc %d (want %d), out %s\n", r->name, rc, r->rc, out ? "set" : "NULL");
    } else {
        cJSON *want = cJSON_Parse(r->want);
        ok = rc == 0 && want && cJSON_Compare(out, want, 1);
        if (!ok) {
            char *got = rc == 0 ? cJSON_PrintUnformatted(out) : NULL;
            fprintf(stderr, "  %s: rc %d\n    got:  %s\n    want: %s\n", r->name, rc, got ? got : "-", r->want);
            free(got);
        }
        cJSON_Delete(want);
    }
    if (rc == 0)
        cJSON_Delete(out);
    cJSON_Delete(in);
    return ok;
}

static bool run_rows(const struct row *rows, size_t n)
{
    bool all = true;
    for (size_t i = 0; i < n; i++)
        all = run_row(&rows[i]) && all;
    return all;
}

static bridge_fn call_of(enum ocpp_version from, enum ocpp_version to, const char *action)
{
    const struct bridge_rule *r = bridge_rule(from, to, action);
    return r ? r->call : NULL;
}

static bridge_fn answer_of(enum ocpp_version from, enum ocpp_version to, const char *action)
{
    const struct bridge_rule *r = bridge_rule(from, to, action);
    return r ? r->answer : NULL;
}

/* ---- a 1.6 charger behind a 2.0.1 site ---- */

TEST(start_16_201)
{
    struct bridge_ctx plain = ctx_of(3), remote = ctx_of(3);
    plain.tx201 = remote.tx201 = "tx-a";
    plain.charging_state = "EVConnected";
    remote.remote_start_id = 42;
    remote.token_type = "Central";
    remote.seq_no = 0;
    const struct row rows[] = {
        { "plain", bridge_start_16_201, plain,
          "{\"connectorId\":1,\"idTag\":\"TAG1\",\"meterStart\":1200,\"timestamp\":\"2024-01-01T10:00:00Z\"}",
          "{\"eventType\":\"Started\",\"timestamp\":\"2024-01-01T10:00:00Z\",\"triggerReason\":\"Authorized\","
          "\"seqNo\":0,\"transactionInfo\":{\"transactionId\":\"tx-a\",\"chargingState\":\"EVConnected\"},"
          "\"idToken\":{\"idToken\":\"TAG1\",\"type\":\"ISO14443\"},\"evse\":{\"id\":3,\"connectorId\":1},"
          "\"meterValue\":[{\"timestamp\":\"2024-01-01T10:00:00Z\",\"sampledValue\":[{\"value\":1200,"
          "\"context\":\"Transaction.Begin\",\"measurand\":\"Energy.Active.Import.Register\","
          "\"unitOfMeasure\":{\"unit\":\"Wh\"}}]}]}", 0 },
        { "remote start, reservation", bridge_start_16_201, remote,
          "{\"connectorId\":1,\"idTag\":\"R\",\"meterStart\":0,\"timestamp\":\"2024-01-01T10:00:00Z\","
          "\"reservationId\":7}",
          "{\"eventType\":\"Started\",\"timestamp\":\"2024-01-01T10:00:00Z\",\"triggerReason\":\"RemoteStart\","
          "\"seqNo\":0,\"transactionInfo\":{\"transactionId\":\"tx-a\",\"remoteStartId\":42},"
          "\"idToken\":{\"idToken\":\"R\",\"type\":\"Central\"},\"evse\":{\"id\":3,\"connectorId\":1},"
          "\"meterValue\":[{\"timestamp\":\"2024-01-01T10:00:00Z\",\"sampledValue\":[{\"value\":0,"
          "\"context\":\"Transaction.Begin\",\"measurand\":\"Energy.Active.Import.Register\","
          "\"unitOfMeasure\":{\"unit\":\"Wh\"}}]}],\"reservationId\":7}", 0 },
        { "no idTag", bridge_start_16_201, plain,
          "{\"connectorId\":1,\"meterStart\":0,\"timestamp\":\"2024-01-01T10:00:00Z\"}", NULL, -EPROTO },
        { "idTag of 21", bridge_start_16_201, plain,
          "{\"connectorId\":1,\"idTag\":\"123456789012345678901\",\"meterStart\":0,"
          "\"timestamp\":\"2024-01-01T10:00:00Z\"}", NULL, -EPROTO },
        { "meterStart text", bridge_start_16_201, plain,
          "{\"connectorId\":1,\"idTag\":\"T\",\"meterStart\":\"5\",\"timestamp\":\"2024-01-01T10:00:00Z\"}",
          NULL, -EPROTO },
        { "meterStart fraction", bridge_start_16_201, plain,
          "{\"connectorId\":1,\"idTag\":\"T\",\"meterStart\":5.5,\"timestamp\":\"2024-01-01T10:00:00Z\"}",
          NULL, -EPROTO },
        { "bad time", bridge_start_16_201, plain,
          "{\"connectorId\":1,\"idTag\":\"T\",\"meterStart\":5,\"timestamp\":\"yesterday\"}", NULL, -EPROTO },
        { "not an object", bridge_start_16_201, plain, "[1,2]", NULL, -EPROTO },
    };
    ASSERT(run_rows(rows, N(rows)));
}

TEST(meter_values_16_201)
{
    struct bridge_ctx tx = ctx_of(2);
    tx.tx201 = "tx-b";
    tx.seq_no = 4;
    const struct row rows[] = {
        /* kWh gets a multiplier, RPM (not in 2.0.1), signed data and a value
         * that is not a number are left out */
        { "mapped and filtered", bridge_meter_tx_16_201, tx,
          "{\"connectorId\":1,\"transactionId\":9,\"meterValue\":[{\"timestamp\":\"2024-01-01T10:05:00Z\","
          "\"sampledValue\":[{\"value\":\"1.5\",\"unit\":\"kWh\",\"context\":\"Sample.Clock\"},"
          "{\"value\":\"900\",\"measurand\":\"RPM\"},{\"value\":\"abc\"},{\"value\":\"1e400\"},"
          "{\"value\":\"7\",\"format\":\"SignedData\"},{\"value\":\"21.5\",\"measurand\":\"Temperature\"},"
          "{\"value\":\"16.0\",\"measurand\":\"Current.Import\",\"phase\":\"L2\",\"unit\":\"A\","
          "\"location\":\"Outlet\"},{\"value\":\"3\",\"unit\":\"Celcius\",\"measurand\":\"Voltage\"}]}]}",
          "{\"eventType\":\"Updated\",\"timestamp\":\"2024-01-01T10:05:00Z\",\"triggerReason\":\"MeterValueClock\","
          "\"seqNo\":4,\"transactionInfo\":{\"transactionId\":\"tx-b\"},\"meterValue\":[{\"timestamp\":"
          "\"2024-01-01T10:05:00Z\",\"sampledValue\":[{\"value\":1.5,\"context\":\"Sample.Clock\","
          "\"unitOfMeasure\":{\"unit\":\"Wh\",\"multiplier\":3}},{\"value\":16,\"measurand\":\"Current.Import\","
          "\"phase\":\"L2\",\"location\":\"Outlet\",\"unitOfMeasure\":{\"unit\":\"A\"}},{\"value\":3,"
          "\"measurand\":\"Voltage\",\"unitOfMeasure\":{\"unit\":\"Celsius\"}}]}]}", 0 },
        { "nothing 2.0.1 can carry", bridge_meter_tx_16_201, tx,
          "{\"connectorId\":1,\"meterValue\":[{\"timestamp\":\"2024-01-01T10:05:00Z\","
          "\"sampledValue\":[{\"value\":\"x\"},{\"value\":\"1\",\"unit\":\"furlong\"}]}]}", NULL, -ENODATA },
        { "bad enum leaves the sample out", bridge_meter_tx_16_201, tx,
          "{\"connectorId\":1,\"meterValue\":[{\"timestamp\":\"2024-01-01T10:05:00Z\","
          "\"sampledValue\":[{\"value\":\"1\",\"phase\":\"L4\"}]}]}", NULL, -ENODATA },
        { "no timestamp", bridge_meter_tx_16_201, tx,
          "{\"connectorId\":1,\"meterValue\":[{\"sampledValue\":[{\"value\":\"1\"}]}]}", NULL, -EPROTO },
        { "meterValue not an array", bridge_meter_tx_16_201, tx, "{\"connectorId\":1,\"meterValue\":{}}",
          NULL, -EPROTO },
        { "plain MeterValues on an EVSE", call_of(OCPP_16, OCPP_201, "MeterValues"), ctx_of(2),
          "{\"connectorId\":1,\"meterValue\":[{\"timestamp\":\"2024-01-01T10:05:00Z\","
          "\"sampledValue\":[{\"value\":\"230.1\",\"measurand\":\"Voltage\",\"unit\":\"V\"}]}]}",
          "{\"evseId\":2,\"meterValue\":[{\"timestamp\":\"2024-01-01T10:05:00Z\",\"sampledValue\":[{"
          "\"value\":230.1,\"measurand\":\"Voltage\",\"unitOfMeasure\":{\"unit\":\"V\"}}]}]}", 0 },
        { "back to 1.6", call_of(OCPP_201, OCPP_16, "MeterValues"), ctx_of(4),
          "{\"evseId\":1,\"meterValue\":[{\"timestamp\":\"2024-01-01T10:05:00Z\",\"sampledValue\":[{"
          "\"value\":2.5,\"unitOfMeasure\":{\"unit\":\"Wh\",\"multiplier\":3}},{\"value\":1,"
          "\"measurand\":\"Energy.Active.Net\"},{\"value\":7,\"unitOfMeasure\":{\"unit\":\"kWh\"}},"
          "{\"value\":4,\"unitOfMeasure\":{\"unit\":\"A\",\"multiplier\":-99}},"
          "{\"value\":-60,\"unitOfMeasure\":{\"unit\":\"dBm\"}}]}]}",
          "{\"connectorId\":4,\"meterValue\":[{\"timestamp\":\"2024-01-01T10:05:00Z\",\"sampledValue\":[{"
          "\"value\":\"2500\",\"unit\":\"Wh\"},{\"value\":\"7\",\"unit\":\"kWh\"}]}]}", 0 },
    };
    ASSERT(run_rows(rows, N(rows)));
}

TEST(stop_16_201)
{
    struct bridge_ctx tx = ctx_of(2);
    tx.tx201 = "tx-c";
    tx.seq_no = 9;
    const struct row rows[] = {
        { "hard reset", bridge_stop_16_201, tx,
          "{\"transactionId\":5,\"meterStop\":800,\"timestamp\":\"2024-01-01T11:00:00Z\",\"reason\":\"HardReset\"}",
          "{\"eventType\":\"Ended\",\"timestamp\":\"2024-01-01T11:00:00Z\",\"triggerReason\":\"ResetCommand\","
          "\"seqNo\":9,\"transactionInfo\":{\"transactionId\":\"tx-c\",\"stoppedReason\":\"ImmediateReset\"},"
          "\"meterValue\":[{\"timestamp\":\"2024-01-01T11:00:00Z\",\"sampledValue\":[{\"value\":800,"
          "\"context\":\"Transaction.End\",\"measurand\":\"Energy.Active.Import.Register\","
          "\"unitOfMeasure\":{\"unit\":\"Wh\"}}]}]}", 0 },
        { "no reason is Local, the stop's idTag, its end values", bridge_stop_16_201, tx,
          "{\"transactionId\":5,\"idTag\":\"T\",\"meterStop\":800,\"timestamp\":\"2024-01-01T11:00:00Z\","
          "\"transactionData\":[{\"timestamp\":\"2024-01-01T11:00:00Z\",\"sampledValue\":[{\"value\":\"800\","
          "\"context\":\"Transaction.End\"}]}]}",
          "{\"eventType\":\"Ended\",\"timestamp\":\"2024-01-01T11:00:00Z\",\"triggerReason\":\"StopAuthorized\","
          "\"seqNo\":9,\"transactionInfo\":{\"transactionId\":\"tx-c\",\"stoppedReason\":\"Local\"},"
          "\"meterValue\":[{\"timestamp\":\"2024-01-01T11:00:00Z\",\"sampledValue\":[{\"value\":800,"
          "\"context\":\"Transaction.End\"}]}],\"idToken\":{\"idToken\":\"T\",\"type\":\"ISO14443\"}}", 0 },
        { "unlock", bridge_stop_16_201, tx,
          "{\"transactionId\":5,\"meterStop\":1,\"timestamp\":\"2024-01-01T11:00:00Z\",\"reason\":\"UnlockCommand\"}",
          "{\"eventType\":\"Ended\",\"timestamp\":\"2024-01-01T11:00:00Z\",\"triggerReason\":\"UnlockCommand\","
          "\"seqNo\":9,\"transactionInfo\":{\"transactionId\":\"tx-c\",\"stoppedReason\":\"Other\"},"
          "\"meterValue\":[{\"timestamp\":\"2024-01-01T11:00:00Z\",\"sampledValue\":[{\"value\":1,"
          "\"context\":\"Transaction.End\",\"measurand\":\"Energy.Active.Import.Register\","
          "\"unitOfMeasure\":{\"unit\":\"Wh\"}}]}]}", 0 },
        { "unknown reason", bridge_stop_16_201, tx,
          "{\"transactionId\":5,\"meterStop\":1,\"timestamp\":\"2024-01-01T11:00:00Z\",\"reason\":\"Bored\"}",
          NULL, -EPROTO },
        { "no meterStop", bridge_stop_16_201, tx,
          "{\"transactionId\":5,\"timestamp\":\"2024-01-01T11:00:00Z\"}", NULL, -EPROTO },
        { "transactionId too large", bridge_stop_16_201, tx,
          "{\"transactionId\":99999999999,\"meterStop\":1,\"timestamp\":\"2024-01-01T11:00:00Z\"}", NULL, -EPROTO },
    };
    ASSERT(run_rows(rows, N(rows)));
}

TEST(answers_to_a_16_charger)
{
    struct bridge_ctx start = ctx_of(1), stop = ctx_of(1);
    start.tx16 = 17;
    const struct row rows[] = {
        { "start, no verdict: Accepted", bridge_event_answer_16, start, "{}",
          "{\"idTagInfo\":{\"status\":\"Accepted\"},\"transactionId\":17}", 0 },
        { "start, a verdict 1.6 lacks", bridge_event_answer_16, start,
          "{\"idTokenInfo\":{\"status\":\"NoCredit\",\"cacheExpiryDateTime\":\"2030-01-01T00:00:00Z\","
          "\"groupIdToken\":{\"idToken\":\"GROUP-ID-LONGER-THAN-20\",\"type\":\"Central\"}}}",
          "{\"idTagInfo\":{\"status\":\"Invalid\",\"expiryDate\":\"2030-01-01T00:00:00Z\"},\"transactionId\":17}", 0 },
        { "stop, none", bridge_event_answer_16, stop, "{}", "{}", 0 },
        { "stop, blocked with a group", bridge_event_answer_16, stop,
          "{\"idTokenInfo\":{\"status\":\"Blocked\",\"groupIdToken\":{\"idToken\":\"G1\",\"type\":\"Local\"}}}",
          "{\"idTagInfo\":{\"status\":\"Blocked\",\"parentIdTag\":\"G1\"}}", 0 },
        { "unknown status", bridge_event_answer_16, stop, "{\"idTokenInfo\":{\"status\":\"Maybe\"}}", NULL, -EPROTO },
        { "authorize", answer_of(OCPP_16, OCPP_201, "Authorize"), stop,
          "{\"idTokenInfo\":{\"status\":\"Accepted\"}}", "{\"idTagInfo\":{\"status\":\"Accepted\"}}", 0 },
        { "authorize, no verdict", answer_of(OCPP_16, OCPP_201, "Authorize"), stop, "{}", NULL, -EPROTO },
        { "authorize request", call_of(OCPP_16, OCPP_201, "Authorize"), stop, "{\"idTag\":\"AB\"}",
          "{\"idToken\":{\"idToken\":\"AB\",\"type\":\"ISO14443\"}}", 0 },
        { "authorize request, idTag a number", call_of(OCPP_16, OCPP_201, "Authorize"), stop, "{\"idTag\":5}",
          NULL, -EPROTO },
    };
    ASSERT(run_rows(rows, N(rows)));
}

TEST(charging_state_event)
{
    struct bridge_ctx c = ctx_of(1);
    c.tx201 = "t";
    c.seq_no = 3;
    c.charging_state = "SuspendedEV";
    const struct row rows[] = {
        { "state change", bridge_charging_state_201, c, "{}",
          "{\"eventType\":\"Updated\",\"timestamp\":\"2023-11-14T22:13:20Z\",\"triggerReason\":"
          "\"ChargingStateChanged\",\"seqNo\":3,\"transactionInfo\":{\"transactionId\":\"t\","
          "\"chargingState\":\"SuspendedEV\"}}", 0 },
        { "no state", bridge_charging_state_201, ctx_of(1), "{}", NULL, -EINVAL },
    };
    ASSERT(run_rows(rows, N(rows)));
    ASSERT_STR_EQ(bridge_charging_state("Preparing"), "EVConnected");
    ASSERT_NULL(bridge_charging_state("Available"));
    ASSERT_STR_EQ(bridge_status_201("Finishing"), "Occupied");
    ASSERT_NULL(bridge_status_201("Dancing"));
    ASSERT_STR_EQ(bridge_state_status16("EVConnected", false), "Preparing");
    ASSERT_STR_EQ(bridge_state_status16("EVConnected", true), "SuspendedEVSE");
    ASSERT_NULL(bridge_state_status16("Idle", true));
}

TEST(statuses)
{
    struct bridge_ctx occupied = ctx_of(3);
    occupied.occupied_as = "Charging";
    const struct row rows[] = {
        { "1.6 Charging is Occupied", call_of(OCPP_16, OCPP_201, "StatusNotification"), ctx_of(5),
          "{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":\"Charging\","
          "\"timestamp\":\"2024-01-01T10:00:00Z\"}",
          "{\"timestamp\":\"2024-01-01T10:00:00Z\",\"connectorStatus\":\"Occupied\",\"evseId\":5,"
          "\"connectorId\":1}", 0 },
        { "no timestamp: now", call_of(OCPP_16, OCPP_201, "StatusNotification"), ctx_of(5),
          "{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":\"Faulted\"}",
          "{\"timestamp\":\"2023-11-14T22:13:20Z\",\"connectorStatus\":\"Faulted\",\"evseId\":5,"
          "\"connectorId\":1}", 0 },
        { "1.6 status unknown", call_of(OCPP_16, OCPP_201, "StatusNotification"), ctx_of(5),
          "{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":\"Asleep\"}", NULL, -EPROTO },
        { "2.0.1 Occupied in a transaction", call_of(OCPP_201, OCPP_16, "StatusNotification"), occupied,
          "{\"timestamp\":\"2024-01-01T10:00:00Z\",\"connectorStatus\":\"Occupied\",\"evseId\":1,"
          "\"connectorId\":1}",
          "{\"connectorId\":3,\"errorCode\":\"NoError\",\"status\":\"Charging\","
          "\"timestamp\":\"2024-01-01T10:00:00Z\"}", 0 },
        { "2.0.1 Faulted", call_of(OCPP_201, OCPP_16, "StatusNotification"), ctx_of(3),
          "{\"timestamp\":\"2024-01-01T10:00:00Z\",\"connectorStatus\":\"Faulted\",\"evseId\":1,"
          "\"connectorId\":1}",
          "{\"connectorId\":3,\"errorCode\":\"OtherError\",\"status\":\"Faulted\","
          "\"timestamp\":\"2024-01-01T10:00:00Z\"}", 0 },
        { "2.0.1 without a time", call_of(OCPP_201, OCPP_16, "StatusNotification"), ctx_of(3),
          "{\"connectorStatus\":\"Available\",\"evseId\":1,\"connectorId\":1}", NULL, -EPROTO },
    };
    ASSERT(run_rows(rows, N(rows)));
}

/* ---- a 2.0.1 charger behind a 1.6 site ---- */

TEST(event_read)
{
    struct bridge_event ev;
    cJSON *in = cJSON_Parse("{\"eventType\":\"Updated\",\"transactionInfo\":{\"transactionId\":\"x1\","
                            "\"chargingState\":\"SuspendedEVSE\"},\"evse\":{\"id\":2},\"idToken\":{}}");
    ASSERT_EQ(bridge_event_read(in, &ev), 0);
    ASSERT_EQ(ev.type, BRIDGE_UPDATED);
    ASSERT_STR_EQ(ev.tx_id, "x1");
    ASSERT_STR_EQ(ev.charging_state, "SuspendedEVSE");
    ASSERT_EQ(ev.evse, 2);
    ASSERT(ev.id_token);
    cJSON_Delete(in);
    static const struct { const char *in; int rc; } bad[] = {
        { "{\"eventType\":\"Started\"}", -EINVAL },
        { "{\"eventType\":\"Paused\",\"transactionInfo\":{\"transactionId\":\"a\"}}", -EPROTO },
        { "{\"eventType\":\"Started\",\"transactionInfo\":{\"transactionId\":\"\"}}", -EPROTO },
        { "{\"eventType\":\"Started\",\"transactionInfo\":{\"transactionId\":7}}", -EPROTO },
        { "{\"eventType\":\"Started\",\"transactionInfo\":{\"transactionId\":\"a\"},\"evse\":{\"id\":\"1\"}}",
          -EPROTO },
        { "{\"eventType\":\"Started\",\"transactionInfo\":{\"transactionId\":\"a\",\"chargingState\":\"Flying\"}}",
          -EPROTO },
        { "[]", -EINVAL },
    };
    for (size_t i = 0; i < N(bad); i++) {
        in = cJSON_Parse(bad[i].in);
        int rc = bridge_event_read(in, &ev);
        cJSON_Delete(in);
        if (rc != bad[i].rc)
            TEST__FAIL("%s: rc %d, want %d", bad[i].in, rc, bad[i].rc);
    }
}

TEST(events_201_16)
{
    struct bridge_ctx start = ctx_of(3), known = ctx_of(3), none = ctx_of(3);
    start.meter_wh = 4321.6;
    known.tx16 = 88;
    known.meter_wh = 5000;
    const struct row rows[] = {
        { "start, energy from the event in kWh", bridge_event_start_201_16, start,
          "{\"eventType\":\"Started\",\"timestamp\":\"2024-01-01T10:00:00Z\",\"idToken\":{\"idToken\":\"AB\","
          "\"type\":\"ISO14443\"},\"meterValue\":[{\"timestamp\":\"2024-01-01T10:00:00Z\",\"sampledValue\":[{"
          "\"value\":1.25,\"unitOfMeasure\":{\"unit\":\"kWh\"}}]}],\"reservationId\":4}",
          "{\"connectorId\":3,\"idTag\":\"AB\",\"meterStart\":1250,\"reservationId\":4,"
          "\"timestamp\":\"2024-01-01T10:00:00Z\"}", 0 },
        { "start, energy from before", bridge_event_start_201_16, start,
          "{\"timestamp\":\"2024-01-01T10:00:00Z\",\"idToken\":{\"idToken\":\"AB\",\"type\":\"Central\"}}",
          "{\"connectorId\":3,\"idTag\":\"AB\",\"meterStart\":4322,\"timestamp\":\"2024-01-01T10:00:00Z\"}", 0 },
        { "start, idToken too long for 1.6", bridge_event_start_201_16, start,
          "{\"timestamp\":\"2024-01-01T10:00:00Z\",\"idToken\":{\"idToken\":\"0123456789012345678901\","
          "\"type\":\"Central\"}}", NULL, -ERANGE },
        { "start, idToken of no type", bridge_event_start_201_16, start,
          "{\"timestamp\":\"2024-01-01T10:00:00Z\",\"idToken\":{\"idToken\":\"AB\",\"type\":\"Palm\"}}",
          NULL, -EPROTO },
        { "start without idToken", bridge_event_start_201_16, start,
          "{\"timestamp\":\"2024-01-01T10:00:00Z\"}", NULL, -EINVAL },
        { "meter values", bridge_event_meter_201_16, known,
          "{\"meterValue\":[{\"timestamp\":\"2024-01-01T10:01:00Z\",\"sampledValue\":[{\"value\":7.2,"
          "\"measurand\":\"Power.Active.Import\",\"unitOfMeasure\":{\"unit\":\"W\",\"multiplier\":3}}]}]}",
          "{\"connectorId\":3,\"transactionId\":88,\"meterValue\":[{\"timestamp\":\"2024-01-01T10:01:00Z\","
          "\"sampledValue\":[{\"value\":\"7200\",\"measurand\":\"Power.Active.Import\",\"unit\":\"W\"}]}]}", 0 },
        { "no meter values", bridge_event_meter_201_16, known, "{\"eventType\":\"Updated\"}", NULL, -ENODATA },
        { "stop", bridge_event_stop_201_16, known,
          "{\"eventType\":\"Ended\",\"timestamp\":\"2024-01-01T11:00:00Z\",\"transactionInfo\":{"
          "\"transactionId\":\"x\",\"stoppedReason\":\"SOCLimitReached\"}}",
          "{\"transactionId\":88,\"meterStop\":5000,\"timestamp\":\"2024-01-01T11:00:00Z\",\"reason\":\"Other\"}", 0 },
        { "stop with a token and values", bridge_event_stop_201_16, known,
          "{\"eventType\":\"Ended\",\"timestamp\":\"2024-01-01T11:00:00Z\",\"transactionInfo\":{"
          "\"transactionId\":\"x\",\"stoppedReason\":\"ImmediateReset\"},\"idToken\":{\"idToken\":\"AB\","
          "\"type\":\"Local\"},\"meterValue\":[{\"timestamp\":\"2024-01-01T11:00:00Z\",\"sampledValue\":[{"
          "\"value\":6000,\"context\":\"Transaction.End\"}]}]}",
          "{\"transactionId\":88,\"idTag\":\"AB\",\"meterStop\":6000,\"timestamp\":\"2024-01-01T11:00:00Z\","
          "\"reason\":\"HardReset\",\"transactionData\":[{\"timestamp\":\"2024-01-01T11:00:00Z\","
          "\"sampledValue\":[{\"value\":\"6000\",\"context\":\"Transaction.End\"}]}]}", 0 },
        { "stop of a transaction the site does not know", bridge_event_stop_201_16, none,
          "{\"timestamp\":\"2024-01-01T11:00:00Z\",\"transactionInfo\":{\"transactionId\":\"x\"}}", NULL, -ENOENT },
        { "stop, reason unknown", bridge_event_stop_201_16, known,
          "{\"timestamp\":\"2024-01-01T11:00:00Z\",\"transactionInfo\":{\"transactionId\":\"x\","
          "\"stoppedReason\":\"Whim\"}}", NULL, -EPROTO },
        { "answer with a verdict", bridge_event_answer_201, none,
          "{\"transactionId\":5,\"idTagInfo\":{\"status\":\"Blocked\",\"expiryDate\":\"2030-01-01T00:00:00Z\","
          "\"parentIdTag\":\"P\"}}",
          "{\"idTokenInfo\":{\"status\":\"Blocked\",\"cacheExpiryDateTime\":\"2030-01-01T00:00:00Z\","
          "\"groupIdToken\":{\"idToken\":\"P\",\"type\":\"Central\"}}}", 0 },
        { "answer without", bridge_event_answer_201, none, "{}", "{}", 0 },
        { "answer, status unknown to 1.6", bridge_event_answer_201, none,
          "{\"idTagInfo\":{\"status\":\"NoCredit\"}}", NULL, -EPROTO },
        { "authorize", call_of(OCPP_201, OCPP_16, "Authorize"), none,
          "{\"idToken\":{\"idToken\":\"AB\",\"type\":\"eMAID\"}}", "{\"idTag\":\"AB\"}", 0 },
        { "authorize, long", call_of(OCPP_201, OCPP_16, "Authorize"), none,
          "{\"idToken\":{\"idToken\":\"ABCDEFGHIJKLMNOPQRSTU\",\"type\":\"eMAID\"}}", NULL, -ERANGE },
    };
    ASSERT(run_rows(rows, N(rows)));
}

/* ---- the CSMS's commands ---- */

TEST(commands_201_to_16)
{
    struct bridge_ctx c2 = ctx_of(2), tx = ctx_of(1);
    tx.tx16 = 31;
    const struct row rows[] = {
        { "request start", call_of(OCPP_201, OCPP_16, "RequestStartTransaction"), c2,
          "{\"evseId\":5,\"remoteStartId\":9,\"idToken\":{\"idToken\":\"R1\",\"type\":\"Central\"},"
          "\"chargingProfile\":{\"id\":3,\"stackLevel\":0,\"chargingProfilePurpose\":\"TxProfile\","
          "\"chargingProfileKind\":\"Relative\",\"chargingSchedule\":[{\"id\":1,\"chargingRateUnit\":\"W\","
          "\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":7400.07,\"phaseToUse\":1}]}]}}",
          "{\"connectorId\":2,\"idTag\":\"R1\",\"chargingProfile\":{\"chargingProfileId\":3,\"stackLevel\":0,"
          "\"chargingProfilePurpose\":\"TxProfile\",\"chargingProfileKind\":\"Relative\",\"chargingSchedule\":{"
          "\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":7400}]}}}", 0 },
        { "request start, no remoteStartId", call_of(OCPP_201, OCPP_16, "RequestStartTransaction"), c2,
          "{\"idToken\":{\"idToken\":\"R1\",\"type\":\"Central\"}}", NULL, -EPROTO },
        { "request stop", call_of(OCPP_201, OCPP_16, "RequestStopTransaction"), tx,
          "{\"transactionId\":\"abc\"}", "{\"transactionId\":31}", 0 },
        { "request stop, unknown", call_of(OCPP_201, OCPP_16, "RequestStopTransaction"), c2,
          "{\"transactionId\":\"abc\"}", NULL, -ENOENT },
        { "unlock", call_of(OCPP_201, OCPP_16, "UnlockConnector"), c2, "{\"evseId\":9,\"connectorId\":1}",
          "{\"connectorId\":2}", 0 },
        { "availability", call_of(OCPP_201, OCPP_16, "ChangeAvailability"), ctx_of(0),
          "{\"operationalStatus\":\"Inoperative\"}", "{\"connectorId\":0,\"type\":\"Inoperative\"}", 0 },
        { "availability, bad", call_of(OCPP_201, OCPP_16, "ChangeAvailability"), ctx_of(0),
          "{\"operationalStatus\":\"Sleepy\"}", NULL, -EPROTO },
        { "trigger a transaction's values", call_of(OCPP_201, OCPP_16, "TriggerMessage"), c2,
          "{\"requestedMessage\":\"TransactionEvent\",\"evse\":{\"id\":4}}",
          "{\"requestedMessage\":\"MeterValues\",\"connectorId\":2}", 0 },
        { "trigger logs", call_of(OCPP_201, OCPP_16, "TriggerMessage"), ctx_of(0),
          "{\"requestedMessage\":\"LogStatusNotification\"}",
          "{\"requestedMessage\":\"DiagnosticsStatusNotification\"}", 0 },
        { "trigger a certificate", call_of(OCPP_201, OCPP_16, "TriggerMessage"), ctx_of(0),
          "{\"requestedMessage\":\"SignV2GCertificate\"}", NULL, -ENOTSUP },
        { "tx profile", call_of(OCPP_201, OCPP_16, "SetChargingProfile"), tx,
          "{\"evseId\":4,\"chargingProfile\":{\"id\":8,\"stackLevel\":2,\"chargingProfilePurpose\":\"TxProfile\","
          "\"chargingProfileKind\":\"Recurring\",\"recurrencyKind\":\"Daily\",\"validTo\":\"2030-01-01T00:00:00Z\","
          "\"transactionId\":\"abc\",\"chargingSchedule\":[{\"id\":8,\"duration\":3600,"
          "\"startSchedule\":\"2024-01-01T00:00:00Z\",\"chargingRateUnit\":\"A\",\"minChargingRate\":6.55,"
          "\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":16.19,\"numberPhases\":1},"
          "{\"startPeriod\":1800,\"limit\":8}]}]}}",
          "{\"connectorId\":1,\"csChargingProfiles\":{\"chargingProfileId\":8,\"stackLevel\":2,"
          "\"chargingProfilePurpose\":\"TxProfile\",\"chargingProfileKind\":\"Recurring\",\"recurrencyKind\":"
          "\"Daily\",\"validTo\":\"2030-01-01T00:00:00Z\",\"transactionId\":31,\"chargingSchedule\":{"
          "\"duration\":3600,\"startSchedule\":\"2024-01-01T00:00:00Z\",\"chargingRateUnit\":\"A\","
          "\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":16.1,\"numberPhases\":1},"
          "{\"startPeriod\":1800,\"limit\":8}],\"minChargingRate\":6.5}}}", 0 },
        { "tx profile, unknown transaction", call_of(OCPP_201, OCPP_16, "SetChargingProfile"), c2,
          "{\"evseId\":4,\"chargingProfile\":{\"id\":8,\"stackLevel\":2,\"chargingProfilePurpose\":\"TxProfile\","
          "\"chargingProfileKind\":\"Absolute\",\"transactionId\":\"zz\",\"chargingSchedule\":[{\"id\":8,"
          "\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":6}]}]}}",
          NULL, -ENOENT },
        { "two schedules", call_of(OCPP_201, OCPP_16, "SetChargingProfile"), c2,
          "{\"evseId\":4,\"chargingProfile\":{\"id\":8,\"stackLevel\":2,\"chargingProfilePurpose\":"
          "\"TxDefaultProfile\",\"chargingProfileKind\":\"Absolute\",\"chargingSchedule\":[{\"id\":8,"
          "\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":6}]},{\"id\":9,"
          "\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":6}]}]}}",
          NULL, -ENOTSUP },
        { "external constraints", call_of(OCPP_201, OCPP_16, "SetChargingProfile"), ctx_of(0),
          "{\"evseId\":0,\"chargingProfile\":{\"id\":8,\"stackLevel\":2,\"chargingProfilePurpose\":"
          "\"ChargingStationExternalConstraints\",\"chargingProfileKind\":\"Absolute\",\"chargingSchedule\":[{"
          "\"id\":8,\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":6}]}]}}",
          NULL, -ENOTSUP },
        { "negative limit", call_of(OCPP_201, OCPP_16, "SetChargingProfile"), ctx_of(0),
          "{\"evseId\":0,\"chargingProfile\":{\"id\":8,\"stackLevel\":2,\"chargingProfilePurpose\":"
          "\"TxDefaultProfile\",\"chargingProfileKind\":\"Absolute\",\"chargingSchedule\":[{"
          "\"id\":8,\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":-6}]}]}}",
          NULL, -EPROTO },
        { "clear by criteria", call_of(OCPP_201, OCPP_16, "ClearChargingProfile"), c2,
          "{\"chargingProfileCriteria\":{\"evseId\":5,\"chargingProfilePurpose\":\"ChargingStationMaxProfile\","
          "\"stackLevel\":1}}",
          "{\"connectorId\":2,\"chargingProfilePurpose\":\"ChargePointMaxProfile\",\"stackLevel\":1}", 0 },
        { "clear by id", call_of(OCPP_201, OCPP_16, "ClearChargingProfile"), ctx_of(0),
          "{\"chargingProfileId\":12}", "{\"id\":12}", 0 },
        { "clear all", call_of(OCPP_201, OCPP_16, "ClearChargingProfile"), ctx_of(0), "{}", "{}", 0 },
        { "composite", call_of(OCPP_201, OCPP_16, "GetCompositeSchedule"), c2,
          "{\"evseId\":6,\"duration\":900,\"chargingRateUnit\":\"W\"}",
          "{\"connectorId\":2,\"duration\":900,\"chargingRateUnit\":\"W\"}", 0 },
        { "reserve", call_of(OCPP_201, OCPP_16, "ReserveNow"), c2,
          "{\"id\":3,\"expiryDateTime\":\"2030-01-01T00:00:00Z\",\"idToken\":{\"idToken\":\"A\",\"type\":\"Local\"},"
          "\"evseId\":6,\"groupIdToken\":{\"idToken\":\"G\",\"type\":\"Central\"}}",
          "{\"connectorId\":2,\"expiryDate\":\"2030-01-01T00:00:00Z\",\"idTag\":\"A\",\"parentIdTag\":\"G\","
          "\"reservationId\":3}", 0 },
        { "cancel", call_of(OCPP_201, OCPP_16, "CancelReservation"), c2, "{\"reservationId\":3}",
          "{\"reservationId\":3}", 0 },
        { "reset", call_of(OCPP_201, OCPP_16, "Reset"), ctx_of(0), "{\"type\":\"Immediate\"}",
          "{\"type\":\"Hard\"}", 0 },
        { "reset, unknown type", call_of(OCPP_201, OCPP_16, "Reset"), ctx_of(0), "{\"type\":\"Hard\"}",
          NULL, -EPROTO },
    };
    ASSERT(run_rows(rows, N(rows)));
}

TEST(commands_16_to_201)
{
    struct bridge_ctx c1 = ctx_of(1), tx = ctx_of(1);
    c1.remote_start_id = 77;
    tx.tx201 = "uuid-1";
    const struct row rows[] = {
        { "remote start", call_of(OCPP_16, OCPP_201, "RemoteStartTransaction"), c1,
          "{\"connectorId\":3,\"idTag\":\"R\"}",
          "{\"evseId\":1,\"remoteStartId\":77,\"idToken\":{\"idToken\":\"R\",\"type\":\"Central\"}}", 0 },
        { "remote stop", call_of(OCPP_16, OCPP_201, "RemoteStopTransaction"), tx, "{\"transactionId\":4}",
          "{\"transactionId\":\"uuid-1\"}", 0 },
        { "remote stop, unknown", call_of(OCPP_16, OCPP_201, "RemoteStopTransaction"), c1,
          "{\"transactionId\":4}", NULL, -ENOENT },
        { "unlock", call_of(OCPP_16, OCPP_201, "UnlockConnector"), c1, "{\"connectorId\":3}",
          "{\"evseId\":1,\"connectorId\":1}", 0 },
        { "availability of one", call_of(OCPP_16, OCPP_201, "ChangeAvailability"), c1,
          "{\"connectorId\":3,\"type\":\"Operative\"}",
          "{\"operationalStatus\":\"Operative\",\"evse\":{\"id\":1}}", 0 },
        { "trigger a status", call_of(OCPP_16, OCPP_201, "TriggerMessage"), c1,
          "{\"requestedMessage\":\"StatusNotification\",\"connectorId\":3}",
          "{\"requestedMessage\":\"StatusNotification\",\"evse\":{\"id\":1,\"connectorId\":1}}", 0 },
        { "trigger diagnostics", call_of(OCPP_16, OCPP_201, "TriggerMessage"), ctx_of(0),
          "{\"requestedMessage\":\"DiagnosticsStatusNotification\"}",
          "{\"requestedMessage\":\"LogStatusNotification\"}", 0 },
        { "tx profile", call_of(OCPP_16, OCPP_201, "SetChargingProfile"), tx,
          "{\"connectorId\":3,\"csChargingProfiles\":{\"chargingProfileId\":4,\"transactionId\":4,\"stackLevel\":0,"
          "\"chargingProfilePurpose\":\"TxProfile\",\"chargingProfileKind\":\"Absolute\",\"chargingSchedule\":{"
          "\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":10}]}}}",
          "{\"evseId\":1,\"chargingProfile\":{\"id\":4,\"stackLevel\":0,\"chargingProfilePurpose\":\"TxProfile\","
          "\"chargingProfileKind\":\"Absolute\",\"transactionId\":\"uuid-1\",\"chargingSchedule\":[{\"id\":4,"
          "\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":10}]}]}}", 0 },
        { "cap profile", call_of(OCPP_16, OCPP_201, "SetChargingProfile"), ctx_of(0),
          "{\"connectorId\":0,\"csChargingProfiles\":{\"chargingProfileId\":4,\"stackLevel\":0,"
          "\"chargingProfilePurpose\":\"ChargePointMaxProfile\",\"chargingProfileKind\":\"Absolute\","
          "\"chargingSchedule\":{\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,"
          "\"limit\":10}]}}}",
          "{\"evseId\":0,\"chargingProfile\":{\"id\":4,\"stackLevel\":0,\"chargingProfilePurpose\":"
          "\"ChargingStationMaxProfile\",\"chargingProfileKind\":\"Absolute\",\"chargingSchedule\":[{\"id\":4,"
          "\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":10}]}]}}", 0 },
        { "clear", call_of(OCPP_16, OCPP_201, "ClearChargingProfile"), c1,
          "{\"id\":3,\"connectorId\":2,\"chargingProfilePurpose\":\"TxDefaultProfile\"}",
          "{\"chargingProfileId\":3,\"chargingProfileCriteria\":{\"evseId\":1,\"chargingProfilePurpose\":"
          "\"TxDefaultProfile\"}}", 0 },
        { "clear all", call_of(OCPP_16, OCPP_201, "ClearChargingProfile"), ctx_of(0), "{}", "{}", 0 },
        { "composite", call_of(OCPP_16, OCPP_201, "GetCompositeSchedule"), c1,
          "{\"connectorId\":3,\"duration\":60}", "{\"duration\":60,\"evseId\":1}", 0 },
        { "reserve", call_of(OCPP_16, OCPP_201, "ReserveNow"), c1,
          "{\"connectorId\":3,\"expiryDate\":\"2030-01-01T00:00:00Z\",\"idTag\":\"A\",\"parentIdTag\":\"P\","
          "\"reservationId\":5}",
          "{\"id\":5,\"expiryDateTime\":\"2030-01-01T00:00:00Z\",\"idToken\":{\"idToken\":\"A\",\"type\":"
          "\"Central\"},\"evseId\":1,\"groupIdToken\":{\"idToken\":\"P\",\"type\":\"Central\"}}", 0 },
        { "reset", call_of(OCPP_16, OCPP_201, "Reset"), ctx_of(0), "{\"type\":\"Soft\"}",
          "{\"type\":\"OnIdle\"}", 0 },
    };
    ASSERT(run_rows(rows, N(rows)));
}

TEST(command_answers)
{
    struct bridge_ctx site = ctx_of(7);
    site.duration = 300;
    const struct row rows[] = {
        { "unlock: NotSupported is a failure", answer_of(OCPP_201, OCPP_16, "UnlockConnector"), site,
          "{\"status\":\"NotSupported\"}", "{\"status\":\"UnlockFailed\"}", 0 },
        { "unlock: ongoing", answer_of(OCPP_16, OCPP_201, "UnlockConnector"), site,
          "{\"status\":\"OngoingAuthorizedTransaction\"}", "{\"status\":\"UnlockFailed\"}", 0 },
        { "profile: NotSupported", answer_of(OCPP_201, OCPP_16, "SetChargingProfile"), site,
          "{\"status\":\"NotSupported\"}", "{\"status\":\"Rejected\"}", 0 },
        { "reset: Scheduled", answer_of(OCPP_16, OCPP_201, "Reset"), site,
          "{\"status\":\"Scheduled\",\"statusInfo\":{\"reasonCode\":\"x\"}}", "{\"status\":\"Accepted\"}", 0 },
        { "request start: the charger's id stays", answer_of(OCPP_16, OCPP_201, "RemoteStartTransaction"), site,
          "{\"status\":\"Accepted\",\"transactionId\":\"t\"}", "{\"status\":\"Accepted\"}", 0 },
        { "status outside the enum", answer_of(OCPP_201, OCPP_16, "ChangeAvailability"), site,
          "{\"status\":\"Sure\"}", NULL, -EPROTO },
        { "status missing", answer_of(OCPP_201, OCPP_16, "TriggerMessage"), site, "{}", NULL, -EPROTO },
        { "composite of a 1.6 charger", answer_of(OCPP_201, OCPP_16, "GetCompositeSchedule"), site,
          "{\"status\":\"Accepted\",\"connectorId\":1,\"chargingSchedule\":{\"startSchedule\":"
          "\"2024-01-01T00:00:00Z\",\"chargingRateUnit\":\"A\",\"minChargingRate\":6,"
          "\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":12.5}]}}",
          "{\"status\":\"Accepted\",\"schedule\":{\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":[{"
          "\"startPeriod\":0,\"limit\":12.5}],\"evseId\":7,\"duration\":300,\"scheduleStart\":"
          "\"2024-01-01T00:00:00Z\"}}", 0 },
        { "composite rejected", answer_of(OCPP_201, OCPP_16, "GetCompositeSchedule"), site,
          "{\"status\":\"Rejected\"}", "{\"status\":\"Rejected\"}", 0 },
        { "composite of a 2.0.1 charger", answer_of(OCPP_16, OCPP_201, "GetCompositeSchedule"), site,
          "{\"status\":\"Accepted\",\"schedule\":{\"evseId\":1,\"duration\":60,\"scheduleStart\":"
          "\"2024-01-01T00:00:00Z\",\"chargingRateUnit\":\"W\",\"chargingSchedulePeriod\":[{\"startPeriod\":0,"
          "\"limit\":1234.56,\"numberPhases\":3}]}}",
          "{\"status\":\"Accepted\",\"chargingSchedule\":{\"duration\":60,\"chargingRateUnit\":\"W\","
          "\"chargingSchedulePeriod\":[{\"startPeriod\":0,\"limit\":1234.5,\"numberPhases\":3}]},"
          "\"connectorId\":7,\"scheduleStart\":\"2024-01-01T00:00:00Z\"}", 0 },
        { "data transfer data to text", answer_of(OCPP_16, OCPP_201, "DataTransfer"), site,
          "{\"status\":\"Accepted\",\"data\":{\"a\":[1,2]}}", "{\"status\":\"Accepted\",\"data\":\"{\\\"a\\\":[1,2]}\"}", 0 },
    };
    ASSERT(run_rows(rows, N(rows)));
}

TEST(evse_renumbering_201)
{
    const struct row rows[] = {
        { "evseId", call_of(OCPP_201, OCPP_201, "RequestStartTransaction"), ctx_of(2),
          "{\"evseId\":9,\"remoteStartId\":1,\"idToken\":{\"idToken\":\"A\",\"type\":\"Central\"}}",
          "{\"evseId\":2,\"remoteStartId\":1,\"idToken\":{\"idToken\":\"A\",\"type\":\"Central\"}}", 0 },
        { "evse.id", call_of(OCPP_201, OCPP_201, "TriggerMessage"), ctx_of(2),
          "{\"requestedMessage\":\"MeterValues\",\"evse\":{\"id\":9}}",
          "{\"requestedMessage\":\"MeterValues\",\"evse\":{\"id\":2}}", 0 },
        { "criteria", call_of(OCPP_201, OCPP_201, "ClearChargingProfile"), ctx_of(2),
          "{\"chargingProfileCriteria\":{\"evseId\":9}}", "{\"chargingProfileCriteria\":{\"evseId\":2}}", 0 },
        { "a transaction's evse", call_of(OCPP_201, OCPP_201, "TransactionEvent"), ctx_of(4),
          "{\"eventType\":\"Started\",\"evse\":{\"id\":1,\"connectorId\":1}}",
          "{\"eventType\":\"Started\",\"evse\":{\"id\":4,\"connectorId\":1}}", 0 },
        { "composite answer", answer_of(OCPP_201, OCPP_201, "GetCompositeSchedule"), ctx_of(6),
          "{\"status\":\"Accepted\",\"schedule\":{\"evseId\":1}}",
          "{\"status\":\"Accepted\",\"schedule\":{\"evseId\":6}}", 0 },
        { "evseId not a number", call_of(OCPP_201, OCPP_201, "StatusNotification"), ctx_of(2),
          "{\"evseId\":\"1\"}", NULL, -EPROTO },
    };
    ASSERT(run_rows(rows, N(rows)));
    ASSERT_NOT_NULL(bridge_rule(OCPP_201, OCPP_201, "RequestStopTransaction"));
    ASSERT_NULL(bridge_rule(OCPP_201, OCPP_201, "RequestStopTransaction")->call);
    ASSERT_NULL(bridge_rule(OCPP_16, OCPP_16, "Authorize"));
    ASSERT_NULL(bridge_rule(OCPP_201, OCPP_16, "UpdateFirmware"));
    ASSERT_NULL(bridge_rule(OCPP_201, OCPP_16, NULL));
}

TEST(error_codes)
{
    static const struct { enum ocpp_version to; const char *in, *out; } rows[] = {
        { OCPP_16, "FormatViolation", "FormationViolation" },
        { OCPP_16, "OccurrenceConstraintViolation", "OccurenceConstraintViolation" },
        { OCPP_16, "RpcFrameworkError", "ProtocolError" },
        { OCPP_16, "MessageTypeNotSupported", "NotImplemented" },
        { OCPP_16, "FormationViolation", "FormationViolation" },
        { OCPP_201, "FormationViolation", "FormatViolation" },
        { OCPP_201, "OccurenceConstraintViolation", "OccurrenceConstraintViolation" },
        { OCPP_201, "NotSupported", "NotSupported" },
        { OCPP_201, "RpcFrameworkError", "RpcFrameworkError" },
        { OCPP_201, "Whatever", "GenericError" },
        { OCPP_16, NULL, "GenericError" },
    };
    for (size_t i = 0; i < N(rows); i++)
        ASSERT_STR_EQ(bridge_error_code(rows[i].to, rows[i].in), rows[i].out);
}

/* Every row of the table against hostile payloads: an error or a payload,
 * never a crash or a leak (ASan runs this too). */
TEST(hostile_input)
{
    static const struct { enum ocpp_version from, to; const char *action; } rules[] = {
        { OCPP_201, OCPP_16, "RequestStartTransaction" }, { OCPP_201, OCPP_16, "RequestStopTransaction" },
        { OCPP_201, OCPP_16, "UnlockConnector" }, { OCPP_201, OCPP_16, "ChangeAvailability" },
        { OCPP_201, OCPP_16, "TriggerMessage" }, { OCPP_201, OCPP_16, "SetChargingProfile" },
        { OCPP_201, OCPP_16, "ClearChargingProfile" }, { OCPP_201, OCPP_16, "GetCompositeSchedule" },
        { OCPP_201, OCPP_16, "ReserveNow" }, { OCPP_201, OCPP_16, "CancelReservation" },
        { OCPP_201, OCPP_16, "Reset" }, { OCPP_16, OCPP_201, "RemoteStartTransaction" },
        { OCPP_16, OCPP_201, "RemoteStopTransaction" }, { OCPP_16, OCPP_201, "UnlockConnector" },
        { OCPP_16, OCPP_201, "ChangeAvailability" }, { OCPP_16, OCPP_201, "TriggerMessage" },
        { OCPP_16, OCPP_201, "SetChargingProfile" }, { OCPP_16, OCPP_201, "ClearChargingProfile" },
        { OCPP_16, OCPP_201, "GetCompositeSchedule" }, { OCPP_16, OCPP_201, "ReserveNow" },
        { OCPP_16, OCPP_201, "CancelReservation" }, { OCPP_16, OCPP_201, "Reset" },
        { OCPP_201, OCPP_201, "RequestStartTransaction" }, { OCPP_201, OCPP_201, "UnlockConnector" },
        { OCPP_201, OCPP_201, "ChangeAvailability" }, { OCPP_201, OCPP_201, "TriggerMessage" },
        { OCPP_201, OCPP_201, "SetChargingProfile" }, { OCPP_201, OCPP_201, "ClearChargingProfile" },
        { OCPP_201, OCPP_201, "GetCompositeSchedule" }, { OCPP_201, OCPP_201, "ReserveNow" },
        { OCPP_201, OCPP_201, "Reset" }, { OCPP_16, OCPP_201, "Authorize" }, { OCPP_201, OCPP_16, "Authorize" },
        { OCPP_16, OCPP_201, "StatusNotification" }, { OCPP_201, OCPP_16, "StatusNotification" },
        { OCPP_16, OCPP_201, "MeterValues" }, { OCPP_201, OCPP_16, "MeterValues" },
        { OCPP_16, OCPP_201, "DataTransfer" }, { OCPP_201, OCPP_16, "DataTransfer" },
        { OCPP_201, OCPP_201, "StatusNotification" }, { OCPP_201, OCPP_201, "MeterValues" },
        { OCPP_201, OCPP_201, "TransactionEvent" }, { OCPP_201, OCPP_201, "NotifyEVChargingNeeds" },
    };
    static const char *const hostile[] = {
        "{}", "[]", "null", "\"text\"", "42", "{\"status\":7}", "{\"idToken\":[]}", "{\"idToken\":{\"idToken\":5}}",
        "{\"evseId\":1e300,\"connectorId\":-1e300}", "{\"evse\":\"x\",\"chargingProfileCriteria\":[]}",
        "{\"chargingProfile\":{\"chargingSchedule\":[{\"chargingSchedulePeriod\":[{}]}]}}",
        "{\"csChargingProfiles\":{\"chargingSchedule\":{\"chargingSchedulePeriod\":[[]]}}}",
        "{\"meterValue\":[{\"timestamp\":\"2024-01-01T00:00:00Z\",\"sampledValue\":[{\"value\":1e309}]}]}",
        "{\"meterValue\":[{\"timestamp\":\"2024-13-45T99:00:00Z\",\"sampledValue\":[]}]}",
        "{\"meterValue\":[{\"timestamp\":\"2024-01-01T00:00:00Z\",\"sampledValue\":[{\"value\":\"1\","
        "\"unitOfMeasure\":{\"multiplier\":\"3\"}}]}]}",
        "{\"type\":\"Immediate\",\"requestedMessage\":\"Heartbeat\",\"status\":\"Accepted\",\"schedule\":5,"
        "\"chargingSchedule\":{},\"transactionId\":\"\\u0000\",\"remoteStartId\":2147483648}",
        "{\"status\":\"Accepted\",\"chargingSchedule\":{\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":"
        "[{\"startPeriod\":0,\"limit\":1e13}]}}",
        "{\"idTag\":\"A\",\"meterStart\":9007199254740993,\"timestamp\":\"2024-01-01T00:00:00Z\"}",
    };
    struct bridge_ctx ctx = ctx_of(1);
    ctx.tx16 = 5;
    ctx.tx201 = "t";
    for (size_t r = 0; r < N(rules); r++) {
        const struct bridge_rule *rule = bridge_rule(rules[r].from, rules[r].to, rules[r].action);
        if (!rule)
            TEST__FAIL("no rule for %s", rules[r].action);
        for (size_t h = 0; h < N(hostile); h++) {
            cJSON *in = cJSON_Parse(hostile[h]);
            bridge_fn fns[] = { rule->call, rule->answer };
            for (size_t k = 0; k < 2; k++) {
                cJSON *out = NULL;
                if (!fns[k])
                    continue;
                int rc = fns[k](in, &ctx, &out);
                if ((rc == 0) != (out != NULL))
                    TEST__FAIL("%s #%zu on %s: rc %d but out %p", rules[r].action, k, hostile[h], rc, (void *)out);
                cJSON_Delete(out);
            }
            cJSON_Delete(in);
        }
    }
    /* and the transaction mappings */
    bridge_fn tx_fns[] = { bridge_start_16_201, bridge_meter_tx_16_201, bridge_stop_16_201, bridge_event_answer_16,
                           bridge_event_start_201_16, bridge_event_meter_201_16, bridge_event_stop_201_16,
                           bridge_event_answer_201 };
    for (size_t f = 0; f < N(tx_fns); f++) {
        for (size_t h = 0; h < N(hostile); h++) {
            cJSON *in = cJSON_Parse(hostile[h]), *out = NULL;
            int rc = tx_fns[f](in, &ctx, &out);
            if ((rc == 0) != (out != NULL))
                TEST__FAIL("transaction mapping %zu on %s: rc %d", f, hostile[h], rc);
            cJSON_Delete(out);
            cJSON_Delete(in);
        }
    }
}

int main(void)
{
    RUN(start_16_201);
    RUN(meter_values_16_201);
    RUN(stop_16_201);
    RUN(answers_to_a_16_charger);
    RUN(charging_state_event);
    RUN(statuses);
    RUN(event_read);
    RUN(events_201_16);
    RUN(commands_201_to_16);
    RUN(commands_16_to_201);
    RUN(command_answers);
    RUN(evse_renumbering_201);
    RUN(error_codes);
    RUN(hostile_input);
    return test_summary();
}

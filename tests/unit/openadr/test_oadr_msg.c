/* The published messages (openadr/oadr_msg.c) and the persisted form of the
 * schedule (openadr/oadr_record.c). */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "oadr_msg.h"
#include "oadr_record.h"
#include "oadr_schedule.h"
#include "oadr_test.h"
#include "test.h"

TEST(opt_response)
{
    struct oadr_opt o = { .event_id = "evt-1", .modified = "2023-06-15T09:00:00Z",
                          .opt_in = true, .reason = "accepted", .code = OADR_CODE_OK };
    char *s = oadr_msg_opt(&o);
    ASSERT_STR_EQ(s, "{\"eventID\":\"evt-1\",\"modificationDateTime\":\"2023-06-15T09:00:00Z\","
                     "\"optType\":\"optIn\",\"reason\":\"accepted\",\"responseCode\":200}");
    free(s);
    /* a reason with quotes and control characters stays valid JSON */
    o = (struct oadr_opt){ .event_id = "evt-2", .opt_in = false,
                           .reason = "bad \"x\"\n\x01", .code = OADR_CODE_INVALID };
    s = oadr_msg_opt(&o);
    ASSERT_STR_EQ(s, "{\"eventID\":\"evt-2\",\"optType\":\"optOut\","
                     "\"reason\":\"bad \\\"x\\\"\\n\\u0001\",\"responseCode\":400}");
    cJSON *back = cJSON_Parse(s);
    ASSERT_NOT_NULL(back);
    ASSERT_STR_EQ(cJSON_GetObjectItem(back, "reason")->valuestring, "bad \"x\"\n\x01");
    cJSON_Delete(back);
    free(s);
}

static const cJSON *payload_of(const cJSON *payloads, const char *type)
{
    for (const cJSON *p = payloads->child; p; p = p->next) {
        if (strcmp(cJSON_GetObjectItem(p, "type")->valuestring, type) == 0)
            return cJSON_GetArrayItem(cJSON_GetObjectItem(p, "values"), 0);
    }
    return NULL;
}

TEST(report_shape)
{
    struct oadr_report r = {
        .event_id = "evt-1", .client_name = "VEN-7", .resource_name = "DEPOT-01",
        .report_name = "interval end", .start_us = T_START, .duration_us = HOUR,
        .import_kw = 42.12345, .ev_kw = 19.5, .cap_kw = 20, .flex_kw = 19.5,
    };
    char *s = oadr_msg_report(&r);
    cJSON *j = cJSON_Parse(s);
    ASSERT_NOT_NULL(j);
    ASSERT_STR_EQ(cJSON_GetObjectItem(j, "eventID")->valuestring, "evt-1");
    ASSERT_STR_EQ(cJSON_GetObjectItem(j, "clientName")->valuestring, "VEN-7");
    ASSERT_STR_EQ(cJSON_GetObjectItem(j, "reportName")->valuestring, "interval end");
    const cJSON *d = cJSON_GetObjectItem(j, "payloadDescriptors");
    ASSERT_EQ(cJSON_GetArraySize(d), 4);
    ASSERT_STR_EQ(cJSON_GetObjectItem(d->child, "objectType")->valuestring,
                  "REPORT_PAYLOAD_DESCRIPTOR");
    ASSERT_STR_EQ(cJSON_GetObjectItem(d->child, "payloadType")->valuestring, "DEMAND");
    ASSERT_STR_EQ(cJSON_GetObjectItem(d->child, "readingType")->valuestring, "DIRECT_READ");
    ASSERT_STR_EQ(cJSON_GetObjectItem(d->child, "units")->valuestring, "KW");
    const cJSON *res = cJSON_GetObjectItem(j, "resources");
    ASSERT_EQ(cJSON_GetArraySize(res), 1);
    ASSERT_STR_EQ(cJSON_GetObjectItem(res->child, "resourceName")->valuestring, "DEPOT-01");
    const cJSON *period = cJSON_GetObjectItem(res->child, "intervalPeriod");
    ASSERT_STR_EQ(cJSON_GetObjectItem(period, "start")->valuestring, "2023-06-15T10:00:00Z");
    ASSERT_STR_EQ(cJSON_GetObjectItem(period, "duration")->valuestring, "PT3600S");
    const cJSON *iv = cJSON_GetObjectItem(res->child, "intervals")->child;
    ASSERT_EQ(cJSON_GetObjectItem(iv, "id")->valueint, 0);
    const cJSON *payloads = cJSON_GetObjectItem(iv, "payloads");
    ASSERT_DBL_NEAR(payload_of(payloads, "DEMAND")->valuedouble, 42.123, 1e-9);
    ASSERT_DBL_NEAR(payload_of(payloads, "EV_DEMAND")->valuedouble, 19.5, 0);
    ASSERT_DBL_NEAR(payload_of(payloads, "IMPORT_CAPACITY_LIMIT")->valuedouble, 20, 0);
    ASSERT_DBL_NEAR(payload_of(payloads, "DOWN_REGULATION_AVAILABLE")->valuedouble, 19.5, 0);
    cJSON_Delete(j);
    free(s);

    /* unknown readings and no event: left out */
    r.event_id = NULL;
    r.import_kw = NAN;
    s = oadr_msg_report(&r);
    j = cJSON_Parse(s);
    ASSERT_NULL(cJSON_GetObjectItem(j, "eventID"));
    ASSERT_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(j, "payloadDescriptors")), 3);
    payloads = cJSON_GetObjectItem(
        cJSON_GetObjectItem(cJSON_GetObjectItem(j, "resources")->child, "intervals")->child,
        "payloads");
    ASSERT_EQ(cJSON_GetArraySize(payloads), 3);
    ASSERT_NULL(payload_of(payloads, "DEMAND"));
    cJSON_Delete(j);
    free(s);
}

TEST(status)
{
    char *on = oadr_msg_status("VEN-7", true);
    char *off = oadr_msg_status("VEN-7", false);
    ASSERT_STR_EQ(on, "{\"venID\":\"VEN-7\",\"status\":\"online\"}");
    ASSERT_STR_EQ(off, "{\"venID\":\"VEN-7\",\"status\":\"offline\"}");
    free(on);
    free(off);
}

TEST(record_round_trip)
{
    char *rec = oadr_record_encode(base_event, strlen(base_event), T_NOW, 12345);
    ASSERT_NOT_NULL(rec);
    char *text = NULL;
    size_t len = 0;
    int64_t received = 0, offset = 0;
    ASSERT_EQ(oadr_record_decode(rec, &text, &len, &received, &offset), 0);
    ASSERT_EQ(len, strlen(base_event));
    ASSERT_STR_EQ(text, base_event);
    ASSERT_EQ(received, T_NOW);
    ASSERT_EQ(offset, 12345);
    free(text);
    free(rec);
    /* "now" starts mean the arrival time, also after a restart */
    char *now_start = with(base_event, "object.intervalPeriod.start", "\"0001-01-01\"");
    rec = oadr_record_encode(now_start, strlen(now_start), T_NOW - HOUR, 0);
    ASSERT_EQ(oadr_record_decode(rec, &text, &len, &received, &offset), 0);
    struct oadr_notification n;
    char err[OADR_ERR_MAX];
    ASSERT_EQ(oadr_parse(text, len, &test_cfg, received, &n, err), OADR_EVENT);
    ASSERT_EQ(n.event.intervals[0].start_us, T_NOW - HOUR);
    free(text);
    free(rec);
    free(now_start);
}

TEST(record_refused)
{
    static const char *const bad[] = {
        "", "[]", "{}", "{\"received_us\":\"1\",\"offset_us\":\"0\"}",
        "{\"received_us\":1,\"offset_us\":\"0\",\"notification\":\"{}\"}",
        "{\"received_us\":\"1x\",\"offset_us\":\"0\",\"notification\":\"{}\"}",
        "{\"received_us\":\"1\",\"offset_us\":\"-5\",\"notification\":\"{}\"}",
        "{\"received_us\":\"\",\"offset_us\":\"0\",\"notification\":\"{}\"}",
        "{\"received_us\":\"99999999999999999999\",\"offset_us\":\"0\",\"notification\":\"{}\"}",
        "{\"received_us\":\"1\",\"offset_us\":\"0\",\"notification\":5}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *text = (char *)1;
        size_t len;
        int64_t received, offset;
        if (oadr_record_decode(bad[i], &text, &len, &received, &offset) != -EINVAL || text)
            TEST__FAIL("accepted: %s", bad[i]);
    }
}

TEST(tombstones_round_trip)
{
    static const double shed[OADR_SIMPLE_LEVELS] = { 0, 0.25, 0.5, 0.75 };
    static struct oadr_schedule a, b;
    oadr_schedule_init(&a, 100, shed);
    oadr_schedule_init(&b, 100, shed);
    oadr_schedule_restore_tombstone(&a, "evt-1", INT64_MAX);
    oadr_schedule_restore_tombstone(&a, "evt-2", T_NOW);
    oadr_schedule_restore_tombstone(&a, "evt-3", INT64_MIN);
    char *text = oadr_record_tombs_encode(&a);
    ASSERT_NOT_NULL(text);
    ASSERT_EQ(oadr_record_tombs_decode(text, &b), 0);
    ASSERT_EQ(b.n_tombs, 3);
    ASSERT_STR_EQ(b.tombs[0].id, "evt-1");
    ASSERT_EQ(b.tombs[0].modified_us, INT64_MAX);
    ASSERT_EQ(b.tombs[1].modified_us, T_NOW);
    ASSERT_EQ(b.tombs[2].modified_us, INT64_MIN);
    free(text);
    oadr_schedule_init(&a, 100, shed);
    text = oadr_record_tombs_encode(&a);
    ASSERT_STR_EQ(text, "[]");
    free(text);
    static const char *const bad[] = { "{}", "[{\"id\":\"a b\",\"modified_us\":\"1\"}]",
                                       "[{\"id\":\"a\"}]", "[5]", "nope" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ASSERT_EQ(oadr_record_tombs_decode(bad[i], &b), -EINVAL);
}

int main(void)
{
    RUN(opt_response);
    RUN(report_shape);
    RUN(status);
    RUN(record_round_trip);
    RUN(record_refused);
    RUN(tombstones_round_trip);
    return test_summary();
}

/* Event notifications (openadr/oadr_event.c): a valid event, then one change
 * at a time that must be refused (with its id when readable) or ignored, and
 * hostile input: truncated, oversized, not UTF-8, deeply nested, NUL escapes,
 * duplicate keys, NaN-like and huge values. */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "oadr_test.h"
#include "test.h"

static struct oadr_notification n;
static char err[OADR_ERR_MAX];

TEST(base_parses)
{
    ASSERT_EQ(parse_at(base_event, T_NOW, &n, err), OADR_EVENT);
    ASSERT_STR_EQ(err, "");
    ASSERT_EQ(n.operation, OADR_CREATE);
    ASSERT_STR_EQ(n.event.id, "evt-1");
    ASSERT_STR_EQ(n.event.program_id, "ev-peak-dr");
    ASSERT_STR_EQ(n.event.modified, "2023-06-15T09:00:00Z");
    ASSERT_EQ(n.event.modified_us, T_NOW - HOUR / 2);
    ASSERT_EQ(n.event.priority, 1);
    ASSERT_EQ(n.event.randomize_us, 0);
    ASSERT(!n.event.cancel);
    ASSERT_STR_EQ(n.event.ignored, "");
    ASSERT_EQ(n.event.n_intervals, 1);
    ASSERT_EQ(n.event.intervals[0].id, 0);
    ASSERT_EQ(n.event.intervals[0].start_us, T_START);
    ASSERT_EQ(n.event.intervals[0].duration_us, HOUR);
    ASSERT_DBL_NEAR(n.event.intervals[0].limit_kw, 20, 0);
    ASSERT_EQ(n.event.intervals[0].simple, -1);
}

struct edit {
    const char *path;
    const char *raw;            /* NULL: remove */
    enum oadr_verdict want;
    const char *err_has;        /* a part of the error; NULL: none expected */
    bool id_read;               /* the event id must be known (for an optOut) */
};

static const struct edit edits[] = {
    /* the envelope */
    { "objectType", "\"PROGRAM\"", OADR_IGNORE, "not an event", false },
    { "objectType", "\"THING\"", OADR_INVALID, "objectType: must be EVENT", false },
    { "objectType", NULL, OADR_INVALID, "objectType: missing", false },
    { "objectType", "1", OADR_INVALID, "objectType: must be a string", false },
    { "operation", "\"READ\"", OADR_IGNORE, "READ", true },
    { "operation", "\"PATCH\"", OADR_INVALID, "operation: must be CREATE", true },
    { "operation", "5", OADR_INVALID, "operation: must be a string", true },
    { "operation", NULL, OADR_INVALID, "operation: missing", true },
    { "object", "[]", OADR_INVALID, "object: must be an object", false },
    { "object", NULL, OADR_INVALID, "object: must be an object", false },
    /* identity */
    { "object.id", NULL, OADR_INVALID, "id: missing", false },
    { "object.id", "\"evt 1\"", OADR_INVALID, "id: may only contain", false },
    { "object.id", "\"evt/1\"", OADR_INVALID, "id: may only contain", false },
    { "object.id", "7", OADR_INVALID, "id: must be a string", false },
    { "object.id", "\"\"", OADR_INVALID, "id: must be 1 to 128", false },
    { "object.id", "\"" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
      OADR_INVALID, "id: must be 1 to 128", false },
    { "object.modificationDateTime", NULL, OADR_INVALID, "modificationDateTime: missing", true },
    { "object.modificationDateTime", "\"yesterday\"", OADR_INVALID, "RFC 3339", true },
    { "object.modificationDateTime", "1686819600", OADR_INVALID, "must be a string", true },
    { "object.programID", "\"other-program\"", OADR_IGNORE, "not one this site is enrolled", true },
    { "object.programID", "\"tod-2\"", OADR_EVENT, NULL, true },
    { "object.programID", NULL, OADR_INVALID, "programID: missing", true },
    { "object.programID", "\"a/b\"", OADR_INVALID, "programID: may only", true },
    { "object.programID", "[]", OADR_INVALID, "programID: must be a string", true },
    /* targets: plain names (3.1) and valuesMaps (3.0) */
    { "object.targets", "[\"DEPOT-02\"]", OADR_IGNORE, "targets do not include", true },
    { "object.targets", "[\"VEN-7\"]", OADR_EVENT, NULL, true },
    { "object.targets", "[\"north-feeder\"]", OADR_EVENT, NULL, true },
    { "object.targets", "[\"south\", \"DEPOT-01\"]", OADR_EVENT, NULL, true },
    { "object.targets", "[]", OADR_EVENT, NULL, true },
    { "object.targets", "null", OADR_EVENT, NULL, true },
    { "object.targets", NULL, OADR_EVENT, NULL, true },
    { "object.targets", "[{\"type\":\"VEN_NAME\",\"values\":[\"VEN-7\"]}]", OADR_EVENT, NULL,
      true },
    { "object.targets", "[{\"type\":\"VEN_NAME\",\"values\":[\"DEPOT-01\"]}]", OADR_IGNORE,
      "targets", true },
    { "object.targets", "[{\"type\":\"RESOURCE_NAME\",\"values\":[\"x\",\"DEPOT-01\"]}]",
      OADR_EVENT, NULL, true },
    { "object.targets", "[{\"type\":\"GROUP\",\"values\":[\"north-feeder\"]}]", OADR_EVENT, NULL,
      true },
    { "object.targets", "[{\"type\":\"POSTAL_CODE\",\"values\":[\"DEPOT-01\"]}]", OADR_IGNORE,
      "targets", true },
    { "object.targets", "\"DEPOT-01\"", OADR_INVALID, "targets: must be an array", true },
    { "object.targets", "[5]", OADR_INVALID, "targets[0]: must be a string or", true },
    { "object.targets", "[\"\"]", OADR_INVALID, "targets[0]: must be 1 to", true },
    { "object.targets", "[{\"type\":\"VEN_NAME\"}]", OADR_INVALID, "values: must be an array",
      true },
    { "object.targets", "[{\"type\":\"VEN_NAME\",\"values\":[1]}]", OADR_INVALID,
      "values: must hold strings", true },
    { "object.targets", "[{\"values\":[\"VEN-7\"]}]", OADR_INVALID, "type: missing", true },
    /* the event */
    { "object.objectType", "\"PROGRAM\"", OADR_INVALID, "objectType: must be EVENT", true },
    { "object.priority", "-1", OADR_INVALID, "priority: must be an integer", true },
    { "object.priority", "1.5", OADR_INVALID, "priority: must be an integer", true },
    { "object.priority", "\"1\"", OADR_INVALID, "priority: must be an integer", true },
    { "object.priority", "1e10", OADR_INVALID, "priority: must be an integer", true },
    { "object.priority", "1e999", OADR_INVALID, "priority: must be an integer", true },
    { "object.priority", "null", OADR_EVENT, NULL, true },
    { "object.payloadDescriptors", "{}", OADR_INVALID, "payloadDescriptors: must be an array",
      true },
    { "object.payloadDescriptors", "[5]", OADR_INVALID, "must be an object", true },
    { "object.payloadDescriptors[0].units", "\"KWH\"", OADR_INVALID, "not a power unit", true },
    { "object.payloadDescriptors[0].units", "null", OADR_EVENT, NULL, true },
    { "object.payloadDescriptors[0].payloadType", NULL, OADR_INVALID, "payloadType: missing",
      true },
    { "object.duration", "\"an hour\"", OADR_INVALID, "duration: not an ISO 8601", true },
    { "object.duration", "\"PT2H\"", OADR_EVENT, NULL, true },
    { "object.intervalPeriod", "[]", OADR_INVALID, "intervalPeriod: must be an object", true },
    { "object.intervalPeriod.start", "\"tomorrow\"", OADR_INVALID, "start: not an RFC 3339",
      true },
    { "object.intervalPeriod.start", NULL, OADR_INVALID, "no start", true },
    { "object.intervalPeriod.start", "\"2023-06-23T10:00:00Z\"", OADR_INVALID,
      "too far in the future", true },
    { "object.intervalPeriod.start", "\"2023-06-22T09:00:00Z\"", OADR_EVENT, NULL, true },
    { "object.intervalPeriod.duration", NULL, OADR_INVALID, "no duration", true },
    { "object.intervalPeriod.duration", "\"1 hour\"", OADR_INVALID, "not an ISO 8601", true },
    { "object.intervalPeriod.duration", "\"-PT1H\"", OADR_INVALID, "not an ISO 8601", true },
    { "object.intervalPeriod.randomizeStart", "\"P9999Y\"", OADR_INVALID, "randomizeStart", true },
    { "object.intervalPeriod.randomizeStart", "\"PT10M\"", OADR_EVENT, NULL, true },
    { "object.intervals", NULL, OADR_INVALID, "intervals: must be an array of 1", true },
    { "object.intervals", "[]", OADR_INVALID, "intervals: must be an array of 1", true },
    { "object.intervals", "{}", OADR_INVALID, "intervals: must be an array of 1", true },
    { "object.intervals[0]", "[]", OADR_INVALID, "intervals[0]: must be an object", true },
    { "object.intervals[0].id", NULL, OADR_INVALID, "intervals[0].id: missing", true },
    { "object.intervals[0].id", "\"0\"", OADR_INVALID, "id: must be an integer", true },
    { "object.intervals[0].id", "2147483648", OADR_INVALID, "id: must be an integer", true },
    { "object.intervals[0].id", "0.5", OADR_INVALID, "id: must be an integer", true },
    { "object.intervals[0].id", "-7", OADR_EVENT, NULL, true },
    { "object.intervals[0].intervalPeriod", "5", OADR_INVALID, "must be an object", true },
    { "object.intervals[0].payloads", "[]", OADR_INVALID, "payloads: must be an array of 1",
      true },
    { "object.intervals[0].payloads", NULL, OADR_INVALID, "payloads: must be an array of 1",
      true },
    { "object.intervals[0].payloads[0]", "5", OADR_INVALID, "must be an object", true },
    { "object.intervals[0].payloads[0].type", NULL, OADR_INVALID, "type: missing", true },
    { "object.intervals[0].payloads[0].type", "\"PRICE\"", OADR_INVALID,
      "no payload this site acts on", true },
    { "object.intervals[0].payloads[0].type", "\"SIMPLE\"", OADR_INVALID,
      "a SIMPLE level must be 0, 1, 2 or 3", true },
    { "object.intervals[0].payloads[0].values", "[-1]", OADR_INVALID,
      "finite and not negative", true },
    { "object.intervals[0].payloads[0].values", "[1e999]", OADR_INVALID,
      "finite and not negative", true },
    { "object.intervals[0].payloads[0].values", "[-1e999]", OADR_INVALID,
      "finite and not negative", true },
    { "object.intervals[0].payloads[0].values", "[\"20\"]", OADR_INVALID, "must be one number",
      true },
    { "object.intervals[0].payloads[0].values", "[20,30]", OADR_INVALID, "must be one number",
      true },
    { "object.intervals[0].payloads[0].values", "[]", OADR_INVALID, "must be one number", true },
    { "object.intervals[0].payloads[0].values", "[null]", OADR_INVALID, "must be one number",
      true },
    { "object.intervals[0].payloads[0].values", "[{\"x\":1,\"y\":2}]", OADR_INVALID,
      "must be one number", true },
    { "object.intervals[0].payloads[0].values", "20", OADR_INVALID, "values: must be an array",
      true },
    { "object.intervals[0].payloads[0].values", "[1e300]", OADR_EVENT, NULL, true },
    { "object.intervals[0].payloads[0].values", "[0]", OADR_EVENT, NULL, true },
    /* what the gateway does not read is not checked */
    { "object.eventName", "5", OADR_EVENT, NULL, true },
    { "object.reportDescriptors", "[{\"payloadType\":\"USAGE\"}]", OADR_EVENT, NULL, true },
};

TEST(one_change_at_a_time)
{
    int failed = 0;
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        const struct edit *e = &edits[i];
        char *text = with(base_event, e->path, e->raw);
        enum oadr_verdict v = parse_at(text, T_NOW, &n, err);
        bool ok = v == e->want && (e->err_has ? strstr(err, e->err_has) != NULL : !err[0]) &&
                  (!e->id_read || strcmp(n.event.id, "evt-1") == 0) &&
                  (e->id_read || n.event.id[0] == '\0');
        if (!ok) {
            fprintf(stderr, "  %s = %s: verdict %d (want %d) err \"%s\" (want \"%s\") id \"%s\"\n",
                    e->path, e->raw ? e->raw : "(removed)", v, e->want, err,
                    e->err_has ? e->err_has : "", n.event.id);
            failed++;
        }
        free(text);
    }
    ASSERT_EQ(failed, 0);
}

TEST(intervals_follow_each_other)
{
    char *text = with(base_event, "object.intervals",
                      "[{\"id\":0,\"payloads\":[{\"type\":\"IMPORT_CAPACITY_LIMIT\",\"values\":[20]}]},"
                      "{\"id\":1,\"payloads\":[{\"type\":\"IMPORT_CAPACITY_LIMIT\",\"values\":[30]}]},"
                      "{\"id\":5,\"intervalPeriod\":{\"duration\":\"PT30M\"},"
                      "\"payloads\":[{\"type\":\"SIMPLE\",\"values\":[2]}]},"
                      "{\"id\":6,\"intervalPeriod\":{\"start\":\"2023-06-15T20:00:00Z\"},"
                      "\"payloads\":[{\"type\":\"SIMPLE\",\"values\":[0]}]}]");
    ASSERT_EQ(parse_at(text, T_NOW, &n, err), OADR_EVENT);
    free(text);
    ASSERT_EQ(n.event.n_intervals, 4);
    const struct oadr_interval *iv = n.event.intervals;
    ASSERT_EQ(iv[0].start_us, T_START);
    ASSERT_EQ(iv[1].start_us, T_START + HOUR);
    ASSERT_DBL_NEAR(iv[1].limit_kw, 30, 0);
    ASSERT_EQ(iv[2].start_us, T_START + 2 * HOUR);
    ASSERT_EQ(iv[2].duration_us, HOUR / 2);
    ASSERT(isnan(iv[2].limit_kw));
    ASSERT_EQ(iv[2].simple, 2);
    ASSERT_EQ(iv[3].start_us, T_START + 10 * HOUR);
    ASSERT_EQ(iv[3].duration_us, HOUR);
    ASSERT_EQ(iv[3].simple, 0);
}

TEST(interval_ids_strictly_increasing)
{
    static const char *const lists[] = {
        "[{\"id\":0,\"payloads\":[{\"type\":\"SIMPLE\",\"values\":[1]}]},"
        "{\"id\":0,\"payloads\":[{\"type\":\"SIMPLE\",\"values\":[1]}]}]",
        "[{\"id\":5,\"payloads\":[{\"type\":\"SIMPLE\",\"values\":[1]}]},"
        "{\"id\":3,\"payloads\":[{\"type\":\"SIMPLE\",\"values\":[1]}]}]",
    };
    for (size_t i = 0; i < 2; i++) {
        char *text = with(base_event, "object.intervals", lists[i]);
        ASSERT_EQ(parse_at(text, T_NOW, &n, err), OADR_INVALID);
        ASSERT_NOT_NULL(strstr(err, "intervals[1].id: "));
        ASSERT_NOT_NULL(strstr(err, "is not above the previous interval's"));
        ASSERT_STR_EQ(n.event.id, "evt-1");
        free(text);
    }
}

/* A JSON list of count one-hour SIMPLE intervals (malloc'd). */
static char *interval_list(int count)
{
    size_t cap = (size_t)(count + 1) * 80;
    char *list = malloc(cap);
    size_t used = 0;
    list[used++] = '[';
    for (int i = 0; i < count; i++)
        used += (size_t)snprintf(list + used, cap - used,
                                 "%s{\"id\":%d,\"payloads\":[{\"type\":\"SIMPLE\",\"values\":[1]}]}",
                                 i ? "," : "", i);
    list[used++] = ']';
    list[used] = '\0';
    return list;
}

TEST(too_many_intervals)
{
    char *list = interval_list(OADR_INTERVALS_MAX + 1);
    char *text = with(base_event, "object.intervals", list);
    ASSERT_EQ(parse_at(text, T_NOW, &n, err), OADR_INVALID);
    ASSERT_NOT_NULL(strstr(err, "intervals: must be an array of 1 to 288"));
    free(text);
    free(list);
    /* exactly the maximum is fine */
    list = interval_list(OADR_INTERVALS_MAX);
    text = with(base_event, "object.intervals", list);
    if (parse_at(text, T_NOW, &n, err) != OADR_EVENT)
        TEST__FAIL("%s", err);
    ASSERT_EQ(n.event.n_intervals, OADR_INTERVALS_MAX);
    ASSERT_EQ(n.event.intervals[OADR_INTERVALS_MAX - 1].start_us,
              T_START + (OADR_INTERVALS_MAX - 1) * HOUR);
    free(text);
    free(list);
}

TEST(forever_and_now)
{
    char *a = with(base_event, "object.intervalPeriod",
                   "{\"start\":\"0001-01-01\",\"duration\":\"P9999Y\"}");
    ASSERT_EQ(parse_at(a, T_NOW, &n, err), OADR_EVENT);
    ASSERT_EQ(n.event.intervals[0].start_us, T_NOW);
    ASSERT_EQ(n.event.intervals[0].duration_us, OADR_FOREVER);
    int64_t start, end;
    oadr_interval_span(&n.event.intervals[0], 5 * OADR_US_PER_S, &start, &end);
    ASSERT_EQ(start, T_NOW + 5 * OADR_US_PER_S);
    ASSERT_EQ(end, OADR_FOREVER);
    /* nothing can follow an interval that never ends, unless it says when */
    char *c = with(a, "object.intervals",
                   "[{\"id\":0,\"payloads\":[{\"type\":\"SIMPLE\",\"values\":[1]}]},"
                   "{\"id\":1,\"payloads\":[{\"type\":\"SIMPLE\",\"values\":[1]}]}]");
    ASSERT_EQ(parse_at(c, T_NOW, &n, err), OADR_INVALID);
    ASSERT_NOT_NULL(strstr(err, "the previous interval never ends"));
    free(a);
    free(c);
}

TEST(zero_duration_cancels)
{
    char *a = with(base_event, "object.intervalPeriod.duration", "\"PT0S\"");
    ASSERT_EQ(parse_at(a, T_NOW, &n, err), OADR_EVENT);
    ASSERT(n.event.cancel);
    /* even when its intervals are not the gateway's business any more */
    char *b = with(a, "object.intervals", "\"whatever\"");
    ASSERT_EQ(parse_at(b, T_NOW, &n, err), OADR_EVENT);
    ASSERT(n.event.cancel);
    /* every interval empty: cancelled too */
    char *c = with(base_event, "object.intervals[0].intervalPeriod", "{\"duration\":\"PT0S\"}");
    ASSERT_EQ(parse_at(c, T_NOW, &n, err), OADR_EVENT);
    ASSERT(n.event.cancel);
    free(a);
    free(b);
    free(c);
}

TEST(capacity_units)
{
    char *w = with(base_event, "object.payloadDescriptors[0].units", "\"W\"");
    char *w2 = with(w, "object.intervals[0].payloads[0].values", "[15000]");
    ASSERT_EQ(parse_at(w2, T_NOW, &n, err), OADR_EVENT);
    ASSERT_DBL_NEAR(n.event.intervals[0].limit_kw, 15, 1e-9);
    char *mw = with(base_event, "object.payloadDescriptors[0].units", "\"MW\"");
    char *mw2 = with(mw, "object.intervals[0].payloads[0].values", "[0.05]");
    ASSERT_EQ(parse_at(mw2, T_NOW, &n, err), OADR_EVENT);
    ASSERT_DBL_NEAR(n.event.intervals[0].limit_kw, 50, 1e-9);
    /* huge but finite, and infinite once in kW */
    char *mw3 = with(mw, "object.intervals[0].payloads[0].values", "[1e308]");
    ASSERT_EQ(parse_at(mw3, T_NOW, &n, err), OADR_INVALID);
    ASSERT_NOT_NULL(strstr(err, "finite"));
    char *kw = with(base_event, "object.payloadDescriptors[0].units", "\"kW\"");
    ASSERT_EQ(parse_at(kw, T_NOW, &n, err), OADR_EVENT);
    ASSERT_DBL_NEAR(n.event.intervals[0].limit_kw, 20, 0);
    free(w);
    free(w2);
    free(mw);
    free(mw2);
    free(mw3);
    free(kw);
}

TEST(simple_levels)
{
    for (int level = 0; level < 4; level++) {
        char v[8];
        snprintf(v, sizeof(v), "[%d]", level);
        char *a = with(base_event, "object.intervals[0].payloads[0].type", "\"SIMPLE\"");
        char *b = with(a, "object.intervals[0].payloads[0].values", v);
        ASSERT_EQ(parse_at(b, T_NOW, &n, err), OADR_EVENT);
        ASSERT_EQ(n.event.intervals[0].simple, level);
        ASSERT(isnan(n.event.intervals[0].limit_kw));
        free(a);
        free(b);
    }
    static const char *const bad[] = { "[4]", "[-1]", "[1.5]", "[\"1\"]", "[true]" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *a = with(base_event, "object.intervals[0].payloads[0].type", "\"SIMPLE\"");
        char *b = with(a, "object.intervals[0].payloads[0].values", bad[i]);
        ASSERT_EQ(parse_at(b, T_NOW, &n, err), OADR_INVALID);
        free(a);
        free(b);
    }
}

TEST(other_payload_types_are_noted)
{
    char *text = with(base_event, "object.intervals[0].payloads",
                      "[{\"type\":\"PRICE\",\"values\":[0.17]},"
                      "{\"type\":\"IMPORT_CAPACITY_LIMIT\",\"values\":[25]},"
                      "{\"type\":\"GHG\",\"values\":[\"x\"]},"
                      "{\"type\":\"PRICE\",\"values\":[0.2]},"
                      "{\"type\":\"IMPORT_CAPACITY_LIMIT\",\"values\":[22]},"
                      "{\"type\":\"SIMPLE\",\"values\":[1]}]");
    ASSERT_EQ(parse_at(text, T_NOW, &n, err), OADR_EVENT);
    ASSERT_STR_EQ(n.event.ignored, "PRICE,GHG");
    ASSERT_DBL_NEAR(n.event.intervals[0].limit_kw, 22, 0); /* the lower of two */
    ASSERT_EQ(n.event.intervals[0].simple, 1);
    free(text);
    text = with(base_event, "object.intervals[0].payloads",
                "[{\"type\":\"PRICE\",\"values\":[0.17]},{\"type\":\"GHG\",\"values\":[1]}]");
    ASSERT_EQ(parse_at(text, T_NOW, &n, err), OADR_INVALID);
    ASSERT_STR_EQ(err, "no payload this site acts on (IMPORT_CAPACITY_LIMIT, SIMPLE); "
                       "ignored: PRICE,GHG");
    ASSERT_STR_EQ(n.event.id, "evt-1");
    free(text);
}

TEST(delete_needs_little)
{
    static const char del[] = "{\"objectType\":\"EVENT\",\"operation\":\"DELETE\",\"object\":"
                              "{\"id\":\"evt-1\",\"programID\":\"ev-peak-dr\"}}";
    ASSERT_EQ(parse_at(del, T_NOW, &n, err), OADR_EVENT);
    ASSERT_EQ(n.operation, OADR_DELETE);
    ASSERT_STR_EQ(n.event.id, "evt-1");
    ASSERT_EQ(n.event.modified_us, INT64_MIN);
    char *other = with(del, "object.programID", "\"other\"");
    ASSERT_EQ(parse_at(other, T_NOW, &n, err), OADR_IGNORE);
    char *full = with(base_event, "operation", "\"DELETE\"");
    ASSERT_EQ(parse_at(full, T_NOW, &n, err), OADR_EVENT);
    ASSERT_EQ(n.operation, OADR_DELETE);
    ASSERT_EQ(n.event.modified_us, T_NOW - HOUR / 2);
    free(other);
    free(full);
}

/* --- hostile input --------------------------------------------------------- */

TEST(every_prefix_is_refused)
{
    size_t len = strlen(base_event);
    for (size_t k = 0; k < len; k++) {
        /* A copy of exactly k bytes, so that ASan sees any read past it. */
        char *p = malloc(k ? k : 1);
        memcpy(p, base_event, k);
        enum oadr_verdict v = oadr_parse(p, k, &test_cfg, T_NOW, &n, err);
        free(p);
        if (v != OADR_INVALID || !err[0])
            TEST__FAIL("prefix of %zu bytes: verdict %d", k, v);
    }
}

TEST(oversized)
{
    struct oadr_parse_cfg small = test_cfg;
    small.max_bytes = 100;
    ASSERT_EQ(oadr_parse(base_event, strlen(base_event), &small, T_NOW, &n, err), OADR_INVALID);
    ASSERT_NOT_NULL(strstr(err, "more than the 100 allowed"));
    ASSERT_STR_EQ(n.event.id, "");
}

TEST(not_utf8)
{
    static const char *const bad[] = {
        "\xff", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc3",
        "\xe2\x82", "\x80", "\xf8\x88\x80\x80\x80",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *text = with(base_event, "object.eventName", "\"x\"");
        char *at = strstr(text, "\"x\"");
        size_t blen = strlen(bad[i]);
        size_t len = strlen(text);
        char *buf = malloc(len + blen);
        size_t head = (size_t)(at + 1 - text);
        memcpy(buf, text, head);
        memcpy(buf + head, bad[i], blen);
        memcpy(buf + head + blen, at + 2, len - head - 1);
        ASSERT_EQ(oadr_parse(buf, len - 1 + blen, &test_cfg, T_NOW, &n, err), OADR_INVALID);
        ASSERT_STR_EQ(err, "not UTF-8 text");
        free(buf);
        free(text);
    }
    /* good multi-byte text passes */
    char *ok = with(base_event, "object.eventName", "\"p\xc3\xa9" "ak \xe2\x82\xb9 \xf0\x9f\x94\x8c\"");
    ASSERT_EQ(parse_at(ok, T_NOW, &n, err), OADR_EVENT);
    free(ok);
    ASSERT(oadr_utf8_ok("", 0));
    ASSERT(!oadr_utf8_ok("a\0b", 3));
    ASSERT(oadr_utf8_ok("\xef\xbf\xbf", 3));
    ASSERT(oadr_utf8_ok("\xf4\x8f\xbf\xbf", 4));
}

TEST(malformed_json)
{
    static const char *const bad[] = {
        "", " ", "null", "[]", "\"EVENT\"", "42", "{", "{\"objectType\":}", "{'a':1}",
        "{\"objectType\":\"EVENT\",}", "{\"objectType\":\"EVENT\"} {}", "{\"a\":NaN}",
        "{\"a\":Infinity}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\x41\"}", "\xef\xbb\xbf{}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum oadr_verdict v = oadr_parse(bad[i], strlen(bad[i]), &test_cfg, T_NOW, &n, err);
        if (v != OADR_INVALID || !err[0] || n.event.id[0])
            TEST__FAIL("\"%s\": verdict %d err \"%s\"", bad[i], v, err);
    }
    /* a NUL byte in the middle */
    static const char nul[] = "{\"objectType\":\"EV\0NT\"}";
    ASSERT_EQ(oadr_parse(nul, sizeof(nul) - 1, &test_cfg, T_NOW, &n, err), OADR_INVALID);
    ASSERT_STR_EQ(err, "not UTF-8 text");
}

TEST(deep_nesting)
{
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 64);
    size_t len = (size_t)sprintf(deep, "{\"objectType\":\"EVENT\",\"x\":");
    memset(deep + len, '[', depth);
    len += depth;
    memset(deep + len, ']', depth);
    len += depth;
    deep[len++] = '}';
    struct oadr_parse_cfg big = test_cfg;
    big.max_bytes = len;
    ASSERT_EQ(oadr_parse(deep, len, &big, T_NOW, &n, err), OADR_INVALID);
    free(deep);
    /* nested inside the event, within cJSON's limit: still just unread noise */
    char *text = with(base_event, "object.eventName", "[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]");
    ASSERT_EQ(parse_at(text, T_NOW, &n, err), OADR_EVENT);
    free(text);
}

TEST(nul_escapes_and_duplicates)
{
    char *a = with(base_event, "object.id", "\"evt-1\\u0000x\"");
    ASSERT_EQ(parse_at(a, T_NOW, &n, err), OADR_INVALID);
    ASSERT_STR_EQ(err, "\\u0000 in a string");
    free(a);
    /* the same key twice: either copy could be the one another reader takes */
    static const char dup_id[] =
        "{\"objectType\":\"EVENT\",\"operation\":\"CREATE\",\"object\":{\"id\":\"evt-1\","
        "\"id\":\"evt-2\",\"programID\":\"ev-peak-dr\"}}";
    ASSERT_EQ(parse_at(dup_id, T_NOW, &n, err), OADR_INVALID);
    ASSERT_STR_EQ(err, "id: duplicate key");
    static const char dup_op[] =
        "{\"objectType\":\"EVENT\",\"operation\":\"CREATE\",\"operation\":\"DELETE\","
        "\"object\":{\"id\":\"evt-1\",\"programID\":\"ev-peak-dr\","
        "\"modificationDateTime\":\"2023-06-15T09:00:00Z\"}}";
    ASSERT_EQ(parse_at(dup_op, T_NOW, &n, err), OADR_INVALID);
    ASSERT_STR_EQ(err, "operation: duplicate key");
    ASSERT_STR_EQ(n.event.id, "evt-1");
    char *dup_limit = with(base_event, "object.intervals[0].payloads[0]",
                           "{\"type\":\"IMPORT_CAPACITY_LIMIT\",\"values\":[20],\"values\":[99]}");
    ASSERT_EQ(parse_at(dup_limit, T_NOW, &n, err), OADR_INVALID);
    ASSERT_NOT_NULL(strstr(err, "values: duplicate key"));
    free(dup_limit);
}

TEST(object_ids)
{
    ASSERT(oadr_object_id_ok("a"));
    ASSERT(oadr_object_id_ok("Evt_9-x"));
    ASSERT(!oadr_object_id_ok(""));
    ASSERT(!oadr_object_id_ok("a.b"));
    ASSERT(!oadr_object_id_ok("a+"));
    ASSERT(!oadr_object_id_ok("a#"));
    ASSERT(!oadr_object_id_ok("\xc3\xa9"));
    char id[OADR_ID_MAX + 2];
    memset(id, 'a', sizeof(id));
    id[OADR_ID_MAX] = '\0';
    ASSERT(oadr_object_id_ok(id));
    id[OADR_ID_MAX] = 'a';
    id[OADR_ID_MAX + 1] = '\0';
    ASSERT(!oadr_object_id_ok(id));
}

int main(void)
{
    RUN(base_parses);
    RUN(one_change_at_a_time);
    RUN(intervals_follow_each_other);
    RUN(interval_ids_strictly_increasing);
    RUN(too_many_intervals);
    RUN(forever_and_now);
    RUN(zero_duration_cancels);
    RUN(capacity_units);
    RUN(simple_levels);
    RUN(other_payload_types_are_noted);
    RUN(delete_needs_little);
    RUN(every_prefix_is_refused);
    RUN(oversized);
    RUN(not_utf8);
    RUN(malformed_json);
    RUN(deep_nesting);
    RUN(nul_escapes_and_duplicates);
    RUN(object_ids);
    return test_summary();
}

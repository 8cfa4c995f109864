/* RFC 3339 times and ISO 8601 durations (openadr/oadr_time.c): tables of
 * good and bad input, the "now" and "for ever" conventions, formatting. */
#include <errno.h>
#include <stdint.h>

#include "oadr_time.h"
#include "test.h"

#define S OADR_US_PER_S

TEST(times_parse)
{
    static const struct { const char *in; int64_t want; } cases[] = {
        { "1970-01-01T00:00:00Z", 0 },
        { "2023-06-15T09:30:00Z", 1686821400 * S },
        { "2023-06-15t09:30:00z", 1686821400 * S },
        { "2023-06-15T15:00:00+05:30", 1686821400 * S },
        { "2023-06-15T04:30:00-05:00", 1686821400 * S },
        { "2023-06-15T09:30:00.5Z", 1686821400 * S + 500000 },
        { "2023-06-15T09:30:00.123456789Z", 1686821400 * S + 123456 },
        { "2024-02-29T00:00:00Z", 1709164800 * S },
        { "1969-12-31T23:59:59Z", -1 * S },
        { "2016-12-31T23:59:60Z", 1483228800 * S }, /* a leap second counts as the next */
        { "9999-12-31T23:59:59Z", 253402300799 * S },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t us = 0;
        if (oadr_time_parse(cases[i].in, &us) != 0)
            TEST__FAIL("%s: refused", cases[i].in);
        if (us != cases[i].want)
            TEST__FAIL("%s: %lld, wanted %lld", cases[i].in, (long long)us,
                       (long long)cases[i].want);
    }
}

TEST(times_refused)
{
    static const char *const bad[] = {
        "", "2023", "2023-06-15", "2023-06-15T09:30:00", "2023-06-15 09:30:00Z",
        "2023-13-01T00:00:00Z", "2023-00-01T00:00:00Z", "2023-02-29T00:00:00Z",
        "2023-04-31T00:00:00Z", "2023-06-15T24:00:00Z", "2023-06-15T23:60:00Z",
        "2023-06-15T23:59:61Z", "2023-06-15T09:30:00.Z", "2023-06-15T09:30:00+5:30",
        "2023-06-15T09:30:00+24:00", "2023-06-15T09:30:00+05:60", "2023-06-15T09:30:00ZZ",
        "0000-01-01T00:00:00Z", "+2023-06-15T09:30:00Z", "2023-06-15T09:30:00Z ",
        "2O23-06-15T09:30:00Z", "2023/06/15T09:30:00Z", "2023-06-15T09:30:00+05:30:00",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t us;
        if (oadr_time_parse(bad[i], &us) != -EINVAL)
            TEST__FAIL("\"%s\": accepted", bad[i]);
    }
    int64_t us;
    ASSERT_EQ(oadr_time_parse(NULL, &us), -EINVAL);
}

TEST(start_now_convention)
{
    int64_t now = 1700000000 * S, us = 0;
    static const char *const now_forms[] = {
        "0001-01-01", "0001-01-01T00:00:00", "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00.000Z", "0001-01-01T00:00:00+05:30",
    };
    for (size_t i = 0; i < sizeof(now_forms) / sizeof(now_forms[0]); i++) {
        us = 0;
        ASSERT_EQ(oadr_time_parse_start(now_forms[i], now, &us), 0);
        ASSERT_EQ(us, now);
    }
    ASSERT_EQ(oadr_time_parse_start("2023-06-15T09:30:00Z", now, &us), 0);
    ASSERT_EQ(us, 1686821400 * S);
    /* only the "now" form may go without an offset */
    ASSERT_EQ(oadr_time_parse_start("2023-06-15T09:30:00", now, &us), -EINVAL);
    ASSERT_EQ(oadr_time_parse_start("0001-01-02", now, &us), -EINVAL);
    ASSERT_EQ(oadr_time_parse_start("0001-01-01T00:00:01Z", now, &us), 0);
    ASSERT(us != now);
    ASSERT_EQ(oadr_time_parse_start(NULL, now, &us), -EINVAL);
}

TEST(durations_parse)
{
    static const struct { const char *in; int64_t want; } cases[] = {
        { "PT0S", 0 },
        { "PT1H", 3600 * S },
        { "PT15M", 900 * S },
        { "PT5S", 5 * S },
        { "PT0.5S", S / 2 },
        { "PT1.000001S", S + 1 },
        { "PT1.0000019S", S + 1 },
        { "P1D", 86400 * S },
        { "P2W", 14 * 86400 * S },
        { "P1DT2H3M4S", (86400 + 7200 + 180 + 4) * S },
        { "P1M", 30LL * 86400 * S },
        { "P1Y", 365LL * 86400 * S },
        { "PT36H", 36 * 3600 * S },
        { "P9999Y", OADR_FOREVER },
        { "P10000Y", OADR_FOREVER },
        { "P9998Y365D", OADR_FOREVER },
        { "P99999999999999999999999Y", OADR_FOREVER },
        { "PT99999999999999999999999S", OADR_FOREVER },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t us = -1;
        if (oadr_duration_parse(cases[i].in, &us) != 0)
            TEST__FAIL("%s: refused", cases[i].in);
        if (us != cases[i].want)
            TEST__FAIL("%s: %lld, wanted %lld", cases[i].in, (long long)us,
                       (long long)cases[i].want);
    }
}

TEST(durations_refused)
{
    static const char *const bad[] = {
        "", "P", "PT", "T1H", "1H", "-PT1H", "PT-1H", "PT1.5H", "P1.5D", "PT1H1H",
        "PT1M1H", "P1D1Y", "P1W1D", "P1DT", "PT1S ", "pt1h", "PT.5S", "PT5.S", "P1DT1D",
        "PT1HX", "PTS",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t us;
        if (oadr_duration_parse(bad[i], &us) != -EINVAL)
            TEST__FAIL("\"%s\": accepted", bad[i]);
    }
    int64_t us;
    ASSERT_EQ(oadr_duration_parse(NULL, &us), -EINVAL);
}

TEST(format_round_trip)
{
    static const int64_t times[] = { 0, 1686821400 * S, 1686821400 * S + 500000,
                                     1686821400 * S + 123456, -1 * S, -1, 253402300799 * S,
                                     -62135596800LL * S };
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        char buf[OADR_TIME_TEXT_MAX];
        int64_t back = 0;
        ASSERT(oadr_time_format(times[i], buf, sizeof(buf)) > 0);
        if (oadr_time_parse(buf, &back) != 0 || back != times[i])
            TEST__FAIL("%lld -> %s -> %lld", (long long)times[i], buf, (long long)back);
    }
    char buf[OADR_TIME_TEXT_MAX];
    ASSERT_EQ(oadr_time_format(1686821400 * S, buf, sizeof(buf)), 20);
    ASSERT_STR_EQ(buf, "2023-06-15T09:30:00Z");
    oadr_time_format(1686821400 * S + 250000, buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "2023-06-15T09:30:00.25Z");
    ASSERT_EQ(oadr_time_format(1686821400 * S, buf, 20), -ENOBUFS);
    ASSERT_EQ(oadr_time_format(INT64_MAX, buf, sizeof(buf)), -ERANGE);
    ASSERT_EQ(oadr_time_format(-62135596801LL * S, buf, sizeof(buf)), -ERANGE);
}

TEST(duration_format)
{
    char buf[32];
    int64_t back;
    ASSERT_EQ(oadr_duration_format(300 * S, buf, sizeof(buf)), 6);
    ASSERT_STR_EQ(buf, "PT300S");
    oadr_duration_format(S + S / 2, buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "PT1.5S");
    oadr_duration_format(0, buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "PT0S");
    oadr_duration_format(OADR_FOREVER, buf, sizeof(buf));
    ASSERT_STR_EQ(buf, "P9999Y");
    ASSERT_EQ(oadr_duration_format(-1, buf, sizeof(buf)), -EINVAL);
    ASSERT_EQ(oadr_duration_format(300 * S, buf, 4), -ENOBUFS);
    oadr_duration_format(123456789, buf, sizeof(buf));
    ASSERT_EQ(oadr_duration_parse(buf, &back), 0);
    ASSERT_EQ(back, 123456789);
}

TEST(add_saturates)
{
    ASSERT_EQ(oadr_time_add(10, 5), 15);
    ASSERT_EQ(oadr_time_add(10, OADR_FOREVER), OADR_FOREVER);
    ASSERT_EQ(oadr_time_add(INT64_MAX - 1, 5), OADR_FOREVER);
}

int main(void)
{
    RUN(times_parse);
    RUN(times_refused);
    RUN(start_now_convention);
    RUN(durations_parse);
    RUN(durations_refused);
    RUN(format_round_trip);
    RUN(duration_format);
    RUN(add_saturates);
    return test_summary();
}

/* The dashboard's last hour (gateway/history.c): a ring of 3600 one-second
 * samples, gaps filled with unknowns, the oldest dropped. */
#include <math.h>
#include <string.h>

#include "history.h"
#include "test.h"

static struct history h;

static struct history_sample at(float v)
{
    return (struct history_sample){ v, v + 1, v + 2 };
}

TEST(fills_in_order)
{
    history_init(&h);
    ASSERT_EQ(h.n, 0);
    for (int i = 0; i < 10; i++) {
        struct history_sample s = at((float)i);
        history_add(&h, 100 + (uint64_t)i, &s);
    }
    ASSERT_EQ(h.n, 10);
    for (size_t i = 0; i < 10; i++) {
        ASSERT_DBL_NEAR(history_at(&h, i)->import_kw, (double)i, 0);
        ASSERT_DBL_NEAR(history_at(&h, i)->ev_kw, (double)i + 2, 0);
    }
}

TEST(same_second_overwrites_and_gaps_are_unknown)
{
    history_init(&h);
    struct history_sample a = at(1), b = at(2), c = at(3);
    history_add(&h, 50, &a);
    history_add(&h, 50, &b);
    ASSERT_EQ(h.n, 1);
    ASSERT_DBL_NEAR(history_at(&h, 0)->import_kw, 2, 0);
    history_add(&h, 53, &c);          /* 51 and 52 were missed */
    ASSERT_EQ(h.n, 4);
    ASSERT(isnan(history_at(&h, 1)->import_kw));
    ASSERT(isnan(history_at(&h, 2)->cap_kw));
    ASSERT_DBL_NEAR(history_at(&h, 3)->import_kw, 3, 0);
}

TEST(keeps_the_last_hour)
{
    history_init(&h);
    for (uint64_t t = 0; t < HISTORY_SAMPLES + 250; t++) {
        struct history_sample s = at((float)t);
        history_add(&h, t, &s);
    }
    ASSERT_EQ(h.n, HISTORY_SAMPLES);
    ASSERT_DBL_NEAR(history_at(&h, 0)->import_kw, 250, 0);
    ASSERT_DBL_NEAR(history_at(&h, HISTORY_SAMPLES - 1)->import_kw, HISTORY_SAMPLES + 249, 0);
    /* A gap longer than the ring leaves only unknowns before the new sample. */
    struct history_sample s = at(7);
    history_add(&h, 100000, &s);
    ASSERT_EQ(h.n, HISTORY_SAMPLES);
    ASSERT(isnan(history_at(&h, 0)->import_kw));
    ASSERT(isnan(history_at(&h, HISTORY_SAMPLES - 2)->import_kw));
    ASSERT_DBL_NEAR(history_at(&h, HISTORY_SAMPLES - 1)->import_kw, 7, 0);
}

int main(void)
{
    RUN(fills_in_order);
    RUN(same_second_overwrites_and_gaps_are_unknown);
    RUN(keeps_the_last_hour);
    return test_summary();
}

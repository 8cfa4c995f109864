/* The read plan (which reads cover a register map) and the mailbox between the
 * workers and the loop (bounded per meter, oldest dropped). */
#include <errno.h>
#include <pthread.h>

#include "mailbox.h"
#include "plan.h"
#include "test.h"

static void put(struct config_register *map, enum config_quantity q, enum config_reg_function fn,
                int address, enum config_reg_type type)
{
    map[q] = (struct config_register){ .present = true, .address = address, .function = fn,
                                       .type = type, .scale = 1 };
}

#define IN CONFIG_REG_INPUT
#define HOLD CONFIG_REG_HOLDING

TEST(sdm630_map_is_three_reads)
{
    struct config_register map[CONFIG_Q_COUNT] = { 0 };
    for (int i = 0; i < 3; i++) {
        put(map, CONFIG_Q_VOLTAGE_L1 + i, IN, 0 + 2 * i, CONFIG_REG_FLOAT32);
        put(map, CONFIG_Q_CURRENT_L1 + i, IN, 6 + 2 * i, CONFIG_REG_FLOAT32);
        put(map, CONFIG_Q_POWER_L1 + i, IN, 12 + 2 * i, CONFIG_REG_FLOAT32);
    }
    put(map, CONFIG_Q_POWER, IN, 0x34, CONFIG_REG_FLOAT32);
    put(map, CONFIG_Q_ENERGY_IMPORT, IN, 0x48, CONFIG_REG_FLOAT32);
    struct plan p;
    plan_build(&p, map);
    ASSERT_EQ(p.n_reads, 3);
    ASSERT_EQ(p.reads[0].function, IN);
    ASSERT_EQ(p.reads[0].address, 0);
    ASSERT_EQ(p.reads[0].count, 18);
    ASSERT_EQ(p.reads[1].address, 0x34);
    ASSERT_EQ(p.reads[1].count, 2);
    ASSERT_EQ(p.reads[2].address, 0x48);
    ASSERT_EQ(p.reads[2].count, 2);
    ASSERT_EQ(p.read_of[CONFIG_Q_VOLTAGE_L1], 0);
    ASSERT_EQ(p.offset_of[CONFIG_Q_VOLTAGE_L1], 0);
    ASSERT_EQ(p.read_of[CONFIG_Q_CURRENT_L2], 0);
    ASSERT_EQ(p.offset_of[CONFIG_Q_CURRENT_L2], 8);
    ASSERT_EQ(p.offset_of[CONFIG_Q_POWER_L3], 16);
    ASSERT_EQ(p.read_of[CONFIG_Q_POWER], 1);
    ASSERT_EQ(p.offset_of[CONFIG_Q_POWER], 0);
    ASSERT_EQ(p.read_of[CONFIG_Q_ENERGY_IMPORT], 2);
    ASSERT_EQ(p.read_of[CONFIG_Q_OIL_TEMP_C], -1);
}

TEST(functions_gaps_and_overlaps)
{
    struct config_register map[CONFIG_Q_COUNT] = { 0 };
    /* Same addresses, different tables: never one read. */
    put(map, CONFIG_Q_POWER, HOLD, 10, CONFIG_REG_U16);
    put(map, CONFIG_Q_POWER_L1, IN, 10, CONFIG_REG_U16);
    /* Touching: joined. */
    put(map, CONFIG_Q_POWER_L2, HOLD, 11, CONFIG_REG_U32);
    /* A gap of one register: not joined. */
    put(map, CONFIG_Q_POWER_L3, HOLD, 14, CONFIG_REG_U16);
    /* Overlapping (the same register read twice as different things): joined. */
    put(map, CONFIG_Q_ENERGY_IMPORT, HOLD, 12, CONFIG_REG_U64); /* 12..15 */
    struct plan p;
    plan_build(&p, map);
    /* holding: 10..15 all joined through the overlap; input: 10. */
    ASSERT_EQ(p.n_reads, 2);
    ASSERT_EQ(p.reads[0].function, HOLD);
    ASSERT_EQ(p.reads[0].address, 10);
    ASSERT_EQ(p.reads[0].count, 6);
    ASSERT_EQ(p.reads[1].function, IN);
    ASSERT_EQ(p.reads[1].address, 10);
    ASSERT_EQ(p.reads[1].count, 1);
    ASSERT_EQ(p.offset_of[CONFIG_Q_ENERGY_IMPORT], 2);
    ASSERT_EQ(p.offset_of[CONFIG_Q_POWER_L3], 4);
    ASSERT_EQ(p.read_of[CONFIG_Q_POWER_L1], 1);

    /* Without the overlapping entry, the gap splits the holding reads. */
    map[CONFIG_Q_ENERGY_IMPORT].present = false;
    plan_build(&p, map);
    ASSERT_EQ(p.n_reads, 3);
    ASSERT_EQ(p.reads[0].address, 10);
    ASSERT_EQ(p.reads[0].count, 3);
    ASSERT_EQ(p.reads[1].address, 14);
    ASSERT_EQ(p.reads[1].count, 1);
}

TEST(every_quantity_far_apart_and_empty)
{
    struct config_register map[CONFIG_Q_COUNT] = { 0 };
    struct plan p;
    plan_build(&p, map);
    ASSERT_EQ(p.n_reads, 0);
    for (int q = 0; q < CONFIG_Q_COUNT; q++)
        put(map, q, q % 2 ? IN : HOLD, 65532 - q * 1000, CONFIG_REG_FLOAT64);
    plan_build(&p, map);
    ASSERT_EQ(p.n_reads, CONFIG_Q_COUNT);
    for (int q = 0; q < CONFIG_Q_COUNT; q++) {
        const struct plan_read *r = &p.reads[p.read_of[q]];
        ASSERT_EQ(r->address + p.offset_of[q], map[q].address);
        ASSERT_EQ(r->count, 4);
        ASSERT(r->count <= PLAN_MAX_REGS);
    }
    /* The last register of the address space can be read. */
    ASSERT_EQ(p.reads[p.read_of[0]].address + p.reads[p.read_of[0]].count, 65536);
}

static struct meter_sample sample(int meter, double power)
{
    struct meter_sample s = { .meter = meter, .ok = true, .power_w = power };
    return s;
}

TEST(mailbox_keeps_the_newest_per_meter)
{
    struct mailbox mb;
    ASSERT_EQ(mailbox_init(&mb, 3), 0);
    struct meter_sample out[3 * MAILBOX_DEPTH];
    ASSERT_EQ(mailbox_take(&mb, out, 12), 0);

    struct meter_sample s = sample(0, 1);
    ASSERT(mailbox_post(&mb, &s));  /* was empty: wake the loop */
    s = sample(2, 100);
    ASSERT(!mailbox_post(&mb, &s)); /* already woken */
    for (int i = 2; i <= 6; i++) {
        s = sample(0, i);
        mailbox_post(&mb, &s);
    }
    /* meter 0 got 6 samples, keeps 4: 3..6. */
    ASSERT_EQ(mailbox_dropped(&mb), 2);
    size_t n = mailbox_take(&mb, out, 12);
    ASSERT_EQ(n, 5);
    ASSERT_EQ(out[0].meter, 0);
    ASSERT_DBL_NEAR(out[0].power_w, 3, 0);
    ASSERT_DBL_NEAR(out[3].power_w, 6, 0);
    ASSERT_EQ(out[4].meter, 2);
    ASSERT_DBL_NEAR(out[4].power_w, 100, 0);
    ASSERT_EQ(mailbox_take(&mb, out, 12), 0);

    /* A smaller cap takes part and leaves the rest, in order. */
    for (int i = 1; i <= 3; i++) {
        s = sample(1, i);
        mailbox_post(&mb, &s);
    }
    ASSERT_EQ(mailbox_take(&mb, out, 2), 2);
    ASSERT_DBL_NEAR(out[1].power_w, 2, 0);
    ASSERT_EQ(mailbox_take(&mb, out, 12), 1);
    ASSERT_DBL_NEAR(out[0].power_w, 3, 0);

    /* A meter index out of range is refused. */
    s = sample(3, 1);
    ASSERT(!mailbox_post(&mb, &s));
    s = sample(-1, 1);
    ASSERT(!mailbox_post(&mb, &s));
    ASSERT_EQ(mailbox_take(&mb, out, 12), 0);
    mailbox_destroy(&mb);
    mailbox_destroy(&mb); /* twice is harmless */
}

struct poster {
    struct mailbox *mb;
    int meter;
    int n;
};

static void *post_many(void *arg)
{
    struct poster *p = arg;
    for (int i = 1; i <= p->n; i++) {
        struct meter_sample s = sample(p->meter, i);
        mailbox_post(p->mb, &s);
    }
    return NULL;
}

/* Posting from several threads while the "loop" drains: per meter, samples
 * come out in order and none is both taken and counted dropped. */
TEST(mailbox_under_threads)
{
    struct mailbox mb;
    ASSERT_EQ(mailbox_init(&mb, 4), 0);
    pthread_t t[4];
    struct poster p[4];
    for (int i = 0; i < 4; i++) {
        p[i] = (struct poster){ &mb, i, 20000 };
        ASSERT_EQ(pthread_create(&t[i], NULL, post_many, &p[i]), 0);
    }
    double last[4] = { 0, 0, 0, 0 };
    uint64_t taken = 0;
    int bad = 0;
    struct meter_sample out[4 * MAILBOX_DEPTH];
    for (;;) {
        size_t n = mailbox_take(&mb, out, 16);
        for (size_t i = 0; i < n; i++) {
            if (out[i].power_w <= last[out[i].meter])
                bad++;
            last[out[i].meter] = out[i].power_w;
        }
        taken += n;
        bool done = true;
        for (int i = 0; i < 4; i++)
            done = done && last[i] == 20000;
        if (done)
            break;
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    ASSERT_EQ(bad, 0);
    ASSERT_EQ(taken + mailbox_dropped(&mb), 4 * 20000);
    mailbox_destroy(&mb);
}

int main(void)
{
    RUN(sdm630_map_is_three_reads);
    RUN(functions_gaps_and_overlaps);
    RUN(every_quantity_far_apart_and_empty);
    RUN(mailbox_keeps_the_newest_per_meter);
    RUN(mailbox_under_threads);
    return test_summary();
}

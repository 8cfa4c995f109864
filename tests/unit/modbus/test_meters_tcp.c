/* The meter workers against a real libmodbus TCP server in a thread of this
 * test: samples reach the loop with the right values; a server that goes away,
 * goes silent, answers with an exception or serves nonsense gives failed
 * samples with the reason, and recovery gives ok ones again; meters_stop is
 * prompt and the loop closes clean. */
#include <stdio.h>

#include "mbtest.h"
#include "test.h"

static uv_loop_t loop;
static struct srv server;
static struct collect col;

/* A grid meter with a custom map touching every type and both tables, and a
 * transformer (oil temperature as s16 tenths of a degree) on another unit. */
static struct config cfg;

static bool load_cfg(int port, int poll_ms, int timeout_ms, int retries, const char *extra_meter)
{
    char json[4096];
    snprintf(json, sizeof(json),
             "{\"site\":{\"id\":\"S\",\"grid_limit_kw\":500},"
             "\"upstream\":{\"url\":\"ws://127.0.0.1:9/ocpp\"},"
             "\"meters\":[{\"name\":\"grid\",\"role\":\"grid\","
             "\"tcp\":{\"host\":\"127.0.0.1\",\"port\":%d},\"poll_ms\":%d,\"timeout_ms\":%d,"
             "\"retries\":%d,"
             "\"registers\":{"
             "\"power\":{\"address\":0,\"type\":\"float32\"},"
             "\"power_l1\":{\"address\":2,\"type\":\"float32\"},"
             "\"power_l2\":{\"address\":4,\"type\":\"float32\"},"
             "\"power_l3\":{\"address\":6,\"type\":\"float32\"},"
             "\"current_l1\":{\"address\":10,\"function\":\"input\",\"type\":\"s32\","
             "\"word_order\":\"little\",\"scale\":0.001},"
             "\"current_l2\":{\"address\":12,\"function\":\"input\",\"type\":\"s32\","
             "\"word_order\":\"little\",\"scale\":0.001},"
             "\"current_l3\":{\"address\":14,\"function\":\"input\",\"type\":\"s32\","
             "\"word_order\":\"little\",\"scale\":0.001},"
             "\"voltage_l1\":{\"address\":20,\"function\":\"input\",\"type\":\"u16\","
             "\"scale\":0.1},"
             "\"voltage_l2\":{\"address\":21,\"function\":\"input\",\"type\":\"u16\","
             "\"byte_order\":\"little\",\"scale\":0.1},"
             "\"voltage_l3\":{\"address\":22,\"function\":\"input\",\"type\":\"float64\"},"
             "\"energy_import\":{\"address\":30,\"type\":\"u64\",\"scale\":1000}}}"
             "%s]}",
             port, poll_ms, timeout_ms, retries, extra_meter ? extra_meter : "");
    char err[CONFIG_ERR_MAX];
    if (config_parse(json, strlen(json), &cfg, err) != 0) {
        fprintf(stderr, "config: %s\n", err);
        return false;
    }
    return true;
}

static void serve_good_values(void)
{
    srv_set_f32(&server, false, 0, 30000.0f);
    srv_set_f32(&server, false, 2, 9000.0f);
    srv_set_f32(&server, false, 4, 10000.0f);
    srv_set_f32(&server, false, 6, 11000.0f);
    /* currents in mA, INT32 low word first: 39130, 43478, -1500 */
    const uint16_t i1[] = { (uint16_t)39130, 0 }, i2[] = { (uint16_t)43478, 0 };
    const uint16_t i3[] = { (uint16_t)(-1500 & 0xFFFF), 0xFFFF };
    srv_set(&server, true, 10, i1, 2);
    srv_set(&server, true, 12, i2, 2);
    srv_set(&server, true, 14, i3, 2);
    const uint16_t v1[] = { 2301 }, v2[] = { (uint16_t)((2295 >> 8) | ((2295 & 0xFF) << 8)) };
    srv_set(&server, true, 20, v1, 1);
    srv_set(&server, true, 21, v2, 1);
    const uint16_t v3[] = { 0x406C, 0xD000, 0, 0 }; /* 230.5 */
    srv_set(&server, true, 22, v3, 4);
    const uint16_t e[] = { 0, 0, 0x0001, 0xE240 }; /* 123456 kWh */
    srv_set(&server, false, 30, e, 4);
    /* the transformer's oil temperature, -12.3 C as s16 tenths */
    const uint16_t oil[] = { (uint16_t)(-123 & 0xFFFF) };
    srv_set(&server, false, 100, oil, 1);
}

static void setup(void)
{
    srv_stop(&server); /* a test that failed half-way left it running */
    memset(&col, 0, sizeof(col));
    uv_loop_init(&loop);
    srv_init(&server);
    serve_good_values();
    srv_start(&server);
}

static void teardown(void)
{
    srv_stop(&server);
    srv_free(&server);
    config_free(&cfg);
}

TEST(values_reach_the_loop)
{
    setup();
    /* The same server, another unit. */
    char tx[512];
    snprintf(tx, sizeof(tx),
             ",{\"name\":\"tx\",\"role\":\"transformer\",\"unit_id\":2,"
             "\"tcp\":{\"host\":\"127.0.0.1\",\"port\":%d},\"rating_kva\":400,"
             "\"registers\":{\"oil_temp_c\":{\"address\":100,\"type\":\"s16\","
             "\"scale\":0.1}}}",
             server.port);
    ASSERT(load_cfg(server.port, 100, 500, 1, tx));
    struct meters *m = NULL;
    uint64_t t0 = now_ms();
    ASSERT_EQ(meters_start(&m, &loop, &cfg, collect_cb, &col), 0);
    ASSERT_NOT_NULL(m);
    config_free(&cfg); /* the workers keep their own copy */
    ASSERT(wait_for(&loop, last_ok, &col, 0, 3000));
    ASSERT(wait_for(&loop, last_ok, &col, 1, 3000));
    const struct meter_sample *s = &col.last[0];
    ASSERT_EQ(s->meter, 0);
    ASSERT_EQ(s->role, CONFIG_METER_GRID);
    ASSERT_STR_EQ(s->error, "");
    ASSERT(s->taken_ms >= t0 && s->taken_ms <= now_ms());
    ASSERT_DBL_NEAR(s->power_w, 30000, 1e-3);
    ASSERT_DBL_NEAR(s->power_phase_w[0], 9000, 1e-3);
    ASSERT_DBL_NEAR(s->power_phase_w[1], 10000, 1e-3);
    ASSERT_DBL_NEAR(s->power_phase_w[2], 11000, 1e-3);
    ASSERT_DBL_NEAR(s->current_a[0], 39.13, 1e-9);
    ASSERT_DBL_NEAR(s->current_a[1], 43.478, 1e-9);
    ASSERT_DBL_NEAR(s->current_a[2], -1.5, 1e-9);
    ASSERT_DBL_NEAR(s->voltage_v[0], 230.1, 1e-9);
    ASSERT_DBL_NEAR(s->voltage_v[1], 229.5, 1e-9);
    ASSERT_DBL_NEAR(s->voltage_v[2], 230.5, 0);
    ASSERT_DBL_NEAR(s->energy_wh, 123456000, 0);
    ASSERT(isnan(s->oil_temp_c));
    ASSERT(isnan(s->winding_temp_c));
    ASSERT(isnan(s->load_kva));
    const struct meter_sample *t = &col.last[1];
    ASSERT_EQ(t->meter, 1);
    ASSERT_EQ(t->role, CONFIG_METER_TRANSFORMER);
    ASSERT_DBL_NEAR(t->oil_temp_c, -12.3, 1e-9);
    ASSERT(isnan(t->power_w));

    /* The poll rate holds: about 10 per second per meter. */
    int before = col.ok[0];
    wait_for(&loop, never, &col, 0, 1000);
    int per_s = col.ok[0] - before;
    ASSERT(per_s >= 5 && per_s <= 12);
    /* A value changed on the device shows in the next sample. */
    srv_set_f32(&server, false, 0, 31000.0f);
    ASSERT(wait_for(&loop, last_ok, &col, 0, 100));
    wait_for(&loop, never, &col, 0, 300);
    ASSERT_DBL_NEAR(col.last[0].power_w, 31000, 1e-3);
    ASSERT_EQ(meters_dropped(m), 0);

    uint64_t stop_ms;
    ASSERT_EQ(stop_and_close(&loop, m, &stop_ms), 0);
    ASSERT(stop_ms < 500);
    teardown();
}

static bool failed_with(struct collect *c, int meter, const char *part)
{
    return last_failed(c, meter) && strstr(c->last[meter].error, part) != NULL;
}

static const char *want_part;
static bool last_failed_with(struct collect *c, int meter)
{
    return failed_with(c, meter, want_part);
}

TEST(server_gone_and_back)
{
    setup();
    ASSERT(load_cfg(server.port, 100, 300, 0, NULL));
    struct meters *m = NULL;
    ASSERT_EQ(meters_start(&m, &loop, &cfg, collect_cb, &col), 0);
    ASSERT(wait_for(&loop, last_ok, &col, 0, 3000));

    srv_stop(&server);
    ASSERT(wait_for(&loop, last_failed, &col, 0, 3000));
    const struct meter_sample *s = &col.last[0];
    ASSERT(!s->ok);
    ASSERT(s->error[0] != '\0');
    ASSERT(isnan(s->power_w)); /* never the last good value */
    ASSERT(isnan(s->current_a[0]));
    fprintf(stderr, "  gone: %s\n", s->error);
    /* Connecting again is refused until it is back. */
    want_part = "connect: Connection refused";
    ASSERT(wait_for(&loop, last_failed_with, &col, 0, 3000));

    /* Backoff: fewer attempts than polls while it is gone (100 ms polls). */
    int failed_before = col.failed[0];
    wait_for(&loop, never, &col, 0, 1500);
    ASSERT(col.failed[0] - failed_before <= 6);

    srv_start(&server);
    /* Back within the backoff (at most 30 s; here a few seconds). */
    ASSERT(wait_for(&loop, last_ok, &col, 0, 10000));
    ASSERT_DBL_NEAR(col.last[0].power_w, 30000, 1e-3);

    uint64_t stop_ms;
    ASSERT_EQ(stop_and_close(&loop, m, &stop_ms), 0);
    ASSERT(stop_ms < 500);
    teardown();
}

TEST(nonsense_is_rejected)
{
    setup();
    ASSERT(load_cfg(server.port, 100, 300, 0, NULL));
    struct meters *m = NULL;
    ASSERT_EQ(meters_start(&m, &loop, &cfg, collect_cb, &col), 0);
    ASSERT(wait_for(&loop, last_ok, &col, 0, 3000));

    /* NaN */
    const uint16_t nan32[] = { 0x7FC0, 0 };
    srv_set(&server, false, 2, nan32, 2);
    want_part = "power_l1: NaN";
    ASSERT(wait_for(&loop, last_failed_with, &col, 0, 3000));
    ASSERT(isnan(col.last[0].power_phase_w[1])); /* nothing of a rejected reading is kept */
    serve_good_values();
    ASSERT(wait_for(&loop, last_ok, &col, 0, 3000));

    /* A total that disagrees with its phases. */
    srv_set_f32(&server, false, 0, 12000.0f);
    want_part = "power: 12000 W disagrees with its phases (sum 30000 W)";
    ASSERT(wait_for(&loop, last_failed_with, &col, 0, 3000));
    serve_good_values();
    ASSERT(wait_for(&loop, last_ok, &col, 0, 3000));

    /* An absurd magnitude. */
    const uint16_t hot[] = { 0xFFFF }; /* 6553.5 V */
    srv_set(&server, true, 20, hot, 1);
    want_part = "voltage_l1: 6553.5 V is outside 0..1000 V";
    ASSERT(wait_for(&loop, last_failed_with, &col, 0, 3000));
    serve_good_values();
    ASSERT(wait_for(&loop, last_ok, &col, 0, 3000));
    ASSERT_EQ(stop_and_close(&loop, m, NULL), 0);
    teardown();
}

TEST(exception_and_silence)
{
    setup();
    /* A map entry past the server's registers: an exception answer. */
    char bad[512];
    snprintf(bad, sizeof(bad),
             ",{\"name\":\"bad\",\"role\":\"ev_submeter\",\"unit_id\":3,"
             "\"tcp\":{\"host\":\"127.0.0.1\",\"port\":%d},"
             "\"registers\":{\"power\":{\"address\":1000,\"type\":\"float32\"}}}",
             server.port);
    ASSERT(load_cfg(server.port, 100, 200, 1, bad));
    struct meters *m = NULL;
    ASSERT_EQ(meters_start(&m, &loop, &cfg, collect_cb, &col), 0);
    want_part = "holding 1000+2: Illegal data address";
    ASSERT(wait_for(&loop, last_failed_with, &col, 1, 3000));
    ASSERT(wait_for(&loop, last_ok, &col, 0, 3000));

    /* A device that stops answering: a timeout after timeout_ms * (1 + retries). */
    atomic_store(&server.mute, true);
    want_part = "Connection timed out";
    uint64_t t0 = now_ms();
    ASSERT(wait_for(&loop, last_failed_with, &col, 0, 3000));
    uint64_t took = now_ms() - t0;
    fprintf(stderr, "  silent: %s after %llu ms\n", col.last[0].error, (unsigned long long)took);
    ASSERT(took >= 300); /* 200 ms, retried once */
    atomic_store(&server.mute, false);
    ASSERT(wait_for(&loop, last_ok, &col, 0, 5000));

    /* meters_stop is prompt even while a read waits for a silent device. */
    ASSERT_EQ(stop_and_close(&loop, m, NULL), 0);
    teardown();
}

TEST(stop_while_waiting_for_a_silent_device)
{
    setup();
    ASSERT(load_cfg(server.port, 100, 10000, 5, NULL));
    atomic_store(&server.mute, true);
    int req = atomic_load(&server.requests);
    struct meters *m = NULL;
    ASSERT_EQ(meters_start(&m, &loop, &cfg, collect_cb, &col), 0);
    /* Let the worker send its first request and block in the 10 s wait. */
    for (int i = 0; i < 300 && atomic_load(&server.requests) == req; i++)
        usleep(10000);
    ASSERT(atomic_load(&server.requests) > req);
    usleep(50000);
    uint64_t stop_ms;
    ASSERT_EQ(stop_and_close(&loop, m, &stop_ms), 0);
    fprintf(stderr, "  stop took %llu ms\n", (unsigned long long)stop_ms);
    ASSERT(stop_ms < 500);
    /* No sample of the cut-short read reached the loop. */
    ASSERT_EQ(col.n, 0);
    teardown();
}

TEST(stop_from_the_callback_and_no_meters)
{
    setup();
    ASSERT(load_cfg(server.port, 100, 300, 0, NULL));
    struct meters *m = NULL;
    ASSERT_EQ(meters_start(&m, &loop, &cfg, collect_cb, &col), 0);
    col.stop_from_callback = m;
    /* The first sample stops everything; the loop then has nothing left. */
    uv_run(&loop, UV_RUN_DEFAULT);
    ASSERT_EQ(col.n, 1);
    ASSERT_EQ(col.after_stop, 0);
    ASSERT_EQ(uv_loop_close(&loop), 0);
    teardown();

    /* No meters: nothing starts, nothing to stop. */
    memset(&col, 0, sizeof(col));
    uv_loop_init(&loop);
    struct config none;
    char err[CONFIG_ERR_MAX];
    const char *json = "{\"site\":{\"id\":\"S\",\"grid_limit_kw\":5},"
                       "\"upstream\":{\"url\":\"ws://h/o\"}}";
    ASSERT_EQ(config_parse(json, strlen(json), &none, err), 0);
    m = (struct meters *)&none;
    ASSERT_EQ(meters_start(&m, &loop, &none, collect_cb, &col), 0);
    ASSERT_NULL(m);
    meters_stop(NULL);
    ASSERT_EQ(meters_dropped(NULL), 0);
    ASSERT_EQ(uv_loop_close(&loop), 0);
    config_free(&none);
}

/* A host name that does not resolve fails the reading, never the start. */
TEST(unresolvable_host)
{
    memset(&col, 0, sizeof(col));
    uv_loop_init(&loop);
    const char *json =
        "{\"site\":{\"id\":\"S\",\"grid_limit_kw\":5},\"upstream\":{\"url\":\"ws://h/o\"},"
        "\"meters\":[{\"name\":\"g\",\"role\":\"grid\",\"tcp\":{\"host\":\"no-such-host.invalid\"},"
        "\"registers\":{\"power\":{\"address\":0,\"type\":\"u16\"}}}]}";
    char err[CONFIG_ERR_MAX];
    ASSERT_EQ(config_parse(json, strlen(json), &cfg, err), 0);
    struct meters *m = NULL;
    ASSERT_EQ(meters_start(&m, &loop, &cfg, collect_cb, &col), 0);
    config_free(&cfg);
    ASSERT(wait_for(&loop, last_failed, &col, 0, 10000));
    fprintf(stderr, "  unresolvable: %s\n", col.last[0].error);
    ASSERT(strncmp(col.last[0].error, "connect: cannot resolve no-such-host.invalid: ", 46) == 0);
    ASSERT_EQ(stop_and_close(&loop, m, NULL), 0);
}

int main(void)
{
    RUN(values_reach_the_loop);
    RUN(server_gone_and_back);
    RUN(nonsense_is_rejected);
    RUN(exception_and_silence);
    RUN(stop_while_waiting_for_a_silent_device);
    RUN(stop_from_the_callback_and_no_meters);
    RUN(unresolvable_host);
    return test_summary();
}

/* The meter keys of the config (issue 4): meters[] with their devices, the
 * register maps (templates merged with overrides), the shipped templates,
 * transformer derating, the fail-safe and lease keys of site and balancer,
 * and the check-pass rules between them. Every failing parse must leave the
 * struct zeroed. */
/* nftw() is XSI. */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "config_test.h"
#include "test.h"

/* Valid: a grid meter on the SDM630 template, one charger, everything else
 * defaulted, so that a test can change one key in place. */
static const char BASE[] =
    "{\"site\":{\"id\":\"S1\",\"grid_limit_kw\":100},"
    "\"upstream\":{\"url\":\"ws://127.0.0.1:9100/ocpp\"},"
    "\"chargers\":[{\"id\":\"CP01\"}],\"balancer\":{},"
    "\"meters\":[{\"name\":\"grid\",\"role\":\"grid\",\"template\":\"eastron_sdm630\","
    "\"tcp\":{\"host\":\"127.0.0.1\",\"port\":5020}}]}";

/* A transformer with a custom map and a derating curve. */
static const char BASE_TX[] =
    "{\"site\":{\"id\":\"S1\",\"grid_limit_kw\":100},"
    "\"upstream\":{\"url\":\"ws://127.0.0.1:9100/ocpp\"},"
    "\"meters\":[{\"name\":\"tx1\",\"role\":\"transformer\",\"tcp\":{\"host\":\"tx.local\"},"
    "\"registers\":{\"oil_temp_c\":{\"address\":100,\"type\":\"s16\",\"scale\":0.1}},"
    "\"rating_kva\":630,"
    "\"derating\":[{\"temp_c\":85,\"percent\":100},{\"temp_c\":105,\"percent\":60}]}]}";

/* Two meters on one RS-485 line. */
static const char BASE_RTU[] =
    "{\"site\":{\"id\":\"S1\",\"grid_limit_kw\":100},"
    "\"upstream\":{\"url\":\"ws://127.0.0.1:9100/ocpp\"},"
    "\"meters\":[{\"name\":\"grid\",\"role\":\"grid\",\"template\":\"carlo_gavazzi_em24\","
    "\"rtu\":{\"device\":\"/dev/ttyUSB0\"}},"
    "{\"name\":\"ev\",\"role\":\"ev_submeter\",\"template\":\"carlo_gavazzi_em24\","
    "\"rtu\":{\"device\":\"/dev/ttyUSB0\"},\"unit_id\":2}]}";

/* BASE with a template_dir of tmpdir and this template name. */
static char *with_template(const char *name)
{
    char dir[96], tpl[96];
    snprintf(dir, sizeof(dir), "\"%s\"", tmpdir);
    snprintf(tpl, sizeof(tpl), "\"%s\"", name);
    char *a = with(BASE, "template_dir", dir);
    char *b = with(a, "meters[0].template", tpl);
    free(a);
    return b;
}

/* --- bad values ------------------------------------------------------------ */

struct bad {
    const char *base;
    const char *path;
    const char *value; /* JSON text; NULL removes the key */
    const char *error;
};

#define N33 "\"012345678901234567890123456789012\""
#define T65 "\"01234567890123456789012345678901234567890123456789012345678901234\""
#define TYPES "\"u16\", \"s16\", \"u32\", \"s32\", \"u64\", \"float32\", \"float64\""
#define BAUDS "1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, " \
              "576000, 921600"

static const struct bad bad_values[] = {
    /* site: fail-safe */
    { BASE, "site.meter_stale_s", "0", "site.meter_stale_s: must be between 1 and 3600" },
    { BASE, "site.meter_stale_s", "3601", "site.meter_stale_s: must be between 1 and 3600" },
    { BASE, "site.meter_stale_s", "1.5", "site.meter_stale_s: must be an integer" },
    { BASE, "site.meter_stale_s", "\"10\"", "site.meter_stale_s: must be an integer" },
    { BASE, "site.meter_stale_s", "1",
      "site.meter_stale_s: 1 s is not longer than meters[0].poll_ms (1000 ms); the grid meter "
      "would always be stale" },
    { BASE, "site.other_load_max_kw", "-1",
      "site.other_load_max_kw: must be between 0 and 100000" },
    { BASE, "site.other_load_max_kw", "100001",
      "site.other_load_max_kw: must be between 0 and 100000" },
    { BASE, "site.other_load_max_kw", "true", "site.other_load_max_kw: must be a number" },
    { BASE, "site.fallback_ev_kw", "-0.5", "site.fallback_ev_kw: must be between 0 and 100000" },
    { BASE, "site.fallback_ev_kw", "null", "site.fallback_ev_kw: must be a number" },
    { BASE, "site.fallback_ev_kw", "150",
      "site.fallback_ev_kw: 150 is above site.grid_limit_kw (100)" },

    /* balancer: lease and compliance */
    { BASE, "balancer.lease_s", "-1", "balancer.lease_s: must be between 0 and 86400" },
    { BASE, "balancer.lease_s", "86401", "balancer.lease_s: must be between 0 and 86400" },
    { BASE, "balancer.lease_s", "60.5", "balancer.lease_s: must be an integer" },
    { BASE, "balancer.safe_limit_a", "-1", "balancer.safe_limit_a: must be between 0 and 630" },
    { BASE, "balancer.safe_limit_a", "630.5", "balancer.safe_limit_a: must be between 0 and 630" },
    { BASE, "balancer.safe_limit_a", "\"6\"", "balancer.safe_limit_a: must be a number" },
    { BASE, "balancer.apply_window_s", "0", "balancer.apply_window_s: must be between 1 and 600" },
    { BASE, "balancer.apply_window_s", "601",
      "balancer.apply_window_s: must be between 1 and 600" },
    { BASE, "balancer.apply_window_s", "[]", "balancer.apply_window_s: must be an integer" },

    /* template_dir */
    { BASE, "template_dir", "1", "template_dir: must be a string" },
    { BASE, "template_dir", "\"\"", "template_dir: must be 1 to 4096 characters" },
    { BASE, "template_dir", "\"/nonexistent/meters\"",
      "template_dir: cannot open /nonexistent/meters: No such file or directory" },
    { BASE, "template_dir", "\"/dev/null\"", "template_dir: /dev/null is not a directory" },

    /* meters[] */
    { BASE, "meters", "{}", "meters: must be an array" },
    { BASE, "meters[0]", "1", "meters[0]: must be an object" },
    { BASE, "meters[0].typo", "1", "meters[0].typo: unknown key" },
    { BASE, "meters[0].name", NULL, "meters[0].name: is required" },
    { BASE, "meters[0].name", "5", "meters[0].name: must be a string" },
    { BASE, "meters[0].name", "\"\"", "meters[0].name: must be 1 to 32 characters" },
    { BASE, "meters[0].name", N33, "meters[0].name: must be 1 to 32 characters" },
    { BASE, "meters[0].name", "\"grid meter\"",
      "meters[0].name: may only contain letters, digits and ._-" },
    { BASE, "meters[0].name", "\"grid/1\"",
      "meters[0].name: may only contain letters, digits and ._-" },
    { BASE, "meters[0].role", NULL, "meters[0].role: is required" },
    { BASE, "meters[0].role", "\"main\"",
      "meters[0].role: must be one of \"grid\", \"transformer\", \"ev_submeter\"" },
    { BASE, "meters[0].template", "1", "meters[0].template: must be a string" },
    { BASE, "meters[0].template", "\"\"", "meters[0].template: must be 1 to 64 characters" },
    { BASE, "meters[0].template", T65, "meters[0].template: must be 1 to 64 characters" },
    { BASE, "meters[0].template", "\"../etc/x\"",
      "meters[0].template: may only contain letters, digits and ._- and not start with ." },
    { BASE, "meters[0].template", "\".hidden\"",
      "meters[0].template: may only contain letters, digits and ._- and not start with ." },
    { BASE, "meters[0].template", NULL, "meters[0]: needs a template or registers" },
    { BASE, "meters[0].tcp", NULL, "meters[0]: needs tcp or rtu" },
    { BASE, "meters[0].tcp", "\"127.0.0.1:502\"", "meters[0].tcp: must be an object" },
    { BASE, "meters[0].tcp.host", NULL, "meters[0].tcp.host: is required" },
    { BASE, "meters[0].tcp.host", "\"bad host!\"",
      "meters[0].tcp.host: must be an IP address or a host name" },
    { BASE, "meters[0].tcp.host", "\"\"", "meters[0].tcp.host: must be 1 to 253 characters" },
    { BASE, "meters[0].tcp.port", "0", "meters[0].tcp.port: must be between 1 and 65535" },
    { BASE, "meters[0].tcp.port", "65536", "meters[0].tcp.port: must be between 1 and 65535" },
    { BASE, "meters[0].tcp.device", "\"/dev/ttyS0\"", "meters[0].tcp.device: unknown key" },
    { BASE, "meters[0].rtu", "{\"device\":\"/dev/ttyS0\"}",
      "meters[0].rtu: cannot be used together with tcp" },
    { BASE, "meters[0].unit_id", "-1", "meters[0].unit_id: must be between 0 and 247" },
    { BASE, "meters[0].unit_id", "248", "meters[0].unit_id: must be between 0 and 247" },
    { BASE, "meters[0].unit_id", "\"1\"", "meters[0].unit_id: must be an integer" },
    { BASE, "meters[0].poll_ms", "99", "meters[0].poll_ms: must be between 100 and 60000" },
    { BASE, "meters[0].poll_ms", "60001", "meters[0].poll_ms: must be between 100 and 60000" },
    { BASE, "meters[0].timeout_ms", "49", "meters[0].timeout_ms: must be between 50 and 10000" },
    { BASE, "meters[0].timeout_ms", "10001",
      "meters[0].timeout_ms: must be between 50 and 10000" },
    { BASE, "meters[0].retries", "-1", "meters[0].retries: must be between 0 and 5" },
    { BASE, "meters[0].retries", "6", "meters[0].retries: must be between 0 and 5" },
    { BASE, "meters[0].rating_kva", "100", "meters[0].rating_kva: only for role transformer" },
    { BASE, "meters[0].derating", "[]", "meters[0].derating: only for role transformer" },

    /* register map entries */
    { BASE, "meters[0].registers", "[]", "meters[0].registers: must be an object" },
    { BASE, "meters[0].registers.powr", "{}", "meters[0].registers.powr: unknown key" },
    { BASE, "meters[0].registers.power", "1", "meters[0].registers.power: must be an object" },
    { BASE, "meters[0].registers.power.bogus", "1",
      "meters[0].registers.power.bogus: unknown key" },
    { BASE, "meters[0].registers.power.address", "-1",
      "meters[0].registers.power.address: must be between 0 and 65535" },
    { BASE, "meters[0].registers.power.address", "65536",
      "meters[0].registers.power.address: must be between 0 and 65535" },
    { BASE, "meters[0].registers.power.address", "65535",
      "meters[0].registers.power.address: a float32 at 65535 runs past register 65535" },
    { BASE, "meters[0].registers.power.address", "\"52\"",
      "meters[0].registers.power.address: must be an integer" },
    { BASE, "meters[0].registers.power.function", "\"coil\"",
      "meters[0].registers.power.function: must be one of \"holding\", \"input\"" },
    { BASE, "meters[0].registers.power.type", "\"int32\"",
      "meters[0].registers.power.type: must be one of " TYPES },
    { BASE, "meters[0].registers.power.word_order", "\"middle\"",
      "meters[0].registers.power.word_order: must be one of \"big\", \"little\"" },
    { BASE, "meters[0].registers.power.byte_order", "1",
      "meters[0].registers.power.byte_order: must be one of \"big\", \"little\"" },
    { BASE, "meters[0].registers.power.scale", "0",
      "meters[0].registers.power.scale: must not be 0" },
    { BASE, "meters[0].registers.power.scale", "1e10",
      "meters[0].registers.power.scale: must be between -1000000000 and 1000000000" },
    { BASE, "meters[0].registers.power.offset", "\"0\"",
      "meters[0].registers.power.offset: must be a number" },
    { BASE, "meters[0].registers.oil_temp_c", "{\"address\":1}",
      "meters[0].registers.oil_temp_c.type: is required" },
    { BASE, "meters[0].registers.oil_temp_c", "{\"type\":\"s16\"}",
      "meters[0].registers.oil_temp_c.address: is required" },
    { BASE, "meters[0].registers.oil_temp_c", "{\"adress\":1,\"type\":\"s16\"}",
      "meters[0].registers.oil_temp_c.adress: unknown key" },

    /* transformer */
    { BASE_TX, "meters[0].rating_kva", NULL, "meters[0].rating_kva: is required for a transformer" },
    { BASE_TX, "meters[0].rating_kva", "0",
      "meters[0].rating_kva: must be greater than 0 and at most 1000000" },
    { BASE_TX, "meters[0].rating_kva", "\"630\"", "meters[0].rating_kva: must be a number" },
    { BASE_TX, "meters[0].derating", "{}", "meters[0].derating: must be an array" },
    { BASE_TX, "meters[0].derating[0]", "1", "meters[0].derating[0]: must be an object" },
    { BASE_TX, "meters[0].derating[0].temp_c", NULL, "meters[0].derating[0].temp_c: is required" },
    { BASE_TX, "meters[0].derating[0].percent", NULL,
      "meters[0].derating[0].percent: is required" },
    { BASE_TX, "meters[0].derating[0].kelvin", "300", "meters[0].derating[0].kelvin: unknown key" },
    { BASE_TX, "meters[0].derating[0].temp_c", "251",
      "meters[0].derating[0].temp_c: must be between -50 and 250" },
    { BASE_TX, "meters[0].derating[0].percent", "101",
      "meters[0].derating[0].percent: must be between 0 and 100" },
    { BASE_TX, "meters[0].derating[0].percent", "-1",
      "meters[0].derating[0].percent: must be between 0 and 100" },
    { BASE_TX, "meters[0].derating[1].temp_c", "85",
      "meters[0].derating[1].temp_c: must be above the previous point's (85)" },
    { BASE_TX, "meters[0].derating[1].temp_c", "70",
      "meters[0].derating[1].temp_c: must be above the previous point's (85)" },
    { BASE_TX, "meters[0].registers", "{\"voltage_l1\":{\"address\":0,\"type\":\"u16\"}}",
      "meters[0].registers: role transformer needs oil_temp_c, winding_temp_c or load_kva" },
    { BASE_TX, "meters[0].registers", "{\"load_kva\":{\"address\":0,\"type\":\"u16\"}}",
      "meters[0].derating: needs oil_temp_c or winding_temp_c in the register map" },
    { BASE_TX, "meters[0].registers", "{}", "meters[0]: needs a template or registers" },

    /* roles and names */
    { BASE_TX, "meters[0].role", "\"grid\"", "meters[0].rating_kva: only for role transformer" },

    /* rtu */
    { BASE_RTU, "meters[0].rtu", "1", "meters[0].rtu: must be an object" },
    { BASE_RTU, "meters[0].rtu.device", NULL, "meters[0].rtu.device: is required" },
    { BASE_RTU, "meters[0].rtu.device", "\"ttyUSB0\"",
      "meters[0].rtu.device: must be an absolute path like \"/dev/ttyUSB0\"" },
    { BASE_RTU, "meters[0].rtu.baud", "1000", "meters[0].rtu.baud: must be between 1200 and 921600" },
    { BASE_RTU, "meters[0].rtu.baud", "14400", "meters[0].rtu.baud: must be one of " BAUDS },
    { BASE_RTU, "meters[0].rtu.parity", "\"mark\"",
      "meters[0].rtu.parity: must be one of \"none\", \"even\", \"odd\"" },
    { BASE_RTU, "meters[0].rtu.data_bits", "6", "meters[0].rtu.data_bits: must be between 7 and 8" },
    { BASE_RTU, "meters[0].rtu.data_bits", "9", "meters[0].rtu.data_bits: must be between 7 and 8" },
    { BASE_RTU, "meters[0].rtu.stop_bits", "0", "meters[0].rtu.stop_bits: must be between 1 and 2" },
    { BASE_RTU, "meters[0].rtu.stop_bits", "3", "meters[0].rtu.stop_bits: must be between 1 and 2" },
    { BASE_RTU, "meters[0].rtu.host", "\"x\"", "meters[0].rtu.host: unknown key" },
    { BASE_RTU, "meters[0].unit_id", "0",
      "meters[0].unit_id: 0 is the broadcast address on RTU (use 1 to 247)" },
    { BASE_RTU, "meters[1].rtu.baud", "19200",
      "meters[1].rtu.baud: 19200 differs from meters[0] on the same bus (9600)" },
    { BASE_RTU, "meters[1].rtu.parity", "\"even\"",
      "meters[1].rtu.parity: \"even\" differs from meters[0] on the same bus (\"none\")" },
    { BASE_RTU, "meters[1].rtu.data_bits", "7",
      "meters[1].rtu.data_bits: 7 differs from meters[0] on the same bus (8)" },
    { BASE_RTU, "meters[1].rtu.stop_bits", "2",
      "meters[1].rtu.stop_bits: 2 differs from meters[0] on the same bus (1)" },
    { BASE_RTU, "meters[1].unit_id", "1",
      "meters[1].unit_id: 1 is already used by meters[0] on /dev/ttyUSB0" },
    { BASE_RTU, "meters[1].role", "\"grid\"",
      "meters[1].role: only one grid meter is allowed (meters[0] is one)" },
    { BASE_RTU, "meters[1].name", "\"grid\"", "meters[1].name: duplicate \"grid\"" },
};

TEST(bases_are_valid)
{
    const char *bases[] = { BASE, BASE_TX, BASE_RTU };
    for (size_t i = 0; i < 3; i++) {
        struct config cfg;
        ASSERT(parses(bases[i], &cfg));
        config_free(&cfg);
    }
}

TEST(bad_values)
{
    int failed = 0;
    for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
        const struct bad *b = &bad_values[i];
        char *json = with(b->base, b->path, b->value);
        if (!fails_with(json, b->error)) {
            fprintf(stderr, "  row %zu: %s = %s\n", i, b->path, b->value ? b->value : "(removed)");
            failed++;
        }
        free(json);
    }
    ASSERT_EQ(failed, 0);
}

TEST(bounds_inclusive)
{
    static const struct { const char *base, *path, *value; } ok[] = {
        { BASE, "site.meter_stale_s", "3600" },     { BASE, "site.meter_stale_s", "2" },
        { BASE, "site.other_load_max_kw", "0" },    { BASE, "site.other_load_max_kw", "100000" },
        { BASE, "site.fallback_ev_kw", "0" },       { BASE, "site.fallback_ev_kw", "100" },
        { BASE, "balancer.lease_s", "86400" },      { BASE, "balancer.safe_limit_a", "0" },
        { BASE, "balancer.apply_window_s", "1" },   { BASE, "balancer.apply_window_s", "600" },
        { BASE, "meters[0].unit_id", "0" },         { BASE, "meters[0].unit_id", "247" },
        { BASE, "meters[0].poll_ms", "100" },       { BASE, "meters[0].timeout_ms", "50" },
        { BASE, "meters[0].timeout_ms", "10000" },  { BASE, "meters[0].retries", "0" },
        { BASE, "meters[0].retries", "5" },         { BASE, "meters[0].tcp.port", "65535" },
        { BASE, "meters[0].tcp.host", "\"::1\"" },  { BASE, "meters[0].tcp.host", "\"meter-1.lan\"" },
        { BASE, "meters[0].name", "\"a.B_9-z\"" },
        { BASE, "meters[0].name", "\"01234567890123456789012345678901\"" },
        { BASE, "meters[0].registers.power.address", "65534" },
        { BASE, "meters[0].registers.power.scale", "-1000000000" },
        { BASE, "meters[0].registers.power.offset", "1000000000" },
        { BASE, "meters[0].registers.load_kva", "{\"address\":65535,\"type\":\"u16\"}" },
        { BASE_RTU, "meters[0].rtu", "{\"device\":\"/dev/ttyS9\",\"baud\":1200}" },
        { BASE_TX, "meters[0].rating_kva", "1000000" },
        { BASE_TX, "meters[0].derating", "[]" },
        { BASE_TX, "meters[0].derating[0].temp_c", "-50" },
        { BASE_TX, "meters[0].derating[1].temp_c", "250" },
        { BASE_TX, "meters[0].derating[1].temp_c", "85.001" },
        /* Both budgets and a large meter_stale_s with a slow meter. */
        { BASE, "meters[0].poll_ms", "60000" },
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        char *json = with(ok[i].base, ok[i].path, ok[i].value);
        /* poll_ms 60000 needs meter_stale_s above 60. */
        if (strcmp(ok[i].path, "meters[0].poll_ms") == 0) {
            char *j2 = with(json, "site.meter_stale_s", "61");
            free(json);
            json = j2;
        }
        struct config cfg;
        if (parses(json, &cfg))
            config_free(&cfg);
        else
            failed++;
        free(json);
    }
    ASSERT_EQ(failed, 0);
}

/* --- what a good config holds --------------------------------------------- */

static void expect_entry(const struct config_register *r, int address,
                         enum config_reg_function fn, enum config_reg_type type,
                         enum config_order wo, double scale, int *failed, const char *what)
{
    if (!r->present || r->address != address || r->function != fn || r->type != type ||
        r->word_order != wo || r->byte_order != CONFIG_ORDER_BIG || r->scale != scale ||
        r->offset != 0) {
        fprintf(stderr, "  %s: present=%d address=%d function=%d type=%d wo=%d bo=%d scale=%g "
                        "offset=%g\n",
                what, r->present, r->address, r->function, r->type, r->word_order,
                r->byte_order, r->scale, r->offset);
        (*failed)++;
    }
}

TEST(defaults_and_sdm630)
{
    struct config cfg;
    ASSERT(parses(BASE, &cfg));
    ASSERT_EQ(cfg.site.meter_stale_s, 10);
    ASSERT(isnan(cfg.site.other_load_max_kw));
    ASSERT(isnan(cfg.site.fallback_ev_kw));
    ASSERT_EQ(cfg.balancer.lease_s, 0);
    ASSERT_DBL_NEAR(cfg.balancer.safe_limit_a, 6, 0);
    ASSERT_EQ(cfg.balancer.apply_window_s, 30);
    ASSERT_NULL(cfg.template_dir);
    ASSERT_EQ(cfg.n_meters, 1);
    const struct config_meter *m = &cfg.meters[0];
    ASSERT_STR_EQ(m->name, "grid");
    ASSERT_EQ(m->role, CONFIG_METER_GRID);
    ASSERT_STR_EQ(m->template_name, "eastron_sdm630");
    ASSERT_EQ(m->transport, CONFIG_MODBUS_TCP);
    ASSERT_STR_EQ(m->tcp.host, "127.0.0.1");
    ASSERT_EQ(m->tcp.port, 5020);
    ASSERT_NULL(m->rtu.device);
    ASSERT_EQ(m->unit_id, 1);
    ASSERT_EQ(m->poll_ms, 1000);
    ASSERT_EQ(m->timeout_ms, 500);
    ASSERT_EQ(m->retries, 1);
    ASSERT(isnan(m->rating_kva));
    ASSERT_NULL(m->derating);
    ASSERT_EQ(m->n_derating, 0);
    int failed = 0;
    const enum config_reg_function in = CONFIG_REG_INPUT;
    const enum config_reg_type f32 = CONFIG_REG_FLOAT32;
    expect_entry(&m->registers[CONFIG_Q_VOLTAGE_L1], 0x00, in, f32, CONFIG_ORDER_BIG, 1, &failed, "v1");
    expect_entry(&m->registers[CONFIG_Q_VOLTAGE_L3], 0x04, in, f32, CONFIG_ORDER_BIG, 1, &failed, "v3");
    expect_entry(&m->registers[CONFIG_Q_CURRENT_L1], 0x06, in, f32, CONFIG_ORDER_BIG, 1, &failed, "i1");
    expect_entry(&m->registers[CONFIG_Q_CURRENT_L2], 0x08, in, f32, CONFIG_ORDER_BIG, 1, &failed, "i2");
    expect_entry(&m->registers[CONFIG_Q_CURRENT_L3], 0x0A, in, f32, CONFIG_ORDER_BIG, 1, &failed, "i3");
    expect_entry(&m->registers[CONFIG_Q_POWER_L1], 0x0C, in, f32, CONFIG_ORDER_BIG, 1, &failed, "p1");
    expect_entry(&m->registers[CONFIG_Q_POWER_L3], 0x10, in, f32, CONFIG_ORDER_BIG, 1, &failed, "p3");
    expect_entry(&m->registers[CONFIG_Q_POWER], 0x34, in, f32, CONFIG_ORDER_BIG, 1, &failed, "p");
    expect_entry(&m->registers[CONFIG_Q_ENERGY_IMPORT], 0x48, in, f32, CONFIG_ORDER_BIG, 1000,
                 &failed, "e");
    ASSERT_EQ(failed, 0);
    ASSERT(!m->registers[CONFIG_Q_OIL_TEMP_C].present);
    ASSERT(!m->registers[CONFIG_Q_WINDING_TEMP_C].present);
    ASSERT(!m->registers[CONFIG_Q_LOAD_KVA].present);
    config_free(&cfg);
    ASSERT_EQ(memcmp(&cfg, &zero_config, sizeof(cfg)), 0);
}

TEST(every_value_set)
{
    struct config cfg;
    ASSERT(parses("{\"site\":{\"id\":\"S\",\"grid_limit_kw\":200,\"meter_stale_s\":30,"
                  "\"other_load_max_kw\":120.5,\"fallback_ev_kw\":20},"
                  "\"upstream\":{\"url\":\"ws://csms\"},"
                  "\"balancer\":{\"lease_s\":600,\"safe_limit_a\":8,\"apply_window_s\":45},"
                  "\"meters\":[{\"name\":\"m1\",\"role\":\"ev_submeter\","
                  "\"rtu\":{\"device\":\"/dev/ttyS1\",\"baud\":19200,\"parity\":\"even\","
                  "\"data_bits\":7,\"stop_bits\":2},\"unit_id\":9,\"poll_ms\":250,"
                  "\"timeout_ms\":100,\"retries\":3,"
                  "\"registers\":{\"current_l1\":{\"address\":10,\"function\":\"input\","
                  "\"type\":\"s32\",\"word_order\":\"little\",\"byte_order\":\"little\","
                  "\"scale\":0.01,\"offset\":-1.5},"
                  "\"current_l2\":{\"address\":12,\"type\":\"s32\"},"
                  "\"current_l3\":{\"address\":14,\"type\":\"s32\"}}}]}",
                  &cfg));
    ASSERT_EQ(cfg.site.meter_stale_s, 30);
    ASSERT_DBL_NEAR(cfg.site.other_load_max_kw, 120.5, 0);
    ASSERT_DBL_NEAR(cfg.site.fallback_ev_kw, 20, 0);
    ASSERT_EQ(cfg.balancer.lease_s, 600);
    ASSERT_DBL_NEAR(cfg.balancer.safe_limit_a, 8, 0);
    ASSERT_EQ(cfg.balancer.apply_window_s, 45);
    const struct config_meter *m = &cfg.meters[0];
    ASSERT_EQ(m->role, CONFIG_METER_EV_SUBMETER);
    ASSERT_NULL(m->template_name);
    ASSERT_EQ(m->transport, CONFIG_MODBUS_RTU);
    ASSERT_NULL(m->tcp.host);
    ASSERT_STR_EQ(m->rtu.device, "/dev/ttyS1");
    ASSERT_EQ(m->rtu.baud, 19200);
    ASSERT_EQ(m->rtu.parity, CONFIG_PARITY_EVEN);
    ASSERT_EQ(m->rtu.data_bits, 7);
    ASSERT_EQ(m->rtu.stop_bits, 2);
    ASSERT_EQ(m->unit_id, 9);
    ASSERT_EQ(m->poll_ms, 250);
    ASSERT_EQ(m->timeout_ms, 100);
    ASSERT_EQ(m->retries, 3);
    const struct config_register *r = &m->registers[CONFIG_Q_CURRENT_L1];
    ASSERT(r->present);
    ASSERT_EQ(r->address, 10);
    ASSERT_EQ(r->function, CONFIG_REG_INPUT);
    ASSERT_EQ(r->type, CONFIG_REG_S32);
    ASSERT_EQ(r->word_order, CONFIG_ORDER_LITTLE);
    ASSERT_EQ(r->byte_order, CONFIG_ORDER_LITTLE);
    ASSERT_DBL_NEAR(r->scale, 0.01, 0);
    ASSERT_DBL_NEAR(r->offset, -1.5, 0);
    r = &m->registers[CONFIG_Q_CURRENT_L2]; /* a new entry gets the entry defaults */
    ASSERT_EQ(r->function, CONFIG_REG_HOLDING);
    ASSERT_EQ(r->word_order, CONFIG_ORDER_BIG);
    ASSERT_EQ(r->byte_order, CONFIG_ORDER_BIG);
    ASSERT_DBL_NEAR(r->scale, 1, 0);
    ASSERT_DBL_NEAR(r->offset, 0, 0);
    ASSERT(!m->registers[CONFIG_Q_POWER].present);
    config_free(&cfg);
}

/* --- templates ------------------------------------------------------------- */

TEST(shipped_templates_load)
{
    static const struct {
        const char *name;
        enum config_quantity q;
        int address;
        enum config_reg_function fn;
        enum config_reg_type type;
        enum config_order wo;
        double scale;
    } cases[] = {
        { "eastron_sdm630", CONFIG_Q_ENERGY_IMPORT, 0x48, CONFIG_REG_INPUT, CONFIG_REG_FLOAT32,
          CONFIG_ORDER_BIG, 1000 },
        { "schneider_pm5xxx", CONFIG_Q_CURRENT_L1, 2999, CONFIG_REG_HOLDING, CONFIG_REG_FLOAT32,
          CONFIG_ORDER_BIG, 1 },
        { "schneider_pm5xxx", CONFIG_Q_POWER, 3059, CONFIG_REG_HOLDING, CONFIG_REG_FLOAT32,
          CONFIG_ORDER_BIG, 1000 },
        { "schneider_pm5xxx", CONFIG_Q_ENERGY_IMPORT, 3203, CONFIG_REG_HOLDING, CONFIG_REG_U64,
          CONFIG_ORDER_BIG, 1 },
        { "janitza_umg604", CONFIG_Q_VOLTAGE_L1, 19000, CONFIG_REG_HOLDING, CONFIG_REG_FLOAT32,
          CONFIG_ORDER_BIG, 1 },
        { "janitza_umg604", CONFIG_Q_POWER, 19026, CONFIG_REG_HOLDING, CONFIG_REG_FLOAT32,
          CONFIG_ORDER_BIG, 1 },
        { "janitza_umg604", CONFIG_Q_ENERGY_IMPORT, 19068, CONFIG_REG_HOLDING, CONFIG_REG_FLOAT32,
          CONFIG_ORDER_BIG, 1 },
        { "carlo_gavazzi_em24", CONFIG_Q_CURRENT_L1, 0x0C, CONFIG_REG_HOLDING, CONFIG_REG_S32,
          CONFIG_ORDER_LITTLE, 0.001 },
        { "carlo_gavazzi_em24", CONFIG_Q_POWER, 0x28, CONFIG_REG_HOLDING, CONFIG_REG_S32,
          CONFIG_ORDER_LITTLE, 0.1 },
        { "carlo_gavazzi_em24", CONFIG_Q_ENERGY_IMPORT, 0x3E, CONFIG_REG_HOLDING, CONFIG_REG_S32,
          CONFIG_ORDER_LITTLE, 100 },
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char tpl[64];
        snprintf(tpl, sizeof(tpl), "\"%s\"", cases[i].name);
        char *json = with(BASE, "meters[0].template", tpl);
        struct config cfg;
        if (!parses(json, &cfg)) {
            failed++;
        } else {
            const struct config_meter *m = &cfg.meters[0];
            expect_entry(&m->registers[cases[i].q], cases[i].address, cases[i].fn, cases[i].type,
                         cases[i].wo, cases[i].scale, &failed, cases[i].name);
            /* Every shipped template has the full electrical set. */
            for (int q = CONFIG_Q_CURRENT_L1; q <= CONFIG_Q_VOLTAGE_L3; q++) {
                if (!m->registers[q].present) {
                    fprintf(stderr, "  %s lacks %s\n", cases[i].name, config_quantity_name(q));
                    failed++;
                }
            }
            config_free(&cfg);
        }
        free(json);
    }
    ASSERT_EQ(failed, 0);
}

TEST(missing_template)
{
    char *json = with(BASE, "meters[0].template", "\"sdm999\"");
    char want[CONFIG_ERR_MAX];
    snprintf(want, sizeof(want),
             "meters[0].template: no template \"sdm999\": cannot read %s/sdm999.json: "
             "No such file or directory",
             config_template_dir_default());
    ASSERT(fails_with(json, want));
    free(json);

    /* template_dir wins over the built-in directory, which has eastron_sdm630. */
    json = with_template("eastron_sdm630");
    snprintf(want, sizeof(want),
             "meters[0].template: no template \"eastron_sdm630\": cannot read "
             "%s/eastron_sdm630.json: No such file or directory",
             tmpdir);
    ASSERT(fails_with(json, want));
    free(json);

    /* A directory where the file should be. */
    char dir[128];
    snprintf(dir, sizeof(dir), "%s/adir.json", tmpdir);
    ASSERT_EQ(mkdir(dir, 0700), 0);
    json = with_template("adir");
    snprintf(want, sizeof(want),
             "meters[0].template: no template \"adir\": cannot read %s/adir.json: Is a directory",
             tmpdir);
    ASSERT(fails_with(json, want));
    free(json);
}

TEST(bad_template_names_file_and_quantity)
{
    static const struct { const char *file, *content, *error; } cases[] = {
        { "t1", "{\"power\":{\"address\":1,\"type\":\"int32\"}}",
          "power.type: must be one of " TYPES },
        { "t2", "{\"power\":{\"type\":\"u16\"}}", "power.address: is required" },
        { "t3", "{\"current_l2\":{\"address\":1}}", "current_l2.type: is required" },
        { "t4", "{\"powr\":{\"address\":1,\"type\":\"u16\"}}", "powr: unknown key" },
        { "t5", "[1,2]", "must be an object" },
        { "t6", "{\"power\":{\"address\":1,\"type\":\"u16\",\"scale\":0}}",
          "power.scale: must not be 0" },
        { "t7", "{\"power\":{\"address\":1,\"type\":\"u16\"},\n\"power\":{\"address\":2,"
                "\"type\":\"u16\"}}",
          "power: duplicate key" },
        { "t8", "{\"power\":{\"address\":65533,\"type\":\"float64\"}}",
          "power.address: a float64 at 65533 runs past register 65535" },
        { "t9", "{\n  \"power\": {\"address\": 1,,}\n}", "invalid JSON at line 2, column 27" },
        { "t10", "{\"power\":{\"address\":1,\"type\":\"u16\"}} x",
          "invalid JSON at line 1, column 38: text after the end" },
        { "t11", "{\"power\":{\"address\":1,\"type\":\"u16\\u0000x\"}}", "\\u0000 is not allowed" },
        { "t12", "", "invalid JSON at line 1, column 1" },
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char name[32];
        snprintf(name, sizeof(name), "%s.json", cases[i].file);
        write_file(name, cases[i].content, strlen(cases[i].content));
        char *json = with_template(cases[i].file);
        char want[CONFIG_ERR_MAX];
        snprintf(want, sizeof(want), "meters[0].template: %s/%s.json: %s", tmpdir, cases[i].file,
                 cases[i].error);
        if (!fails_with(json, want))
            failed++;
        free(json);
    }
    ASSERT_EQ(failed, 0);

    /* Larger than 256 KiB. */
    size_t big = 256 * 1024 + 10;
    char *text = malloc(big + 1);
    memset(text, ' ', big);
    text[0] = '{';
    text[big - 1] = '}';
    text[big] = '\0';
    write_file("big.json", text, strlen(text));
    free(text);
    char *json = with_template("big");
    char want[CONFIG_ERR_MAX];
    snprintf(want, sizeof(want),
             "meters[0].template: no template \"big\": cannot read %s/big.json: larger than "
             "256 KiB",
             tmpdir);
    ASSERT(fails_with(json, want));
    free(json);
}

TEST(own_template_and_overrides_merge)
{
    static const char mine[] =
        "{\"power\":{\"address\":100,\"function\":\"input\",\"type\":\"s32\","
        "\"word_order\":\"little\",\"scale\":0.1,\"offset\":2},"
        "\"current_l1\":{\"address\":10,\"type\":\"u16\",\"scale\":0.01}}";
    write_file("mine.json", mine, sizeof(mine) - 1);
    char *a = with_template("mine");
    /* Only the address moves; type, orders, scale and offset stay. */
    char *b = with(a, "meters[0].registers.power", "{\"address\":200}");
    /* Only the scale changes. */
    char *c = with(b, "meters[0].registers.current_l1", "{\"scale\":0.1,\"byte_order\":\"little\"}");
    /* A quantity the template lacks. */
    char *d = with(c, "meters[0].registers.voltage_l1", "{\"address\":5,\"type\":\"float64\"}");
    struct config cfg;
    ASSERT(parses(d, &cfg));
    free(a);
    free(b);
    free(c);
    free(d);
    const struct config_meter *m = &cfg.meters[0];
    ASSERT_STR_EQ(m->template_name, "mine");
    ASSERT_NOT_NULL(cfg.template_dir);
    ASSERT_STR_EQ(cfg.template_dir, tmpdir);
    const struct config_register *p = &m->registers[CONFIG_Q_POWER];
    ASSERT(p->present);
    ASSERT_EQ(p->address, 200);
    ASSERT_EQ(p->function, CONFIG_REG_INPUT);
    ASSERT_EQ(p->type, CONFIG_REG_S32);
    ASSERT_EQ(p->word_order, CONFIG_ORDER_LITTLE);
    ASSERT_EQ(p->byte_order, CONFIG_ORDER_BIG);
    ASSERT_DBL_NEAR(p->scale, 0.1, 0);
    ASSERT_DBL_NEAR(p->offset, 2, 0);
    const struct config_register *i1 = &m->registers[CONFIG_Q_CURRENT_L1];
    ASSERT_EQ(i1->address, 10);
    ASSERT_EQ(i1->type, CONFIG_REG_U16);
    ASSERT_EQ(i1->byte_order, CONFIG_ORDER_LITTLE);
    ASSERT_DBL_NEAR(i1->scale, 0.1, 0);
    const struct config_register *v1 = &m->registers[CONFIG_Q_VOLTAGE_L1];
    ASSERT(v1->present);
    ASSERT_EQ(v1->address, 5);
    ASSERT_EQ(v1->type, CONFIG_REG_FLOAT64);
    ASSERT_EQ(v1->function, CONFIG_REG_HOLDING);
    ASSERT(!m->registers[CONFIG_Q_POWER_L1].present);
    config_free(&cfg);

    /* An override that makes an entry overrun the register space fails there. */
    a = with_template("mine");
    b = with(a, "meters[0].registers.power", "{\"address\":65535}");
    ASSERT(fails_with(b, "meters[0].registers.power.address: a s32 at 65535 runs past register "
                         "65535"));
    free(a);
    free(b);

    /* Overrides work on a shipped template: the EM24 Ethernet's import counter. */
    a = with(BASE, "meters[0].template", "\"carlo_gavazzi_em24\"");
    b = with(a, "meters[0].registers.energy_import", "{\"address\":52}");
    ASSERT(parses(b, &cfg));
    free(a);
    free(b);
    const struct config_register *e = &cfg.meters[0].registers[CONFIG_Q_ENERGY_IMPORT];
    ASSERT_EQ(e->address, 52);
    ASSERT_EQ(e->type, CONFIG_REG_S32);
    ASSERT_EQ(e->word_order, CONFIG_ORDER_LITTLE);
    ASSERT_DBL_NEAR(e->scale, 100, 0);
    config_free(&cfg);
}

/* Without a template, the whole map comes from registers; a grid meter needs
 * its import one way or another. */
TEST(registers_without_template)
{
    char *a = with(BASE, "meters[0].template", NULL);
    char *b = with(a, "meters[0].registers",
                   "{\"power_l1\":{\"address\":0,\"type\":\"s16\"},"
                   "\"power_l2\":{\"address\":1,\"type\":\"s16\"},"
                   "\"power_l3\":{\"address\":2,\"type\":\"s16\"}}");
    struct config cfg;
    ASSERT(parses(b, &cfg));
    ASSERT_NULL(cfg.meters[0].template_name);
    ASSERT(cfg.meters[0].registers[CONFIG_Q_POWER_L3].present);
    config_free(&cfg);
    free(b);
    b = with(a, "meters[0].registers",
             "{\"current_l1\":{\"address\":0,\"type\":\"u16\"},"
             "\"current_l2\":{\"address\":1,\"type\":\"u16\"},"
             "\"current_l3\":{\"address\":2,\"type\":\"u16\"}}");
    ASSERT(parses(b, &cfg));
    config_free(&cfg);
    free(b);
    b = with(a, "meters[0].registers",
             "{\"current_l1\":{\"address\":0,\"type\":\"u16\"},"
             "\"power_l1\":{\"address\":1,\"type\":\"u16\"}}");
    ASSERT(fails_with(b, "meters[0].registers: role grid needs power, power_l1 to power_l3, or "
                         "current_l1 to current_l3"));
    free(b);
    char *c = with(a, "meters[0].role", "\"ev_submeter\"");
    b = with(c, "meters[0].registers", "{\"energy_import\":{\"address\":0,\"type\":\"u32\"}}");
    ASSERT(fails_with(b, "meters[0].registers: role ev_submeter needs power, power_l1 to "
                         "power_l3, or current_l1 to current_l3"));
    free(b);
    free(c);
    free(a);
}

/* --- transformers ---------------------------------------------------------- */

TEST(transformer_parsed)
{
    struct config cfg;
    ASSERT(parses(BASE_TX, &cfg));
    const struct config_meter *m = &cfg.meters[0];
    ASSERT_EQ(m->role, CONFIG_METER_TRANSFORMER);
    ASSERT_DBL_NEAR(m->rating_kva, 630, 0);
    ASSERT_EQ(m->n_derating, 2);
    ASSERT_DBL_NEAR(m->derating[0].temp_c, 85, 0);
    ASSERT_DBL_NEAR(m->derating[1].percent, 60, 0);
    const struct config_register *r = &m->registers[CONFIG_Q_OIL_TEMP_C];
    ASSERT(r->present);
    ASSERT_EQ(r->address, 100);
    ASSERT_EQ(r->type, CONFIG_REG_S16);
    ASSERT_DBL_NEAR(r->scale, 0.1, 0);
    config_free(&cfg);

    /* A transformer without a curve, read for its load only. */
    char *a = with(BASE_TX, "meters[0].derating", NULL);
    char *b = with(a, "meters[0].registers", "{\"load_kva\":{\"address\":0,\"type\":\"u16\"}}");
    ASSERT(parses(b, &cfg));
    ASSERT_NULL(cfg.meters[0].derating);
    config_free(&cfg);
    free(a);
    free(b);

}

TEST(derating_curve)
{
    struct config cfg;
    char *json = with(BASE_TX, "meters[0].derating",
                      "[{\"temp_c\":85,\"percent\":100},{\"temp_c\":105,\"percent\":60},"
                      "{\"temp_c\":120,\"percent\":30}]");
    ASSERT(parses(json, &cfg));
    free(json);
    const struct config_meter *m = &cfg.meters[0];
    ASSERT_DBL_NEAR(config_derating_percent(m, -20), 100, 1e-9);
    ASSERT_DBL_NEAR(config_derating_percent(m, 84.9), 100, 1e-9);
    ASSERT_DBL_NEAR(config_derating_percent(m, 85), 100, 1e-9);
    ASSERT_DBL_NEAR(config_derating_percent(m, 95), 80, 1e-9);
    ASSERT_DBL_NEAR(config_derating_percent(m, 105), 60, 1e-9);
    ASSERT_DBL_NEAR(config_derating_percent(m, 110), 50, 1e-9);
    ASSERT_DBL_NEAR(config_derating_percent(m, 120), 30, 1e-9);
    ASSERT_DBL_NEAR(config_derating_percent(m, 200), 30, 1e-9);
    ASSERT(isnan(config_derating_percent(m, NAN)));
    config_free(&cfg);

    /* A first point below 100 %: full rating below it, its percent from it on. */
    json = with(BASE_TX, "meters[0].derating", "[{\"temp_c\":90,\"percent\":80}]");
    ASSERT(parses(json, &cfg));
    free(json);
    ASSERT_DBL_NEAR(config_derating_percent(&cfg.meters[0], 89), 100, 1e-9);
    ASSERT_DBL_NEAR(config_derating_percent(&cfg.meters[0], 90), 80, 1e-9);
    ASSERT_DBL_NEAR(config_derating_percent(&cfg.meters[0], 150), 80, 1e-9);
    config_free(&cfg);

    /* No curve: always the full rating. */
    struct config_meter none = { .n_derating = 0 };
    ASSERT_DBL_NEAR(config_derating_percent(&none, 300), 100, 0);
    ASSERT_DBL_NEAR(config_derating_percent(NULL, 20), 100, 0);

    /* 16 points are fine, 17 are not. */
    char points[2048] = "[";
    for (int i = 0; i < 17; i++) {
        char one[64];
        snprintf(one, sizeof(one), "%s{\"temp_c\":%d,\"percent\":%d}", i ? "," : "", 60 + i * 5,
                 100 - i * 5);
        strcat(points, one);
    }
    strcat(points, "]");
    json = with(BASE_TX, "meters[0].derating", points);
    ASSERT(fails_with(json, "meters[0].derating: at most 16 points"));
    free(json);
    char *cut = strstr(points, ",{\"temp_c\":140");
    ASSERT_NOT_NULL(cut);
    strcpy(cut, "]");
    json = with(BASE_TX, "meters[0].derating", points);
    ASSERT(parses(json, &cfg));
    ASSERT_EQ(cfg.meters[0].n_derating, 16);
    config_free(&cfg);
    free(json);
}

/* --- arrays, roles, buses -------------------------------------------------- */

TEST(meter_count_and_roles)
{
    /* 32 EV sub-meters are fine, 33 are not. */
    char *json = strdup(BASE);
    for (int i = 1; i <= 32; i++) {
        char value[160];
        snprintf(value, sizeof(value),
                 "{\"name\":\"ev%d\",\"role\":\"ev_submeter\",\"template\":\"eastron_sdm630\","
                 "\"tcp\":{\"host\":\"10.0.0.%d\"}}",
                 i, i);
        cJSON *root = cJSON_Parse(json);
        cJSON_AddItemToArray(cJSON_GetObjectItem(root, "meters"), cJSON_Parse(value));
        free(json);
        json = cJSON_PrintUnformatted(root);
        cJSON_Delete(root);
        if (i == 31) {
            struct config cfg;
            ASSERT(parses(json, &cfg));
            ASSERT_EQ(cfg.n_meters, 32);
            ASSERT_STR_EQ(cfg.meters[31].name, "ev31");
            config_free(&cfg);
        }
    }
    ASSERT(fails_with(json, "meters: at most 32 meters"));
    free(json);

    /* Two transformers. */
    char *a = with(BASE_TX, "meters[0].name", "\"tx1\"");
    cJSON *root = cJSON_Parse(a);
    cJSON *meters = cJSON_GetObjectItem(root, "meters");
    cJSON *second = cJSON_Duplicate(cJSON_GetArrayItem(meters, 0), true);
    cJSON_ReplaceItemInObject(second, "name", cJSON_CreateString("tx2"));
    cJSON_AddItemToArray(meters, second);
    char *b = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    ASSERT(fails_with(b, "meters[1].role: only one transformer meter is allowed (meters[0] is one)"));
    free(a);
    free(b);

    /* The same TCP device twice. */
    root = cJSON_Parse(BASE);
    meters = cJSON_GetObjectItem(root, "meters");
    second = cJSON_Duplicate(cJSON_GetArrayItem(meters, 0), true);
    cJSON_ReplaceItemInObject(second, "name", cJSON_CreateString("ev"));
    cJSON_ReplaceItemInObject(second, "role", cJSON_CreateString("ev_submeter"));
    cJSON_AddItemToArray(meters, second);
    b = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    ASSERT(fails_with(b, "meters[1].unit_id: meters[0] already reads unit 1 at 127.0.0.1 port "
                         "5020"));
    /* ...but another unit behind the same gateway is a different device. */
    a = with(b, "meters[1].unit_id", "2");
    struct config cfg;
    ASSERT(parses(a, &cfg));
    config_free(&cfg);
    free(a);
    free(b);
}

TEST(rtu_bus)
{
    struct config cfg;
    ASSERT(parses(BASE_RTU, &cfg));
    ASSERT_EQ(cfg.n_meters, 2);
    for (size_t i = 0; i < 2; i++) {
        const struct config_meter *m = &cfg.meters[i];
        ASSERT_EQ(m->transport, CONFIG_MODBUS_RTU);
        ASSERT_STR_EQ(m->rtu.device, "/dev/ttyUSB0");
        ASSERT_EQ(m->rtu.baud, 9600);
        ASSERT_EQ(m->rtu.parity, CONFIG_PARITY_NONE);
        ASSERT_EQ(m->rtu.data_bits, 8);
        ASSERT_EQ(m->rtu.stop_bits, 1);
        ASSERT_NULL(m->tcp.host);
    }
    ASSERT_EQ(cfg.meters[1].unit_id, 2);
    config_free(&cfg);

    /* On different lines the settings and unit ids are independent. */
    char *a = with(BASE_RTU, "meters[1].rtu", "{\"device\":\"/dev/ttyUSB1\",\"baud\":19200}");
    char *b = with(a, "meters[1].unit_id", "1");
    ASSERT(parses(b, &cfg));
    config_free(&cfg);
    free(a);
    free(b);
}

/* --- the fail-safe and lease rules ------------------------------------------ */

TEST(safe_default_fits_the_cap)
{
    /* 15 three-phase chargers at 6 A and 230 V: 15 * 4.14 = 62.1 kW, under 100. */
    cJSON *root = cJSON_Parse(BASE);
    cJSON *chargers = cJSON_GetObjectItem(root, "chargers");
    for (int i = 2; i <= 15; i++) {
        char id[16];
        snprintf(id, sizeof(id), "CP%02d", i);
        cJSON *ch = cJSON_CreateObject();
        cJSON_AddStringToObject(ch, "id", id);
        cJSON_AddItemToArray(chargers, ch);
    }
    char *many = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    char *json = with(many, "balancer.lease_s", "300");
    struct config cfg;
    ASSERT(parses(json, &cfg));
    config_free(&cfg);
    free(json);

    /* At 11 A: 15 * 11 * 3 * 230 = 113.85 kW. */
    char *a = with(many, "balancer.lease_s", "300");
    json = with(a, "balancer.safe_limit_a", "11");
    ASSERT(fails_with(json, "balancer.safe_limit_a: the safe default of every charger together "
                            "(113.85 kW) exceeds site.grid_limit_kw (100)"));
    free(json);
    /* Without a lease there is no safe default profile to check. */
    json = with(many, "balancer.safe_limit_a", "11");
    ASSERT(parses(json, &cfg));
    config_free(&cfg);
    free(json);
    /* Nor without a grid meter. */
    char *c = with(a, "meters", "[]");
    json = with(c, "balancer.safe_limit_a", "11");
    ASSERT(parses(json, &cfg));
    config_free(&cfg);
    free(json);
    free(c);
    /* Single-phase chargers count one phase. */
    c = with(a, "charger_defaults", "{\"phases\":1}");
    json = with(c, "balancer.safe_limit_a", "28");
    ASSERT(parses(json, &cfg)); /* 15 * 28 * 230 = 96.6 kW */
    config_free(&cfg);
    free(json);
    json = with(c, "balancer.safe_limit_a", "29");
    ASSERT(fails_with(json, "balancer.safe_limit_a: the safe default of every charger together "
                            "(100.05 kW) exceeds site.grid_limit_kw (100)"));
    free(json);
    free(c);
    free(a);
    free(many);
}

/* --- the example and the README -------------------------------------------- */

TEST(example_has_a_grid_meter)
{
    struct config cfg;
    char err[CONFIG_ERR_MAX];
    int rc = config_load(EXAMPLE_CONFIG, &cfg, err);
    if (rc)
        TEST__FAIL("%s: %s", EXAMPLE_CONFIG, err);
    ASSERT_EQ(cfg.n_meters, 1);
    const struct config_meter *m = &cfg.meters[0];
    ASSERT_EQ(m->role, CONFIG_METER_GRID);
    ASSERT_STR_EQ(m->template_name, "eastron_sdm630");
    ASSERT_STR_EQ(m->tcp.host, "127.0.0.1");
    ASSERT_EQ(m->tcp.port, 5020);
    ASSERT(m->registers[CONFIG_Q_POWER].present);
    ASSERT_DBL_NEAR(m->registers[CONFIG_Q_ENERGY_IMPORT].scale, 1000, 0);
    ASSERT_EQ(cfg.site.meter_stale_s, 10);
    config_free(&cfg);
}

TEST(example_and_readme_show_the_meter_keys)
{
    static const char *const keys[] = {
        "meter_stale_s", "other_load_max_kw", "fallback_ev_kw", "lease_s", "safe_limit_a",
        "apply_window_s", "meters", "name", "role", "template", "tcp", "host", "port",
        "unit_id", "poll_ms", "timeout_ms", "retries", "registers", "address", "function",
        "type", "word_order", "byte_order", "scale", "offset",
    };
    /* Not in the example on purpose: the demo has one TCP grid meter and the
     * built-in templates directory. */
    static const char *const readme_only[] = {
        "template_dir", "rtu", "device", "baud", "parity", "data_bits", "stop_bits",
        "rating_kva", "derating", "temp_c", "percent",
    };
    char *example = read_all(EXAMPLE_CONFIG, NULL);
    char *readme = read_all(README_MD, NULL);
    ASSERT_NOT_NULL(example);
    ASSERT_NOT_NULL(readme);
    char quoted[64], ticked[64];
    int failed = 0;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        snprintf(quoted, sizeof(quoted), "\"%s\"", keys[i]);
        snprintf(ticked, sizeof(ticked), "%s`", keys[i]);
        if (!strstr(example, quoted)) {
            fprintf(stderr, "  example lacks %s\n", quoted);
            failed++;
        }
        if (!strstr(readme, ticked)) {
            fprintf(stderr, "  README lacks %s\n", keys[i]);
            failed++;
        }
    }
    for (size_t i = 0; i < sizeof(readme_only) / sizeof(readme_only[0]); i++) {
        snprintf(ticked, sizeof(ticked), "%s`", readme_only[i]);
        if (!strstr(readme, ticked)) {
            fprintf(stderr, "  README lacks %s\n", readme_only[i]);
            failed++;
        }
    }
    /* Every quantity and every shipped template is documented. */
    for (int q = 0; q < CONFIG_Q_COUNT; q++) {
        snprintf(ticked, sizeof(ticked), "`%s`", config_quantity_name(q));
        if (!strstr(readme, ticked)) {
            fprintf(stderr, "  README lacks quantity %s\n", config_quantity_name(q));
            failed++;
        }
    }
    static const char *const templates[] = { "eastron_sdm630", "schneider_pm5xxx",
                                             "janitza_umg604", "carlo_gavazzi_em24" };
    for (size_t i = 0; i < 4; i++) {
        snprintf(ticked, sizeof(ticked), "`%s`", templates[i]);
        if (!strstr(readme, ticked)) {
            fprintf(stderr, "  README lacks template %s\n", templates[i]);
            failed++;
        }
    }
    free(example);
    free(readme);
    ASSERT_EQ(failed, 0);
}

TEST(quantity_names)
{
    static const char *const want[CONFIG_Q_COUNT] = {
        "current_l1", "current_l2", "current_l3", "power", "power_l1", "power_l2", "power_l3",
        "energy_import", "voltage_l1", "voltage_l2", "voltage_l3", "oil_temp_c",
        "winding_temp_c", "load_kva",
    };
    for (int q = 0; q < CONFIG_Q_COUNT; q++)
        ASSERT_STR_EQ(config_quantity_name(q), want[q]);
    ASSERT_STR_EQ(config_quantity_name(CONFIG_Q_COUNT), "?");
}

int main(void)
{
    if (!tmpdir_create("test_config_meters"))
        return 1;
    RUN(bases_are_valid);
    RUN(bad_values);
    RUN(bounds_inclusive);
    RUN(defaults_and_sdm630);
    RUN(every_value_set);
    RUN(shipped_templates_load);
    RUN(missing_template);
    RUN(bad_template_names_file_and_quantity);
    RUN(own_template_and_overrides_merge);
    RUN(registers_without_template);
    RUN(transformer_parsed);
    RUN(derating_curve);
    RUN(meter_count_and_roles);
    RUN(rtu_bus);
    RUN(safe_default_fits_the_cap);
    RUN(example_has_a_grid_meter);
    RUN(example_and_readme_show_the_meter_keys);
    RUN(quantity_names);
    tmpdir_remove();
    return test_summary();
}

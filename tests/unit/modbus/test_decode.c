/* Register decoding: every type in every word and byte order against known
 * byte patterns, scale and offset, the plausibility ranges, and the
 * total-versus-phases rule. */
#include <errno.h>
#include <stdint.h>

#include "decode.h"
#include "test.h"

static struct config_register reg(enum config_reg_type type, enum config_order wo,
                                  enum config_order bo)
{
    return (struct config_register){ .present = true, .type = type, .word_order = wo,
                                     .byte_order = bo, .scale = 1, .offset = 0 };
}

#define BIG CONFIG_ORDER_BIG
#define LITTLE CONFIG_ORDER_LITTLE

TEST(words)
{
    ASSERT_EQ(config_register_words(CONFIG_REG_U16), 1);
    ASSERT_EQ(config_register_words(CONFIG_REG_S16), 1);
    ASSERT_EQ(config_register_words(CONFIG_REG_U32), 2);
    ASSERT_EQ(config_register_words(CONFIG_REG_S32), 2);
    ASSERT_EQ(config_register_words(CONFIG_REG_FLOAT32), 2);
    ASSERT_EQ(config_register_words(CONFIG_REG_U64), 4);
    ASSERT_EQ(config_register_words(CONFIG_REG_FLOAT64), 4);
}

/* 230.5 as IEEE 754 single is 0x43668000. */
TEST(float32_230_5_every_order)
{
    const uint16_t bb[] = { 0x4366, 0x8000 };   /* ABCD: the Modbus usual */
    const uint16_t lb[] = { 0x8000, 0x4366 };   /* CDAB: low word first */
    const uint16_t bl[] = { 0x6643, 0x0080 };   /* BADC: bytes swapped */
    const uint16_t ll[] = { 0x0080, 0x6643 };   /* DCBA: all reversed */
    struct config_register r = reg(CONFIG_REG_FLOAT32, BIG, BIG);
    ASSERT_DBL_NEAR(decode_raw(bb, &r), 230.5, 0);
    r = reg(CONFIG_REG_FLOAT32, LITTLE, BIG);
    ASSERT_DBL_NEAR(decode_raw(lb, &r), 230.5, 0);
    r = reg(CONFIG_REG_FLOAT32, BIG, LITTLE);
    ASSERT_DBL_NEAR(decode_raw(bl, &r), 230.5, 0);
    r = reg(CONFIG_REG_FLOAT32, LITTLE, LITTLE);
    ASSERT_DBL_NEAR(decode_raw(ll, &r), 230.5, 0);
    /* The wrong order gives something else entirely. */
    r = reg(CONFIG_REG_FLOAT32, BIG, BIG);
    ASSERT(decode_raw(lb, &r) != 230.5);
}

/* 230.5 as IEEE 754 double is 0x406CD00000000000; -1.5 is 0xBFF8000000000000. */
TEST(float64_every_order)
{
    const uint16_t bb[] = { 0x406C, 0xD000, 0x0000, 0x0000 };
    const uint16_t lb[] = { 0x0000, 0x0000, 0xD000, 0x406C };
    const uint16_t bl[] = { 0x6C40, 0x00D0, 0x0000, 0x0000 };
    const uint16_t ll[] = { 0x0000, 0x0000, 0x00D0, 0x6C40 };
    struct config_register r = reg(CONFIG_REG_FLOAT64, BIG, BIG);
    ASSERT_DBL_NEAR(decode_raw(bb, &r), 230.5, 0);
    r.word_order = LITTLE;
    ASSERT_DBL_NEAR(decode_raw(lb, &r), 230.5, 0);
    r = reg(CONFIG_REG_FLOAT64, BIG, LITTLE);
    ASSERT_DBL_NEAR(decode_raw(bl, &r), 230.5, 0);
    r.word_order = LITTLE;
    ASSERT_DBL_NEAR(decode_raw(ll, &r), 230.5, 0);
    const uint16_t neg[] = { 0xBFF8, 0, 0, 0 };
    r = reg(CONFIG_REG_FLOAT64, BIG, BIG);
    ASSERT_DBL_NEAR(decode_raw(neg, &r), -1.5, 0);
}

TEST(integers_every_order)
{
    /* u16 0x1234 = 4660; its bytes swapped read 0x3412 = 13330. */
    const uint16_t u16[] = { 0x1234 };
    struct config_register r = reg(CONFIG_REG_U16, BIG, BIG);
    ASSERT_DBL_NEAR(decode_raw(u16, &r), 4660, 0);
    r.word_order = LITTLE; /* one register: no word order to apply */
    ASSERT_DBL_NEAR(decode_raw(u16, &r), 4660, 0);
    r.byte_order = LITTLE;
    ASSERT_DBL_NEAR(decode_raw(u16, &r), 13330, 0);

    /* s16 -200 = 0xFF38. */
    const uint16_t s16[] = { 0xFF38 }, s16_sw[] = { 0x38FF };
    r = reg(CONFIG_REG_S16, BIG, BIG);
    ASSERT_DBL_NEAR(decode_raw(s16, &r), -200, 0);
    r.byte_order = LITTLE;
    ASSERT_DBL_NEAR(decode_raw(s16_sw, &r), -200, 0);
    r = reg(CONFIG_REG_U16, BIG, BIG);
    ASSERT_DBL_NEAR(decode_raw(s16, &r), 65336, 0);

    /* u32 74565 = 0x00012345. */
    const uint16_t u32_bb[] = { 0x0001, 0x2345 }, u32_lb[] = { 0x2345, 0x0001 };
    const uint16_t u32_bl[] = { 0x0100, 0x4523 }, u32_ll[] = { 0x4523, 0x0100 };
    r = reg(CONFIG_REG_U32, BIG, BIG);
    ASSERT_DBL_NEAR(decode_raw(u32_bb, &r), 74565, 0);
    r = reg(CONFIG_REG_U32, LITTLE, BIG);
    ASSERT_DBL_NEAR(decode_raw(u32_lb, &r), 74565, 0);
    r = reg(CONFIG_REG_U32, BIG, LITTLE);
    ASSERT_DBL_NEAR(decode_raw(u32_bl, &r), 74565, 0);
    r = reg(CONFIG_REG_U32, LITTLE, LITTLE);
    ASSERT_DBL_NEAR(decode_raw(u32_ll, &r), 74565, 0);

    /* s32 -123456 = 0xFFFE1DC0; as u32 that is 4294843840. */
    const uint16_t s32_bb[] = { 0xFFFE, 0x1DC0 }, s32_lb[] = { 0x1DC0, 0xFFFE };
    const uint16_t s32_bl[] = { 0xFEFF, 0xC01D }, s32_ll[] = { 0xC01D, 0xFEFF };
    r = reg(CONFIG_REG_S32, BIG, BIG);
    ASSERT_DBL_NEAR(decode_raw(s32_bb, &r), -123456, 0);
    r = reg(CONFIG_REG_S32, LITTLE, BIG);
    ASSERT_DBL_NEAR(decode_raw(s32_lb, &r), -123456, 0);
    r = reg(CONFIG_REG_S32, BIG, LITTLE);
    ASSERT_DBL_NEAR(decode_raw(s32_bl, &r), -123456, 0);
    r = reg(CONFIG_REG_S32, LITTLE, LITTLE);
    ASSERT_DBL_NEAR(decode_raw(s32_ll, &r), -123456, 0);
    r = reg(CONFIG_REG_U32, BIG, BIG);
    ASSERT_DBL_NEAR(decode_raw(s32_bb, &r), 4294843840.0, 0);

    /* u64 0x0000000100000002 = 4294967298; 0x0102030405060708 = 72623859790382856. */
    const uint16_t u64_bb[] = { 0x0000, 0x0001, 0x0000, 0x0002 };
    const uint16_t u64_lb[] = { 0x0002, 0x0000, 0x0001, 0x0000 };
    r = reg(CONFIG_REG_U64, BIG, BIG);
    ASSERT_DBL_NEAR(decode_raw(u64_bb, &r), 4294967298.0, 0);
    r = reg(CONFIG_REG_U64, LITTLE, BIG);
    ASSERT_DBL_NEAR(decode_raw(u64_lb, &r), 4294967298.0, 0);
    const uint16_t u64_seq_bb[] = { 0x0102, 0x0304, 0x0506, 0x0708 };
    const uint16_t u64_seq_bl[] = { 0x0201, 0x0403, 0x0605, 0x0807 };
    const uint16_t u64_seq_ll[] = { 0x0807, 0x0605, 0x0403, 0x0201 };
    r = reg(CONFIG_REG_U64, BIG, BIG);
    ASSERT_DBL_NEAR(decode_raw(u64_seq_bb, &r), 72623859790382856.0, 0);
    r = reg(CONFIG_REG_U64, BIG, LITTLE);
    ASSERT_DBL_NEAR(decode_raw(u64_seq_bl, &r), 72623859790382856.0, 0);
    r = reg(CONFIG_REG_U64, LITTLE, LITTLE);
    ASSERT_DBL_NEAR(decode_raw(u64_seq_ll, &r), 72623859790382856.0, 0);
}

/* An independent encoder: the value's big-endian bytes laid out in the given
 * orders; decoding must give the value back, for every combination. */
static void encode(uint64_t bits, int words, enum config_order wo, enum config_order bo,
                   uint16_t *out)
{
    for (int i = 0; i < words; i++) {
        int shift = 16 * (words - 1 - i); /* i-th most significant word */
        uint16_t w = (uint16_t)(bits >> shift);
        if (bo == LITTLE)
            w = (uint16_t)((w >> 8) | (w << 8));
        out[wo == BIG ? i : words - 1 - i] = w;
    }
}

TEST(round_trip_every_type_and_order)
{
    struct {
        enum config_reg_type type;
        uint64_t bits;
        double value;
    } cases[] = {
        { CONFIG_REG_U16, 0xBEEF, 48879 },
        { CONFIG_REG_S16, 0x8000, -32768 },
        { CONFIG_REG_S16, 0x7FFF, 32767 },
        { CONFIG_REG_U32, 0xDEADBEEF, 3735928559.0 },
        { CONFIG_REG_S32, 0x80000000, -2147483648.0 },
        { CONFIG_REG_S32, 0x00000001, 1 },
        { CONFIG_REG_U64, 0x0000123456789ABCULL, 20015998343868.0 },
        { CONFIG_REG_FLOAT32, 0xC2F6E979, -123.456001281738281 },
        { CONFIG_REG_FLOAT32, 0x00000000, 0 },
        { CONFIG_REG_FLOAT64, 0x4093480000000000ULL, 1234 },
        { CONFIG_REG_FLOAT64, 0xC0FE240C9FBE76C9ULL, -123456.789 },
    };
    int failed = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int wo = 0; wo < 2; wo++) {
            for (int bo = 0; bo < 2; bo++) {
                uint16_t regs[4];
                int words = config_register_words(cases[i].type);
                encode(cases[i].bits, words, wo, bo, regs);
                struct config_register r = reg(cases[i].type, wo, bo);
                double v = decode_raw(regs, &r);
                if (fabs(v - cases[i].value) > 1e-9 * fmax(1, fabs(cases[i].value))) {
                    fprintf(stderr, "  case %zu wo=%d bo=%d: %.17g != %.17g\n", i, wo, bo, v,
                            cases[i].value);
                    failed++;
                }
            }
        }
    }
    ASSERT_EQ(failed, 0);
}

TEST(scale_and_offset)
{
    char why[DECODE_WHY_MAX];
    double v = 0;
    /* Oil temperature as s16 tenths of a degree: -200 -> -20.0 C. */
    const uint16_t s16[] = { 0xFF38 };
    struct config_register r = reg(CONFIG_REG_S16, BIG, BIG);
    r.scale = 0.1;
    ASSERT_EQ(decode_value(s16, &r, CONFIG_Q_OIL_TEMP_C, &v, why, sizeof(why)), 0);
    ASSERT_DBL_NEAR(v, -20, 1e-9);
    /* Offset after scaling: 1000 * 0.1 - 40 = 60. */
    const uint16_t u16[] = { 1000 };
    r = reg(CONFIG_REG_U16, BIG, BIG);
    r.scale = 0.1;
    r.offset = -40;
    ASSERT_EQ(decode_value(u16, &r, CONFIG_Q_WINDING_TEMP_C, &v, why, sizeof(why)), 0);
    ASSERT_DBL_NEAR(v, 60, 1e-9);
    /* kWh as float32 times 1000 -> Wh: 230.5 kWh. */
    const uint16_t kwh[] = { 0x4366, 0x8000 };
    r = reg(CONFIG_REG_FLOAT32, BIG, BIG);
    r.scale = 1000;
    ASSERT_EQ(decode_value(kwh, &r, CONFIG_Q_ENERGY_IMPORT, &v, why, sizeof(why)), 0);
    ASSERT_DBL_NEAR(v, 230500, 0);
    /* EM24 style: INT32 low word first, tenths of a watt: -1234.5 W. */
    const uint16_t em24[] = { 0xCFC7, 0xFFFF }; /* -12345 = 0xFFFFCFC7 */
    r = reg(CONFIG_REG_S32, LITTLE, BIG);
    r.scale = 0.1;
    ASSERT_EQ(decode_value(em24, &r, CONFIG_Q_POWER, &v, why, sizeof(why)), 0);
    ASSERT_DBL_NEAR(v, -1234.5, 1e-9);
    /* A negative scale flips the sign of a meter mounted the other way. */
    r.scale = -0.1;
    ASSERT_EQ(decode_value(em24, &r, CONFIG_Q_POWER, &v, why, sizeof(why)), 0);
    ASSERT_DBL_NEAR(v, 1234.5, 1e-9);
}

static bool rejects(const uint16_t *regs, struct config_register r, enum config_quantity q,
                    const char *want)
{
    char why[DECODE_WHY_MAX] = "";
    double v = 12345;
    int rc = decode_value(regs, &r, q, &v, why, sizeof(why));
    if (rc != -EINVAL || strcmp(why, want) != 0 || v != 12345) {
        fprintf(stderr, "  rc=%d why=\"%s\" v=%g, wanted \"%s\"\n", rc, why, v, want);
        return false;
    }
    return true;
}

static bool accepts(double value, enum config_quantity q)
{
    /* value as float64 big-endian */
    uint64_t bits;
    memcpy(&bits, &value, sizeof(bits));
    uint16_t regs[4];
    encode(bits, 4, BIG, BIG, regs);
    struct config_register r = reg(CONFIG_REG_FLOAT64, BIG, BIG);
    double v;
    char why[DECODE_WHY_MAX];
    if (decode_value(regs, &r, q, &v, why, sizeof(why)) != 0 || v != value) {
        fprintf(stderr, "  %s = %g rejected: %s\n", config_quantity_name(q), value, why);
        return false;
    }
    return true;
}

static uint16_t f64[4];
static const uint16_t *as_f64(double value)
{
    uint64_t bits;
    memcpy(&bits, &value, sizeof(bits));
    encode(bits, 4, BIG, BIG, f64);
    return f64;
}

TEST(sanity_rules)
{
    const uint16_t nan32[] = { 0x7FC0, 0x0000 }, inf32[] = { 0x7F80, 0x0000 };
    const uint16_t ninf32[] = { 0xFF80, 0x0000 };
    struct config_register f = reg(CONFIG_REG_FLOAT32, BIG, BIG);
    struct config_register d = reg(CONFIG_REG_FLOAT64, BIG, BIG);
    ASSERT(rejects(nan32, f, CONFIG_Q_CURRENT_L1, "current_l1: NaN"));
    ASSERT(rejects(inf32, f, CONFIG_Q_POWER, "power: infinite"));
    ASSERT(rejects(ninf32, f, CONFIG_Q_POWER_L2, "power_l2: infinite"));
    ASSERT(rejects(as_f64(1200), d, CONFIG_Q_VOLTAGE_L1,
                   "voltage_l1: 1200 V is outside 0..1000 V"));
    ASSERT(rejects(as_f64(-1), d, CONFIG_Q_VOLTAGE_L3, "voltage_l3: -1 V is outside 0..1000 V"));
    ASSERT(rejects(as_f64(10000.5), d, CONFIG_Q_CURRENT_L2,
                   "current_l2: 10000.5 A is outside -10000..10000 A"));
    ASSERT(rejects(as_f64(-10001), d, CONFIG_Q_CURRENT_L3,
                   "current_l3: -10001 A is outside -10000..10000 A"));
    ASSERT(rejects(as_f64(5.1e7), d, CONFIG_Q_POWER, "power: 5.1e+07 W is outside -5e+07..5e+07 W"));
    ASSERT(rejects(as_f64(-1), d, CONFIG_Q_ENERGY_IMPORT,
                   "energy_import: -1 Wh is outside 0..1e+15 Wh"));
    ASSERT(rejects(as_f64(1.1e15), d, CONFIG_Q_ENERGY_IMPORT,
                   "energy_import: 1.1e+15 Wh is outside 0..1e+15 Wh"));
    ASSERT(rejects(as_f64(-51), d, CONFIG_Q_OIL_TEMP_C, "oil_temp_c: -51 C is outside -50..250 C"));
    ASSERT(rejects(as_f64(251), d, CONFIG_Q_WINDING_TEMP_C,
                   "winding_temp_c: 251 C is outside -50..250 C"));
    ASSERT(rejects(as_f64(100001), d, CONFIG_Q_LOAD_KVA,
                   "load_kva: 100001 kVA is outside 0..100000 kVA"));
    ASSERT(rejects(as_f64(-0.5), d, CONFIG_Q_LOAD_KVA,
                   "load_kva: -0.5 kVA is outside 0..100000 kVA"));
    /* A huge float64 times a scale overflows: not finite either. */
    struct config_register big = d;
    big.scale = 1e9;
    ASSERT(rejects(as_f64(1e308), big, CONFIG_Q_POWER,
                   "power: 1e+308 * 1e+09 + 0 is not finite"));

    /* The edges are plausible. */
    ASSERT(accepts(10000, CONFIG_Q_CURRENT_L1));
    ASSERT(accepts(-10000, CONFIG_Q_CURRENT_L1));
    ASSERT(accepts(0, CONFIG_Q_CURRENT_L1));
    ASSERT(accepts(50e6, CONFIG_Q_POWER));
    ASSERT(accepts(-50e6, CONFIG_Q_POWER_L3));
    ASSERT(accepts(1e15, CONFIG_Q_ENERGY_IMPORT));
    ASSERT(accepts(0, CONFIG_Q_ENERGY_IMPORT));
    ASSERT(accepts(1000, CONFIG_Q_VOLTAGE_L2));
    ASSERT(accepts(-50, CONFIG_Q_OIL_TEMP_C));
    ASSERT(accepts(250, CONFIG_Q_WINDING_TEMP_C));
    ASSERT(accepts(100000, CONFIG_Q_LOAD_KVA));

    /* why may be NULL. */
    double v;
    ASSERT_EQ(decode_value(nan32, &f, CONFIG_Q_POWER, &v, NULL, 0), -EINVAL);
    /* A short buffer is cut, never overrun. */
    char tiny[8];
    ASSERT_EQ(decode_value(nan32, &f, CONFIG_Q_CURRENT_L1, &v, tiny, sizeof(tiny)), -EINVAL);
    ASSERT_STR_EQ(tiny, "current");
}

TEST(ranges_and_units)
{
    double lo, hi;
    decode_range(CONFIG_Q_CURRENT_L2, &lo, &hi);
    ASSERT_DBL_NEAR(lo, -10000, 0);
    ASSERT_DBL_NEAR(hi, 10000, 0);
    decode_range(CONFIG_Q_COUNT, &lo, &hi);
    ASSERT(isnan(lo) && isnan(hi));
    ASSERT_STR_EQ(decode_unit(CONFIG_Q_ENERGY_IMPORT), "Wh");
    ASSERT_STR_EQ(decode_unit(CONFIG_Q_LOAD_KVA), "kVA");
    ASSERT_STR_EQ(decode_unit(CONFIG_Q_VOLTAGE_L1), "V");
}

TEST(total_versus_phases)
{
    char why[DECODE_WHY_MAX] = "";
    const double even[3] = { 10000, 10000, 10000 };
    ASSERT_EQ(decode_check_phases(30000, even, why, sizeof(why)), 0);
    ASSERT_EQ(decode_check_phases(12000, even, why, sizeof(why)), -EINVAL);
    ASSERT_STR_EQ(why, "power: 12000 W disagrees with its phases (sum 30000 W)");
    /* Tolerance: 5 % of max(|total|, 1 kW) + 1 kW. At 0 W total: 1050 W. */
    const double small[3] = { 1050, 0, 0 }, over[3] = { 1051, 0, 0 };
    ASSERT_EQ(decode_check_phases(0, small, why, sizeof(why)), 0);
    ASSERT_EQ(decode_check_phases(0, over, why, sizeof(why)), -EINVAL);
    /* At 100 kW: 6 kW either way. */
    const double at94[3] = { 31000, 31000, 32000 }, at93[3] = { 31000, 31000, 31999 };
    ASSERT_EQ(decode_check_phases(100000, at94, why, sizeof(why)), 0);
    ASSERT_EQ(decode_check_phases(100000, at93, why, sizeof(why)), -EINVAL);
    const double at106[3] = { 36000, 35000, 35000 }, at107[3] = { 36000, 35000, 35001 };
    ASSERT_EQ(decode_check_phases(100000, at106, why, sizeof(why)), 0);
    ASSERT_EQ(decode_check_phases(100000, at107, why, sizeof(why)), -EINVAL);
    /* Export: the magnitude counts. */
    const double exp[3] = { -33000, -33000, -34000 };
    ASSERT_EQ(decode_check_phases(-100000, exp, why, sizeof(why)), 0);
    ASSERT_EQ(decode_check_phases(100000, exp, why, sizeof(why)), -EINVAL);
    /* Nothing to compare. */
    const double gap[3] = { 1, NAN, 1 };
    ASSERT_EQ(decode_check_phases(500000, gap, why, sizeof(why)), 0);
    ASSERT_EQ(decode_check_phases(NAN, even, why, sizeof(why)), 0);
}

int main(void)
{
    RUN(words);
    RUN(float32_230_5_every_order);
    RUN(float64_every_order);
    RUN(integers_every_order);
    RUN(round_trip_every_type_and_order);
    RUN(scale_and_offset);
    RUN(sanity_rules);
    RUN(ranges_and_units);
    RUN(total_versus_phases);
    return test_summary();
}

/* Register decoding and the sanity rules. The wire value of a register is
 * big-endian (libmodbus hands it over as a host uint16_t, high byte in bits
 * 15..8); "byte_order little" means the device swapped the two bytes, and
 * "word_order little" that the least significant register comes first. The
 * registers are laid out as a big-endian byte string and read from there, so
 * every type shares one path. */
#include "decode.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The value's bytes, most significant first, as an unsigned integer. */
static uint64_t decode__bits(const uint16_t *regs, int words, enum config_order wo,
                             enum config_order bo)
{
    uint64_t v = 0;
    for (int i = 0; i < words; i++) {
        uint16_t reg = regs[wo == CONFIG_ORDER_BIG ? i : words - 1 - i];
        if (bo == CONFIG_ORDER_LITTLE)
            reg = (uint16_t)((reg << 8) | (reg >> 8));
        v = (v << 16) | reg;
    }
    return v;
}

double decode_raw(const uint16_t *regs, const struct config_register *r)
{
    uint64_t bits = decode__bits(regs, config_register_words(r->type), r->word_order, r->byte_order);
    switch (r->type) {
    case CONFIG_REG_U16: return (double)(uint16_t)bits;
    case CONFIG_REG_S16: return (double)(int16_t)(uint16_t)bits;
    case CONFIG_REG_U32: return (double)(uint32_t)bits;
    case CONFIG_REG_S32: return (double)(int32_t)(uint32_t)bits;
    case CONFIG_REG_U64: return (double)bits;
    case CONFIG_REG_FLOAT32: {
        uint32_t b32 = (uint32_t)bits;
        float f;
        memcpy(&f, &b32, sizeof(f));
        return (double)f;
    }
    case CONFIG_REG_FLOAT64: {
        double d;
        memcpy(&d, &bits, sizeof(d));
        return d;
    }
    }
    return NAN;
}

void decode_range(enum config_quantity q, double *lo, double *hi)
{
    switch (q) {
    case CONFIG_Q_CURRENT_L1:
    case CONFIG_Q_CURRENT_L2:
    case CONFIG_Q_CURRENT_L3: *lo = -10000; *hi = 10000; return;
    case CONFIG_Q_POWER:
    case CONFIG_Q_POWER_L1:
    case CONFIG_Q_POWER_L2:
    case CONFIG_Q_POWER_L3: *lo = -50e6; *hi = 50e6; return;
    case CONFIG_Q_ENERGY_IMPORT: *lo = 0; *hi = 1e15; return;
    case CONFIG_Q_VOLTAGE_L1:
    case CONFIG_Q_VOLTAGE_L2:
    case CONFIG_Q_VOLTAGE_L3: *lo = 0; *hi = 1000; return;
    case CONFIG_Q_OIL_TEMP_C:
    case CONFIG_Q_WINDING_TEMP_C: *lo = -50; *hi = 250; return;
    case CONFIG_Q_LOAD_KVA: *lo = 0; *hi = 100000; return;
    case CONFIG_Q_COUNT: break;
    }
    *lo = *hi = NAN; /* nothing is plausible for a quantity that does not exist */
}

const char *decode_unit(enum config_quantity q)
{
    switch (q) {
    case CONFIG_Q_CURRENT_L1:
    case CONFIG_Q_CURRENT_L2:
    case CONFIG_Q_CURRENT_L3: return "A";
    case CONFIG_Q_POWER:
    case CONFIG_Q_POWER_L1:
    case CONFIG_Q_POWER_L2:
    case CONFIG_Q_POWER_L3: return "W";
    case CONFIG_Q_ENERGY_IMPORT: return "Wh";
    case CONFIG_Q_VOLTAGE_L1:
    case CONFIG_Q_VOLTAGE_L2:
    case CONFIG_Q_VOLTAGE_L3: return "V";
    case CONFIG_Q_OIL_TEMP_C:
    case CONFIG_Q_WINDING_TEMP_C: return "C";
    case CONFIG_Q_LOAD_KVA: return "kVA";
    case CONFIG_Q_COUNT: break;
    }
    return "";
}

static int decode__reject(char *why, size_t why_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int decode__reject(char *why, size_t why_len, const char *fmt, ...)
{
    if (why && why_len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, why_len, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

int decode_value(const uint16_t *regs, const struct config_register *r, enum config_quantity q,
                 double *out, char *why, size_t why_len)
{
    const char *name = config_quantity_name(q);
    double raw = decode_raw(regs, r);
    if (isnan(raw))
        return decode__reject(why, why_len, "%s: NaN", name);
    if (isinf(raw))
        return decode__reject(why, why_len, "%s: infinite", name);
    double v = raw * r->scale + r->offset;
    if (!isfinite(v)) /* a huge float64 times a scale, or a NaN scale */
        return decode__reject(why, why_len, "%s: %.6g * %.6g + %.6g is not finite", name, raw,
                              r->scale, r->offset);
    double lo, hi;
    decode_range(q, &lo, &hi);
    if (!(v >= lo && v <= hi)) {
        const char *unit = decode_unit(q);
        return decode__reject(why, why_len, "%s: %.6g %s is outside %.6g..%.6g %s", name, v, unit,
                              lo, hi, unit);
    }
    *out = v;
    return 0;
}

int decode_check_phases(double total_w, const double phase_w[3], char *why, size_t why_len)
{
    double sum = phase_w[0] + phase_w[1] + phase_w[2];
    if (isnan(total_w) || isnan(sum))
        return 0;
    double tolerance = 0.05 * fmax(fabs(total_w), 1000) + 1000;
    if (fabs(total_w - sum) > tolerance)
        return decode__reject(why, why_len, "power: %.6g W disagrees with its phases (sum %.6g W)",
                              total_w, sum);
    return 0;
}

/* libFuzzer target: decode_raw, decode_value and decode_check_phases on
 * arbitrary registers and map entries.
 *
 * Input: byte 0 the quantity (one past the last is tried too), byte 1 the
 * type, byte 2 flags (bit 0 word order little, bit 1 byte order little, bit 2
 * a scale follows, bit 3 an offset follows, bit 4 four doubles for the
 * phases rule follow), then those doubles (8 bytes each, host order), then the
 * registers, two bytes each, high byte first.
 *
 * Besides "no crash, no UB", it checks the contract: an accepted value is
 * finite and in the quantity's range; a rejection gives a reason and leaves
 * the output alone; any word and byte order decodes like the same value laid
 * out big-endian. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static double take_double(const uint8_t **p, size_t *left)
{
    double d;
    memcpy(&d, *p, sizeof(d));
    *p += sizeof(d);
    *left -= sizeof(d);
    return d;
}

/* Reorders regs (as laid out with wo and bo) into big-endian words. */
static void to_big(const uint16_t *regs, int words, enum config_order wo, enum config_order bo,
                   uint16_t *out)
{
    for (int i = 0; i < words; i++) {
        uint16_t w = regs[wo == CONFIG_ORDER_BIG ? i : words - 1 - i];
        out[i] = bo == CONFIG_ORDER_BIG ? w : (uint16_t)((w >> 8) | (w << 8));
    }
}

static bool same(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    enum config_quantity q = (enum config_quantity)(data[0] % (CONFIG_Q_COUNT + 1));
    enum config_reg_type type = (enum config_reg_type)(data[1] % 7);
    uint8_t flags = data[2];
    const uint8_t *p = data + 3;
    size_t left = size - 3;
    struct config_register r = {
        .present = true,
        .type = type,
        .word_order = flags & 1 ? CONFIG_ORDER_LITTLE : CONFIG_ORDER_BIG,
        .byte_order = flags & 2 ? CONFIG_ORDER_LITTLE : CONFIG_ORDER_BIG,
        .scale = 1,
        .offset = 0,
    };
    size_t need = ((flags & 4) ? 8 : 0) + ((flags & 8) ? 8 : 0) + ((flags & 16) ? 32 : 0);
    if (left < need)
        return 0;
    if (flags & 4)
        r.scale = take_double(&p, &left);
    if (flags & 8)
        r.offset = take_double(&p, &left);
    double phases[4] = { NAN, NAN, NAN, NAN };
    if (flags & 16) {
        for (int i = 0; i < 4; i++)
            phases[i] = take_double(&p, &left);
    }
    int words = config_register_words(type);
    if (words < 1 || words > 4)
        abort();
    if (left < (size_t)words * 2)
        return 0;
    /* A heap copy of exactly the registers the type needs: ASan sees overruns. */
    uint16_t *regs = malloc((size_t)words * sizeof(*regs));
    if (!regs)
        return 0;
    for (int i = 0; i < words; i++)
        regs[i] = (uint16_t)(p[2 * i] << 8 | p[2 * i + 1]);

    double raw = decode_raw(regs, &r);
    uint16_t big[4];
    to_big(regs, words, r.word_order, r.byte_order, big);
    struct config_register rb = r;
    rb.word_order = rb.byte_order = CONFIG_ORDER_BIG;
    if (!same(raw, decode_raw(big, &rb)))
        abort();
    if (type != CONFIG_REG_FLOAT32 && type != CONFIG_REG_FLOAT64 &&
        (!isfinite(raw) || raw != floor(raw)))
        abort();

    char why[DECODE_WHY_MAX];
    memset(why, 'x', sizeof(why));
    double out = 42;
    int rc = decode_value(regs, &r, q, &out, why, sizeof(why));
    double lo, hi;
    decode_range(q, &lo, &hi);
    if (rc == 0) {
        if (!isfinite(out) || out < lo || out > hi)
            abort();
    } else {
        if (rc != -EINVAL || out != 42 || !memchr(why, '\0', sizeof(why)) || why[0] == '\0')
            abort();
    }

    if (flags & 16) {
        memset(why, 'x', sizeof(why));
        rc = decode_check_phases(phases[0], phases + 1, why, sizeof(why));
        if (rc != 0 && (rc != -EINVAL || !memchr(why, '\0', sizeof(why))))
            abort();
        double sum = phases[1] + phases[2] + phases[3];
        if (rc == 0 && isfinite(phases[0]) && isfinite(sum) &&
            fabs(phases[0] - sum) > 0.05 * fmax(fabs(phases[0]), 1000) + 1000)
            abort();
    }
    free(regs);
    return 0;
}

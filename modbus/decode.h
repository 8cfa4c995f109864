/* Register decoding: Modbus registers as read on the wire (one uint16_t per
 * register, as libmodbus returns them) plus a register map entry -> a value in
 * the quantity's unit, with the sanity rules that reject nonsense. Pure: no
 * I/O, no globals, safe from any thread. */
#ifndef SITEGATE_MODBUS_DECODE_H
#define SITEGATE_MODBUS_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Longest reason a rejection gives (with its NUL), as in struct meter_sample. */
#define DECODE_WHY_MAX 96

/* The raw value of config_register_words(r->type) registers, the first at r->address,
 * in r's word and byte order, before scale and offset. NaN or infinite for
 * such float patterns. */
double decode_raw(const uint16_t *regs, const struct config_register *r);

/* The plausible range of a quantity, in its unit. */
void decode_range(enum config_quantity q, double *lo, double *hi);

/* The unit of a quantity ("A", "W", "Wh", "V", "C", "kVA"). */
const char *decode_unit(enum config_quantity q);

/* The value of quantity q: raw * scale + offset. Returns 0, or -EINVAL with
 * why set ("current_l1: NaN", "voltage_l1: 1200 V is outside 0..1000 V")
 * when it is not finite or not plausible. why may be NULL. */
int decode_value(const uint16_t *regs, const struct config_register *r, enum config_quantity q,
                 double *out, char *why, size_t why_len);

/* Whether a total active power agrees with the sum of its three phases:
 * within 5 % of the larger of |total| and 1 kW, plus 1 kW. Returns 0, or
 * -EINVAL with why set. A NaN among the values means nothing to compare: 0. */
int decode_check_phases(double total_w, const double phase_w[3], char *why, size_t why_len);

#endif

/* Internal to modbus/: the reads that cover a register map. Registers of the
 * same function that touch or overlap are read together, at most 125 (the
 * Modbus limit for one read) at a time. Pure. */
#ifndef SITEGATE_MODBUS_PLAN_H
#define SITEGATE_MODBUS_PLAN_H

#include <stddef.h>

#include "config.h"

#define PLAN_MAX_REGS 125 /* per read: MODBUS_MAX_READ_REGISTERS */

struct plan_read {
    enum config_reg_function function;
    int address;
    int count;
};

struct plan {
    struct plan_read reads[CONFIG_Q_COUNT]; /* never more reads than quantities */
    size_t n_reads;
    int read_of[CONFIG_Q_COUNT];   /* which read holds the quantity; -1: not in the map */
    int offset_of[CONFIG_Q_COUNT]; /* where its first register is within that read */
};

/* Builds the reads for every present entry of map, in function then address order. */
void plan_build(struct plan *p, const struct config_register map[CONFIG_Q_COUNT]);

#endif

/* The allocator's working state and its water-filling, private to balancer/
 * (not part of its face, balancer.h).
 *
 * allocate.c reads the input into flows and limits (a lending car's flow
 * gets its lending cap as hi), grants the minimums and turns the flows'
 * values into results (steps 1, 2, 3 and 5); fill.c raises the flows from
 * their minimums (step 4). The steps are described in allocate.c.
 */
#ifndef SITEGATE_BALANCER_FILL_H
#define SITEGATE_BALANCER_FILL_H

#include "balancer.h"
#include "order.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Float slack, in A, when checking that a minimum fits: sums of decimals
 * such as 0.1 are not exact in binary. */
#define BALANCER__EPS 1e-9
#define BALANCER__SITE_LIMITS (BALANCER_PHASES + 1) /* L1, L2, L3, total */
#define BALANCER__TOTAL BALANCER_PHASES

enum balancer__flow_state { BALANCER__WAITING, BALANCER__RISING, BALANCER__DONE };
enum balancer__stop { BALANCER__STOP_NONE, BALANCER__STOP_MAX, BALANCER__STOP_SITE,
                      BALANCER__STOP_CHARGER };

/* A connector that got its minimum and takes part in the water-filling. */
struct balancer__flow {
    double lo;          /* its minimum, a multiple of 0.1 A */
    double hi;          /* where it stops rising (effective max or lending cap), likewise */
    double value;       /* its current while not rising; where it ended */
    int32_t lo_da;      /* lo and hi in deci-amps, exactly */
    int32_t hi_da;
    uint32_t conn;      /* index into the input's connectors */
    uint32_t charger;
    uint32_t block;     /* its charger's limits are [3 * block + p] (block 0: no max) */
    uint8_t mask;       /* bit p: draws on site phase p */
    uint8_t weight;     /* number of phases: its weight in the total limit */
    uint8_t phase;      /* for weight 1: its site phase */
    uint8_t heap_mask;  /* bit p: its charger's limit on phase p can become full */
    uint8_t state;      /* enum balancer__flow_state */
    uint8_t stop;       /* enum balancer__stop: what stopped it */
    uint8_t lent;       /* hi is its lending cap, below its effective max */
    uint8_t reserve;    /* SUSPENDED_EV: holds its minimum only */
    uint8_t paused;     /* its minimum did not fit: takes no part */
};

/* One linear limit: the weighted sum of its members' currents <= cap. While
 * the level L rises its usage is fixed + slope * L. */
struct balancer__limit {
    double cap;
    double fixed;       /* weighted sum of the members that are not rising */
    double slope;       /* weighted count of the members that are rising */
};

/* The working state of one call. */
struct balancer__ctx {
    const struct balancer_input *in;
    struct balancer__flow *flows;
    uint32_t n_flows;
    uint32_t *lo_order, *hi_order;      /* flows by minimum / by max */
    uint32_t *ch_block;                 /* per charger: its block of 3 limits */
    uint32_t n_blocks;                  /* 1 + chargers with a max */
    uint32_t *ch_start, *ch_members;    /* flows grouped by block (CSR) */
    struct balancer__limit site[BALANCER__SITE_LIMITS];
    double site_full_at[BALANCER__SITE_LIMITS]; /* level it became full at, or INFINITY */
    struct balancer__limit *ch_limits;  /* 3 per block: [3 * block + p] */
    double *ch_level;                   /* level at which each charger limit will be full */
    double *ch_full_at;                 /* level it became full at, or INFINITY */
    struct balancer__heap heap;         /* charger limits that can become full, by ch_level */
    struct balancer__sort sort;         /* the priority order, the lo and hi orders */
    int32_t lo_min, lo_max, hi_min, hi_max; /* over the flows, in deci-amps */
    double used[BALANCER__SITE_LIMITS];     /* counted so far: per phase, A-phases */
    size_t n_paused, n_lent;
    enum balancer_binding binding;
    unsigned binding_mask;
};

/* Records that a site budget held a connector back; the first one is the
 * summary's binding. */
static inline void balancer__bind(struct balancer__ctx *x, enum balancer_binding b)
{
    if (x->binding == BALANCER_BIND_NONE)
        x->binding = b;
    x->binding_mask |= BALANCER_BINDS(b);
}

/* Step 4, from the state after the minimums: each granted flow ends
 * with its value in [lo, hi] and what stopped it; site_full_at, ch_full_at
 * and the binding say which limits became full, and at which level. */
void balancer__fill(struct balancer__ctx *x);

#endif

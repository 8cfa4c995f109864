/* The balancer: a pure function from the site's limits and its connectors'
 * states to a charging limit per connector.
 *
 * Two steps, both pure (no I/O, no clock reads, no globals, no allocation;
 * time is an argument, equal input gives bit-identical output):
 *
 *   1. balancer_budget(): what the site can give its EVs right now, per phase
 *      (A) and in total (W) = min(every site limit that is set)
 *      - (grid import - EV draw) - margin, never negative.
 *   2. balancer_allocate(): share that budget among the connectors: minimums
 *      first in priority then arrival order (those that do not fit are paused
 *      at 0 A), the rest by water-filling up to each connector's max, with
 *      unused current lent by cars that draw less than they are offered.
 *      Priority orders the minimums only: what is left is shared equally
 *      among all (max-min fair: equal currents, each up to its own max).
 *
 * Units: currents in A per phase (AC), power in W, voltage phase-to-neutral.
 * A three-phase connector at I A draws I on each of L1, L2 and L3; a
 * single-phase one draws I on its own phase only; its power is I * V * phases
 * (balancer_amps_to_watts). Limits come out floored to 0.1 A, because OCPP 1.6
 * decimal limits are multiples of 0.1 and rounding down never breaks a budget.
 *
 * Not set / unknown is NAN throughout (the input structs have *_init helpers
 * that set every optional field to NAN).
 */
#ifndef SITEGATE_BALANCER_H
#define SITEGATE_BALANCER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BALANCER_PHASES 3

/* ---------------------------------------------------------------- budget -- */

/* Where a site limit comes from; also names the limit that bound the budget. */
enum balancer_source {
    BALANCER_SRC_CONFIG = 0,   /* site.grid_limit_kw / site.phase_limit_a */
    BALANCER_SRC_SCHEDULE,     /* the time-of-day entry in force */
    BALANCER_SRC_DR,           /* the active demand-response event */
    BALANCER_SRC_CSMS,         /* a site limit the CSMS set (aggregate mode) */
    BALANCER_SRC_TRANSFORMER,  /* the transformer's derated rating */
    BALANCER_SRC_COUNT,
    BALANCER_SRC_NONE = -1     /* no limit of that kind is set: unbounded */
};

/* Everything the budget depends on. Call balancer_site_init() first: it sets
 * every optional value to NAN (not set / unknown). */
struct balancer_site {
    double voltage_v;                          /* phase-to-neutral, > 0 */
    double cap_kw[BALANCER_SRC_COUNT];         /* total import caps, NAN: not set */
    double phase_cap_a[BALANCER_SRC_COUNT];    /* per-phase caps (same on L1..L3), NAN: not set */
    double margin_kw;                          /* safety margin off the total; NAN: 0 */
    double margin_a;                           /* margin off each phase; NAN: margin_kw over 3 phases */
    double import_a[BALANCER_PHASES];          /* grid meter, per phase; NAN: unknown */
    double import_kw;                          /* grid meter, total; NAN: sum of V*I if all phases known */
    double ev_draw_a[BALANCER_PHASES];         /* EV sub-meter or sum of MeterValues; NAN: 0 */
    double ev_draw_kw;                         /* likewise, total; NAN: 0 */
    double worst_other_a[BALANCER_PHASES];     /* other loads assumed when import is unknown; NAN: 0 */
    double worst_other_kw;                     /* likewise, total; NAN: 0 */
};

/* What the EVs may draw, the input of balancer_allocate(). */
struct balancer_budget {
    double phase_a[BALANCER_PHASES];           /* >= 0; INFINITY when no per-phase cap is set */
    double total_w;                            /* >= 0; INFINITY when no kW cap is set */
    enum balancer_source phase_source[BALANCER_PHASES]; /* the lowest per-phase cap */
    enum balancer_source total_source;         /* the lowest kW cap */
    double other_a[BALANCER_PHASES];           /* other loads as counted (>= 0) */
    double other_w;
};

/* Sets voltage to 230 V and every optional field to NAN. */
void balancer_site_init(struct balancer_site *site);

/* Computes the EV budget from the site's limits and meters; 0, or -EINVAL if
 * the voltage is not a positive number (out is then a zero budget: fail-safe).
 * A negative cap counts as 0, an infinite one as not set. */
int balancer_budget(const struct balancer_site *site, struct balancer_budget *out);

/* A budget with no limit at all (every field INFINITY): for tests and callers
 * that build a budget by hand (e.g. a configured fallback EV budget). */
void balancer_budget_unlimited(struct balancer_budget *out);

/* A three-phase total in kW as amps on each phase: kw * 1000 / (3 * V). */
double balancer_kw_to_phase_a(double kw, double voltage_v);

/* Amps on each of three phases as a total in kW: 3 * V * a / 1000. */
double balancer_phase_a_to_kw(double a, double voltage_v);

/* A connector's limit as power, for chargers whose schedules use W:
 * amps * V * phases (phase-to-neutral V; phases 1 or 3). */
double balancer_amps_to_watts(double amps, int phases, double voltage_v);

/* ---------------------------------------------------------- time of day -- */

/* One schedule window, minutes since local midnight: [from_min, to_min).
 * to_min <= from_min wraps past midnight (to_min == from_min: all day);
 * to_min may be 1440. A cap that is not set is NAN. */
struct balancer_tod_entry {
    int from_min;
    int to_min;
    double cap_kw;
    double phase_a;
};

/* Index of the first entry (in list order) in force at minute_of_day (taken
 * modulo 1440), or -1 if none is. Overlaps should be rejected by config. */
int balancer_tod_pick(const struct balancer_tod_entry *entries, size_t n, int minute_of_day);

/* The first minute of day strictly after minute_of_day (wrapping: a value
 * <= minute_of_day means tomorrow) at which some entry starts or ends, or -1
 * with no entries. The caller arms a timer for it in local time. */
int balancer_tod_next_boundary(const struct balancer_tod_entry *entries, size_t n,
                               int minute_of_day);

/* ------------------------------------------------------------ allocation -- */

/* OCPP connector states. Active (a car is plugged in and wants or may want
 * current): PREPARING, CHARGING, SUSPENDED_EV, SUSPENDED_EVSE; every other
 * state gets 0 A with status NO_CAR. How the active ones are treated:
 *  - CHARGING: minimum, then a share; lends what it does not draw.
 *  - PREPARING: minimum, then a share, without lending (it draws nothing
 *    yet and starts at whatever limit it was given).
 *  - SUSPENDED_EVSE: as PREPARING: the charger suspended it, most likely
 *    because we gave it 0 A; it must compete for current to resume.
 *  - SUSPENDED_EV: the car paused itself (full, or on its own timer): it
 *    keeps its minimum, reserved so it can resume, and no share. */
enum balancer_state {
    BALANCER_AVAILABLE = 0,
    BALANCER_PREPARING,
    BALANCER_CHARGING,
    BALANCER_SUSPENDED_EV,
    BALANCER_SUSPENDED_EVSE,
    BALANCER_FINISHING,
    BALANCER_FAULTED,
    BALANCER_UNAVAILABLE,
    BALANCER_STATE_COUNT
};

enum balancer_phase { BALANCER_L1 = 0, BALANCER_L2 = 1, BALANCER_L3 = 2 };

/* One connector. Call balancer_connector_init() first. A connector without
 * a car that still shows a measured draw is counted at that draw (the meter
 * or the state is a moment behind: it is drawing either way). */
struct balancer_connector {
    uint32_t key;                   /* the caller's id; breaks ties in arrival order */
    uint32_t charger;               /* index into balancer_input.chargers */
    enum balancer_state state;
    int phases;                     /* 1 or 3 */
    enum balancer_phase phase;      /* for phases == 1: the site phase it is wired to */
    int32_t priority;               /* higher gets its minimum first */
    double arrival;                 /* earlier gets its minimum first; NAN: last */
    double min_a;                   /* below this it cannot charge (6 A usually); >= 0.
                                       0: never paused for room, may get 0 A (AT_MIN) */
    double max_a;                   /* its rating; finite, >= 0 */
    double measured_a[BALANCER_PHASES]; /* draw per phase; NAN: unknown. The highest is used */
    double csms_limit_a;            /* a limit the CSMS set for it; NAN: none */
    double ev_min_a;                /* the EV's own minimum (NotifyEVChargingNeeds); NAN: unknown */
    double ev_max_a;                /* the EV's own maximum; NAN: unknown */
    bool not_following;             /* ignores our limits: counted at max(max_a, draw), first,
                                       whatever its priority; limit_a: max_a, floored */
    bool no_smart_charging;         /* cannot take limits at all: counted likewise */
};

/* A charger: its connectors together stay within max_a on each phase. */
struct balancer_charger {
    double max_a;                   /* NAN: no charger-wide limit */
};

/* The whole allocation problem. */
struct balancer_input {
    const struct balancer_connector *connectors;
    size_t n_connectors;
    const struct balancer_charger *chargers;
    size_t n_chargers;
    struct balancer_budget budget;  /* from balancer_budget(); NAN or < 0 counts as 0 */
    double voltage_v;               /* phase-to-neutral, for the total (W) budget */
    double headroom_a;              /* lending: a CHARGING car with a known draw gets at most
                                       max(its min, draw + headroom_a), floored to 0.1 A;
                                       the rest goes to the others. Stateless: as it draws
                                       more it gets up to headroom_a more per run. A caller
                                       wanting a grace period after a start passes its
                                       measured_a as NAN. NAN here: no lending */
};

/* Why a connector got what it got. */
enum balancer_status {
    BALANCER_NO_CAR = 0,            /* not in an active state: 0 A */
    BALANCER_PAUSED,                /* its minimum did not fit in what was left: 0 A */
    BALANCER_PAUSED_BY_LIMIT,       /* a CSMS or EV limit (or its max) is below its minimum: 0 A */
    BALANCER_AT_MIN,                /* its minimum and nothing more (no room, or SUSPENDED_EV) */
    BALANCER_SHARED,                /* above its minimum, held by a site budget (the water level) */
    BALANCER_CAPPED_BY_MAX,         /* at its effective max (own max, CSMS limit, EV max) */
    BALANCER_CAPPED_BY_CHARGER,     /* held by its charger's max_a */
    BALANCER_LENT,                  /* draws less than offered: got draw + headroom, lent the rest */
    BALANCER_NOT_FOLLOWING,         /* ignores limits: counted at max(max_a, draw) */
    BALANCER_NO_SMART,              /* no smart charging: counted at max(max_a, draw) */
    BALANCER_STATUS_COUNT
};

/* The result for one connector. */
struct balancer_allocation {
    double limit_a;                 /* the limit to send, a multiple of 0.1 A (0: pause) */
    double counted_a;               /* what the budget counts for it on each phase it uses */
    enum balancer_status status;
};

/* The result for one charger. */
struct balancer_charger_sum {
    double limit_a[BALANCER_PHASES];    /* sum of its connectors' limits, per site phase */
    double counted_a[BALANCER_PHASES];  /* sum of what is counted for them */
};

/* Which site budget held the allocation back. */
enum balancer_binding {
    BALANCER_BIND_NONE = 0,         /* every car got its max or there was no car */
    BALANCER_BIND_L1,
    BALANCER_BIND_L2,
    BALANCER_BIND_L3,
    BALANCER_BIND_TOTAL,
    BALANCER_BIND_COUNT
};

/* Bits of balancer_summary.binding_mask. */
#define BALANCER_BINDS(b)       (1u << (b))     /* a site budget, enum balancer_binding */
#define BALANCER_BINDS_CHARGER  (1u << BALANCER_BIND_COUNT) /* some charger's max_a */

struct balancer_summary {
    double used_a[BALANCER_PHASES]; /* counted current per site phase */
    double used_w;                  /* counted power */
    enum balancer_binding binding;  /* the site budget that bound first */
    unsigned binding_mask;          /* every limit that bound (BALANCER_BINDS*) */
    bool overcommitted;             /* uncontrollable draw alone exceeds a budget */
    size_t n_active;                /* connectors with a car */
    size_t n_paused;                /* PAUSED + PAUSED_BY_LIMIT */
    size_t n_lent;
    size_t invalid_index;           /* on -EINVAL: the bad connector, else SIZE_MAX */
};

/* Caller-owned arrays for the result, sized like the input's. */
struct balancer_output {
    struct balancer_allocation *connectors;   /* n_connectors, input order */
    struct balancer_charger_sum *chargers;    /* n_chargers */
    struct balancer_summary summary;
};

/* Sets every optional field of a connector to NAN and the rest to defaults
 * (state AVAILABLE, 3 phases, min 6 A, max 0 A: set the max). */
void balancer_connector_init(struct balancer_connector *c);

/* Bytes of scratch memory balancer_allocate() needs for this many connectors
 * and chargers (0 when both are 0); SIZE_MAX if that would overflow. */
size_t balancer_scratch_size(size_t n_connectors, size_t n_chargers);

/* Allocates in->budget among the connectors. scratch must be at least
 * balancer_scratch_size() bytes, aligned like malloc's. Returns 0, -EINVAL for
 * an invalid input (summary.invalid_index names a bad connector) or -ENOBUFS
 * if scratch is too small. O(n log n); deterministic. */
int balancer_allocate(const struct balancer_input *in, struct balancer_output *out,
                      void *scratch, size_t scratch_size);

/* A stable lower-case name for a status, for logs and metrics. */
const char *balancer_status_name(enum balancer_status status);

/* A stable lower-case name for a binding, for logs and metrics. */
const char *balancer_binding_name(enum balancer_binding binding);

/* A stable lower-case name for a limit source, for logs and metrics. */
const char *balancer_source_name(enum balancer_source source);

/* Text for an error code returned by this component. */
const char *balancer_strerror(int err);

#endif

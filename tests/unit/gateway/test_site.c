/* Unit tests of the site model (gateway/site.c): what the proxy observes
 * lands on the right connector, and the control loop is woken at once only
 * for what may make the site draw more (a car arriving, the EV's needs, a
 * rising draw); MeterValues that move nothing much, and cars leaving, wait
 * for a coalesced run. */
#include <math.h>

#include "test.h"

#include "site.h"

static const char CONFIG[] =
    "{\"site\":{\"id\":\"S1\",\"grid_limit_kw\":100},"
    "\"upstream\":{\"url\":\"ws://127.0.0.1:9100/ocpp\"},"
    "\"chargers\":[{\"id\":\"CP01\",\"connectors\":2,\"phases\":3}]}";

static int urgent_runs, later_runs;

static void count_change(void *ctx, bool urgent)
{
    (void)ctx;
    if (urgent)
        urgent_runs++;
    else
        later_runs++;
}

struct fixture {
    uv_loop_t loop;
    struct config cfg;
    struct site site;
    struct proxy_observer obs;
};

static int fixture_open(struct fixture *f)
{
    char err[CONFIG_ERR_MAX];
    if (uv_loop_init(&f->loop) || config_parse(CONFIG, sizeof(CONFIG) - 1, &f->cfg, err) ||
        site_init(&f->site, &f->loop, &f->cfg)) {
        fprintf(stderr, "fixture: %s\n", err);
        return -1;
    }
    f->site.changed = count_change;
    site_observer(&f->site, &f->obs);
    urgent_runs = later_runs = 0;
    return 0;
}

static void fixture_close(struct fixture *f)
{
    site_free(&f->site);
    config_free(&f->cfg);
    uv_loop_close(&f->loop);
}

static struct ocpp_observation obs_of(enum ocpp_obs_kind kind, int connector, double amps)
{
    struct ocpp_observation o = { .kind = kind, .connector = connector, .status = OCPP_ST_UNKNOWN,
                                  .power_w = NAN, .energy_wh = NAN, .ev_min_a = NAN,
                                  .ev_max_a = NAN, .ev_energy_wh = NAN };
    for (int p = 0; p < 3; p++)
        o.current_a[p] = amps;
    return o;
}

static void observe(struct fixture *f, struct ocpp_observation o)
{
    f->obs.observed(f->obs.ctx, "CP01", &o);
}

TEST(arrivals_and_rising_draws_are_urgent_the_rest_waits)
{
    struct fixture f;
    ASSERT_EQ(fixture_open(&f), 0);
    ASSERT_EQ(f.site.n_connectors, 2);
    ASSERT_EQ(f.site.chargers[0].n_conn, 2);
    struct ocpp_observation st = obs_of(OCPP_OBS_STATUS, 2, NAN);
    st.status = OCPP_ST_CHARGING;
    observe(&f, st);
    ASSERT_EQ(urgent_runs, 1);
    ASSERT_EQ(f.site.chargers[0].conn[1].state, BALANCER_CHARGING);
    observe(&f, st);                               /* the same status again */
    ASSERT_EQ(urgent_runs, 1);
    ASSERT_EQ(later_runs, 1);

    observe(&f, obs_of(OCPP_OBS_METER, 2, 16.0));  /* first draw: a rise from nothing */
    ASSERT_EQ(urgent_runs, 2);
    observe(&f, obs_of(OCPP_OBS_METER, 2, 16.5));  /* within rounding */
    observe(&f, obs_of(OCPP_OBS_METER, 2, 10.0));  /* falling: capacity freed, not urgent */
    ASSERT_EQ(urgent_runs, 2);
    ASSERT_EQ(later_runs, 3);
    ASSERT_DBL_NEAR(f.site.chargers[0].conn[1].measured_a[0], 10.0, 1e-9);
    observe(&f, obs_of(OCPP_OBS_METER, 2, 11.5));  /* rising past rounding */
    ASSERT_EQ(urgent_runs, 3);

    struct ocpp_observation needs = obs_of(OCPP_OBS_EV_NEEDS, 2, NAN);
    needs.ev_min_a = 6;
    needs.ev_max_a = 32;
    observe(&f, needs);
    ASSERT_EQ(urgent_runs, 4);
    observe(&f, needs);
    ASSERT_EQ(urgent_runs, 4);

    st.status = OCPP_ST_SUSPENDED_EV;              /* pausing frees current */
    observe(&f, st);
    st.status = OCPP_ST_CHARGING;                  /* and resuming draws within its limit */
    observe(&f, st);
    ASSERT_EQ(urgent_runs, 4);
    struct ocpp_observation stop = obs_of(OCPP_OBS_TX_STOP, 2, NAN);
    observe(&f, stop);                             /* leaving frees current */
    ASSERT_EQ(urgent_runs, 4);
    ASSERT_EQ(later_runs, 7);
    ASSERT_EQ(f.site.chargers[0].conn[1].state, BALANCER_FINISHING);
    ASSERT(isnan(f.site.chargers[0].conn[1].measured_a[0]));
    ASSERT_EQ(f.site.chargers[0].conn[0].state, BALANCER_AVAILABLE);
    st.status = OCPP_ST_PREPARING;                 /* the next car */
    observe(&f, st);
    ASSERT_EQ(urgent_runs, 5);

    struct ocpp_observation fault = obs_of(OCPP_OBS_STATUS, 0, NAN);
    fault.status = OCPP_ST_FAULTED;                /* the whole charger */
    observe(&f, fault);
    ASSERT_EQ(urgent_runs, 5);
    ASSERT_EQ(f.site.chargers[0].conn[0].state, BALANCER_FAULTED);
    ASSERT_EQ(f.site.chargers[0].conn[1].state, BALANCER_FAULTED);
    fixture_close(&f);
}

TEST(transaction_id_finds_the_connector_and_unknown_ones_are_ignored)
{
    struct fixture f;
    ASSERT_EQ(fixture_open(&f), 0);
    struct ocpp_observation start = obs_of(OCPP_OBS_TX_START, 1, NAN);
    snprintf(start.transaction_id, sizeof(start.transaction_id), "tx-7");
    observe(&f, start);
    ASSERT_EQ(urgent_runs, 1);
    ASSERT_EQ(f.site.chargers[0].conn[0].state, BALANCER_CHARGING);
    struct ocpp_observation update = obs_of(OCPP_OBS_TX_UPDATE, -1, 20.0);
    snprintf(update.transaction_id, sizeof(update.transaction_id), "tx-7");
    observe(&f, update);
    ASSERT_DBL_NEAR(f.site.chargers[0].conn[0].measured_a[2], 20.0, 1e-9);
    ASSERT_EQ(urgent_runs, 2);
    snprintf(update.transaction_id, sizeof(update.transaction_id), "tx-8");
    observe(&f, update);                           /* no such transaction */
    observe(&f, obs_of(OCPP_OBS_METER, 3, 5.0));   /* no such connector */
    f.obs.observed(f.obs.ctx, "CP99", &update);    /* no such charger */
    ASSERT_EQ(urgent_runs + later_runs, 2);
    fixture_close(&f);
}

TEST(settling_waits_for_the_coalesced_run)
{
    struct fixture f;
    ASSERT_EQ(fixture_open(&f), 0);
    f.obs.settled(f.obs.ctx, "CP01");              /* nothing was unsettled */
    ASSERT_EQ(urgent_runs + later_runs, 0);
    f.site.chargers[0].unsettled = true;
    f.obs.settled(f.obs.ctx, "CP01");
    ASSERT_EQ(later_runs, 1);
    ASSERT_EQ(urgent_runs, 0);
    ASSERT(!f.site.chargers[0].unsettled);
    fixture_close(&f);
}

int main(void)
{
    RUN(arrivals_and_rising_draws_are_urgent_the_rest_waits);
    RUN(transaction_id_finds_the_connector_and_unknown_ones_are_ignored);
    RUN(settling_waits_for_the_coalesced_run);
    return test_summary();
}

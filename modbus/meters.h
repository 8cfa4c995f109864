/* Polling the configured Modbus meters (cfg->meters) off the loop thread.
 *
 * One worker thread per Modbus TCP meter and one per RTU serial line (meters
 * with the same rtu.device share it, one request at a time). Each worker reads
 * its meters every poll_ms, decodes and checks the values (decode.h), and
 * posts one immutable struct meter_sample per reading to a small locked
 * mailbox; the loop thread is woken with uv_async_send and calls on_sample for
 * every sample, in order per meter. A failed reading (connect refused, timeout,
 * Modbus exception, rejected values) is a sample with ok false and the reason;
 * the worker logs each change of a meter's state once ("warn modbus: meter
 * failing name=grid reason=...", "info modbus: meter ok name=grid") and
 * retries with exponential backoff from poll_ms up to 30 s. Workers touch
 * nothing but their own devices and the mailbox.
 *
 * Staleness is the caller's: a meter whose last ok sample is older than
 * site.meter_stale_s is stale, whether its samples fail or stop coming.
 *
 * Not called modbus.h: that would shadow libmodbus's <modbus.h>.
 */
#ifndef SITEGATE_MODBUS_METERS_H
#define SITEGATE_MODBUS_METERS_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "config.h"

#define METER_ERROR_MAX 96

/* One reading of one meter. Values are in the units of config.h's
 * quantities and NAN when the meter's map lacks them or the reading failed. */
struct meter_sample {
    int meter;                   /* index in cfg->meters */
    enum config_meter_role role;
    uint64_t taken_ms;           /* uv_hrtime() / 1e6 when the reading started */
    bool ok;
    char error[METER_ERROR_MAX]; /* why not ok; "" when ok */
    double current_a[3];
    double power_w;              /* total active power, import positive */
    double power_phase_w[3];
    double energy_wh;
    double voltage_v[3];
    double oil_temp_c;
    double winding_temp_c;
    double load_kva;
};

struct meters;

/* Starts polling every meter of cfg; call on the loop thread. The workers copy
 * what they need, so cfg may be freed once this returns. on_sample runs on the
 * loop thread; s is valid during the call only. With no meters configured,
 * *out is NULL and nothing runs. Returns 0 or a negative errno. */
int meters_start(struct meters **out, uv_loop_t *loop, const struct config *cfg,
                 void (*on_sample)(void *ctx, const struct meter_sample *s), void *ctx);

/* Stops and joins the workers (at once for TCP; a serial read in progress
 * finishes first, at most its timeout_ms) and closes the wake-up handle; call
 * on the loop thread, also from on_sample. After it returns on_sample is never
 * called again. m is freed by the handle's close callback, so the loop must
 * run once more (uv_run) before uv_loop_close. NULL is a no-op. */
void meters_stop(struct meters *m);

/* Samples dropped because the loop did not drain a meter's queue in time
 * (only the newest few of each meter are kept). Loop thread. */
uint64_t meters_dropped(const struct meters *m);

#endif

/* Prints what the OCPP payload writers (proxy/ocpp_profile.c, ocpp_caps.c)
 * produce for many inputs, one JSON line each:
 *
 *   {"version":"1.6","schema":"SetChargingProfile.req","payload":{...}}
 *
 * check_writers_schema.py validates every payload against the official OCPP
 * JSON schema of its version. Inputs the writers refuse (-EINVAL: a purpose
 * the version does not have, a charger-wide purpose on a connector) are
 * counted on stderr, not printed. Exit status 1 if a writer fails otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ocpp_msg.h"

static int dump__failed;

static void dump__line(enum ocpp_version v, const char *schema, int n, const char *buf)
{
    if (n <= 0) {
        fprintf(stderr, "dump_ocpp_writers: %s (%s) failed: %d\n", schema,
                v == OCPP_16 ? "1.6" : "2.0.1", n);
        dump__failed = 1;
        return;
    }
    printf("{\"version\":\"%s\",\"schema\":\"%s\",\"payload\":%s}\n",
           v == OCPP_16 ? "1.6" : "2.0.1", schema, buf);
}

int main(void)
{
    static const double limits[] = { 0, 0.3, 6, 6.1, 7.35, 11.1, 16, 32.99, 63.95, 7360.77,
                                     11000, 22000.05, 9999999.99 };
    static const int connectors[] = { 0, 1, 3 };
    static const int phases[] = { 0, 1, 3 };
    static const char *const statuses_set[] = { "Accepted", "Rejected" };
    static const char *const statuses_clear[] = { "Accepted", "Unknown" };
    static const int clear_ids[] = { 0, 1, 9001, 2147483647 };
    enum ocpp_version versions[] = { OCPP_16, OCPP_201 };
    char buf[2048];
    int refused = 0, printed = 0;

    for (size_t vi = 0; vi < 2; vi++) {
        enum ocpp_version v = versions[vi];

        for (int purpose = OCPP_PURPOSE_CHARGER_MAX; purpose <= OCPP_PURPOSE_EXTERNAL; purpose++)
        for (size_t c = 0; c < sizeof connectors / sizeof connectors[0]; c++)
        for (int unit = 0; unit < 2; unit++)
        for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++)
        for (size_t ph = 0; ph < sizeof phases / sizeof phases[0]; ph++)
        for (int opt = 0; opt < 8; opt++) {
            struct ocpp_limit_profile p;
            int n;

            memset(&p, 0, sizeof p);
            p.connector = connectors[c];
            p.profile_id = 1000 + (int)l;
            p.stack_level = opt;
            p.purpose = (enum ocpp_purpose)purpose;
            p.unit = unit ? 'W' : 'A';
            p.limit = limits[l];
            if (p.unit == 'A' && p.limit > 10000)
                p.limit = 10000;
            p.phases = phases[ph];
            p.start = 1714557600 + (time_t)l * 3607; /* 2024-05-01T10:00:00Z + */
            p.valid_to = opt & 1 ? p.start + 600 : 0;
            p.duration_s = opt & 2 ? 900 : 0;
            if (opt & 4 && purpose == OCPP_PURPOSE_TX)
                strcpy(p.transaction_id, v == OCPP_16 ? "-2147483648" : "c0ffee-\"tx\"\\1");
            n = ocpp_write_set_profile(v, &p, buf, sizeof buf);
            if (n == -EINVAL) {
                refused++;
                continue;
            }
            dump__line(v, "SetChargingProfile.req", n, buf);
            printed++;
        }
        for (size_t i = 0; i < sizeof clear_ids / sizeof clear_ids[0]; i++) {
            dump__line(v, "ClearChargingProfile.req",
                       ocpp_write_clear_profile(v, clear_ids[i], buf, sizeof buf), buf);
            printed++;
        }
        for (size_t i = 0; i < 2; i++) {
            dump__line(v, "SetChargingProfile.conf",
                       ocpp_write_status_reply(statuses_set[i], buf, sizeof buf), buf);
            dump__line(v, "ClearChargingProfile.conf",
                       ocpp_write_status_reply(statuses_clear[i], buf, sizeof buf), buf);
            printed += 2;
        }
        {
            const char *action = NULL;
            char schema[64];
            int n = ocpp_write_caps_query(v, &action, buf, sizeof buf);

            snprintf(schema, sizeof schema, "%s.req", action ? action : "?");
            dump__line(v, schema, n, buf);
            printed++;
        }
    }
    fprintf(stderr, "dump_ocpp_writers: %d payloads, %d inputs refused as intended\n", printed,
            refused);
    return dump__failed;
}

/* libFuzzer target: config_parse on arbitrary bytes.
 *
 * Besides "no crash, no leak" (ASan's leak check runs at exit), it checks the
 * contract: a failure leaves the struct zeroed with an error line, a success
 * gives a config whose every charger config_find_charger finds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct config zero;
    struct config cfg;
    char err[CONFIG_ERR_MAX];
    /* A copy of exactly size bytes, so ASan catches a read past the end. */
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);

    int rc = config_parse(buf, size, &cfg, err);
    if (rc == 0) {
        if (err[0] != '\0')
            abort();
        for (size_t i = 0; i < cfg.n_chargers; i++) {
            if (config_find_charger(&cfg, cfg.chargers[i].id) != &cfg.chargers[i])
                abort();
        }
        if (cfg.n_chargers && config_find_charger(&cfg, "no such charger id"))
            abort();
        config_free(&cfg);
    } else {
        if (rc > 0 || err[0] == '\0' || memchr(err, '\0', CONFIG_ERR_MAX) == NULL)
            abort();
        if (memcmp(&cfg, &zero, sizeof(cfg)) != 0)
            abort();
    }
    free(buf);
    return 0;
}

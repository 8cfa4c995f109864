#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static enum log_level log__max = LOG_LVL_INFO;

static const char *const log__names[] = { "error", "warn", "info", "debug" };
static const char *const log__priorities[] = { "<3>", "<4>", "<6>", "<7>" };
static bool log__journal;

void log_detect_journal(void)
{
    /* "<device>:<inode>" of the journal's stream: only when stderr is still
     * that stream (not redirected by whoever started us). */
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    log__journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
                   (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_set_level(enum log_level level)
{
    log__max = level;
}

bool log_level_parse(const char *name, enum log_level *out)
{
    for (unsigned i = 0; i < sizeof(log__names) / sizeof(log__names[0]); i++) {
        if (strcmp(name, log__names[i]) == 0) {
            *out = (enum log_level)i;
            return true;
        }
    }
    return false;
}

bool log_enabled(enum log_level level)
{
    return level <= log__max;
}

void log_msg(enum log_level level, const char *component, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    /* Build the line first so that concurrent writers (paho, modbus workers
     * logging their own failures) never interleave within a line. */
    char line[1024];
    int n = snprintf(line, sizeof(line), "%s%s %s: ", log__journal ? log__priorities[level] : "",
                     log__names[level], component);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2)
        len = sizeof(line) - 2;
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
}

/*
 * log.c: structured logging to stderr. One fprintf per record so lines from
 * different threads do not interleave mid-line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sluice/log.h"

static sl_log_level g_level = SL_LOG_INFO;
static sl_log_format g_format = SL_LOG_TEXT;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void sl_log_setup(sl_log_level level, sl_log_format fmt)
{
    g_level = level;
    g_format = fmt;
}

int sl_log_parse_level(const char *s, sl_log_level *out)
{
    static const struct {
        const char *n;
        sl_log_level l;
    } m[] = {{"debug", SL_LOG_DEBUG}, {"info", SL_LOG_INFO},
             {"warn", SL_LOG_WARN},   {"warning", SL_LOG_WARN},
             {"error", SL_LOG_ERROR}, {"off", SL_LOG_OFF}};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (strcasecmp(s, m[i].n) == 0) {
            *out = m[i].l;
            return 0;
        }
    return -1;
}

int sl_log_parse_format(const char *s, sl_log_format *out)
{
    if (strcasecmp(s, "text") == 0)
        *out = SL_LOG_TEXT;
    else if (strcasecmp(s, "json") == 0)
        *out = SL_LOG_JSON;
    else
        return -1;
    return 0;
}

int sl_log_enabled(sl_log_level level)
{
    return level >= g_level && level < SL_LOG_OFF;
}

static void timestamp(char *buf, size_t n)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t k = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + k, n - k, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* Append s as a JSON string body (without quotes) to buf. */
static size_t json_escape(char *buf, size_t pos, size_t cap, const char *s)
{
    for (; *s && pos + 7 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') {
            buf[pos++] = '\\';
            buf[pos++] = (char)ch;
        } else if (ch == '\n') {
            buf[pos++] = '\\';
            buf[pos++] = 'n';
        } else if (ch < 0x20) {
            pos += (size_t)snprintf(buf + pos, cap - pos, "\\u%04x", ch);
        } else {
            buf[pos++] = (char)ch;
        }
    }
    return pos;
}

static size_t put(char *buf, size_t pos, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (pos + 1 >= cap)
        return pos;
    if (n > cap - pos - 1)
        n = cap - pos - 1;
    memcpy(buf + pos, s, n);
    return pos + n;
}

static void emit(sl_log_level level, const char *component, const char *msg,
                 va_list *kv)
{
    char line[8192], ts[40];
    size_t pos = 0, cap = sizeof line - 2;
    timestamp(ts, sizeof ts);
    const char *lvl = level_names[level];
    if (g_format == SL_LOG_JSON) {
        /* Elastic Common Schema field names, so the lines ship to ELK as
         * they are. */
        pos = put(line, pos, cap, "{\"@timestamp\":\"");
        pos = put(line, pos, cap, ts);
        pos = put(line, pos, cap, "\",\"log.level\":\"");
        pos = put(line, pos, cap, lvl);
        pos = put(line, pos, cap, "\",\"log.logger\":\"");
        pos = json_escape(line, pos, cap, component);
        pos = put(line, pos, cap, "\",\"message\":\"");
        pos = json_escape(line, pos, cap, msg);
        pos = put(line, pos, cap, "\",\"service.name\":\"sluice\"");
        if (kv) {
            const char *k;
            while ((k = va_arg(*kv, const char *)) != NULL) {
                const char *v = va_arg(*kv, const char *);
                pos = put(line, pos, cap, ",\"");
                pos = json_escape(line, pos, cap, k);
                pos = put(line, pos, cap, "\":\"");
                pos = json_escape(line, pos, cap, v ? v : "");
                pos = put(line, pos, cap, "\"");
            }
        }
        pos = put(line, pos, cap, "}");
    } else {
        char head[96];
        snprintf(head, sizeof head, "%s %-5s %s: ", ts, lvl, component);
        pos = put(line, pos, cap, head);
        pos = put(line, pos, cap, msg);
        if (kv) {
            const char *k;
            while ((k = va_arg(*kv, const char *)) != NULL) {
                const char *v = va_arg(*kv, const char *);
                pos = put(line, pos, cap, " ");
                pos = put(line, pos, cap, k);
                pos = put(line, pos, cap, "=");
                pos = put(line, pos, cap, v ? v : "");
            }
        }
    }
    line[pos++] = '\n';
    line[pos] = '\0';
    fputs(line, stderr);
}

void sl_log(sl_log_level level, const char *component, const char *fmt, ...)
{
    if (!sl_log_enabled(level))
        return;
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    emit(level, component, msg, NULL);
}

void sl_log_kv(sl_log_level level, const char *component, const char *msg, ...)
{
    if (!sl_log_enabled(level))
        return;
    va_list ap;
    va_start(ap, msg);
    emit(level, component, msg, &ap);
    va_end(ap);
}

/*
 * dev_broker.c: `sluice broker --dev`, an in-process single-node
 * Kafka-protocol broker: librdkafka's mock cluster (stream.h).
 *
 * librdkafka 2.0's mock cluster binds its broker to 127.0.0.1 on a random
 * port and has no call to choose it. When a fixed port is asked for, a
 * forwarder thread listens on 127.0.0.1:port and relays every accepted
 * connection byte for byte to the mock broker. A client that bootstraps
 * through the fixed port learns the broker's real (random) address from
 * the metadata and connects there directly; both are on loopback.
 *
 * The forwarder is one thread around poll(): each connection pair has one
 * bounded buffer per direction (RELAY_BUF), a side is read only while its
 * buffer has room, so a slow reader stalls its writer instead of growing
 * memory. A pipe wakes the thread to stop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "sluice/log.h"
#include "sluice/mem.h"
#include "sluice/stream.h"

#define RELAY_BUF (64 * 1024)
#define MAX_PAIRS 256

typedef struct relay {
    int fd[2];           /* 0 client, 1 broker; -1 when free */
    char *buf[2];        /* buf[d]: bytes read from fd[d], to write to fd[!d] */
    size_t len[2], off[2];
} relay;

struct sl_dev_broker {
    rd_kafka_t *host;
    rd_kafka_mock_cluster_t *mc;
    char broker[64];    /* the mock broker's host:port */
    char bootstrap[64];
    int partitions;
    int lfd;
    int wake[2];
    pthread_t thr;
    int running;
    relay pairs[MAX_PAIRS];
};

static void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    if (level <= 4)
        sl_log(SL_LOG_WARN, "broker", "%s: %s", fac, buf);
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void relay_close(relay *p)
{
    for (int d = 0; d < 2; d++) {
        if (p->fd[d] >= 0)
            close(p->fd[d]);
        p->fd[d] = -1;
        p->len[d] = p->off[d] = 0;
    }
}

static int connect_broker(const char *hostport)
{
    char host[64];
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon - hostport >= (long)sizeof host)
        return -1;
    snprintf(host, sizeof host, "%.*s", (int)(colon - hostport), hostport);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void accept_one(sl_dev_broker *b)
{
    int c = accept(b->lfd, NULL, NULL);
    if (c < 0)
        return;
    relay *p = NULL;
    for (int i = 0; i < MAX_PAIRS && !p; i++)
        if (b->pairs[i].fd[0] < 0)
            p = &b->pairs[i];
    int u = p ? connect_broker(b->broker) : -1;
    if (!p || u < 0 || set_nonblock(c) != 0 || set_nonblock(u) != 0) {
        sl_log(SL_LOG_WARN, "broker", "dropping a connection (%s)",
               !p ? "too many connections" : "cannot reach the mock broker");
        close(c);
        if (u >= 0)
            close(u);
        return;
    }
    int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    p->fd[0] = c;
    p->fd[1] = u;
}

/* Move bytes for one pair after poll; returns -1 when it is finished. */
static int pump(relay *p, const short *rev)
{
    for (int d = 0; d < 2; d++) {
        if ((rev[d] & (POLLIN | POLLHUP | POLLERR)) && p->len[d] < RELAY_BUF) {
            ssize_t n = read(p->fd[d], p->buf[d] + p->len[d], RELAY_BUF - p->len[d]);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                return -1;
            if (n > 0)
                p->len[d] += (size_t)n;
        }
    }
    for (int d = 0; d < 2; d++) {
        while (p->off[d] < p->len[d]) {
            ssize_t n = write(p->fd[!d], p->buf[d] + p->off[d], p->len[d] - p->off[d]);
            if (n < 0 && (errno == EAGAIN || errno == EINTR))
                break;
            if (n <= 0)
                return -1;
            p->off[d] += (size_t)n;
        }
        if (p->off[d] == p->len[d])
            p->off[d] = p->len[d] = 0;
    }
    return 0;
}

static void *forward_main(void *arg)
{
    sl_dev_broker *b = arg;
    struct pollfd pf[2 + 2 * MAX_PAIRS];
    int who[2 + 2 * MAX_PAIRS];
    for (;;) {
        int n = 0;
        pf[n++] = (struct pollfd){.fd = b->wake[0], .events = POLLIN};
        pf[n++] = (struct pollfd){.fd = b->lfd, .events = POLLIN};
        for (int i = 0; i < MAX_PAIRS; i++) {
            relay *p = &b->pairs[i];
            if (p->fd[0] < 0)
                continue;
            for (int d = 0; d < 2; d++) {
                short ev = 0;
                if (p->len[d] < RELAY_BUF)
                    ev |= POLLIN;
                if (p->len[!d] > p->off[!d])
                    ev |= POLLOUT;
                who[n] = i;
                pf[n++] = (struct pollfd){.fd = p->fd[d], .events = ev};
            }
        }
        if (poll(pf, (nfds_t)n, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pf[0].revents)
            break;
        if (pf[1].revents & POLLIN)
            accept_one(b);
        for (int k = 2; k + 1 < n; k += 2) {
            short rev[2] = {pf[k].revents, pf[k + 1].revents};
            if ((rev[0] | rev[1]) && pump(&b->pairs[who[k]], rev) != 0)
                relay_close(&b->pairs[who[k]]);
        }
    }
    return NULL;
}

static sl_rc listen_on(sl_dev_broker *b, int port, sl_err *err)
{
    struct sockaddr_in a;
    int one = 1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    b->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (b->lfd < 0)
        return sl_err_set(err, SL_EIO, "dev broker: socket: %s", strerror(errno));
    setsockopt(b->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(b->lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(b->lfd, 64) != 0 ||
        set_nonblock(b->lfd) != 0)
        return sl_err_set(err, SL_EIO, "dev broker: cannot listen on 127.0.0.1:%d: %s", port,
                          strerror(errno));
    if (pipe(b->wake) != 0)
        return sl_err_set(err, SL_EIO, "dev broker: pipe: %s", strerror(errno));
    for (int i = 0; i < MAX_PAIRS; i++) {
        b->pairs[i].fd[0] = b->pairs[i].fd[1] = -1;
        for (int d = 0; d < 2; d++)
            if (!(b->pairs[i].buf[d] = sl_malloc(RELAY_BUF)))
                return sl_err_set(err, SL_ENOMEM, "out of memory");
    }
    if (pthread_create(&b->thr, NULL, forward_main, b) != 0)
        return sl_err_set(err, SL_EIO, "dev broker: cannot start the forwarder thread");
    b->running = 1;
    snprintf(b->bootstrap, sizeof b->bootstrap, "127.0.0.1:%d", port);
    return SL_OK;
}

sl_rc sl_dev_broker_start(int port, int partitions, const char *const *topics,
                          int ntopics, sl_dev_broker **out, sl_err *err)
{
    char es[256];
    sl_rc rc = SL_OK;
    *out = NULL;
    if (port < 0 || port > 65535)
        return sl_err_set(err, SL_EINVAL, "dev broker: port %d is not between 0 and 65535", port);
    if (partitions < 0 || partitions > 10000)
        return sl_err_set(err, SL_EINVAL, "dev broker: partitions must be between 1 and 10000");
    sl_dev_broker *b = sl_calloc(1, sizeof *b);
    if (!b)
        return sl_err_set(err, SL_ENOMEM, "out of memory");
    b->lfd = b->wake[0] = b->wake[1] = -1;
    b->partitions = partitions > 0 ? partitions : 4;
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(c, quiet_log);
    /* the host handle only carries the mock cluster; it connects nowhere */
    if (!(b->host = rd_kafka_new(RD_KAFKA_PRODUCER, c, es, sizeof es))) {
        rd_kafka_conf_destroy(c);
        rc = sl_err_set(err, SL_EIO, "dev broker: %s", es);
        goto out;
    }
    if (!(b->mc = rd_kafka_mock_cluster_new(b->host, 1))) {
        rc = sl_err_set(err, SL_EIO, "dev broker: cannot start the mock cluster");
        goto out;
    }
    snprintf(b->broker, sizeof b->broker, "%s", rd_kafka_mock_cluster_bootstraps(b->mc));
    snprintf(b->bootstrap, sizeof b->bootstrap, "%s", b->broker);
    for (int i = 0; i < ntopics && rc == SL_OK; i++)
        rc = sl_dev_broker_create_topic(b, topics[i], b->partitions, err);
    if (rc == SL_OK && port > 0)
        rc = listen_on(b, port, err);
out:
    if (rc != SL_OK)
        sl_dev_broker_stop(b);
    else
        *out = b;
    return rc;
}

const char *sl_dev_broker_bootstrap(const sl_dev_broker *b)
{
    return b->bootstrap;
}

sl_rc sl_dev_broker_create_topic(sl_dev_broker *b, const char *topic,
                                 int partitions, sl_err *err)
{
    rd_kafka_resp_err_t e =
        rd_kafka_mock_topic_create(b->mc, topic, partitions > 0 ? partitions : b->partitions, 1);
    if (e)
        return sl_err_set(err, SL_EIO, "dev broker: topic '%s': %s", topic, rd_kafka_err2str(e));
    return SL_OK;
}

void sl_dev_broker_stop(sl_dev_broker *b)
{
    if (!b)
        return;
    if (b->running) {
        ssize_t w = write(b->wake[1], "x", 1);
        (void)w;
        pthread_join(b->thr, NULL);
    }
    for (int i = 0; i < MAX_PAIRS; i++) {
        if (b->running)
            relay_close(&b->pairs[i]);
        sl_free(b->pairs[i].buf[0]);
        sl_free(b->pairs[i].buf[1]);
    }
    if (b->lfd >= 0)
        close(b->lfd);
    for (int i = 0; i < 2; i++)
        if (b->wake[i] >= 0)
            close(b->wake[i]);
    if (b->mc)
        rd_kafka_mock_cluster_destroy(b->mc);
    if (b->host)
        rd_kafka_destroy(b->host);
    sl_free(b);
}

/*
 * kafka_group.c: the consumer-group side of the `kafka` source
 * (kafka_source.c has the plugin, the batches and the decoding): the
 * partitions assigned to this worker and the rebalances that move them,
 * the offsets emitted and committed per partition and their commits,
 * backpressure (pause/resume), the rewind to the last commit, and the
 * stats (records, commits, lag).
 *
 * Offsets. Invariants, per partition currently assigned:
 *   committed <= emitted, both "next offset to read" values (-1: none);
 *   emitted is past every message of every batch next() has returned,
 *   including the messages that went to the dead-letter destination;
 *   committed is what the group coordinator last accepted from us.
 * checkpoint() makes the dead letters durable, then commits `emitted` for
 * every partition where it is ahead of `committed`. Auto-commit and
 * offset store are off, so nothing else ever commits. A revoked partition
 * forgets its uncommitted progress: its new owner resumes from the last
 * commit (duplicates, never loss).
 *
 * Commits never block the runner for long: they go through a private
 * queue (rd_kafka_commit_queue), at most one in flight, waited for in
 * 100 ms slices that watch the stop request (see "offset commits").
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "ingestion/kafka_internal.h"
#include "ingestion/kafka_source_internal.h"
#include "sluice/kafka.h"
#include "sluice/log.h"
#include "sluice/mem.h"

/* ---- partitions ---- */

kpart *sl_ksrc_part_find(ksrc *s, const char *topic, int32_t p, int create)
{
    for (int i = 0; i < s->nparts; i++)
        if (s->parts[i].partition == p && strcmp(s->parts[i].topic, topic) == 0)
            return &s->parts[i];
    if (!create || sl_grow((void **)&s->parts, &s->parts_cap, (size_t)s->nparts + 1,
                           sizeof *s->parts) != 0)
        return NULL;
    kpart *k = &s->parts[s->nparts];
    memset(k, 0, sizeof *k);
    if (!(k->topic = sl_strdup(topic)))
        return NULL;
    k->partition = p;
    k->emitted = k->committed = k->origin = -1;
    s->nparts++;
    return k;
}

/* Partitions move in and out; uncommitted progress of a revoked one is
 * dropped on purpose (its records will be read again by the new owner). */
/* start_time: newly assigned partitions that the group never committed
 * start at the first offset at or after the time (the end when there is
 * none); the others keep their commits. Runs in the rebalance callback,
 * before the assignment, as a Java consumer seeks in
 * onPartitionsAssigned. */
static void start_at_time(ksrc *s, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts)
{
    rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(parts);
    rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(parts->cnt);
    rd_kafka_resp_err_t e = c && t ? rd_kafka_committed(rk, c, 30000) : RD_KAFKA_RESP_ERR__FAIL;
    for (int i = 0; c && t && !e && i < c->cnt; i++)
        if (c->elems[i].offset < 0)
            rd_kafka_topic_partition_list_add(t, c->elems[i].topic, c->elems[i].partition)->offset =
                s->start_ms;
    if (!e && t->cnt > 0)
        e = rd_kafka_offsets_for_times(rk, t, 30000);
    for (int i = 0; !e && i < t->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &t->elems[i];
        rd_kafka_topic_partition_t *dst =
            rd_kafka_topic_partition_list_find(parts, tp->topic, tp->partition);
        if (tp->err)
            e = tp->err;
        else if (dst)
            dst->offset = tp->offset >= 0 ? tp->offset : RD_KAFKA_OFFSET_END;
    }
    if (e)
        set_fatal(s, SL_EIO, "start_time", rd_kafka_err2str(e));
    if (c)
        rd_kafka_topic_partition_list_destroy(c);
    if (t)
        rd_kafka_topic_partition_list_destroy(t);
}

/* Partitions leave the assignment unpaused: librdkafka keeps a toppar's
 * pause flag across a revoke, and resuming it after it is assigned again
 * races with the assignment's fetch start (the start is dropped as
 * outdated and the partition never fetches: librdkafka #2190, #5591). */
static void resume_revoked(ksrc *s, rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *parts)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(parts->cnt);
    for (int i = 0; l && i < parts->cnt; i++) {
        kpart *k = sl_ksrc_part_find(s, parts->elems[i].topic, parts->elems[i].partition, 0);
        if (k && k->paused) {
            rd_kafka_topic_partition_list_add(l, k->topic, k->partition);
            k->paused = 0;
        }
    }
    if (l && l->cnt > 0)
        rd_kafka_resume_partitions(rk, l);
    if (l)
        rd_kafka_topic_partition_list_destroy(l);
}

void sl_ksrc_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t e,
                          rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    ksrc *s = opaque;
    int coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    int assign = e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
    int64_t pending = 0;
    if (!assign)
        resume_revoked(s, rk, parts);
    for (int i = 0; i < parts->cnt; i++) {
        kpart *k = sl_ksrc_part_find(s, parts->elems[i].topic, parts->elems[i].partition, 1);
        if (!k) {
            set_fatal(s, SL_ENOMEM, "rebalance", "out of memory");
            continue;
        }
        if (!assign && k->emitted > k->committed)
            pending += k->emitted - (k->committed < 0 ? 0 : k->committed);
        k->assigned = assign;
        k->emitted = k->committed = k->origin = -1;
    }
    if (!assign)
        s->revoked = 1;
    s->epoch++;
    s->last_rkt = NULL; /* origins were reset */
    if (e != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS && e != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
        sl_log(SL_LOG_ERROR, "kafka", "rebalance error: %s", rd_kafka_err2str(e));
    sl_log(SL_LOG_INFO, "kafka", "group '%s': %s %d partition(s)%s", s->c->group,
           assign ? "assigned" : rd_kafka_assignment_lost(rk) ? "lost" : "revoked",
           parts->cnt, pending > 0 ? " (uncommitted progress is read again by the new owner)" : "");
    rd_kafka_error_t *ce = NULL;
    rd_kafka_resp_err_t re = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (assign && s->start_ms >= 0 && parts->cnt > 0)
        start_at_time(s, rk, parts);
    if (coop)
        ce = assign ? rd_kafka_incremental_assign(rk, parts) : rd_kafka_incremental_unassign(rk, parts);
    else
        re = rd_kafka_assign(rk, assign ? parts : NULL);
    if (ce) {
        set_fatal(s, SL_EIO, "rebalance", rd_kafka_error_string(ce));
        rd_kafka_error_destroy(ce);
    } else if (re) {
        set_fatal(s, SL_EIO, "rebalance", rd_kafka_err2str(re));
    }
}


/* ---- offsets ---- */

/* The offsets a checkpoint commits: `emitted` of every assigned partition
 * where it is ahead of `committed`, after the dead letters of those
 * records are durable. *out may be an empty list. */
sl_rc sl_ksrc_pending(void *inst, rd_kafka_topic_partition_list_t **out, sl_err *err)
{
    ksrc *s = inst;
    *out = NULL;
    sl_rc rc = sl_kdlq_sync(s->dlq, s->c->ack_timeout_ms, err);
    if (rc != SL_OK)
        return rc;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(s->nparts ? s->nparts : 1);
    if (!l)
        return oom(err);
    for (int i = 0; i < s->nparts; i++) {
        kpart *k = &s->parts[i];
        if (k->assigned && k->emitted > k->committed)
            rd_kafka_topic_partition_list_add(l, k->topic, k->partition)->offset = k->emitted;
    }
    *out = l;
    return SL_OK;
}

/* l was accepted by the coordinator (per-partition errors excepted): one
 * commit counted. move = 0 when a rebalance happened since l was sent:
 * `committed` of a partition revoked (and maybe assigned again) meanwhile
 * must not jump past its new `emitted`; such a partition is simply
 * committed again later. */
static void mark_committed(ksrc *s, const rd_kafka_topic_partition_list_t *l, int move)
{
    int ok = 0;
    for (int i = 0; i < l->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &l->elems[i];
        if (tp->err)
            continue;
        ok++;
        kpart *k = move ? sl_ksrc_part_find(s, tp->topic, tp->partition, 0) : NULL;
        if (k && k->assigned && tp->offset > k->committed)
            k->committed = tp->offset;
    }
    if (ok > 0)
        s->commits++;
}

void sl_ksrc_committed(void *inst, const rd_kafka_topic_partition_list_t *l)
{
    mark_committed(inst, l, 1);
}

/* ---- backpressure ---- */

/* The partitions paused now (pause = 1) or to resume (pause = 0). */
static void pause_resume(ksrc *s, int pause)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(s->nparts ? s->nparts : 1);
    for (int i = 0; l && i < s->nparts; i++) {
        kpart *k = &s->parts[i];
        /* a partition that has not delivered a message since it was
         * assigned may not have started fetching yet; pausing it could
         * drop its fetch start (see resume_revoked). Left alone, it reads
         * into librdkafka's bounded queue at most. */
        int take = pause ? k->assigned && k->origin >= 0 && !k->paused : k->paused;
        if (take) {
            rd_kafka_topic_partition_list_add(l, k->topic, k->partition);
            k->paused = pause;
        }
    }
    if (l && l->cnt > 0)
        (pause ? rd_kafka_pause_partitions : rd_kafka_resume_partitions)(s->rk, l);
    if (l)
        rd_kafka_topic_partition_list_destroy(l);
}

/* The sink is waiting for room: pause the assigned partitions that are
 * fetching (once), and serve the consumer so rebalances and the poll
 * interval are handled while the pipeline stands still. Messages fetched
 * before the pause (librdkafka normally discards them) join the batch
 * being built, never past its bounds. */
void sl_kafka_source_pause(void *inst)
{
    ksrc *s = inst;
    if (!s->paused) {
        pause_resume(s, 1);
        s->paused = 1;
        s->pauses++;
    }
    size_t room = s->nm < s->c->batch_rows ? (size_t)(s->c->batch_rows - s->nm) : 0;
    if (room > 64)
        room = 64;
    if (room == 0 || s->bytes >= s->batch_bytes ||
        sl_grow((void **)&s->m, &s->m_cap, (size_t)s->nm + room, sizeof *s->m) != 0)
        return;
    ssize_t k = rd_kafka_consume_batch_queue(s->q, 0, s->m + s->nm, room);
    sl_ksrc_take(s, k);
}

void sl_kafka_source_resume(void *inst)
{
    ksrc *s = inst;
    if (!s->paused)
        return;
    pause_resume(s, 0);
    s->paused = 0;
}

rd_kafka_t *sl_ksrc_consumer(void *inst)
{
    return ((ksrc *)inst)->rk;
}

int sl_ksrc_revoked(void *inst)
{
    return ((ksrc *)inst)->revoked;
}

/* Back to the last commit: every assigned partition is positioned at its
 * committed offset (or, with none yet, the first offset read since it was
 * assigned), and what was emitted since is forgotten. Called between two
 * next() calls, when no batch is half built. librdkafka drops the messages
 * it had fetched past the new position. */
sl_rc sl_ksrc_rewind(void *inst, sl_err *err)
{
    ksrc *s = inst;
    sl_rc rc = SL_OK;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(s->nparts ? s->nparts : 1);
    if (!l)
        return oom(err);
    sl_ksrc_drop_messages(s); /* read while paused: after the position, read again */
    sl_ksrc_drop_last(s);
    for (int i = 0; i < s->nparts; i++) {
        kpart *k = &s->parts[i];
        int64_t to = k->committed >= 0 ? k->committed : k->origin;
        if (k->assigned && to >= 0 && k->emitted != to)
            rd_kafka_topic_partition_list_add(l, k->topic, k->partition)->offset = to;
    }
    if (l->cnt > 0) {
        rd_kafka_error_t *e = rd_kafka_seek_partitions(s->rk, l, (int)s->c->ack_timeout_ms);
        const char *why = e ? rd_kafka_error_string(e) : NULL;
        for (int i = 0; !why && i < l->cnt; i++)
            if (l->elems[i].err)
                why = rd_kafka_err2str(l->elems[i].err);
        if (why)
            rc = sl_err_set(err, SL_EIO, "source 'kafka': rewind to the committed offsets: %s",
                            why);
        if (e)
            rd_kafka_error_destroy(e);
    }
    for (int i = 0; rc == SL_OK && i < l->cnt; i++) {
        kpart *k = sl_ksrc_part_find(s, l->elems[i].topic, l->elems[i].partition, 0);
        if (k)
            k->emitted = k->committed;
    }
    if (rc == SL_OK)
        s->revoked = 0;
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* ---- offset commits ----
 * A synchronous rd_kafka_commit waits for the group coordinator, up to
 * session.timeout.ms while it is unreachable, and the runner would not see
 * a stop request or its time bound meanwhile. So a commit is sent to a
 * private queue and its result waited for in COMMIT_SLICE_MS slices:
 *   - a regular checkpoint waits at most SL_KSRC_COMMIT_WAIT_MS
 *     (kafka_source_internal.h), and not at all once a stop is requested;
 *     a commit still unanswered stays in flight (at most one: while it is,
 *     later checkpoints send nothing, and their offsets go with the first
 *     commit after its result), and its result is taken, and counted once,
 *     by whichever later checkpoint finds it;
 *   - the final checkpoint (sl_kafka_source_finishing) waits for the one in
 *     flight and for its own, at most ack_timeout_ms and at most
 *     SL_KAFKA_STOP_GRACE_MS after the stop request, and fails (SL_EIO) when an
 *     assigned partition is left uncommitted: whoever stopped the run must
 *     learn that records will be read again.
 * A commit is sent only once the sink acknowledged every row of the
 * offsets it carries (the runner's protocol), so a result that arrives
 * late can only move `committed` forward over acknowledged rows. No commit
 * is sent for a lost assignment: the partitions belong to someone else,
 * who resumes from the last commit. */
#define COMMIT_SLICE_MS 100
#define NO_CAP ((int64_t)1 << 40)

void sl_kafka_source_finishing(void *inst)
{
    ((ksrc *)inst)->finishing = 1;
}

/* Until when the checkpoint begun at start may wait for a commit result
 * (monotonic ms); earlier once a stop is requested. */
static int64_t commit_deadline(ksrc *s, int64_t start)
{
    if (!s->finishing) /* no grace: a stop ends the wait */
        return sl_kafka_wait_deadline(start, SL_KSRC_COMMIT_WAIT_MS, 0, &s->stop_seen_ms);
    return sl_kafka_wait_deadline(start, s->c->ack_timeout_ms, SL_KAFKA_STOP_GRACE_MS,
                                  &s->stop_seen_ms);
}

/* A failed commit: authorization and configuration errors end the run;
 * the rest (a rebalance in progress, the coordinator away) leave the
 * offsets pending for the next checkpoint or the next owner, and neither
 * loses a record. */
static sl_rc commit_failed(ksrc *s, rd_kafka_resp_err_t e, sl_err *err)
{
    s->commit_errors++;
    snprintf(s->commit_err, sizeof s->commit_err, "%s", rd_kafka_err2str(e));
    if (sl_kafka_rc(e) == SL_ECONFIG)
        return sl_err_set(err, SL_ECONFIG, "source 'kafka': commit: %s", rd_kafka_err2str(e));
    if (!s->finishing)
        sl_log(SL_LOG_WARN, "kafka", "offset commit failed (retried at the next checkpoint): %s",
               rd_kafka_err2str(e));
    return SL_OK;
}

static sl_rc commit_result(ksrc *s, rd_kafka_event_t *ev, sl_err *err)
{
    rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
    const rd_kafka_topic_partition_list_t *l = rd_kafka_event_topic_partition_list(ev);
    s->inflight = 0;
    if (!e && l)
        mark_committed(s, l, s->inflight_epoch == s->epoch);
    for (int i = 0; !e && l && i < l->cnt; i++)
        e = l->elems[i].err;
    if (!e || e == RD_KAFKA_RESP_ERR__NO_OFFSET) {
        s->commit_err[0] = '\0';
        return SL_OK;
    }
    return commit_failed(s, e, err);
}

/* Take the result of the commit in flight, waiting until it is in, or
 * commit_deadline or start + max_ms passed (max_ms 0: only if it is in). */
sl_rc sl_ksrc_commit_wait(ksrc *s, int64_t start, int64_t max_ms, sl_err *err)
{
    sl_rc rc = SL_OK;
    while (s->inflight && rc == SL_OK) {
        int64_t d = commit_deadline(s, start);
        int64_t left = (d < start + max_ms ? d : start + max_ms) - sl_kafka_now_ms();
        rd_kafka_event_t *ev = rd_kafka_queue_poll(
            s->cq, left <= 0 ? 0 : (int)(left < COMMIT_SLICE_MS ? left : COMMIT_SLICE_MS));
        if (ev && rd_kafka_event_type(ev) == RD_KAFKA_EVENT_OFFSET_COMMIT)
            rc = commit_result(s, ev, err);
        if (ev)
            rd_kafka_event_destroy(ev);
        else if (left <= 0)
            break;
    }
    return rc;
}

/* Assigned partitions whose progress is not committed. */
static int uncommitted(const ksrc *s)
{
    int n = 0;
    for (int i = 0; i < s->nparts; i++)
        n += s->parts[i].assigned && s->parts[i].emitted > s->parts[i].committed;
    return n;
}

static sl_rc final_failed(ksrc *s, int64_t start, int lost, sl_err *err)
{
    char why[200];
    if (lost)
        snprintf(why, sizeof why, "the group took the partitions away (assignment lost)");
    else if (s->inflight)
        snprintf(why, sizeof why, "no answer from the group coordinator within %lld ms",
                 (long long)(sl_kafka_now_ms() - start));
    else
        snprintf(why, sizeof why, "%s", s->commit_err[0] ? s->commit_err : "not committed");
    return sl_err_set(err, SL_EIO, "source 'kafka': final offset commit failed for %d "
                      "partition(s): %s; the records after the last commit will be read again",
                      uncommitted(s), why);
}

sl_rc sl_ksrc_checkpoint(void *inst, sl_err *err)
{
    ksrc *s = inst;
    rd_kafka_topic_partition_list_t *l = NULL;
    int64_t start = sl_kafka_now_ms();
    int lost = 0;
    /* an earlier commit's result; the final checkpoint waits for it */
    sl_rc rc = sl_ksrc_commit_wait(s, start, s->finishing ? NO_CAP : 0, err);
    if (rc != SL_OK || s->inflight)
        goto out; /* a regular checkpoint: its offsets go with a later commit */
    if ((rc = sl_ksrc_pending(s, &l, err)) != SL_OK || l->cnt == 0)
        goto out;
    if ((lost = rd_kafka_assignment_lost(s->rk))) {
        sl_log(SL_LOG_WARN, "kafka", "group '%s': assignment lost, not committing: the next "
               "owner of the partitions resumes from the last commit", s->c->group);
        goto out;
    }
    rd_kafka_resp_err_t e = rd_kafka_commit_queue(s->rk, l, s->cq, NULL, NULL);
    if (e) {
        rc = commit_failed(s, e, err);
        goto out;
    }
    s->inflight = 1;
    s->inflight_epoch = s->epoch;
    rc = sl_ksrc_commit_wait(s, start, NO_CAP, err);
out:
    if (rc == SL_OK && s->finishing && uncommitted(s) > 0)
        rc = final_failed(s, start, lost, err);
    if (l)
        rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

/* A commit librdkafka still holds (deferred while the group coordinator
 * is unreachable) keeps rd_kafka_consumer_close and rd_kafka_destroy
 * waiting until it expires, up to session.timeout.ms. The run was told
 * that commit failed, so the handle is then destroyed on a detached thread
 * without the consumer close (so no callback can reach the freed source)
 * and nobody waits: the process may exit first, which to the group looks
 * like a crash (the partitions move after session.timeout.ms). */
static void *reap_consumer(void *rk)
{
    rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    return NULL;
}

void sl_ksrc_release_consumer(ksrc *s)
{
    pthread_attr_t a;
    pthread_t th;
    if (s->rk && s->inflight && pthread_attr_init(&a) == 0) {
        int ok = pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED) == 0 &&
                 pthread_create(&th, &a, reap_consumer, s->rk) == 0;
        pthread_attr_destroy(&a);
        if (ok)
            s->rk = NULL;
    }
    if (s->rk)
        rd_kafka_destroy(s->rk); /* closes the consumer if close() did not */
    s->rk = NULL;
}

/* ---- stats ---- */

static int64_t part_lag(ksrc *s, const kpart *k)
{
    int64_t lo = -1, hi = -1;
    if (k->emitted < 0 ||
        rd_kafka_get_watermark_offsets(s->rk, k->topic, k->partition, &lo, &hi) || hi < 0)
        return -1;
    return hi > k->emitted ? hi - k->emitted : 0;
}

void sl_kafka_source_stats_get(void *inst, sl_kafka_source_stats *out)
{
    ksrc *s = inst;
    memset(out, 0, sizeof *out);
    out->records = s->records;
    out->rejected = s->rejected;
    out->commits = s->commits;
    out->commit_errors = s->commit_errors;
    out->pauses = s->pauses;
    out->lag = -1;
    for (int i = 0; i < s->nparts; i++) {
        if (!s->parts[i].assigned)
            continue;
        out->assigned++;
        int64_t l = part_lag(s, &s->parts[i]);
        if (l >= 0)
            out->lag = (out->lag < 0 ? 0 : out->lag) + l;
    }
}

int sl_kafka_source_lags(void *inst, sl_kafka_partition_lag *out, int max)
{
    ksrc *s = inst;
    int n = 0;
    for (int i = 0; i < s->nparts && n < max; i++) {
        if (!s->parts[i].assigned)
            continue;
        snprintf(out[n].topic, sizeof out[n].topic, "%s", s->parts[i].topic);
        out[n].partition = s->parts[i].partition;
        out[n].lag = part_lag(s, &s->parts[i]);
        n++;
    }
    return n;
}

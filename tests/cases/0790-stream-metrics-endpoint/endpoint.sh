#!/usr/bin/env bash
# `sluice run --stream --metrics-port` from the command line: a dev broker,
# a stream whose endpoint takes a free port (--metrics-port 0, the address
# is logged), GET /healthz, /readyz and /metrics with curl, `promtool check
# metrics` on the text when promtool is installed, a graceful stop
# (SIGTERM, exit 0), and the endpoint gone with the run.
set -u
fail() { echo "FAIL: $*"; tail -5 stream.err broker.log 2>/dev/null; exit 1; }
command -v curl >/dev/null || { echo "endpoint ok (curl not installed: skipped)"; exit 0; }

"$SLUICE" broker --dev --bootstrap-file bootstrap.txt m-in m-out >broker.log 2>&1 &
broker=$!
stream=
trap '[ -n "$stream" ] && kill "$stream" 2>/dev/null; kill "$broker" 2>/dev/null; wait' EXIT
for _ in $(seq 100); do [ -s bootstrap.txt ] && break; sleep 0.1; done
[ -s bootstrap.txt ] || fail "the dev broker did not start"
bs=$(cat bootstrap.txt)
cat >stream.yaml <<YAML
name: endpoint
source: {type: kafka, brokers: '$bs', topics: m-in, group: endpoint, format: raw,
         properties: {session.timeout.ms: 6000, heartbeat.interval.ms: 500}}
sink: {type: kafka, brokers: '$bs', topic: m-out}
YAML
"$SLUICE" run stream.yaml --stream --metrics-port 0 --max-seconds 60 >stream.out 2>stream.err &
stream=$!

url=
for _ in $(seq 100); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/metrics' stream.err | head -n 1)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || fail "no 'metrics on http://...' line in the log"
base=${url%/metrics}
code=
for _ in $(seq 200); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")
  [ "$code" = 200 ] && break
  sleep 0.1
done
[ "$code" = 200 ] || fail "/readyz answered $code"
curl -sf "$base/healthz" | grep -qF '{"status":"ok"}' || fail "/healthz"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/nope")" = 404 ] || fail "/nope is not 404"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/metrics")" = 405 ] || fail "POST"
# a series per partition once the group has its assignment (the lag
# stays unknown, -1, on a topic nothing was read from yet)
for _ in $(seq 200); do
  curl -sf "$base/metrics" >metrics.txt || fail "GET /metrics"
  grep -qF 'sluice_stream_partition_lag{pipeline="endpoint",topic="m-in",partition="3"} ' \
    metrics.txt && break
  sleep 0.1
done
for want in 'sluice_stream_records_in_total{pipeline="endpoint"} 0' \
            'sluice_stream_consumer_lag{pipeline="endpoint"} ' \
            'sluice_stream_partition_lag{pipeline="endpoint",topic="m-in",partition="0"} ' \
            'sluice_stream_partition_lag{pipeline="endpoint",topic="m-in",partition="3"} ' \
            '# TYPE sluice_stream_commit_duration_seconds histogram' \
            'sluice_build_info{version="0.1.0"} 1'; do
  grep -qF "$want" metrics.txt || fail "/metrics lacks: $want"
done
curl -sI "$base/metrics" | grep -qi '^content-type: text/plain; version=0.0.4' || fail "content type"
if command -v promtool >/dev/null; then
  promtool check metrics <metrics.txt || fail "promtool check metrics"
fi

kill -TERM "$stream"
wait "$stream"
rc=$?
stream=
[ $rc = 0 ] || fail "the stream exited $rc after SIGTERM"
grep -qF 'endpoint: 0 records in' stream.out || fail "no summary line"
curl -s -o /dev/null "$base/healthz" && fail "the endpoint outlived the run"
echo "endpoint ok"

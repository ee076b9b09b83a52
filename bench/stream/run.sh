#!/usr/bin/env bash
# Streaming benchmark on a real Apache Kafka 3.9 (scripts/kafka.sh):
# consume JSON -> filter + derive -> produce JSON, by sluice and, side by
# side, by the same job in Kafka Streams (bench/stream/kstreams, built with
# Maven when java and mvn are present).
#
#   bench/stream/run.sh [--events N] [--rate R] [--seconds S] [--threads T]
#                       [--guarantee at_least_once|exactly_once_v2]
#                       [--no-peer | --peer kstreams] [--skip throughput|latency]
#                       [--repeat K]
#
# 1. throughput: N JSON events (default 2,000,000) are produced to a
#    4-partition topic first; `sluice run --stream --max-records N`, then
#    the Kafka Streams job with `--max-records N`, each consume them all,
#    filter (keeps ~3/5), derive two columns, produce the result to their
#    own output topic and exit. Per peer: events/s (wall clock of the
#    process, start to exit, so startup, group join and the final flush and
#    commit count), events per CPU-second (user+sys of the process and its
#    threads, i.e. per core; for the JVM that includes JIT and GC), peak
#    RSS. Both outputs are checked before any timing is printed: the record
#    count and the sum of ids equal what the input must give, and every
#    record with id % 9973 == 0 is checked field by field against the
#    input formula and against the other peer's. --repeat K runs each
#    peer K times on the same input (interleaved: sluice, kstreams, sluice,
#    ...; each run its own output topic and group, each output verified)
#    and reports each peer's fastest run by wall clock (the machine is
#    shared, so the slower runs mostly measure the neighbours).
# 2. latency, per peer in turn (never both at once): the peer runs while
#    events are produced at R events/s (default 20000) for S seconds
#    (default 20), ids 1..R*S. An event's latency is its output message's
#    timestamp minus its input message's CreateTime (set by the kcat that
#    produced it), matched by id; the output topics are created with
#    message.timestamp.type=LogAppendTime (the broker's clock, the same for
#    both peers; Kafka Streams would otherwise copy the input timestamp).
#    p50 / p99 / max in ms, and the CPU seconds the peer used in that run.
#
# --threads sets Kafka Streams' num.stream.threads (default 2: the machine
# has 2 cores); --guarantee its processing.guarantee (sluice is
# at-least-once). SLUICE_BIN picks the sluice binary (default build/sluice),
# KSTREAMS_JAVA_OPTS adds JVM options (default none: the JVM's ergonomics),
# KAFKA_BOOTSTRAP an already running broker (else one is started and
# stopped, in $SLUICE_KAFKA_DIR), BENCH_TIMEOUT bounds each peer's run in
# seconds (default 1800). BENCH_SLUICE_PROPS adds librdkafka properties to
# sluice's source (YAML flow-mapping content, e.g.
# "max.partition.fetch.bytes: 4194304"; default none).
# Each throughput line also says how busy the machine was meanwhile: the
# broker's CPU (when its pid is known) and everything else's (the machine
# is shared), from /proc.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/bench/stream"
SLUICE="${SLUICE_BIN:-$ROOT/build/sluice}"
JAR="$HERE/kstreams/target/sluice-bench-kstreams.jar"
TMO="${BENCH_TIMEOUT:-1800}"
read -ra JOPTS <<< "${KSTREAMS_JAVA_OPTS:-}"
N=2000000 RATE=20000 SECS=20 THREADS=2 GUARANTEE=at_least_once PEER=auto SKIP="" REPEAT=1
usage() {
  echo "usage: $0 [--events N] [--rate R] [--seconds S] [--threads T]" \
       "[--guarantee at_least_once|exactly_once_v2] [--no-peer | --peer kstreams]" \
       "[--skip throughput|latency] [--repeat K]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --events) N="$2"; shift 2 ;;
    --rate) RATE="$2"; shift 2 ;;
    --seconds) SECS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --guarantee) GUARANTEE="$2"; shift 2 ;;
    --no-peer) PEER=none; shift ;;
    --peer) [ "${2:-}" = kstreams ] || usage; PEER=kstreams; shift 2 ;;
    --skip) SKIP="$2"; shift 2 ;;
    --repeat) REPEAT="$2"; shift 2 ;;
    *) usage ;;
  esac
done
case "$GUARANTEE" in at_least_once|exactly_once_v2) ;; *) usage ;; esac
case "$SKIP" in ""|throughput|latency) ;; *) usage ;; esac
for v in "$N" "$RATE" "$SECS" "$THREADS" "$REPEAT"; do
  case "$v" in ''|*[!0-9]*) usage ;; esac
done
if [ "$N" -lt 1 ] || [ "$THREADS" -lt 1 ] || [ "$REPEAT" -lt 1 ] || [ "$SECS" -lt 1 ]; then usage; fi
[ "$RATE" -ge 10 ] || { echo "--rate: at least 10" >&2; exit 2; }

for t in kcat python3 bc; do
  command -v "$t" >/dev/null || { echo "$0: $t is missing (scripts/setup.sh installs it)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "$0: /usr/bin/time is missing (package 'time'; scripts/setup.sh)" >&2; exit 1; }
[ -x "$SLUICE" ] || { echo "$0: no sluice binary at $SLUICE: build it or set SLUICE_BIN" >&2; exit 1; }
[ -n "${KAFKA_BOOTSTRAP:-}" ] || command -v java >/dev/null ||
  { echo "$0: java is missing (scripts/setup.sh): needed to start Kafka; or set KAFKA_BOOTSTRAP" >&2; exit 1; }

# HAVE_JAVA: the jar (Kafka Streams peer and topic creation) is usable; it
# is (re)built with Maven when missing or older than its sources
HAVE_JAVA=0
if command -v java >/dev/null; then
  if [ ! -f "$JAR" ] ||
     [ -n "$(find "$HERE/kstreams/pom.xml" "$HERE/kstreams/src" -newer "$JAR" -print -quit)" ]; then
    if command -v mvn >/dev/null; then
      echo "== building $JAR"
      timeout 900 mvn -q -B -f "$HERE/kstreams/pom.xml" package ||
        { echo "$0: the Maven build of $HERE/kstreams failed (see above)" >&2; exit 1; }
      HAVE_JAVA=1
    elif [ -f "$JAR" ]; then
      echo "== mvn is missing: using $JAR, older than its sources"
      HAVE_JAVA=1
    fi
  else
    HAVE_JAVA=1
  fi
fi
if [ "$PEER" != none ]; then
  if [ $HAVE_JAVA = 1 ]; then
    PEER=kstreams
  elif [ "$PEER" = kstreams ]; then
    echo "$0: --peer kstreams needs java and mvn (scripts/setup.sh installs them)" >&2; exit 1
  else
    PEER=none; echo "== Kafka Streams peer skipped: java or mvn missing"
  fi
fi

started=0 W="" LATPID=""
cleanup() {
  [ -n "$LATPID" ] && kill_tree "$LATPID" KILL
  [ $started = 1 ] && "$ROOT/scripts/kafka.sh" stop
  [ -n "$W" ] && rm -rf "$W"
  return 0
}
trap cleanup EXIT
if [ -z "${KAFKA_BOOTSTRAP:-}" ]; then
  "$ROOT/scripts/kafka.sh" start
  started=1
  KAFKA_BOOTSTRAP="$("$ROOT/scripts/kafka.sh" bootstrap)"
fi
BS="$KAFKA_BOOTSTRAP"
W=$(mktemp -d /tmp/sluice-bench-stream-XXXXXX)
# the broker's pid, when it is the one of $SLUICE_KAFKA_DIR, for its CPU time
KDIR="${SLUICE_KAFKA_DIR:-/tmp/sluice-kafka-${USER:-$(id -u)}}"
BPID=
[ "$(cat "$KDIR/bootstrap" 2>/dev/null || true)" = "$BS" ] && BPID="$(cat "$KDIR/pid" 2>/dev/null || true)"
HZ=$(getconf CLK_TCK)
tag="$$-$RANDOM"
PEERS=(sluice)
[ "$PEER" = kstreams ] && PEERS+=(kstreams)

# events: {"id":..,"user":"u<id%1000>","amount":..,"qty":..,"kind":"click|view|buy"}
gen() { # FIRST LAST
  awk -v a="$1" -v b="$2" 'BEGIN { split("click view buy", k, " ");
    for (i = a; i <= b; i++)
      printf "{\"id\": %d, \"user\": \"u%d\", \"amount\": %.2f, \"qty\": %d, \"kind\": \"%s\"}\n",
             i, i % 1000, (i * 7919 % 10000) / 100.0, 1 + i % 5, k[1 + i % 3] }'
}

kjar() { java "${JOPTS[@]}" -jar "$JAR" --bootstrap "$BS" "$@"; }

mktopic() { # NAME [CONFIG...]: 4 partitions; without java the broker auto-creates it
  [ $HAVE_JAVA = 1 ] || return 0
  local t="$1" a=(); shift
  for c in "$@"; do a+=(--config "$c"); done
  timeout 120 java -jar "$JAR" --bootstrap "$BS" --create-topic "$t" --partitions 4 "${a[@]}"
}

spec() { # IN OUT GROUP
  cat > "$W/spec.yaml" <<YAML
name: bench
source:
  type: kafka
  brokers: "$BS"
  topics: [$1]
  group: $3
  start: earliest
  schema: $W/schema.json
  properties: {${BENCH_SLUICE_PROPS:-}}
sink: { type: kafka, brokers: "$BS", topic: $2, compression: lz4 }
transforms:
  - filter: "amount > 10 and kind != 'view'"
  - derive: { unit_price: "amount / qty", big: "amount > 50" }
YAML
  cat > "$W/schema.json" <<'JSON'
{"fields": [{"name": "id", "type": "int64"}, {"name": "user", "type": "string"},
 {"name": "amount", "type": "float64"}, {"name": "qty", "type": "int64"},
 {"name": "kind", "type": "string"}]}
JSON
}

# run_peer PEER IN OUT GROUP [ARGS...]: the peer's command line
peer_cmd() {
  local p="$1" in="$2" out="$3" group="$4"; shift 4
  if [ "$p" = sluice ]; then
    spec "$in" "$out" "$group"
    CMD=("$SLUICE" run "$W/spec.yaml" --stream --log-level warn "$@")
  else
    CMD=(java "${JOPTS[@]}" -jar "$JAR" --bootstrap "$BS" --in "$in" --out "$out"
         --app-id "$group" --threads "$THREADS" --guarantee "$GUARANTEE"
         --state-dir "$W/kstreams-state" "$@")
  fi
}

res() { echo "$2 $3" >> "$W/res-$1"; }          # PEER KEY VALUE
get() { awk -v k="$2" '$1 == k { print $2 }' "$W/res-$1"; }

# one line per output record on stdin -> $1: count, id sum, sampled records
summarize() {
  python3 -c '
import sys, json, re
rx = re.compile(rb"\"id\":\s*(-?\d+)")
n = s = bad = 0
samples = {}
for line in sys.stdin.buffer:
    m = rx.search(line)
    if not m:
        bad += 1
        continue
    i = int(m.group(1))
    n += 1
    s += i
    if i % 9973 == 0:
        samples[i] = json.loads(line)
json.dump({"count": n, "idsum": s, "bad": bad, "samples": samples}, open(sys.argv[1], "w"))
' "$1"
}

# verify N SUMMARY...: each against the input formula, and with each other
verify() {
  python3 - "$@" <<'PY'
import sys, json, math
n = int(sys.argv[1])
kinds = ["click", "view", "buy"]
def event(i):
    return {"id": i, "user": f"u{i % 1000}", "amount": (i * 7919 % 10000) / 100,
            "qty": 1 + i % 5, "kind": kinds[i % 3]}
count = idsum = 0
for i in range(1, n + 1):
    if i * 7919 % 10000 > 1000 and i % 3 != 1:
        count += 1
        idsum += i
def same(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12)
    return a == b and type(a) is type(b)
ok = True
sums = []
for path in sys.argv[2:]:
    peer = path.rsplit("-", 1)[1].removesuffix(".json")
    s = json.load(open(path))
    sums.append((peer, s))
    errs = []
    if s["count"] != count or s["idsum"] != idsum or s["bad"]:
        errs.append(f"{s['count']} records (id sum {s['idsum']}, {s['bad']} without id), "
                    f"expected {count} (id sum {idsum})")
    for i in range(9973, n + 1, 9973):
        e = event(i)
        keep = e["amount"] > 10 and e["kind"] != "view"
        got = s["samples"].get(str(i))
        if not keep:
            if got is not None:
                errs.append(f"id {i} should have been filtered out")
            continue
        e["unit_price"] = e["amount"] / e["qty"]
        e["big"] = e["amount"] > 50
        if got is None or list(got) != list(e) or not all(same(got[k], e[k]) for k in e):
            errs.append(f"id {i}: got {got}, expected {e}")
    print(f"verify {peer}: {s['count']} records, {len(s['samples'])} sampled: "
          + ("ok" if not errs else "FAILED: " + "; ".join(errs[:3])))
    ok = ok and not errs
for (pa, a), (pb, b) in zip(sums, sums[1:]):
    sa, sb = a["samples"], b["samples"]
    diff = sorted(set(sa) ^ set(sb)) + [
        i for i in sa if i in sb and (list(sa[i]) != list(sb[i]) or
                                      not all(same(sa[i][k], sb[i][k]) for k in sa[i]))]
    print(f"verify {pa} = {pb} on {len(sa)} sampled records: "
          + ("ok" if not diff else f"FAILED (ids {diff[:3]})"))
    ok = ok and not diff
sys.exit(0 if ok else 1)
PY
}

# the time file of /usr/bin/time -f "%e %U %S %M" -> results
record_time() { # PEER FILE PREFIX
  local wall usr sys rss
  read -r wall usr sys rss < <(tail -n 1 "$2") # after "Command exited with non-zero status"
  res "$1" "$3wall" "$wall"
  res "$1" "$3cpu" "$(awk -v u="$usr" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')"
  res "$1" "$3user" "$usr"
  res "$1" "$3sys" "$sys"
  res "$1" "$3rss" "$((rss / 1024))"
}

# CPU seconds so far: the whole machine's busy time, the broker's user+sys
cpu_snap() {
  local b=0
  if [ -n "$BPID" ]; then
    b=$(awk -v hz="$HZ" '{ print ($14 + $15) / hz }' "/proc/$BPID/stat" 2>/dev/null || echo 0)
  fi
  awk -v hz="$HZ" -v b="$b" '$1 == "cpu" { print ($2 + $3 + $4 + $7 + $8 + $9) / hz, b; exit }' /proc/stat
}

throughput() {
  echo "== throughput: $N events, peers: ${PEERS[*]}, $REPEAT run(s) each"
  local IN="bench-in-$tag" t0 t1 p r runs=()
  t0=$(date +%s.%N)
  gen 1 "$N" | timeout "$TMO" kcat -P -b "$BS" -t "$IN" -z lz4 \
    -X queue.buffering.max.messages=1000000 -X linger.ms=50
  t1=$(date +%s.%N)
  echo "produced in $(echo "$t1 - $t0" | bc) s"
  for ((r = 1; r <= REPEAT; r++)); do
    for p in "${PEERS[@]}"; do
      # run id: PEER.rR (results in res-PEER.rR, output topic per run)
      local id="$p.r$r" OUT="bench-out-$p-r$r-$tag"
      runs+=("$id")
      mktopic "$OUT"
      peer_cmd "$p" "$IN" "$OUT" "bench-$p-r$r-$tag" --max-records "$N"
      local m0 b0 m1 b1
      read -r m0 b0 < <(cpu_snap)
      /usr/bin/time -f "%e %U %S %M" -o "$W/$id.time" \
        timeout -k 30 "$TMO" "${CMD[@]}" > "$W/$id.out" ||
        { echo "$id failed (exit status $?; 124: over BENCH_TIMEOUT=$TMO s); its stdout:" >&2
          cat "$W/$id.out" >&2; exit 1; }
      read -r m1 b1 < <(cpu_snap)
      echo "[$id] $(tail -n 1 "$W/$id.out")"
      record_time "$id" "$W/$id.time" ""
      res "$id" machine_cpu "$(awk -v a="$m0" -v b="$m1" 'BEGIN { printf "%.2f", b - a }')"
      [ -z "$BPID" ] || res "$id" broker_cpu "$(awk -v a="$b0" -v b="$b1" 'BEGIN { printf "%.2f", b - a }')"
    done
  done
  # what one librdkafka consumer alone gets out of this broker: the ceiling
  # for a single-consumer reader such as sluice's source
  local t
  t=$( { /usr/bin/time -f "%e %U %S" timeout "$TMO" kcat -C -b "$BS" -t "$IN" -e -q -o beginning \
           -f '%s\n' > /dev/null; } 2>&1 | tail -n 1)
  echo "$t" | awk -v n="$N" '{ printf "kcat consume-only of the input (one librdkafka consumer, for reference): %.0f events/s wall (%.2f s), cpu %.2f s\n", n / $1, $1, $2 + $3 }'

  local sums=() id
  for id in "${runs[@]}"; do
    p="${id%.r*}" r="${id##*.r}"
    timeout "$TMO" kcat -C -b "$BS" -t "bench-out-$p-r$r-$tag" -e -q -f '%s\n' | summarize "$W/sum-$id.json"
    sums+=("$W/sum-$id.json")
  done
  verify "$N" "${sums[@]}"
  for id in "${runs[@]}"; do
    awk -v p="$id" -v n="$N" -v w="$(get "$id" wall)" -v u="$(get "$id" user)" -v s="$(get "$id" sys)" \
        -v r="$(get "$id" rss)" -v m="$(get "$id" machine_cpu)" -v b="$(get "$id" broker_cpu)" -v c="$(nproc)" 'BEGIN {
      printf "%s throughput: %.0f events/s wall (%.2f s), %.0f events/s per core (cpu %.2f s = user %.2f + sys %.2f), peak RSS %d MB\n",
             p, n / w, w, n / (u + s), u + s, u, s, r
      printf "  meanwhile the machine was busy %.1f of %.1f CPU-s: %s %.1f, broker %s, everything else %.1f\n",
             m, c * w, p, u + s, b == "" ? "?" : b, m - u - s - b }'
  done
  # each peer's fastest run (by wall clock) goes to the side-by-side table
  for p in "${PEERS[@]}"; do
    local best="" bw="" w
    for id in "${runs[@]}"; do
      [ "${id%.r*}" = "$p" ] || continue
      w="$(get "$id" wall)"
      if [ -z "$bw" ] || awk -v a="$w" -v b="$bw" 'BEGIN { exit !(a < b) }'; then best="$id" bw="$w"; fi
    done
    cat "$W/res-$best" >> "$W/res-$p"
    [ "$REPEAT" = 1 ] || echo "$p: fastest run $best ($bw s) goes to the table"
  done
}

wait_output() { # TOPIC PID: until the topic has a record, the peer alive, 120 s at most
  for _ in $(seq 1 240); do
    kill -0 "$2" 2>/dev/null || { echo "the peer exited before its first output" >&2; return 1; }
    [ -n "$(timeout 10 kcat -C -b "$BS" -t "$1" -e -q -c 1 -f '%o\n' 2>/dev/null)" ] && return 0
    sleep 0.5
  done
  echo "no output from the peer within 120 s" >&2
  return 1
}

kill_tree() { # PID SIGNAL: the process and its descendants, by pid
  local c
  for c in $(pgrep -P "$1" || true); do kill_tree "$c" "$2"; done
  kill "-$2" "$1" 2>/dev/null || true
}

# PID of /usr/bin/time, whose child is timeout, whose child is the peer:
# SIGTERM to timeout, which passes it on; 90 s to exit, then SIGKILL.
stop_peer() {
  local c
  for c in $(pgrep -P "$1" || true); do kill -TERM "$c" 2>/dev/null || true; done
  for _ in $(seq 1 180); do kill -0 "$1" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$1" 2>/dev/null; then
    echo "the peer did not stop within 90 s: killed" >&2
    kill_tree "$1" KILL
  fi
  wait "$1" || true
}

latency() { # PEER
  local p="$1" IN="bench-lin-$1-$tag" OUT="bench-lout-$1-$tag" tsname=LogAppendTime
  echo "== latency, $p: $RATE events/s for $SECS s"
  mktopic "$IN"
  mktopic "$OUT" message.timestamp.type=LogAppendTime
  [ $HAVE_JAVA = 1 ] || tsname="CreateTime (set by sluice's producer: no java to create LogAppendTime topics)"
  # a record that passes the filter: its output shows the peer is consuming
  echo '{"id": 0, "user": "u0", "amount": 99.0, "qty": 1, "kind": "buy"}' |
    timeout 60 kcat -P -b "$BS" -t "$IN"
  peer_cmd "$p" "$IN" "$OUT" "bench-l-$p-$tag"
  /usr/bin/time -f "%e %U %S %M" -o "$W/lat-$p.time" \
    timeout -k 30 "$TMO" "${CMD[@]}" > "$W/lat-$p.out" &
  LATPID=$!
  wait_output "$OUT" "$LATPID"
  local per=$((RATE / 10)) start now next d t a pids=()
  start=$(date +%s%N)
  for ((t = 0; t < SECS * 10; t++)); do
    a=$((t * per + 1))
    gen "$a" $((a + per - 1)) | timeout 60 kcat -P -b "$BS" -t "$IN" -X linger.ms=1 &
    pids+=($!)
    next=$((start + (t + 1) * 100000000)); now=$(date +%s%N); d=$((next - now))
    if [ $d -gt 0 ]; then sleep "$(awk -v d=$d 'BEGIN { printf "%.3f", d / 1e9 }')"; fi
  done
  for a in "${pids[@]}"; do wait "$a" || { echo "a producer failed" >&2; return 1; }; done
  sleep 3
  stop_peer "$LATPID"
  LATPID=
  cat "$W/lat-$p.out"
  record_time "$p" "$W/lat-$p.time" lat_
  timeout 300 kcat -C -b "$BS" -t "$IN" -e -q -f '%T %s\n' > "$W/lin.txt"
  timeout 300 kcat -C -b "$BS" -t "$OUT" -e -q -f '%T %s\n' > "$W/lout.txt"
  python3 - "$W/lin.txt" "$W/lout.txt" $((SECS * 10 * per)) "$W/res-$p" "$tsname" <<'PY'
import sys, re
rx = re.compile(r'"id":\s*(\d+)')
def read(path):
    for line in open(path):
        t, _, js = line.partition(" ")
        yield int(rx.search(js).group(1)), int(t)
tin = dict(read(sys.argv[1]))
last = int(sys.argv[3])
want = sum(1 for i in range(1, last + 1) if i * 7919 % 10000 > 1000 and i % 3 != 1)
pairs = [(tin[i], t - tin[i]) for i, t in read(sys.argv[2]) if i != 0]
if len(pairs) != want:
    sys.exit(f"latency: {len(pairs)} output records, expected {want}")
def q(lat, p):
    return lat[min(len(lat) - 1, int(p * len(lat)))]
lat = sorted(l for _, l in pairs)
# the same without the events produced in the first 5 s (JIT warm-up, first commits)
t0 = min(t for t, _ in pairs)
late = sorted(l for t, l in pairs if t >= t0 + 5000) or lat
print(f"latency over {len(lat)} events (output timestamps: {sys.argv[5]}): "
      f"p50 {q(lat, 0.5):.0f} ms, p99 {q(lat, 0.99):.0f} ms, max {lat[-1]:.0f} ms; "
      f"after the first 5 s: p50 {q(late, 0.5):.0f} ms, p99 {q(late, 0.99):.0f} ms, max {late[-1]:.0f} ms")
with open(sys.argv[4], "a") as f:
    f.write(f"p50 {q(lat, 0.5)}\np99 {q(lat, 0.99)}\nmax {lat[-1]}\n"
            f"p99_late {q(late, 0.99)}\nmax_late {late[-1]}\n")
PY
  echo "$p: cpu $(get "$p" lat_cpu) s over the $(get "$p" lat_wall) s run, peak RSS $(get "$p" lat_rss) MB"
}

report() {
  python3 - "$W" "$N" "$RATE" "$THREADS" "$GUARANTEE" "$REPEAT" "${PEERS[@]}" <<'PY'
import sys, os
w, n, rate, threads, guarantee, repeat, peers = (sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4],
                                                 sys.argv[5], int(sys.argv[6]), sys.argv[7:])
res = {}
for p in peers:
    res[p] = {k: float(v) for k, v in (l.split() for l in open(os.path.join(w, "res-" + p)))}
rows = [("events/s, wall clock", lambda r: n / r["wall"] if "wall" in r else None, "{:,.0f}"),
        ("events per CPU-second (per core)", lambda r: n / r["cpu"] if "cpu" in r else None, "{:,.0f}"),
        ("CPU seconds (user + sys)", lambda r: r.get("cpu"), "{:.2f}"),
        ("wall seconds", lambda r: r.get("wall"), "{:.2f}"),
        ("peak RSS, MB", lambda r: r.get("rss"), "{:.0f}"),
        (f"latency p50 at {rate}/s, ms", lambda r: r.get("p50"), "{:.0f}"),
        (f"latency p99 at {rate}/s, ms", lambda r: r.get("p99"), "{:.0f}"),
        (f"latency max at {rate}/s, ms", lambda r: r.get("max"), "{:.0f}"),
        (f"latency p99 at {rate}/s after the first 5 s, ms", lambda r: r.get("p99_late"), "{:.0f}"),
        (f"latency max at {rate}/s after the first 5 s, ms", lambda r: r.get("max_late"), "{:.0f}"),
        (f"CPU s during the latency run", lambda r: r.get("lat_cpu"), "{:.2f}"),
        ("broker CPU s during the throughput run", lambda r: r.get("broker_cpu"), "{:.2f}"),
        ("others' CPU s during it (shared machine)",
         lambda r: r["machine_cpu"] - r["cpu"] - r.get("broker_cpu", 0) if "machine_cpu" in r else None,
         "{:.1f}")]
what = f"{n:,} events" if any("wall" in r for r in res.values()) else "latency only"
if repeat > 1 and what != "latency only":
    what += f" (each peer's fastest of {repeat} runs)"
print(f"== side by side: {what}, 4 partitions; kstreams: {threads} stream threads, {guarantee}; sluice: at-least-once")
print("   (sluice/kstreams above 1 favours sluice for events/s; below 1 favours it for CPU, RSS and latency)")
head = ["measure"] + peers + (["sluice/kstreams"] if len(peers) == 2 else [])
print("| " + " | ".join(head) + " |")
print("|" + " --- |" * len(head))
for name, f, fmt in rows:
    vals = [f(res[p]) for p in peers]
    if all(v is None for v in vals):
        continue
    cells = [fmt.format(v) if v is not None else "-" for v in vals]
    if len(peers) == 2:
        cells.append(f"{vals[0] / vals[1]:.2f}x" if None not in vals and vals[1] else "-")
    print("| " + " | ".join([name] + cells) + " |")
PY
}

[ "$SKIP" = throughput ] || throughput
if [ "$SKIP" != latency ]; then
  for p in "${PEERS[@]}"; do latency "$p"; done
fi
report

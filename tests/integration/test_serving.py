#!/usr/bin/env python3
"""End-to-end test of `sluice serve` with a real HTTP client (stdlib only).

Run by tests/integration/test_serving.sh, which builds the fixture tool and
prepares the quickstart features. Steps (each bounded, loopback only):
  1. register a random forest trained on the quickstart features (v1),
     start `sluice serve --port 0` and wait for /readyz;
  2. every route and every client error (400 / 404 / 405 / 413), checking
     status, error code and the message naming the instance and feature;
  3. predictions for raw rows equal the C API's on the same rows after
     `sluice apply` (same classes, bit-identical probabilities), for
     single rows, a 32-row batch and the columnar form;
  4. /metrics passes `promtool check metrics` and has the serving series;
  5. hot reload: bless v2 -> served; bless a broken v3 -> rejected, logged,
     counted, v2 keeps serving;
  6. JSON request logs; SIGTERM stops the server with exit code 0;
  7. bearer auth (401 without, 200 with, token never logged), TLS with a
     self-signed certificate (skipped without openssl), slow-client
     timeout.
Usage: test_serving.py --sluice BIN --fixture BIN --work DIR
"""
import argparse
import csv
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time

TIMEOUT = 10
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, flush=True)
    return cond


class Server:
    def __init__(self, sluice, work, name, *extra):
        self.port_file = os.path.join(work, name + ".port")
        self.log_path = os.path.join(work, name + ".log")
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        self.log = open(self.log_path, "w")
        cmd = [sluice, "serve", "--registry", os.path.join(work, "reg"), "--host",
               "127.0.0.1", "--port", "0", "--port-file", self.port_file, "--threads", "2",
               *extra]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log)
        deadline = time.time() + TIMEOUT
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("server did not start: " + open(self.log_path).read())
            time.sleep(0.02)
        self.port = int(open(self.port_file).read())

    def request(self, method, path, body=None, headers=None, tls=False):
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            c = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=TIMEOUT,
                                            context=ctx)
        else:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read().decode()
        c.close()
        return r.status, data, r.getheader("Content-Type")

    def json(self, method, path, body=None, headers=None):
        status, data, _ = self.request(method, path, body, headers)
        try:
            return status, json.loads(data)
        except ValueError:
            return status, data

    def wait_for(self, path, pred, what):
        deadline = time.time() + TIMEOUT
        while time.time() < deadline:
            try:
                status, data, _ = self.request("GET", path)
                if pred(status, data):
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        return check(False, "timed out waiting for " + what)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.log.close()
        return rc


def raw_rows(path, n, missing_precip=False):
    """n rows of the quickstart CSV that the training filter keeps, typed
    the way a client would send them (no target)."""
    rows = []
    with open(path) as f:
        for r in csv.DictReader(f):
            if not r["weather"] or float(r["temp_max"]) < float(r["temp_min"]):
                continue
            inst = {"date": r["date"], "precipitation": float(r["precipitation"]),
                    "temp_max": float(r["temp_max"]), "temp_min": float(r["temp_min"]),
                    "wind": float(r["wind"])}
            rows.append(inst)
            if len(rows) == n:
                break
    if missing_precip:
        del rows[1]["precipitation"]   # nullable: imputed like in training
    return rows


def oracle(args, version, rows, tag):
    """Predictions of registry version `version` for rows through the CLI
    (sluice apply) and the C API (serving_fixture predict)."""
    vdir = os.path.join(args.work, "reg", "quickstart", str(version))
    raw = os.path.join(args.work, "raw_%s.csv" % tag)
    feat = os.path.join(args.work, "feat_%s.csv" % tag)
    with open(raw, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["date", "precipitation", "temp_max", "temp_min", "wind", "weather"])
        for r in rows:
            w.writerow([r["date"], repr(r["precipitation"]) if "precipitation" in r else "",
                        repr(r["temp_max"]), repr(r["temp_min"]), repr(r["wind"]), "rain"])
    subprocess.run([args.sluice, "apply", "-q", os.path.join(vdir, "transform.json"), raw, feat],
                   check=True, timeout=60)
    out = subprocess.run([args.fixture, "predict",
                          os.path.join(vdir, "model_artifacts", "model.slm"), feat],
                         check=True, timeout=60, capture_output=True, text=True).stdout
    return json.loads(out)


def same_predictions(got, want, what):
    ok = check(got.get("predictions") == want["predictions"], what + ": predicted classes")
    ok = check(got.get("probabilities") == want["probabilities"],
               what + ": probabilities bit-identical") and ok
    return ok


def error_is(srv, body, status, code, message, what):
    st, data = srv.json("POST", "/v1/models/quickstart:predict", body)
    ok = check(st == status, "%s: status %s, want %s (%s)" % (what, st, status, data))
    if isinstance(data, dict) and "error" in data:
        check(data["error"].get("code") == code, "%s: code %s" % (what, data["error"]))
        check(message in data["error"].get("message", ""),
              "%s: message %r lacks %r" % (what, data["error"].get("message"), message))
    else:
        check(False, what + ": no JSON error body: %r" % (data,))
    return ok


def test_routes(args, srv):
    st, data = srv.json("GET", "/healthz")
    check(st == 200 and data == {"status": "ok"}, "healthz")
    srv.wait_for("/readyz", lambda s, d: s == 200, "readyz")
    st, data = srv.json("GET", "/readyz")
    check(data["models"]["quickstart"] == {"state": "serving", "version": 1}, "readyz body")
    st, data = srv.json("GET", "/v1/models")
    check(st == 200 and data["models"] == [{"name": "quickstart", "serving_version": 1}],
          "models list")
    st, data = srv.json("GET", "/v1/models/quickstart")
    check(st == 200 and data["blessed"] == 1 and data["serving_version"] == 1, "metadata")
    check("accuracy" in data["serving"]["metrics"], "metadata has metrics.json")
    check([f["name"] for f in data["serving"]["input_schema"]["fields"]] ==
          ["date", "precipitation", "temp_max", "temp_min", "wind"],
          "metadata input schema (target excluded)")
    check(data["serving"]["model"]["type"] == "random_forest", "metadata model type")
    st, data = srv.json("GET", "/v1/models/quickstart/versions/1")
    check(st == 200 and data["version"] == 1, "version metadata")


def test_predictions(args, srv):
    rows = raw_rows(args.csv, 32, missing_precip=True)
    want = oracle(args, 1, rows, "v1")
    for i in (0, 1, 7):
        st, data = srv.json("POST", "/v1/models/quickstart:predict", {"instances": [rows[i]]})
        check(st == 200, "single-row predict status %s %s" % (st, data))
        one = {"predictions": [want["predictions"][i]],
               "probabilities": [want["probabilities"][i]]}
        same_predictions(data, one, "single row %d" % i)
        check(data["model_version"] == 1 and data["model_name"] == "quickstart",
              "version/name in response")
        check(data["classes"] == ["drizzle", "fog", "rain", "snow", "sun"], "classes")
    st, data = srv.json("POST", "/v1/models/quickstart:predict", {"instances": rows})
    check(st == 200, "32-row predict")
    same_predictions(data, want, "32 rows")
    cols = {k: [r.get(k) for r in rows] for k in rows[0]}
    st, data = srv.json("POST", "/v1/models/quickstart/versions/1:predict", {"inputs": cols})
    check(st == 200, "columnar predict %s" % (data,))
    same_predictions(data, want, "columnar")
    # the target may be sent along (ignored), as whole CSV rows often are
    st, data = srv.json("POST", "/v1/models/quickstart:predict",
                        {"instances": [dict(rows[0], weather="sun")]})
    check(st == 200 and data["predictions"][0] == want["predictions"][0], "target ignored")


def test_errors(args, srv):
    good = raw_rows(args.csv, 4)
    bad = [dict(r) for r in good]
    bad[3]["wind"] = "abc"
    error_is(srv, {"instances": bad}, 400, "invalid_argument",
             'instances[3].wind: expected a number, got "abc"', "wrong type")
    error_is(srv, {"instances": [dict(good[0], windd=1)]}, 400, "invalid_argument",
             "instances[0]: unknown feature 'windd' (did you mean 'wind'?)", "unknown feature")
    nodate = dict(good[0])
    del nodate["date"]
    error_is(srv, {"instances": [nodate]}, 400, "invalid_argument",
             "instances[0].date: missing, but the feature is not nullable", "missing feature")
    error_is(srv, {"instances": [dict(good[0], date="2012-02-30")]}, 400, "invalid_argument",
             'instances[0].date: expected a date (YYYY-MM-DD), got "2012-02-30"', "bad date")
    error_is(srv, {"instances": [dict(good[0], temp_max=None)]}, 400, "invalid_argument",
             "instances[0]: feature 'temp_max' is null after the transforms", "null feature")
    error_is(srv, '{"instances": [{"date": ', 400, "invalid_json", "invalid JSON at line 1",
             "bad JSON")
    error_is(srv, {"rows": []}, 400, "invalid_argument", "unknown key 'rows'", "bad shape")
    error_is(srv, {"instances": good * 26}, 413, "payload_too_large",
             "104 instances exceed the limit of 100", "too many instances")
    error_is(srv, " " * 70000, 413, "payload_too_large", "exceeds the limit of 65536",
             "body too large")
    st, data = srv.json("POST", "/v1/models/nope:predict", {"instances": good})
    check(st == 404 and data["error"]["code"] == "not_found", "unknown model 404")
    st, data = srv.json("POST", "/v1/models/quickstart/versions/99:predict", {"instances": good})
    check(st == 404 and "has no version 99" in data["error"]["message"], "unknown version 404")
    st, data = srv.json("GET", "/v1/models/quickstart:predict")
    check(st == 405, "GET predict 405")
    st, data = srv.json("DELETE", "/v1/models/quickstart")
    check(st == 405, "DELETE metadata 405")
    st, data = srv.json("GET", "/v2/whatever")
    check(st == 404 and data["error"]["code"] == "not_found", "unknown route 404")


def test_metrics(args, srv):
    st, text, ctype = srv.request("GET", "/metrics")
    check(st == 200 and ctype.startswith("text/plain; version=0.0.4"), "metrics content type")
    path = os.path.join(args.work, "metrics.txt")
    with open(path, "w") as f:
        f.write(text)
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    check(p.returncode == 0, "promtool check metrics: " + p.stdout + p.stderr)
    for s in ['sluice_http_requests_total{model="quickstart",route="predict",status="200"}',
              'sluice_http_requests_total{model="quickstart",route="predict",status="400"}',
              'sluice_http_requests_total{model="quickstart",route="predict",status="413"}',
              'sluice_http_request_duration_seconds_bucket{model="quickstart",route="predict",'
              'le="+Inf"}',
              'sluice_predictions_total{model="quickstart",class="rain"}',
              'sluice_model_info{model="quickstart",version="1",type="random_forest"} 1',
              'sluice_model_ready{model="quickstart"} 1',
              'sluice_model_load_seconds{model="quickstart"}',
              'sluice_model_reloads_total{model="quickstart",result="ok"} 1']:
        check(s in text, "metrics has " + s)


def train(args, *params):
    out = subprocess.run([args.fixture, "train", os.path.join(args.work, "reg"), "quickstart",
                          os.path.join(args.work, "processed"), "weather", "random_forest",
                          *params], check=True, capture_output=True, text=True, timeout=120)
    return int(out.stdout)


def bless(args, v):
    subprocess.run([args.fixture, "bless", os.path.join(args.work, "reg"), "quickstart", str(v)],
                   check=True, timeout=30)


def test_hot_reload(args, srv):
    v2 = train(args, "n_estimators=40", "random_state=7")
    check(v2 == 2, "second version is 2")
    bless(args, v2)
    rows = raw_rows(args.csv, 8)
    srv.wait_for("/readyz", lambda s, d: '"version":2' in d, "reload to v2")
    st, data = srv.json("POST", "/v1/models/quickstart:predict", {"instances": rows})
    check(st == 200 and data["model_version"] == 2, "served by v2")
    same_predictions(data, oracle(args, 2, rows, "v2"), "v2 predictions")
    st, data = srv.json("POST", "/v1/models/quickstart/versions/1:predict", {"instances": rows})
    check(st == 200 and data["model_version"] == 1, "v1 still reachable by number")
    # a broken version: rejected, old one keeps serving
    v3dir = os.path.join(args.work, "reg", "quickstart", "3")
    os.makedirs(os.path.join(v3dir, "model_artifacts"))
    shutil.copy(os.path.join(args.work, "processed", "transform.json"), v3dir)
    with open(os.path.join(v3dir, "model_artifacts", "model.slm"), "wb") as f:
        f.write(b"SLMD" + os.urandom(200))
    bless(args, 3)
    srv.wait_for("/metrics",
                 lambda s, d: 'sluice_model_reloads_total{model="quickstart",result="failed"} 1'
                 in d, "failed reload counted")
    st, data = srv.json("POST", "/v1/models/quickstart:predict", {"instances": rows})
    check(st == 200 and data["model_version"] == 2, "v2 keeps serving after a broken v3")
    st, text, _ = srv.request("GET", "/metrics")
    check('sluice_model_info{model="quickstart",version="2",type="random_forest"} 1' in text
          and 'version="1"' not in text.split("sluice_model_info")[2].split("#")[0],
          "info gauge names only the served version")
    st, data = srv.json("GET", "/v1/models/quickstart")
    states = {v["version"]: v["state"] for v in data["versions"]}
    check(states == {1: "loaded", 2: "serving", 3: "failed"}, "version states %s" % states)
    bless(args, 2)


def test_logs_and_stop(args, srv):
    rc = srv.stop()
    check(rc == 0, "SIGTERM exit code %s" % rc)
    lines = open(srv.log_path).read().splitlines()
    recs = []
    for line in lines:
        try:
            recs.append(json.loads(line))
        except ValueError:
            check(False, "log line is not JSON: " + line)
    reqs = [r for r in recs if r.get("msg", r.get("message")) == "request"]
    check(len(reqs) > 20, "request logs (%d)" % len(reqs))
    if reqs:
        r = reqs[-1]
        for k in ("http.request.method", "url.path", "http.response.status_code",
                  "event.duration", "client.ip"):
            check(k in r, "request log has " + k)
    check(any("rejected" in r.get("msg", r.get("message", "")) for r in recs),
          "broken version rejection logged")
    check(any(r.get("msg", r.get("message")) == "model reloaded" for r in recs),
          "reload logged")


def test_auth(args):
    token = os.path.join(args.work, "token")
    with open(token, "w") as f:
        f.write("tok-5f2b9\n")
    srv = Server(args.sluice, args.work, "auth", "--auth-token-file", token,
                 "--log-requests-sample", "1")
    try:
        srv.wait_for("/readyz", lambda s, d: s == 200, "auth readyz")
        st, data = srv.json("GET", "/v1/models/quickstart")
        check(st == 401 and data["error"]["code"] == "unauthenticated", "401 without token")
        st, _ = srv.json("GET", "/metrics", headers={"Authorization": "Bearer nope"})
        check(st == 401, "401 with a wrong token")
        st, _ = srv.json("GET", "/v1/models/quickstart",
                         headers={"Authorization": "Bearer tok-5f2b9"})
        check(st == 200, "200 with the token")
        st, _ = srv.json("POST", "/v1/models/quickstart:predict",
                         {"instances": raw_rows(args.csv, 1)},
                         headers={"Authorization": "Bearer tok-5f2b9"})
        check(st == 200, "predict with the token")
    finally:
        srv.stop()
    check("tok-5f2b9" not in open(srv.log_path).read(), "the token is never logged")


def test_tls(args):
    if not shutil.which("openssl"):
        print("SKIP: TLS (no openssl to make a certificate)")
        return
    cert, key = os.path.join(args.work, "cert.pem"), os.path.join(args.work, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    srv = Server(args.sluice, args.work, "tls", "--tls-cert", cert, "--tls-key", key)
    try:
        ok = False
        deadline = time.time() + TIMEOUT
        while time.time() < deadline and not ok:
            try:
                st, data, _ = srv.request("GET", "/readyz", tls=True)
                ok = st == 200
            except OSError:
                time.sleep(0.05)
        check(ok, "HTTPS readyz")
        st, data, _ = srv.request("POST", "/v1/models/quickstart:predict",
                                  json.dumps({"instances": raw_rows(args.csv, 2)}), tls=True)
        check(st == 200 and json.loads(data)["model_version"] == 2, "HTTPS predict")
    finally:
        srv.stop()


def test_slow_client(args):
    srv = Server(args.sluice, args.work, "slow", "--timeout", "1")
    try:
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT)
        s.sendall(b"POST /v1/models/quickstart:predict HTTP/1.1\r\nHost: x\r\n")
        t0 = time.time()
        try:
            got = s.recv(100)
        except OSError:
            got = b""
        waited = time.time() - t0
        check(got == b"" and waited < 5, "slow client dropped after the timeout (%.1fs)" % waited)
        s.close()
    finally:
        srv.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluice", required=True)
    ap.add_argument("--fixture", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--csv", required=True)
    args = ap.parse_args()
    v1 = train(args, "n_estimators=100")
    bless(args, v1)
    srv = Server(args.sluice, args.work, "main", "--reload-interval", "0.1", "--log-format",
                 "json", "--log-requests-sample", "1", "--max-body-bytes", "65536",
                 "--max-instances", "100")
    try:
        test_routes(args, srv)
        test_predictions(args, srv)
        test_errors(args, srv)
        test_metrics(args, srv)
        test_hot_reload(args, srv)
    finally:
        test_logs_and_stop(args, srv)
    test_auth(args)
    test_tls(args)
    test_slow_client(args)
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        return 1
    print("test_serving: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

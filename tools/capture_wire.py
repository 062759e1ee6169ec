#!/usr/bin/python3
"""Records what the official Huawei Cloud Python SDK puts on the wire.

For every service version of the catalog (lua/hwcloud/services/index.lua)
that the Python SDK has, every operation of its client class is called with
a deterministic value in every request field, against a loopback HTTP
server of our own; the request as received is written, one JSON line per
operation, to spec/fixtures/wire/<service>_<version>.jsonl (the format is
in that folder's README).

Usage: capture_wire.py --sdk <huaweicloud-sdk-python-v3 checkout or bare git mirror>
                       [--out spec/fixtures/wire] [--only ecs_v2,iam ...] [--jobs 2]

A bare mirror is read at HEAD (git archive into a temporary folder), so each
fixture names the exact commit it was made from. Service versions are
captured in parallel, one per worker process (each with its own server).
"""

import argparse
import decimal
import importlib
import inspect
import json
import multiprocessing
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEN_DIR = os.path.join(ROOT, "lua", "hwcloud", "services", "gen")
INDEX = os.path.join(ROOT, "lua", "hwcloud", "services", "index.lua")
PY_SDK = "huaweicloud-sdk-python-v3"

AK = "WIREAK"
SK = "wire-secret"
PROJECT_ID = "wireproject0001"
DOMAIN_ID = "wiredomain0001"
MAX_DEPTH = 10
ID_HEADERS = ("X-Project-Id", "X-Domain-Id")


class SkipOperation(Exception):
    """The operation cannot be driven with plain values (file upload...)."""


# --- the loopback server -------------------------------------------------

class Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes; without this each answer waits
    # for the client's delayed ACK
    disable_nagle_algorithm = True

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    # trailers end with an empty line
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self):
        body = self._read_body()
        self.server.records.put({
            "method": self.command,
            "target": self.path,
            "headers": [(k, v) for k, v in self.headers.items()],
            "body": body,
        })
        payload = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

    def log_message(self, *args):
        pass


def start_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.daemon_threads = True
    server.records = queue.Queue()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


# --- deterministic values ------------------------------------------------

def split_type(t):
    """('list', inner) | ('dict', inner) | ('plain', t)."""
    t = t.strip()
    if t.startswith("list[") and t.endswith("]"):
        return "list", t[5:-1]
    if t.startswith("dict(") and t.endswith(")"):
        return "dict", t[t.index(",") + 1:-1].strip()
    return "plain", t


class Filler:
    """Builds values in visiting order; attributes sorted by wire name."""

    def __init__(self, models):
        self.models = models
        self.n = 0

    def _next(self):
        self.n += 1
        return self.n

    def is_model(self, name):
        return name in self.models

    def has_file(self, t, path=()):
        kind, inner = split_type(t)
        if kind != "plain":
            return self.has_file(inner, path)
        if inner in ("file", "stream"):
            return True
        if self.is_model(inner) and inner not in path and len(path) <= MAX_DEPTH:
            cls = self.models[inner]
            return any(self.has_file(st, path + (inner,)) for st in cls.openapi_types.values())
        return False

    def usable(self, t, path):
        """False when the type would nest a model already on the path or too deep."""
        kind, inner = split_type(t)
        if kind != "plain":
            return self.usable(inner, path)
        if self.is_model(inner) and not enum_values(self.models[inner]):
            return inner not in path and len(path) <= MAX_DEPTH
        return True

    def value(self, t, path):
        kind, inner = split_type(t)
        if kind == "list":
            return [self.value(inner, path)]
        if kind == "dict":
            return {"k": self.value(inner, path)}
        if inner == "str":
            return "w%04dz" % self._next()
        if inner == "int":
            return 100 + self._next()
        if inner == "float":
            return self._next() + 0.5
        if inner == "bool":
            return True
        if inner == "object":
            return {"k": "w%04dz" % self._next()}
        if inner == "decimal.Decimal":
            return decimal.Decimal("%d.5" % self._next())
        if inner in ("datetime", "date"):
            # serialised by the SDK as a string anyway; a token keeps it unique
            return "w%04dz" % self._next()
        if inner in ("file", "stream"):
            raise SkipOperation("file upload")
        if self.is_model(inner):
            enum = enum_values(self.models[inner])
            if enum:
                return enum[0]
            return self.model(self.models[inner], path + (inner,))
        raise SkipOperation("unknown type %s" % inner)

    def fill(self, obj, path):
        cls = type(obj)
        for attr in sorted(cls.openapi_types, key=lambda a: cls.attribute_map[a]):
            t = cls.openapi_types[attr]
            if not self.usable(t, path):
                continue
            setattr(obj, attr, self.value(t, path))
        return obj

    def model(self, cls, path):
        return self.fill(cls(), path)


def enum_values(cls):
    """The allowed values of an SDK enum class (a model without attributes).

    Such a field holds a plain string in real use; an empty instance would put
    {} on the wire, which no API takes, so the first declared value stands in.
    """
    if cls.openapi_types:
        return []
    return [v for k, v in vars(cls).items() if k.isupper() and isinstance(v, str)]


# --- one service version -------------------------------------------------

def camel(name):
    return "".join(p[:1].upper() + p[1:] for p in name.split("_"))


def request_class_name(client_cls, op):
    doc = inspect.getsource(getattr(client_cls, op))
    m = re.search(r":type request: :class:`[\w.]*?(\w+Request)`", doc)
    return m.group(1) if m else camel(op) + "Request"


def operations(client_cls):
    ops = []
    for name, _ in inspect.getmembers(client_cls, callable):
        if name.startswith("_"):
            continue
        if hasattr(client_cls, "_%s_http_info" % name):
            ops.append(name)
    return sorted(ops)


def header_lookup(headers, name):
    for k, v in headers:
        if k.lower() == name.lower():
            return v
    return None


def parse_body(raw):
    if not raw:
        return None
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def client_class(mod, modname, core_client):
    names = [n for n in dir(mod) if n.endswith("Client") and not n.endswith("AsyncClient")
             and inspect.isclass(getattr(mod, n)) and issubclass(getattr(mod, n), core_client.Client)
             and getattr(mod, n) is not core_client.Client]
    if len(names) != 1:
        raise RuntimeError("%s: expected one client class, found %s" % (modname, names))
    return getattr(mod, names[0])


def drive(client, client_cls, models, op, server, stream_req, http_utils):
    """One operation: (record, None) or (None, why it was not captured)."""
    rname = request_class_name(client_cls, op)
    rcls = models.get(rname)
    if rcls is None:
        return None, "no request class %s" % rname
    filler = Filler(models)
    if issubclass(rcls, stream_req) or any(filler.has_file(t) for t in rcls.openapi_types.values()):
        return None, "file upload (multipart)"
    try:
        req = filler.model(rcls, (rname,))
    except SkipOperation as e:
        return None, str(e)
    info = getattr(client_cls, "_%s_http_info" % op)(req)
    if info.get("post_params"):
        return None, "form parameters"

    amap = rcls.attribute_map
    given = {}
    qnames = [k for k, _ in info["query_params"]]
    body = None
    unsent = []
    for attr in sorted(rcls.openapi_types, key=lambda a: amap[a]):
        val = getattr(req, attr)
        if val is None:
            continue
        wire = amap[attr]
        typed = http_utils.sanitize_for_serialization(val)
        if attr == "body" and info.get("body") is val:
            body = typed
            continue
        for part, names in (("path", info["path_params"]), ("query", qnames),
                            ("header", info["header_params"])):
            if wire in names:
                given.setdefault(part, {})[wire] = typed
                break
        else:
            # a field of the request class the SDK's client never sends
            unsent.append(attr)
    if unsent:
        for attr in unsent:
            setattr(req, attr, None)
    if "body" in rcls.openapi_types and body is not None:
        given["body"] = body

    while not server.records.empty():
        server.records.get_nowait()
    failure = None
    try:
        getattr(client, op)(req)
    except Exception as exc:  # noqa: BLE001 -- decoding our {} may fail; the request is what counts
        failure = "%s: %s" % (type(exc).__name__, str(exc).splitlines()[0][:160] if str(exc) else "")
    recs = []
    while not server.records.empty():
        recs.append(server.records.get_nowait())
    if len(recs) != 1:
        why = "the SDK sent %d requests" % len(recs)
        return None, why + (" (%s)" % failure if failure and not recs else "")
    rec = recs[0]
    rpath, _, rquery = rec["target"].partition("?")
    sent = {
        "method": rec["method"],
        "path": rpath,
        "ct": header_lookup(rec["headers"], "Content-Type"),
        "ids": [h for h in ID_HEADERS if header_lookup(rec["headers"], h) is not None],
    }
    query = [list(p) for p in urllib.parse.parse_qsl(rquery, keep_blank_values=True)]
    if query:
        sent["query"] = query
    headers = {h: header_lookup(rec["headers"], h) for h in given.get("header", {})}
    if headers:
        sent["headers"] = headers
    wire_body = parse_body(rec["body"])
    # the body as sent, only where it is not the body given (the common case)
    if wire_body != given.get("body"):
        sent["body"] = wire_body
    rec = {"op": op, "in": given, "out": sent}
    if unsent:
        rec["unsent"] = sorted(amap[a] for a in unsent)
    return rec, None


def capture_version(task):
    """A worker's job: one service version -> (name, lines, counts)."""
    name, modname = task
    server = WORKER["server"]
    core_client = importlib.import_module("huaweicloudsdkcore.client")
    http_utils = importlib.import_module("huaweicloudsdkcore.utils.http_utils")
    http_config = importlib.import_module("huaweicloudsdkcore.http.http_config")
    creds_mod = importlib.import_module("huaweicloudsdkcore.auth.credentials")
    stream_req = importlib.import_module("huaweicloudsdkcore.sdk_stream_request").SdkStreamRequest

    mod = importlib.import_module(modname)
    client_cls = client_class(mod, modname, core_client)
    models_mod = importlib.import_module(modname + ".model")
    models = {n: getattr(models_mod, n) for n in dir(models_mod)
              if inspect.isclass(getattr(models_mod, n)) and hasattr(getattr(models_mod, n), "openapi_types")}

    kind = client_cls.new_builder()._credential_type[0]
    head = {
        "generated_by": "tools/capture_wire.py",
        "sdk": PY_SDK, "commit": WORKER["commit"], "module": modname,
        "client": client_cls.__name__, "credentials": kind,
    }
    if kind not in ("BasicCredentials", "GlobalCredentials"):
        # the SDK signs this service with credentials of its own kind (a
        # token or a password exchange), not AK/SK: nothing to compare
        head["not_captured"] = "the SDK's client takes only %s" % kind
        return name, json.dumps(head, sort_keys=True, separators=(",", ":")) + "\n", 0, 0
    config = http_config.HttpConfig.get_default_config()
    config.retry_times = 0
    config.timeout = (5, 10)
    if kind == "GlobalCredentials":
        creds = creds_mod.GlobalCredentials(AK, SK, DOMAIN_ID)
    else:
        creds = creds_mod.BasicCredentials(AK, SK, PROJECT_ID)
    endpoint = "http://127.0.0.1:%d" % server.server_address[1]
    client = (client_cls.new_builder().with_http_config(config).with_credentials(creds)
              .with_endpoints([endpoint]).build())

    lines, skipped = [], {}
    for op in operations(client_cls):
        rec, why = drive(client, client_cls, models, op, server, stream_req, http_utils)
        if rec is None:
            skipped[op] = why
        else:
            lines.append(rec)
    head.update({
        "project_id": PROJECT_ID if kind != "GlobalCredentials" else None,
        "domain_id": DOMAIN_ID if kind == "GlobalCredentials" else None,
        "operations": len(lines), "skipped": skipped,
    })
    # Decimal values (money fields) are numbers in JSON
    text = "".join(json.dumps(r, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                              default=float) + "\n"
                   for r in [head] + lines)
    # a worker imports one service version after another: forget this one
    for m in [m for m in sys.modules if m.startswith(modname.split(".")[0])]:
        del sys.modules[m]
    return name, text, len(lines), len(skipped)


WORKER = {}


def worker_init(paths, commit):
    sys.path[:0] = paths
    WORKER["server"] = start_server()
    WORKER["commit"] = commit


def safe_capture(task):
    try:
        return capture_version(task)
    except Exception as exc:  # noqa: BLE001 -- one broken version must not stop the others
        return task[0], None, 0, "%s: %s" % (type(exc).__name__, exc)


# --- the catalog's service versions --------------------------------------

def catalog_files():
    """The generated files the catalog's fields are made of (svc_vN)."""
    script = ('local idx = dofile(%s) local seen = {} '
              'for _, e in pairs(idx.fields) do for _, f in ipairs(e.files) do '
              'if not seen[f] then seen[f] = true io.write(f, "\\n") end end end') % json.dumps(INDEX)
    out = subprocess.check_output(["lua5.4", "-e", script], text=True)
    return sorted(out.split())


def python_path(name):
    """The Python SDK folder a generated file names (its `newer` or its
    `source`), or None when only the Go SDK has the version."""
    with open(os.path.join(GEN_DIR, name + ".lua"), encoding="utf-8") as fh:
        head = fh.read(4000)
    m = re.search(r'^  (?:newer|source) = \{ sdk = "%s", commit = "[0-9a-f]+", path = "([^"]+)" \}' % PY_SDK,
                  head, re.M)
    return m.group(1) if m else None


def unpack(sdk, folders):
    """(dir holding the SDK folders, commit, temporary dir or None)."""
    commit = subprocess.check_output(["git", "-C", sdk, "rev-parse", "HEAD"], text=True).strip()
    if os.path.isdir(os.path.join(sdk, "huaweicloud-sdk-core")):
        return sdk, commit, None
    tmp = tempfile.mkdtemp(prefix="pysdk.")
    archive = subprocess.Popen(["git", "-C", sdk, "archive", "HEAD"] + folders, stdout=subprocess.PIPE)
    subprocess.check_call(["tar", "-x", "-C", tmp], stdin=archive.stdout)
    archive.stdout.close()
    if archive.wait() != 0:
        raise SystemExit("git archive failed")
    return tmp, commit, tmp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sdk", required=True, help="huaweicloud-sdk-python-v3 checkout or bare git mirror")
    ap.add_argument("--out", default=os.path.join(ROOT, "spec", "fixtures", "wire"))
    ap.add_argument("--only", nargs="*", default=[], help="service versions (ecs_v2) or services (ecs)")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()

    names = catalog_files()
    if args.only:
        names = [n for n in names if n in args.only or n.rsplit("_", 1)[0] in args.only]
        if not names:
            raise SystemExit("--only names no service version of the catalog")
    tasks, without = [], []
    for n in names:
        p = python_path(n)
        if p:
            tasks.append((n, p))
        else:
            without.append(n)
    folders = ["huaweicloud-sdk-core"] + sorted({p.split("/")[0] for _, p in tasks})
    base, commit, tmp = unpack(args.sdk, folders)
    try:
        paths = [os.path.join(base, f) for f in folders]
        jobs = [(n, p.split("/", 1)[1].replace("/", ".")) for n, p in tasks]
        os.makedirs(args.out, exist_ok=True)
        # big services first, so the two workers end together
        jobs.sort(key=lambda j: -os.path.getsize(os.path.join(GEN_DIR, j[0] + ".lua")))
        failed = []
        total_ops = total_skipped = 0
        with multiprocessing.Pool(args.jobs, worker_init, (paths, commit), maxtasksperchild=16) as pool:
            for name, text, nops, nskip in pool.imap_unordered(safe_capture, jobs):
                if text is None:
                    failed.append((name, nskip))
                    print("%s: FAILED %s" % (name, nskip), file=sys.stderr)
                    continue
                with open(os.path.join(args.out, name + ".jsonl"), "w", encoding="utf-8") as fh:
                    fh.write(text)
                total_ops += nops
                total_skipped += nskip
                print("%-28s %4d operations, %3d skipped" % (name, nops, nskip))
        for n in without:
            print("%-28s not in the Python SDK (Go only): nothing to capture" % n)
        print("%d service versions, %d operations captured, %d skipped, %d failed"
              % (len(jobs) - len(failed), total_ops, total_skipped, len(failed)))
        return 1 if failed else 0
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

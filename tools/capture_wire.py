#!/usr/bin/python3
"""Records what the official Huawei Cloud Python SDK puts on the wire.

For each service below, every operation of the client class is called with a
deterministic value in every request field, against a loopback HTTP server of
our own; the request as received is written to spec/fixtures/wire/<field>.json.

Usage: capture_wire.py --sdk <bare git mirror of huaweicloud-sdk-python-v3>
                       [--out spec/fixtures/wire] [--only field,field]

The SDK folders are unpacked from the mirror's HEAD into a temporary folder
(git archive), so the fixture names the exact commit it was made from.
"""

import argparse
import importlib
import inspect
import json
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

AK = "WIREAK"
SK = "wire-secret"
PROJECT_ID = "wireproject0001"
DOMAIN_ID = "wiredomain0001"
MAX_DEPTH = 10

# field -> (SDK folder, module, client class or None for the only one, global)
SERVICES = {
    "workspaceapp": ("huaweicloud-sdk-workspaceapp", "huaweicloudsdkworkspaceapp.v1",
                     "WorkspaceAppClient", False),
    "codeartsbuild": ("huaweicloud-sdk-codeartsbuild", "huaweicloudsdkcodeartsbuild.v3", None, False),
    "servicestage": ("huaweicloud-sdk-servicestage", "huaweicloudsdkservicestage.v3", None, False),
    "servicestage_v2": ("huaweicloud-sdk-servicestage", "huaweicloudsdkservicestage.v2", None, False),
    "asm": ("huaweicloud-sdk-asm", "huaweicloudsdkasm.v1", None, False),
    "iam": ("huaweicloud-sdk-iam", "huaweicloudsdkiam.v3", None, True),
}


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


# --- one service ---------------------------------------------------------

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


def capture_service(field, sdk_commit, server):
    _, modname, client_name, is_global = SERVICES[field]
    mod = importlib.import_module(modname)
    core_client = importlib.import_module("huaweicloudsdkcore.client")
    http_utils = importlib.import_module("huaweicloudsdkcore.utils.http_utils")
    http_config = importlib.import_module("huaweicloudsdkcore.http.http_config")
    creds_mod = importlib.import_module("huaweicloudsdkcore.auth.credentials")
    stream_req = importlib.import_module("huaweicloudsdkcore.sdk_stream_request").SdkStreamRequest

    if client_name is None:
        names = [n for n in dir(mod) if n.endswith("Client") and not n.endswith("AsyncClient")
                 and inspect.isclass(getattr(mod, n)) and issubclass(getattr(mod, n), core_client.Client)]
        if len(names) != 1:
            raise SystemExit("%s: expected one client class, found %s" % (modname, names))
        client_name = names[0]
    client_cls = getattr(mod, client_name)

    models_mod = importlib.import_module(modname + ".model")
    models = {n: getattr(models_mod, n) for n in dir(models_mod)
              if inspect.isclass(getattr(models_mod, n)) and hasattr(getattr(models_mod, n), "openapi_types")}

    config = http_config.HttpConfig.get_default_config()
    config.retry_times = 0
    config.timeout = (5, 10)
    if is_global:
        creds = creds_mod.GlobalCredentials(AK, SK, DOMAIN_ID)
    else:
        creds = creds_mod.BasicCredentials(AK, SK, PROJECT_ID)
    endpoint = "http://127.0.0.1:%d" % server.server_address[1]
    client = (client_cls.new_builder().with_http_config(config).with_credentials(creds)
              .with_endpoints([endpoint]).build())

    out_ops = {}
    skipped = {}
    for op in operations(client_cls):
        rname = request_class_name(client_cls, op)
        rcls = models.get(rname)
        if rcls is None:
            skipped[op] = "no request class %s" % rname
            continue
        filler = Filler(models)
        if issubclass(rcls, stream_req) or any(filler.has_file(t) for t in rcls.openapi_types.values()):
            skipped[op] = "file upload"
            continue
        try:
            req = filler.model(rcls, (rname,))
        except SkipOperation as e:
            skipped[op] = str(e)
            continue
        info = getattr(client_cls, "_%s_http_info" % op)(req)
        if info.get("post_params"):
            skipped[op] = "form parameters"
            continue

        amap = rcls.attribute_map
        path_p, query_p, header_p, body = {}, {}, {}, None
        qnames = [k for k, _ in info["query_params"]]
        for attr in sorted(rcls.openapi_types, key=lambda a: amap[a]):
            val = getattr(req, attr)
            if val is None:
                continue
            wire = amap[attr]
            typed = http_utils.sanitize_for_serialization(val)
            if attr == "body" and info.get("body") is val:
                body = typed
            elif wire in info["path_params"]:
                path_p[wire] = typed
            elif wire in qnames:
                query_p[wire] = typed
            elif wire in info["header_params"]:
                header_p[wire] = typed
            else:
                raise SystemExit("%s.%s: field %s is neither path, query, header nor body"
                                 % (field, op, attr))

        while not server.records.empty():
            server.records.get_nowait()
        try:
            getattr(client, op)(req)
        except Exception:  # noqa: BLE001 -- decoding our {} may fail; the request is what counts
            pass
        recs = []
        while not server.records.empty():
            recs.append(server.records.get_nowait())
        if len(recs) != 1:
            skipped[op] = "SDK sent %d requests" % len(recs)
            continue
        rec = recs[0]
        rpath, _, rquery = rec["target"].partition("?")
        entry = {
            "path": path_p,
            "query": query_p,
            "header": header_p,
            "wire": {
                "method": rec["method"],
                "path": rpath,
                "query": [list(p) for p in urllib.parse.parse_qsl(rquery, keep_blank_values=True)],
                "content_type": header_lookup(rec["headers"], "Content-Type"),
                "x_project_id": header_lookup(rec["headers"], "X-Project-Id"),
                "x_domain_id": header_lookup(rec["headers"], "X-Domain-Id"),
                "headers": {h: header_lookup(rec["headers"], h) for h in header_p},
                "body": parse_body(rec["body"]),
            },
        }
        if "body" in rcls.openapi_types:
            entry["body"] = body
        out_ops[op] = entry

    return {
        "generated_by": "tools/capture_wire.py",
        "source": {"sdk": "huaweicloud-sdk-python-v3", "commit": sdk_commit, "module": modname},
        "project_id": None if is_global else PROJECT_ID,
        "domain_id": DOMAIN_ID if is_global else None,
        "skipped": skipped,
        "operations": out_ops,
    }


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--sdk", required=True, help="bare git mirror of huaweicloud-sdk-python-v3")
    ap.add_argument("--out", default=os.path.join(here, "..", "spec", "fixtures", "wire"))
    ap.add_argument("--only", default="", help="comma-separated fields")
    args = ap.parse_args()

    fields = [f for f in args.only.split(",") if f] or list(SERVICES)
    for f in fields:
        if f not in SERVICES:
            raise SystemExit("unknown field %s (known: %s)" % (f, ", ".join(SERVICES)))
    commit = subprocess.check_output(["git", "-C", args.sdk, "rev-parse", "HEAD"], text=True).strip()

    tmp = tempfile.mkdtemp(prefix="pysdk.")
    try:
        folders = ["huaweicloud-sdk-core"] + sorted({SERVICES[f][0] for f in fields})
        for folder in folders:
            archive = subprocess.Popen(["git", "-C", args.sdk, "archive", "HEAD", folder],
                                       stdout=subprocess.PIPE)
            subprocess.check_call(["tar", "-x", "-C", tmp], stdin=archive.stdout)
            archive.stdout.close()
            if archive.wait() != 0:
                raise SystemExit("git archive %s failed" % folder)
            sys.path.insert(0, os.path.join(tmp, folder))

        server = start_server()
        os.makedirs(args.out, exist_ok=True)
        for f in fields:
            doc = capture_service(f, commit, server)
            path = os.path.join(args.out, f + ".json")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(doc, sort_keys=True, indent=1, ensure_ascii=False) + "\n")
            print("%s: %d operations, %d skipped" % (f, len(doc["operations"]), len(doc["skipped"])))
        server.shutdown()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

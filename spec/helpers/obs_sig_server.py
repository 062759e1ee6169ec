#!/usr/bin/env python3
"""A loopback object store for spec/obs_sigcheck_spec.lua with its own check
of OBS's three signatures (OBS and AWS V2 with HMAC-SHA1, SigV4 for "s3"),
written from the published algorithms with Python's standard library, apart
from both the client's signer and the emulator's.

usage: obs_sig_server.py AK SK [SECURITY_TOKEN]
Prints "listening on PORT" once it accepts connections (127.0.0.1 only).
Every request is checked; a bad one gets 403 with <Code>SignatureDoesNotMatch</Code>.
GET /_log answers the signature kinds accepted so far, one per line.
"""
import base64
import hashlib
import hmac
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

AK, SK = sys.argv[1], sys.argv[2]
TOKEN = sys.argv[3] if len(sys.argv) > 3 else None
SUB = set("""acl backtosource metadata policy torrent logging location storageinfo quota
storageclass storagepolicy requestpayment versions versioning versionid uploads uploadid
partnumber website notification lifecycle deletebucket delete cors restore encryption tagging
append modify position replication response-content-type response-content-language
response-expires response-cache-control response-content-disposition response-content-encoding
x-image-process x-oss-process x-image-save-bucket x-image-save-object ignore-sign-in-query""".split())
OBJECTS = {}
LOG = []


def quote(s, safe):
    return urllib.parse.quote(s, safe=safe)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def headers_lower(self):
        out = {}
        for k, v in self.headers.items():
            k = k.lower()
            out[k] = out[k] + "," + v if k in out else v
        return out

    def v2_string(self, kind, h, path, query, date=None):
        prefix = "x-obs-" if kind == "OBS" else "x-amz-"
        if date is None:
            date = "" if (prefix + "date") in h else h.get("date", "")
        lines = [self.command, h.get("content-md5", ""), h.get("content-type", ""), date]
        xs = []
        for k in sorted(k for k in h if k.startswith(prefix)):
            v = h[k].strip() if k.startswith(prefix + "meta-") else h[k]
            xs.append(k + ":" + v + "\n")
        parts = path.split("/", 2)  # "", bucket, key
        bucket = parts[1] if len(parts) > 1 else ""
        key = urllib.parse.unquote(parts[2]) if len(parts) > 2 else ""
        res = "/" + bucket + "/" + quote(key, "/-_.~") if bucket else "/"
        subs = sorted((k, v) for k, v in query if k.lower() in SUB or k.lower().startswith(prefix))
        if subs:
            res += "?" + "&".join(k + ("=" + v if v else "") for k, v in subs)
        return "\n".join(lines) + "\n" + "".join(xs) + res

    def check(self, path, query, h):
        auth = h.get("authorization", "")
        q = dict(query)
        if auth.startswith("OBS ") or auth.startswith("AWS "):
            kind, cred = auth.split(" ", 1)
            ak, sig = cred.split(":", 1)
            tok = h.get(("x-obs-" if kind == "OBS" else "x-amz-") + "security-token")
            want = base64.b64encode(hmac.new(SK.encode(), self.v2_string(kind, h, path, query).encode(),
                                             hashlib.sha1).digest()).decode()
            return ak == AK and tok == TOKEN and hmac.compare_digest(want, sig), kind
        if auth.startswith("AWS4-HMAC-SHA256 "):
            fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
            ak, day, region, service, term = fields["Credential"].split("/")
            signed = fields["SignedHeaders"]
            canon_q = "&".join(sorted(quote(k, "-_.~") + "=" + quote(v, "-_.~") for k, v in query))
            canon_h = "".join(n + ":" + " ".join(h.get(n, "").split()) + "\n" for n in signed.split(";"))
            uri = "/".join(quote(urllib.parse.unquote(s), "-_.~") for s in path.split("/"))
            creq = "\n".join([self.command, uri, canon_q, canon_h, signed, h.get("x-amz-content-sha256", "")])
            scope = "/".join([day, region, service, term])
            sts = "\n".join(["AWS4-HMAC-SHA256", h.get("x-amz-date", ""), scope,
                             hashlib.sha256(creq.encode()).hexdigest()])
            k = ("AWS4" + SK).encode()
            for part in (day, region, service, term):
                k = hmac.new(k, part.encode(), hashlib.sha256).digest()
            want = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
            ok = (ak == AK and service == "s3" and term == "aws4_request"
                  and h.get("x-amz-security-token") == TOKEN
                  and (TOKEN is None or "x-amz-security-token" in signed.split(";"))
                  and hmac.compare_digest(want, fields["Signature"]))
            return ok, "AWS4"
        if "Signature" in q and ("AccessKeyId" in q or "AWSAccessKeyId" in q):
            kind = "OBS" if "AccessKeyId" in q else "AWS"
            tok = q.get(("x-obs-" if kind == "OBS" else "x-amz-") + "security-token")
            want = base64.b64encode(hmac.new(SK.encode(), self.v2_string(kind, h, path, query, q["Expires"]).encode(),
                                             hashlib.sha1).digest()).decode()
            return (q.get("AccessKeyId", q.get("AWSAccessKeyId")) == AK and tok == TOKEN
                    and want == q["Signature"]), kind + "-url"
        if "X-Amz-Signature" in q:
            ak, day, region, service, term = q["X-Amz-Credential"].split("/")
            signed = q["X-Amz-SignedHeaders"]
            canon_q = "&".join(sorted(quote(k, "-_.~") + "=" + quote(v, "-_.~") for k, v in query
                                      if k != "X-Amz-Signature"))
            canon_h = "".join(n + ":" + " ".join(h.get(n, "").split()) + "\n" for n in signed.split(";"))
            uri = "/".join(quote(urllib.parse.unquote(s), "-_.~") for s in path.split("/"))
            creq = "\n".join([self.command, uri, canon_q, canon_h, signed, "UNSIGNED-PAYLOAD"])
            scope = "/".join([day, region, service, term])
            sts = "\n".join(["AWS4-HMAC-SHA256", q["X-Amz-Date"], scope,
                             hashlib.sha256(creq.encode()).hexdigest()])
            k = ("AWS4" + SK).encode()
            for part in (day, region, service, term):
                k = hmac.new(k, part.encode(), hashlib.sha256).digest()
            want = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
            return (ak == AK and q.get("X-Amz-Security-Token") == TOKEN
                    and hmac.compare_digest(want, q["X-Amz-Signature"])), "AWS4-url"
        return False, "none"

    def answer(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qsl(url.query, keep_blank_values=True)
        h = self.headers_lower()
        n = int(h.get("content-length", "0") or 0)
        body = self.rfile.read(n) if n else b""
        if url.path == "/_log":
            return self.answer(200, "\n".join(LOG).encode())
        ok, kind = self.check(url.path, query, h)
        if not ok:
            return self.answer(403, b"<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code>"
                               b"<Message>checked by obs_sig_server.py</Message></Error>",
                               {"Content-Type": "application/xml", "x-obs-request-id": "sigcheck"})
        LOG.append(kind)
        key = url.path
        if self.command == "PUT":
            OBJECTS[key] = body
            return self.answer(200, b"", {"ETag": '"' + hashlib.md5(body).hexdigest() + '"'})
        if self.command in ("GET", "HEAD"):
            if key not in OBJECTS:
                return self.answer(404, b"<Error><Code>NoSuchKey</Code><Message>no</Message></Error>",
                                   {"Content-Type": "application/xml"})
            data = OBJECTS[key]
            return self.answer(200, data, {"ETag": '"' + hashlib.md5(data).hexdigest() + '"'})
        if self.command == "DELETE":
            OBJECTS.pop(key, None)
            return self.answer(204)
        return self.answer(405)

    do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = handle_any


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("listening on %d" % server.server_address[1], flush=True)
server.serve_forever()

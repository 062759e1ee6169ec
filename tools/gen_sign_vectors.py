#!/usr/bin/env python3
"""Writes the SM3 and derived (V11) signature vectors of the official Python
SDK's own signers: spec/fixtures/vectors/sm3.jsonl and derived.jsonl.

Run from the checkout with the SDK's core on the path (`make vectors
SDK_PYTHON=...` does; `make vectors-check` compares a fresh run with the
committed files):
  PYTHONPATH=$SDK/huaweicloud-sdk-core python3 tools/gen_sign_vectors.py $SDK [OUT_DIR]
The SDK's SM3 is hashlib's (OpenSSL 3's default provider). The first line of
each file names the SDK commit; the vectors are fixed inputs, so a rerun on
the same commit writes the same bytes.
"""
import json
import subprocess
import sys

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import SM3Signer, DerivationAKSKSigner

AKS = [("QTWAOYTTINDUT2QVKYUC", "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"),
       ("HPUAEXAMPLEAK00000001", "ExampleSecretKey0000000000000000000000001")]

# method, endpoint host, path, query pairs, body, extra headers, date
CASES = [
    ("GET", "iam.cn-north-4.myhuaweicloud.com", "/v3/projects", [], "",
     {}, "20260115T083000Z"),
    ("GET", "vpc.cn-north-4.myhuaweicloud.com",
     "/v1/95d02433133a4c0a87ba6967474a2ad3/vpcs",
     [("limit", "2"), ("marker", "13551d6b-755d-4757-b956-536f674975c0")], "",
     {"X-Project-Id": "95d02433133a4c0a87ba6967474a2ad3"}, "20191115T033655Z"),
    ("POST", "ecs.cn-north-4.myhuaweicloud.com",
     "/v1/95d02433133a4c0a87ba6967474a2ad3/cloudservers/action",
     [("a b", "c/d~e"), ("z", "")], '{"os-stop":{"servers":[{"id":"x"}]}}',
     {"X-Project-Id": "95d02433133a4c0a87ba6967474a2ad3"}, "20240229T235959Z"),
    ("PUT", "swr-api.cn-north-4.myhuaweicloud.com",
     "/v2/manage/namespaces/ns 1/repos/a~b(c)", [], "{\"x\":1}",
     {"X-Security-Token": "tmp-token-1", "X-Extra": "  spaced  "},
     "20261122T235959Z"),
    ("DELETE", "obs.example.com", "/", [("k", ["b", "a"])], "", {},
     "20260701T000000Z"),
]

# IoTDA (its client names "iotdm" as the derived service): instance hosts
DERIVED = [
    ("GET", "abc123.st1.iotda-app.cn-north-4.myhuaweicloud.com",
     "/v5/iot/95d02433133a4c0a87ba6967474a2ad3/products", [("limit", "10")],
     "", {"X-Project-Id": "95d02433133a4c0a87ba6967474a2ad3"},
     "20260115T083000Z", "cn-north-4"),
    ("POST", "abc123.st1.iotda-app.ap-southeast-1.myhuaweicloud.com",
     "/v5/iot/95d02433133a4c0a87ba6967474a2ad3/devices", [],
     '{"node_id":"n1","product_id":"p1"}',
     {"X-Project-Id": "95d02433133a4c0a87ba6967474a2ad3",
      "X-Security-Token": "tmp-token-2"}, "20241231T235959Z",
     "ap-southeast-1"),
    ("DELETE", "10.0.0.8:8443", "/v5/iot/p1/devices/d 1", [], "", {},
     "20260301T120000Z", "cn-east-3"),
]


def sign(signer, method, host, path, query, body, headers, date, extra=()):
    hdrs = {"Content-Type": "application/json", "X-Sdk-Date": date}
    hdrs.update(headers)
    headers_in = dict(hdrs)
    req = SdkRequest(method=method, schema="https", host=host,
                     resource_path=path, query_params=list(query),
                     header_params=hdrs, body=body)
    req = signer.sign(req, *extra)
    auth = req.header_params["Authorization"]
    return headers_in, auth


def query_obj(query):
    return {k: v for k, v in query}


def main():
    sdk = sys.argv[1]
    out_dir = sys.argv[2] if len(sys.argv) > 2 else "spec/fixtures/vectors"
    commit = subprocess.check_output(["git", "-C", sdk, "rev-parse", "HEAD"],
                                     text=True).strip()
    head = {"generated_by": "tools/gen_sign_vectors.py",
            "source": "huaweicloud-sdk-python-v3 huaweicloudsdkcore signer",
            "commit": commit}
    out = []
    for i, (m, host, path, q, body, hdrs, date) in enumerate(CASES):
        ak, sk = AKS[i % 2]
        hin, auth = sign(SM3Signer(BasicCredentials(ak, sk)), m, host, path,
                         q, body, hdrs, date)
        out.append({"id": "sm3-%d" % (i + 1), "algorithm": "SDK-HMAC-SM3",
                    "method": m, "endpoint": "https://" + host, "path": path,
                    "query": query_obj(q), "body": body, "ak": ak, "sk": sk,
                    "headers_in": hin, "authorization": auth})
    write(out_dir + "/sm3.jsonl", head, out)
    out = []
    for i, (m, host, path, q, body, hdrs, date, region) in enumerate(DERIVED):
        ak, sk = AKS[i % 2]
        hin, auth = sign(DerivationAKSKSigner(BasicCredentials(ak, sk)), m,
                         host, path, q, body, hdrs, date, ("iotdm", region))
        out.append({"id": "derived-%d" % (i + 1),
                    "algorithm": "V11-HMAC-SHA256", "region": region,
                    "service": "iotdm", "method": m,
                    "endpoint": "https://" + host, "path": path,
                    "query": query_obj(q), "body": body, "ak": ak, "sk": sk,
                    "headers_in": hin, "authorization": auth})
    write(out_dir + "/derived.jsonl", head, out)


def write(path, head, rows):
    with open(path, "w") as f:
        f.write(json.dumps(head, sort_keys=True) + "\n")
        for r in rows:
            f.write(json.dumps(r, sort_keys=True) + "\n")


main()

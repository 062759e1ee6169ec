#!/usr/bin/python3
"""Records what the official Huawei Cloud Python SDK puts on the wire for
operations whose body is not JSON: a multipart form with a file part (CCE
upload_chart), a form-urlencoded body (UCS register_cluster_group) and a
JSON patch (IMS glance_update_image), against tools/capture_wire.py's
loopback server. Writes spec/fixtures/wire/nonjson.json: for each, the
method, target, the headers that say how the body is sent and signed, and
the body (a multipart boundary written as BOUNDARY, which is random).

Usage: PYTHONPATH=<sdk>/huaweicloud-sdk-core:<sdk>/huaweicloud-sdk-cce:\
<sdk>/huaweicloud-sdk-ucs:<sdk>/huaweicloud-sdk-ims \
  /usr/bin/python3 tools/capture_nonjson.py <sdk> [OUT]
(needs python3-requests-toolbelt and python3-bson, as the SDK's core does)
"""

import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import capture_wire  # noqa: E402  (its loopback recorder)

from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials  # noqa: E402
from huaweicloudsdkcore.http.http_config import HttpConfig  # noqa: E402
from huaweicloudsdkcore.http.formdata import FormFile  # noqa: E402

AK, SK, PROJECT_ID = capture_wire.AK, capture_wire.SK, capture_wire.PROJECT_ID
# the file part's bytes: every byte value, so nothing is lost or re-encoded
FILE_BYTES = bytes(range(256)) * 4
KEEP = ("content-type", "content-length", "x-sdk-content-sha256", "transfer-encoding")


def client_of(cls, server, is_global=False):
    config = HttpConfig.get_default_config()
    config.retry_times = 0
    config.timeout = (5, 10)
    endpoint = "http://127.0.0.1:%d" % server.server_address[1]
    return (cls.new_builder().with_http_config(config)
            .with_credentials(GlobalCredentials(AK, SK, capture_wire.DOMAIN_ID) if is_global
                              else BasicCredentials(AK, SK, PROJECT_ID))
            .with_endpoints([endpoint]).build())


def record(server, call):
    call()
    r = server.records.get(timeout=10)
    headers = {k.lower(): v for k, v in r["headers"] if k.lower() in KEEP}
    body = r["body"]
    m = re.search(r"boundary=([0-9A-Za-z'()+_,./:=?-]+)", headers.get("content-type", ""))
    if m:
        headers["content-type"] = headers["content-type"].replace(m.group(1), "BOUNDARY")
        body = body.replace(m.group(1).encode(), b"BOUNDARY")
        # the boundary's length is the random part's: the length as it
        # would be with the word BOUNDARY
        n = body.count(b"BOUNDARY")
        headers["content-length"] = str(int(headers["content-length"])
                                        - n * (len(m.group(1)) - len("BOUNDARY")))
    return {"method": r["method"], "target": r["target"], "headers": headers,
            "body_hex": body.hex()}


def main():
    sdk = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else "spec/fixtures/wire"
    commit = subprocess.check_output(["git", "-C", sdk, "rev-parse", "HEAD"], text=True).strip()
    from huaweicloudsdkcce.v3 import CceClient, UploadChartRequest, UploadChartRequestBody
    from huaweicloudsdkucs.v1 import (UcsClient, RegisterClusterGroupRequest,
                                      RegisterClusterGroup)
    from huaweicloudsdkims.v2 import (ImsClient, GlanceUpdateImageRequest,
                                      GlanceUpdateImageRequestBody)

    server = capture_wire.start_server()
    tmp = tempfile.mkdtemp(prefix="nonjson.")
    path = os.path.join(tmp, "chart.bin")
    with open(path, "wb") as f:
        f.write(FILE_BYTES)
    ops = {}
    try:
        cce = client_of(CceClient, server)
        body = UploadChartRequestBody(parameters='{"override":true}', content=FormFile(path))
        ops["cce.upload_chart"] = record(server, lambda: cce.upload_chart(UploadChartRequest(body=body)))
        ucs = client_of(UcsClient, server, True)
        form = RegisterClusterGroup(metadata="a b&c=d/é", spec="s+1")
        ops["ucs.register_cluster_group"] = record(
            server, lambda: ucs.register_cluster_group(RegisterClusterGroupRequest(body=form)))
        ims = client_of(ImsClient, server)
        patch = [GlanceUpdateImageRequestBody(op="replace", path="/name", value="img-2")]
        ops["ims.glance_update_image"] = record(
            server, lambda: ims.glance_update_image(GlanceUpdateImageRequest(image_id="img-1", body=patch)))
    finally:
        os.remove(path)
        os.rmdir(tmp)
        server.shutdown()
    doc = {"generated_by": "tools/capture_nonjson.py", "sdk": "huaweicloud-sdk-python-v3",
           "commit": commit, "file_hex": FILE_BYTES.hex(), "operations": ops}
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "nonjson.json"), "w", encoding="utf-8") as fh:
        fh.write(json.dumps(doc, sort_keys=True, indent=1) + "\n")
    print("nonjson: %d operations" % len(ops))


if __name__ == "__main__":
    main()

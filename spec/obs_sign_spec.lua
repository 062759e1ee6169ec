-- The OBS signers against published vectors: AWS signature version 2 and
-- SigV4 (S3 "GET Object") examples, and OBS-mode goldens made with the
-- official OBS SDK's signer (../shared/reference/cloud_facts.md 5.4).
local sign = require "hwcloud.obs.sign"
local core = require "hwcloud.core"

describe("obs signing", function()
  it("V2 (AWS) matches the AWS published example", function()
    local r = { method = "GET", bucket = "awsexamplebucket1", key = "photos/puppy.jpg",
                headers = { Date = "Tue, 27 Mar 2007 19:36:42 +0000" } }
    local sts = sign.string_to_sign("v2", r)
    assert.equal("GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg", sts)
    sign.sign("v2", r, { ak = "AKIAIOSFODNN7EXAMPLE", sk = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" }, 0)
    assert.equal("AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=", r.headers.Authorization)
  end)

  it("SigV4 matches the AWS S3 GET Object example", function()
    local r = { method = "GET", path = "/test.txt", host = "examplebucket.s3.amazonaws.com",
                region = "us-east-1", query = {},
                headers = { Range = "bytes=0-9", ["x-amz-date"] = "20130524T000000Z",
                            ["x-amz-content-sha256"] = sign.EMPTY_SHA256 } }
    sign.sign("v4", r, { ak = "AKIAIOSFODNN7EXAMPLE", sk = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" }, 0)
    assert.equal("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
      .. "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
      .. "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
      r.headers.Authorization)
  end)

  it("OBS mode matches the official signer on the documentation's example", function()
    local r = { method = "GET", bucket = "bucket", key = "object.txt",
                headers = { Date = "Sat, 12 Oct 2015 08:12:38 GMT" } }
    assert.equal("GET\n\n\nSat, 12 Oct 2015 08:12:38 GMT\n/bucket/object.txt",
      sign.string_to_sign("obs", r))
    sign.sign("obs", r, { ak = "AKEXAMPLE", sk = "SKEXAMPLE" }, 0)
    assert.equal("OBS AKEXAMPLE:f92mQYzVW+6e7FwUmq43eST1Gzs=", r.headers.Authorization)
  end)

  it("OBS mode: x-obs headers, trimmed metadata, sub-resources only, encoded key", function()
    local r = { method = "PUT", bucket = "bucket", key = "dir/a b.txt",
                query = { acl = true, foo = "bar" },
                headers = { Date = "Sat, 12 Oct 2015 08:12:38 GMT", ["Content-Type"] = "text/plain",
                            ["x-obs-acl"] = "public-read", ["x-obs-meta-a"] = " x " } }
    assert.equal("PUT\n\ntext/plain\nSat, 12 Oct 2015 08:12:38 GMT\nx-obs-acl:public-read\n"
      .. "x-obs-meta-a:x\n/bucket/dir/a%20b.txt?acl", sign.string_to_sign("obs", r))
    sign.sign("obs", r, { ak = "AKEXAMPLE", sk = "SKEXAMPLE" }, 0)
    assert.equal("OBS AKEXAMPLE:ub3iTdiWMANbujkXX1oKOPalloc=", r.headers.Authorization)
  end)

  it("temporary keys send their token in the mode's own header, signed", function()
    local r = { method = "GET", bucket = "b", key = "k", headers = { Date = "x" } }
    sign.sign("obs", r, { ak = "A", sk = "S", security_token = "TOK" }, 0)
    assert.equal("TOK", r.headers["x-obs-security-token"])
    assert.truthy(sign.string_to_sign("obs", r):find("x-obs-security-token:TOK\n", 1, true))
    local r2 = { method = "GET", bucket = "b", key = "k", headers = { Date = "x" } }
    sign.sign("v2", r2, { ak = "A", sk = "S", security_token = "TOK" }, 0)
    assert.equal("TOK", r2.headers["x-amz-security-token"])
    local r4 = { method = "GET", path = "/b/k", host = "h", region = "r", query = {}, headers = {} }
    sign.sign("v4", r4, { ak = "A", sk = "S", security_token = "TOK" }, 0)
    assert.equal("TOK", r4.headers["x-amz-security-token"])
    assert.truthy(r4.headers.Authorization:find("x-amz-security-token", 1, true))
  end)

  it("x-obs-date stands in for Date", function()
    local r = { method = "GET", bucket = "b", headers = { ["x-obs-date"] = "D" } }
    assert.equal("GET\n\n\n\nx-obs-date:D\n/b/", sign.string_to_sign("obs", r))
  end)

  it("dates are RFC 1123 in any locale", function()
    assert.equal("Thu, 01 Jan 1970 00:00:00 GMT", sign.http_date(0))
    assert.equal("20130524T000000Z", sign.amz_date(1369353600))
  end)

  it("signed URLs: Expires replaces Date, the key id and signature go in the query", function()
    local q = sign.presign("obs", { method = "GET", bucket = "b", key = "k", query = {} },
      { ak = "AK", sk = "SK" }, 1000, 60)
    assert.equal("AK", q.AccessKeyId)
    assert.equal("1060", q.Expires)
    assert.equal(core.base64(core.hmac("sha1", "SK", "GET\n\n\n1060\n/b/k")), q.Signature)
    local q2 = sign.presign("v2", { method = "GET", bucket = "b", key = "k", query = {} },
      { ak = "AK", sk = "SK" }, 1000, 60)
    assert.equal("AK", q2.AWSAccessKeyId)
  end)
end)

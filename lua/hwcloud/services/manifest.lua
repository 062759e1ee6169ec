-- The catalog's one hand input: the exceptions to its rules. Everything
-- else (which services, which versions, hosts, global or regional, paging)
-- comes from the official SDKs through tools/gen_services.py, and the index
-- (tools/gen_catalog.lua) is made from that and this.
return {
  -- service versions of the official SDKs that are not generated, and why
  -- (asking for one is a clear error, not a missing field)
  excluded = {
    ["kvs/v1"] = "KVS sends BSON bodies, which hwcloud does not speak",
    ["obs/v1"] = "object storage is client.obs (XML and its own signing), not a generated service",
    ["codecheck/v2"] = "the SDK describes CodeCheck v2 in an old client layout, last updated in 2024",
  },
  -- client fields whose versions differ from the rule (a service's field
  -- holds every version, the newest winning a shared name): the versions,
  -- the first winning a shared name
  fields = {
    -- the seed's meaning: ServiceStage v3 only (v2 is servicestage_v2)
    servicestage = { "v3" },
    -- the seed's meaning: IAM v3, plus what only v5 has
    iam = { "v3", "v5" },
  },
}

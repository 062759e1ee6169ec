-- hwcloud obs cp | ls | mb: object storage from the shell (hwcloud.obs).
-- Files stream from and to disk; large ones go in parts, with progress.

local ipairs, tostring = ipairs, tostring
local format = string.format

local common = require "hwcloud.cli.common"

local usage = common.usage
local fail = common.fail

local PART_SIZE = 16 * 1024 * 1024
local PART_THRESHOLD = 64 * 1024 * 1024

local function obs_url(s)
  return s:match("^obs://([^/]+)/?(.*)$")
end

-- long transfers show their parts as fan-outs do, unless --quiet
local function parts_progress(ctx)
  if ctx.quiet then return false end
  return ctx.err_tty and "live" or "plain"
end

-- --no-checksum: checksum = false (the bytes not hashed nor compared with
-- the ETag); otherwise the client's obs_checksum decides
local function checksum(ctx)
  if ctx.opts["no-checksum"] then return false end
  return nil
end

local function upload(ctx, client, file, bucket, key)
  if key == "" or key:sub(-1) == "/" then key = key .. (file:match("([^/]+)$") or file) end
  local info = require("hwcloud.core").file_info(file)
  local res, err
  if info and info.size > PART_THRESHOLD then
    res, err = client.obs:upload_file({ bucket = bucket, key = key, file = file,
      part_size = PART_SIZE, concurrency = 4, checksum = checksum(ctx) },
      { progress = parts_progress(ctx) })
  else
    res, err = client.obs:put_object{ bucket = bucket, key = key, file = file,
      checksum = checksum(ctx) }
  end
  if not res then return fail(ctx, err) end
  ctx.out(format("upload: %s -> obs://%s/%s (%.0f bytes)\n", file, bucket, key,
    info and info.size or 0))
  return 0
end

local function cp(ctx, client, a, b)
  local sb, sk = obs_url(a)
  local db, dk = obs_url(b)
  if db and not sb then return upload(ctx, client, a, db, dk) end
  if not sb or db then
    usage("obs cp: one of the two must be obs://BUCKET/KEY and the other a file")
  end
  if sk == "" then usage("obs cp: %s names no key", a) end
  local res, err = client.obs:download_file({ bucket = sb, key = sk, file = b,
    part_size = PART_SIZE, concurrency = 4, checksum = checksum(ctx) },
    { progress = parts_progress(ctx) })
  if not res then return fail(ctx, err) end
  ctx.out(format("download: %s -> %s (%.0f bytes)\n", a, b, res.size or 0))
  return 0
end

local function ls(ctx, client, a)
  if not a then
    local res, err = client.obs:list_buckets{}
    if not res then return fail(ctx, err) end
    for _, bk in ipairs(res.buckets) do
      ctx.out(format("%s  %s\n", tostring(bk.creation_date), bk.name))
    end
    return 0
  end
  local bucket, prefix = obs_url(a)
  if not bucket then usage("obs ls: expected obs://BUCKET[/PREFIX], got '%s'", a) end
  for page, err in client:pages("obs", "list_objects", { bucket = bucket,
      prefix = prefix ~= "" and prefix or nil, delimiter = "/" }) do
    if not page then return fail(ctx, err) end
    for _, p in ipairs(page.common_prefixes) do ctx.out(format("%12s  %24s  %s\n", "PRE", "", p)) end
    for _, o in ipairs(page.contents) do
      ctx.out(format("%12.0f  %24s  %s\n", o.size or 0, tostring(o.last_modified), o.key))
    end
  end
  return 0
end

return function(ctx, pos)
  local what, a, b = pos[1], pos[2], pos[3]
  if ctx.opts["no-checksum"] and what ~= "cp" then
    usage("option --no-checksum goes with obs cp")
  end
  if what == "cp" then
    if not a or not b or pos[4] then usage("obs cp takes a source and a destination") end
    return cp(ctx, ctx.client_factory(), a, b)
  elseif what == "ls" then
    if b then usage("obs ls takes at most one obs://BUCKET[/PREFIX]") end
    return ls(ctx, ctx.client_factory(), a)
  elseif what == "mb" then
    local bucket, rest = obs_url(a or "")
    if not bucket or rest ~= "" or b then usage("obs mb takes one obs://BUCKET") end
    local res, err = ctx.client_factory().obs:create_bucket{ bucket = bucket }
    if not res then return fail(ctx, err) end
    ctx.out("make_bucket: obs://" .. bucket .. "\n")
    return 0
  end
  usage("obs: expected cp, ls or mb%s", what and common.suggest(what, { "cp", "ls", "mb" }) or "")
end

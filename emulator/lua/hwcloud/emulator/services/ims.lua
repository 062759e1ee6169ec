-- Image Management Service: private images created from an ECS server
-- (create_image with instance_id, a job), listed, shown (Glance's show),
-- and deleted; their jobs answer ShowJob on the path ECS and EVS share. An
-- image is saving until its job ends, then active (killed when the job
-- failed: its id, the image's or the server's on the fail list).

local util = require "hwcloud.emulator.util"
local errors = require "hwcloud.emulator.errors"
local inventory = require "hwcloud.emulator.inventory"
local shapes = require "hwcloud.emulator.shapes"
local cloudjobs = require "hwcloud.emulator.cloudjobs"

local type, ipairs, tostring, remove = type, ipairs, tostring, table.remove

local _M = { name = "ims" }

local JOBS = "ims_jobs"

local function bad(msg)
  return 400, errors.body("ims", 400, msg, "IMG.0001")
end

local function not_found(id)
  return 404, errors.body("ims", 404, "Image " .. tostring(id) .. " could not be found.",
                          "IMG.0027")
end

local function images_of(store)
  return inventory.of(store).ims.images
end

local function apply(store)
  return function(job, id, failed)
    local img = inventory.find(images_of(store), id)
    if not img or img._job ~= job.id then return end
    img._job = nil
    img.status = failed and "killed" or "active"
    img.updated_at = util.iso8601(job.created)
  end
end

local function settle(store, now)
  cloudjobs.settle_all(store, JOBS, now, apply(store))
end

local function find(ctx, id)
  settle(ctx.store, ctx.now)
  return inventory.find(images_of(ctx.store), id)
end

-- The image as list_images shows it, or (`glance`) as glance_show_image.
local function view(img, glance)
  local schema = glance and shapes.schema("ims", "glance_show_image")
                 or shapes.schema("ims", "list_images", "images")
  local v = shapes.view(schema, img)
  v.status = img.status or "active"
  return v
end

-- create_image from a server (instance_id): the server must exist; the
-- image is saving until the job ends. Other sources (a file, a volume)
-- are answered from the description.
local function create_image(ctx)
  local b = ctx.body
  if type(b.name) ~= "string" or b.name == "" then
    return bad("Invalid parameter name: is required")
  end
  if type(b.instance_id) ~= "string" then
    return bad("Invalid parameter instance_id: this emulator makes images from a server")
  end
  local server = inventory.find(inventory.of(ctx.store).ecs.servers, b.instance_id)
  if not server then
    return 404, errors.body("ims", 404, "The server " .. b.instance_id .. " does not exist",
                            "IMG.0085")
  end
  local now = util.iso8601(ctx.now)
  local img = {
    id = util.uuid4(), name = b.name, status = "saving",
    description = type(b.description) == "string" and b.description or "",
    __imagetype = "private", __os_type = "Linux", visibility = "private",
    __image_source_type = "uds", __image_size = "0", disk_format = "zvhd2",
    min_disk = type(b.min_disk) == "number" and b.min_disk or 40,
    min_ram = type(b.min_ram) == "number" and b.min_ram or 0,
    __ecs_instance_id = b.instance_id, owner = ctx.project_id,
    tags = type(b.tags) == "table" and b.tags or {},
    created_at = now, updated_at = now,
  }
  local list = images_of(ctx.store)
  list[#list + 1] = img
  -- the server's id on the fail list fails it too
  img._job = cloudjobs.new(ctx.store, JOBS, { job_type = "createImageByInstance",
                                              server_id = b.instance_id, also = b.instance_id },
                           { img.id }, ctx.now)
  return 200, { job_id = img._job }
end

local function show_image(ctx)
  local img = find(ctx, ctx.params.image_id)
  if not img then return not_found(ctx.params.image_id) end
  return 200, view(img, true)
end

local function delete_image(ctx)
  local id = ctx.params.image_id
  local img = find(ctx, id)
  if not img then return not_found(id) end
  if img._job then return bad("Image " .. id .. " is being created") end
  local _, i = inventory.find(images_of(ctx.store), id)
  remove(images_of(ctx.store), i)
  return 204, nil
end

-- list_images: filtered by id, name, status, __imagetype (any plain
-- field); marker/limit pages.
local function list_images(ctx)
  settle(ctx.store, ctx.now)
  local views = {}
  for i, img in ipairs(images_of(ctx.store)) do views[i] = view(img) end
  local page, info = shapes.page(views, ctx.args)
  if not page then return bad(info) end
  return 200, { images = page }
end

local function show_job(ctx)
  local id = ctx.params.job_id
  local job = cloudjobs.of(ctx.store, JOBS)[id]
  if not job then
    return 404, errors.body("ims", 404, "The job " .. tostring(id) .. " does not exist")
  end
  settle(ctx.store, ctx.now)
  local img = inventory.find(images_of(ctx.store), job.ids[1]) or {}
  job.error_code = "IMG.0000"
  return 200, cloudjobs.answer(job, ctx.now, {
    image_id = job.ids[1], image_name = img.name,
    process_percent = cloudjobs.running(job, ctx.now) and 0.5 or 1,
  }, function(iid)
    return "creating image " .. iid .. " from server " .. tostring(job.server_id)
      .. " failed (injected failure)"
  end)
end

_M.routes = {
  { op = "create_image", method = "POST", path = "/v2/cloudimages/action",
    full_request = true, handler = create_image },
  { op = "list_images", method = "GET", path = "/v2/cloudimages", handler = list_images },
  { op = "glance_show_image", method = "GET", path = "/v2/images/{image_id}",
    handler = show_image },
  { op = "glance_delete_image", method = "DELETE", path = "/v2/images/{image_id}",
    handler = delete_image },
  { op = "show_job", method = "GET", path = "/v1/{project_id}/jobs/{job_id}",
    handler = show_job },
}

return _M

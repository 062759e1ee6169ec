-- The emulator's EVS volumes and IMS images, through the client: volumes
-- creating then available as their job ends, attached and detached through
-- ECS's jobs (in-use and back), deleted by a job; images saving then active
-- from a server; their jobs on the path ECS, EVS and IMS share, each
-- answered by the service that made it; injected failures, 404s, the
-- inventory and the state.

package.path = "./?.lua;" .. package.path

local emulator = require "spec.helpers.emulator"
local answers = require "spec.helpers.answers"

local PID = "8a6b6c6d6e6f70717273747576777881"
local FAST = { interval = 0.1, max_interval = 0.3, timeout = 20 }

local emu, client
local session = emulator.session({ job_seconds = 1 }, PID, { retry_base = 0.01, retries = 0 })

lazy_setup(function() emu, client = session.start() end)
lazy_teardown(function() session.stop() end)

before_each(function() session.restore() end)

local function volume(id)
  return answers.conforms("evs", "show_volume",
                            assert(client.evs:show_volume { volume_id = id })).volume
end

local function new_volumes(n, name)
  return assert(client.evs:create_volume { volume = { availability_zone = "az1",
    volume_type = "SSD", size = 20, name = name or "data", count = n } })
end

local function server()
  local made = assert(client.ecs:create_post_paid_servers { server = {
    name = "app", flavorRef = "s6.small.1", imageRef = "img-1", vpcid = "vpc-1",
    nics = { { subnet_id = "subnet-1" } }, root_volume = { volumetype = "SSD" } } })
  assert(client:wait(made, FAST))
  return made.serverIds[1]
end

local function last_operation()
  local log = emu:admin("GET", "/_emulator/log").requests
  return log[#log].operation
end

describe("emulator EVS volumes #server", function()
  it("creates volumes: creating until the job ends, then available", function()
    local made = new_volumes(2)
    assert.is_string(made.job_id)
    assert.are.equal(2, #made.volume_ids)
    local v = volume(made.volume_ids[1])
    assert.are.equal("creating", v.status)
    assert.are.equal("data-0001", v.name)
    assert.are.equal(20, v.size)
    assert.are.same({}, v.attachments)
    local job = answers.conforms("evs", "show_job",
                                   assert(client.evs:show_job { job_id = made.job_id }))
    assert.truthy(job.status == "INIT" or job.status == "RUNNING", job.status)
    assert.are.equal("evs.show_job", last_operation())
    local final = assert(client:wait(made, FAST))
    assert.are.equal("SUCCESS", final.status)
    answers.conforms("evs", "show_job", final)
    assert.are.equal(made.volume_ids[2], final.entities.sub_jobs[2].entities.volume_id)
    assert.are.equal("available", volume(made.volume_ids[2]).status)
    -- one volume: its id in entities.volume_id
    local one = new_volumes(1, "logs")
    local done = assert(client:wait(one, FAST))
    assert.are.equal(one.volume_ids[1], done.entities.volume_id)
    assert.are.equal("logs", volume(one.volume_ids[1]).name)
  end)

  it("lists, filters, updates and deletes a volume by its job", function()
    local made = new_volumes(3)
    assert(client:wait(made, FAST))
    local all = answers.conforms("evs", "list_volumes", assert(client.evs:list_volumes {}))
    assert.are.equal(3, all.count)
    local page = assert(client.evs:list_volumes { limit = 2 })
    assert.are.equal(2, #page.volumes)
    local rest = assert(client.evs:list_volumes { limit = 2, marker = page.volumes[2].id })
    assert.are.equal(1, #rest.volumes)
    assert.are.equal(made.volume_ids[3], rest.volumes[1].id)
    assert.are.equal(1, assert(client.evs:list_volumes { name = "data-0002" }).count)
    local up = assert(client.evs:update_volume { volume_id = made.volume_ids[1],
      volume = { name = "renamed" } })
    assert.are.equal("renamed", up.name)
    assert.are.equal("renamed", volume(made.volume_ids[1]).name)

    local del = assert(client.evs:delete_volume { volume_id = made.volume_ids[1] })
    assert.are.equal("deleting", volume(made.volume_ids[1]).status)
    local _, busy = client.evs:delete_volume { volume_id = made.volume_ids[1] }
    assert.are.equal(409, busy.status)
    assert(client:wait(del, FAST))
    local _, err = client.evs:show_volume { volume_id = made.volume_ids[1] }
    assert.are.equal(404, err.status)
    assert.are.equal(2, assert(client.evs:list_volumes {}).count)
  end)

  it("attaches and detaches through ECS's jobs: attaching, in-use, detaching, available", function()
    local sid = server()
    local made = new_volumes(1)
    -- not available yet: refused
    local _, early = client.ecs:attach_server_volume { server_id = sid,
      volumeAttachment = { volumeId = made.volume_ids[1] } }
    assert.are.equal(409, early.status)
    assert(client:wait(made, FAST))
    local vid = made.volume_ids[1]
    local att = assert(client.ecs:attach_server_volume { server_id = sid,
      volumeAttachment = { volumeId = vid, device = "/dev/vdc" } })
    assert.are.equal("attaching", volume(vid).status)
    -- the job is ECS's: ECS answers it
    assert(client.ecs:show_job { job_id = att.job_id })
    assert.are.equal("ecs.show_job", last_operation())
    assert(client:wait(att, FAST))
    local v = volume(vid)
    assert.are.equal("in-use", v.status)
    assert.are.equal(sid, v.attachments[1].server_id)
    assert.are.equal("/dev/vdc", v.attachments[1].device)
    assert.are.equal("ACTIVE", assert(client.ecs:show_server { server_id = sid }).server.status)
    -- an attached volume is not deleted
    local _, err = client.evs:delete_volume { volume_id = vid }
    assert.are.equal(400, err.status)

    local det = assert(client.ecs:detach_server_volume { server_id = sid, volume_id = vid })
    assert.are.equal("detaching", volume(vid).status)
    assert(client:wait(det, FAST))
    assert.are.equal("available", volume(vid).status)
    assert.are.same({}, volume(vid).attachments)
    _, err = client.ecs:detach_server_volume { server_id = sid, volume_id = vid }
    assert.are.equal(404, err.status)
  end)

  it("fails a job on POST /_emulator/fail: error, error_deleting, a failed attach", function()
    local made = new_volumes(1)
    emu:fail { made.job_id }
    local _, err = client:wait(made, FAST)
    assert.is_table(err)
    assert.truthy(tostring(err.message):find("injected failure", 1, true), tostring(err.message))
    assert.are.equal("error", volume(made.volume_ids[1]).status)

    local ok = new_volumes(1)
    assert(client:wait(ok, FAST))
    local vid = ok.volume_ids[1]
    local sid = server()
    emu:fail { vid }
    local att = assert(client.ecs:attach_server_volume { server_id = sid,
      volumeAttachment = { volumeId = vid } })
    _, err = client:wait(att, FAST)
    assert.is_table(err)
    assert.are.equal("available", volume(vid).status)
    local del = assert(client.evs:delete_volume { volume_id = vid })
    _, err = client:wait(del, FAST)
    assert.is_table(err)
    assert.are.equal("error_deleting", volume(vid).status)
  end)

  it("answers 404 for unknown volumes and jobs, 400 for a broken request", function()
    local _, err = client.evs:show_volume { volume_id = "no-such-volume" }
    assert.are.equal(404, err.status)
    assert.are.equal("EVS.0404", err.code)
    _, err = client.evs:show_job { job_id = "no-such-job" }
    assert.are.equal(404, err.status)
    _, err = client.evs:create_volume { volume = { availability_zone = "az1",
      volume_type = "SSD", size = 0 } }
    assert.are.equal(400, err.status)
    _, err = client.ecs:attach_server_volume { server_id = "no-such-server",
      volumeAttachment = { volumeId = "no-such-volume" } }
    assert.are.equal(404, err.status)
  end)
end)

describe("emulator IMS images #server", function()
  it("creates an image from a server: saving until the job ends, then active", function()
    local sid = server()
    local made = assert(client.ims:create_image { name = "app-2026.12", instance_id = sid,
      description = "release image" })
    assert.is_string(made.job_id)
    local job = assert(client.ims:show_job { job_id = made.job_id })
    assert.are.equal("ims.show_job", last_operation())
    local iid = job.entities.image_id
    assert.is_string(iid)
    local img = answers.conforms("ims", "glance_show_image",
                                   assert(client.ims:glance_show_image { image_id = iid }))
    assert.are.equal("saving", img.status)
    assert.are.equal("app-2026.12", img.name)
    -- the ECS client asking for IMS's job: IMS answers
    assert(client.ecs:show_job { job_id = made.job_id })
    assert.are.equal("ims.show_job", last_operation())
    local final = answers.conforms("ims", "show_job", assert(client:wait(made, FAST)))
    assert.are.equal("SUCCESS", final.status)
    assert.are.equal(iid, final.entities.image_id)
    assert.are.equal("active", assert(client.ims:glance_show_image { image_id = iid }).status)
    local list = answers.conforms("ims", "list_images",
                                    assert(client.ims:list_images { __imagetype = "private" }))
    assert.are.equal(1, #list.images)
    assert.are.equal(iid, list.images[1].id)
    assert.are.equal("active", list.images[1].status)
    assert.are.equal(0, #assert(client.ims:list_images { status = "saving" }).images)
    assert(client.ims:glance_delete_image { image_id = iid })
    local _, err = client.ims:glance_show_image { image_id = iid }
    assert.are.equal(404, err.status)
  end)

  it("fails when the server is on the fail list (killed), refuses a server that does not exist",
    function()
    local sid = server()
    emu:fail { sid }
    local made = assert(client.ims:create_image { name = "broken", instance_id = sid })
    local _, err = client:wait(made, FAST)
    assert.is_table(err)
    local job = assert(client.ims:show_job { job_id = made.job_id })
    assert.are.equal("FAIL", job.status)
    assert.are.equal("killed", assert(client.ims:glance_show_image {
      image_id = job.entities.image_id }).status)
    _, err = client.ims:create_image { name = "x", instance_id = "no-such-server" }
    assert.are.equal(404, err.status)
  end)
end)

describe("emulator EVS and IMS inventory #server", function()
  it("starts from the inventory's evs and ims sections and shows them in the state", function()
    local inv = session.inventory()
    inv.evs = { volumes = { { id = "vol-inv", name = "db-data", size = 100,
                              volume_type = "SSD", status = "available" } } }
    inv.ims = { images = { { id = "img-inv", name = "base", status = "active",
                             __imagetype = "private" } } }
    assert(emu:inventory(inv))
    assert.are.equal("db-data", volume("vol-inv").name)
    assert.are.equal("base", assert(client.ims:glance_show_image { image_id = "img-inv" }).name)
    local made = new_volumes(1)
    local st = emu:state()
    local p = st.projects[PID].inventory
    assert.are.equal(2, #p.evs.volumes)
    assert.are.equal(made.volume_ids[1], p.evs.volumes[2].id)
    assert.are.equal("img-inv", p.ims.images[1].id)
    local body, status = emu:admin("POST", "/_emulator/inventory",
      { evs = { volumes = { { name = "no id" } } } })
    assert.are.equal(400, status)
    assert.truthy(body.error_msg:find("evs.volumes[1].id", 1, true), body.error_msg)
  end)
end)

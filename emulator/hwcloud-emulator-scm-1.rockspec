-- hwcloud-emulator (development version, the main branch): a local Huawei
-- Cloud for testing deployment scripts offline. A release's rockspec is
-- made from this one (make release-rockspec VERSION=x.y.z).
rockspec_format = "3.0"
package = "hwcloud-emulator"
version = "scm-1"
source = {
  url = "git+https://github.com/hwcloud-lua/hwcloud.git",
  branch = "main",
}
description = {
  summary = "A local emulator of Huawei Cloud's deployment APIs, for offline tests",
  detailed = [[
    Serves the operations the hwcloud client describes (ServiceStage,
    CodeArts Build, ASM, RTS, Workspace, IAM, the ECS metadata service) on
    127.0.0.1 from nginx with its Lua module: it checks AK/SK signatures
    and requests, keeps state for deployment work, and takes faults and
    canned answers from tests. hwcloud.emulator.testing starts and steers
    it from busted or a plain Lua script.
  ]],
  license = "Apache-2.0",
  homepage = "https://github.com/hwcloud-lua/hwcloud",
  labels = { "cloud", "huaweicloud", "emulator", "testing", "openresty" },
}
dependencies = {
  "lua >= 5.1",
  "lua-cjson >= 2.1.0",
  -- the emulator routes and validates by the client's service descriptions
  "hwcloud >= 0.1.0",
}
build = {
  -- no build step: the builtin type would also install every module of
  -- the lua/ folder next to the rockspec's working folder (the client's,
  -- when made from the top folder)
  type = "none",
  install = {
    lua = {
      ["hwcloud.emulator.admin"] = "emulator/lua/hwcloud/emulator/admin.lua",
      ["hwcloud.emulator.auth"] = "emulator/lua/hwcloud/emulator/auth.lua",
      ["hwcloud.emulator.catalog"] = "emulator/lua/hwcloud/emulator/catalog.lua",
      ["hwcloud.emulator.cloudjobs"] = "emulator/lua/hwcloud/emulator/cloudjobs.lua",
      ["hwcloud.emulator.control"] = "emulator/lua/hwcloud/emulator/control.lua",
      ["hwcloud.emulator.crypto"] = "emulator/lua/hwcloud/emulator/crypto.lua",
      ["hwcloud.emulator.described"] = "emulator/lua/hwcloud/emulator/described.lua",
      ["hwcloud.emulator.errors"] = "emulator/lua/hwcloud/emulator/errors.lua",
      ["hwcloud.emulator.forms"] = "emulator/lua/hwcloud/emulator/forms.lua",
      ["hwcloud.emulator.generic"] = "emulator/lua/hwcloud/emulator/generic.lua",
      ["hwcloud.emulator"] = "emulator/lua/hwcloud/emulator/init.lua",
      ["hwcloud.emulator.inventory"] = "emulator/lua/hwcloud/emulator/inventory.lua",
      ["hwcloud.emulator.jobs"] = "emulator/lua/hwcloud/emulator/jobs.lua",
      ["hwcloud.emulator.lifecycle"] = "emulator/lua/hwcloud/emulator/lifecycle.lua",
      ["hwcloud.emulator.obs"] = "emulator/lua/hwcloud/emulator/obs.lua",
      ["hwcloud.emulator.router"] = "emulator/lua/hwcloud/emulator/router.lua",
      ["hwcloud.emulator.services.asm"] = "emulator/lua/hwcloud/emulator/services/asm.lua",
      ["hwcloud.emulator.services.cce"] = "emulator/lua/hwcloud/emulator/services/cce.lua",
      ["hwcloud.emulator.services.codeartsbuild"] = "emulator/lua/hwcloud/emulator/services/codeartsbuild.lua",
      ["hwcloud.emulator.services.codeartsdeploy"] = "emulator/lua/hwcloud/emulator/services/codeartsdeploy.lua",
      ["hwcloud.emulator.services.codeartspipeline"] = "emulator/lua/hwcloud/emulator/services/codeartspipeline.lua",
      ["hwcloud.emulator.services.dcs"] = "emulator/lua/hwcloud/emulator/services/dcs.lua",
      ["hwcloud.emulator.services.ecs"] = "emulator/lua/hwcloud/emulator/services/ecs.lua",
      ["hwcloud.emulator.services.eip"] = "emulator/lua/hwcloud/emulator/services/eip.lua",
      ["hwcloud.emulator.services.elb"] = "emulator/lua/hwcloud/emulator/services/elb.lua",
      ["hwcloud.emulator.services.evs"] = "emulator/lua/hwcloud/emulator/services/evs.lua",
      ["hwcloud.emulator.services.functiongraph"] = "emulator/lua/hwcloud/emulator/services/functiongraph.lua",
      ["hwcloud.emulator.services.iam"] = "emulator/lua/hwcloud/emulator/services/iam.lua",
      ["hwcloud.emulator.services.ims"] = "emulator/lua/hwcloud/emulator/services/ims.lua",
      ["hwcloud.emulator.services.metadata"] = "emulator/lua/hwcloud/emulator/services/metadata.lua",
      ["hwcloud.emulator.services.rds"] = "emulator/lua/hwcloud/emulator/services/rds.lua",
      ["hwcloud.emulator.services.rts"] = "emulator/lua/hwcloud/emulator/services/rts.lua",
      ["hwcloud.emulator.services.servicestage"] = "emulator/lua/hwcloud/emulator/services/servicestage.lua",
      ["hwcloud.emulator.services.swr"] = "emulator/lua/hwcloud/emulator/services/swr.lua",
      ["hwcloud.emulator.services.vpc"] = "emulator/lua/hwcloud/emulator/services/vpc.lua",
      ["hwcloud.emulator.services.workspaceapp"] = "emulator/lua/hwcloud/emulator/services/workspaceapp.lua",
      ["hwcloud.emulator.shapes"] = "emulator/lua/hwcloud/emulator/shapes.lua",
      ["hwcloud.emulator.state"] = "emulator/lua/hwcloud/emulator/state.lua",
      ["hwcloud.emulator.testing"] = "emulator/lua/hwcloud/emulator/testing.lua",
      ["hwcloud.emulator.util"] = "emulator/lua/hwcloud/emulator/util.lua",
      ["hwcloud.emulator.validate"] = "emulator/lua/hwcloud/emulator/validate.lua",
    },
    bin = { ["hwcloud-emulator"] = "emulator/bin/hwcloud-emulator" },
  },
  copy_directories = {},
}

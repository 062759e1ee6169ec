-- hwcloud (development version, the main branch): Huawei Cloud deployment
-- APIs from Lua, with a C core. Its build section is the release's
-- (spec/rockspec_spec.lua keeps the two equal).
-- Build from a checkout with Debian's luarocks (see README):
--   luarocks --lua-version=5.4 make --deps-mode=none \
--     CURL_INCDIR=/usr/include/x86_64-linux-gnu CURL_LIBDIR=/usr/lib/x86_64-linux-gnu
rockspec_format = "3.0"
package = "hwcloud"
version = "scm-1"
source = {
  url = "git+https://github.com/hwcloud-lua/hwcloud.git",
  branch = "main",
}
description = {
  summary = "Huawei Cloud deployment APIs from Lua: signed, validated, concurrent",
  detailed = [[
    Lua tables mirror the request and response objects of Huawei Cloud's
    deployment APIs (ServiceStage, CodeArts Build, ASM, RTS, Workspace).
    A C core validates and marshals requests by schema, signs them
    (SDK-HMAC-SHA256 or IAM tokens) and sends them with libcurl; inside
    nginx the same client runs on cosockets. Includes job waiting, fan-out
    and safe retries; the local cloud emulator for offline testing is a
    rock of its own (hwcloud-emulator).
  ]],
  license = "Apache-2.0",
  homepage = "https://github.com/hwcloud-lua/hwcloud",
  labels = { "cloud", "huaweicloud", "sdk", "openresty" },
}
dependencies = {
  "lua >= 5.1",
  "lua-cjson >= 2.1.0",
}
external_dependencies = {
  CURL = { header = "curl/curl.h", library = "curl" },
  OPENSSL = { header = "openssl/evp.h", library = "crypto" },
}
build = {
  type = "builtin",
  modules = {
    ["hwcloud.core"] = {
      sources = { "src/buf.c", "src/core.c", "src/http.c", "src/marshal.c", "src/sign.c", "src/sign_lua.c",
                  "src/json.c", "src/json_decode.c", "src/hash_pipe.c", "src/body.c", "src/http_head.c",
                  "src/suggest.c", "src/url.c" },
      defines = { "_POSIX_C_SOURCE=200809L" },
      -- pthread: the body's hash is taken on a helper thread (src/hash_pipe.c)
      libraries = { "curl", "crypto", "pthread" },
      incdirs = { "src", "$(CURL_INCDIR)", "$(OPENSSL_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)", "$(OPENSSL_LIBDIR)" },
    },
    ["hwcloud.auth"] = "lua/hwcloud/auth.lua",
    ["hwcloud.call"] = "lua/hwcloud/call.lua",
    ["hwcloud.cli"] = "lua/hwcloud/cli.lua",
    ["hwcloud.client"] = "lua/hwcloud/client.lua",
    ["hwcloud.config"] = "lua/hwcloud/config.lua",
    ["hwcloud.credentials"] = "lua/hwcloud/credentials.lua",
    ["hwcloud.engine"] = "lua/hwcloud/engine.lua",
    ["hwcloud.errors"] = "lua/hwcloud/errors.lua",
    ["hwcloud.generic"] = "lua/hwcloud/generic.lua",
    ["hwcloud"] = "lua/hwcloud/init.lua",
    ["hwcloud.jobs"] = "lua/hwcloud/jobs.lua",
    ["hwcloud.options"] = "lua/hwcloud/options.lua",
    ["hwcloud.pager"] = "lua/hwcloud/pager.lua",
    ["hwcloud.progress"] = "lua/hwcloud/progress.lua",
    ["hwcloud.retry"] = "lua/hwcloud/retry.lua",
    ["hwcloud.services.asm"] = "lua/hwcloud/services/asm.lua",
    ["hwcloud.services.codeartsbuild"] = "lua/hwcloud/services/codeartsbuild.lua",
    ["hwcloud.services.gen.asm"] = "lua/hwcloud/services/gen/asm.lua",
    ["hwcloud.services.gen.asm_responses"] = "lua/hwcloud/services/gen/asm_responses.lua",
    ["hwcloud.services.gen.codeartsbuild"] = "lua/hwcloud/services/gen/codeartsbuild.lua",
    ["hwcloud.services.gen.codeartsbuild_responses"] = "lua/hwcloud/services/gen/codeartsbuild_responses.lua",
    ["hwcloud.services.gen.iam"] = "lua/hwcloud/services/gen/iam.lua",
    ["hwcloud.services.gen.iam_responses"] = "lua/hwcloud/services/gen/iam_responses.lua",
    ["hwcloud.services.gen.servicestage"] = "lua/hwcloud/services/gen/servicestage.lua",
    ["hwcloud.services.gen.servicestage_responses"] = "lua/hwcloud/services/gen/servicestage_responses.lua",
    ["hwcloud.services.gen.servicestage_v2"] = "lua/hwcloud/services/gen/servicestage_v2.lua",
    ["hwcloud.services.gen.servicestage_v2_responses"] = "lua/hwcloud/services/gen/servicestage_v2_responses.lua",
    ["hwcloud.services.gen.workspaceapp"] = "lua/hwcloud/services/gen/workspaceapp.lua",
    ["hwcloud.services.gen.workspaceapp_responses"] = "lua/hwcloud/services/gen/workspaceapp_responses.lua",
    ["hwcloud.services.iam"] = "lua/hwcloud/services/iam.lua",
    ["hwcloud.services.index"] = "lua/hwcloud/services/index.lua",
    ["hwcloud.services"] = "lua/hwcloud/services/init.lua",
    ["hwcloud.services.rts"] = "lua/hwcloud/services/rts.lua",
    ["hwcloud.services.servicestage"] = "lua/hwcloud/services/servicestage.lua",
    ["hwcloud.services.servicestage_v2"] = "lua/hwcloud/services/servicestage_v2.lua",
    ["hwcloud.services.workspaceapp"] = "lua/hwcloud/services/workspaceapp.lua",
    ["hwcloud.suggest"] = "lua/hwcloud/suggest.lua",
    ["hwcloud.transport.ngx"] = "lua/hwcloud/transport/ngx.lua",
    ["hwcloud.transport.ngx_http"] = "lua/hwcloud/transport/ngx_http.lua",
  },
  install = {
    bin = { ["hwcloud"] = "bin/hwcloud" },
  },
  -- none: luarocks then installs README.md, LICENSE and the other *.md
  -- files of the top folder as the rock's doc (luarocks doc hwcloud);
  -- naming a folder here would replace them
  copy_directories = {},
}
-- Debian's busted is not a rock: the suite runs through its own script
-- (after building the core for Lua 5.4 and LuaJIT), which runs Debian's
-- /usr/bin/busted; extra arguments name spec files.
test = { type = "command", command = "make all luajit && sh tools/test.sh" }

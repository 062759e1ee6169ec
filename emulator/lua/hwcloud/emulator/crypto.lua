-- hwcloud.emulator.crypto: SHA-256, SM3, their HMACs and random bytes from the
-- libcrypto that nginx is linked with, through LuaJIT's FFI.
-- Written independently of the client's C signer so the two check each other.

local ffi = require "ffi"

local bit = require "bit"

local byte, concat, format = string.byte, table.concat, string.format
local bor, bxor = bit.bor, bit.bxor
local pcall, error = pcall, error
local ffi_new, ffi_string, ffi_cdef = ffi.new, ffi.string, ffi.cdef

local _M = {}

-- Each declaration on its own so that one already declared elsewhere does not
-- stop the rest.
local decls = {
  "typedef struct evp_md_st EVP_MD;",
  "const EVP_MD *EVP_sha256(void);",
  "const EVP_MD *EVP_sha1(void);",
  "const EVP_MD *EVP_md5(void);",
  "typedef struct evp_md_ctx_st EVP_MD_CTX;",
  "EVP_MD_CTX *EVP_MD_CTX_new(void);",
  "void EVP_MD_CTX_free(EVP_MD_CTX *ctx);",
  "int EVP_DigestInit_ex(EVP_MD_CTX *ctx, const EVP_MD *type, void *impl);",
  "int EVP_DigestUpdate(EVP_MD_CTX *ctx, const void *d, size_t cnt);",
  "int EVP_DigestFinal_ex(EVP_MD_CTX *ctx, unsigned char *md, unsigned int *s);",
  "unsigned char *SHA256(const unsigned char *d, size_t n, unsigned char *md);",
  [[unsigned char *HMAC(const EVP_MD *evp_md, const void *key, int key_len,
                        const unsigned char *d, size_t n, unsigned char *md,
                        unsigned int *md_len);]],
  "int RAND_bytes(unsigned char *buf, int num);",
  "const EVP_MD *EVP_get_digestbyname(const char *name);",
  [[int EVP_Digest(const void *data, size_t count, unsigned char *md,
                   unsigned int *size, const EVP_MD *type, void *impl);]],
}
for i = 1, #decls do pcall(ffi_cdef, decls[i]) end

-- nginx links libcrypto, so its symbols are in the global namespace; fall
-- back to loading the library by name (e.g. when used outside nginx).
local function find_lib()
  local C = ffi.C
  if pcall(function() return C.SHA256 and C.HMAC and C.EVP_sha256 and C.RAND_bytes end) then
    return C
  end
  local names = { "crypto", "libcrypto.so.3", "libcrypto.so.1.1" }
  for i = 1, #names do
    local ok, lib = pcall(ffi.load, names[i])
    if ok and pcall(function() return lib.SHA256 and lib.HMAC end) then return lib end
  end
  error("hwcloud.emulator: libcrypto (SHA256, HMAC) not found")
end

local lib = find_lib()
local md_buf = ffi_new("unsigned char[32]")
local md_len = ffi_new("unsigned int[1]")
local sha256_md = lib.EVP_sha256()

local hex_of = {}
for i = 0, 255 do hex_of[i] = format("%02x", i) end
local hex_parts = {}

local function to_hex(s)
  local n = #s
  for i = 1, n do hex_parts[i] = hex_of[byte(s, i)] end
  for i = n + 1, #hex_parts do hex_parts[i] = nil end
  return concat(hex_parts, "", 1, n)
end
_M.to_hex = to_hex

function _M.sha256(s)
  lib.SHA256(s, #s, md_buf)
  return ffi_string(md_buf, 32)
end

function _M.sha256_hex(s)
  return to_hex(_M.sha256(s))
end

function _M.hmac_sha256(key, msg)
  lib.HMAC(sha256_md, key, #key, msg, #msg, md_buf, md_len)
  return ffi_string(md_buf, md_len[0])
end

function _M.hmac_sha256_hex(key, msg)
  return to_hex(_M.hmac_sha256(key, msg))
end

-- SM3 (SDK-HMAC-SM3); nil where the libcrypto has none
local sm3_md
do
  local ok, md = pcall(function() return lib.EVP_get_digestbyname("SM3") end)
  if ok and md ~= nil then sm3_md = md end
end

function _M.sm3_hex(s)
  if not sm3_md or lib.EVP_Digest(s, #s, md_buf, md_len, sm3_md, nil) ~= 1 then
    error("hwcloud.emulator: SM3 is not available")
  end
  return to_hex(ffi_string(md_buf, md_len[0]))
end

function _M.hmac_sm3_hex(key, msg)
  if not sm3_md or lib.HMAC(sm3_md, key, #key, msg, #msg, md_buf, md_len) == nil then
    error("hwcloud.emulator: SM3 is not available")
  end
  return to_hex(ffi_string(md_buf, md_len[0]))
end

-- HMAC-SHA1 (OBS and AWS V2 signatures), HMAC-SHA256 raw (SigV4's key
-- chain) and MD5 (ETags), for the object storage emulation
local sha1_md = lib.EVP_sha1()
local md5_md = lib.EVP_md5()

function _M.hmac_sha1(key, msg)
  lib.HMAC(sha1_md, key, #key, msg, #msg, md_buf, md_len)
  return ffi_string(md_buf, md_len[0])
end

-- An MD5 taken piece by piece (an object streamed to a file).
function _M.md5_stream()
  local ctx = ffi.gc(lib.EVP_MD_CTX_new(), lib.EVP_MD_CTX_free)
  lib.EVP_DigestInit_ex(ctx, md5_md, nil)
  return {
    update = function(s) lib.EVP_DigestUpdate(ctx, s, #s) end,
    hex = function()
      local out, n = ffi_new("unsigned char[16]"), ffi_new("unsigned int[1]")
      lib.EVP_DigestFinal_ex(ctx, out, n)
      return to_hex(ffi_string(out, 16))
    end,
  }
end

function _M.md5_hex(s)
  local m = _M.md5_stream()
  m.update(s)
  return m.hex()
end

local rand_buf = ffi_new("unsigned char[64]")

-- n random bytes (n <= 64) from OpenSSL's CSPRNG.
function _M.random_bytes(n)
  if lib.RAND_bytes(rand_buf, n) ~= 1 then
    error("hwcloud.emulator: RAND_bytes failed")
  end
  return ffi_string(rand_buf, n)
end

function _M.random_hex(nbytes)
  return to_hex(_M.random_bytes(nbytes))
end

-- Compares two strings in time that depends only on their lengths.
function _M.equal(a, b)
  if #a ~= #b then return false end
  local acc = 0
  for i = 1, #a do
    acc = bor(acc, bxor(byte(a, i), byte(b, i)))
  end
  return acc == 0
end

return _M

/*
** digest.c -- core.digest, core.hmac, core.hasher, core.file_digest,
** core.base64: the hash, MAC and encoding primitives the object-storage
** signers (hwcloud.obs.sign) and the cosocket transport's file streams are
** written over. MD5, SHA-1 and SHA-256; raw digests (callers encode them
** as the signature needs).
*/
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "hwcloud.h"

#define HASHER_MT "hwcloud.hasher"

static const EVP_MD *md_of(lua_State *L, int idx) {
  static const char *const names[] = {"md5", "sha1", "sha256", NULL};
  static const EVP_MD *(*const mds[])(void) = {EVP_md5, EVP_sha1, EVP_sha256};
  return mds[luaL_checkoption(L, idx, NULL, names)]();
}

/* core.digest(alg, data) -> raw digest */
static int l_digest(lua_State *L) {
  const EVP_MD *md = md_of(L, 1);
  size_t n;
  const char *p = luaL_checklstring(L, 2, &n);
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int dn = 0;
  if (EVP_Digest(p, n, d, &dn, md, NULL) != 1)
    return luaL_error(L, "hwcloud.core: digest failed");
  lua_pushlstring(L, (const char *)d, dn);
  return 1;
}

/* core.hmac(alg, key, data) -> raw MAC */
static int l_hmac(lua_State *L) {
  const EVP_MD *md = md_of(L, 1);
  size_t kn, n;
  const char *k = luaL_checklstring(L, 2, &kn);
  const char *p = luaL_checklstring(L, 3, &n);
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int dn = 0;
  if (kn > (size_t)0x7fffffff)
    return luaL_error(L, "hwcloud.core: HMAC key too long");
  if (HMAC(md, k, (int)kn, (const unsigned char *)p, n, d, &dn) == NULL)
    return luaL_error(L, "hwcloud.core: HMAC failed");
  lua_pushlstring(L, (const char *)d, dn);
  return 1;
}

/* core.file_digest(alg, path) -> raw digest | nil, message: a file read
** through a fixed buffer, so hashing a large download makes no garbage */
static int l_file_digest(lua_State *L) {
  const EVP_MD *md = md_of(L, 1);
  FILE *f = fopen(luaL_checkstring(L, 2), "rb");
  int err = f == NULL ? errno : 0, ok;
  EVP_MD_CTX *ctx = f != NULL ? EVP_MD_CTX_new() : NULL;
  unsigned char d[EVP_MAX_MD_SIZE], buf[65536];
  unsigned int dn = 0;
  size_t n;
  ok = ctx != NULL && EVP_DigestInit_ex(ctx, md, NULL) == 1;
  while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
    ok = EVP_DigestUpdate(ctx, buf, n) == 1;
  if (f != NULL && ferror(f)) err = errno ? errno : EIO;
  ok = ok && err == 0 && EVP_DigestFinal_ex(ctx, d, &dn) == 1;
  EVP_MD_CTX_free(ctx);
  if (f != NULL) fclose(f);
  if (!ok) {
    lua_pushnil(L);
    lua_pushstring(L, err ? strerror(err) : "digest failed");
    return 2;
  }
  lua_pushlstring(L, (const char *)d, dn);
  return 1;
}

/* ----------------------------------------------------------- hasher */

/* A digest taken piece by piece (a file read in chunks): the userdata
** holds the context, freed by __gc or final. */
static EVP_MD_CTX **check_hasher(lua_State *L) {
  EVP_MD_CTX **h = luaL_checkudata(L, 1, HASHER_MT);
  if (*h == NULL) luaL_error(L, "hwcloud.core: hasher already finished");
  return h;
}

static int hasher_gc(lua_State *L) {
  EVP_MD_CTX **h = luaL_checkudata(L, 1, HASHER_MT);
  EVP_MD_CTX_free(*h);
  *h = NULL;
  return 0;
}

/* core.hasher(alg) -> h; h:update(s) -> h; h:final() -> raw digest */
static int l_hasher(lua_State *L) {
  const EVP_MD *md = md_of(L, 1);
  EVP_MD_CTX **h = lua_newuserdatauv(L, sizeof *h, 0);
  *h = NULL;
  luaL_getmetatable(L, HASHER_MT);
  lua_setmetatable(L, -2);
  *h = EVP_MD_CTX_new();
  if (*h == NULL || EVP_DigestInit_ex(*h, md, NULL) != 1)
    return luaL_error(L, "hwcloud.core: cannot start a digest");
  return 1;
}

static int hasher_update(lua_State *L) {
  EVP_MD_CTX **h = check_hasher(L);
  size_t n;
  const char *p = luaL_checklstring(L, 2, &n);
  if (EVP_DigestUpdate(*h, p, n) != 1)
    return luaL_error(L, "hwcloud.core: digest update failed");
  lua_settop(L, 1);
  return 1;
}

static int hasher_final(lua_State *L) {
  EVP_MD_CTX **h = check_hasher(L);
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int dn = 0;
  int ok = EVP_DigestFinal_ex(*h, d, &dn);
  EVP_MD_CTX_free(*h);
  *h = NULL;
  if (ok != 1) return luaL_error(L, "hwcloud.core: digest failed");
  lua_pushlstring(L, (const char *)d, dn);
  return 1;
}

/* core.base64(data) -> standard base64 with padding: OpenSSL's encoder,
** 3 KB of input at a time (whole groups, so padding comes only at the end) */
static int l_base64(lua_State *L) {
  size_t n, i, k;
  const unsigned char *p = (const unsigned char *)luaL_checklstring(L, 1, &n);
  unsigned char out[4 * 1024 + 1];
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (i = 0; i < n; i += k) {
    k = n - i < 3 * 1024 ? n - i : 3 * 1024;
    luaL_addlstring(&b, (const char *)out,
                    (size_t)EVP_EncodeBlock(out, p + i, (int)k));
  }
  luaL_pushresult(&b);
  return 1;
}

void hwc_open_digest(lua_State *L) {
  static const luaL_Reg funcs[] = {{"digest", l_digest},
                                   {"hmac", l_hmac},
                                   {"hasher", l_hasher},
                                   {"base64", l_base64},
                                   {"file_digest", l_file_digest},
                                   {NULL, NULL}};
  static const luaL_Reg methods[] = {
      {"update", hasher_update}, {"final", hasher_final}, {NULL, NULL}};
  if (luaL_newmetatable(L, HASHER_MT)) {
    lua_pushcfunction(L, hasher_gc);
    lua_setfield(L, -2, "__gc");
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  luaL_setfuncs(L, funcs, 0);
}

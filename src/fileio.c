/*
** fileio.c -- the file primitives Lua's io lacks. core.file_info(path) ->
** {size, mtime, kind} | nil, message: what a resumable upload's checkpoint
** records of its file, so a changed file is never spliced with parts of the
** old one. The journal's two, on an open Lua file handle (io.open's):
**   core.fsync(fh) -> true | nil, message   fflush, then fsync: the records
**                                           are on the disk, not only in the
**                                           kernel
**   core.lock(fh)  -> true | nil, message, "busy"
**                                           an exclusive flock, not waiting:
**                                           "busy" when another open of the
**                                           file holds it (another process,
**                                           or another run in this one). The
**                                           kernel drops it when the handle
**                                           is closed or its process dies.
** The handle stays owned by Lua; nothing is kept here.
*/
#define _DEFAULT_SOURCE /* flock */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hwcloud.h"
#include <lualib.h> /* LUA_FILEHANDLE on 5.1 and LuaJIT */

/* the FILE* of an open Lua file handle; raises for a closed one */
static FILE *open_file(lua_State *L) {
#if LUA_VERSION_NUM >= 502
  luaL_Stream *s = (luaL_Stream *)luaL_checkudata(L, 1, LUA_FILEHANDLE);
  if (s->closef == NULL || s->f == NULL) luaL_argerror(L, 1, "closed file");
  return s->f;
#else
  /* LuaJIT and 5.1 keep the FILE* first in the handle */
  FILE **f = (FILE **)luaL_checkudata(L, 1, LUA_FILEHANDLE);
  if (*f == NULL) luaL_argerror(L, 1, "closed file");
  return *f;
#endif
}

static int fail(lua_State *L, const char *what, int err) {
  lua_pushnil(L);
  lua_pushfstring(L, "%s: %s", what, strerror(err));
  return 2;
}

static int core_fsync(lua_State *L) {
  FILE *f = open_file(L);
  if (fflush(f) != 0) return fail(L, "flush", errno);
  if (fsync(fileno(f)) != 0) return fail(L, "fsync", errno);
  lua_pushboolean(L, 1);
  return 1;
}

static int core_lock(lua_State *L) {
  /* not waiting, so no signal can interrupt it (EINTR) */
  if (flock(fileno(open_file(L)), LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    fail(L, "lock", err);
    lua_pushstring(L, err == EWOULDBLOCK ? "busy" : "error");
    return 3;
  }
  lua_pushboolean(L, 1);
  return 1;
}

static int core_file_info(lua_State *L) {
  struct stat st;
  if (stat(luaL_checkstring(L, 1), &st) != 0) {
    lua_pushnil(L);
    lua_pushstring(L, strerror(errno));
    return 2;
  }
  lua_createtable(L, 0, 3);
  lua_pushnumber(L, (lua_Number)st.st_size);
  lua_setfield(L, -2, "size");
  lua_pushnumber(L, (lua_Number)st.st_mtim.tv_sec +
                        (lua_Number)st.st_mtim.tv_nsec / 1e9);
  lua_setfield(L, -2, "mtime");
  lua_pushstring(L, S_ISREG(st.st_mode)   ? "file"
                    : S_ISDIR(st.st_mode) ? "directory"
                                          : "other");
  lua_setfield(L, -2, "kind");
  return 1;
}

void hwc_open_fileio(lua_State *L) {
  static const luaL_Reg fns[] = {
      {"fsync", core_fsync},
      {"lock", core_lock},
      {"file_info", core_file_info},
      {NULL, NULL},
  };
  luaL_setfuncs(L, fns, 0);
}

/*
** fileinfo.c -- core.file_info(path) -> {size, mtime, kind} | nil, message:
** what a resumable upload's checkpoint records of its file, so a changed
** file is never spliced with parts of the old one.
*/
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "hwcloud.h"

static int l_file_info(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  struct stat st;
  if (stat(path, &st) != 0) {
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

void hwc_open_fileinfo(lua_State *L) {
  lua_pushcfunction(L, l_file_info);
  lua_setfield(L, -2, "file_info");
}

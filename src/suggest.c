/*
** suggest.c -- "did you mean": the one Levenshtein distance of the core,
** used by the marshaller's "unknown field" and exposed as
** core.closest(name, list[, limit]) -> best, distance | nil.
*/
#include "hwcloud.h"

/* case-insensitive Levenshtein distance; both lengths <= HWC_SUGGEST_MAX */
static size_t edit_distance(const char *a, size_t na, const char *b,
                            size_t nb) {
  size_t row[HWC_SUGGEST_MAX + 1];
  size_t i, j;
  for (j = 0; j <= nb; j++) row[j] = j;
  for (i = 1; i <= na; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (j = 1; j <= nb; j++) {
      size_t up = row[j];
      size_t best = diag + (hwc_lower((unsigned char)a[i - 1]) !=
                            hwc_lower((unsigned char)b[j - 1]));
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[nb];
}

/* the closest entry of the list at idx and its distance (0, -1: none) */
static int closest(lua_State *L, const char *name, size_t n, int idx,
                   size_t *dist) {
  int i, len, best = 0;
  size_t bestd = (size_t)-1;
  if (n > HWC_SUGGEST_MAX) return 0;
  idx = lua_absindex(L, idx);
  len = (int)lua_rawlen(L, idx);
  for (i = 1; i <= len; i++) {
    size_t cn;
    const char *c;
    lua_rawgeti(L, idx, i);
    c = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &cn) : NULL;
    if (c != NULL && cn <= HWC_SUGGEST_MAX) {
      size_t d = edit_distance(name, n, c, cn);
      if (d < bestd) {
        bestd = d;
        best = i;
      }
    }
    lua_pop(L, 1);
  }
  *dist = bestd;
  return best;
}

static size_t default_limit(size_t n) { return n / 3 > 2 ? n / 3 : 2; }

int hwc_closest(lua_State *L, const char *name, size_t n, int idx) {
  size_t d = 0;
  int best = closest(L, name, n, idx, &d);
  return best > 0 && d <= default_limit(n) ? best : 0;
}

/* core.closest(name, list[, limit]): the entry of list nearest to name
** and its distance, when that distance is at most limit (default
** max(2, #name // 3)); nil otherwise */
static int l_closest(lua_State *L) {
  size_t n, d = 0, limit;
  const char *name = luaL_checklstring(L, 1, &n);
  int best;
  luaL_checktype(L, 2, LUA_TTABLE);
  limit = default_limit(n);
  if (!lua_isnoneornil(L, 3)) {
    lua_Number l = luaL_checknumber(L, 3);
    limit = l < 0 ? 0 : l >= (lua_Number)HWC_SUGGEST_MAX ? (size_t)-1
                                                          : (size_t)l;
  }
  best = closest(L, name, n, 2, &d);
  if (best == 0 || d > limit) {
    lua_pushnil(L);
    return 1;
  }
  lua_rawgeti(L, 2, best);
  lua_pushinteger(L, (lua_Integer)d);
  return 2;
}

void hwc_open_suggest(lua_State *L) {
  lua_pushcfunction(L, l_closest);
  lua_setfield(L, -2, "closest");
}

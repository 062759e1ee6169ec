/* http.c -- placeholder until its implementation lands. */
#include "hwcloud.h"

void hwc_open_http(lua_State *L) { (void)L; }

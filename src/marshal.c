/* marshal.c -- placeholder until its implementation lands. */
#include "hwcloud.h"

void hwc_open_marshal(lua_State *L) { (void)L; }

/* sign.c -- placeholder until its implementation lands. */
#include "hwcloud.h"

void hwc_open_sign(lua_State *L) { (void)L; }

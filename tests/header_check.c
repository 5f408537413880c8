/* Compiled with -std=c11 -pedantic -Werror: the public header is clean C11. */
#include "recycle.h"

int header_check_c(rcy_object_t *o);
int header_check_c(rcy_object_t *o)
{
    rcy_xincref(o);
    rcy_xdecref(o);
    return o != NULL && rcy_is_immortal(o);
}

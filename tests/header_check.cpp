// Compiled as C++ with -pedantic -Werror: the public header works from C++.
#include "recycle.h"

int header_check_cxx(rcy_object_t *o);
int header_check_cxx(rcy_object_t *o)
{
    rcy_xincref(o);
    rcy_xdecref(o);
    return o != nullptr && rcy_is_immortal(o);
}

// The allocation macros of RCY_TRACE_SITES (recycle.h, "Allocation sites")
// compile as C++ with -pedantic -Werror, each expanded once.
#define RCY_TRACE_SITES 1
#include "recycle.h"

int header_check_sites_cxx(rcy_runtime_t *rt, rcy_type_t *t, rcy_type_t *vt, rcy_object_t *cls);
int header_check_sites_cxx(rcy_runtime_t *rt, rcy_type_t *t, rcy_type_t *vt, rcy_object_t *cls)
{
    rcy_object_t *objs[7] = {rcy_new(t), rcy_new_var(vt, 2), rcy_list_new(rt), rcy_list_new_from(rt, 0, nullptr),
                             rcy_dict_new(rt), rcy_tuple_new(rt, 0, nullptr), rcy_instance_new(cls)};
    int made = 0;
    for (rcy_object_t *o : objs) {
        made += o != nullptr;
        rcy_xdecref(o);
    }
    return made;
}

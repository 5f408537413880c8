// Compiled as C++ with -pedantic -Werror: the public header works from C++.
#include "recycle.h"

int header_check_cxx(rcy_object_t *o);
int header_check_cxx(rcy_object_t *o)
{
    rcy_xincref(o);
    rcy_xdecref(o);
    return o != nullptr && rcy_is_immortal(o);
}

// The spec-taking calls are macros passing sizeof (recycle.h, "Versioned
// structs"): they expand in C++ with a spec, nullptr or NULL, and the sized
// functions' addresses can be taken.
rcy_object_t *header_check_cxx_class(rcy_runtime_t *rt, const rcy_class_spec_t *spec);
rcy_object_t *header_check_cxx_class(rcy_runtime_t *rt, const rcy_class_spec_t *spec)
{
    rcy_type_t *(*type_new)(rcy_runtime_t *, const rcy_type_spec_t *, size_t) = rcy_type_new_sized;
    rcy_object_t *(*class_new)(rcy_runtime_t *, const char *, const rcy_class_spec_t *, size_t) =
        &rcy_class_new_sized;
    rcy_type_spec_t tspec = {};
    tspec.name = "T";
    tspec.basicsize = sizeof(rcy_object_t);
    if (rcy_type_new(rt, &tspec) == nullptr || type_new(rt, nullptr, sizeof tspec) != nullptr)
        return nullptr;
    rcy_object_t *a = rcy_class_new(rt, "A", nullptr);
    rcy_xdecref(a);
    rcy_object_t *b = rcy_class_new(rt, "B", NULL);
    rcy_xdecref(b);
    return spec != nullptr ? rcy_class_new(rt, "C", spec) : class_new(rt, "D", spec, sizeof *spec);
}

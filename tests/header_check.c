/* Compiled with -std=c11 -pedantic -Werror: the public header is clean C11. */
#include "recycle.h"

int header_check_c(rcy_object_t *o);
int header_check_c(rcy_object_t *o)
{
    rcy_xincref(o);
    rcy_xdecref(o);
    return o != NULL && rcy_is_immortal(o);
}

/* The spec-taking calls are macros passing sizeof (recycle.h, "Versioned
   structs"): they expand with a spec or NULL, and the sized functions'
   addresses can be taken. */
rcy_type_t *header_check_c_type(rcy_runtime_t *rt, const rcy_type_spec_t *spec);
rcy_type_t *header_check_c_type(rcy_runtime_t *rt, const rcy_type_spec_t *spec)
{
    rcy_type_t *(*type_new)(rcy_runtime_t *, const rcy_type_spec_t *, size_t) = rcy_type_new_sized;
    rcy_object_t *(*class_new)(rcy_runtime_t *, const char *, const rcy_class_spec_t *, size_t) =
        rcy_class_new_sized;
    rcy_object_t *cls = rcy_class_new(rt, "C", NULL);
    rcy_xdecref(cls);
    (void)class_new;
    return spec != NULL ? rcy_type_new(rt, spec) : type_new(rt, spec, sizeof *spec);
}

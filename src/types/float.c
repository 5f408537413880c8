/*
 * float: doubles, with Python's repr (the shortest text that reads back as
 * the same double). Ordinary objects, whose blocks come from the
 * small-object allocator (pool.c). Not containers.
 */
#include "types.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rcyi_init_float_type(rcy_runtime_t *rt, rcyi_builtins_t *b)
{
    rcy_type_spec_t spec = {0};
    spec.name = "float";
    spec.basicsize = sizeof(rcyi_float_t);
    spec.describe = rcyi_describe_repr;
    b->float_type = rcy_type_new(rt, &spec);
    if (b->float_type == NULL)
        return RCY_ENOMEM;
    return 0;
}

rcy_object_t *rcy_float_new(rcy_runtime_t *rt, double value)
{
    if (rt == NULL)
        return NULL;
    RCYI_CHECK_RT(rt);
    rcyi_float_t *o = (rcyi_float_t *)rcy_new(rt->builtins->float_type);
    if (o == NULL)
        return NULL;
    o->value = value;
    return &o->ob;
}

int rcy_float_value(const rcy_object_t *o, double *out)
{
    if (o == NULL || out == NULL)
        return RCY_EINVAL;
    if (!rcyi_is_float(o))
        return rcyi_set_error(o->type->rt, RCY_ETYPE);
    *out = ((const rcyi_float_t *)o)->value;
    return 0;
}

void rcyi_float_repr(rcyi_writer_t *w, rcy_object_t *o)
{
    double v = ((rcyi_float_t *)o)->value;
    if (v != v) {
        rcyi_writes(w, "nan");
        return;
    }
    if (v > 1.7976931348623157e308 || v < -1.7976931348623157e308) {
        rcyi_writes(w, v > 0 ? "inf" : "-inf");
        return;
    }
    /* The fewest significant digits that read back as v, then Python's
       layout: positional for exponents -4..15, else d.ddde+XX. */
    char sci[40];
    for (int prec = 0; prec <= 16; prec++) {
        snprintf(sci, sizeof sci, "%.*e", prec, v);
        if (strtod(sci, NULL) == v)
            break;
    }
    char digits[24];
    int n = 0;
    const char *p = sci;
    bool negative = *p == '-';
    if (negative)
        p++;
    for (; *p != 'e'; p++) {
        if (*p != '.')
            digits[n++] = *p;
    }
    int exp10 = atoi(p + 1);
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
    if (negative)
        rcyi_writes(w, "-");
    if (exp10 >= -4 && exp10 < 16) {
        if (exp10 < 0) {
            rcyi_writes(w, "0.");
            for (int i = 0; i < -exp10 - 1; i++)
                rcyi_writes(w, "0");
            rcyi_writes(w, digits);
        } else {
            for (int i = 0; i <= exp10; i++)
                rcyi_write(w, i < n ? &digits[i] : "0", 1);
            rcyi_writes(w, ".");
            rcyi_writes(w, n > exp10 + 1 ? digits + exp10 + 1 : "0");
        }
    } else {
        rcyi_write(w, digits, 1);
        if (n > 1) {
            rcyi_writes(w, ".");
            rcyi_writes(w, digits + 1);
        }
        rcyi_writef(w, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    }
}
